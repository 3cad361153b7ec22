#include "http/server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/url.h"

namespace plinth::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

}  // namespace

std::optional<std::string> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) {
      return v;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Request::QueryAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) {
      out.push_back(v);
    }
  }
  return out;
}

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) {
      return v;
    }
  }
  return "";
}

Response PlainError(int status, const std::string& message) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = message + "\n";
  return r;
}

namespace {

class Session;

using Clock = std::chrono::steady_clock;
constexpr int64_t kNoDeadline = INT64_MAX;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace

// One io_context per I/O thread, each run by its thread alone: a connection
// lives on one context from accept to close, so its handlers need no strand and
// the contexts share no scheduler lock. Timeouts are deadlines that a sweep
// checks every kSweepMs instead of a timer re-armed for every read and write.
// Per-client connection counts and request token buckets (ServerOptions' per-client
// limits), by remote address. An entry lives while its client has a connection open.
class ClientLimits {
 public:
  ClientLimits(int max_connections, double rate)
      : max_connections_(max_connections), rate_(rate), burst_(std::max(1.0, rate)) {}

  bool enabled() const { return max_connections_ > 0 || rate_ > 0; }

  // A connection from `client` opens: false when the client holds its cap already. A
  // client's bucket outlives its connections (reconnecting does not refill it).
  bool Open(const std::string& client) {
    core::MutexLock lock(mu_);
    if (clients_.size() >= kPruneAt) {
      Prune();
    }
    auto [it, added] = clients_.try_emplace(client);
    Entry& e = it->second;
    if (added) {
      e.tokens = burst_;
      e.refilled_us = core::SystemClock().MonotonicMicros();
    }
    if (max_connections_ > 0 && e.connections >= max_connections_) {
      return false;
    }
    ++e.connections;
    return true;
  }

  void Close(const std::string& client) {
    core::MutexLock lock(mu_);
    auto it = clients_.find(client);
    if (it != clients_.end()) {
      --it->second.connections;
      if (it->second.connections <= 0 && rate_ <= 0) {
        clients_.erase(it);  // no bucket to remember
      }
    }
  }

  // Takes one request from the client's bucket: 0 when allowed, else the whole seconds
  // until a request would be.
  int Take(const std::string& client) {
    if (rate_ <= 0) {
      return 0;
    }
    core::MutexLock lock(mu_);
    Entry& e = clients_[client];
    int64_t now = core::SystemClock().MonotonicMicros();
    e.tokens = std::min(burst_, e.tokens + static_cast<double>(now - e.refilled_us) / 1e6 * rate_);
    e.refilled_us = now;
    if (e.tokens >= 1) {
      e.tokens -= 1;
      return 0;
    }
    return static_cast<int>(std::ceil((1 - e.tokens) / rate_));
  }

 private:
  struct Entry {
    int connections = 0;
    double tokens = 0;
    int64_t refilled_us = 0;
  };
  // Forgets the clients with no connection whose bucket has refilled: they are as if new.
  void Prune() PLINTH_REQUIRES(mu_) {
    const int64_t now = core::SystemClock().MonotonicMicros();
    std::erase_if(clients_, [&](const auto& item) {
      const Entry& e = item.second;
      return e.connections <= 0 &&
             e.tokens + static_cast<double>(now - e.refilled_us) / 1e6 * rate_ >= burst_;
    });
  }

  static constexpr size_t kPruneAt = 4096;
  const int max_connections_;
  const double rate_;
  const double burst_;
  core::Mutex mu_;
  std::unordered_map<std::string, Entry> clients_ PLINTH_GUARDED_BY(mu_);
};

// Whose limits a connection counts against: an IPv4 address (also when mapped into
// IPv6), or an IPv6 /64, the smallest block one client is usually given.
std::string ClientKey(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_string();
  }
  if (a.is_v6()) {
    auto bytes = a.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return net::ip::address_v6(bytes).to_string() + "/64";
  }
  return a.to_string();
}

