#include "store/sqlite_database.h"

#include <re2/re2.h>
#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace plinth::store {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// The one place SQLite's error codes become Status.
Status FromSqlite(int rc, sqlite3* db, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Status::Ok();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(msg + " (the database stayed busy)");
    case SQLITE_CONSTRAINT:
      return FailedPrecondition(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Corruption(msg);
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
      return IoError(msg);
    case SQLITE_ERROR:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return InvalidArgument(msg);
    default:
      return Internal(msg);
  }
}

// `value REGEXP pattern`, which SQLite calls as regexp(pattern, value): RE2's syntax,
// matched anywhere in the value, in time linear in the value whatever the pattern
// (PostgreSQL's ~ for the same filters). The compiled pattern is kept for the
// statement's next rows; NULL on either side gives NULL, as comparisons do.
void Regexp(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  auto text = [](sqlite3_value* v) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    return re2::StringPiece(p == nullptr ? "" : p, static_cast<size_t>(sqlite3_value_bytes(v)));
  };
  const RE2* re = static_cast<const RE2*>(sqlite3_get_auxdata(ctx, 0));
  std::unique_ptr<RE2> compiled;
  if (re == nullptr) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(kRegexMaxMemory);
    compiled = std::make_unique<RE2>(text(argv[0]), options);
    if (!compiled->ok()) {
      sqlite3_result_error(ctx, ("invalid regular expression: " + compiled->error()).c_str(), -1);
      return;
    }
    re = compiled.get();
  }
  sqlite3_result_int(ctx, RE2::PartialMatch(text(argv[1]), *re) ? 1 : 0);
  if (compiled != nullptr) {  // SQLite may free it at once: not used after this
    sqlite3_set_auxdata(ctx, 0, compiled.release(), [](void* p) { delete static_cast<RE2*>(p); });
  }
}

class SqliteDatabase : public Database {
 public:
  SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteDatabase() override {
    for (auto& [sql, stmt] : statements_) {
      sqlite3_finalize(stmt);
    }
    sqlite3_close_v2(db_);
  }

  Engine engine() const override { return Engine::kSqlite; }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return FromSqlite(rc, nullptr, path_ + ": " + msg);
    }
    return Status::Ok();
  }

  int64_t LastInsertId() override { return sqlite3_last_insert_rowid(db_); }

 protected:
  // IMMEDIATE takes the write lock up front, so a transaction never fails
  // half-way on a lock upgrade.
  std::string_view BeginStatement() const override { return "BEGIN IMMEDIATE"; }

  std::mutex* WriteMutex() override {
    if (path_ == ":memory:") {
      return nullptr;
    }
    // One mutex per file for the life of the process (files are few).
    static std::mutex registry_mu;
    static std::unordered_map<std::string, std::unique_ptr<std::mutex>> mutexes;
    std::lock_guard<std::mutex> lock(registry_mu);
    std::unique_ptr<std::mutex>& m = mutexes[path_];
    if (!m) {
      m = std::make_unique<std::mutex>();
    }
    return m.get();
  }

  Status Run(std::string_view sql, std::span<const Value> params, std::vector<Row>* rows) override {
    // Statements are prepared once per connection and reused: parsing dominated
    // loops of small inserts.
    sqlite3_stmt* stmt = nullptr;
    int rc = SQLITE_OK;
    if (auto it = statements_.find(sql); it != statements_.end()) {
      stmt = it->second;
    } else {
      rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
      if (rc != SQLITE_OK) {
        return FromSqlite(rc, db_, path_);
      }
      statements_.emplace(std::string(sql), stmt);
    }
    struct Resetter {
      sqlite3_stmt* s;
      ~Resetter() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } resetter{stmt};
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      return InvalidArgument(path_ + ": statement takes " +
                             std::to_string(sqlite3_bind_parameter_count(stmt)) +
                             " parameters, got " + std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      if (const auto* x = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *x);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(stmt, idx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK) {
        return FromSqlite(rc, db_, path_);
      }
    }
    while (true) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) {
        return Status::Ok();
      }
      if (rc != SQLITE_ROW) {
        return FromSqlite(rc, db_, path_);
      }
      if (rows == nullptr) {
        continue;
      }
      int n = sqlite3_column_count(stmt);
      std::vector<Value> values;
      values.reserve(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(int64_t{sqlite3_column_int64(stmt, c)});
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_NULL:
            values.emplace_back(std::monostate());
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            values.emplace_back(
                std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
          }
        }
      }
      rows->emplace_back(std::move(values));
    }
  }

 private:
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> statements_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path) {
  std::string p(path);
  if (p.empty()) {
    return InvalidArgument("sqlite URI: empty path");
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      p.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromSqlite(rc, db, p);
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_busy_timeout(db, 30000);
  rc = sqlite3_create_function(db, "regexp", 2,
                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                               Regexp, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromSqlite(rc, db, p);
    sqlite3_close_v2(db);
    return s;
  }
  auto out = std::make_unique<SqliteDatabase>(db, p);
  if (p != ":memory:") {
    // Switching a new file to WAL takes an exclusive lock, and a connection that finds
    // it taken (another process opening the same new store) gets SQLITE_BUSY without
    // the busy handler: retried here for as long as the busy timeout.
    for (int attempt = 0;; ++attempt) {
      Status s = out->ExecScript("PRAGMA journal_mode=WAL");
      if (s.ok() || s.code() != StatusCode::kUnavailable || attempt == 3000) {
        PLINTH_RETURN_IF_ERROR(s);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  PLINTH_RETURN_IF_ERROR(
      out->ExecScript("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; "
                      // LIKE is case-sensitive, as in PostgreSQL.
                      "PRAGMA case_sensitive_like=ON; "
                      // Reads map the file instead of copying pages in with pread,
                      // and each connection caches up to 16 MiB of pages.
                      "PRAGMA mmap_size=268435456; PRAGMA cache_size=-16384"));
  return std::unique_ptr<Database>(std::move(out));
}

}  // namespace plinth::store
