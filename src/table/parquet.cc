#include "table/parquet.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "core/file.h"
#include "table/duckdb.h"

namespace plinth::table {
namespace {

bool EndsWithParquet(std::string_view name) {
  if (name.size() < 8) {
    return false;
  }
  std::string tail(name.substr(name.size() - 8));
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return tail == ".parquet";
}

// How a column of DuckDB type `type` is selected as a Plinth type: the SQL expression over
// the quoted column `q`, or an error.
Result<std::pair<std::string, DataType>> Selection(const std::string& path, const std::string& name,
                                                   const std::string& type) {
  const std::string q = SqlIdentifier(name);
  if (type == "BOOLEAN") {
    return std::pair{q, DataType::kBool};
  }
  if (type == "BIGINT") {
    return std::pair{q, DataType::kInt64};
  }
  for (const char* t : {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER",
                        "UBIGINT", "HUGEINT", "UHUGEINT"}) {
    if (type == t) {
      return std::pair{"CAST(" + q + " AS BIGINT)", DataType::kInt64};
    }
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
  if (type == "ENUM" || type == "UUID" || type == "BLOB") {
    return std::pair{"CAST(" + q + " AS VARCHAR)", DataType::kString};
  }
  if (type.starts_with("TIMESTAMP") || type == "DATE") {
    // Within the years 1 to 9999 (what Plinth reads and writes as text), else an error: a
    // value beyond them is one DuckDB may not have read exactly (an INT96 timestamp of the
    // year 290000 comes back wrapped around), never passed on as a wrong instant.
    const std::string t = type == "TIMESTAMP" || type == "TIMESTAMP WITH TIME ZONE"
                              ? q
                              : "CAST(" + q + " AS TIMESTAMP)";
    return std::pair{"CASE WHEN " + t + " IS NULL OR " + t +
                         " BETWEEN TIMESTAMP '0001-01-01' AND TIMESTAMP "
                         "'9999-12-31 23:59:59.999999' THEN " +
                         t + " ELSE error(" +
                         SqlString(path + ": column '" + name +
                                   "' holds a timestamp outside the years 1 to 9999: ") +
                         " || CAST(" + t + " AS VARCHAR)) END",
                     DataType::kTimestamp};
  }
  return InvalidArgument(
      path + ": column '" + name + "' is " + type +
      (type == "LIST" || type == "ARRAY" || type == "STRUCT" || type == "MAP" || type == "UNION"
           ? " (nested)"
           : "") +
      ": Plinth reads flat columns of numbers, booleans, strings and "
      "timestamps");
}

// The query that reads `files`' columns as Plinth types, with what it reads.
struct Read {
  std::string sql;
  Schema schema;
};

Result<Read> PlanRead(DuckDb& db, const std::string& path, const std::vector<std::string>& files,
                      const std::vector<std::string>& columns) {
  // The files as literals, not a bound parameter: DuckDB knows a parameter's value only when
  // the query runs, too late to describe its columns. (ParquetFiles refused names it would
  // read as patterns; SqlString quotes.)
  std::string list;
  for (const std::string& f : files) {
    list += (list.empty() ? "" : ", ") + SqlString(f);
  }
  // binary_as_string: many writers (parquet-mr, Impala) store strings as unannotated binary.
  const std::string source = "read_parquet([" + list + "], binary_as_string = true)";
  PLINTH_ASSIGN_OR_RETURN(auto described, db.Describe("SELECT * FROM " + source, {}, path));
  std::vector<std::pair<std::string, std::string>> chosen;
  if (columns.empty()) {
    chosen = described;
  } else {
    for (const std::string& want : columns) {
      auto it = std::find_if(described.begin(), described.end(),
                             [&](const auto& d) { return d.first == want; });
      if (it == described.end()) {
        return InvalidArgument(path + ": no column '" + want + "'");
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
  read.sql = "SELECT " + select + " FROM " + source;
  read.schema = Schema(std::move(fields));
  return read;
}

Result<DuckDb> Engine() { return DuckDb::Open(); }

}  // namespace

bool IsParquetPath(const std::string& path) {
  if (EndsWithParquet(path)) {
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
      if (EndsWithParquet(name) && entry.is_regular_file(type_ec) && !entry.is_symlink(type_ec) &&
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

Result<ParquetWriter> ParquetWriter::Open(const std::string& path, const Schema& schema) {
  if (schema.size() == 0) {
    return InvalidArgument(path + ": a table without columns cannot be written as Parquet");
  }
  PLINTH_ASSIGN_OR_RETURN(core::AtomicFileWriter out, core::AtomicFileWriter::Open(path));
  PLINTH_ASSIGN_OR_RETURN(DuckDb db, Engine());
  PLINTH_RETURN_IF_ERROR(db.Create("plinth_out", schema, path));
  return ParquetWriter(std::make_unique<State>(State{path, schema, std::move(out), std::move(db)}));
}

Status ParquetWriter::Append(const Table& rows) {
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
  std::string private_dir;
  if (target.empty()) {
    // A device or pipe: DuckDB writes a private file, copied through.
    std::string dir_template =
        std::string(std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp") +
        "/plinth-parquet-XXXXXX";
    if (::mkdtemp(dir_template.data()) == nullptr) {
      return IoError(core::ErrnoMessage(dir_template));
    }
    private_dir = dir_template;
    target = private_dir + "/out.parquet";
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    }
  } cleanup{private_dir};
  // Written in place (USE_TMP_FILE false): the writer's temporary is what Commit renames.
  PLINTH_RETURN_IF_ERROR(s_->db.Exec("COPY (SELECT " + select + " FROM plinth_out) TO " +
                                         SqlString(target) +
                                         " (FORMAT parquet, COMPRESSION snappy, USE_TMP_FILE "
                                         "false)",
                                     s_->path));
  if (!private_dir.empty()) {
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
