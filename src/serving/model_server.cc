#include "serving/model_server.h"

#include "core/clock.h"

namespace plinth::serving {
namespace {

using core::Json;

int HttpStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnimplemented:
      return 415;
    default:
      return 500;
  }
}

http::Response StatusError(const Status& s) {
  return ModelServer::Error(HttpStatus(s), s.message());
}

// MLflow's scoring server answers errors as {"error_code", "message"}.
http::Response MlflowError(const Status& s) {
  http::Response r;
  r.status = HttpStatus(s);
  r.body =
      core::DumpJson(Json{{"error_code", r.status == 413 ? "RESOURCE_EXHAUSTED" : "BAD_REQUEST"},
                          {"message", s.message()}},
                     false);
  return r;
}

http::Response JsonAnswer(const Json& body) {
  http::Response r;
  r.body = core::DumpJson(body, false);
  return r;
}

http::Response Text(std::string body) {
  http::Response r;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) {
      return parts;
    }
    s.remove_prefix(at + 1);
  }
}

}  // namespace

ModelServer::ModelServer(std::shared_ptr<const ServedModel> model, ServeOptions options,
                         ModelSource source)
    : current_(std::move(model)), options_(std::move(options)), source_(std::move(source)) {}

Result<ReloadResult> ModelServer::Reload() {
  if (!source_.version || !source_.load) {
    return FailedPrecondition("this server was started without a model source to reload from");
  }
  std::lock_guard<std::mutex> lock(reload_mu_);
  ReloadResult result;
  result.previous_version = current_.load()->version;
  auto failed = [&](const Status& s) {
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    return s;
  };
  Result<std::string> version = source_.version();
  if (!version.ok()) {
    return failed(version.status());
  }
  if (*version == result.previous_version) {
    reloads_unchanged_.fetch_add(1, std::memory_order_relaxed);
    result.version = *version;
    return result;
  }
  Result<std::shared_ptr<const ServedModel>> loaded = source_.load();
  if (!loaded.ok()) {
    return failed(loaded.status());
  }
  result.version = (*loaded)->version;
  result.swapped = result.version != result.previous_version;
  current_.store(*std::move(loaded));
  (result.swapped ? reloads_swapped_ : reloads_unchanged_).fetch_add(1, std::memory_order_relaxed);
  return result;
}

http::Response ModelServer::AdminReload(const http::Request& request) {
  if (request.method != "POST") {
    return Error(405, "/admin/reload takes POST");
  }
  if (!source_.load) {
    return Error(404, "reloading is not available on this server");
  }
  Result<ReloadResult> r = Reload();
  if (!r.ok()) {
    return Error(500, "reload failed, still serving version " + current_.load()->version + ": " +
                          r.status().message());
  }
  return JsonAnswer({{"reloaded", r->swapped},
                     {"previous_version", r->previous_version},
                     {"model_version", r->version}});
}

http::Response ModelServer::Error(int status, const std::string& message) {
  http::Response r;
  r.status = status;
  r.body = core::DumpJson(Json{{"error", message}}, false);
  return r;
}

http::Response ModelServer::Handle(const http::Request& request) {
  const int64_t start = core::SystemClock().MonotonicMicros();
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  std::string route = "other";
  // Held to the end of the request, whatever a reload swaps in meanwhile.
  const std::shared_ptr<const ServedModel> m = current_.load();
  http::Response r = Route(request, *m, route);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  requests_.Record(route, request.method, r.status,
                   static_cast<double>(core::SystemClock().MonotonicMicros() - start) / 1e6);
  return r;
}

http::Response ModelServer::Route(const http::Request& request, const ServedModel& m,
                                  std::string& route) {
  const std::string& p = request.path;
  if (p == "/predict" || p == "/invocations") {
    route = p;
    if (request.method != "POST") {
      return Error(
          405, p + " takes POST with a JSON" + (p == "/predict" ? " body" : " or text/csv body"));
    }
    return p == "/predict" ? Predict(request, m) : Invocations(request, m);
  }
  if (p == "/ping" || p == "/health") {
    route = p;
    return Text("OK");
  }
  if (p == "/version") {
    route = p;
    return Text(options_.plinth_version);
  }
  if (p == "/metrics") {
    route = p;
    http::Response r = Text(Metrics(m));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }
  if (p == "/admin/reload") {
    route = p;
    return AdminReload(request);
  }
  if (p == "/v2" || p.starts_with("/v2/")) {
    return KServeV2(request, m, route);
  }
  if (p.starts_with("/v1/models/")) {
    return KServeV1(request, m, route);
  }
  return Error(404, "no endpoint at " + p + " (POST /predict, /invocations, /v2/models/" + m.name +
                        "/infer, /admin/reload; GET /ping, /health, /version, /metrics, /v2)");
}

http::Response ModelServer::Answer(
    const ServedModel& m, Result<table::Table> rows, http::Response (*error)(const Status&),
    const std::function<void(std::string*, const ml::Prediction&)>& write) {
  if (!rows.ok()) {
    return error(rows.status());
  }
  Result<ml::Prediction> pred = m.predictor->Predict(*rows);
  if (!pred.ok()) {
    return error(pred.status());
  }
  rows_total_.fetch_add(static_cast<uint64_t>(pred->rows), std::memory_order_relaxed);
  http::Response r;
  write(&r.body, *pred);
  return r;
}

http::Response ModelServer::Predict(const http::Request& request, const ServedModel& m) {
  return Answer(m, ReadPredictBody(request.body, m.predictor->input_schema(), options_.limits),
                StatusError, [&](std::string* out, const ml::Prediction& pred) {
                  WritePredictAnswer(out, *m.predictor, pred, m.version,
                                     core::FormatIsoMicros(core::SystemClock().NowMicros()));
                });
}

