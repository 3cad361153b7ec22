// Tabular files by kind: Parquet (a .parquet file, or a folder of them; table/parquet.h) or CSV
// (anything else; table/csv_reader.h), behind the CSV reader's interface, so that every command
// that reads data reads both. For Parquet the file's own types stand, converted where
// `options.types` asks for another: int64 to float64, anything to string; any other change (a
// string column asked for as int64) is an error naming the file, the column and both types.
// `other_columns_type` applies to CSV only (a Parquet column keeps its type). The CSV-only options
// (delimiter, null markers, bad lines) do not apply; a byte range (a shard of a CSV file) is
// refused for Parquet.
#pragma once

#include <string>

#include "table/csv_reader.h"

namespace plinth::table {

Result<CsvInfo> ScanTable(const std::string& path, const CsvOptions& options,
                          ChunkConsumer& consumer);
Result<CsvTable> ReadTable(const std::string& path, const CsvOptions& options = {});

// The SHA-256 (hex) that names the data at `path` in a bundle's and a run's records: the file's
// bytes; for a folder of Parquet files, the SHA-256 of the lines "SHA256  NAME\n" (sha256sum's
// format) of its .parquet files in name order.
Result<std::string> DataDigest(const std::string& path);

}  // namespace plinth::table
