// The CSV reader: RFC 4180 text (quoted fields, doubled quotes, embedded
// newlines, CRLF or LF) with a header row, read into typed columns.
//
// ScanCsv streams a file through a ChunkConsumer in chunks of complete records,
// with bounded memory: blocks are read, cut at record boundaries, parsed on a
// thread pool and delivered in file order. ReadCsv collects every chunk into
// one Table. Plain and gzip files (detected by content) are both accepted.
//
// Types are inferred per column as pandas does over the whole file: int64,
// float64, bool, timestamp (ISO-8601) or string, widening int64 -> float64 ->
// string as values require. A column with no value at all is float64. When a
// later chunk needs a wider type than the one already delivered, the scan
// restarts from the beginning with the wider type and calls Begin() again; this
// happens at most twice per column. A quoted field is never a null marker, so
// `""` is an empty string while an empty unquoted field is null.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "table/table.h"

namespace plinth::table {

// What to do with a line whose field count differs from the header's (pandas'
// on_bad_lines): fail, skip it with a warning, or skip it silently.
enum class BadLines { kError, kWarn, kSkip };

// Parses "error", "warn" or "skip".
Result<BadLines> ParseBadLines(std::string_view text);

// What to do with a value that does not parse as the type `types` gives its
// column: fail, read it as a missing value, or skip its line. Values read as
// missing and lines skipped are counted, and the first few named, in CsvInfo.
enum class BadValues { kError, kNull, kSkip };

struct CsvOptions {
  char delimiter = 0;  // 0: detected among , ; tab |
  bool header = true;  // false: columns are named column_1, column_2, ...
  std::vector<std::string> null_values = {"", "NA", "N/A", "NaN", "null", "?"};
  std::map<std::string, DataType, std::less<>> types;  // per-column type, not inferred
  std::string types_source = "--type";                 // where `types` came from, named in errors
  // The type of every column not in `types` (not inferred, never widened);
  // unset: inferred.
  std::optional<DataType> other_columns_type;
  BadLines on_bad_lines = BadLines::kError;
  BadValues on_bad_values = BadValues::kError;
  // Only the records that start in bytes [range_begin, range_end) of the file
  // (after the header, which is always read): shard i of n of a large file,
  // cut at line starts. Plain files only; records must not hold line breaks
  // in quoted fields (each shard starts reading at a line start). Line numbers
  // in errors count from the range's first line. range_end < 0: to the end.
  int64_t range_begin = 0;
  int64_t range_end = -1;
  size_t threads = 0;            // parser threads; 0: one per hardware thread
  size_t chunk_bytes = 4 << 20;  // approximate bytes of text per chunk
  bool progress = false;         // show progress on stderr
  // When set, the bytes read go to this bar (the caller's, which may count rows
  // too) instead of one of the reader's own; the caller finishes it.
  core::Progress* progress_bar = nullptr;
};

// What a scan found.
struct CsvInfo {
  char delimiter = ',';
  Schema schema;
  int64_t rows = 0;   // data rows delivered
  int64_t bytes = 0;  // bytes of text read (uncompressed)
  bool gzip = false;
  int64_t skipped_lines = 0;                  // bad lines skipped (kWarn, kSkip; BadValues::kSkip)
  int64_t null_values = 0;                    // bad values read as missing (BadValues::kNull)
  std::vector<std::string> skipped_messages;  // the first few of both, "file:line: reason"
  int restarts = 0;                           // times the scan restarted to widen a type
};

class ChunkConsumer {
 public:
  virtual ~ChunkConsumer() = default;
  // Called before the first chunk with the schema of every chunk that follows,
  // and again if the scan restarts: the consumer must then drop what it has.
  // `expected_rows` estimates the rows to come (0 when unknown), for reserving.
  virtual Status Begin(const Schema& schema, int64_t expected_rows) = 0;
  // Receives the next chunk of rows, in file order (the consumer may keep it).
  virtual Status Consume(Table chunk) = 0;
};

// Streams the CSV file at `path` through `consumer`. Errors name the file, the
// line, the column and what was expected, e.g.
// `data.csv:1042: column "age": expected int64, got "abc"`. A consumer error
// stops the scan and is returned as it is.
Result<CsvInfo> ScanCsv(const std::string& path, const CsvOptions& options,
                        ChunkConsumer& consumer);
// The same over `text` held in memory; `name` stands for the file in errors.
Result<CsvInfo> ScanCsvText(std::string_view text, std::string_view name, const CsvOptions& options,
                            ChunkConsumer& consumer);

struct CsvTable {
  Table table;
  CsvInfo info;
};

// Reads the whole file at `path` into one Table.
Result<CsvTable> ReadCsv(const std::string& path, const CsvOptions& options = {});
// Reads CSV `text` into one Table; `name` stands for the file in errors.
Result<CsvTable> ReadCsvText(std::string_view text, const CsvOptions& options = {},
                             std::string_view name = "<text>");

}  // namespace plinth::table
