// libFuzzer target for the feature store's parsers a user or client reaches: features.yaml
// (ParseDefinitions; first byte even) and a Feast get-online-features body (ParseFeastRequest
// against a small fixed registry; first byte odd). A refusal must be one line; a request that
// parses must have one value per entity in every column.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "features/definitions.h"
#include "features/online.h"

namespace {

const plinth::features::Definitions& Registry() {
  static const plinth::features::Definitions kDefs = [] {
    using plinth::table::DataType;
    plinth::features::Definitions d;
    d.entities.push_back({"driver", {{"driver_id", DataType::kInt64}}, ""});
    d.entities.push_back({"city", {{"city", DataType::kString}}, ""});
    plinth::features::FeatureGroup g;
    g.name = "stats";
    g.version = 1;
    g.entities = {"driver"};
    g.join_keys = {{"driver_id", DataType::kInt64}};
    g.features = {{"rate", DataType::kFloat64}, {"trips", DataType::kInt64}};
    d.groups.push_back(g);
    d.on_demand.push_back({"pct",
                           "rate * 100 + bonus",
                           DataType::kFloat64,
                           {{"bonus", DataType::kFloat64}, {"at", DataType::kTimestamp}},
                           ""});
    d.services.push_back({"svc", 1, {{"stats", 1, "rate"}, {"", 0, "pct"}}, ""});
    return d;
  }();
  return kDefs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto d = plinth::features::ParseDefinitions(text, "features.yaml", "/nonexistent-fuzz-dir");
    if (!d.ok() && d.status().message().find('\n') != std::string::npos) {
      std::fprintf(stderr, "two lines: %s\n", d.status().message().c_str());
      std::abort();
    }
    return 0;
  }
  auto r = plinth::features::ParseFeastRequest(text, Registry());
  if (!r.ok()) {
    if (r.status().message().find('\n') != std::string::npos) {
      std::abort();
    }
    return 0;
  }
  const plinth::table::Table& t = r->query.entities;
  for (size_t c = 0; c < t.num_columns(); ++c) {
    if (t.column(c).size() != t.num_rows()) {
      std::abort();
    }
  }
  return 0;
}