struct Server::Impl {
  static constexpr int kSweepMs = 100;

  ServerOptions options;
  AsyncHandler handler;
  ErrorFormatter errors;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  // Keep each context's run() going while the server accepts.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  size_t next_context = 0;  // on contexts[0]: where the next connection goes
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer sweep;
  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};
  ClientLimits limits{options.max_connections_per_client, options.requests_per_second_per_client};
  std::unique_ptr<net::ssl::context> tls;  // with a certificate: every connection is TLS
  core::Mutex sessions_mu;
  std::map<Session*, std::weak_ptr<Session>> sessions PLINTH_GUARDED_BY(sessions_mu);

  Impl(ServerOptions o, AsyncHandler h, ErrorFormatter e)
      : options(std::move(o)),
        handler(std::move(h)),
        errors(std::move(e)),
        contexts(MakeContexts(std::max(1, options.threads))),
        acceptor(*contexts[0]),
        signals(*contexts[0]),
        sweep(*contexts[0]) {
    for (auto& c : contexts) {
      guards.push_back(net::make_work_guard(*c));
    }
  }

  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(std::make_unique<net::io_context>(1));
    }
    return out;
  }

  void Accept();
  void Sweep();
  std::vector<std::shared_ptr<Session>> LiveSessions();
};

namespace {

// The reason phrase of an HTTP status, as Beast names it, in capitals as Werkzeug (MLflow's
// server) writes it: "401 UNAUTHORIZED". Clients that quote it (Python's requests:
// "401 Client Error: UNAUTHORIZED") then read the same text from both servers.
// Made once for every status, so a response only appends it.
std::string_view Reason(int status) {
  static const std::vector<std::string> kReasons = [] {
    std::vector<std::string> reasons(600);
    for (unsigned code = 0; code < reasons.size(); ++code) {
      const auto r = bhttp::obsolete_reason(bhttp::int_to_status(code));
      reasons[code].assign(r.data(), r.size());
      for (char& c : reasons[code]) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
    return reasons;
  }();
  if (status < 0 || status >= 600) {
    return "UNKNOWN";
  }
  return kReasons[static_cast<size_t>(status)];
}

// Replaces CR, LF and NUL in `text` from `from` on with spaces: a header value
// made from stored data (an artifact's file name) cannot end the header early.
void SanitizeHeaderValue(std::string& text, size_t from = 0) {
  for (size_t i = from; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n' || text[i] == '\0') {
      text[i] = ' ';
    }
  }
}

// A connection's socket, on its context's own executor type (no type erasure).
using Socket = tcp::socket::rebind_executor<net::io_context::executor_type>::other;
using TrackedExecutor = decltype(net::require(std::declval<net::io_context::executor_type>(),
                                              net::execution::outstanding_work.tracked));

// What the server and a Responder need of a connection, plain or TLS.
class Session : public std::enable_shared_from_this<Session> {
 public:
  virtual ~Session() = default;
  virtual void Start() = 0;
  // Closes the connection if it is waiting for a request (called on Stop).
  virtual void CloseIfIdle() = 0;
  // Closes the connection if its deadline has passed (called by the sweep).
  virtual void CloseIfExpired(int64_t now_ms) = 0;
  // Sends `resp` on the connection's context: inline when called there, posted from
  // any other thread.
  virtual void Answer(Response resp, bool keep_alive) = 0;
  virtual Server::Impl* server() const = 0;
  virtual net::io_context::executor_type executor() = 0;
};

using TlsStream = net::ssl::stream<Socket>;

// One connection over `Stream`: the TCP socket itself, or a TLS stream over it.
template <class Stream>
class Connection final : public Session {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Connection(Stream&& stream, Server::Impl* server, std::string client)
      : stream_(std::move(stream)), server_(server), client_(std::move(client)) {}

