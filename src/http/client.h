// An HTTP/1.1 client over libcurl, for Plinth talking to its own servers (the
// tracking client, later the model server's tests): keep-alive on one handle,
// timeouts, transport errors as Status. One Client per thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace plinth::http {

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
};

class Client {
 public:
  // `base_url` like "http://127.0.0.1:5000" (no trailing slash needed).
  explicit Client(std::string base_url, int timeout_seconds = 60);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& base_url() const { return base_url_; }

  // Answers longer than `max_bytes` are refused (Unavailable "... the answer is over N
  // bytes") once that much has come, not read to their end (default: no limit).
  void LimitResponse(size_t max_bytes);

  // Connects to `ip` whenever the URL names `host`:`port` (curl's --resolve), so that a
  // name checked once is not resolved again to somewhere else. Only http and https
  // are spoken; redirects are never followed.
  void Pin(const std::string& host, int port, const std::string& ip);

  // Sends `method` `target` (a path with any query, appended to the base URL).
  // Unavailable when the server cannot be reached or the transfer fails; any
  // HTTP status is a response.
  Result<ClientResponse> Send(std::string_view method, std::string_view target,
                              std::string_view body = {}, std::string_view content_type = {},
                              const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  struct Impl;
  std::string base_url_;
  std::string pinned_;  // "host:port:ip", or empty
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes `s` for a URL query value or path segment (RFC 3986 unreserved kept;
// '/' kept when `keep_slash`).
std::string UrlEncode(std::string_view s, bool keep_slash = false);

}  // namespace plinth::http
