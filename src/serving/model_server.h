// The data plane's HTTP front end for one model bundle (`plinth serve`):
//   POST /predict  {"data": [[...], ...]} or {"data": [{...}, ...]} ->
//                  {"predictions", "probabilities" (classifiers), "classes",
//                   "model_version", "timestamp"}
//   GET  /ping, /health  "OK" once the model is loaded
//   GET  /version        the Plinth version
//   GET  /metrics        Prometheus text: requests by route and status, latency,
//                        rows per request, in-flight requests, the model version
// Errors are 4xx with {"error": "..."} naming the row and column at fault.
// Handle is thread-safe; the predictor is shared, read-only.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/metrics.h"
#include "http/server.h"
#include "ml/bundle.h"

namespace plinth::serving {

struct ServeOptions {
  std::string model_name;     // as the bundle or the registry names it
  std::string model_version;  // reported in every answer ("3", or the bundle's id)
  std::string plinth_version;
  size_t max_rows = 10000;  // per request
  // Strings read as missing values: the training CSV reader's markers.
  std::vector<std::string> null_values;
};

class ModelServer {
 public:
  ModelServer(std::shared_ptr<const ml::Predictor> predictor, ServeOptions options);

  http::Response Handle(const http::Request& request);

  // {"error": message} with `status`: also the HTTP layer's own errors.
  static http::Response Error(int status, const std::string& message);

 private:
  http::Response Predict(const http::Request& request);
  std::string Metrics() const;

  std::shared_ptr<const ml::Predictor> predictor_;
  ServeOptions options_;
  http::RequestMetrics requests_{"plinth_serve"};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> rows_total_{0};
};

}  // namespace plinth::serving
