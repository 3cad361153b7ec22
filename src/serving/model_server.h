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
//   POST /get-online-features  Feast's feature server (with plinth serve --features)
// A model served with its features (plinth serve --features) takes requests of entity keys and
// request values; each row's features are looked up in the online store in-process before the
// model scores it (missing and stale values null, counted in /metrics).
// With a challenger beside the served model: a shadow (plinth serve --shadow) scores every
// scored request too, after the answer went out: its outputs join the request's log line, and
// /metrics counts each model's requests, failures and time, and how often the two agree. A
// canary (plinth serve --canary) answers a share of the requests instead, the same clients
// always (by a hash of X-Request-Id or a chosen header): its answers and log lines name it,
// /metrics counts each model's requests, failures, latency and live accuracy apart.
// Every answer carries X-Request-Id (the client's, or one made up); scored rows
// go to the prediction log when there is one.
// Errors are 4xx with {"error": "..."} naming the row and column at fault.
// Handle is thread-safe. The served model is swapped atomically: a request
// keeps the model it started with to its end, so a reload fails no request.
//
// ModelServer is the router and the protocols' handlers; what it remembers
// for /feedback is a FeedbackStore, and what it counts a PredictionStats
// (serving/feedback.h); the request readers and answer writers are in
// serving/protocols.h and serving/answers.h.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "features/serving_features.h"
#include "http/metrics.h"
#include "http/server.h"
#include "ml/bundle.h"
#include "serving/access.h"
#include "serving/dynamic_batcher.h"
#include "serving/feedback.h"
#include "serving/prediction_log.h"
#include "serving/protocols.h"

namespace plinth::serving {

class LiveMonitor;

struct ServeOptions {
  std::string plinth_version;
  InputLimits limits;                 // rows per request, missing-value markers
  PredictionLog* log = nullptr;       // not owned; null: no prediction log
  DynamicBatcher* batcher = nullptr;  // not owned; null: each request scored alone
  size_t feedback_memory = 100000;    // how many recent requests /feedback can refer to (>= 1)
  // With tokens: every route but the public ones needs a bearer token (serving/access.h).
  const AccessTokens* tokens = nullptr;  // not owned; null: no tokens asked
  unsigned public_routes = kPublicHealth;
  LiveMonitor* monitor = nullptr;  // not owned; null: no live monitoring (GET /monitor 404)
  // POST /get-online-features (plinth serve --features): Feast's feature server answer (status,
  // JSON body) for a request body. Null: 404.
  std::function<std::pair<int, std::string>(std::string_view body)> online_features = nullptr;
};

// One loaded model and what answers report about it.
struct ServedModel {
  std::shared_ptr<const ml::Predictor> predictor;
  std::string name;     // as the bundle or the registry names it
  std::string version;  // "3", or the bundle's id
  // With plinth serve --features: the features looked up for each request row before the
  // model sees it (requests then carry keys and request values: features->request_schema()).
  std::shared_ptr<const features::ServingFeatures> features = nullptr;
  // The columns a request carries for this model.
  const table::Schema& request_schema() const {
    return features ? features->request_schema() : predictor->input_schema();
  }
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
  std::string version;             // served from now on
  std::string challenger_version;  // the challenger's, when it swapped ("" otherwise)
  // What changed for the challenger in this reload: its own reload failed, or it was set
  // aside (it no longer fits the served model; it takes no request until a reload makes them
  // fit again); "" when neither.
  std::string challenger_error;
  // Why the challenger is set aside now, whether or not this reload set it aside ("" when
  // it is at work or there is none).
  std::string challenger_set_aside;
};

// A second model beside the served one, and where it comes from on reloads (empty: it is
// not reloaded). A shadow scores every scored request without answering it; a canary
// answers a share of them.
struct Challenger {
  enum class Role { kShadow, kCanary };
  std::shared_ptr<const ServedModel> model;  // null: none
  ModelSource source;
  Role role = Role::kShadow;
  // A canary's share of the requests, in hundredths of a percent (1 to 10000).
  int canary_basis_points = 0;
  // The header whose value picks a request's model (lowercase); a request without it is
  // picked by its request id. "": x-request-id.
  std::string canary_header;
};

// Whether `challenger` can score the rows read for `served`: the same kind of prediction,
// from columns `served` reads, with the same types (a challenger scores the rows the served
// model read). The message says what differs ("it reads the column 'race', ...").
Status CheckChallenger(const ml::Predictor& served, const ml::Predictor& challenger);

// Which of 10000 buckets `key` falls in: a request goes to the canary when its bucket is
// below the canary's basis points, so a key keeps its model while the share stays, and
// raising the share only moves keys to the canary. Stable across processes, machines and
// releases (FNV-1a, then splitmix64's finalizer): replicas behind one balancer agree.
uint32_t CanaryBucket(std::string_view key);

// A share in hundredths of a percent as text: 1000 -> "10", 250 -> "2.50", 5 -> "0.05".
std::string PercentText(int basis_points);

class ModelServer {
 public:
  // `source` may be empty (no reloads: /admin/reload answers 404). `challenger.model` null:
  // none; else it must pass CheckChallenger against `model`.
  ModelServer(std::shared_ptr<const ServedModel> model, ServeOptions options,
              ModelSource source = {}, Challenger challenger = {});

