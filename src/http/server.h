// The HTTP/1.1 server every Plinth front end shares (the control plane now, the
// model server next): Boost.Beast over Asio, keep-alive, limits on header and
// body sizes and on idle and request time, a fixed number of I/O threads, and
// graceful shutdown. Handlers run on the I/O threads and must be thread-safe.
//
// A handler answers at once (Handler) or later, from any thread, through a
// Responder (AsyncHandler): a front end that merges concurrent requests (group
// commit, dynamic batching) hands the request on and frees the I/O thread for
// the next connection.
//
// Every error the server itself answers (a malformed request, a body over the
// limit, a timeout) goes through the ErrorFormatter, so a front end can keep one
// error shape (MLflow's JSON, say) for everything.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/unique_fd.h"

namespace plinth::http {

struct Request {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as sent: path and query
  std::string path;                                          // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // The first value of query parameter `name`, if present.
  std::optional<std::string> Query(std::string_view name) const;
  // Every value of query parameter `name`, in order.
  std::vector<std::string> QueryAll(std::string_view name) const;
  // The value of header `name` (lower case), or "".
  std::string_view Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is this file's content, streamed from disk.
  std::string file_path;
  // When set (instead of file_path), the body is this open regular file's content
  // from its start, streamed; the server reads it through a descriptor of its own,
  // so the file, once opened, cannot be swapped by a rename or a symbolic link.
  std::shared_ptr<const core::UniqueFd> file;
};

using Handler = std::function<Response(const Request&)>;

// Answers one request, from any thread. Copies share the answer: the first call
// is sent, later ones are ignored. When the last copy goes without an answer
// the client gets a 500, so a request is never left hanging. The server waits
// for outstanding answers before Run returns.
class Responder {
 public:
  struct Target;  // the connection waiting for the answer
  explicit Responder(std::shared_ptr<Target> target) : target_(std::move(target)) {}
  void operator()(Response response) const;
  // Runs `work` on the connection's I/O thread (and returns at once): a worker that
  // produced a result hands the rest of the request's work (formatting the answer,
  // say) back to the I/O threads, so it does not become the one thread all of it runs on.
  void Post(std::function<void()> work) const;

 private:
  std::shared_ptr<Target> target_;
};

using AsyncHandler = std::function<void(Request request, Responder respond)>;
using ErrorFormatter = std::function<Response(int status, const std::string& message)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = an ephemeral port (see Server::port)
  int threads = 2;
  uint64_t max_body_bytes = 64ull << 20;
  uint32_t max_header_bytes = 1u << 20;  // request line + headers: long GET queries fit
  int idle_timeout_seconds = 60;         // keep-alive connection without a request
  int request_timeout_seconds = 300;     // to read one whole request
  int max_connections = 4096;
  // Per client (remote IP address); 0: no limit. Over the connection cap a new
  // connection is answered 429 and closed; over the rate (a token bucket holding one
  // second's worth) a request is answered 429 with Retry-After, the connection kept.
  int max_connections_per_client = 0;
  double requests_per_second_per_client = 0;
  // PEM files: with both, every connection is TLS (1.2 or later); Listen checks them.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string server_name = "plinth";
};

// "text/plain" errors, for front ends without an error shape of their own.
Response PlainError(int status, const std::string& message);

class Server {
 public:
  Server(ServerOptions options, Handler handler, ErrorFormatter errors = PlainError);
  Server(ServerOptions options, AsyncHandler handler, ErrorFormatter errors = PlainError);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Unavailable when the address is in use, InvalidArgument
  // for an address that does not parse or TLS files that do not load.
  Status Listen();
  // The bound port (after Listen).
  int port() const;
  // Serves on `threads` threads until Stop (or SIGTERM/SIGINT when
  // `handle_signals`); returns once every connection is closed.
  void Run(bool handle_signals);
  // Stops accepting, lets in-flight requests finish and closes idle
  // connections. Thread-safe; callable from a handler or a signal.
  void Stop();

  struct Impl;  // opaque; public so the connection code can reach it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::http
