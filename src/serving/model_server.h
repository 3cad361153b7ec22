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
//                        rows per request, in-flight requests, the model version,
//                        reloads
//   POST /admin/reload   load the model MODEL names now (an alias may have moved)
//                        and swap it in if its version differs
//   POST /feedback       ground truth for rows of earlier requests, by request id:
//                        live accuracy in /metrics, and the prediction log
// Every answer carries X-Request-Id (the client's, or one made up); scored rows
// go to the prediction log when there is one.
// Errors are 4xx with {"error": "..."} naming the row and column at fault.
// Handle is thread-safe. The served model is swapped atomically: a request
// keeps the model it started with to its end, so a reload fails no request.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "http/metrics.h"
#include "http/server.h"
#include "ml/bundle.h"
#include "serving/dynamic_batcher.h"
#include "serving/prediction_log.h"
#include "serving/protocols.h"

namespace plinth::serving {

struct ServeOptions {
  std::string plinth_version;
  InputLimits limits;                 // rows per request, missing-value markers
  PredictionLog* log = nullptr;       // not owned; null: no prediction log
  DynamicBatcher* batcher = nullptr;  // not owned; null: each request scored alone
  size_t feedback_memory = 100000;    // how many recent requests /feedback can refer to (>= 1)
};

// One loaded model and what answers report about it.
struct ServedModel {
  std::shared_ptr<const ml::Predictor> predictor;
  std::string name;     // as the bundle or the registry names it
  std::string version;  // "3", or the bundle's id
};

// Where the served model comes from, asked again on each reload.
struct ModelSource {
  // The version the source names now, cheaply (resolving an alias, or
  // hashing a bundle's plinth-model.json).
  std::function<Result<std::string>()> version;
  // Loads the model the source names now.
  std::function<Result<std::shared_ptr<const ServedModel>>()> load;
};

struct ReloadResult {
  bool swapped = false;
  std::string previous_version;
  std::string version;  // served from now on
};

class ModelServer {
 public:
  // `source` may be empty (no reloads: /admin/reload answers 404).
  ModelServer(std::shared_ptr<const ServedModel> model, ServeOptions options,
              ModelSource source = {});

  http::Response Handle(const http::Request& request);

  // Asks the source for its version and, when it differs from the served
  // one, loads that model (on the calling thread, while the other threads go
  // on answering with the old one) and swaps it in. One reload at a time. A
  // failure keeps the served model and is counted in /metrics.
  Result<ReloadResult> Reload();

  std::shared_ptr<const ServedModel> current() const { return current_.load(); }

  // {"error": message} with `status`: also the HTTP layer's own errors.
  static http::Response Error(int status, const std::string& message);

 private:
  // One request being answered, with the model it started with.
  struct Call {
    const http::Request& request;
    const ServedModel& m;
    std::string route = "other";  // the route's name in metrics
    std::string id;               // the request id (X-Request-Id)
    // Set by Answer when rows were scored: for the log, the metrics and /feedback.
    std::optional<std::pair<table::Table, ml::Prediction>> scored;
  };
  // What the server remembers of a recent prediction, for /feedback.
  struct Remembered {
    std::string id;                                  // the request id
    std::shared_ptr<const ml::Predictor> predictor;  // its class labels
    std::vector<int32_t> classes;                    // per row: the class index (classifiers)
    std::vector<double> values;                      // per row: the value (regressors)
  };

  http::Response Route(Call& call);
  http::Response Predict(Call& call);
  http::Response Invocations(Call& call);
  http::Response KServeV2(Call& call);
  http::Response KServeV1(Call& call);
  http::Response AdminReload(const http::Request& request);
  http::Response Feedback(Call& call);
  // Scores `rows` with the call's model and writes the answer with `write`; a
  // failure to read or score is answered by `error`.
  http::Response Answer(Call& call, Result<table::Table> rows,
                        http::Response (*error)(const Status&),
                        const std::function<void(std::string*, const ml::Prediction&)>& write);
  // After a scored call: the prediction metrics, the memory for /feedback, the log.
  void Record(Call& call, double latency_ms);
  std::string Metrics(const ServedModel& m) const;

  std::atomic<std::shared_ptr<const ServedModel>> current_;
  ServeOptions options_;
  ModelSource source_;
  std::mutex reload_mu_;  // one reload at a time
  http::RequestMetrics requests_{"plinth_serve"};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> reloads_swapped_{0};
  std::atomic<uint64_t> reloads_unchanged_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<uint64_t> next_id_;

  // Prediction metrics and the recent predictions /feedback can refer to.
  mutable std::mutex stats_mu_;
  http::Histogram request_rows_;               // guarded by stats_mu_
  http::Histogram confidence_;                 // guarded by stats_mu_: top-class probability
  std::map<std::string, uint64_t> per_class_;  // guarded by stats_mu_
  double value_sum_ = 0;                       // guarded by stats_mu_: regression
  uint64_t value_count_ = 0;                   // guarded by stats_mu_
  // The last options_.feedback_memory scored requests: slots filled in turn and then reused as a
  // ring, oldest first (a reused slot's strings and vectors keep their capacity,
  // so remembering a request allocates nothing once the ring is full). Reserved
  // whole up front: the index's keys point into the slots' ids.
  std::vector<Remembered> recent_;  // guarded by stats_mu_
  size_t recent_next_ = 0;          // guarded by stats_mu_: the slot reused next, once full
  std::unordered_map<std::string_view, uint32_t> recent_index_;  // guarded by stats_mu_: id -> slot
  uint64_t feedback_matched_ = 0;                                // guarded by stats_mu_
  uint64_t feedback_unknown_ = 0;                                // guarded by stats_mu_
  uint64_t feedback_correct_ = 0;  // guarded by stats_mu_: classifiers
  double feedback_abs_error_ = 0;  // guarded by stats_mu_: regression
};

}  // namespace plinth::serving
