// The data plane's HTTP front end for one model bundle (`plinth serve`):
//   POST /predict      {"data": [[...], ...]} or {"data": [{...}, ...]} ->
//                      {"predictions", "probabilities" (classifiers), "classes",
//                       "model_version", "timestamp"}
//   POST /invocations  MLflow's scoring protocol (JSON or text/csv) ->
//                      {"predictions": [...]}; errors as MLflow's error JSON
//   /v2/...            KServe's Open Inference Protocol v2 (REST): server and
//                      model metadata, health, readiness, infer
//   /v1/models/NAME[:predict]  KServe v1
//   GET  /ping, /health  "OK" once the model is loaded
//   GET  /version        the Plinth version
//   GET  /metrics        Prometheus text: requests by route and status, latency,
//                        rows per request, in-flight requests, the model version
// Errors are 4xx with {"error": "..."} naming the row and column at fault.
// Handle is thread-safe; the predictor is shared, read-only.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/metrics.h"
#include "http/server.h"
#include "ml/bundle.h"
#include "serving/protocols.h"

namespace plinth::serving {

struct ServeOptions {
  std::string model_name;     // as the bundle or the registry names it
  std::string model_version;  // reported in every answer ("3", or the bundle's id)
  std::string plinth_version;
  InputLimits limits;  // rows per request, missing-value markers
};

class ModelServer {
 public:
  ModelServer(std::shared_ptr<const ml::Predictor> predictor, ServeOptions options);

  http::Response Handle(const http::Request& request);

  // {"error": message} with `status`: also the HTTP layer's own errors.
  static http::Response Error(int status, const std::string& message);

 private:
  // Answers `request`; `route` is set to the route's name in metrics.
  http::Response Route(const http::Request& request, std::string& route);
  http::Response Predict(const http::Request& request);
  http::Response Invocations(const http::Request& request);
  http::Response KServeV2(const http::Request& request, std::string& route);
  http::Response KServeV1(const http::Request& request, std::string& route);
  // Scores `rows` and writes the answer with `write`; a failure to read or
  // score is answered by `error`.
  http::Response Answer(Result<table::Table> rows, http::Response (*error)(const Status&),
                        const std::function<void(std::string*, const ml::Prediction&)>& write);
  std::string Metrics() const;

  std::shared_ptr<const ml::Predictor> predictor_;
  ServeOptions options_;
  http::RequestMetrics requests_{"plinth_serve"};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> rows_total_{0};
};

}  // namespace plinth::serving
