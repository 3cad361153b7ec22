// Point-in-time joins (the offline half of the feature store): for each entity row, each
// feature's latest value with an event time at or before the row's timestamp, and within the
// source's ttl, else null, as Feast's get_historical_features and pandas' merge_asof(by=keys,
// direction="backward", tolerance=ttl) answer:
//   - a feature row counts when event_ts <= entity_ts and, with a ttl, event_ts >= entity_ts -
//     ttl (both inclusive);
//   - among feature rows of one key with the same event time, the one with the latest created
//     timestamp wins (a created column given), else the one read last (pandas' rule);
//   - a source without an event timestamp is joined on its keys alone (a dimension such as
//     planes by tail number), one row per key (the last read);
//   - an entity row with a null key or timestamp gets nulls.
// Rows come out in the entities' order, with the entities' columns first. Runs inside DuckDB
// (ASOF LEFT JOIN), which reads Parquet sources itself and works out of core beyond its memory
// limit; CSV sources are read by Plinth's CSV reader first. A source that is a user's query
// confines `db` for good (source.h): use a database of its own for the join.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "table/duckdb.h"
#include "table/table.h"

namespace plinth::features {

struct AsOfSource {
  std::string name;                    // names the source in errors ("weather")
  std::string path;                    // a Parquet file or folder, or a CSV file
  std::vector<std::string> join_keys;  // columns of the source and of the entities
  std::string event_timestamp;         // "": joined on the keys alone
  std::string created_timestamp;       // "": ties go to the row read last
  std::optional<int64_t> ttl_us;       // none: no lower bound
  // Source column -> output column name.
  std::vector<std::pair<std::string, std::string>> features;
  // Instead of `path`: one SELECT over named tables (see source.h; `path` names it in errors).
  std::string query = {};
  std::map<std::string, std::string> tables = {};
  // Output column -> the type it is defined with: the source's column must have it (an int64
  // column may feed a float64 feature, cast), else the join is refused.
  std::map<std::string, table::DataType> feature_types = {};
};

struct JoinSpec {
  std::string entity_timestamp;  // a timestamp column of the entities
  std::vector<AsOfSource> sources;
};

// Joins `entities` (any columns, among them the sources' join keys and the timestamp) with
// every source, handing the result over in pieces of a few thousand rows, in entity order.
Status PointInTimeJoin(table::DuckDb& db, const table::Table& entities, const JoinSpec& spec,
                       const std::function<Status(table::Table&&)>& chunk);
Result<table::Table> PointInTimeJoin(table::DuckDb& db, const table::Table& entities,
                                     const JoinSpec& spec);
// The same with the entities a Parquet file or folder that DuckDB reads as the join runs (never
// whole in memory; beyond the database's memory limit the join spills), of `schema` (its
// columns as ReadParquetSchema gives them).
Status PointInTimeJoin(table::DuckDb& db, const std::string& entities_parquet,
                       const table::Schema& schema, const JoinSpec& spec,
                       const std::function<Status(table::Table&&)>& chunk);

}  // namespace plinth::features
