// Task names and the input check every model makes: the pieces of the model
// interface that both the main library and the torch plugin link.
#include <string>

#include "ml/model.h"

namespace plinth::ml {

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

}  // namespace plinth::ml
