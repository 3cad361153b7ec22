// Ground truth for `plinth serve`: the recent predictions /feedback can refer
// to, by request id, and the live accuracy (classifiers) or mean absolute
// error (regressors) of the predictions that received feedback.
//
// Thread-safe: Remember runs on every scored request, Match on /feedback,
// RenderMetrics on /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "http/metrics.h"
#include "ml/bundle.h"
#include "serving/prediction_log.h"

namespace plinth::serving {

class FeedbackStore {
 public:
  // Remembers the last `capacity` (>= 1) scored requests.
  explicit FeedbackStore(size_t capacity);

  // Who made a prediction, with a canary (plinth serve --canary).
  enum Role : uint8_t { kServed = 0, kCanary = 1 };

  // Remembers the prediction of request `id`, made by `predictor` (in `role`, as `version`,
  // for the per-model figures): a repeated id takes over its slot, a new one the next slot
  // (forgetting the oldest request once the memory is full). Allocates nothing once full.
  void Remember(std::string_view id, const std::shared_ptr<const ml::Predictor>& predictor,
                const ml::Prediction& prediction, Role role = kServed,
                std::string_view version = {});

  // Compares each record's label with the remembered prediction of its row
  // (`values[i]` is record i's label as a number, for regressors; empty for
  // classifiers). Returns the records matched; the others (an unknown or
  // forgotten id, a row past the request's rows) go to `unknown`, pointing into
  // `records`.
  int64_t Match(const std::vector<FeedbackRecord>& records, const std::vector<double>& values,
                bool regression, std::vector<const FeedbackRecord*>* unknown);

  // Prometheus text: feedback rows by result, and the live accuracy or MAE.
  void RenderMetrics(http::PrometheusWriter& w, bool regression) const;
  // The same per model (role: served or canary, version): each model's live accuracy or MAE
  // on its own traffic.
  void RenderRoleMetrics(http::PrometheusWriter& w, bool regression) const;

 private:
  // What is remembered of one request.
  struct Remembered {
    std::string id;
    std::shared_ptr<const ml::Predictor> predictor;  // its class labels
    std::vector<int32_t> classes;                    // per row: the class index (classifiers)
    std::vector<double> values;                      // per row: the value (regressors)
    Role role = kServed;
    std::string version;
  };
  // What feedback found of one role's predictions.
  struct Scores {
    uint64_t matched = 0;
    uint64_t correct = 0;  // classifiers
    double abs_error = 0;  // regressors
  };

  const size_t capacity_;
  mutable core::Mutex mu_;
  // Slots filled in turn and then reused as a ring, oldest first (a reused
  // slot's strings and vectors keep their capacity). Reserved whole up front:
  // the index's keys point into the slots' ids.
  std::vector<Remembered> recent_ PLINTH_GUARDED_BY(mu_);
  size_t next_ PLINTH_GUARDED_BY(mu_) = 0;  // the slot reused next, once full
  std::unordered_map<std::string_view, uint32_t> index_ PLINTH_GUARDED_BY(mu_);  // id -> slot
  Scores all_ PLINTH_GUARDED_BY(mu_);
  std::map<std::pair<Role, std::string>, Scores> by_model_ PLINTH_GUARDED_BY(mu_);
  uint64_t unknown_ PLINTH_GUARDED_BY(mu_) = 0;
};

// What `plinth serve` has predicted: rows per request, and the distribution of
// predicted classes and confidences (classifiers) or values (regressors).
// Thread-safe.
class PredictionStats {
 public:
  PredictionStats();
  // One scored request's prediction; `labels` are the predictor's class labels.
  void Observe(const ml::Prediction& p, const std::vector<std::string>& labels);
  void RenderMetrics(http::PrometheusWriter& w, bool regression) const;

 private:
  mutable core::Mutex mu_;
  http::Histogram request_rows_ PLINTH_GUARDED_BY(mu_);
  http::Histogram confidence_ PLINTH_GUARDED_BY(mu_);  // the top class's probability
  std::map<std::string, uint64_t> per_class_ PLINTH_GUARDED_BY(mu_);
  double value_sum_ PLINTH_GUARDED_BY(mu_) = 0;
  uint64_t value_count_ PLINTH_GUARDED_BY(mu_) = 0;
};

}  // namespace plinth::serving
