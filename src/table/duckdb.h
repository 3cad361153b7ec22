// DuckDB behind one adapter: an in-memory database that reads and writes Parquet and runs the
// joins the feature store needs (point-in-time ASOF joins, out of core beyond RAM). Everything
// Plinth asks of DuckDB goes through here, over its C API; no other file includes duckdb.h.
//
// Results come back as Plinth tables: a query's columns must be BIGINT, DOUBLE, BOOLEAN,
// VARCHAR, TIMESTAMP or TIMESTAMP WITH TIME ZONE (callers cast in SQL), read as int64,
// float64, bool, string and timestamp (microseconds, UTC). The session's time zone is UTC,
// extensions are never installed or loaded from the network, and DuckDB's errors are turned
// into one line (its first) with what was being done in front.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"
#include "table/table.h"

namespace plinth::table {

struct DuckDbOptions {
  int threads = 0;           // 0: DuckDB's default (the machine's cores)
  std::string memory_limit;  // e.g. "2GB"; "": DuckDB's default (80% of RAM)
  // Where it spills beyond the limit; "": a private folder under $TMPDIR, removed with the
  // database (DuckDB's own default would be ./.tmp).
  std::string temp_directory;
};

// A parameter bound to $1, $2, ...: text, a list of texts, or an integer.
using DuckDbParam = std::variant<std::string, std::vector<std::string>, int64_t>;

class DuckDb {
 public:
  static Result<DuckDb> Open(const DuckDbOptions& options = {});
  DuckDb(DuckDb&& other) noexcept;
  DuckDb& operator=(DuckDb&& other) noexcept;
  DuckDb(const DuckDb&) = delete;
  DuckDb& operator=(const DuckDb&) = delete;
  ~DuckDb();

  // Runs statements that return nothing the caller reads. `what` starts error messages.
  Status Exec(std::string_view sql, std::string_view what);

  // Runs one statement with `params` and hands its result over piece by piece (a streamed
  // result, not materialized whole; at most about 2048 rows each).
  // Stops at the first error, from DuckDB or from `chunk`.
  Status Query(std::string_view sql, const std::vector<DuckDbParam>& params, std::string_view what,
               const std::function<Status(Table&&)>& chunk);
  // The whole result as one table.
  Result<Table> QueryTable(std::string_view sql, const std::vector<DuckDbParam>& params,
                           std::string_view what);

  // The result's column names and DuckDB type names ("INTEGER", "VARCHAR[]", ...), without
  // running the query.
  Result<std::vector<std::pair<std::string, std::string>>> Describe(
      std::string_view sql, const std::vector<DuckDbParam>& params, std::string_view what);

  // Makes `name()` a table function of this database that reads `t` (kept until the database
  // closes) where it is: its columns (BIGINT, DOUBLE, BOOLEAN, VARCHAR, TIMESTAMP), then, when
  // `row_column` is given, a BIGINT of that name numbering the rows from 0 in `t`'s order
  // (large tables are read by several threads, so rows may come out of order: order by it). Nothing
  // is copied into DuckDB's storage (a table there compresses every column and keeps statistics:
  // for rows read once by one query, most of the time it takes). `name` must be new here.
  Status Scan(const std::string& name, std::shared_ptr<const Table> t,
              const std::string& row_column, std::string_view what);

  // The private folder this database spills to ("" when DuckDbOptions named one): a place for
  // files that must go when the database does.
  const std::string& scratch_dir() const;
  // From now on this database reads only `files` (absolute paths) and spills only to its own
  // folder: DuckDB's enable_external_access off with those paths allowed, and its settings
  // locked. For running SQL a user wrote (a feature group's source query).
  Status Confine(const std::vector<std::string>& files, std::string_view what);
  // Checks that `sql` is exactly one SELECT statement (no COPY, ATTACH, SET, ...), before it is
  // put inside a larger query; kInvalidArgument "`what`: ..." otherwise.
  Status CheckSingleSelect(std::string_view sql, std::string_view what);

  // Creates (or replaces) the table `name` with `schema`'s columns; Append adds rows of that
  // schema.
  Status Create(const std::string& name, const Schema& schema, std::string_view what);
  Status Append(const std::string& name, const Table& t, std::string_view what);

 private:
  struct Handles;
  explicit DuckDb(std::unique_ptr<Handles> h);
  std::unique_ptr<Handles> h_;
};

// `name` as a quoted SQL identifier ("a ""b"""), and `text` as a SQL string literal.
std::string SqlIdentifier(std::string_view name);
std::string SqlString(std::string_view text);
// An SQL expression raising the text of the SQL string expression `text` as an error, a
// message of Plinth's own: the error of the query that raises it is that text alone (no
// library words, nor what was being done in front: the text names what it is about).
std::string SqlRaise(const std::string& text);

}  // namespace plinth::table
