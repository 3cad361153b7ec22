#include "serving/model_server.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>
#include <unordered_set>

#include "core/clock.h"
#include "http/errors.h"
#include "serving/answers.h"
#include "serving/live_monitor.h"
#include "table/column.h"
#include "table/value_parse.h"

namespace plinth::serving {
namespace {

using core::Json;

// The shared table (http/errors.h), except that the request readers say
// kUnimplemented only for a Content-Type they do not read: 415, as MLflow's
// and KServe's scoring servers answer.
int HttpStatus(const Status& s) {
  return s.code() == StatusCode::kUnimplemented ? 415 : http::HttpStatusFor(s.code());
}

http::Response StatusError(const Status& s) {
  return ModelServer::Error(HttpStatus(s), s.message());
}

// MLflow's scoring server answers errors as {"error_code", "message"}.
http::Response MlflowError(const Status& s) {
  http::Response r;
  r.status = HttpStatus(s);
  // As MLflow's scoring server: BAD_REQUEST for what the client sent.
  r.body = core::DumpJson(
      Json{{"error_code", http::ErrorCodeForHttpStatus(r.status)}, {"message", s.message()}},
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

Status CheckChallenger(const ml::Predictor& served, const ml::Predictor& challenger) {
  if (served.task() != challenger.task()) {
    return InvalidArgument("it makes " + std::string(ml::Name(challenger.task())) +
                           " predictions, the served model " +
                           std::string(ml::Name(served.task())));
  }
  const table::Schema& read = served.input_schema();
  for (const table::Field& f : challenger.input_schema().fields()) {
    const std::optional<size_t> at = read.IndexOf(f.name);
    if (!at) {
      return InvalidArgument("it reads the column '" + f.name +
                             "', which the served model does not read (a challenger scores the "
                             "rows read for the served model)");
    }
    if (read.field(*at).type != f.type) {
      return InvalidArgument("it reads the column '" + f.name + "' as " +
                             std::string(table::TypeName(f.type)) + ", the served model as " +
                             std::string(table::TypeName(read.field(*at).type)));
    }
  }
  return Status::Ok();
}

uint32_t CanaryBucket(std::string_view key) {
  uint64_t h = 0xcbf29ce484222325;  // FNV-1a
  for (unsigned char c : key) {
    h = (h ^ c) * 0x100000001b3;
  }
  h ^= h >> 30;  // splitmix64's finalizer: FNV's low bits alone are poorly mixed
  h *= 0xbf58476d1ce4e5b9;
  h ^= h >> 27;
  h *= 0x94d049bb133111eb;
  h ^= h >> 31;
  return static_cast<uint32_t>(h % 10000);
}

ModelServer::ModelServer(std::shared_ptr<const ServedModel> model, ServeOptions options,
                         ModelSource source, Challenger challenger)
    : models_(std::make_shared<const Models>(Models{std::move(model), challenger.model})),
      challenger_role_(challenger.role),
      canary_basis_points_(challenger.role == Challenger::Role::kCanary
                               ? static_cast<uint32_t>(challenger.canary_basis_points)
                               : 0),
      canary_header_(challenger.canary_header.empty() ? "x-request-id" : challenger.canary_header),
      challenger_source_(std::move(challenger.source)),
      options_(std::move(options)),
      source_(std::move(source)),
      next_id_(std::random_device()() * uint64_t{0x9E3779B97F4A7C15}),
      feedback_(options_.feedback_memory) {
  core::MutexLock lock(reload_mu_);
  challenger_loaded_ = std::move(challenger.model);
}

Result<ReloadResult> ModelServer::Reload() {
  if (!source_.version || !source_.load) {
    return FailedPrecondition("this server was started without a model source to reload from");
  }
  core::MutexLock lock(reload_mu_);
  ReloadResult result;
  if (Status s = ReloadChallenger(result); !s.ok()) {
    // The challenger keeps its model; the served one is reloaded all the same.
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    result.challenger_error = "the challenger's reload failed, it keeps version " +
                              challenger_loaded_->version + ": " + s.message();
  }
  Result<std::shared_ptr<const ServedModel>> served = ReloadServed(result);
  const std::shared_ptr<const ServedModel> now = served.ok() ? *served : current();
  // One store: no request sees the new served model beside a challenger not checked against it.
  models_.store(std::make_shared<const Models>(Models{now, FitChallenger(*now, result)}));
  if (!served.ok()) {
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    return Status(served.status().code(),
                  served.status().message() +
                      (result.challenger_error.empty() ? "" : "; " + result.challenger_error));
  }
  return result;
}

Result<std::shared_ptr<const ServedModel>> ModelServer::ReloadServed(ReloadResult& result) {
  std::shared_ptr<const ServedModel> now = current();
  result.previous_version = now->version;
  PLINTH_ASSIGN_OR_RETURN(std::string version, source_.version());
  if (version == result.previous_version) {
    reloads_unchanged_.fetch_add(1, std::memory_order_relaxed);
    result.version = version;
    return now;
  }
  PLINTH_ASSIGN_OR_RETURN(std::shared_ptr<const ServedModel> loaded, source_.load());
  result.version = loaded->version;
  result.swapped = result.version != result.previous_version;
  (result.swapped ? reloads_swapped_ : reloads_unchanged_).fetch_add(1, std::memory_order_relaxed);
  return loaded;
}

Status ModelServer::ReloadChallenger(ReloadResult& result) {
  const std::shared_ptr<const ServedModel>& now = challenger_loaded_;
  if (now == nullptr || !challenger_source_.version || !challenger_source_.load) {
    return Status::Ok();
  }
  PLINTH_ASSIGN_OR_RETURN(std::string version, challenger_source_.version());
  if (version == now->version) {
    return Status::Ok();
  }
  PLINTH_ASSIGN_OR_RETURN(std::shared_ptr<const ServedModel> loaded, challenger_source_.load());
  result.challenger_version = loaded->version;
  challenger_loaded_ = std::move(loaded);
  return Status::Ok();
}

std::shared_ptr<const ServedModel> ModelServer::FitChallenger(const ServedModel& served,
                                                              ReloadResult& result) {
  if (challenger_loaded_ == nullptr) {
    return nullptr;
  }
  const Status fits = CheckChallenger(*served.predictor, *challenger_loaded_->predictor);
  // Set aside, a canary answers nothing and a shadow scores nothing: neither may fail
  // requests the served model can score.
  std::string unfit = fits.ok()
                          ? std::string()
                          : challenger_loaded_->name + " version " + challenger_loaded_->version +
                                " is set aside, it does not fit " + served.name + " version " +
                                served.version + ": " + fits.message();
  if (unfit != challenger_unfit_ && !unfit.empty()) {
    result.challenger_error += (result.challenger_error.empty() ? "" : "; ") + unfit;
  }
  challenger_unfit_ = unfit;
  result.challenger_set_aside = std::move(unfit);
  return fits.ok() ? challenger_loaded_ : nullptr;
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
    return Error(500, "reload failed, still serving version " + current()->version + ": " +
                          r.status().message());
  }
  Json answer = {{"reloaded", r->swapped},
                 {"previous_version", r->previous_version},
                 {"model_version", r->version}};
  if (std::shared_ptr<const ServedModel> c = challenger()) {
    answer[challenger_role_ == Challenger::Role::kCanary ? "canary_version" : "shadow_version"] =
        c->version;
  }
  if (!r->challenger_error.empty()) {
    answer["challenger_error"] = r->challenger_error;
  }
  if (!r->challenger_set_aside.empty()) {
    answer["challenger_set_aside"] = r->challenger_set_aside;
  }
  return JsonAnswer(answer);
}

http::Response ModelServer::Error(int status, const std::string& message) {
  http::Response r;
  r.status = status;
  r.body = core::DumpJson(Json{{"error", message}}, false);
  return r;
}

namespace {

// The routes that score rows: their error answers are logged (the error rate).
bool IsScoringRoute(std::string_view route) {
  return route == "/predict" || route == "/invocations" || route.ends_with("/infer") ||
         route.ends_with(":predict");
}

// The client's X-Request-Id when it is a sensible id (1 to 128 printable
// characters, no quotes or spaces), else "".
std::string ClientRequestId(const http::Request& request) {
  std::string id(request.Header("x-request-id"));
  if (id.empty() || id.size() > 128) {
    return "";
  }
  for (char c : id) {
    if (c <= ' ' || c > '~' || c == '"' || c == '\\') {
      return "";
    }
  }
  return id;
}

}  // namespace

void ModelServer::Handle(http::Request request, http::Responder respond) {
  const int64_t start = core::SystemClock().MonotonicMicros();
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  // Held to the end of the request, whatever a reload swaps in meanwhile.
  std::shared_ptr<const Models> models = models_.load();
  std::shared_ptr<const ServedModel> served = models->served;
  auto call = std::make_shared<Call>(Call{std::move(request),
                                          std::move(models),
                                          served,
                                          served,
                                          false,
                                          std::move(respond),
                                          start,
                                          "other",
                                          "",
                                          {},
                                          {}});
  call->id = ClientRequestId(call->request);
  if (call->id.empty()) {
    // 16 hex digits, written by hand: snprintf costs more than the rest of a 1-row request's
    // bookkeeping.
    uint64_t v = next_id_.fetch_add(0x9E3779B97F4A7C15);
    call->id.assign(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) {
      call->id[static_cast<size_t>(i)] = "0123456789abcdef"[v & 15];
    }
  }
  if (canary_basis_points_ > 0) {
    if (const std::shared_ptr<const ServedModel>& canary = call->models->challenger) {
      std::string_view key = call->request.Header(canary_header_);
      if (key.empty()) {
        key = call->id;
      }
      if (CanaryBucket(key) < canary_basis_points_) {
        call->model = canary;
        call->canary = true;
      }
    }
  }
  if (Answered now = Route(call)) {
    Finish(*call, *std::move(now));
  }
}

void ModelServer::Finish(Call& call, http::Response r) {
  r.headers.emplace_back("X-Request-Id", call.id);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  const int64_t micros = core::SystemClock().MonotonicMicros() - call.start_us;
  const int status = r.status;
  requests_.Record(call.route, call.request.method, status, static_cast<double>(micros) / 1e6);
  if (call.prediction) {
    served_scored_.fetch_add(1, std::memory_order_relaxed);
    stats_.Observe(*call.prediction, call.model->predictor->class_labels());
    // Before the answer: a client may send /feedback for it as soon as it has it.
    feedback_.Remember(call.id, call.model->predictor, *call.prediction,
                       call.canary ? FeedbackStore::kCanary : FeedbackStore::kServed,
                       call.model->version);
    r.headers.emplace_back("X-Model-Version", call.model->version);
  }
  if (canary_basis_points_ > 0 && (call.prediction || IsScoringRoute(call.route))) {
    CountCanaryCall(call, status, micros);
  }
  call.respond(std::move(r));
  // After the answer: the shadow, the log and live monitoring cost the client no time.
  if (call.prediction) {
    const ml::Prediction& p = *call.prediction;
    std::shared_ptr<const ServedModel> shadow =
        challenger_role_ == Challenger::Role::kShadow ? call.models->challenger : nullptr;
    std::optional<ml::Prediction> shadowed;
    double shadow_ms = 0;
    if (shadow != nullptr) {
      shadowed = ScoreShadow(call, *shadow, shadow_ms);
    }
    if (options_.log != nullptr) {
      PredictionRecord rec;
      rec.request_id = call.id;
      rec.time_micros = core::SystemClock().NowMicros();
      rec.latency_ms = static_cast<double>(micros) / 1e3;
      rec.route = call.route;
      rec.predictor = call.model->predictor;
      rec.model_name = call.model->name;
      rec.model_version = call.model->version;
      rec.rows = &call.rows;
      rec.prediction = &p;
      rec.canary = call.canary;
      if (shadowed) {
        rec.shadow = &*shadowed;
        rec.shadow_predictor = shadow->predictor;
        rec.shadow_version = shadow->version;
        rec.shadow_latency_ms = shadow_ms;
      }
      options_.log->Append(rec);
    }
    if (options_.monitor != nullptr && options_.monitor->Watches(call.model->predictor.get())) {
      options_.monitor->Observe(call.id, core::SystemClock().NowMicros(),
                                static_cast<double>(micros) / 1e3, call.rows, p);
    }
    return;
  }
  if (status >= 400 && IsScoringRoute(call.route)) {
    if (options_.monitor != nullptr && !call.canary) {
      options_.monitor->ObserveFailure(core::SystemClock().NowMicros(),
                                       static_cast<double>(micros) / 1e3);
    }
    if (options_.log != nullptr) {
      FailureRecord rec;
      rec.request_id = call.id;
      rec.time_micros = core::SystemClock().NowMicros();
      rec.latency_ms = static_cast<double>(micros) / 1e3;
      rec.route = call.route;
      rec.model_name = call.model->name;
      rec.model_version = call.model->version;
      rec.canary = call.canary;
      rec.status = status;
      options_.log->Append(rec);
    }
  }
}

void ModelServer::CountCanaryCall(const Call& call, int status, int64_t micros) {
  core::MutexLock lock(calls_mu_);
  auto it = model_calls_.find({call.canary, call.model->version});
  if (it == model_calls_.end()) {
    it = model_calls_.try_emplace({call.canary, call.model->version}).first;
  }
  if (status >= 400) {
    ++it->second.failed;
    return;
  }
  ++it->second.scored;
  it->second.latency.Observe(static_cast<double>(micros) / 1e6);
}

std::optional<ml::Prediction> ModelServer::ScoreShadow(const Call& call, const ServedModel& shadow,
                                                       double& latency_ms) {
  const int64_t start = core::SystemClock().MonotonicMicros();
  Result<ml::Prediction> scored = shadow.predictor->Predict(call.rows);
  const int64_t took = core::SystemClock().MonotonicMicros() - start;
  latency_ms = static_cast<double>(took) / 1e3;
  shadow_requests_.fetch_add(1, std::memory_order_relaxed);
  shadow_micros_.fetch_add(static_cast<uint64_t>(took), std::memory_order_relaxed);
  if (!scored.ok()) {
    shadow_failures_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  // Agreement: the same class label (the two may order their labels differently), or the
  // same value to float32.
  const ml::Prediction& a = *call.prediction;
  const ml::Prediction& b = *scored;
  if (a.task == b.task && a.rows == b.rows) {
    const std::vector<std::string>& la = call.model->predictor->class_labels();
    const std::vector<std::string>& lb = shadow.predictor->class_labels();
    uint64_t agreed = 0;
    for (size_t i = 0; i < static_cast<size_t>(a.rows); ++i) {
      agreed +=
          a.task == ml::Task::kRegression
              ? static_cast<float>(a.values[i]) == static_cast<float>(b.values[i])
              : la[static_cast<size_t>(a.classes[i])] == lb[static_cast<size_t>(b.classes[i])];
    }
    shadow_rows_.fetch_add(static_cast<uint64_t>(a.rows), std::memory_order_relaxed);
    shadow_agreed_rows_.fetch_add(agreed, std::memory_order_relaxed);
  }
  return *std::move(scored);
}

http::Response ModelServer::Feedback(const Call& call) {
  if (call.request.method != "POST") {
    return Error(405,
                 "/feedback takes POST with {\"feedback\": [{\"request_id\", \"row\", "
                 "\"label\"}, ...]}");
  }
  Result<Json> body = core::ParseJson(call.request.body, "request body");
  if (!body.ok()) {
    return StatusError(body.status());
  }
  // {"feedback": [items]}, or one item alone.
  Json items =
      body->is_object() && body->contains("feedback") ? (*body)["feedback"] : Json::array({*body});
  if (!items.is_array() || items.empty() || items.size() > options_.limits.max_rows) {
    return Error(400,
                 "request body: expected {\"feedback\": [{\"request_id\", \"row\", "
                 "\"label\"}, ...]} with 1 to " +
                     std::to_string(options_.limits.max_rows) + " items");
  }
  const bool regression = call.served->predictor->task() == ml::Task::kRegression;
  std::vector<FeedbackRecord> records;
  std::vector<double> values;  // a regressor's labels as numbers
  for (size_t i = 0; i < items.size(); ++i) {
    const Json& item = items[i];
    const std::string where = "feedback[" + std::to_string(i) + "]";
    if (!item.is_object() || !item.contains("request_id") || !item["request_id"].is_string() ||
        !item.contains("label")) {
      return Error(400, where +
                            ": expected {\"request_id\": string, \"row\": integer (default "
                            "0), \"label\": the true class or value}");
    }
    FeedbackRecord rec;
    rec.request_id = item["request_id"].get<std::string>();
    if (item.contains("row") &&
        (!item["row"].is_number_integer() || item["row"].get<int64_t>() < 0)) {
      return Error(400, where + ".row: expected an integer >= 0");
    }
    rec.row = item.value("row", int64_t{0});
    const Json& label = item["label"];
    if (!label.is_string() && !label.is_number()) {
      return Error(400, where + ".label: expected a string or a number");
    }
    rec.label = label.is_string() ? label.get<std::string>() : label.dump();
    if (regression) {
      // Not strtod's silent 0 for "abc": the live MAE would count it.
      double v = 0;
      if (!table::ParseFloat64(rec.label, v) || !std::isfinite(v)) {
        return Error(400, where + ".label: expected a number (the model is a regressor), got \"" +
                              rec.label.substr(0, 32) + "\"");
      }
      values.push_back(v);
    }
    rec.time_micros = core::SystemClock().NowMicros();
    records.push_back(std::move(rec));
  }
  std::vector<const FeedbackRecord*> not_found;
  const int64_t matched = feedback_.Match(records, values, regression, &not_found);
  Json unknown = Json::array();
  for (const FeedbackRecord* rec : not_found) {
    unknown.push_back({{"request_id", rec->request_id}, {"row", rec->row}});
  }
  if (options_.log != nullptr) {
    for (const FeedbackRecord& rec : records) {
      options_.log->Append(rec);
    }
  }
  if (options_.monitor != nullptr) {
    // Only labels of requests the server scored: the window's rows are among them.
    const std::unordered_set<const FeedbackRecord*> unknown_set(not_found.begin(), not_found.end());
    std::vector<FeedbackRecord> known;
    for (const FeedbackRecord& rec : records) {
      if (unknown_set.count(&rec) == 0) {
        known.push_back(rec);
      }
    }
    options_.monitor->Feedback(known);
  }
  return JsonAnswer({{"matched", matched}, {"unknown", unknown}});
}

ModelServer::Answered ModelServer::Route(const CallPtr& call) {
  const http::Request& request = call->request;
  const ServedModel& m = *call->served;
  std::string& route = call->route;
  const std::string& p = request.path;
  if (options_.tokens != nullptr) {
    Need need = RouteNeed(p, options_.public_routes);
    if (need != Need::kNone) {
      std::optional<Role> role = options_.tokens->RoleOf(request);
      if (!role) {
        route = "unauthorized";
        http::Response r = Error(401,
                                 "this endpoint needs 'Authorization: Bearer TOKEN' with a "
                                 "token from the server's --auth-token-file");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"plinth\"");
        return r;
      }
      if (need == Need::kAdmin && *role != Role::kAdmin) {
        route = "forbidden";
        return Error(403, p + " needs an admin token; this one may only score");
      }
    }
  }
  if (p == "/predict" || p == "/invocations") {
    route = p;
    if (request.method != "POST") {
      return Error(
          405, p + " takes POST with a JSON" + (p == "/predict" ? " body" : " or text/csv body"));
    }
    return p == "/predict" ? Predict(call) : Invocations(call);
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
  if (p == "/monitor") {
    route = p;
    if (options_.monitor == nullptr) {
      return Error(404, "live monitoring is off (plinth serve --monitor monitoring.yaml)");
    }
    return JsonAnswer(options_.monitor->StatusJson());
  }
  if (p == "/feedback") {
    route = p;
    return Feedback(*call);
  }
  if (p == "/get-online-features") {
    route = p;
    if (!options_.online_features) {
      return Error(404, "no feature store here (plinth serve --features)");
    }
    if (request.method != "POST") {
      return Error(405, p + " takes POST with Feast's JSON body");
    }
    auto [status, body] = options_.online_features(request.body);
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  if (p == "/v2" || p.starts_with("/v2/")) {
    return KServeV2(call);
  }
  if (p.starts_with("/v1/models/")) {
    return KServeV1(call);
  }
  return Error(404,
               "no endpoint at " + p + " (POST /predict, /invocations, /v2/models/" + m.name +
                   "/infer, /feedback, /admin/reload, /get-online-features; GET /ping, /health, "
                   "/version, /metrics, /v2)");
}

void ModelServer::WritePredictions(std::string* out, const Call& call, const ml::Prediction& pred) {
  WritePredictionsOnly(out, *call.model->predictor, pred);
}

ModelServer::Answered ModelServer::Score(const CallPtr& call, Result<table::Table> rows,
                                         http::Response (*error)(const Status&), BodyWriter write) {
  if (!rows.ok()) {
    return error(rows.status());
  }
  if (const auto& features = call->served->features) {
    // Keys and request values in, the model's inputs out: its features looked up in-process.
    rows = features->Complete(*rows);
    if (!rows.ok()) {
      return error(rows.status());
    }
  }
  call->rows = *std::move(rows);
  if (options_.batcher == nullptr) {
    return Scored(*call, call->model->predictor->Predict(call->rows), error, write);
  }
  // The batcher's thread only calls the model: the answer is written, counted and
  // logged back on the connection's I/O thread.
  options_.batcher->Submit(
      call->model->predictor, call->rows, [this, call, error, write](Result<ml::Prediction> pred) {
        auto scored = std::make_shared<Result<ml::Prediction>>(std::move(pred));
        call->respond.Post([this, call, error, write, scored] {
          http::Response r = Scored(*call, std::move(*scored), error, write);
          Finish(*call, std::move(r));
        });
      });
  return std::nullopt;
}

http::Response ModelServer::Scored(Call& call, Result<ml::Prediction> pred,
                                   http::Response (*error)(const Status&),
                                   const BodyWriter& write) {
  if (!pred.ok()) {
    return error(pred.status());
  }
  http::Response r;
  write(&r.body, call, *pred);
  call.prediction = *std::move(pred);
  return r;
}

ModelServer::Answered ModelServer::Predict(const CallPtr& call) {
  const ServedModel& m = *call->served;
  return Score(call, ReadPredictBody(call->request.body, m.request_schema(), options_.limits),
               StatusError, [](std::string* out, const Call& c, const ml::Prediction& pred) {
                 WritePredictAnswer(out, *c.model->predictor, pred, c.model->version,
                                    core::FormatIsoMicros(core::SystemClock().NowMicros()), c.id);
               });
}

ModelServer::Answered ModelServer::Invocations(const CallPtr& call) {
  const http::Request& request = call->request;
  return Score(call,
               ReadInvocationsBody(request.body, request.Header("content-type"),
                                   call->served->request_schema(), options_.limits),
               MlflowError, WritePredictions);
}

ModelServer::Answered ModelServer::KServeV2(const CallPtr& call) {
  const http::Request& request = call->request;
  const ServedModel& m = *call->served;
  std::string& route = call->route;
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
  // With a canary, each version is the endpoint's: a path naming one is answered by it.
  const std::shared_ptr<const ServedModel> canary =
      canary_basis_points_ > 0 ? call->models->challenger : nullptr;
  if (parts.size() >= 3 && parts[1] == "versions") {
    if (parts[2] == m.version) {
      call->model = call->served;
      call->canary = false;
    } else if (canary != nullptr && parts[2] == canary->version) {
      call->model = canary;
      call->canary = true;
    } else {
      return Error(404, "model '" + m.name + "' has no version '" + std::string(parts[2]) +
                            "' here (serving version " + m.version +
                            (canary != nullptr ? ", canary version " + canary->version : "") + ")");
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
    Result<InferRequest> req = ReadInferBody(request.body, m.request_schema(), options_.limits);
    if (!req.ok()) {
      return StatusError(req.status());
    }
    auto infer = std::make_shared<InferRequest>(*std::move(req));
    Result<table::Table> rows = std::move(infer->rows);
    return Score(call, std::move(rows), StatusError,
                 [infer](std::string* out, const Call& c, const ml::Prediction& pred) {
                   // The endpoint's name (what the path asked for), the answering version.
                   WriteInferAnswer(out, *c.model->predictor, pred, *infer, c.served->name,
                                    c.model->version);
                 });
  }
  if (request.method != "GET") {
    return Error(405, p + " takes GET");
  }
  if (action == "ready") {
    return JsonAnswer({{"name", m.name}, {"ready", true}});
  }
  Json meta = ModelMetadata(*m.predictor, m.name, m.version, &m.request_schema());
  if (i == 3 && call->canary) {
    // The canary's version: its outputs, and the inputs requests are read with (the served
    // model's, a superset of the canary's).
    Json inputs = std::move(meta["inputs"]);
    meta =
        ModelMetadata(*call->model->predictor, m.name, call->model->version, &m.request_schema());
    meta["inputs"] = std::move(inputs);
  } else if (i != 3 && canary != nullptr && canary->version != m.version) {
    meta["versions"].push_back(canary->version);  // after the served one: plinth deploy reads it
  }
  return JsonAnswer(meta);
}

ModelServer::Answered ModelServer::KServeV1(const CallPtr& call) {
  const http::Request& request = call->request;
  const ServedModel& m = *call->served;
  std::string& route = call->route;
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
  return Score(
      call,
      ReadInvocationsBody(request.body, "application/json", m.request_schema(), options_.limits),
      StatusError, WritePredictions);
}

std::string PercentText(int basis_points) {
  return std::to_string(basis_points / 100) +
         (basis_points % 100 == 0 ? std::string()
                                  : "." + std::to_string(100 + basis_points % 100).substr(1));
}

void ModelServer::ChallengerMetrics(http::PrometheusWriter& w, const ServedModel& m) const {
  const std::shared_ptr<const ServedModel> challenger = this->challenger();
  if (canary_basis_points_ > 0) {
    if (challenger != nullptr) {  // not while set aside
      w.Family("plinth_serve_canary_model_info", "gauge",
               "The canary: it answers a share of the requests (percent), picked by a hash of "
               "the request id or --canary-header.")
          .Sample("plinth_serve_canary_model_info",
                  {{"name", challenger->name},
                   {"version", challenger->version},
                   {"percent", PercentText(static_cast<int>(canary_basis_points_))}},
                  uint64_t{1});
    }
    core::MutexLock lock(calls_mu_);
    w.Family("plinth_serve_model_requests_total", "counter",
             "Scoring requests each model answered, by role (served, canary), version and "
             "outcome (scored, failed: a 4xx or 5xx answer).");
    for (const auto& [key, calls] : model_calls_) {
      const char* role = key.first ? "canary" : "served";
      w.Sample("plinth_serve_model_requests_total",
               {{"role", role}, {"version", key.second}, {"result", "scored"}}, calls.scored)
          .Sample("plinth_serve_model_requests_total",
                  {{"role", role}, {"version", key.second}, {"result", "failed"}}, calls.failed);
    }
    w.Family("plinth_serve_model_request_duration_seconds", "histogram",
             "Time to answer the scored requests, by the model that answered.");
    for (const auto& [key, calls] : model_calls_) {
      w.Sample("plinth_serve_model_request_duration_seconds",
               {{"role", key.first ? "canary" : "served"}, {"version", key.second}}, calls.latency);
    }
    feedback_.RenderRoleMetrics(w, m.predictor->task() == ml::Task::kRegression);
    return;
  }
  if (challenger == nullptr) {
    return;
  }
  const std::shared_ptr<const ServedModel>& shadow = challenger;
  w.Family("plinth_serve_shadow_model_info", "gauge",
           "The shadow model: it scores every scored request after the answer, unseen.")
      .Sample("plinth_serve_shadow_model_info",
              {{"name", shadow->name}, {"version", shadow->version}}, uint64_t{1});
  w.Family("plinth_serve_model_requests_total", "counter",
           "Requests each model scored, by role (served: answered with; shadow) and outcome.")
      .Sample("plinth_serve_model_requests_total",
              {{"role", "served"}, {"version", m.version}, {"result", "scored"}},
              served_scored_.load(std::memory_order_relaxed))
      .Sample("plinth_serve_model_requests_total",
              {{"role", "shadow"}, {"version", shadow->version}, {"result", "scored"}},
              shadow_requests_.load(std::memory_order_relaxed) -
                  shadow_failures_.load(std::memory_order_relaxed))
      .Sample("plinth_serve_model_requests_total",
              {{"role", "shadow"}, {"version", shadow->version}, {"result", "failed"}},
              shadow_failures_.load(std::memory_order_relaxed));
  w.Family("plinth_serve_shadow_seconds_total", "counter",
           "Time the shadow model spent scoring (after the answers).")
      .Sample("plinth_serve_shadow_seconds_total", {},
              static_cast<double>(shadow_micros_.load(std::memory_order_relaxed)) / 1e6);
  w.Family("plinth_serve_shadow_rows_total", "counter",
           "Rows both models scored, by whether the shadow predicted the same class (or the "
           "same value, to float32).");
  const uint64_t rows = shadow_rows_.load(std::memory_order_relaxed);
  const uint64_t agreed = shadow_agreed_rows_.load(std::memory_order_relaxed);
  w.Sample("plinth_serve_shadow_rows_total", {{"agreement", "agreed"}}, agreed)
      .Sample("plinth_serve_shadow_rows_total", {{"agreement", "disagreed"}}, rows - agreed);
}

std::string ModelServer::Metrics(const ServedModel& m) const {
  std::string out;
  requests_.Render(out);
  http::PrometheusWriter w(out);
  w.Family("plinth_serve_in_flight_requests", "gauge", "Requests being answered.")
      .Sample("plinth_serve_in_flight_requests", {},
              static_cast<double>(in_flight_.load(std::memory_order_relaxed)));
  w.Family("plinth_serve_model_info", "gauge", "The model being served.")
      .Sample("plinth_serve_model_info", {{"name", m.name}, {"version", m.version}}, uint64_t{1});
  const bool regression = m.predictor->task() == ml::Task::kRegression;
  stats_.RenderMetrics(w, regression);
  feedback_.RenderMetrics(w, regression);
  if (options_.batcher != nullptr) {
    options_.batcher->RenderMetrics(out);
  }
  if (options_.monitor != nullptr) {
    options_.monitor->RenderMetrics(w);
  }
  if (m.features) {
    w.Family("plinth_serve_feature_values_total", "counter",
             "Feature values looked up for request rows, by feature and outcome (not_found and "
             "outside_max_age are served as missing values).");
    for (const features::ServingFeatures::Count& c : m.features->Counts()) {
      for (size_t k = 0; k < c.by_status.size(); ++k) {
        std::string status(features::FeatureStatusName(static_cast<features::FeatureStatus>(k)));
        std::transform(status.begin(), status.end(), status.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        w.Sample("plinth_serve_feature_values_total", {{"feature", c.feature}, {"status", status}},
                 static_cast<uint64_t>(c.by_status[k]));
      }
    }
  }
  if (options_.log != nullptr) {
    w.Family("plinth_serve_log_rows_total", "counter",
             "Rows of the prediction log: written, or dropped because its queue was full.")
        .Sample("plinth_serve_log_rows_total", {{"result", "written"}},
                options_.log->written_rows())
        .Sample("plinth_serve_log_rows_total", {{"result", "dropped"}},
                options_.log->dropped_rows());
    w.Family("plinth_serve_log_write_errors_total", "counter",
             "Failed writes to the prediction log.")
        .Sample("plinth_serve_log_write_errors_total", {}, options_.log->write_errors());
  }
  ChallengerMetrics(w, m);
  w.Family("plinth_serve_reloads_total", "counter",
           "Reloads by outcome: a new version swapped in, the same version found, or a failure "
           "(the served model kept).");
  const std::pair<const char*, const std::atomic<uint64_t>*> reloads[] = {
      {"swapped", &reloads_swapped_},
      {"unchanged", &reloads_unchanged_},
      {"failed", &reloads_failed_}};
  for (const auto& [result, count] : reloads) {
    w.Sample("plinth_serve_reloads_total", {{"result", result}},
             count->load(std::memory_order_relaxed));
  }
  return out;
}

}  // namespace plinth::serving
