#include "ml/model.h"

#include <string>

namespace plinth::ml {
namespace {

// The explicit table of model kinds (no static-initialisation registry).
constexpr ModelKind kKinds[] = {
    {"gbdt", "gradient-boosted trees (XGBoost gbtree, hist)", "model.ubj", "xgboost", CreateGbdt},
    {"random_forest", "random forest (XGBoost, num_parallel_tree trees per round)", "model.ubj",
     "xgboost", CreateRandomForest},
    {"linear", "linear model (XGBoost gblinear: squared error, logistic, softmax)", "model.ubj",
     "xgboost", CreateLinear},
#ifdef PLINTH_WITH_TORCH
    {"mlp", "multilayer perceptron (libtorch: ReLU, dropout, Adam), saved as TorchScript",
     "model.pt", "torch", CreateMlp},
#endif
};

}  // namespace

std::string_view Name(Task task) {
  switch (task) {
    case Task::kBinary:
      return "binary";
    case Task::kMulticlass:
      return "multiclass";
    case Task::kRegression:
      return "regression";
  }
  return "?";
}

Result<Task> ParseTask(std::string_view s) {
  for (Task t : {Task::kBinary, Task::kMulticlass, Task::kRegression}) {
    if (s == Name(t)) {
      return t;
    }
  }
  return InvalidArgument("expected binary, multiclass or regression, got \"" + std::string(s) +
                         "\"");
}

Status CheckPredictInput(bool ready, int64_t num_features, const Matrix& x) {
  if (!ready) {
    return FailedPrecondition("the model is neither fitted nor loaded");
  }
  if (x.cols != num_features) {
    return InvalidArgument("expected " + std::to_string(num_features) + " features, got " +
                           std::to_string(x.cols));
  }
  return Status::Ok();
}

std::span<const ModelKind> ModelKinds() { return kKinds; }

Result<const ModelKind*> FindModelKind(std::string_view name) {
  std::string names;
  for (const ModelKind& k : kKinds) {
    if (k.name == name) {
      return &k;
    }
    names += (names.empty() ? "" : ", ") + std::string(k.name);
  }
#ifndef PLINTH_WITH_TORCH
  if (name == "mlp") {
    return InvalidArgument(
        "model kind \"mlp\" needs libtorch, and this plinth was built without it "
        "(PLINTH_WITH_TORCH=OFF)");
  }
#endif
  return InvalidArgument("unknown model kind \"" + std::string(name) + "\"; expected one of " +
                         names);
}

}  // namespace plinth::ml

#ifndef PLINTH_WITH_TORCH
namespace plinth::ml {
std::string TorchVersion() { return ""; }
}  // namespace plinth::ml
#endif
