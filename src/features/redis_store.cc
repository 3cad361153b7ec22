// The Redis online store (online_store.h) over hiredis. Internal to the features module.
//
// Each row is a string "plinth:2:<table>:<key bytes>" (2: the format; the first, a hash per row
// with keys in another encoding, is never read): its order, the event and created times as
// 40 digits that compare as text in time order, then its encoded values (EncodeValues). A write
// is, per 1,000 rows, MSETNX (sets them all when none is stored: a first load, new entities),
// and where that set nothing, a Lua script that reads their stored orders with one MGET and
// sets, with one MSET, the rows whose order is at least the stored one's: each row is replaced
// whole, atomically, and never by an older one. A write's scripts go in one pipeline. (A hash per
// row read with HGET and set with HSET row by row cost Redis 5.6 us of its one thread per row, 4x
// as much, 2026-12-07.) A lookup is one pipelined round trip of GETs for every key of every
// group. Watermarks are strings "plinth:2:watermark:<table>". Connections are pooled, one per
// concurrent caller; a connection that failed is dropped, the next call connects again.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "features/online_store.h"

namespace plinth::features {
namespace {

constexpr int kTimeoutSeconds = 10;
constexpr size_t kChunkRows = 1000;           // rows per write command
constexpr const char* kPrefix = "plinth:2:";  // of every key: Plinth's, in format 2

// Sets each row whose order is not older than the stored one's. KEYS: row keys; ARGV: their
// rows (order, then values). Answers how many rows it set.
constexpr const char* kWriteScript =
    "local olds = redis.call('MGET', unpack(KEYS)) "
    "local set = {} "
    "for i, k in ipairs(KEYS) do "
    "  local old = olds[i] "
    "  if (not old) or string.sub(old, 1, 40) <= string.sub(ARGV[i], 1, 40) then "
    "    set[#set + 1] = k "
    "    set[#set + 1] = ARGV[i] "
    "  end "
    "end "
    "if #set > 0 then redis.call('MSET', unpack(set)) end "
    "return #set / 2";
constexpr size_t kOrderBytes = 40;

// An int64 as 20 digits that sort as text in numeric order.
void AppendOrdered(std::string& out, int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
  out += buf;
}

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

class RedisOnlineStore : public OnlineStore {
 public:
  RedisOnlineStore(std::string uri, std::string host, int port, int db, std::string password)
      : uri_(std::move(uri)),
        host_(std::move(host)),
        port_(port),
        db_(db),
        password_(std::move(password)) {}

  // Connects once, so that a store that is down is an error at open.
  Status Check() {
    PLINTH_ASSIGN_OR_RETURN(Context c, Take());
    Release(std::move(c));
    return Status::Ok();
  }

  Status Write(const std::string& table, const std::vector<OnlineRow>& rows) override {
    if (rows.empty()) {
      return Status::Ok();
    }
    // A key given twice: its newest row only (the later one of equals), as if written in turn;
    // MSETNX and the script compare with what was stored before the call.
    std::unordered_map<std::string_view, size_t> newest;
    newest.reserve(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto [it, added] = newest.emplace(rows[i].key, i);
      const OnlineRow& kept = rows[it->second];
      if (!added && std::pair(kept.event_us, kept.created_us) <=
                        std::pair(rows[i].event_us, rows[i].created_us)) {
        it->second = i;
      }
    }
    std::vector<size_t> kept;  // the rows written, in their order
    kept.reserve(newest.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      if (newest.size() == rows.size() || newest.at(rows[i].key) == i) {
        kept.push_back(i);
      }
    }
    PLINTH_ASSIGN_OR_RETURN(Context c, Take());
    // Rows in chunks of kChunkRows, so that Redis serves lookups between them, each chunk's
    // command sent as soon as it is made and before the first answer is read, so that Redis
    // works on one while the next is made.
    // First MSETNX: sets a chunk when none of its keys is stored (a first load, new entities),
    // else nothing. The chunks it did not set then go through the script, which compares.
    std::vector<size_t> chunks;
    for (size_t begin = 0; begin < kept.size(); begin += kChunkRows) {
      chunks.push_back(begin);
    }
    std::vector<size_t> compare;
    PLINTH_RETURN_IF_ERROR(Pipeline(c, table, rows, kept, chunks, false, &compare));
    if (!compare.empty()) {
      PLINTH_RETURN_IF_ERROR(Pipeline(c, table, rows, kept, compare, true, nullptr));
    }
    Release(std::move(c));
    return Status::Ok();
  }

