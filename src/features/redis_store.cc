// The Redis online store (online_store.h) over hiredis. Internal to the features module.
//
// Each row is a hash "plinth:<table>:<key bytes>" with two fields: "v", the encoded values
// (EncodeValues), and "o", its order: the event and created times as 40 digits that compare as
// text in time order. A write is one Lua script per batch that sets a row only when its order
// is at least the stored one's, so each row is replaced whole, atomically, and never by an older
// one. A lookup is one pipelined round trip of HGETs for every key of every group. Watermarks are
// strings "plinth:watermark:<table>". Connections are pooled, one per concurrent caller; a
// connection that failed is dropped, the next call connects again.
#include <hiredis/hiredis.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "features/online_store.h"

namespace plinth::features {
namespace {

constexpr int kTimeoutSeconds = 10;

// Sets a row when its order is not older than the stored one's. KEYS: row keys; ARGV: order,
// value for each. Answers how many rows it set.
constexpr const char* kWriteScript =
    "local n = 0 "
    "for i, k in ipairs(KEYS) do "
    "  local o = ARGV[2 * i - 1] "
    "  local old = redis.call('HGET', k, 'o') "
    "  if (not old) or old <= o then "
    "    redis.call('HSET', k, 'o', o, 'v', ARGV[2 * i]) "
    "    n = n + 1 "
    "  end "
    "end "
    "return n";

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
    std::vector<std::string> args = {"EVAL", kWriteScript, std::to_string(rows.size())};
    args.reserve(3 + rows.size() * 3);
    for (const OnlineRow& r : rows) {
      args.push_back(RowKey(table, r.key));
    }
    for (const OnlineRow& r : rows) {
      std::string order;
      AppendOrdered(order, r.event_us);
      AppendOrdered(order, r.created_us);
      args.push_back(std::move(order));
      args.push_back(r.value);
    }
    PLINTH_ASSIGN_OR_RETURN(Context c, Take());
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
    PLINTH_RETURN_IF_ERROR(Checked(c, reply.get(), "writing " + table));
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
      const char* argv[] = {"HGET", k.data(), "v"};
      const size_t lens[] = {4, k.size(), 1};
      if (redisAppendCommandArgv(c.get(), 3, argv, lens) != REDIS_OK) {
        return Failed(c, "looking up");
      }
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c.get(), &raw) != REDIS_OK) {
        return Failed(c, "looking up");
      }
      Reply reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_STRING) {
        (*values)[i].emplace(reply->str, reply->len);
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
    const std::string k = "plinth:watermark:" + table;
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
    const std::string k = "plinth:watermark:" + table;
    const std::string v = std::to_string(end_us);
    const char* argv[] = {"SET", k.data(), v.data()};
    const size_t lens[] = {3, k.size(), v.size()};
    Reply reply(static_cast<redisReply*>(redisCommandArgv(c.get(), 3, argv, lens)));
    PLINTH_RETURN_IF_ERROR(Checked(c, reply.get(), "setting the watermark of " + table));
    Release(std::move(c));
    return Status::Ok();
  }

 private:
  static std::string RowKey(std::string_view table, std::string_view key) {
    std::string k = "plinth:";
    k.append(table);
    k += ':';
    k.append(key);
    return k;
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
