// The metadata store's SQL layer: one interface, one SQL dialect, a driver per
// engine chosen by URI from an explicit table ("sqlite:///abs/path.db",
// "sqlite:relative/path.db", "postgresql://user:pass@host:port/db").
//
// The dialect is SQLite's, which PostgreSQL also accepts for what Plinth uses
// (INSERT ... ON CONFLICT ... DO UPDATE, RETURNING); placeholders are `?` and
// are rewritten per driver. Parameters are always bound, never spliced into SQL.
//
// A Database is one connection: not thread-safe; open one per thread. Several
// processes may share one SQLite file (WAL mode; writers wait up to the busy
// timeout).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace plinth::store {

// A SQL value: NULL, INTEGER, REAL or TEXT (BLOBs are stored as TEXT).
using Value = std::variant<std::monostate, int64_t, double, std::string>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_[i]); }
  // The value of column `i` as the type; a NULL gives 0 / "" and a mismatched
  // type is converted (INTEGER <-> REAL, numbers -> text).
  int64_t Int(size_t i) const;
  double Double(size_t i) const;
  std::string Text(size_t i) const;
  const Value& value(size_t i) const { return values_[i]; }

 private:
  std::vector<Value> values_;
};

enum class Engine { kSqlite, kPostgres };

class Database {
 public:
  virtual ~Database() = default;

  virtual Engine engine() const = 0;

  // Runs one statement with `params` bound to its `?` placeholders in order.
  // Returns kInvalidArgument for a malformed statement, kFailedPrecondition for
  // a constraint violation, kUnavailable when the database stayed busy.
  // Blocks: a write waits for the database's write lock (SQLite: this
  // process's writers take turns on a mutex, other processes up to the busy
  // timeout; PostgreSQL: row locks), a query for the server's answer.
  Status Exec(std::string_view sql, std::span<const Value> params = {}) {
    return Run(sql, params, nullptr);
  }

  // Runs a query and returns every row. Errors as Exec.
  Result<std::vector<Row>> Query(std::string_view sql, std::span<const Value> params = {});

  // Runs several statements separated by ';' without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;

  // How transactions opened inside this one behave.
  enum class Nesting {
    // Each runs in a savepoint: a failing one undoes only its own writes.
    kSavepoints,
    // They run without savepoints (no round trips to the server for them),
    // and if any fails, the whole transaction is rolled back, whatever `body`
    // returns. For a batch of jobs that is retried job by job on failure.
    kAllOrNothing,
  };

  // Runs `body` in a write transaction: committed when it returns OK, rolled
  // back otherwise (its Status is returned). Blocks as Exec, for the whole
  // transaction. Called inside another transaction
  // it runs as that one's `nesting` says (a savepoint by default); nothing is
  // durable before the outermost transaction commits.
  Status Transaction(const std::function<Status()>& body, Nesting nesting = Nesting::kSavepoints);

  // Inside a write transaction: waits until no other transaction that called
  // it, in any process, is still open, and holds that turn until this one ends.
  // Writers that touch many shared rows (a group commit, a metric batch) call
  // it first, so they cannot deadlock on row locks in different orders.
  // SQLite's write lock already gives every writer its turn (a no-op there);
  // on PostgreSQL it is a transaction-scoped advisory lock.
  Status SerializeWriters();

  // The id of the last inserted row (SQLite's rowid; PostgreSQL's lastval() of
  // a SERIAL column). Portable schemas use RETURNING instead.
  virtual int64_t LastInsertId() = 0;

 protected:
  // The driver's statement runner: binds `params`, runs `sql` and appends the
  // result rows to `rows` when it is not null.
  virtual Status Run(std::string_view sql, std::span<const Value> params,
                     std::vector<Row>* rows) = 0;
  // The statement that opens a write transaction.
  virtual std::string_view BeginStatement() const = 0;
  // A mutex that write transactions of this process hold (SQLite: one per file, so
  // connections of one process take turns instead of sleeping in SQLite's busy
  // handler); null when the engine needs none.
  virtual std::mutex* WriteMutex() { return nullptr; }
  // Takes the writers' turn for the current transaction (see SerializeWriters).
  virtual Status LockWriters() { return Status::Ok(); }

 private:
  int transaction_depth_ = 0;
  Nesting nesting_ = Nesting::kSavepoints;  // the outermost transaction's
  bool nested_failed_ = false;              // under kAllOrNothing
  bool writers_locked_ = false;             // taken by the outermost transaction
};

// The memory RE2 may take to compile one pattern of SQLite's REGEXP function (RLIKE in
// trace searches, which checks patterns against the same cap first).
inline constexpr int64_t kRegexMaxMemory = int64_t{1} << 20;

// Opens the database named by `uri`, creating the file if needed. Returns
// kInvalidArgument for an unknown scheme, naming the accepted ones.
Result<std::unique_ptr<Database>> OpenDatabase(std::string_view uri);

// A schema step: applied once, in order, recorded in the table schema_migrations.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Applies every migration of `component` newer than the database's, each in
// its own transaction. Safe to call from several processes at once (SQLite's
// write lock; a PostgreSQL advisory lock).
Status Migrate(Database& db, std::string_view component, std::span<const Migration> migrations);

}  // namespace plinth::store
