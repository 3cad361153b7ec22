#include "serving/model_server.h"

#include <cmath>

#include "core/clock.h"
#include "serving/rows.h"
#include "table/value_parse.h"

namespace plinth::serving {
namespace {

using core::Json;

// A class label as JSON: labels that are numbers in the training data ("0",
// "1", "3.5") go back as numbers, as the training target held them.
void WriteLabel(core::JsonWriter& w, const std::string& label) {
  int64_t i = 0;
  double d = 0;
  if (table::ParseInt64(label, i) && std::to_string(i) == label) {
    w.Int(i);
  } else if (!label.empty() && table::ParseFloat64(label, d) && std::isfinite(d)) {
    w.Double(d);
  } else {
    w.String(label);
  }
}

int HttpStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

}  // namespace

ModelServer::ModelServer(std::shared_ptr<const ml::Predictor> predictor, ServeOptions options)
    : predictor_(std::move(predictor)), options_(std::move(options)) {}

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
  http::Response r;
  const std::string& p = request.path;
  if (p == "/predict") {
    route = p;
    r = request.method == "POST" ? Predict(request)
                                 : Error(405, "/predict takes POST with a JSON body");
  } else if (p == "/ping" || p == "/health") {
    route = p;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "OK";
  } else if (p == "/version") {
    route = p;
    r.content_type = "text/plain; charset=utf-8";
    r.body = options_.plinth_version;
  } else if (p == "/metrics") {
    route = p;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = Metrics();
  } else {
    r = Error(404, "no endpoint at " + p +
                       " (POST /predict, GET /ping, /health, /version, "
                       "/metrics)");
  }
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  requests_.Record(route, request.method, r.status,
                   static_cast<double>(core::SystemClock().MonotonicMicros() - start) / 1e6);
  return r;
}

http::Response ModelServer::Predict(const http::Request& request) {
  Result<Json> body = core::ParseJson(request.body, "request body");
  if (!body.ok()) {
    return Error(400, body.status().message());
  }
  if (!body->is_object() || !body->contains("data")) {
    return Error(400, R"(request body: expected {"data": [[...], ...]} or {"data": [{...}, ...]})");
  }
  const ml::Predictor& predictor = *predictor_;
  Result<table::Table> rows = RowsFromJson((*body)["data"], predictor.input_schema(), nullptr,
                                           "data", options_.max_rows, options_.null_values);
  if (!rows.ok()) {
    return Error(HttpStatus(rows.status()), rows.status().message());
  }
  Result<ml::Prediction> pred = predictor.Predict(*rows);
  if (!pred.ok()) {
    return Error(HttpStatus(pred.status()), pred.status().message());
  }
  rows_total_.fetch_add(static_cast<uint64_t>(pred->rows), std::memory_order_relaxed);
  http::Response r;
  core::JsonWriter w(&r.body);
  w.BeginObject().Key("predictions").BeginArray();
  const bool classifier = pred->task != ml::Task::kRegression;
  const auto& labels = predictor.class_labels();
  for (int64_t i = 0; i < pred->rows; ++i) {
    if (classifier) {
      WriteLabel(w, labels[static_cast<size_t>(pred->classes[static_cast<size_t>(i)])]);
    } else {
      w.Double(pred->values[static_cast<size_t>(i)]);
    }
  }
  w.EndArray();
  if (classifier) {
    w.Key("probabilities").BeginArray();
    const auto k = static_cast<size_t>(pred->num_classes);
    for (int64_t i = 0; i < pred->rows; ++i) {
      w.BeginArray();
      for (size_t c = 0; c < k; ++c) {
        w.Double(pred->proba[static_cast<size_t>(i) * k + c]);
      }
      w.EndArray();
    }
    w.EndArray().Key("classes").BeginArray();
    for (const std::string& label : labels) {
      WriteLabel(w, label);
    }
    w.EndArray();
  }
  w.Field("model_version", options_.model_version)
      .Field("timestamp", core::FormatIsoMicros(core::SystemClock().NowMicros()))
      .EndObject();
  return r;
}

std::string ModelServer::Metrics() const {
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
  out += "plinth_serve_model_info{name=\"" + http::PrometheusLabel(options_.model_name) +
         "\",version=\"" + http::PrometheusLabel(options_.model_version) + "\"} 1\n";
  return out;
}

}  // namespace plinth::serving
