// Training sets from the offline store: `plinth features historical`. Each entity row (keys and
// a timestamp) gets each named feature's value as of its timestamp (point_in_time.h's rules),
// and on-demand features computed from those and the row's own values; written to a Parquet or
// CSV file as it is joined, atomically.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "features/definitions.h"

namespace plinth::features {

struct HistoricalOptions {
  std::string entities;          // a CSV or Parquet file (or folder)
  std::string timestamp_column;  // "": the entities' one timestamp column
  std::string out;               // .parquet, else CSV
  bool full_feature_names = false;
  std::string memory_limit;  // DuckDB's, e.g. "4GB"; "": its default
  int threads = 0;
  // A CSV entity file's rows are held in memory while they take at most this many bytes;
  // beyond that they (and all that follow) are written as Parquet files of about
  // spool_file_bytes each in the join's scratch folder, read by DuckDB as the join runs (memory
  // bounded, as for Parquet entities). Parquet entities are never held.
  int64_t hold_csv_bytes = int64_t{256} << 20;
  int64_t spool_file_bytes = int64_t{64} << 20;
};

struct HistoricalResult {
  int64_t rows = 0;
  std::string timestamp_column;  // the entities' column the features were taken as of
  std::vector<std::string> columns;
  std::vector<std::string> groups;  // the group versions read ("weather@2")
};

// `groups` gives a ref's group at the ref's version.
Result<HistoricalResult> HistoricalFeatures(
    const Definitions& defs, const std::vector<FeatureRef>& features,
    const std::function<Result<FeatureGroup>(const FeatureRef&)>& groups,
    const HistoricalOptions& options, const std::function<void(int64_t rows)>& progress);

}  // namespace plinth::features
