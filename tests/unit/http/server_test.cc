#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "core/url.h"

namespace plinth::http {
namespace {

TEST(HttpQueryTest, DecodesLikeBrowsersSend) {
  EXPECT_EQ(core::PercentDecode("a%20b+c%2Fd%zz%4", true), "a b c/d%zz%4");
  EXPECT_EQ(core::PercentDecode("a+b", false), "a+b");
  auto q = core::ParseQuery("run_id=1&experiment_ids=2&experiment_ids=3&flag&x=%27a%27&&empty=");
  ASSERT_EQ(q.size(), 6u);
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(q[4].second, "'a'");
  Request r;
  r.query = q;
  EXPECT_EQ(r.QueryAll("experiment_ids"), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(r.Query("run_id"), "1");
  EXPECT_FALSE(r.Query("nope").has_value());
}

// Sends raw bytes to 127.0.0.1:port and reads until the peer closes.
std::string Exchange(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  (void)::send(fd, bytes.data(), bytes.size(), 0);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(HttpServerTest, KeepAliveLimitsAndShutdown) {
  ServerOptions o;
  o.max_body_bytes = 16;
  Server server(o, [](const Request& r) {
    Response resp;
    resp.content_type = "text/plain";
    resp.body = r.method + " " + r.path + " q=" + r.Query("q").value_or("") + " body=" + r.body;
    return resp;
  });
  ASSERT_TRUE(server.Listen().ok());
  ASSERT_GT(server.port(), 0);
  std::thread t([&] { server.Run(false); });

  // Two requests on one connection, the second one closing it.
  std::string out = Exchange(server.port(),
                             "GET /a%20b?q=x+y HTTP/1.1\r\nHost: h\r\n\r\n"
                             "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                             "Connection: close\r\n\r\nabc");
  EXPECT_NE(out.find("GET /a b q=x y body="), std::string::npos) << out;
  EXPECT_NE(out.find("POST /p q= body=abc"), std::string::npos) << out;
  // A body over the limit and a malformed request get the error formatter's answer.
  out = Exchange(server.port(), "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  out = Exchange(server.port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;

  server.Stop();
  t.join();  // Run returns once stopped
  EXPECT_EQ(Exchange(server.port(), "GET / HTTP/1.1\r\n\r\n"), "");
}

TEST(HttpServerTest, ListenErrorsNameTheAddress) {
  ServerOptions o;
  o.host = "not-an-ip";
  Server bad(o, [](const Request&) { return Response(); });
  EXPECT_EQ(bad.Listen().code(), StatusCode::kInvalidArgument);
  ServerOptions a;
  Server first(a, [](const Request&) { return Response(); });
  ASSERT_TRUE(first.Listen().ok());
  ServerOptions b;
  b.port = first.port();
  Server second(b, [](const Request&) { return Response(); });
  Status s = second.Listen();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(std::to_string(first.port())), std::string::npos);
}

}  // namespace
}  // namespace plinth::http
