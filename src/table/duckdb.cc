#include "table/duckdb.h"

#include <duckdb.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

namespace plinth::table {
namespace {

// DuckDB's message, first line only ("Conversion Error: ..."; the SQL excerpt and caret that
// follow name Plinth's own query, not the user's input).
std::string FirstLine(const char* message) {
  std::string m = message == nullptr ? "unknown error" : message;
  const size_t nl = m.find('\n');
  if (nl != std::string::npos) {
    m.resize(nl);
  }
  while (!m.empty() && (m.back() == ' ' || m.back() == '\r')) {
    m.pop_back();
  }
  return m;
}

// Marks the messages SqlRaise raises (unit separators around a name: nothing a value holds
// by chance in front of Plinth's own text).
constexpr std::string_view kOwnMark = "\x1fplinth\x1f";

Status Failed(std::string_view what, const char* message) {
  std::string m = FirstLine(message);
  // A message Plinth wrote itself (SqlRaise) already names what it is about.
  if (const size_t own = m.find(kOwnMark); own != std::string::npos) {
    return InvalidArgument(m.substr(own + kOwnMark.size()));
  }
  const size_t kind = m.find(" Error: ");
  if (kind != std::string::npos && std::string_view(m).substr(kind + 8).starts_with(what)) {
    return InvalidArgument(m.substr(kind + 8));
  }
  return InvalidArgument(std::string(what) + ": " + m);
}

// The name Plinth gives a DuckDB type in messages and to Describe's callers.
std::string TypeText(duckdb_logical_type type) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN:
      return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT:
      return "TINYINT";
    case DUCKDB_TYPE_SMALLINT:
      return "SMALLINT";
    case DUCKDB_TYPE_INTEGER:
      return "INTEGER";
    case DUCKDB_TYPE_BIGINT:
      return "BIGINT";
    case DUCKDB_TYPE_UTINYINT:
      return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT:
      return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER:
      return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT:
      return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT:
      return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT:
      return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT:
      return "FLOAT";
    case DUCKDB_TYPE_DOUBLE:
      return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL:
      return "DECIMAL";
    case DUCKDB_TYPE_VARCHAR:
      return "VARCHAR";
    case DUCKDB_TYPE_BLOB:
      return "BLOB";
    case DUCKDB_TYPE_ENUM:
      return "ENUM";
    case DUCKDB_TYPE_UUID:
      return "UUID";
    case DUCKDB_TYPE_DATE:
      return "DATE";
    case DUCKDB_TYPE_TIME:
      return "TIME";
    case DUCKDB_TYPE_TIME_TZ:
      return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP:
      return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_S:
      return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return "TIMESTAMP_NS";
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_INTERVAL:
      return "INTERVAL";
    case DUCKDB_TYPE_LIST:
      return "LIST";
    case DUCKDB_TYPE_ARRAY:
      return "ARRAY";
    case DUCKDB_TYPE_STRUCT:
      return "STRUCT";
    case DUCKDB_TYPE_MAP:
      return "MAP";
    case DUCKDB_TYPE_UNION:
      return "UNION";
    case DUCKDB_TYPE_BIT:
      return "BIT";
    case DUCKDB_TYPE_SQLNULL:
      return "NULL";
    default:
      return "an unsupported type";
  }
}

// Owns a DuckDB handle and calls its destroy function at scope exit.
template <typename T, void (*kDestroy)(T*)>
class Owned {
 public:
  Owned() = default;
  explicit Owned(T v) : v_(v) {}
  ~Owned() {
    if (v_ != nullptr) {
      kDestroy(&v_);
    }
  }
  Owned(Owned&& other) noexcept : v_(std::exchange(other.v_, nullptr)) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned& operator=(Owned&&) = delete;
  T* out() { return &v_; }
  T get() const { return v_; }

 private:
  T v_ = nullptr;
};

void DestroyAppender(duckdb_appender* a) { duckdb_appender_destroy(a); }

using Prepared = Owned<duckdb_prepared_statement, duckdb_destroy_prepare>;
using LogicalType = Owned<duckdb_logical_type, duckdb_destroy_logical_type>;
using Value = Owned<duckdb_value, duckdb_destroy_value>;
using Chunk = Owned<duckdb_data_chunk, duckdb_destroy_data_chunk>;
using Appender = Owned<duckdb_appender, DestroyAppender>;

