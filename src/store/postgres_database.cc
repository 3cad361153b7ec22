#include "store/postgres_database.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <string>
#include <unordered_map>

namespace plinth::store {
namespace {

// Type OIDs from PostgreSQL's pg_type catalogue (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// The one place PostgreSQL's SQLSTATE codes become Status.
Status FromResult(const PGresult* res, PGconn* conn, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string text = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  std::string msg = std::string(what) + ": " + text;
  std::string_view s = state ? state : "";
  if (s.substr(0, 2) == "23") {  // integrity constraint violation
    return FailedPrecondition(msg);
  }
  if (s == "40001" || s == "40P01" || s == "55P03" || s.substr(0, 2) == "08" ||
      s.substr(0, 2) == "57") {  // serialization, deadlock, lock, connection, shutdown
    return Unavailable(msg);
  }
  if (s.substr(0, 2) == "42" || s.substr(0, 2) == "22" || s == "07001" || s == "08P01") {
    return InvalidArgument(msg);  // syntax/undefined object, bad data, parameter count
  }
  if (s.empty() && PQstatus(conn) != CONNECTION_OK) {
    return Unavailable(msg);
  }
  return Internal(msg);
}

std::string DoubleText(double d) {
  if (std::isnan(d)) {
    return "NaN";
  }
  if (std::isinf(d)) {
    return d > 0 ? "Infinity" : "-Infinity";
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);  // shortest text that reads back exactly
  return std::string(buf, r.ptr);
}

class PostgresDatabase : public Database {
 public:
  PostgresDatabase(PGconn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}
  ~PostgresDatabase() override { PQfinish(conn_); }

  Engine engine() const override { return Engine::kPostgres; }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    PGresult* res = PQexec(conn_, text.c_str());
    Status s = Check(res);
    PQclear(res);
    return s;
  }

  int64_t LastInsertId() override {
    // The last value a sequence (a SERIAL or IDENTITY column) gave this session.
    Result<std::vector<Row>> rows = Query("SELECT lastval()", {});
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : 0;
  }

 private:
  Status Check(PGresult* res) {
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
      return Status::Ok();
    }
    return FromResult(res, conn_, name_);
  }

  // Prepares `sql` once per parameter type signature and reuses it.
  Result<const std::string*> Prepared(std::string_view sql, std::span<const Value> params,
                                      const std::vector<Oid>& types) {
    std::string key(sql);
    key.push_back('\0');
    for (Oid t : types) {
      key += std::to_string(t) + ",";
    }
    if (auto it = statements_.find(key); it != statements_.end()) {
      return &it->second;
    }
    std::string name = "plinth_" + std::to_string(statements_.size());
    int expected = 0;
    std::string text = PostgresPlaceholders(sql, &expected);
    if (expected != static_cast<int>(params.size())) {
      return InvalidArgument(name_ + ": statement takes " + std::to_string(expected) +
                             " parameters, got " + std::to_string(params.size()));
    }
    PGresult* res =
        PQprepare(conn_, name.c_str(), text.c_str(), static_cast<int>(params.size()), types.data());
    Status s = Check(res);
    PQclear(res);
    PLINTH_RETURN_IF_ERROR(s);
    return &statements_.emplace(std::move(key), std::move(name)).first->second;
  }

  std::string_view BeginStatement() const override { return "BEGIN"; }
  // One advisory lock for every serialized writer of the database (the
  // migrations take another).
  Status LockWriters() override {
    return ExecScript("SELECT pg_advisory_xact_lock(7306086862939178867)");
  }

