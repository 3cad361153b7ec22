// The CSV writer: RFC 4180 text with a header row, LF line ends. Fields are
// quoted only when they must be (delimiter, quote, CR/LF, leading or trailing
// space) or when a string would otherwise read back as null (empty, or equal to
// a null marker). Reading the output with the table's schema gives back an
// equal table.
#pragma once

#include <string>

#include "core/status.h"
#include "table/table.h"

namespace plinth::table {

struct CsvWriteOptions {
  char delimiter = ',';
  std::vector<std::string> null_markers = {"NA", "N/A", "NaN", "null", "?"};
  bool header = true;  // false: rows only (a later piece of a file being streamed)
  bool gzip = false;   // WriteCsv: a gzip file (which the CSV reader detects by content)
};

// Appends the string `s` as one field, quoted when it must be (see above).
void AppendCsvField(std::string& out, std::string_view s, const CsvWriteOptions& options);

// Returns `table` as CSV text.
std::string FormatCsv(const Table& table, const CsvWriteOptions& options = {});

// `text` as a gzip member (zlib, default level).
Result<std::string> GzipCompress(std::string_view text);

// Writes `table` to `path` atomically (temp + fsync + rename).
Status WriteCsv(const Table& table, const std::string& path, const CsvWriteOptions& options = {});

}  // namespace plinth::table
