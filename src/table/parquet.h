// Parquet files, read and written through DuckDB (table/duckdb.h): a file, or a folder of them
// (its *.parquet files, one table). Columns map to Plinth's types and back without loss:
//
//   Parquet / DuckDB type                         Plinth type
//   BOOLEAN                                       bool
//   INT8..INT64, UINT8..UINT32 (and UINT64,       int64 (an unsigned value beyond int64 is an
//     HUGEINT within int64's range)                 error naming the column)
//   FLOAT, DOUBLE                                 float64 (FLOAT widened exactly)
//   DECIMAL                                       float64 (the nearest double)
//   UTF8 strings, ENUM, UUID, binary              string (binary read as text)
//   TIMESTAMP (s, ms, us; ns truncated to us),    timestamp: microseconds since the epoch, UTC
//     with or without time zone, INT96, DATE        (a DATE is its midnight)
//
// Nested columns (LIST, STRUCT, MAP), TIME and INTERVAL are refused with an error naming the
// column. Plinth writes int64 as INT64, float64 as DOUBLE, bool as BOOLEAN, string as UTF8
// BYTE_ARRAY and timestamp as TIMESTAMP(MICROS, isAdjustedToUTC=true), snappy-compressed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "table/table.h"

namespace plinth::table {

// Whether `path` is read as Parquet: a name ending in .parquet (any case), or a directory.
bool IsParquetPath(const std::string& path);
// Whether `path`'s name ends in .parquet (any case): written as Parquet.
bool HasParquetName(std::string_view path);
// The second of two columns whose names are equal but for (ASCII) case, fit for a one-line
// message, if any: Parquet readers such as DuckDB do not tell them apart, and ParquetWriter
// refuses them.
std::optional<std::string> NamedTwiceButForCase(const Schema& schema);

// The files `path` names: itself, or a directory's *.parquet files in name order (regular
// files; symlinks, subdirectories and other files are left out). Errors: none found, a name
// with a glob character (* ? [) that DuckDB would expand, a path that cannot be read.
Result<std::vector<std::string>> ParquetFiles(const std::string& path);

// The columns `path` holds as Plinth reads them (nothing else read).
Result<Schema> ReadParquetSchema(const std::string& path);

class DuckDb;

// A SELECT that reads `columns` of `path` (all when empty) in `db` as Plinth reads them (the
// type mapping above, its refusals raised as the rows are read), for queries that join Parquet
// inside DuckDB without loading it first; and the columns it yields.
struct ParquetQuery {
  std::string sql;
  Schema schema;
  // With `place` named: whether `sql` also yields that column (not in `schema`), each row's
  // place in read order (its file's in the list, then its own in the file) as a BIGINT, read
  // from DuckDB's file_index and file_row_number (no window over the rows). Not when a file
  // has a column of either name or there are 2^23 files or more.
  bool has_place = false;
};
Result<ParquetQuery> PlanParquetQuery(DuckDb& db, const std::string& path,
                                      const std::vector<std::string>& columns = {},
                                      const std::string& place = "");

// The same over a query's result (a feature group's source query): `sql` is one SELECT, `where`
// names it in errors.
Result<ParquetQuery> PlanSelectQuery(DuckDb& db, const std::string& sql, const std::string& where,
                                     const std::vector<std::string>& columns = {});

// Reads `columns` (all when empty, in the file's order; else in this order) of `path`.
Result<Table> ReadParquet(const std::string& path, const std::vector<std::string>& columns = {});

// The same in pieces of a few thousand rows, in file order, for readers that stream.
Status ReadParquetChunks(const std::string& path, const std::vector<std::string>& columns,
                         const std::function<Status(Table&&)>& chunk);

// Writes `t` to `path` atomically (temporary file, fsync, rename), as core::AtomicFileWriter
// does: a symlink's target is replaced, a device or pipe written in place, a directory refused.
Status WriteParquet(const Table& t, const std::string& path);

// The same piece by piece: rows appended (kept by DuckDB, spilling to a private temporary
// folder beyond its memory limit) until Commit writes the file. Column names must differ
// other than in case (DuckDB's names ignore case). Destroyed
// without Commit, `path` is untouched.
class ParquetWriter {
 public:
  static Result<ParquetWriter> Open(const std::string& path, const Schema& schema);
  ParquetWriter(ParquetWriter&&) noexcept;
  ParquetWriter& operator=(ParquetWriter&&) noexcept;
  ~ParquetWriter();

  Status Append(const Table& rows);  // of the schema given to Open (else an error)
  Status Commit();

 private:
  struct State;
  explicit ParquetWriter(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace plinth::table
