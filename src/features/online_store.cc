#include "features/online_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>

namespace plinth::features {
namespace {

using table::Column;
using table::DataType;

// Value tags: one byte before each value.
enum Tag : uint8_t { kNull = 0, kInt = 1, kDouble = 2, kFalse = 3, kTrue = 4, kText = 5 };
constexpr uint8_t kFormat = 1;

void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void PutI64(std::string& out, int64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

// Appends row `row` of `c`, tagged.
void PutValue(std::string& out, const Column& c, int64_t row) {
  if (c.IsNull(row)) {
    out.push_back(static_cast<char>(kNull));
    return;
  }
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      out.push_back(static_cast<char>(kInt));
      PutI64(out, c.ints()[row]);
      return;
    case DataType::kFloat64: {
      out.push_back(static_cast<char>(kDouble));
      const double d = c.doubles()[row];
      out.append(reinterpret_cast<const char*>(&d), 8);
      return;
    }
    case DataType::kBool:
      out.push_back(static_cast<char>(c.bools()[row] != 0 ? kTrue : kFalse));
      return;
    case DataType::kString: {
      const std::string_view s = c.GetString(row);
      out.push_back(static_cast<char>(kText));
      PutU32(out, static_cast<uint32_t>(s.size()));
      out.append(s);
      return;
    }
  }
}

Status FromSqlite(int rc, sqlite3* db, const std::string& what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) {
    return Status::Ok();
  }
  const std::string msg = what + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? Unavailable(msg) : IoError(msg);
}

struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;

// One connection with its prepared statements.
struct Connection {
  sqlite3* db = nullptr;
  Stmt get;
  ~Connection() {
    get.reset();
    sqlite3_close_v2(db);
  }
};

constexpr int64_t kStoreFormat = 2;  // PRAGMA user_version of the embedded store

// The first column of the first row `sql` answers, as an integer.
Status QueryInt(sqlite3* db, const char* sql, int64_t* out) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  Stmt st(raw);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int64(st.get(), 0);
      rc = SQLITE_OK;
    }
  }
  return FromSqlite(rc, db, std::string("online store ") + sqlite3_db_filename(db, "main"));
}

class SqliteOnlineStore : public OnlineStore {
 public:
  explicit SqliteOnlineStore(std::string path) : path_(std::move(path)) {}

