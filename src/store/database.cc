#include "store/database.h"

#include <charconv>

#include "store/postgres_database.h"
#include "store/sqlite_database.h"

namespace plinth::store {

int64_t Row::Int(size_t i) const {
  const Value& v = values_[i];
  if (const auto* x = std::get_if<int64_t>(&v)) {
    return *x;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    return static_cast<int64_t>(*d);
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

double Row::Double(size_t i) const {
  const Value& v = values_[i];
  if (const auto* d = std::get_if<double>(&v)) {
    return *d;
  }
  if (const auto* x = std::get_if<int64_t>(&v)) {
    return static_cast<double>(*x);
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    return std::strtod(s->c_str(), nullptr);
  }
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = values_[i];
  if (const auto* s = std::get_if<std::string>(&v)) {
    return *s;
  }
  if (const auto* x = std::get_if<int64_t>(&v)) {
    return std::to_string(*x);
  }
  if (const auto* d = std::get_if<double>(&v)) {
    return std::to_string(*d);
  }
  return "";
}

Result<std::vector<Row>> Database::Query(std::string_view sql, std::span<const Value> params) {
  std::vector<Row> rows;
  PLINTH_RETURN_IF_ERROR(Run(sql, params, &rows));
  return rows;
}

Status Database::Transaction(const std::function<Status()>& body, Nesting nesting) {
  struct Depth {
    int& depth;
    explicit Depth(int& d) : depth(d) { ++depth; }
    ~Depth() { --depth; }
  };
  if (transaction_depth_ > 0 && nesting_ == Nesting::kAllOrNothing) {
    Depth depth(transaction_depth_);
    Status s = body();
    nested_failed_ = nested_failed_ || !s.ok();
    return s;
  }
  if (transaction_depth_ > 0) {
    const std::string name = "plinth_sp" + std::to_string(transaction_depth_);
    PLINTH_RETURN_IF_ERROR(ExecScript("SAVEPOINT " + name));
    Status s;
    {
      Depth depth(transaction_depth_);
      s = body();
    }
    if (s.ok()) {
      s = ExecScript("RELEASE SAVEPOINT " + name);
      if (s.ok()) {
        return s;
      }
    }
    (void)ExecScript("ROLLBACK TO SAVEPOINT " + name);
    (void)ExecScript("RELEASE SAVEPOINT " + name);
    return s;
  }
  std::unique_lock<std::mutex> lock;
  if (std::mutex* m = WriteMutex()) {
    lock = std::unique_lock<std::mutex>(*m);
  }
  PLINTH_RETURN_IF_ERROR(ExecScript(BeginStatement()));
  nesting_ = nesting;
  nested_failed_ = false;
  Status s;
  {
    Depth depth(transaction_depth_);
    s = body();
  }
  if (s.ok() && nested_failed_) {
    s = Internal("a transaction inside an all-or-nothing transaction failed: all rolled back");
  }
  nesting_ = Nesting::kSavepoints;
  nested_failed_ = false;
  writers_locked_ = false;  // a transaction-scoped lock: gone with the transaction
  if (s.ok()) {
    s = ExecScript("COMMIT");
    if (s.ok()) {
      return s;
    }
  }
  (void)ExecScript("ROLLBACK");
  return s;
}

Status Database::SerializeWriters() {
  if (transaction_depth_ == 0) {
    return Internal("SerializeWriters outside a transaction");
  }
  if (writers_locked_) {
    return Status::Ok();
  }
  PLINTH_RETURN_IF_ERROR(LockWriters());
  // Taken in a savepoint, the lock may go with a rolled-back savepoint: only
  // the outermost transaction's is remembered.
  writers_locked_ = transaction_depth_ == 1;
  return Status::Ok();
}

Result<std::unique_ptr<Database>> OpenDatabase(std::string_view uri) {
  struct Scheme {
    std::string_view prefix;
    bool whole_uri;  // the driver takes the whole URI, not what follows the prefix
    Result<std::unique_ptr<Database>> (*open)(std::string_view uri);
  };
  // The explicit table of drivers (no static-init registration).
  static const Scheme kSchemes[] = {
      {"sqlite://", false, OpenSqlite},  // sqlite:///abs/path -> "/abs/path"
      {"sqlite:", false, OpenSqlite},    // sqlite:relative/path
      {"postgresql://", true, OpenPostgres},
      {"postgres://", true, OpenPostgres},
  };
  for (const auto& s : kSchemes) {
    if (uri.substr(0, s.prefix.size()) == s.prefix) {
      return s.open(s.whole_uri ? uri : uri.substr(s.prefix.size()));
    }
  }
  return InvalidArgument("store URI \"" + RedactUri(uri) +
                         "\": unknown scheme, expected sqlite:///PATH or "
                         "postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
}

Status Migrate(Database& db, std::string_view component, std::span<const Migration> migrations) {
  // SQLite's write transaction serialises migrating processes; PostgreSQL's
  // transactions do not, so they take a transaction-scoped advisory lock.
  auto lock = [&db]() -> Status {
    if (db.engine() != Engine::kPostgres) {
      return Status::Ok();
    }
    return db.ExecScript("SELECT pg_advisory_xact_lock(7306086862939178866)");
  };
  PLINTH_RETURN_IF_ERROR(db.Transaction([&]() -> Status {
    PLINTH_RETURN_IF_ERROR(lock());
    return db.Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER "
        "NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, "
        "PRIMARY KEY (component, version))");
  }));
  for (const auto& m : migrations) {
    Status s = db.Transaction([&]() -> Status {
      PLINTH_RETURN_IF_ERROR(lock());
      // Checked inside the transaction, so two processes cannot both apply it.
      Value args[] = {std::string(component), int64_t{m.version}};
      PLINTH_ASSIGN_OR_RETURN(
          auto rows,
          db.Query("SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?", args));
      if (!rows.empty()) {
        return Status::Ok();
      }
      PLINTH_RETURN_IF_ERROR(db.ExecScript(m.sql));
      Value rec[] = {std::string(component), int64_t{m.version}, std::string(m.name)};
      return db.Exec("INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)",
                     rec);
    });
    if (!s.ok()) {
      return s.WithPrefix("migration " + std::string(component) + "/" + std::to_string(m.version) +
                          " (" + std::string(m.name) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace plinth::store