  // Answers `request` through `respond`: at once on the calling (I/O)
  // thread, or, when rows go to the dynamic batcher, from its worker once the
  // batch is scored (the I/O thread does not wait).
  void Handle(http::Request request, http::Responder respond);

  // Asks the source for its version and, when it differs from the served
  // one, loads that model (on the calling thread, while the other threads go
  // on answering with the old one) and swaps it in. One reload at a time. A
  // failure keeps the served model and is counted in /metrics.
  Result<ReloadResult> Reload();

  std::shared_ptr<const ServedModel> current() const { return models_.load()->served; }
  // The challenger scoring or answering requests now (null: none, or set aside), and its role.
  std::shared_ptr<const ServedModel> challenger() const { return models_.load()->challenger; }
  Challenger::Role challenger_role() const { return challenger_role_; }
  // A canary's share in hundredths of a percent (0: no canary).
  int canary_basis_points() const { return static_cast<int>(canary_basis_points_); }

  // {"error": message} with `status`: also the HTTP layer's own errors.
  static http::Response Error(int status, const std::string& message);

 private:
  // One request being answered, with the model it started with; shared with
  // the batcher's callback when it is answered later.
  // The models at work, swapped as one by a reload: a challenger is only ever used beside the
  // served model it was checked against.
  struct Models {
    std::shared_ptr<const ServedModel> served;
    std::shared_ptr<const ServedModel> challenger;  // null: none, or set aside
  };
  struct Call {
    http::Request request;
    // The model the endpoint serves (its name, the columns requests are read with), and the
    // one answering: the same, or a canary; both from `models`.
    std::shared_ptr<const Models> models;
    std::shared_ptr<const ServedModel> served;
    std::shared_ptr<const ServedModel> model;
    bool canary = false;  // `model` is the canary
    http::Responder respond;
    int64_t start_us = 0;
    std::string route = "other";  // the route's name in metrics
    std::string id;               // the request id (X-Request-Id)
    // Set when rows were scored: for the log, the metrics and /feedback.
    table::Table rows;
    std::optional<ml::Prediction> prediction;
  };
  using CallPtr = std::shared_ptr<Call>;
  // An answer now, or none when the call is answered later (by Finish).
  using Answered = std::optional<http::Response>;
  // Writes the answer's body for the call's prediction.
  using BodyWriter = std::function<void(std::string*, const Call&, const ml::Prediction&)>;