  Status Init() {
    PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connect());
    // (Not into the pool: its connections have their lookup prepared, which needs the table.)
    const char* schema =
        "CREATE TABLE IF NOT EXISTS online_values ("
        "  tbl TEXT NOT NULL, key BLOB NOT NULL, event_us INTEGER NOT NULL,"
        "  created_us INTEGER NOT NULL, value BLOB NOT NULL,"
        "  PRIMARY KEY (tbl, key)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS online_watermarks ("
        "  tbl TEXT PRIMARY KEY, end_us INTEGER NOT NULL);";
    PLINTH_RETURN_IF_ERROR(
        FromSqlite(sqlite3_exec(c->db, schema, nullptr, nullptr, nullptr), c->db, path_));
    // The format of keys and values (user_version): 0 in a new file and in files of the first
    // format (keys encoded in another order, before 2026-12-07), told apart by their rows.
    int64_t version = 0;
    int64_t rows = 0;
    PLINTH_RETURN_IF_ERROR(QueryInt(c->db, "PRAGMA user_version", &version));
    PLINTH_RETURN_IF_ERROR(QueryInt(c->db,
                                    "SELECT count(*) FROM (SELECT 1 FROM online_values "
                                    "UNION ALL SELECT 1 FROM online_watermarks LIMIT 1)",
                                    &rows));
    if (version == 0 && rows == 0) {
      const std::string set = "PRAGMA user_version = " + std::to_string(kStoreFormat);
      return FromSqlite(sqlite3_exec(c->db, set.c_str(), nullptr, nullptr, nullptr), c->db, path_);
    }
    if (version != kStoreFormat) {
      return FailedPrecondition("online store " + path_ + " was written by " +
                                (version < kStoreFormat ? "an earlier" : "a later") +
                                " version of Plinth (format " + std::to_string(version) +
                                ", this one reads " + std::to_string(kStoreFormat) +
                                "): remove it and run plinth features materialize again");
    }
    return Status::Ok();
  }

  Status Write(const std::string& table, const std::vector<OnlineRow>& rows) override {
    PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Take());
    sqlite3* db = c->db;
    // In key order, with a cache of 64 MB: a batch then touches each page of the table's
    // B-tree once instead of once per row (random keys with SQLite's 2 MB default wrote the
    // whole tree to the WAL again and again: 106 s for 2M rows, 2026-12-07).
    PLINTH_RETURN_IF_ERROR(FromSqlite(
        sqlite3_exec(db, "PRAGMA cache_size=-65536", nullptr, nullptr, nullptr), db, path_));
    std::vector<const OnlineRow*> sorted;
    sorted.reserve(rows.size());
    for (const OnlineRow& r : rows) {
      sorted.push_back(&r);
    }
    // Stable: of two rows of one key and one order, the later one given still wins.
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const OnlineRow* a, const OnlineRow* b) { return a->key < b->key; });
    PLINTH_RETURN_IF_ERROR(
        FromSqlite(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, path_));
    sqlite3_stmt* raw = nullptr;
    Status s = FromSqlite(
        sqlite3_prepare_v2(
            db,
            "INSERT INTO online_values (tbl, key, event_us, created_us, value) VALUES (?, ?, ?, "
            "?, ?) ON CONFLICT (tbl, key) DO UPDATE SET event_us = excluded.event_us, "
            "created_us = excluded.created_us, value = excluded.value WHERE excluded.event_us > "
            "online_values.event_us OR (excluded.event_us = online_values.event_us AND "
            "excluded.created_us >= online_values.created_us)",
            -1, &raw, nullptr),
        db, path_);
    Stmt st(raw);
    for (size_t i = 0; s.ok() && i < sorted.size(); ++i) {
      const OnlineRow& r = *sorted[i];
      sqlite3_reset(st.get());
      sqlite3_bind_text(st.get(), 1, table.data(), static_cast<int>(table.size()), SQLITE_STATIC);
      sqlite3_bind_blob(st.get(), 2, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
      sqlite3_bind_int64(st.get(), 3, r.event_us);
      sqlite3_bind_int64(st.get(), 4, r.created_us);
      sqlite3_bind_blob(st.get(), 5, r.value.data(), static_cast<int>(r.value.size()),
                        SQLITE_STATIC);
      s = FromSqlite(sqlite3_step(st.get()), db, path_);
    }
    st.reset();
    s = s.ok() ? FromSqlite(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, path_) : s;
    if (!s.ok()) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Release(std::move(c));
    return s;
  }

  Status Get(const std::vector<std::pair<std::string_view, std::string_view>>& keys,
             std::vector<std::optional<std::string>>* values) override {
    PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Take());
    values->assign(keys.size(), std::nullopt);
    Status s = Status::Ok();
    // One read transaction: every key sees the same moment of the store.
    sqlite3_exec(c->db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_stmt* st = c->get.get();
    for (size_t i = 0; s.ok() && i < keys.size(); ++i) {
      sqlite3_reset(st);
      sqlite3_bind_text(st, 1, keys[i].first.data(), static_cast<int>(keys[i].first.size()),
                        SQLITE_STATIC);
      sqlite3_bind_blob(st, 2, keys[i].second.data(), static_cast<int>(keys[i].second.size()),
                        SQLITE_STATIC);
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        const void* p = sqlite3_column_blob(st, 0);
        (*values)[i].emplace(static_cast<const char*>(p),
                             static_cast<size_t>(sqlite3_column_bytes(st, 0)));
      } else {
        s = FromSqlite(rc, c->db, path_);
      }
    }
    sqlite3_reset(st);
    sqlite3_exec(c->db, "COMMIT", nullptr, nullptr, nullptr);
    Release(std::move(c));
    return s;
  }

  bool WantsKeyOrder() const override { return true; }

  Result<std::optional<int64_t>> Watermark(const std::string& table) override {
    PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Take());
    sqlite3_stmt* raw = nullptr;
    Status s =
        FromSqlite(sqlite3_prepare_v2(c->db, "SELECT end_us FROM online_watermarks WHERE tbl = ?",
                                      -1, &raw, nullptr),
                   c->db, path_);
    Stmt st(raw);
    std::optional<int64_t> out;
    if (s.ok()) {
      sqlite3_bind_text(st.get(), 1, table.data(), static_cast<int>(table.size()), SQLITE_STATIC);
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_ROW) {
        out = sqlite3_column_int64(st.get(), 0);
      } else {
        s = FromSqlite(rc, c->db, path_);
      }
    }
    st.reset();
    Release(std::move(c));
    PLINTH_RETURN_IF_ERROR(s);
    return out;
  }

  Status SetWatermark(const std::string& table, int64_t end_us) override {
    PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Take());
    sqlite3_stmt* raw = nullptr;
    Status s = FromSqlite(
        sqlite3_prepare_v2(c->db,
                           "INSERT INTO online_watermarks (tbl, end_us) VALUES (?, ?) ON "
                           "CONFLICT (tbl) DO UPDATE SET end_us = excluded.end_us",
                           -1, &raw, nullptr),
        c->db, path_);
    Stmt st(raw);
    if (s.ok()) {
      sqlite3_bind_text(st.get(), 1, table.data(), static_cast<int>(table.size()), SQLITE_STATIC);
      sqlite3_bind_int64(st.get(), 2, end_us);
      s = FromSqlite(sqlite3_step(st.get()), c->db, path_);
    }
    st.reset();
    Release(std::move(c));
    return s;
  }

 private:
  Result<std::unique_ptr<Connection>> Connect() {
    auto c = std::make_unique<Connection>();
    const int rc = sqlite3_open_v2(
        path_.c_str(), &c->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
        nullptr);
    PLINTH_RETURN_IF_ERROR(FromSqlite(rc, c->db, "online store " + path_));
    sqlite3_busy_timeout(c->db, 10000);
    PLINTH_RETURN_IF_ERROR(FromSqlite(sqlite3_exec(c->db,
                                                   "PRAGMA journal_mode=WAL; PRAGMA "
                                                   "synchronous=NORMAL;",
                                                   nullptr, nullptr, nullptr),
                                      c->db, "online store " + path_));
    return c;
  }

  // A connection from the pool, or a new one (with its lookup prepared).
  Result<std::unique_ptr<Connection>> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pool_.empty()) {
        std::unique_ptr<Connection> c = std::move(pool_.back());
        pool_.pop_back();
        return c;
      }
    }
    PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connect());
    sqlite3_stmt* raw = nullptr;
    PLINTH_RETURN_IF_ERROR(FromSqlite(
        sqlite3_prepare_v3(c->db, "SELECT value FROM online_values WHERE tbl = ? AND key = ?", -1,
                           SQLITE_PREPARE_PERSISTENT, &raw, nullptr),
        c->db, "online store " + path_));
    c->get.reset(raw);
    return c;
  }

  void Release(std::unique_ptr<Connection> c) {
    std::lock_guard<std::mutex> lock(mu_);
    pool_.push_back(std::move(c));
  }

  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> pool_;
};

}  // namespace