// The column of a result of DuckDB type `id` as a Plinth type.
std::optional<DataType> PlinthType(duckdb_type id) {
  switch (id) {
    case DUCKDB_TYPE_BIGINT:
      return DataType::kInt64;
    case DUCKDB_TYPE_DOUBLE:
      return DataType::kFloat64;
    case DUCKDB_TYPE_BOOLEAN:
      return DataType::kBool;
    case DUCKDB_TYPE_VARCHAR:
      return DataType::kString;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return DataType::kTimestamp;
    default:
      return std::nullopt;
  }
}

duckdb_type DuckType(DataType t) {
  switch (t) {
    case DataType::kInt64:
      return DUCKDB_TYPE_BIGINT;
    case DataType::kFloat64:
      return DUCKDB_TYPE_DOUBLE;
    case DataType::kBool:
      return DUCKDB_TYPE_BOOLEAN;
    case DataType::kString:
      return DUCKDB_TYPE_VARCHAR;
    case DataType::kTimestamp:
      return DUCKDB_TYPE_TIMESTAMP;
  }
  return DUCKDB_TYPE_VARCHAR;
}

// Appends a chunk's vector of `rows` values to `out`.
void AppendVector(duckdb_vector vector, idx_t rows, Column& out) {
  const uint64_t* validity = duckdb_vector_get_validity(vector);
  void* data = duckdb_vector_get_data(vector);
  auto valid = [&](idx_t i) {
    return validity == nullptr || duckdb_validity_row_is_valid(const_cast<uint64_t*>(validity), i);
  };
  out.Reserve(out.size() + static_cast<int64_t>(rows));
  switch (out.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const auto* v = static_cast<const int64_t*>(data);
      for (idx_t i = 0; i < rows; ++i) {
        valid(i) ? out.AppendInt(v[i]) : out.AppendNull();
      }
      break;
    }
    case DataType::kFloat64: {
      const auto* v = static_cast<const double*>(data);
      for (idx_t i = 0; i < rows; ++i) {
        valid(i) ? out.AppendDouble(v[i]) : out.AppendNull();
      }
      break;
    }
    case DataType::kBool: {
      const auto* v = static_cast<const bool*>(data);
      for (idx_t i = 0; i < rows; ++i) {
        valid(i) ? out.AppendBool(v[i]) : out.AppendNull();
      }
      break;
    }
    case DataType::kString: {
      auto* v = static_cast<duckdb_string_t*>(data);
      for (idx_t i = 0; i < rows; ++i) {
        if (!valid(i)) {
          out.AppendNull();
          continue;
        }
        out.AppendString(
            std::string_view(duckdb_string_t_data(&v[i]), duckdb_string_t_length(v[i])));
      }
      break;
    }
  }
}

// Rows [begin, begin + rows) of `col` into `v` (of the column's DuckDB type).
void FillVector(duckdb_vector v, const Column& col, int64_t begin, int64_t rows) {
  void* data = duckdb_vector_get_data(v);
  uint64_t* validity = nullptr;
  if (col.null_count() > 0) {
    duckdb_vector_ensure_validity_writable(v);
    validity = duckdb_vector_get_validity(v);
  }
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t at = begin + i;
    const auto row = static_cast<idx_t>(i);
    if (col.IsNull(at)) {
      duckdb_validity_set_row_invalid(validity, row);
      continue;
    }
    if (validity != nullptr) {
      duckdb_validity_set_row_valid(validity, row);
    }
    switch (col.type()) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        static_cast<int64_t*>(data)[row] = col.ints()[static_cast<size_t>(at)];
        break;
      case DataType::kFloat64:
        static_cast<double*>(data)[row] = col.doubles()[static_cast<size_t>(at)];
        break;
      case DataType::kBool:
        static_cast<bool*>(data)[row] = col.bools()[static_cast<size_t>(at)] != 0;
        break;
      case DataType::kString: {
        const std::string_view s = col.GetString(at);
        duckdb_vector_assign_string_element_len(v, row, s.data(), s.size());
        break;
      }
    }
  }
}

}  // namespace

struct DuckDb::Handles {
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
  std::string spill_dir;  // made for this database, removed with it
  ~Handles() {
    if (con != nullptr) {
      duckdb_disconnect(&con);
    }
    if (db != nullptr) {
      duckdb_close(&db);
    }
    if (!spill_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(spill_dir, ec);
    }
  }
};

DuckDb::DuckDb(std::unique_ptr<Handles> h) : h_(std::move(h)) {}

