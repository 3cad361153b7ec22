#include "tracking/entities.h"

#include <array>

namespace plinth::tracking {
namespace {

constexpr std::array<std::string_view, 5> kRunStatusNames = {"RUNNING", "SCHEDULED", "FINISHED",
                                                             "FAILED", "KILLED"};

}  // namespace

std::string_view RunStatusName(RunStatus s) { return kRunStatusNames[static_cast<size_t>(s) - 1]; }

Result<RunStatus> ParseRunStatus(std::string_view name) {
  for (size_t i = 0; i < kRunStatusNames.size(); ++i) {
    if (kRunStatusNames[i] == name) {
      return static_cast<RunStatus>(i + 1);
    }
  }
  return InvalidArgument("invalid run status '" + std::string(name) +
                         "': expected RUNNING, SCHEDULED, FINISHED, FAILED or KILLED");
}

namespace {
constexpr std::array<std::string_view, 4> kLoggedModelStatusNames = {
    "LOGGED_MODEL_STATUS_UNSPECIFIED", "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY",
    "LOGGED_MODEL_UPLOAD_FAILED"};
}  // namespace

std::string_view LoggedModelStatusName(LoggedModelStatus s) {
  return kLoggedModelStatusNames[static_cast<size_t>(s)];
}

Result<LoggedModelStatus> ParseLoggedModelStatus(std::string_view name) {
  for (size_t i = 0; i < kLoggedModelStatusNames.size(); ++i) {
    if (kLoggedModelStatusNames[i] == name || std::to_string(i) == name) {
      return static_cast<LoggedModelStatus>(i);
    }
  }
  return InvalidArgument("invalid logged model status '" + std::string(name) +
                         "': expected LOGGED_MODEL_PENDING, LOGGED_MODEL_READY or "
                         "LOGGED_MODEL_UPLOAD_FAILED");
}

Result<ViewType> ParseViewType(std::string_view name) {
  if (name == "ACTIVE_ONLY" || name.empty()) {
    return ViewType::kActiveOnly;
  }
  if (name == "DELETED_ONLY") {
    return ViewType::kDeletedOnly;
  }
  if (name == "ALL") {
    return ViewType::kAll;
  }
  return InvalidArgument("invalid view type '" + std::string(name) +
                         "': expected ACTIVE_ONLY, DELETED_ONLY or ALL");
}

}  // namespace plinth::tracking
