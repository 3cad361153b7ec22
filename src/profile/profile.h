// Data profiles: per-column statistics of a table, computed in one streaming
// pass with bounded memory, and the drift reference of later model bundles.
//
// Profiler is a table::ChunkConsumer: hand it to table::ScanCsv (or feed it
// Tables directly) and call Finish(). Counts, nulls, min, max, mean and std are
// always exact. Quantiles, histograms, the fine quantile sketch and distinct
// counts are exact while a column has at most `sample_limit` values; beyond,
// the first three come from a uniform reservoir sample of that size and the
// distinct count from HyperLogLog. Text columns count every category until
// there are 20 x `max_categories` of them, then keep the most frequent. Duplicate rows are exact up
// to `exact_duplicate_limit` rows, then estimated. Every such switch is recorded in the profile
// (`*_exact` flags), so a reader knows what is an estimate. A Profiler is not thread-safe; it uses
// `threads` workers internally.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "table/csv_reader.h"
#include "table/table.h"

namespace plinth::profile {

struct ProfileOptions {
  int histogram_bins = 20;
  int sketch_points = 1001;                   // fine quantiles at i/(sketch_points-1)
  int64_t max_categories = 1000;              // category counts kept (the rest summed as "other")
  int64_t sample_limit = 1'000'000;           // values kept per column for quantiles
  int64_t exact_duplicate_limit = 4'000'000;  // 32 MiB of row hashes
  uint64_t seed = 42;                         // reservoir sampling
  size_t threads = 0;                         // 0: one per hardware thread
};

// The quantile probabilities every profile reports.
inline constexpr double kQuantileProbs[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};

struct NumericStats {
  double min = 0, max = 0, mean = 0, std = 0, sum = 0;
  int64_t zeros = 0, negatives = 0;
  std::vector<std::pair<double, double>> quantiles;  // (probability, value), linear interpolation
  std::vector<double> bin_edges;                     // histogram_bins + 1 edges
  std::vector<int64_t> bin_counts;
  std::vector<double> sketch;  // values at i/(n-1), i = 0..n-1
  bool quantiles_exact = true;
};

struct CategoryStats {
  std::vector<std::pair<std::string, int64_t>> counts;  // most frequent first
  int64_t other_count = 0;                              // values beyond max_categories
  bool counts_exact = true;
  double mean_length = 0;  // in bytes
  int64_t min_length = 0, max_length = 0;
};

struct ColumnProfile {
  std::string name;
  table::DataType type = table::DataType::kFloat64;
  int64_t count = 0;  // non-null values
  int64_t nulls = 0;
  int64_t distinct = 0;
  bool distinct_exact = true;
  std::optional<NumericStats> numeric;      // int64, float64, timestamp (seconds since epoch)
  std::optional<CategoryStats> categories;  // string, bool
};

struct DatasetProfile {
  std::string source;
  int64_t rows = 0;
  int64_t duplicate_rows = 0;
  bool duplicate_rows_exact = true;
  int64_t bytes = 0;
  std::string created;  // ISO-8601 UTC
  std::vector<ColumnProfile> columns;

  // The column named `name`, or nullptr.
  const ColumnProfile* Find(std::string_view name) const;
};

class Profiler : public table::ChunkConsumer {
 public:
  explicit Profiler(ProfileOptions options = {});
  ~Profiler() override;

  Status Begin(const table::Schema& schema, int64_t expected_rows) override;
  Status Consume(table::Table chunk) override { return Add(chunk); }
  // Adds the rows of `chunk`, whose schema is the one given to Begin().
  Status Add(const table::Table& chunk);
  // Computes the profile of everything consumed since the last Begin().
  DatasetProfile Finish();

 private:
  struct ColumnState;
  ProfileOptions options_;
  table::Schema schema_;
  std::vector<std::unique_ptr<ColumnState>> columns_;
  struct RowState;
  std::unique_ptr<RowState> rows_;
};

struct CsvProfile {
  DatasetProfile profile;
  table::CsvInfo info;  // what the scan found (delimiter, skipped lines, ...)
};

// Profiles the CSV file at `path` (streaming). `source` in the profile is `path`.
Result<CsvProfile> ProfileCsv(const std::string& path, const table::CsvOptions& csv,
                              const ProfileOptions& options = {});
// Profiles an in-memory table.
DatasetProfile ProfileTable(const table::Table& table, const ProfileOptions& options = {});

// The JSON form documented in docs/FORMATS.md ("plinth.profile/v1").
core::Json ProfileToJson(const DatasetProfile& profile);
// Reads the JSON form back; errors name the key that is wrong.
Result<DatasetProfile> ProfileFromJson(const core::Json& json, std::string_view source);

// A fixed-width table for the terminal.
std::string FormatProfileText(const DatasetProfile& profile);
// A self-contained HTML page (inline SVG histograms, no network).
std::string RenderProfileHtml(const DatasetProfile& profile);

}  // namespace plinth::profile
