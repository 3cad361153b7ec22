#include "serving/feedback.h"

#include <algorithm>
#include <cmath>

namespace plinth::serving {

FeedbackStore::FeedbackStore(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {
  core::MutexLock lock(mu_);
  recent_.reserve(capacity_);
  index_.reserve(capacity_);
}

void FeedbackStore::Remember(std::string_view id,
                             const std::shared_ptr<const ml::Predictor>& predictor,
                             const ml::Prediction& p, Role role, std::string_view version) {
  core::MutexLock lock(mu_);
  Remembered* slot = nullptr;
  if (auto it = index_.find(id); it != index_.end()) {
    slot = &recent_[it->second];
  } else {
    uint32_t at = 0;
    if (recent_.size() < capacity_) {
      at = static_cast<uint32_t>(recent_.size());
      recent_.emplace_back();  // reserved: no slot moves
    } else {
      at = static_cast<uint32_t>(next_);
      next_ = (next_ + 1) % capacity_;
      index_.erase(recent_[at].id);
    }
    slot = &recent_[at];
    slot->id.assign(id);
    index_.emplace(slot->id, at);
  }
  slot->predictor = predictor;
  slot->role = role;
  slot->version.assign(version);
  if (p.task == ml::Task::kRegression) {
    slot->values.assign(p.values.begin(), p.values.end());
    slot->classes.clear();
  } else {
    slot->classes.assign(p.classes.begin(), p.classes.end());
    slot->values.clear();
  }
}

int64_t FeedbackStore::Match(const std::vector<FeedbackRecord>& records,
                             const std::vector<double>& values, bool regression,
                             std::vector<const FeedbackRecord*>* unknown) {
  int64_t matched = 0;
  core::MutexLock lock(mu_);
  for (size_t i = 0; i < records.size(); ++i) {
    const FeedbackRecord& rec = records[i];
    auto it = index_.find(rec.request_id);
    const Remembered* known = it == index_.end() ? nullptr : &recent_[it->second];
    const size_t rows = known == nullptr ? 0
                        : regression     ? known->values.size()
                                         : known->classes.size();
    if (rec.row >= static_cast<int64_t>(rows)) {
      ++unknown_;
      unknown->push_back(&rec);
      continue;
    }
    ++matched;
    const auto row = static_cast<size_t>(rec.row);
    const double abs_error = regression ? std::abs(known->values[row] - values[i]) : 0;
    const bool correct =
        !regression &&
        known->predictor->class_labels()[static_cast<size_t>(known->classes[row])] == rec.label;
    auto model = by_model_.find({known->role, known->version});
    if (model == by_model_.end()) {
      model = by_model_.try_emplace({known->role, known->version}).first;
    }
    for (Scores* scores : {&all_, &model->second}) {
      ++scores->matched;
      scores->correct += correct ? 1 : 0;
      scores->abs_error += abs_error;
    }
  }
  return matched;
}

void FeedbackStore::RenderMetrics(http::PrometheusWriter& w, bool regression) const {
  core::MutexLock lock(mu_);
  const Scores& all = all_;
  w.Family("plinth_serve_feedback_rows_total", "counter",
           "Ground-truth rows received, by whether they matched a recent prediction.")
      .Sample("plinth_serve_feedback_rows_total", {{"result", "matched"}}, all.matched)
      .Sample("plinth_serve_feedback_rows_total", {{"result", "unknown"}}, unknown_);
  const double matched = static_cast<double>(all.matched);
  // Gauges in shortest round-trip text: they are compared with metrics computed elsewhere.
  if (regression) {
    w.Family("plinth_serve_live_mae", "gauge",
             "Mean absolute error of the predictions given feedback.")
        .Sample("plinth_serve_live_mae", {}, matched > 0 ? all.abs_error / matched : 0.0);
  } else {
    w.Family("plinth_serve_feedback_correct_total", "counter",
             "Predictions given feedback that were right.")
        .Sample("plinth_serve_feedback_correct_total", {}, all.correct);
    w.Family("plinth_serve_live_accuracy", "gauge", "Accuracy of the predictions given feedback.")
        .Sample("plinth_serve_live_accuracy", {},
                matched > 0 ? static_cast<double>(all.correct) / matched : 0.0);
  }
}

void FeedbackStore::RenderRoleMetrics(http::PrometheusWriter& w, bool regression) const {
  core::MutexLock lock(mu_);
  auto labels = [](const std::pair<Role, std::string>& key) {
    return std::pair<const char*, const std::string&>{key.first == kCanary ? "canary" : "served",
                                                      key.second};
  };
  w.Family("plinth_serve_model_feedback_rows_total", "counter",
           "Ground-truth rows matched to a prediction, by the model that made it.");
  for (const auto& [key, s] : by_model_) {
    const auto [role, version] = labels(key);
    w.Sample("plinth_serve_model_feedback_rows_total", {{"role", role}, {"version", version}},
             s.matched);
  }
  const char* gauge =
      regression ? "plinth_serve_model_live_mae" : "plinth_serve_model_live_accuracy";
  w.Family(gauge, "gauge",
           regression ? "Mean absolute error of each model's predictions given feedback."
                      : "Accuracy of each model's predictions given feedback.");
  for (const auto& [key, s] : by_model_) {
    const auto [role, version] = labels(key);
    const double n = static_cast<double>(s.matched);
    w.Sample(gauge, {{"role", role}, {"version", version}},
             (regression ? s.abs_error : static_cast<double>(s.correct)) / n);
  }
}

PredictionStats::PredictionStats()
    : request_rows_({1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}),
      confidence_({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1}) {}

void PredictionStats::Observe(const ml::Prediction& p, const std::vector<std::string>& labels) {
  // Counted outside the lock.
  std::vector<uint64_t> per_class(labels.size(), 0);
  if (p.task != ml::Task::kRegression) {
    for (int c : p.classes) {
      ++per_class[static_cast<size_t>(c)];
    }
  }
  core::MutexLock lock(mu_);
  request_rows_.Observe(static_cast<double>(p.rows));
  if (p.task == ml::Task::kRegression) {
    for (double v : p.values) {
      value_sum_ += v;
    }
    value_count_ += static_cast<uint64_t>(p.rows);
    return;
  }
  const auto k = static_cast<size_t>(p.num_classes);
  for (size_t row = 0; row < static_cast<size_t>(p.rows); ++row) {
    confidence_.Observe(p.proba[row * k + static_cast<size_t>(p.classes[row])]);
  }
  for (size_t c = 0; c < per_class.size(); ++c) {
    if (per_class[c] > 0) {
      per_class_[labels[c]] += per_class[c];
    }
  }
}

void PredictionStats::RenderMetrics(http::PrometheusWriter& w, bool regression) const {
  core::MutexLock lock(mu_);
  w.Family("plinth_serve_request_rows", "histogram", "Rows per scored request.")
      .Sample("plinth_serve_request_rows", {}, request_rows_);
  w.Family("plinth_serve_predicted_rows_total", "counter", "Rows scored.")
      .Sample("plinth_serve_predicted_rows_total", {}, static_cast<uint64_t>(request_rows_.sum()));
  if (regression) {
    w.Family("plinth_serve_prediction_value", "summary",
             "Predicted values (sum and count: the mean).")
        .Sample("plinth_serve_prediction_value_sum", {}, value_sum_)
        .Sample("plinth_serve_prediction_value_count", {}, value_count_);
  } else {
    w.Family("plinth_serve_predictions_total", "counter", "Rows predicted, by predicted class.");
    for (const auto& [label, n] : per_class_) {
      w.Sample("plinth_serve_predictions_total", {{"class", label}}, n);
    }
    w.Family("plinth_serve_prediction_confidence", "histogram",
             "The predicted class's probability.")
        .Sample("plinth_serve_prediction_confidence", {}, confidence_);
  }
}

}  // namespace plinth::serving
