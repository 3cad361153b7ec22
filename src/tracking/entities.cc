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