  Answered Route(const CallPtr& call);
  Answered Predict(const CallPtr& call);
  Answered Invocations(const CallPtr& call);
  Answered KServeV2(const CallPtr& call);
  Answered KServeV1(const CallPtr& call);
  http::Response AdminReload(const http::Request& request);
  http::Response Feedback(const Call& call);
  // Scores `rows` with the call's model (through the batcher, when there is
  // one) and writes the answer with `write`; a failure to read or score is
  // answered by `error`.
  Answered Score(const CallPtr& call, Result<table::Table> rows,
                 http::Response (*error)(const Status&), BodyWriter write);
  // The predictions alone (MLflow's /invocations, KServe v1).
  static void WritePredictions(std::string* out, const Call& call, const ml::Prediction& pred);
  // The answer to a scored call.
  static http::Response Scored(Call& call, Result<ml::Prediction> pred,
                               http::Response (*error)(const Status&), const BodyWriter& write);
  // Sends the answer: the request id header, /metrics, the memory for
  // /feedback and the prediction log for a scored call.
  void Finish(Call& call, http::Response r);
  // Scores the call's rows with the shadow model (after the answer went out), counting
  // the outcome; null when there is no shadow or it failed.
  std::optional<ml::Prediction> ScoreShadow(const Call& call, const ServedModel& shadow,
                                            double& latency_ms);
  // Reloads the served model from its source when it names another version (within Reload):
  // the model to serve from now on.
  Result<std::shared_ptr<const ServedModel>> ReloadServed(ReloadResult& result)
      PLINTH_REQUIRES(reload_mu_);
  // Reloads the challenger from its source when it names another version (within Reload).
  Status ReloadChallenger(ReloadResult& result) PLINTH_REQUIRES(reload_mu_);
  // The loaded challenger if it fits `served`, else null (set aside, said in `result`).
  std::shared_ptr<const ServedModel> FitChallenger(const ServedModel& served, ReloadResult& result)
      PLINTH_REQUIRES(reload_mu_);
  // Counts a scoring route's answer for the model that gave it (with a canary).
  void CountCanaryCall(const Call& call, int status, int64_t micros);
  std::string Metrics(const ServedModel& m) const;
  void ChallengerMetrics(http::PrometheusWriter& w, const ServedModel& m) const;

  std::atomic<std::shared_ptr<const Models>> models_;
  // The challenger last loaded (at work only when it fits the served model).
  std::shared_ptr<const ServedModel> challenger_loaded_ PLINTH_GUARDED_BY(reload_mu_);
  std::string challenger_unfit_ PLINTH_GUARDED_BY(reload_mu_);  // why it is set aside
  const Challenger::Role challenger_role_;
  const uint32_t canary_basis_points_;
  const std::string canary_header_;
  ModelSource challenger_source_;
  // The shadow's outcomes: requests scored, failed; rows compared, rows whose predicted
  // class (or value, to float32) equals the served model's; its scoring time.
  std::atomic<uint64_t> served_scored_{0};  // requests the served model scored
  std::atomic<uint64_t> shadow_requests_{0};
  std::atomic<uint64_t> shadow_failures_{0};
  std::atomic<uint64_t> shadow_rows_{0};
  std::atomic<uint64_t> shadow_agreed_rows_{0};
  std::atomic<uint64_t> shadow_micros_{0};
  // With a canary, per model (canary or not, version): scoring calls answered, failed
  // (4xx/5xx), and the latency of the answered ones.
  struct ModelCalls {
    uint64_t scored = 0;
    uint64_t failed = 0;
    http::Histogram latency{
        {http::RequestMetrics::kBuckets.begin(), http::RequestMetrics::kBuckets.end()}};
  };
  mutable core::Mutex calls_mu_;
  std::map<std::pair<bool, std::string>, ModelCalls> model_calls_ PLINTH_GUARDED_BY(calls_mu_);
  ServeOptions options_;
  ModelSource source_;
  core::Mutex reload_mu_;  // one reload at a time
  http::RequestMetrics requests_{"plinth_serve"};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> reloads_swapped_{0};
  std::atomic<uint64_t> reloads_unchanged_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<uint64_t> next_id_;

  PredictionStats stats_;
  FeedbackStore feedback_;
};

}  // namespace plinth::serving
