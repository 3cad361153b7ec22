// Test helper: the offline feature store's point-in-time join (features/point_in_time.h) from a
// JSON description, for the test that holds it against pandas' merge_asof.
//   features_tool historical SPEC.json OUT.csv
// SPEC: {"entities": FILE, "entity_timestamp": COLUMN, "sources": [{"name", "path",
//        "join_keys": [...], "event_timestamp", "created_timestamp", "ttl_seconds",
//        "features": [[SOURCE_COLUMN, OUTPUT_NAME], ...]}]}
// Exit 2 with the error's one line on stderr.
#include <cstdio>
#include <string>

#include "core/json.h"
#include "features/point_in_time.h"
#include "table/csv_writer.h"
#include "table/reader.h"

using namespace plinth;

namespace {

Status Run(const std::string& spec_path, const std::string& out) {
  PLINTH_ASSIGN_OR_RETURN(core::Json spec, core::ReadJsonFile(spec_path));
  features::JoinSpec join;
  join.entity_timestamp = spec.at("entity_timestamp").get<std::string>();
  for (const core::Json& s : spec.at("sources")) {
    features::AsOfSource src;
    src.name = s.at("name").get<std::string>();
    src.path = s.at("path").get<std::string>();
    src.join_keys = s.at("join_keys").get<std::vector<std::string>>();
    src.event_timestamp = s.value("event_timestamp", "");
    src.created_timestamp = s.value("created_timestamp", "");
    if (s.contains("ttl_seconds")) {
      src.ttl_us = s.at("ttl_seconds").get<int64_t>() * 1000000;
    }
    for (const core::Json& f : s.at("features")) {
      src.features.emplace_back(f.at(0).get<std::string>(), f.at(1).get<std::string>());
    }
    join.sources.push_back(std::move(src));
  }
  table::CsvOptions csv;
  csv.types[join.entity_timestamp] = table::DataType::kTimestamp;
  PLINTH_ASSIGN_OR_RETURN(table::CsvTable entities,
                          table::ReadTable(spec.at("entities").get<std::string>(), csv));
  PLINTH_ASSIGN_OR_RETURN(table::DuckDb db, table::DuckDb::Open());
  PLINTH_ASSIGN_OR_RETURN(table::Table joined, features::PointInTimeJoin(db, entities.table, join));
  return table::WriteCsv(joined, out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::string(argv[1]) != "historical") {
    std::fprintf(stderr, "usage: features_tool historical SPEC.json OUT.csv\n");
    return 2;
  }
  if (Status s = Run(argv[2], argv[3]); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  return 0;
}
