// A feature group's source: a Parquet file or folder or a CSV file, or one SELECT a user wrote
// over named tables of those. Read inside DuckDB with Plinth's type mapping (docs/FORMATS.md).
//
// A query runs confined: before any of it is bound, the database is limited to the files its
// tables name (DuckDB's enable_external_access off, those paths allowed, settings locked), so
// it cannot read other files (read_csv('/etc/passwd')) or write any (COPY is refused anyway:
// one SELECT only).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "table/duckdb.h"
#include "table/types.h"

namespace plinth::features {

struct Source {
  std::string path;                           // absolute; "" for a query
  std::string query;                          // "" for a path
  std::map<std::string, std::string> tables;  // a query's table name -> absolute path
};

// A source's rows as a SELECT in a database, in two steps: Plan (no SQL of the user's runs;
// CSV files are read by Plinth's reader and scanned where they are, as table functions named
// after `id`), then, once every source of the database is planned and the database confined
// (ConfineToSources), Describe.
struct PlannedSource {
  std::string sql;                 // the SELECT of the wanted columns
  table::Schema schema;            // its columns, once described
  std::vector<std::string> files;  // every file it reads (for Confine)
  bool user_sql = false;
  std::vector<std::string> columns;  // wanted (all when empty)
  std::string what;                  // "feature group weather: source query"
  // Whether `sql` also yields kSourceOrder, each row's place in read order (a Parquet file's
  // file_index and file_row_number, a CSV file's rows as Plinth read them), so that no window
  // has to number them.
  bool ordered = false;
};

// The column that numbers a source's rows in read order (ties go to the row read last).
inline constexpr const char* kSourceOrder = "__plinth_order";

// A SELECT of every column of `s` and kSourceOrder: `s.sql` when it has it, else numbered with
// row_number() OVER () (a user's query).
std::string OrderedSql(const PlannedSource& s);

Result<PlannedSource> PlanSource(table::DuckDb& db, const Source& s, const std::string& name,
                                 const std::vector<std::string>& columns, const std::string& id);
// Confines `db` to the sources' files when any of them is a user's query.
Status ConfineToSources(table::DuckDb& db, const std::vector<PlannedSource*>& sources);
// Fills `s.schema` (and `s.sql`) of a user's query; nothing to do for a file.
Status DescribeSource(table::DuckDb& db, PlannedSource& s);

}  // namespace plinth::features