// redis_store.cc
Result<std::unique_ptr<OnlineStore>> OpenRedisStore(const std::string& uri);

Result<std::unique_ptr<OnlineStore>> OpenOnlineStore(const std::string& uri, bool create) {
  if (uri.rfind("sqlite://", 0) == 0) {
    const std::string path = uri.substr(9);
    if (path.empty() || path[0] != '/') {
      return InvalidArgument("online store " + uri + ": expected sqlite:///ABSOLUTE/PATH");
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISREG(st.st_mode)) {
        return InvalidArgument("online store " + path + ": not a regular file");
      }
    } else if (!create) {
      return NotFound("online store " + path +
                      ": nothing materialized yet (run plinth features materialize)");
    }
    const size_t slash = path.rfind('/');
    std::error_code ec;
    if (slash > 0) {
      std::filesystem::create_directories(path.substr(0, slash), ec);
    }
    if (ec) {
      return IoError("online store " + path + ": " + ec.message());
    }
    auto store = std::make_unique<SqliteOnlineStore>(path);
    PLINTH_RETURN_IF_ERROR(store->Init());
    return std::unique_ptr<OnlineStore>(std::move(store));
  }
  if (uri.rfind("redis://", 0) == 0) {
    return OpenRedisStore(uri);
  }
  return InvalidArgument("online store '" + uri +
                         "': expected sqlite:///PATH or redis://HOST:PORT[/DB]");
}

