#include "table/parquet.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "core/file.h"
#include "table/duckdb.h"

namespace plinth::table {
namespace {

// `s` in ASCII lower case (DuckDB's names, and file name endings, compare so).
std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool HasParquetName(std::string_view name) {
  return name.size() >= 8 && Lower(name.substr(name.size() - 8)) == ".parquet";
}

namespace {

// A name fit for a one-line message: line breaks and other control characters as '?', and at
// most 200 bytes.
std::string Printable(std::string_view name) {
  std::string out(name.substr(0, 200));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

// How a column of DuckDB type `type` is selected as a Plinth type: the SQL expression over
// the quoted column `q`, or an error. Values Plinth cannot hold exactly are errors naming the
// file and column (raised by SQL's error() as the rows are read), never other values.
Result<std::pair<std::string, DataType>> Selection(const std::string& path, const std::string& name,
                                                   const std::string& type) {
  const std::string q = SqlIdentifier(name);
  const std::string where = path + ": column '" + Printable(name) + "'";
  auto fail = [&](const std::string& why, const std::string& value) {
    return SqlRaise(SqlString(where + " " + why + ": ") + " || CAST(" + value + " AS VARCHAR)");
  };
  if (type == "BOOLEAN") {
    return std::pair{q, DataType::kBool};
  }
  if (type == "BIGINT") {
    return std::pair{q, DataType::kInt64};
  }
  for (const char* t : {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"}) {
    if (type == t) {
      return std::pair{"CAST(" + q + " AS BIGINT)", DataType::kInt64};
    }
  }
  if (type == "UBIGINT" || type == "HUGEINT" || type == "UHUGEINT") {
    return std::pair{"CASE WHEN " + q + " IS NULL OR " + q +
                         " BETWEEN -9223372036854775808 AND 9223372036854775807 THEN CAST(" + q +
                         " AS BIGINT) ELSE " + fail("holds a value beyond int64", q) + " END",
                     DataType::kInt64};
  }
  if (type == "DOUBLE") {
    return std::pair{q, DataType::kFloat64};
  }
  if (type == "FLOAT" || type == "DECIMAL") {
    return std::pair{"CAST(" + q + " AS DOUBLE)", DataType::kFloat64};
  }
  if (type == "VARCHAR") {
    return std::pair{q, DataType::kString};
  }
  if (type == "ENUM" || type == "UUID") {
    return std::pair{"CAST(" + q + " AS VARCHAR)", DataType::kString};
  }
  if (type == "BLOB") {
    // Unannotated binary, as parquet-mr and Impala store strings: its bytes as UTF-8 text
    // (decode; a CAST would escape every byte beyond ASCII), or an error for bytes that are not.
    return std::pair{
        "CASE WHEN " + q + " IS NULL THEN NULL WHEN TRY(decode(" + q + ")) IS NULL THEN " +
            SqlRaise(SqlString(where + " holds binary values that are not UTF-8 text")) +
            " ELSE decode(" + q + ") END",
        DataType::kString};
  }
  if (type.starts_with("TIMESTAMP") || type == "DATE") {
    // Within the years 1 to 9999 (what Plinth reads and writes as text), else an error: a
    // value beyond them is one DuckDB may not have read exactly (an INT96 timestamp of the
    // year 290000 comes back wrapped around to 226414 BC). An instant (WITH TIME ZONE) becomes
    // its microseconds since the epoch as a plain TIMESTAMP (UTC), so that later comparisons
    // are of integers: CAST(... AS TIMESTAMP) would convert it through the session's time zone
    // with ICU's calendar, row by row (3x the cost of reading the column).
    const bool instant = type == "TIMESTAMP WITH TIME ZONE";
    const std::string t = type == "TIMESTAMP" || instant ? q : "TRY_CAST(" + q + " AS TIMESTAMP)";
    const std::string tz = instant ? "TZ" : "";
    const std::string utc = instant ? "+00" : "";
    return std::pair{"CASE WHEN " + q + " IS NULL THEN NULL WHEN " + t + " BETWEEN TIMESTAMP" + tz +
                         " '0001-01-01 00:00:00" + utc + "' AND TIMESTAMP" + tz +
                         " '9999-12-31 23:59:59.999999" + utc + "' THEN " +
                         (instant ? "make_timestamp(epoch_us(" + t + "))" : t) + " ELSE " +
                         fail("holds a timestamp outside the years 1 to 9999", q) + " END",
                     DataType::kTimestamp};
  }
  return InvalidArgument(
      where + " is " + type +
      (type == "LIST" || type == "ARRAY" || type == "STRUCT" || type == "MAP" || type == "UNION"
           ? " (nested)"
           : "") +
      ": Plinth reads flat columns of numbers, booleans, strings and timestamps");
}

// read_parquet over `files` (as literals, not a bound parameter: DuckDB knows a parameter's
// value only when the query runs, too late to describe its columns; ParquetFiles refused names
// it would read as patterns, SqlString quotes). Binary stays binary (Selection decodes it);
// no column comes from the path (hive partitioning would add `dt` from .../dt=2024-01-01/).
std::string Source(const std::vector<std::string>& files) {
  std::string list;
  for (const std::string& f : files) {
    list += (list.empty() ? "" : ", ") + SqlString(f);
  }
  return "read_parquet([" + list + "], binary_as_string = false, hive_partitioning = false)";
}

// The query that reads `files`' columns as Plinth types, with what it reads.
struct Read {
  std::string sql;
  Schema schema;
  std::vector<std::pair<std::string, std::string>> described;  // every column: name, type
};

// SELECT `columns` (all of `described` when empty) FROM `from` with Plinth's type mapping,
// then `extra` (more of the select list, not in the schema) when given.
Result<Read> SelectColumns(const std::vector<std::pair<std::string, std::string>>& described,
                           const std::vector<std::string>& columns, const std::string& from,
                           const std::string& path, const std::string& extra = "") {
  std::vector<std::pair<std::string, std::string>> chosen;
  if (columns.empty()) {
    chosen = described;
  } else {
    for (const std::string& want : columns) {
      auto it = std::find_if(described.begin(), described.end(),
                             [&](const auto& d) { return d.first == want; });
      if (it == described.end()) {
        return InvalidArgument(path + ": no column '" + Printable(want) + "'");
      }
      chosen.push_back(*it);
    }
  }
  Read read;
  std::vector<Field> fields;
  std::string select;
  for (const auto& [name, type] : chosen) {
    PLINTH_ASSIGN_OR_RETURN(auto sel, Selection(path, name, type));
    select += (select.empty() ? "" : ", ") + sel.first + " AS " + SqlIdentifier(name);
    fields.push_back({name, sel.second});
  }
  if (fields.empty()) {
    return InvalidArgument(path + ": no columns");
  }
  read.sql = "SELECT " + select + (extra.empty() ? "" : ", " + extra) + " FROM " + from;
  read.schema = Schema(std::move(fields));
  read.described = described;
  return read;
}

Result<Read> PlanRead(DuckDb& db, const std::string& path, const std::vector<std::string>& files,
                      const std::vector<std::string>& columns) {
  const std::string source = Source(files);
  PLINTH_ASSIGN_OR_RETURN(auto described,
                          db.Describe("SELECT * FROM " + Source({files[0]}), {}, files[0]));
  // DuckDB takes a folder's columns from its first file and casts the others' into them: each
  // file must have the same columns, names and types, or the read is refused naming the file.
  for (size_t i = 1; i < files.size(); ++i) {
    PLINTH_ASSIGN_OR_RETURN(auto other,
                            db.Describe("SELECT * FROM " + Source({files[i]}), {}, files[i]));
    if (other != described) {
      std::string why = "its columns differ from " + files[0] + "'s";
      for (size_t c = 0; c < std::min(other.size(), described.size()); ++c) {
        if (other[c] != described[c]) {
          why = "column " + std::to_string(c + 1) + " is '" + Printable(other[c].first) + "' " +
                other[c].second + ", in " + files[0] + " '" + Printable(described[c].first) + "' " +
                described[c].second;
          break;
        }
      }
      if (other.size() != described.size() && why.starts_with("its")) {
        why = std::to_string(other.size()) + " columns, " + files[0] + " has " +
              std::to_string(described.size());
      }
      return InvalidArgument(files[i] + ": " + why +
                             " (the files of a folder are one table: the same columns)");
    }
  }
  return SelectColumns(described, columns, source, path);
}

Result<DuckDb> Engine() { return DuckDb::Open(); }

}  // namespace

bool IsParquetPath(const std::string& path) {
  if (HasParquetName(path)) {
    return true;
  }
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> ParquetFiles(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return NotFound(core::ErrnoMessage(path));
  }
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      const std::string name = entry.path().filename().string();
      std::error_code type_ec;
      if (HasParquetName(name) && entry.is_regular_file(type_ec) && !entry.is_symlink(type_ec) &&
          !name.starts_with(".")) {
        files.push_back(entry.path().string());
      }
    }
    if (ec) {
      return IoError(path + ": " + ec.message());
    }
    if (files.empty()) {
      return InvalidArgument(path + ": a directory without .parquet files");
    }
    std::sort(files.begin(), files.end());
  } else if (S_ISREG(st.st_mode)) {
    files.push_back(path);
  } else {
    return InvalidArgument(path + ": not a regular file or a directory");
  }
  for (const std::string& f : files) {
    if (f.find_first_of("*?[") != std::string::npos) {
      return InvalidArgument(f + ": a name with * ? or [ (which DuckDB would read as a pattern)");
    }
  }
  return files;
}

Result<ParquetQuery> PlanParquetQuery(DuckDb& db, const std::string& path,
                                      const std::vector<std::string>& columns,
                                      const std::string& place) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> files, ParquetFiles(path));
  PLINTH_ASSIGN_OR_RETURN(Read read, PlanRead(db, path, files, columns));
  // A column of the file named as either virtual column (or as `place`) would be read in its
  // stead: DuckDB's names ignore case.
  const auto taken = [&](const std::string& name) {
    const std::string lower = Lower(name);
    return lower == "file_index" || lower == "file_row_number" || lower == Lower(place);
  };
  if (place.empty() || files.size() >= (size_t{1} << 23) ||
      std::any_of(read.described.begin(), read.described.end(),
                  [&](const auto& d) { return taken(d.first); })) {
    return ParquetQuery{std::move(read.sql), std::move(read.schema)};
  }
  PLINTH_ASSIGN_OR_RETURN(Read placed,
                          SelectColumns(read.described, columns, Source(files), path,
                                        "(CAST(file_index AS BIGINT) << 40) + file_row_number AS " +
                                            SqlIdentifier(place)));
  ParquetQuery q{std::move(placed.sql), std::move(placed.schema)};
  q.has_place = true;
  return q;
}

