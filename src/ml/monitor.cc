#include "ml/monitor.h"

#include <cmath>
#include <vector>

#include "ml/metrics.h"

namespace plinth::ml {

Result<Monitor> ResolveMonitor(std::string_view monitor, Task task) {
  const bool classify = task != Task::kRegression;
  const bool multi = task == Task::kMulticlass;
  if (monitor == "loss") {
    return Monitor{classify ? (multi ? "mlogloss" : "logloss") : "rmse", false};
  }
  if (classify && monitor == "error") {
    return Monitor{multi ? "merror" : "error", false};
  }
  if (task == Task::kBinary && (monitor == "auc" || monitor == "aucpr")) {
    return Monitor{std::string(monitor), true};
  }
  if (!classify && (monitor == "rmse" || monitor == "mae")) {
    return Monitor{std::string(monitor), false};
  }
  std::string allowed =
      classify ? (multi ? "loss, error" : "loss, error, auc, aucpr") : "loss, rmse, mae";
  return InvalidArgument("model.monitor: \"" + std::string(monitor) + "\" does not apply to a " +
                         std::string(Name(task)) + " task; expected one of " + allowed);
}

double ComputeMonitor(const Monitor& m, Task task, int num_classes, std::span<const float> y,
                      const Matrix& out) {
  const size_t n = y.size();
  if (task == Task::kRegression) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      double d = static_cast<double>(out.values[i]) - y[i];
      sum += m.name == "mae" ? std::abs(d) : d * d;
    }
    double mean = n ? sum / static_cast<double>(n) : 0;
    return m.name == "mae" ? mean : std::sqrt(mean);
  }
  const int k = task == Task::kBinary ? 2 : num_classes;
  std::vector<int> labels(n);
  std::vector<double> proba(n * static_cast<size_t>(k));
  for (size_t i = 0; i < n; ++i) {
    labels[i] = static_cast<int>(y[i]);
    if (task == Task::kBinary) {
      proba[2 * i] = 1.0 - out.values[i];
      proba[2 * i + 1] = out.values[i];
    } else {
      for (int c = 0; c < k; ++c) {
        proba[i * static_cast<size_t>(k) + static_cast<size_t>(c)] =
            out.values[i * static_cast<size_t>(k) + static_cast<size_t>(c)];
      }
    }
  }
  Result<ClassificationMetrics> r = EvaluateClassifier(labels, proba, k);
  if (!r.ok()) {
    return std::nan("");
  }
  if (m.name == "auc") {
    return r->roc_auc;
  }
  if (m.name == "aucpr") {
    return r->pr_auc;
  }
  if (m.name == "error" || m.name == "merror") {
    return 1.0 - r->accuracy;
  }
  return r->log_loss;
}

}  // namespace plinth::ml
