#include "http/server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

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

}  // namespace

// An executor that counts as outstanding work: while an answer is pending, the
// I/O threads keep running even with no socket operation in flight.
using TrackedExecutor = decltype(net::require(std::declval<net::io_context&>().get_executor(),
                                              net::execution::outstanding_work.tracked));

struct Server::Impl {
  ServerOptions options;
  AsyncHandler handler;
  ErrorFormatter errors;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::signal_set signals;
  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};
  std::mutex sessions_mu;
  std::map<Session*, std::weak_ptr<Session>> sessions;

  Impl(ServerOptions o, AsyncHandler h, ErrorFormatter e)
      : options(std::move(o)),
        handler(std::move(h)),
        errors(std::move(e)),
        ioc(std::max(1, options.threads)),
        acceptor(net::make_strand(ioc)),
        signals(ioc) {}

  void Accept();
  void CloseIdleSessions();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Server::Impl* server)
      : stream_(std::move(socket)), server_(server) {}

  ~Session() {
    --server_->connections;
    std::lock_guard<std::mutex> lock(server_->sessions_mu);
    server_->sessions.erase(this);
  }

  void Start() {
    {
      std::lock_guard<std::mutex> lock(server_->sessions_mu);
      server_->sessions[this] = weak_from_this();
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Closes the connection if it is waiting for a request (called on Stop).
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.socket().close(ec);
      }
    });
  }

 private:
  void ReadHeader() {
    if (server_->stopping) {
      return Close();
    }
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(server_->options.max_header_bytes);
    idle_ = buffer_.size() == 0;
    stream_.expires_after(std::chrono::seconds(server_->options.idle_timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->idle_ = false;
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      return OnReadError(ec);
    }
    stream_.expires_after(std::chrono::seconds(server_->options.request_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code e, size_t) {
                        if (e) {
                          return self->OnReadError(e);
                        }
                        self->Handle();
                      });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == net::error::bad_descriptor) {
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
    // The client may still be sending the rest of the request: read and drop it
    // after the answer, so it sees the answer rather than a reset connection.
    linger_ = true;
    Send(server_->errors(status, message), false);
  }

  void Handle() {
    bhttp::request<bhttp::string_body> req = parser_->release();
    Request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    std::string_view target = r.target;
    size_t q = target.find('?');
    r.path = core::PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) {
      r.query = core::ParseQuery(target.substr(q + 1));
    }
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      r.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    r.body = std::move(req.body());
    Responder respond(std::make_shared<Responder::Target>(shared_from_this(), req.keep_alive()));
    try {
      server_->handler(std::move(r), respond);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} threw: {}", std::string(req.method_string()),
                    std::string(req.target()), e.what());
      respond(server_->errors(500, std::string("internal error: ") + e.what()));
    }
  }

 public:
  // Sends `resp` on the connection's strand: inline when called there, posted
  // from any other thread.
  void Answer(Response resp, bool keep_alive) {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this(), resp = std::move(resp), keep_alive]() mutable {
                    self->Send(std::move(resp), keep_alive);
                  });
  }

  Server::Impl* server() const { return server_; }

 private:
  void Send(Response resp, bool keep_alive) {
    keep_alive = keep_alive && !server_->stopping;
    if (!resp.file_path.empty()) {
      bhttp::file_body::value_type file;
      beast::error_code ec;
      file.open(resp.file_path.c_str(), beast::file_mode::scan, ec);
      if (!ec) {
        auto res = std::make_shared<bhttp::response<bhttp::file_body>>(
            bhttp::status(static_cast<unsigned>(resp.status)), 11, std::move(file));
        Fill(*res, resp, keep_alive);
        res->prepare_payload();
        return Write(res);
      }
      resp = server_->errors(404, "cannot read " + resp.file_path + ": " + ec.message());
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        bhttp::status(static_cast<unsigned>(resp.status)), 11);
    Fill(*res, resp, keep_alive);
    res->body() = std::move(resp.body);
    res->prepare_payload();
    Write(res);
  }

  template <typename Res>
  void Fill(Res& res, const Response& resp, bool keep_alive) {
    res.set(bhttp::field::server, server_->options.server_name);
    res.set(bhttp::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) {
      res.set(k, v);
    }
    res.keep_alive(keep_alive);
  }

  template <typename Res>
  void Write(std::shared_ptr<Res> res) {
    stream_.expires_after(std::chrono::seconds(server_->options.request_timeout_seconds));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec, size_t) {
                         if (!ec && self->linger_) {
                           return self->Linger();
                         }
                         if (ec || !res->keep_alive()) {
                           return self->Close();
                         }
                         self->ReadHeader();
                       });
  }

  // Half-closes, then discards what the client still sends, for up to 5 s.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(5));
    discard_.resize(64 * 1024);
    ReadAndDiscard();
  }

  void ReadAndDiscard() {
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) {
                                return self->Close();
                              }
                              self->ReadAndDiscard();
                            });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Server::Impl* server_;
  bool idle_ = false;
  bool linger_ = false;
  std::vector<char> discard_;
};

}  // namespace

struct Responder::Target {
  Target(std::shared_ptr<Session> s, bool k)
      : session(std::move(s)),
        keep_alive(k),
        work(net::require(session->server()->ioc.get_executor(),
                          net::execution::outstanding_work.tracked)) {}
  ~Target() {
    if (!answered.exchange(true)) {
      session->Answer(session->server()->errors(500, "the request was dropped without an answer"),
                      keep_alive);
    }
  }
  std::shared_ptr<Session> session;
  bool keep_alive;
  TrackedExecutor work;
  std::atomic<bool> answered{false};
};

void Responder::operator()(Response response) const {
  if (target_ && !target_->answered.exchange(true)) {
    target_->session->Answer(std::move(response), target_->keep_alive);
  }
}

void Server::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
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
      ++connections;
      std::make_shared<Session>(std::move(socket), this)->Start();
    }
    Accept();
  });
}

void Server::Impl::CloseIdleSessions() {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(sessions_mu);
    for (auto& [ptr, weak] : sessions) {
      if (auto s = weak.lock()) {
        live.push_back(std::move(s));
      }
    }
  }
  for (auto& s : live) {
    s->CloseIfIdle();
  }
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
  impl_->Accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->options.threads; ++i) {
    threads.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
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
    impl->CloseIdleSessions();
  });
}

}  // namespace plinth::http
