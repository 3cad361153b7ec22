#include "features/source.h"

#include <atomic>
#include <memory>
#include <optional>

#include "table/parquet.h"
#include "table/reader.h"

namespace plinth::features {

using table::SqlIdentifier;

Result<PlannedSource> PlanSource(table::DuckDb& db, const Source& s, const std::string& name,
                                 const std::vector<std::string>& columns, const std::string& id) {
  PlannedSource out;
  out.columns = columns;
  // Parquet: a SELECT over its files; CSV: read by Plinth's reader, scanned where it is.
  // `placed`: the source's own file, read with its rows' places (a query's tables are not).
  const auto file = [&](const std::string& path, const std::string& table,
                        const std::vector<std::string>& cols, bool placed) -> Result<std::string> {
    if (table::IsParquetPath(path)) {
      PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> files, table::ParquetFiles(path));
      out.files.insert(out.files.end(), files.begin(), files.end());
      PLINTH_ASSIGN_OR_RETURN(table::ParquetQuery q,
                              table::PlanParquetQuery(db, path, cols, placed ? kSourceOrder : ""));
      out.schema = q.schema;
      out.ordered = q.has_place;
      return q.sql;
    }
    PLINTH_ASSIGN_OR_RETURN(table::CsvTable read, table::ReadTable(path));
    table::Table t = std::move(read.table);
    if (!cols.empty()) {
      // The columns asked for, moved out of what was read (copying them cost 1.6 s of a 10M-row
      // materialization's 10 s before its first write). Each once: callers ask for distinct
      // columns (definitions refuse a feature named as a key or timestamp).
      const table::Schema all = t.schema();
      std::vector<table::Column> read_columns = std::move(t).TakeColumns();
      std::vector<bool> taken(read_columns.size(), false);
      std::vector<table::Field> fields;
      std::vector<table::Column> picked;
      for (const std::string& c : cols) {
        const std::optional<size_t> at = all.IndexOf(c);
        if (!at) {
          return InvalidArgument(path + ": no column '" + c + "' (feature group " + name + ")");
        }
        if (taken[*at]) {
          return Internal(path + ": column '" + c + "' asked for twice (feature group " + name +
                          ")");
        }
        taken[*at] = true;
        fields.push_back(all.field(*at));
        picked.push_back(std::move(read_columns[*at]));
      }
      t = table::Table(table::Schema(std::move(fields)), std::move(picked));
    }
    out.schema = t.schema();
    // Read where it is, numbered in its order when it is the source's own file (a column
    // already named so would be refused by DuckDB as a duplicate); under a name of its own, as
    // a database may plan several sources.
    out.ordered = placed && !out.schema.IndexOf(kSourceOrder).has_value();
    static std::atomic<int64_t> scans{0};
    const std::string scan = table + "_" + std::to_string(scans.fetch_add(1));
    PLINTH_RETURN_IF_ERROR(db.Scan(scan, std::make_shared<const table::Table>(std::move(t)),
                                   out.ordered ? kSourceOrder : "", path));
    return "SELECT * FROM " + SqlIdentifier(scan) + "()";
  };
  if (s.query.empty()) {
    PLINTH_ASSIGN_OR_RETURN(out.sql, file(s.path, "plinth_" + id, columns, true));
    out.what = s.path;
    return out;
  }
  out.user_sql = true;
  out.what = "feature group " + name + ": source query";
  PLINTH_RETURN_IF_ERROR(db.CheckSingleSelect(s.query, out.what));
  // The tables as common table expressions around the query (so that two groups' queries may
  // both name a table `trips`, each its own).
  std::string with;
  size_t n = 0;  // internal names from a count, never from the user's text
  for (const auto& [table, path] : s.tables) {
    PLINTH_ASSIGN_OR_RETURN(std::string sql,
                            file(path, "plinth_" + id + "_t" + std::to_string(n++), {}, false));
    with += (with.empty() ? "WITH " : ", ") + SqlIdentifier(table) + " AS (" + sql + ")";
  }
  std::string query = s.query;
  while (!query.empty() &&
         (query.back() == ';' || std::isspace(static_cast<unsigned char>(query.back())))) {
    query.pop_back();
  }
  out.sql = with + " SELECT * FROM (" + query + ")";
  out.schema = table::Schema();
  return out;
}

std::string OrderedSql(const PlannedSource& s) {
  return s.ordered ? s.sql
                   : "SELECT *, row_number() OVER () AS " + std::string(kSourceOrder) + " FROM (" +
                         s.sql + ")";
}

Status ConfineToSources(table::DuckDb& db, const std::vector<PlannedSource*>& sources) {
  bool any = false;
  std::vector<std::string> files;
  for (const PlannedSource* s : sources) {
    any = any || s->user_sql;
    files.insert(files.end(), s->files.begin(), s->files.end());
  }
  return any ? db.Confine(files, "confining the source queries") : Status::Ok();
}

Status DescribeSource(table::DuckDb& db, PlannedSource& s) {
  if (!s.user_sql) {
    return Status::Ok();
  }
  PLINTH_ASSIGN_OR_RETURN(table::ParquetQuery q,
                          table::PlanSelectQuery(db, s.sql, s.what, s.columns));
  s.sql = q.sql;
  s.schema = q.schema;
  return Status::Ok();
}

}  // namespace plinth::features
