#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
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

// A header value holding CR or LF (a file name from the store, say) stays one
// header line: the answer's headers cannot be split.
TEST(HttpServerTest, HeaderValuesCannotSplitTheAnswer) {
  Server server(ServerOptions{}, [](const Request&) {
    Response resp;
    resp.headers.emplace_back("X-Name", "a\r\nX-Injected: 1\n");
    resp.body = "ok";
    return resp;
  });
  ASSERT_TRUE(server.Listen().ok());
  std::thread t([&] { server.Run(false); });
  const std::string out =
      Exchange(server.port(), "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("\r\nX-Name: a  X-Injected: 1 \r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("\r\nX-Injected"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\nok"), std::string::npos) << out;
  server.Stop();
  t.join();
}

// Sends `bytes` and reads until the server closes the connection; false when it
// had not closed it after 20 s.
bool ClosedByServer(int port, const std::string& bytes, std::string* out) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval limit{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return false;
  }
  (void)::send(fd, bytes.data(), bytes.size(), 0);
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return n == 0;
}

// A connection idle after its answer, and one that stops halfway through its
// request line and headers, are both closed by the server on its own.
TEST(HttpServerTest, ClosesIdleAndStalledConnections) {
  ServerOptions o;
  o.idle_timeout_seconds = 1;
  o.request_timeout_seconds = 1;
  Server server(o, [](const Request&) {
    Response resp;
    resp.body = "hi";
    return resp;
  });
  ASSERT_TRUE(server.Listen().ok());
  std::thread t([&] { server.Run(false); });
  std::string idle;
  EXPECT_TRUE(ClosedByServer(server.port(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n", &idle));
  EXPECT_EQ(idle.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << idle;
  EXPECT_NE(idle.find("\r\nContent-Length: 2\r\n\r\nhi"), std::string::npos) << idle;
  std::string stalled;
  EXPECT_TRUE(ClosedByServer(server.port(), "GET / HTTP/1.1\r\nHost: h\r\n", &stalled));
  EXPECT_EQ(stalled, "");
  server.Stop();
  t.join();
}

TEST(HttpServerTest, AnswersLaterFromAnotherThread) {
  // The handler queues each request; a worker answers them, except "/drop",
  // whose Responder it lets go unanswered.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<Request, Responder>> queue;
  bool done = false;
  int received = 0;
  Server server({}, [&](Request r, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    ++received;
    queue.emplace_back(std::move(r), std::move(respond));
    cv.notify_one();
  });
  ASSERT_TRUE(server.Listen().ok());
  std::thread worker([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait(lock, [&] { return done || !queue.empty(); });
      if (queue.empty()) {
        return;
      }
      auto [req, respond] = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (req.path != "/drop") {
        Response resp;
        resp.body = "late " + req.path;
        respond(resp);
        resp.body = "again";
        respond(resp);  // a second answer is ignored
      }
      lock.lock();
    }
  });
  std::thread t([&] { server.Run(false); });

  std::string out = Exchange(server.port(),
                             "GET /one HTTP/1.1\r\n\r\n"
                             "GET /drop HTTP/1.1\r\n\r\n"
                             "GET /two HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("late /one"), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 500"), std::string::npos) << out;  // the dropped one
  EXPECT_NE(out.find("late /two"), std::string::npos) << out;
  EXPECT_EQ(out.find("again"), std::string::npos) << out;
  EXPECT_LT(out.find("late /one"), out.find("late /two"));

  // Stop while an answer is pending: Run waits for it, and it reaches the client.
  std::string pending;
  std::thread client([&] {
    pending = Exchange(server.port(), "GET /slow HTTP/1.1\r\nConnection: close\r\n\r\n");
  });
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (received == 4) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server.Stop();
  t.join();
  client.join();
  EXPECT_NE(pending.find("late /slow"), std::string::npos) << pending;
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_one();
  worker.join();
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