  Status Run(std::string_view sql, std::span<const Value> params, std::vector<Row>* rows) override {
    std::vector<Oid> types(params.size(), 0);
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (const auto* x = std::get_if<int64_t>(&v)) {
        types[i] = kInt8Oid;
        text[i] = std::to_string(*x);
      } else if (const auto* d = std::get_if<double>(&v)) {
        types[i] = kFloat8Oid;
        text[i] = DoubleText(*d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        // PostgreSQL text holds no NUL, and libpq would cut the value at one: "alice\0x"
        // would be stored, or matched, as "alice". Refused, as SQLite keeps it whole.
        if (s->find('\0') != std::string::npos) {
          return InvalidArgument("a text value contains a NUL byte, which PostgreSQL cannot store");
        }
        text[i] = *s;  // type inferred from where it is used, text by default
      } else {
        continue;  // NULL
      }
      values[i] = text[i].c_str();
    }
    PLINTH_ASSIGN_OR_RETURN(const std::string* name, Prepared(sql, params, types));
    PGresult* res = PQexecPrepared(conn_, name->c_str(), static_cast<int>(params.size()),
                                   values.data(), nullptr, nullptr, 0);
    Status s = Check(res);
    if (s.ok() && rows != nullptr && PQresultStatus(res) == PGRES_TUPLES_OK) {
      const int n = PQntuples(res);
      const int cols = PQnfields(res);
      rows->reserve(static_cast<size_t>(n));
      for (int r = 0; r < n; ++r) {
        std::vector<Value> out;
        out.reserve(static_cast<size_t>(cols));
        for (int c = 0; c < cols; ++c) {
          if (PQgetisnull(res, r, c)) {
            out.emplace_back(std::monostate());
            continue;
          }
          std::string_view cell(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c)));
          switch (PQftype(res, c)) {
            case kInt2Oid:
            case kInt4Oid:
            case kInt8Oid: {
              int64_t x = 0;
              std::from_chars(cell.data(), cell.data() + cell.size(), x);
              out.emplace_back(x);
              break;
            }
            case kBoolOid:
              out.emplace_back(int64_t{cell == "t" ? 1 : 0});
              break;
            case kFloat4Oid:
            case kFloat8Oid:
            case kNumericOid:
              // strtod reads PostgreSQL's "NaN", "Infinity" and "-Infinity" too.
              out.emplace_back(std::strtod(std::string(cell).c_str(), nullptr));
              break;
            default:
              out.emplace_back(std::string(cell));
          }
        }
        rows->emplace_back(std::move(out));
      }
    }
    PQclear(res);
    return s;
  }

  PGconn* conn_;
  std::string name_;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> statements_;
};

}  // namespace

std::string PostgresPlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // a quoted literal or identifier, '' and "" escapes included
      size_t end = sql.find(c, i + 1);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end + 1 - i));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end - i));
      i = end - 1;
    } else if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out.push_back(c);
    }
  }
  if (count != nullptr) {
    *count = n;
  }
  return out;
}

std::string RedactUri(std::string_view uri) {
  size_t scheme = uri.find("://");
  size_t at = uri.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return std::string(uri);
  }
  size_t colon = uri.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) {
    return std::string(uri);
  }
  return std::string(uri.substr(0, colon + 1)) + "***" + std::string(uri.substr(at));
}

Result<std::unique_ptr<Database>> OpenPostgres(std::string_view uri) {
  std::string name = RedactUri(uri);
  std::string conninfo(uri);
  if (conninfo.find("connect_timeout=") == std::string::npos) {
    conninfo += conninfo.find('?') == std::string::npos ? "?" : "&";
    conninfo += "connect_timeout=10";
  }
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) {
    return Unavailable(name + ": cannot allocate a PostgreSQL connection");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
      msg.pop_back();
    }
    return Unavailable(name + ": cannot connect: " + msg);
  }
  // The server's notices and warnings ("there is no transaction in progress"
  // after a failed COMMIT) go to the debug log, not to the user's terminal.
  PQsetNoticeProcessor(
      conn,
      [](void*, const char* message) {
        std::string_view m(message);
        while (!m.empty() && m.back() == '\n') {
          m.remove_suffix(1);
        }
        spdlog::debug("postgresql: {}", m);
      },
      nullptr);
  auto db = std::make_unique<PostgresDatabase>(conn, name);
  // Quiet NOTICEs ("relation already exists, skipping") and UTC timestamps.
  // Unless the server's configuration sets it, random_page_cost drops from its
  // spinning-disk default (4) to the usual SSD value (1.1): with 4 the planner
  // scans whole tables instead of using the primary key for the `run_uuid IN
  // (500 ids)` loads of a search page (20 ms each instead of 6 over 10k runs).
  PLINTH_RETURN_IF_ERROR(db->ExecScript(
      "SET client_min_messages = warning; SET TIME ZONE 'UTC'; "
      "SELECT set_config('random_page_cost', '1.1', false) FROM pg_settings WHERE name = "
      "'random_page_cost' AND source = 'default'"));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace plinth::store
