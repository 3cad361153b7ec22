#include "ml/metrics.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>

namespace plinth::ml {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Scores with their truth, sorted by decreasing score: the walk shared by
// ROC AUC and average precision.
struct Ranked {
  std::vector<std::pair<double, bool>> items;
  int64_t positives = 0;
};

Ranked Rank(std::span<const int> labels, std::span<const double> proba, int k, int cls) {
  Ranked r;
  r.items.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    bool pos = labels[i] == cls;
    r.positives += pos;
    r.items.emplace_back(proba[i * static_cast<size_t>(k) + static_cast<size_t>(cls)], pos);
  }
  std::sort(r.items.begin(), r.items.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  return r;
}

// Area under the ROC curve by the trapezoid rule over distinct thresholds
// (sklearn's roc_curve + auc; ties count half).
double RocAuc(const Ranked& r) {
  int64_t n = static_cast<int64_t>(r.items.size());
  int64_t negatives = n - r.positives;
  if (r.positives == 0 || negatives == 0) {
    return kNaN;
  }
  double area = 0;
  int64_t tp = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i, tp_block = 0, fp_block = 0;
    while (j < n && r.items[j].first == r.items[i].first) {
      (r.items[j].second ? tp_block : fp_block) += 1;
      ++j;
    }
    // Trapezoid of width fp_block between heights tp and tp + tp_block.
    area += static_cast<double>(fp_block) * (static_cast<double>(tp) + tp_block / 2.0);
    tp += tp_block;
    i = j;
  }
  return area / (static_cast<double>(r.positives) * static_cast<double>(negatives));
}

// sklearn's average_precision_score: sum over thresholds of
// (recall_n - recall_{n-1}) * precision_n.
double AveragePrecision(const Ranked& r) {
  if (r.positives == 0) {
    return kNaN;
  }
  int64_t n = static_cast<int64_t>(r.items.size());
  double ap = 0, prev_recall = 0;
  int64_t tp = 0, seen = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j < n && r.items[j].first == r.items[i].first) {
      tp += r.items[j].second;
      ++j;
    }
    seen = j;
    double recall = static_cast<double>(tp) / static_cast<double>(r.positives);
    double precision = static_cast<double>(tp) / static_cast<double>(seen);
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
    i = j;
  }
  return ap;
}

double SafeDiv(double a, double b) { return b == 0 ? 0.0 : a / b; }

}  // namespace

std::vector<int> PredictedClasses(std::span<const double> proba, int k, double threshold) {
  size_t n = proba.size() / static_cast<size_t>(k);
  std::vector<int> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double* row = proba.data() + i * static_cast<size_t>(k);
    if (k == 2) {
      out[i] = row[1] >= threshold ? 1 : 0;
    } else {
      out[i] = static_cast<int>(std::max_element(row, row + k) - row);
    }
  }
  return out;
}