  ~Connection() override {
    --server_->connections;
    if (!client_.empty()) {
      server_->limits.Close(client_);
    }
    core::MutexLock lock(server_->sessions_mu);
    server_->sessions.erase(this);
  }

  void Start() override {
    {
      core::MutexLock lock(server_->sessions_mu);
      server_->sessions[this] = weak_from_this();
    }
    if constexpr (kTls) {
      // The handshake has the request timeout; a client that stalls in it is closed.
      ExpireIn(server_->options.request_timeout_seconds);
      net::dispatch(Lowest().get_executor(), [self = Self()] {
        self->idle_ = true;  // a stop closes a connection that has not finished its handshake
        self->stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
          self->idle_ = false;
          if (ec) {
            return self->Close();
          }
          self->ReadHeader();
        });
      });
    } else {
      net::dispatch(Lowest().get_executor(), [self = Self()] { self->ReadHeader(); });
    }
  }

  void CloseIfIdle() override {
    net::post(Lowest().get_executor(), [self = Self()] {
      if (self->idle_) {
        self->Close();
      }
    });
  }

  // Its pending read or write then ends with operation_aborted.
  void CloseIfExpired(int64_t now_ms) override {
    if (deadline_ms_.load(std::memory_order_relaxed) > now_ms) {
      return;
    }
    net::post(Lowest().get_executor(), [self = Self(), now_ms] {
      if (self->deadline_ms_.load(std::memory_order_relaxed) <= now_ms) {
        self->Close();
      }
    });
  }

  void Answer(Response resp, bool keep_alive) override {
    net::dispatch(Lowest().get_executor(),
                  [self = Self(), resp = std::move(resp), keep_alive]() mutable {
                    self->Send(std::move(resp), keep_alive);
                  });
  }

  Server::Impl* server() const override { return server_; }
  net::io_context::executor_type executor() override { return Lowest().get_executor(); }

 private:
  std::shared_ptr<Connection> Self() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }
  Socket& Lowest() { return beast::get_lowest_layer(stream_); }

  void ExpireIn(int seconds) {
    deadline_ms_.store(NowMs() + int64_t{seconds} * 1000, std::memory_order_relaxed);
  }

  // Waits for the next request. The idle deadline runs until its first byte
  // arrives; from then one deadline covers the request line, headers and body,
  // so a client sending its headers a byte at a time is closed like one sending
  // a slow body.
  void ReadHeader() {
    if (server_->stopping) {
      return Close();
    }
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(server_->options.max_header_bytes);
    if (buffer_.size() != 0) {  // pipelined: the next request has begun
      return ReadRequest();
    }
    idle_ = true;
    ExpireIn(server_->options.idle_timeout_seconds);
    if constexpr (kTls) {
      // One deadline covers the wait and the header here: the shorter of the two, so a
      // client sending its header a byte at a time is closed at the request timeout.
      ExpireIn(std::min(server_->options.idle_timeout_seconds,
                        server_->options.request_timeout_seconds));
      // Bytes may already wait decrypted inside the TLS stream, where the socket's
      // readiness cannot see them: read the header at once, under the idle deadline.
      bhttp::async_read_header(stream_, buffer_, *parser_,
                               [self = Self()](beast::error_code ec, size_t) {
                                 self->idle_ = false;
                                 self->ExpireIn(self->server_->options.request_timeout_seconds);
                                 self->OnHeader(ec);
                               });
      return;
    }
    Lowest().async_wait(tcp::socket::wait_read, [self = Self()](beast::error_code ec) {
      self->idle_ = false;
      if (ec) {
        return self->OnReadError(ec);
      }
      self->ReadRequest();
    });
  }

  void ReadRequest() {
    ExpireIn(server_->options.request_timeout_seconds);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      return OnReadError(ec);
    }
    if (auto refused = CheckFraming(); refused) {
      return Refuse(refused->first, refused->second);
    }
    if (parser_->is_done()) {  // no body: no second read
      return Handle();
    }
    if (ExpectsContinue()) {
      // The client waits for this before it sends the body (curl: a second, then anyway).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                              [self = Self()](beast::error_code e, size_t) {
                                if (e) {
                                  return self->OnReadError(e);
                                }
                                self->ReadBody();
                              });
    }
    ReadBody();
  }

  // An HTTP/1.1 request with "Expect: 100-continue" whose body has not begun to arrive.
  bool ExpectsContinue() const {
    const auto& header = parser_->get();
    auto expect = header.find(bhttp::field::expect);
    return header.version() >= 11 && expect != header.end() && buffer_.size() == 0 &&
           beast::iequals(expect->value(), "100-continue");
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_, [self = Self()](beast::error_code e, size_t) {
      if (e) {
        return self->OnReadError(e);
      }
      self->Handle();
    });
  }

  // A request whose body cannot be delimited safely (RFC 9112 6.1, 6.3, 3.2):
  // a transfer coding other than chunked alone, or HTTP/1.1 without Host.
  // Read on, such a body would be taken for the next request.
  std::optional<std::pair<int, std::string>> CheckFraming() const {
    const auto& header = parser_->get();
    if (auto te = header.find(bhttp::field::transfer_encoding); te != header.end()) {
      if (!parser_->chunked()) {
        return std::pair{400, "Transfer-Encoding \"" + std::string(te->value()) +
                                  "\": a request body's last transfer coding must be chunked"};
      }
      const auto value = te->value();
      const std::string_view coding = Trim(std::string_view(value.data(), value.size()));
      if (!beast::iequals(beast::string_view(coding.data(), coding.size()), "chunked")) {
        return std::pair{501, "Transfer-Encoding \"" + std::string(te->value()) +
                                  "\": only chunked is supported"};
      }
    }
    if (header.version() >= 11 && header.find(bhttp::field::host) == header.end()) {
      return std::pair{400, std::string("an HTTP/1.1 request needs a Host header")};
    }
    return std::nullopt;
  }

  static std::string_view Trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
      v.remove_prefix(1);
    }
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
      v.remove_suffix(1);
    }
    return v;
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof ||
        ec == net::error::bad_descriptor) {
      return Close();
    }
    int status = 400;
    std::string message = "malformed HTTP request: " + ec.message();
    if (ec == bhttp::error::body_limit) {
      status = 413;
      message = "request body larger than the limit of " +
                std::to_string(server_->options.max_body_bytes) + " bytes";
    } else if (ec == bhttp::error::header_limit) {
      status = 431;
      message = "request line and headers larger than the limit of " +
                std::to_string(server_->options.max_header_bytes) + " bytes";
    }
    Refuse(status, message);
  }

  // Answers an error and closes. The client may still be sending the rest of
  // the request: read and drop it after the answer, so it sees the answer
  // rather than a reset connection.
  void Refuse(int status, const std::string& message) {
    linger_ = true;
    head_ = false;
    Send(server_->errors(status, message), false);
  }

  void Handle() {
    // The handler may take its time (a batch, a group commit): no deadline until it answers.
    deadline_ms_.store(kNoDeadline, std::memory_order_relaxed);
    bhttp::request<bhttp::string_body> req = parser_->release();
    Request r;
    // HEAD is GET without the body (RFC 9110 9.3.2): handlers see GET, Send
    // writes the header only.
    head_ = req.method() == bhttp::verb::head;
    r.method = head_ ? std::string("GET") : std::string(req.method_string());
    r.target = std::string(req.target());
    std::string_view target = r.target;
    size_t q = target.find('?');
    r.path = core::PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) {
      r.query = core::ParseQuery(target.substr(q + 1));
    }
    r.headers.reserve(static_cast<size_t>(std::distance(req.begin(), req.end())));
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      r.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    r.body = std::move(req.body());
    Responder respond(std::make_shared<Responder::Target>(Self(), req.keep_alive()));
    if (!client_.empty()) {
      if (int wait = server_->limits.Take(client_); wait > 0) {  // over the client's rate
        Response limited = server_->errors(
            429, "too many requests from " + client_ + "; retry in " + std::to_string(wait) + " s");
        limited.headers.emplace_back("Retry-After", std::to_string(wait));
        respond(std::move(limited));
        return;
      }
    }
    try {
      server_->handler(std::move(r), respond);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} threw: {}", std::string(req.method_string()),
                    std::string(req.target()), e.what());
      respond(server_->errors(500, std::string("internal error: ") + e.what()));
    }
  }

  void Send(Response resp, bool keep_alive) {
    keep_alive = keep_alive && !server_->stopping;
    ExpireIn(server_->options.request_timeout_seconds);
    uint64_t content_length = resp.body.size();
    if (head_ && (!resp.file_path.empty() || resp.file)) {
      // HEAD: the file's size, not its bytes.
      struct stat st {};
      const int rc =
          resp.file ? ::fstat(resp.file->get(), &st) : ::stat(resp.file_path.c_str(), &st);
      if (rc != 0) {
        resp = server_->errors(404, "cannot read " +
                                        (resp.file ? std::string("the file") : resp.file_path) +
                                        ": " + std::strerror(errno));
        content_length = resp.body.size();
      } else {
        content_length = static_cast<uint64_t>(st.st_size);
      }
      resp.file_path.clear();
      resp.file.reset();
    }
    if (!resp.file_path.empty() || resp.file) {
      bhttp::file_body::value_type file;
      beast::error_code ec;
      if (resp.file) {
        beast::file own;
        own.native_handle(::dup(resp.file->get()));
        if (own.native_handle() < 0) {
          ec = beast::error_code(errno, beast::system_category());
        } else {
          file.reset(std::move(own), ec);
        }
      } else {
        file.open(resp.file_path.c_str(), beast::file_mode::scan, ec);
      }
      if (!ec) {
        auto res = std::make_shared<bhttp::response<bhttp::file_body>>(
            bhttp::status(static_cast<unsigned>(resp.status)), 11, std::move(file));
        res->set(bhttp::field::server, server_->options.server_name);
        res->set(bhttp::field::content_type, resp.content_type);
        for (const auto& [k, v] : resp.headers) {
          std::string value(v);
          SanitizeHeaderValue(value);
          res->set(k, value);
        }
        res->keep_alive(keep_alive);
        res->prepare_payload();
        bhttp::async_write(stream_, *res,
                           [self = Self(), res, keep_alive](beast::error_code e, size_t) {
                             self->AfterWrite(e, keep_alive);
                           });
        return;
      }
      resp = server_->errors(404, "cannot read " +
                                      (resp.file ? std::string("the file") : resp.file_path) +
                                      ": " + ec.message());
      content_length = resp.body.size();
    }
    // The status line and headers written here, then header and body in one
    // gathered write: what Beast's serializer would send, without its machinery.
    std::string& head = out_head_;
    head.clear();
    head += "HTTP/1.1 ";
    head += std::to_string(resp.status);
    head += ' ';
    head += Reason(resp.status);
    head += "\r\nServer: ";
    head += server_->options.server_name;
    head += "\r\nContent-Type: ";
    head += resp.content_type;
    for (const auto& [k, v] : resp.headers) {
      head += "\r\n";
      head += k;
      head += ": ";
      const size_t at = head.size();
      head += v;
      SanitizeHeaderValue(head, at);
    }
    head += "\r\nContent-Length: ";
    head += std::to_string(content_length);
    if (!keep_alive) {
      head += "\r\nConnection: close";
    }
    head += "\r\n\r\n";
    out_body_ = std::move(resp.body);
    if (head_) {
      out_body_.clear();
    }
    const std::array<net::const_buffer, 2> buffers{net::buffer(out_head_), net::buffer(out_body_)};
    net::async_write(stream_, buffers, [self = Self(), keep_alive](beast::error_code ec, size_t) {
      self->AfterWrite(ec, keep_alive);
    });
  }

  void AfterWrite(beast::error_code ec, bool keep_alive) {
    if (!ec && linger_) {
      return Linger();
    }
    if (ec || !keep_alive) {
      return Close();
    }
    ReadHeader();
  }

  // Half-closes, then discards what the client still sends, for up to 5 s.
  void Linger() {
    beast::error_code ec;
    Lowest().shutdown(tcp::socket::shutdown_send, ec);
    ExpireIn(5);
    discard_.resize(64 * 1024);
    ReadAndDiscard();
  }

  void ReadAndDiscard() {
    stream_.async_read_some(net::buffer(discard_), [self = Self()](beast::error_code ec, size_t) {
      if (ec) {
        return self->Close();
      }
      self->ReadAndDiscard();
    });
  }

  void Close() {
    deadline_ms_.store(kNoDeadline, std::memory_order_relaxed);
    beast::error_code ec;
    Lowest().shutdown(tcp::socket::shutdown_send, ec);
    Lowest().close(ec);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Server::Impl* server_;
  const std::string client_;  // the remote address, when the server limits clients
  bool idle_ = false;
  bool linger_ = false;
  bool head_ = false;  // the request being answered is a HEAD
  // Steady-clock milliseconds after which the sweep closes the connection.
  std::atomic<int64_t> deadline_ms_{kNoDeadline};
  std::string out_head_;  // the answer being written
  std::string out_body_;
  std::vector<char> discard_;
};

}  // namespace