std::optional<std::string> EncodeKey(const std::vector<const Column*>& keys, int64_t row) {
  std::string out;
  for (const Column* k : keys) {
    if (k->IsNull(row)) {
      return std::nullopt;
    }
    switch (k->type()) {
      case DataType::kInt64:
      case DataType::kTimestamp: {
        // Big-endian with the sign bit flipped: bytes in numeric order.
        out.push_back(static_cast<char>(kInt));
        const uint64_t v = static_cast<uint64_t>(k->ints()[row]) ^ (uint64_t{1} << 63);
        for (int shift = 56; shift >= 0; shift -= 8) {
          out.push_back(static_cast<char>((v >> shift) & 0xff));
        }
        break;
      }
      case DataType::kString: {
        // Zero bytes escaped (00 ff), then 00 01: bytes in the strings' order, and no key a
        // prefix of another.
        out.push_back(static_cast<char>(kText));
        for (const char ch : k->GetString(row)) {
          out.push_back(ch);
          if (ch == '\0') {
            out.push_back(static_cast<char>(0xff));
          }
        }
        out.push_back('\0');
        out.push_back('\1');
        break;
      }
      default:
        PutValue(out, *k, row);
    }
  }
  return out;
}

std::string EncodeValues(const std::vector<const Column*>& features, int64_t row, int64_t event_us,
                         int64_t created_us) {
  std::string out;
  out.push_back(static_cast<char>(kFormat));
  PutI64(out, event_us);
  PutI64(out, created_us);
  PutU32(out, static_cast<uint32_t>(features.size()));
  for (const Column* f : features) {
    PutValue(out, *f, row);
  }
  return out;
}

Status DecodeValues(const std::optional<std::string>& value, const std::vector<Column*>& out,
                    int64_t* event_us, std::string_view what) {
  if (!value) {
    for (Column* c : out) {
      c->AppendNull();
    }
    *event_us = 0;
    return Status::Ok();
  }
  const char* p = value->data();
  const char* end = p + value->size();
  const auto bad = [&] {
    return Corruption("online store: the row of " + std::string(what) +
                      " was not written for its features; materialize it again");
  };
  uint32_t n = 0;
  if (value->size() < 21 || static_cast<uint8_t>(p[0]) != kFormat) {
    return bad();
  }
  std::memcpy(event_us, p + 1, 8);
  std::memcpy(&n, p + 17, 4);
  p += 21;
  if (n != out.size()) {
    return bad();
  }
  for (Column* c : out) {
    if (p >= end) {
      return bad();
    }
    const auto tag = static_cast<uint8_t>(*p++);
    const DataType t = c->type();
    if (tag == kNull) {
      c->AppendNull();
    } else if (tag == kInt && (t == DataType::kInt64 || t == DataType::kTimestamp) &&
               end - p >= 8) {
      int64_t v = 0;
      std::memcpy(&v, p, 8);
      p += 8;
      c->AppendInt(v);
    } else if (tag == kDouble && t == DataType::kFloat64 && end - p >= 8) {
      double v = 0;
      std::memcpy(&v, p, 8);
      p += 8;
      c->AppendDouble(v);
    } else if ((tag == kTrue || tag == kFalse) && t == DataType::kBool) {
      c->AppendBool(tag == kTrue);
    } else if (tag == kText && t == DataType::kString && end - p >= 4) {
      uint32_t len = 0;
      std::memcpy(&len, p, 4);
      p += 4;
      if (static_cast<size_t>(end - p) < len) {
        return bad();
      }
      c->AppendString(std::string_view(p, len));
      p += len;
    } else {
      return bad();
    }
  }
  return p == end ? Status::Ok() : bad();
}

}  // namespace plinth::features