const std::string& DuckDb::scratch_dir() const { return h_->spill_dir; }
DuckDb::DuckDb(DuckDb&& other) noexcept = default;
DuckDb& DuckDb::operator=(DuckDb&& other) noexcept = default;
DuckDb::~DuckDb() = default;

Result<DuckDb> DuckDb::Open(const DuckDbOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) {
    return Internal("DuckDB: cannot create a configuration");
  }
  std::vector<std::pair<std::string, std::string>> settings = {
      // Nothing from the network, nothing loaded behind Plinth's back.
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"}};
  if (options.threads > 0) {
    settings.emplace_back("threads", std::to_string(options.threads));
  }
  if (!options.memory_limit.empty()) {
    settings.emplace_back("memory_limit", options.memory_limit);
  }
  auto h = std::make_unique<Handles>();
  if (!options.temp_directory.empty()) {
    settings.emplace_back("temp_directory", options.temp_directory);
  } else {
    // A private folder under $TMPDIR: DuckDB's own default is ./.tmp, in whatever directory
    // the command runs in.
    const char* tmp = std::getenv("TMPDIR");
    std::string dir =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/plinth-duckdb-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) {
      duckdb_destroy_config(&config);
      return IoError("DuckDB's spill folder: " + dir + ": " + std::strerror(errno));
    }
    h->spill_dir = dir;
    settings.emplace_back("temp_directory", dir);
  }
  for (const auto& [key, value] : settings) {
    if (duckdb_set_config(config, key.c_str(), value.c_str()) == DuckDBError) {
      duckdb_destroy_config(&config);
      return InvalidArgument("DuckDB: the setting " + key + " = '" + value + "' was refused");
    }
  }
  char* error = nullptr;
  const duckdb_state opened = duckdb_open_ext(nullptr, &h->db, config, &error);
  duckdb_destroy_config(&config);
  if (opened == DuckDBError) {
    Status s = Internal("DuckDB: cannot open an in-memory database: " + FirstLine(error));
    duckdb_free(error);
    return s;
  }
  if (duckdb_connect(h->db, &h->con) == DuckDBError) {
    return Internal("DuckDB: cannot connect to its in-memory database");
  }
  DuckDb db(std::move(h));
  // Timestamps with a time zone are instants, read and written in UTC whatever the machine's.
  PLINTH_RETURN_IF_ERROR(db.Exec("SET TimeZone = 'UTC'", "DuckDB"));
  return db;
}

Status DuckDb::Confine(const std::vector<std::string>& files, std::string_view what) {
  std::string paths;
  for (const std::string& f : files) {
    paths += (paths.empty() ? "" : ", ") + SqlString(f);
  }
  std::string sql = "SET allowed_paths = [" + paths + "]; ";
  if (!h_->spill_dir.empty()) {
    sql += "SET allowed_directories = [" + SqlString(h_->spill_dir + "/") + "]; ";
  }
  sql += "SET enable_external_access = false; SET lock_configuration = true;";
  return Exec(sql, what);
}

Status DuckDb::CheckSingleSelect(std::string_view sql, std::string_view what) {
  const std::string text(sql);
  duckdb_extracted_statements statements = nullptr;
  const idx_t n = duckdb_extract_statements(h_->con, text.c_str(), &statements);
  Status s = Status::Ok();
  if (n == 0) {
    s = InvalidArgument(std::string(what) + ": " +
                        FirstLine(duckdb_extract_statements_error(statements)));
  } else if (n > 1) {
    s = InvalidArgument(std::string(what) + ": expected one SELECT statement, found " +
                        std::to_string(n));
  }
  duckdb_destroy_extracted(&statements);
  if (!s.ok()) {
    return s;
  }
  // A statement's kind is known only once prepared, which needs its tables; its first word
  // tells a query from COPY, ATTACH, SET, INSERT, ... (a query runs confined, see Confine).
  // The first word after spaces and comments (-- to the end of a line, /* ... */).
  std::string_view t = sql;
  while (true) {
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) {
      t.remove_prefix(1);
    }
    if (t.starts_with("--")) {
      const size_t nl = t.find('\n');
      t = nl == std::string_view::npos ? std::string_view() : t.substr(nl + 1);
    } else if (t.starts_with("/*")) {
      const size_t end = t.find("*/", 2);
      t = end == std::string_view::npos ? std::string_view() : t.substr(end + 2);
    } else {
      break;
    }
  }
  std::string word;
  for (char c : t.substr(0, 8)) {
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      break;
    }
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (word != "SELECT" && word != "WITH" && word != "FROM") {
    return InvalidArgument(std::string(what) + ": expected a SELECT statement");
  }
  return Status::Ok();
}