struct Responder::Target {
  Target(std::shared_ptr<Session> s, bool k)
      : session(std::move(s)),
        keep_alive(k),
        work(net::require(session->executor(), net::execution::outstanding_work.tracked)) {}
  ~Target() {
    if (!answered.exchange(true)) {
      session->Answer(session->server()->errors(500, "the request was dropped without an answer"),
                      keep_alive);
    }
  }
  std::shared_ptr<Session> session;
  bool keep_alive;
  TrackedExecutor work;  // keeps the connection's context running until answered
  std::atomic<bool> answered{false};
};

void Responder::operator()(Response response) const {
  if (target_ && !target_->answered.exchange(true)) {
    target_->session->Answer(std::move(response), target_->keep_alive);
  }
}

void Responder::Post(std::function<void()> work) const {
  if (target_) {
    net::post(target_->work, std::move(work));
  } else {
    work();
  }
}

void Server::Impl::Accept() {
  net::io_context& target = *contexts[next_context];
  next_context = (next_context + 1) % contexts.size();
  acceptor.async_accept(target, [this](beast::error_code ec, Socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || stopping) {
        return;
      }
      spdlog::warn("accept failed: {}", ec.message());
    } else if (stopping) {
      return;
    } else if (connections >= options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);  // over the connection limit
    } else {
      std::string client;
      if (limits.enabled()) {
        beast::error_code ignored;
        client = ClientKey(socket.remote_endpoint(ignored).address());
        const bool admitted = limits.Open(client);
        if (!admitted && tls) {  // over the client's cap, and no handshake for an answer
          socket.close(ignored);
          Accept();
          return;
        }
        if (!admitted) {  // over the client's connection cap: a 429, then closed
          Response r = errors(429, "too many connections from " + client);
          std::string head = "HTTP/1.1 429 TOO MANY REQUESTS\r\nContent-Type: " + r.content_type +
                             "\r\nContent-Length: " + std::to_string(r.body.size()) +
                             "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + r.body;
          socket.non_blocking(true, ignored);
          socket.write_some(net::buffer(head), ignored);  // best effort: never blocks accept
          socket.close(ignored);
          Accept();
          return;
        }
      }
      ++connections;
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls) {
        std::make_shared<Connection<TlsStream>>(TlsStream(std::move(socket), *tls), this,
                                                std::move(client))
            ->Start();
      } else {
        std::make_shared<Connection<Socket>>(std::move(socket), this, std::move(client))->Start();
      }
    }
    Accept();
  });
}