Result<ParquetQuery> PlanSelectQuery(DuckDb& db, const std::string& sql, const std::string& where,
                                     const std::vector<std::string>& columns) {
  const std::string from = "(" + sql + ")";
  PLINTH_ASSIGN_OR_RETURN(auto described, db.Describe("SELECT * FROM " + from, {}, where));
  PLINTH_ASSIGN_OR_RETURN(Read read, SelectColumns(described, columns, from, where));
  return ParquetQuery{std::move(read.sql), std::move(read.schema)};
}

Result<Schema> ReadParquetSchema(const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> files, ParquetFiles(path));
  PLINTH_ASSIGN_OR_RETURN(DuckDb db, Engine());
  PLINTH_ASSIGN_OR_RETURN(Read read, PlanRead(db, path, files, {}));
  return read.schema;
}

Status ReadParquetChunks(const std::string& path, const std::vector<std::string>& columns,
                         const std::function<Status(Table&&)>& chunk) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> files, ParquetFiles(path));
  PLINTH_ASSIGN_OR_RETURN(DuckDb db, Engine());
  PLINTH_ASSIGN_OR_RETURN(Read read, PlanRead(db, path, files, columns));
  return db.Query(read.sql, {}, path, chunk);
}

Result<Table> ReadParquet(const std::string& path, const std::vector<std::string>& columns) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> files, ParquetFiles(path));
  PLINTH_ASSIGN_OR_RETURN(DuckDb db, Engine());
  PLINTH_ASSIGN_OR_RETURN(Read read, PlanRead(db, path, files, columns));
  std::vector<Column> empty;
  for (const Field& f : read.schema.fields()) {
    empty.emplace_back(f.type);
  }
  Table all(read.schema, std::move(empty));
  PLINTH_RETURN_IF_ERROR(db.Query(read.sql, {}, path, [&](Table&& t) { return all.Append(t); }));
  return all;
}