Status DuckDb::Exec(std::string_view sql, std::string_view what) {
  duckdb_result result;
  const std::string text(sql);
  const duckdb_state state = duckdb_query(h_->con, text.c_str(), &result);
  Status s = state == DuckDBError ? Failed(what, duckdb_result_error(&result)) : Status::Ok();
  duckdb_destroy_result(&result);
  return s;
}

namespace {

// Prepares `sql` on `con` and binds `params` to $1, $2, ...
Status Prepare(duckdb_connection con, std::string_view sql, const std::vector<DuckDbParam>& params,
               std::string_view what, Prepared& st) {
  const std::string text(sql);
  if (duckdb_prepare(con, text.c_str(), st.out()) == DuckDBError) {
    return Failed(what, duckdb_prepare_error(st.get()));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const idx_t at = i + 1;
    duckdb_state bound = DuckDBSuccess;
    if (const auto* s = std::get_if<std::string>(&params[i])) {
      bound = duckdb_bind_varchar_length(st.get(), at, s->data(), s->size());
    } else if (const auto* n = std::get_if<int64_t>(&params[i])) {
      bound = duckdb_bind_int64(st.get(), at, *n);
    } else {
      const auto& list = std::get<std::vector<std::string>>(params[i]);
      std::vector<Value> owned;
      owned.reserve(list.size());
      std::vector<duckdb_value> values;
      for (const std::string& item : list) {
        owned.emplace_back(duckdb_create_varchar_length(item.data(), item.size()));
        if (owned.back().get() == nullptr) {  // not UTF-8
          return InvalidArgument(std::string(what) + ": parameter $" + std::to_string(at) +
                                 " is not UTF-8 text");
        }
        values.push_back(owned.back().get());
      }
      LogicalType varchar(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
      Value value(duckdb_create_list_value(varchar.get(), values.data(), values.size()));
      bound = duckdb_bind_value(st.get(), at, value.get());
    }
    if (bound == DuckDBError) {
      return Internal(std::string(what) + ": DuckDB refused parameter $" + std::to_string(at));
    }
  }
  return Status::Ok();
}

}  // namespace

Status DuckDb::Query(std::string_view sql, const std::vector<DuckDbParam>& params,
                     std::string_view what, const std::function<Status(Table&&)>& chunk) {
  Prepared st;
  PLINTH_RETURN_IF_ERROR(Prepare(h_->con, sql, params, what, st));
  duckdb_result result{};
  if (duckdb_execute_prepared_streaming(st.get(), &result) == DuckDBError) {
    Status s = Failed(what, duckdb_result_error(&result));
    duckdb_destroy_result(&result);
    return s;
  }
  struct ResultGuard {
    duckdb_result* r;
    ~ResultGuard() { duckdb_destroy_result(r); }
  } guard{&result};
  const idx_t columns = duckdb_column_count(&result);
  std::vector<Field> fields;
  for (idx_t c = 0; c < columns; ++c) {
    const duckdb_type id = duckdb_column_type(&result, c);
    std::optional<DataType> type = PlinthType(id);
    const char* name = duckdb_column_name(&result, c);
    if (!type) {
      LogicalType logical(duckdb_column_logical_type(&result, c));
      return Internal(std::string(what) + ": column '" + (name != nullptr ? name : "?") +
                      "' came back as " + TypeText(logical.get()) + ", which Plinth does not read");
    }
    fields.push_back({name != nullptr ? name : "", *type});
  }
  while (true) {
    Chunk piece(duckdb_fetch_chunk(result));
    if (piece.get() == nullptr) {
      // The end, or an error met while streaming.
      const char* error = duckdb_result_error(&result);
      if (error != nullptr && *error != '\0') {
        return Failed(what, error);
      }
      return Status::Ok();
    }
    const idx_t rows = duckdb_data_chunk_get_size(piece.get());
    if (rows == 0) {
      continue;
    }
    std::vector<Column> cols;
    cols.reserve(columns);
    for (idx_t c = 0; c < columns; ++c) {
      cols.emplace_back(fields[c].type);
      AppendVector(duckdb_data_chunk_get_vector(piece.get(), c), rows, cols.back());
    }
    PLINTH_RETURN_IF_ERROR(chunk(Table(Schema(fields), std::move(cols))));
  }
}

Result<Table> DuckDb::QueryTable(std::string_view sql, const std::vector<DuckDbParam>& params,
                                 std::string_view what) {
  Table all;
  bool first = true;
  PLINTH_RETURN_IF_ERROR(Query(sql, params, what, [&](Table&& t) {
    if (first) {
      all = std::move(t);
      first = false;
      return Status::Ok();
    }
    return all.Append(t);
  }));
  if (first) {
    // No rows: the schema still, from a description of the query.
    PLINTH_ASSIGN_OR_RETURN(auto described, Describe(sql, params, what));
    std::vector<Field> fields;
    std::vector<Column> cols;
    for (const auto& [name, type] : described) {
      DataType t = DataType::kString;
      if (type == "BIGINT") {
        t = DataType::kInt64;
      } else if (type == "DOUBLE") {
        t = DataType::kFloat64;
      } else if (type == "BOOLEAN") {
        t = DataType::kBool;
      } else if (type == "TIMESTAMP" || type == "TIMESTAMP WITH TIME ZONE") {
        t = DataType::kTimestamp;
      } else if (type != "VARCHAR") {
        // As Query refuses it when there are rows.
        return Internal(std::string(what) + ": column '" + name + "' came back as " + type +
                        ", which Plinth does not read");
      }
      fields.push_back({name, t});
      cols.emplace_back(t);
    }
    all = Table(Schema(std::move(fields)), std::move(cols));
  }
  return all;
}

Result<std::vector<std::pair<std::string, std::string>>> DuckDb::Describe(
    std::string_view sql, const std::vector<DuckDbParam>& params, std::string_view what) {
  Prepared st;
  PLINTH_RETURN_IF_ERROR(Prepare(h_->con, sql, params, what, st));
  std::vector<std::pair<std::string, std::string>> out;
  const idx_t n = duckdb_prepared_statement_column_count(st.get());
  for (idx_t c = 0; c < n; ++c) {
    const char* name = duckdb_prepared_statement_column_name(st.get(), c);
    LogicalType type(duckdb_prepared_statement_column_logical_type(st.get(), c));
    out.emplace_back(name != nullptr ? name : "", TypeText(type.get()));
    duckdb_free(const_cast<char*>(name));
  }
  return out;
}

Status DuckDb::Create(const std::string& name, const Schema& schema, std::string_view what) {
  std::string create = "CREATE OR REPLACE TABLE " + SqlIdentifier(name) + " (";
  const std::vector<Field>& fields = schema.fields();
  for (size_t c = 0; c < fields.size(); ++c) {
    static constexpr const char* kNames[] = {"BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR", "TIMESTAMP"};
    create += (c > 0 ? ", " : "") + SqlIdentifier(fields[c].name) + " " +
              kNames[static_cast<int>(fields[c].type)];
  }
  create += ")";
  return Exec(create, what);
}

Status DuckDb::Append(const std::string& name, const Table& t, std::string_view what) {
  const std::vector<Field>& fields = t.schema().fields();
  Appender appender;
  if (duckdb_appender_create(h_->con, nullptr, name.c_str(), appender.out()) == DuckDBError) {
    return Failed(what, duckdb_appender_error(appender.get()));
  }
  std::vector<LogicalType> owned;
  std::vector<duckdb_logical_type> types;
  for (const Field& f : fields) {
    owned.emplace_back(duckdb_create_logical_type(DuckType(f.type)));
    types.push_back(owned.back().get());
  }
  const auto capacity = static_cast<int64_t>(duckdb_vector_size());
  Chunk piece(duckdb_create_data_chunk(types.data(), types.size()));
  for (int64_t begin = 0; begin < t.num_rows(); begin += capacity) {
    const int64_t rows = std::min(capacity, t.num_rows() - begin);
    duckdb_data_chunk_reset(piece.get());
    for (size_t c = 0; c < fields.size(); ++c) {
      FillVector(duckdb_data_chunk_get_vector(piece.get(), c), t.column(c), begin, rows);
    }
    duckdb_data_chunk_set_size(piece.get(), static_cast<idx_t>(rows));
    if (duckdb_append_data_chunk(appender.get(), piece.get()) == DuckDBError) {
      return Failed(what, duckdb_appender_error(appender.get()));
    }
  }
  if (duckdb_appender_close(appender.get()) == DuckDBError) {
    return Failed(what, duckdb_appender_error(appender.get()));
  }
  return Status::Ok();
}

namespace {

// What a table function registered by DuckDb::Scan reads: the table, and whether it numbers
// the rows in a last column.
struct ScanSource {
  std::shared_ptr<const Table> table;
  std::string row_column;
};

// One scan's progress, shared by the threads that run it: the next row not handed out yet,
// and the columns asked for (projection pushdown; the table's count stands for the row number).
struct ScanState {
  std::atomic<int64_t> next{0};
  std::vector<idx_t> columns;
};

void ScanBind(duckdb_bind_info info) {
  const auto* src = static_cast<const ScanSource*>(duckdb_bind_get_extra_info(info));
  for (const Field& f : src->table->schema().fields()) {
    LogicalType type(duckdb_create_logical_type(DuckType(f.type)));
    duckdb_bind_add_result_column(info, f.name.c_str(), type.get());
  }
  if (!src->row_column.empty()) {
    LogicalType type(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
    duckdb_bind_add_result_column(info, src->row_column.c_str(), type.get());
  }
  duckdb_bind_set_cardinality(info, static_cast<idx_t>(src->table->num_rows()), true);
}

void ScanInit(duckdb_init_info info) {
  auto* state = new ScanState();
  const idx_t n = duckdb_init_get_column_count(info);
  for (idx_t i = 0; i < n; ++i) {
    state->columns.push_back(duckdb_init_get_column_index(info, i));
  }
  duckdb_init_set_init_data(info, state, [](void* p) { delete static_cast<ScanState*>(p); });
  // Threads take 2,048 rows at a time (each numbered by its place in the table, whichever
  // thread reads it), one per 100,000 rows: a small table is read by one.
  const auto* src = static_cast<const ScanSource*>(duckdb_init_get_extra_info(info));
  duckdb_init_set_max_threads(info, static_cast<idx_t>(src->table->num_rows() / 100000 + 1));
}

void ScanRows(duckdb_function_info info, duckdb_data_chunk output) {
  const auto* src = static_cast<const ScanSource*>(duckdb_function_get_extra_info(info));
  auto* state = static_cast<ScanState*>(duckdb_function_get_init_data(info));
  const Table& t = *src->table;
  const auto size = static_cast<int64_t>(duckdb_vector_size());
  const int64_t begin = state->next.fetch_add(size);
  const int64_t rows = std::clamp<int64_t>(t.num_rows() - begin, 0, size);
  for (size_t i = 0; i < state->columns.size(); ++i) {
    duckdb_vector v = duckdb_data_chunk_get_vector(output, i);
    const idx_t c = state->columns[i];
    if (c < t.num_columns()) {
      FillVector(v, t.column(c), begin, rows);
      continue;
    }
    auto* data = static_cast<int64_t*>(duckdb_vector_get_data(v));
    for (int64_t r = 0; r < rows; ++r) {
      data[r] = begin + r;
    }
  }
  duckdb_data_chunk_set_size(output, static_cast<idx_t>(rows));
}

}  // namespace

Status DuckDb::Scan(const std::string& name, std::shared_ptr<const Table> t,
                    const std::string& row_column, std::string_view what) {
  Owned<duckdb_table_function, duckdb_destroy_table_function> fn(duckdb_create_table_function());
  duckdb_table_function_set_name(fn.get(), name.c_str());
  auto* src = new ScanSource{std::move(t), row_column};
  duckdb_table_function_set_extra_info(fn.get(), src,
                                       [](void* p) { delete static_cast<ScanSource*>(p); });
  duckdb_table_function_set_bind(fn.get(), ScanBind);
  duckdb_table_function_set_init(fn.get(), ScanInit);
  duckdb_table_function_set_function(fn.get(), ScanRows);
  duckdb_table_function_supports_projection_pushdown(fn.get(), true);
  if (duckdb_register_table_function(h_->con, fn.get()) == DuckDBError) {
    return Internal(std::string(what) + ": DuckDB refused the table function " + name);
  }
  return Status::Ok();
}

std::string SqlIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

std::string SqlRaise(const std::string& text) {
  return "error(chr(31) || 'plinth' || chr(31) || " + text + ")";
}

std::string SqlString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') {
      out += '\'';
    }
  }
  return out + "'";
}

}  // namespace plinth::table