  Status Get(const std::vector<std::pair<std::string_view, std::string_view>>& keys,
             std::vector<std::optional<std::string>>* values) override {
    values->assign(keys.size(), std::nullopt);
    if (keys.empty()) {
      return Status::Ok();
    }
    PLINTH_ASSIGN_OR_RETURN(Context c, Take());
    for (const auto& [table, key] : keys) {
      const std::string k = RowKey(table, key);
      const char* argv[] = {"GET", k.data()};
      const size_t lens[] = {3, k.size()};
      if (redisAppendCommandArgv(c.get(), 2, argv, lens) != REDIS_OK) {
        return Failed(c, "looking up");
      }
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c.get(), &raw) != REDIS_OK) {
        return Failed(c, "looking up");
      }
      Reply reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_STRING && reply->len >= kOrderBytes) {
        (*values)[i].emplace(reply->str + kOrderBytes, reply->len - kOrderBytes);
      } else if (reply->type == REDIS_REPLY_STRING) {
        // Not a row Plinth wrote: the rest of the answers are still to be read.
        return Failed(c, "looking up",
                      "a value of " + std::to_string(reply->len) + " bytes is not an online row");
      } else if (reply->type == REDIS_REPLY_ERROR) {
        // The rest of the pipeline's answers are still to be read: drop the connection.
        return Failed(c, "looking up", std::string(reply->str, reply->len));
      }
    }
    Release(std::move(c));
    return Status::Ok();
  }

  Result<std::optional<int64_t>> Watermark(const std::string& table) override {
    PLINTH_ASSIGN_OR_RETURN(Context c, Take());
    const std::string k = std::string(kPrefix) + "watermark:" + table;
    const char* argv[] = {"GET", k.data()};
    const size_t lens[] = {3, k.size()};
    Reply reply(static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, lens)));
    PLINTH_RETURN_IF_ERROR(Checked(c, reply.get(), "reading the watermark of " + table));
    std::optional<int64_t> out;
    if (reply->type == REDIS_REPLY_STRING) {
      out = std::strtoll(reply->str, nullptr, 10);
    }
    Release(std::move(c));
    return out;
  }

  Status SetWatermark(const std::string& table, int64_t end_us) override {
    PLINTH_ASSIGN_OR_RETURN(Context c, Take());
    const std::string k = std::string(kPrefix) + "watermark:" + table;
    const std::string v = std::to_string(end_us);
    const char* argv[] = {"SET", k.data(), v.data()};
    const size_t lens[] = {3, k.size(), v.size()};
    Reply reply(static_cast<redisReply*>(redisCommandArgv(c.get(), 3, argv, lens)));
    PLINTH_RETURN_IF_ERROR(Checked(c, reply.get(), "setting the watermark of " + table));
    Release(std::move(c));
    return Status::Ok();
  }

 private:
  // "plinth:2:<table>:<key bytes>" into `k` (its buffer reused).
  static void SetRowKey(std::string& k, std::string_view table, std::string_view key) {
    k.assign(kPrefix);
    k.append(table);
    k += ':';
    k.append(key);
  }
  static std::string RowKey(std::string_view table, std::string_view key) {
    std::string k;
    SetRowKey(k, table, key);
    return k;
  }

  // Sends, for each chunk of the rows `kept` (indexes into `rows`) starting at `chunks`, MSETNX
  // (script: false) or the write script, then reads their answers; the chunks MSETNX did not
  // set go to `unset`.
  Status Pipeline(const Context& c, const std::string& table, const std::vector<OnlineRow>& rows,
                  const std::vector<size_t>& kept, const std::vector<size_t>& chunks, bool script,
                  std::vector<size_t>* unset) {
    std::vector<std::string> keys;
    std::vector<std::string> values;
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const size_t begin : chunks) {
      const size_t end = std::min(kept.size(), begin + kChunkRows);
      keys.resize(end - begin);
      values.resize(end - begin);
      for (size_t i = begin; i < end; ++i) {
        const OnlineRow& r = rows[kept[i]];
        SetRowKey(keys[i - begin], table, r.key);
        std::string& v = values[i - begin];
        v.clear();
        AppendOrdered(v, r.event_us);
        AppendOrdered(v, r.created_us);
        v += r.value;
      }
      const std::string count = std::to_string(end - begin);
      argv.clear();
      lens.clear();
      const auto arg = [&](const std::string& a) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      };
      if (script) {
        argv = {"EVAL", kWriteScript, count.data()};
        lens = {4, std::strlen(kWriteScript), count.size()};
        for (const std::string& k : keys) {
          arg(k);
        }
        for (const std::string& v : values) {
          arg(v);
        }
      } else {
        argv = {"MSETNX"};
        lens = {6};
        for (size_t i = 0; i < keys.size(); ++i) {
          arg(keys[i]);
          arg(values[i]);
        }
      }
      if (redisAppendCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(),
                                 lens.data()) != REDIS_OK) {
        return Failed(c, "writing " + table);
      }
      // Sent now (hiredis would hold it until the first answer is read). Redis answers each
      // command with a few bytes, which wait in the socket until they are read below.
      int done = 0;
      while (done == 0) {
        if (redisBufferWrite(c.get(), &done) != REDIS_OK) {
          return Failed(c, "writing " + table);
        }
      }
    }
    Status first = Status::Ok();
    for (const size_t begin : chunks) {
      void* raw = nullptr;
      if (redisGetReply(c.get(), &raw) != REDIS_OK) {
        return Failed(c, "writing " + table);
      }
      Reply reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_ERROR && first.ok()) {
        // The rest of the pipeline's answers are still read; the connection is dropped.
        first = Failed(c, "writing " + table, std::string(reply->str, reply->len));
      } else if (unset != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
        unset->push_back(begin);
      }
    }
    return first;
  }

  // The connection's error (it is dropped: not returned to the pool).
  Status Failed(const Context& c, const std::string& what, const std::string& reply_error = "") {
    const std::string why = !reply_error.empty() ? reply_error
                            : c->err != 0        ? std::string(c->errstr)
                                                 : std::string("no answer");
    return Unavailable("online store " + uri_ + ": " + what + ": " + why);
  }

  // Checks a command's reply: none (the connection failed) or a Redis error are errors.
  Status Checked(const Context& c, redisReply* reply, const std::string& what) {
    if (reply == nullptr) {
      return Failed(c, what);
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      return Failed(c, what, std::string(reply->str, reply->len));
    }
    return Status::Ok();
  }

  Result<Context> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pool_.empty()) {
        Context c = std::move(pool_.back());
        pool_.pop_back();
        return c;
      }
    }
    const timeval tv{kTimeoutSeconds, 0};
    Context c(redisConnectWithTimeout(host_.c_str(), port_, tv));
    if (c == nullptr) {
      return Unavailable("online store " + uri_ + ": cannot allocate a connection");
    }
    if (c->err != 0) {
      return Unavailable("online store " + uri_ + ": " + c->errstr);
    }
    redisSetTimeout(c.get(), tv);
    if (!password_.empty()) {
      const char* argv[] = {"AUTH", password_.data()};
      const size_t lens[] = {4, password_.size()};
      Reply reply(static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, lens)));
      PLINTH_RETURN_IF_ERROR(Checked(c, reply.get(), "signing in"));
    }
    if (db_ != 0) {
      const std::string n = std::to_string(db_);
      const char* argv[] = {"SELECT", n.data()};
      const size_t lens[] = {6, n.size()};
      Reply reply(static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, lens)));
      PLINTH_RETURN_IF_ERROR(Checked(c, reply.get(), "selecting database " + n));
    }
    return c;
  }

  void Release(Context c) {
    std::lock_guard<std::mutex> lock(mu_);
    pool_.push_back(std::move(c));
  }

  std::string uri_;  // without its password, for messages
  std::string host_;
  int port_;
  int db_;
  std::string password_;
  std::mutex mu_;
  std::vector<Context> pool_;
};

}  // namespace

// redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
Result<std::unique_ptr<OnlineStore>> OpenRedisStore(const std::string& uri) {
  const auto bad = [&] {
    return InvalidArgument("online store: expected redis://[:PASSWORD@]HOST[:PORT][/DB], got \"" +
                           uri.substr(0, 200) + "\"");
  };
  std::string rest = uri.substr(8);
  std::string password;
  const size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    const std::string user_info = rest.substr(0, at);
    const size_t colon = user_info.find(':');
    password = colon == std::string::npos ? user_info : user_info.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  int db = 0;
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    const std::string n = rest.substr(slash + 1);
    if (!n.empty()) {
      if (n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos) {
        return bad();
      }
      db = std::stoi(n);
    }
    rest = rest.substr(0, slash);
  }
  int port = 6379;
  std::string host = rest;
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    const std::string p = rest.substr(colon + 1);
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(p) < 1 || std::stoi(p) > 65535) {
      return bad();
    }
    port = std::stoi(p);
    host = rest.substr(0, colon);
  }
  if (host.empty()) {
    return bad();
  }
  const std::string shown = "redis://" + (password.empty() ? "" : std::string(":***@")) + rest +
                            (db ? "/" + std::to_string(db) : "");
  auto store = std::make_unique<RedisOnlineStore>(shown, host, port, db, password);
  PLINTH_RETURN_IF_ERROR(store->Check());
  return std::unique_ptr<OnlineStore>(std::move(store));
}

}  // namespace plinth::features