struct ParquetWriter::State {
  std::string path;
  Schema schema;
  core::AtomicFileWriter out;
  DuckDb db;
};

ParquetWriter::ParquetWriter(std::unique_ptr<State> s) : s_(std::move(s)) {}
ParquetWriter::ParquetWriter(ParquetWriter&&) noexcept = default;
ParquetWriter& ParquetWriter::operator=(ParquetWriter&&) noexcept = default;
ParquetWriter::~ParquetWriter() = default;

std::optional<std::string> NamedTwiceButForCase(const Schema& schema) {
  std::set<std::string> seen;
  for (const Field& f : schema.fields()) {
    if (!seen.insert(Lower(f.name)).second) {
      return Printable(f.name);
    }
  }
  return std::nullopt;
}

Result<ParquetWriter> ParquetWriter::Open(const std::string& path, const Schema& schema) {
  if (schema.size() == 0) {
    return InvalidArgument(path + ": a table without columns cannot be written as Parquet");
  }
  if (const std::optional<std::string> twice = NamedTwiceButForCase(schema)) {
    return InvalidArgument(path + ": two columns named '" + *twice +
                           "' but for case, which Parquet readers such as DuckDB do not "
                           "tell apart");
  }
  PLINTH_ASSIGN_OR_RETURN(core::AtomicFileWriter out, core::AtomicFileWriter::Open(path));
  PLINTH_ASSIGN_OR_RETURN(DuckDb db, Engine());
  PLINTH_RETURN_IF_ERROR(db.Create("plinth_out", schema, path));
  return ParquetWriter(std::make_unique<State>(State{path, schema, std::move(out), std::move(db)}));
}