std::vector<std::shared_ptr<Session>> Server::Impl::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  core::MutexLock lock(sessions_mu);
  for (auto& [ptr, weak] : sessions) {
    if (auto s = weak.lock()) {
      live.push_back(std::move(s));
    }
  }
  return live;
}

void Server::Impl::Sweep() {
  sweep.expires_after(std::chrono::milliseconds(kSweepMs));
  sweep.async_wait([this](beast::error_code ec) {
    if (ec) {
      return;  // cancelled: the server has stopped and its sessions are gone
    }
    const int64_t now = NowMs();
    for (auto& s : LiveSessions()) {
      s->CloseIfExpired(now);
    }
    if (!stopping || connections > 0) {
      Sweep();
    }
  });
}

Server::Server(ServerOptions options, AsyncHandler handler, ErrorFormatter errors)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(errors))) {}

Server::Server(ServerOptions options, Handler handler, ErrorFormatter errors)
    : Server(
          std::move(options),
          [handler = std::move(handler)](Request request, Responder respond) {
            respond(handler(request));
          },
          std::move(errors)) {}

Server::~Server() { Stop(); }

Status Server::Listen() {
  beast::error_code ec;
  if (!impl_->options.tls_cert_file.empty() || !impl_->options.tls_key_file.empty()) {
    if (impl_->options.tls_cert_file.empty() || impl_->options.tls_key_file.empty()) {
      return InvalidArgument("--tls-cert and --tls-key go together");
    }
    for (const auto& [flag, file] : {std::pair{"--tls-cert", impl_->options.tls_cert_file},
                                     std::pair{"--tls-key", impl_->options.tls_key_file}}) {
      struct stat st {};
      if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return InvalidArgument(std::string(flag) + " " + file + ": not a readable file");
      }
    }
    auto tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                         net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                         net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use,
                     ec);
    tls->use_certificate_chain_file(impl_->options.tls_cert_file, ec);
    if (ec) {
      return InvalidArgument("--tls-cert " + impl_->options.tls_cert_file +
                             ": not a readable PEM certificate chain (" + ec.message() + ")");
    }
    tls->use_private_key_file(impl_->options.tls_key_file, net::ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument("--tls-key " + impl_->options.tls_key_file +
                             ": not a readable PEM private key for the certificate (" +
                             ec.message() + ")");
    }
    impl_->tls = std::move(tls);
  }
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) {
    return InvalidArgument("--host \"" + impl_->options.host + "\": not an IP address");
  }
  tcp::endpoint endpoint(address, static_cast<uint16_t>(impl_->options.port));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    impl_->acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Unavailable("cannot listen on " + impl_->options.host + ":" +
                       std::to_string(impl_->options.port) + ": " + ec.message());
  }
  return Status::Ok();
}

int Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::Run(bool handle_signals) {
  if (handle_signals) {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    impl_->signals.async_wait([this](beast::error_code ec, int) {
      if (!ec) {
        Stop();
      }
    });
  }
  if (impl_->stopping) {
    return;
  }
  impl_->Accept();
  impl_->Sweep();
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    threads.emplace_back([this, i] { impl_->contexts[i]->run(); });
  }
  impl_->contexts[0]->run();
  for (auto& t : threads) {
    t.join();
  }
}

void Server::Stop() {
  if (impl_->stopping.exchange(true)) {
    return;
  }
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->signals.cancel(ec);
    for (auto& s : impl->LiveSessions()) {
      s->CloseIfIdle();
    }
    // Each context's run() now returns once its connections are closed.
    for (auto& g : impl->guards) {
      g.reset();
    }
  });
}

}  // namespace plinth::http
