// libFuzzer target for MLflow's search syntax as the tracking server reads it
// (tracking/search.h): filter strings and order_by clauses for runs,
// experiments, registered models, model versions, logged models and traces (MLflow 3's
// span.*, feedback.*, RLIKE), each filter that parses compiled to SQL too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tracking/search.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  using namespace plinth::tracking;
  const SearchTarget* targets[] = {
      &RunSearch(),          &ExperimentSearch(),  &RegisteredModelSearch(),
      &ModelVersionSearch(), &LoggedModelSearch(), &TraceSearch()};
  const SearchTarget& target = *targets[(data[0] & 7) % 6];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 8) != 0) {
    (void)ParseOrderBy(text, target);
  } else if (auto parsed = ParseFilter(text, target); parsed.ok()) {
    SqlNames names = {"t", "id", "tags", "id", [](std::string_view a) { return std::string(a); }};
    (void)CompileFilter(*parsed, names);
  }
  return 0;
}