Status ParquetWriter::Append(const Table& rows) {
  if (rows.schema() != s_->schema) {
    return Internal(s_->path + ": rows of another schema than the file's");
  }
  return s_->db.Append("plinth_out", rows, s_->path);
}

Status ParquetWriter::Commit() {
  std::string select;
  for (const Field& f : s_->schema.fields()) {
    const std::string q = SqlIdentifier(f.name);
    // Timestamps are instants: written as UTC-adjusted (the session's time zone is UTC).
    select += (select.empty() ? "" : ", ") +
              (f.type == DataType::kTimestamp ? "CAST(" + q + " AS TIMESTAMPTZ) AS " + q : q);
  }
  std::string target = s_->out.temp_path();
  const bool copied = target.empty();
  if (copied) {
    // A device or pipe: DuckDB writes a file in its own scratch folder (removed with it),
    // copied through.
    if (s_->db.scratch_dir().empty()) {
      return Internal(s_->path + ": DuckDB has no scratch folder to write into");
    }
    target = s_->db.scratch_dir() + "/plinth-out.parquet";
  }
  // Written in place (USE_TMP_FILE false): the writer's temporary is what Commit renames.
  PLINTH_RETURN_IF_ERROR(s_->db.Exec("COPY (SELECT " + select + " FROM plinth_out) TO " +
                                         SqlString(target) +
                                         " (FORMAT parquet, COMPRESSION snappy, USE_TMP_FILE "
                                         "false)",
                                     s_->path));
  if (copied) {
    Status appended;
    PLINTH_RETURN_IF_ERROR(core::ReadFileChunks(target, [&](std::string_view piece) {
      if (appended.ok()) {
        appended = s_->out.Append(piece);
      }
    }));
    PLINTH_RETURN_IF_ERROR(appended);
  }
  return s_->out.Commit();
}

Status WriteParquet(const Table& t, const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(ParquetWriter w, ParquetWriter::Open(path, t.schema()));
  PLINTH_RETURN_IF_ERROR(w.Append(t));
  return w.Commit();
}

}  // namespace plinth::table