http::Response ModelServer::Invocations(const http::Request& request, const ServedModel& m) {
  return Answer(m,
                ReadInvocationsBody(request.body, request.Header("content-type"),
                                    m.predictor->input_schema(), options_.limits),
                MlflowError, [&](std::string* out, const ml::Prediction& pred) {
                  WritePredictionsOnly(out, *m.predictor, pred);
                });
}

http::Response ModelServer::KServeV2(const http::Request& request, const ServedModel& m,
                                     std::string& route) {
  const std::string& p = request.path;
  if (p == "/v2" || p == "/v2/") {
    route = "/v2";
    return JsonAnswer(
        {{"name", "plinth"}, {"version", options_.plinth_version}, {"extensions", Json::array()}});
  }
  if (p == "/v2/health/live") {
    route = p;
    return JsonAnswer({{"live", true}});
  }
  if (p == "/v2/health/ready") {
    route = p;
    return JsonAnswer({{"ready", true}});
  }
  if (!p.starts_with("/v2/models/")) {
    return Error(404, "no endpoint at " + p + " (/v2, /v2/health/live, /v2/health/ready, " +
                          "/v2/models/" + m.name + "[/versions/V][/ready|/infer])");
  }
  const std::vector<std::string_view> parts = Split(std::string_view(p).substr(11), '/');
  if (parts[0] != m.name) {
    return Error(404, "no model '" + std::string(parts[0]) + "' here (serving '" + m.name + "')");
  }
  size_t i = 1;
  if (parts.size() >= 3 && parts[1] == "versions") {
    if (parts[2] != m.version) {
      return Error(404, "model '" + m.name + "' has no version '" + std::string(parts[2]) +
                            "' here (serving version " + m.version + ")");
    }
    i = 3;
  }
  const std::string_view action = i < parts.size() ? parts[i] : "";
  if (i + 1 < parts.size() || (action != "" && action != "ready" && action != "infer")) {
    return Error(
        404, "no endpoint at " + p + " (/v2/models/" + m.name + "[/versions/V][/ready|/infer])");
  }
  route = "/v2/models/{model}" + std::string(action.empty() ? "" : "/") + std::string(action);
  if (action == "infer") {
    if (request.method != "POST") {
      return Error(405, p + " takes POST with a JSON body");
    }
    Result<InferRequest> req =
        ReadInferBody(request.body, m.predictor->input_schema(), options_.limits);
    if (!req.ok()) {
      return StatusError(req.status());
    }
    return Answer(m, std::move(req->rows), StatusError,
                  [&](std::string* out, const ml::Prediction& pred) {
                    WriteInferAnswer(out, *m.predictor, pred, *req, m.name, m.version);
                  });
  }
  if (request.method != "GET") {
    return Error(405, p + " takes GET");
  }
  if (action == "ready") {
    return JsonAnswer({{"name", m.name}, {"ready", true}});
  }
  return JsonAnswer(ModelMetadata(*m.predictor, m.name, m.version));
}

http::Response ModelServer::KServeV1(const http::Request& request, const ServedModel& m,
                                     std::string& route) {
  const std::string_view rest = std::string_view(request.path).substr(11);
  const bool predict = rest.ends_with(":predict");
  const std::string_view name = predict ? rest.substr(0, rest.size() - 8) : rest;
  if (name != m.name) {
    return Error(404, "no model '" + std::string(name) + "' here (serving '" + m.name + "')");
  }
  route = predict ? "/v1/models/{model}:predict" : "/v1/models/{model}";
  if (!predict) {
    return JsonAnswer({{"name", m.name}, {"ready", true}});
  }
  if (request.method != "POST") {
    return Error(405, request.path + " takes POST with {\"instances\": [...]}");
  }
  return Answer(m,
                ReadInvocationsBody(request.body, "application/json", m.predictor->input_schema(),
                                    options_.limits),
                StatusError, [&](std::string* out, const ml::Prediction& pred) {
                  WritePredictionsOnly(out, *m.predictor, pred);
                });
}

std::string ModelServer::Metrics(const ServedModel& m) const {
  std::string out = requests_.Render();
  out += "# HELP plinth_serve_in_flight_requests Requests being answered.\n";
  out += "# TYPE plinth_serve_in_flight_requests gauge\n";
  out += "plinth_serve_in_flight_requests " +
         std::to_string(in_flight_.load(std::memory_order_relaxed)) + "\n";
  out += "# HELP plinth_serve_predicted_rows_total Rows scored.\n";
  out += "# TYPE plinth_serve_predicted_rows_total counter\n";
  out += "plinth_serve_predicted_rows_total " +
         std::to_string(rows_total_.load(std::memory_order_relaxed)) + "\n";
  out += "# HELP plinth_serve_model_info The model being served.\n";
  out += "# TYPE plinth_serve_model_info gauge\n";
  out += "plinth_serve_model_info{name=\"" + http::PrometheusLabel(m.name) + "\",version=\"" +
         http::PrometheusLabel(m.version) + "\"} 1\n";
  out +=
      "# HELP plinth_serve_reloads_total Reloads by outcome: a new version swapped in, "
      "the same version found, or a failure (the served model kept).\n";
  out += "# TYPE plinth_serve_reloads_total counter\n";
  const std::pair<const char*, const std::atomic<uint64_t>*> reloads[] = {
      {"swapped", &reloads_swapped_},
      {"unchanged", &reloads_unchanged_},
      {"failed", &reloads_failed_}};
  for (const auto& [result, count] : reloads) {
    out += std::string("plinth_serve_reloads_total{result=\"") + result + "\"} " +
           std::to_string(count->load(std::memory_order_relaxed)) + "\n";
  }
  return out;
}

}  // namespace plinth::serving