Result<ClassificationMetrics> EvaluateClassifier(std::span<const int> labels,
                                                 std::span<const double> proba, int k,
                                                 double threshold) {
  if (k < 2) {
    return InvalidArgument("metrics: need at least 2 classes, got " + std::to_string(k));
  }
  if (proba.size() != labels.size() * static_cast<size_t>(k)) {
    return InvalidArgument("metrics: " + std::to_string(labels.size()) + " labels but " +
                           std::to_string(proba.size()) + " probabilities for " +
                           std::to_string(k) + " classes");
  }
  if (labels.empty()) {
    return InvalidArgument("metrics: no rows to evaluate");
  }
  for (int y : labels) {
    if (y < 0 || y >= k) {
      return InvalidArgument("metrics: label " + std::to_string(y) + " outside [0, " +
                             std::to_string(k) + ")");
    }
  }
  ClassificationMetrics m;
  m.n = static_cast<int64_t>(labels.size());
  m.num_classes = k;
  std::vector<int> pred = PredictedClasses(proba, k, threshold);
  m.confusion.assign(static_cast<size_t>(k), std::vector<int64_t>(static_cast<size_t>(k), 0));
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    ++m.confusion[static_cast<size_t>(labels[i])][static_cast<size_t>(pred[i])];
    correct += labels[i] == pred[i];
  }
  m.accuracy = static_cast<double>(correct) / static_cast<double>(m.n);

  // Per-class precision/recall/F1 over the labels present in truth or prediction.
  double sum_p = 0, sum_r = 0, sum_f = 0, w_p = 0, w_r = 0, w_f = 0;
  int present = 0;
  int64_t total_support = 0;
  for (int c = 0; c < k; ++c) {
    int64_t tp = m.confusion[c][c], support = 0, predicted = 0;
    for (int o = 0; o < k; ++o) {
      support += m.confusion[c][o];
      predicted += m.confusion[o][c];
    }
    if (support == 0 && predicted == 0) {
      continue;
    }
    double p = SafeDiv(static_cast<double>(tp), static_cast<double>(predicted));
    double r = SafeDiv(static_cast<double>(tp), static_cast<double>(support));
    double f = SafeDiv(2 * p * r, p + r);
    if (k == 2 && c == 1) {
      m.precision = p;
      m.recall = r;
      m.f1 = f;
    }
    ++present;
    sum_p += p;
    sum_r += r;
    sum_f += f;
    w_p += p * static_cast<double>(support);
    w_r += r * static_cast<double>(support);
    w_f += f * static_cast<double>(support);
    total_support += support;
  }
  if (k > 2) {
    m.precision = sum_p / present;
    m.recall = sum_r / present;
    m.f1 = sum_f / present;
  }
  m.precision_weighted = SafeDiv(w_p, static_cast<double>(total_support));
  m.recall_weighted = SafeDiv(w_r, static_cast<double>(total_support));
  m.f1_weighted = SafeDiv(w_f, static_cast<double>(total_support));

  if (k == 2) {
    Ranked r = Rank(labels, proba, k, 1);
    m.roc_auc = RocAuc(r);
    m.pr_auc = AveragePrecision(r);
  } else {
    double auc = 0, ap = 0;
    for (int c = 0; c < k; ++c) {
      Ranked r = Rank(labels, proba, k, c);
      auc += RocAuc(r);
      ap += AveragePrecision(r);
    }
    m.roc_auc = auc / k;
    m.pr_auc = ap / k;
  }

  // Log loss as sklearn computes it: clip to [eps, 1 - eps], renormalise rows.
  const double eps = DBL_EPSILON;
  double loss = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double* row = proba.data() + i * static_cast<size_t>(k);
    double sum = 0;
    for (int c = 0; c < k; ++c) {
      sum += std::clamp(row[c], eps, 1 - eps);
    }
    loss -= std::log(std::clamp(row[labels[i]], eps, 1 - eps) / sum);
  }
  m.log_loss = loss / static_cast<double>(m.n);
  return m;
}

Result<RegressionMetrics> EvaluateRegressor(std::span<const double> truth,
                                            std::span<const double> predicted) {
  if (truth.size() != predicted.size()) {
    return InvalidArgument("metrics: " + std::to_string(truth.size()) + " targets but " +
                           std::to_string(predicted.size()) + " predictions");
  }
  if (truth.empty()) {
    return InvalidArgument("metrics: no rows to evaluate");
  }
  RegressionMetrics m;
  m.n = static_cast<int64_t>(truth.size());
  double n = static_cast<double>(m.n);
  double abs_sum = 0, sq_sum = 0, pct_sum = 0, mean = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    double e = truth[i] - predicted[i];
    abs_sum += std::fabs(e);
    sq_sum += e * e;
    pct_sum += std::fabs(e) / std::max(std::fabs(truth[i]), DBL_EPSILON);
    mean += truth[i];
  }
  mean /= n;
  double ss_tot = 0;
  for (double y : truth) {
    ss_tot += (y - mean) * (y - mean);
  }
  m.mae = abs_sum / n;
  m.rmse = std::sqrt(sq_sum / n);
  m.mape = pct_sum / n;
  m.r2 = ss_tot == 0 ? (sq_sum == 0 ? 1.0 : 0.0) : 1.0 - sq_sum / ss_tot;
  return m;
}

namespace {
core::Json Num(double v) { return std::isfinite(v) ? core::Json(v) : core::Json(nullptr); }
}  // namespace

core::Json ToJson(const ClassificationMetrics& m, const std::vector<std::string>& class_names) {
  core::Json j;
  j["n"] = m.n;
  j["accuracy"] = Num(m.accuracy);
  if (m.num_classes == 2) {
    j["precision"] = Num(m.precision);
    j["recall"] = Num(m.recall);
    j["f1"] = Num(m.f1);
  } else {
    j["precision_macro"] = Num(m.precision);
    j["recall_macro"] = Num(m.recall);
    j["f1_macro"] = Num(m.f1);
    j["precision_weighted"] = Num(m.precision_weighted);
    j["recall_weighted"] = Num(m.recall_weighted);
    j["f1_weighted"] = Num(m.f1_weighted);
  }
  j["roc_auc"] = Num(m.roc_auc);
  j["pr_auc"] = Num(m.pr_auc);
  j["log_loss"] = Num(m.log_loss);
  j["confusion_matrix"] = {{"labels", class_names}, {"rows_true_cols_predicted", m.confusion}};
  return j;
}

core::Json ToJson(const RegressionMetrics& m) {
  core::Json j;
  j["n"] = m.n;
  j["mae"] = Num(m.mae);
  j["rmse"] = Num(m.rmse);
  j["r2"] = Num(m.r2);
  j["mape"] = Num(m.mape);
  return j;
}

}  // namespace plinth::ml
