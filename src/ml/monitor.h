// The metric early stopping watches, by the name the config uses ("loss",
// "auc", "error", "rmse", "mae", "aucpr") resolved for a task into XGBoost's
// eval_metric name and a direction. Shared by every model kind, so "loss"
// means the same thing for trees and networks.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ml/model.h"

namespace plinth::ml {

struct Monitor {
  std::string name;  // XGBoost's eval_metric name: logloss, mlogloss, rmse, auc, error, ...
  bool maximize = false;
};

// Returns kInvalidArgument "model.monitor: ..." when `monitor` does not apply to `task`.
Result<Monitor> ResolveMonitor(std::string_view monitor, Task task);

// The value of `monitor` for predictions `out` (as Model::Predict returns them)
// against labels `y`.
double ComputeMonitor(const Monitor& monitor, Task task, int num_classes, std::span<const float> y,
                      const Matrix& out);

// True when `value` beats `best` in the monitor's direction.
inline bool Improves(const Monitor& m, double value, double best) {
  return m.maximize ? value > best : value < best;
}

}  // namespace plinth::ml
