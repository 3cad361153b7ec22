// An open-loop HTTP/1.1 load generator: POST requests at a fixed rate over N keep-alive
// connections to 127.0.0.1, each request's latency counted from the moment it was due (not
// from when a connection was free to send it), so a server that falls behind shows it in the
// tail. wrk keeps N requests in flight whatever the server does: at 64 connections its p99 is
// mostly time spent waiting in the server's queue (64 / throughput), which says how loaded the
// server was, not how long one request takes. Here the rate is chosen below the server's
// capacity and the percentiles are those of requests served at that rate.
//
// usage: load_gen PORT PATH RATE SECONDS CONNECTIONS BODY_PREFIX COUNT
//   sends BODY_PREFIX0.json .. BODY_PREFIX<COUNT-1>.json in turn; prints one JSON line:
//   {"sent", "rate", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "errors", "late"}
//   (late: requests sent more than 1 ms after they were due, for want of a free connection or
//   because this program fell behind).
//
// Hand-written because no packaged tool does this: wrk2 (which does) is not in Debian, and
// Debian's h2load paces requests but reports no percentiles.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  bool busy = false;
  std::string out;  // what is left to send
  std::string in;   // what was read of the answer
  Clock::time_point due;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "load_gen: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(2);
}

// A connection, made before the clock starts, then non-blocking.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    Die("socket");
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    Die("connect");
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// The length of a whole answer at the start of `in` (headers and a Content-Length body), or 0
// while it is incomplete; sets `status`.
size_t AnswerLength(const std::string& in, int* status) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) {
    return 0;
  }
  *status = std::atoi(in.c_str() + in.find(' ') + 1);
  size_t length = 0;
  for (size_t p = in.find("\r\n"); p < end; p = in.find("\r\n", p + 2)) {
    static constexpr char kName[] = "content-length:";
    if (strncasecmp(in.c_str() + p + 2, kName, sizeof(kName) - 1) == 0) {
      length = std::strtoull(in.c_str() + p + 2 + sizeof(kName) - 1, nullptr, 10);
    }
  }
  return in.size() >= end + 4 + length ? end + 4 + length : 0;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) {
    return 0;
  }
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: load_gen PORT PATH RATE SECONDS CONNECTIONS BODY_PREFIX COUNT\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string path = argv[2];
  const double rate = std::atof(argv[3]);
  const double seconds = std::atof(argv[4]);
  const int nconns = std::atoi(argv[5]);
  const int count = std::atoi(argv[7]);
  if (port <= 0 || rate <= 0 || seconds <= 0 || nconns <= 0 || count <= 0) {
    std::fprintf(stderr, "load_gen: PORT, RATE, SECONDS, CONNECTIONS and COUNT must be > 0\n");
    return 2;
  }
  std::vector<std::string> requests;
  for (int i = 0; i < count; ++i) {
    std::ifstream f(std::string(argv[6]) + std::to_string(i) + ".json", std::ios::binary);
    if (!f) {
      Die(std::string("reading ") + argv[6] + std::to_string(i) + ".json");
    }
    std::stringstream body;
    body << f.rdbuf();
    requests.push_back("POST " + path +
                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: " +
                       std::to_string(body.str().size()) + "\r\n\r\n" + body.str());
  }
  const int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(nconns));
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = Connect(port);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const int64_t total = static_cast<int64_t>(rate * seconds);
  std::deque<Clock::time_point> waiting;  // due requests with no free connection yet
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(total));
  int64_t scheduled = 0;
  int64_t errors = 0;
  int64_t late = 0;
  size_t next_body = 0;
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(100);

  const auto send_some = [&](Conn& c) {
    while (!c.out.empty()) {
      const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) {
          return;
        }
        Die("send");
      }
      c.out.erase(0, static_cast<size_t>(n));
    }
  };
  size_t turn = 0;  // connections taken in turn: a server's workers each own some of them
  const auto dispatch = [&](Clock::time_point due) {
    for (size_t k = 0; k < conns.size(); ++k) {
      Conn& c = conns[(turn + k) % conns.size()];
      if (!c.busy) {
        turn = (turn + k + 1) % conns.size();
        late += static_cast<int64_t>(Clock::now() - due > std::chrono::milliseconds(1));
        c.busy = true;
        c.due = due;
        c.out = requests[next_body++ % requests.size()];
        send_some(c);
        return true;
      }
    }
    return false;
  };

  while (static_cast<int64_t>(latencies.size()) + errors < total) {
    const Clock::time_point now = Clock::now();
    while (scheduled < total &&
           start + std::chrono::duration_cast<Clock::duration>(interval * scheduled) <= now) {
      waiting.push_back(start + std::chrono::duration_cast<Clock::duration>(interval * scheduled));
      ++scheduled;
    }
    while (!waiting.empty() && dispatch(waiting.front())) {
      waiting.pop_front();
    }
    // Sleeps until the next request is due (to the microsecond: a timeout in whole
    // milliseconds would be 0 below 1 ms and spin a core the server needs), or an answer.
    int64_t wait_ns = 1000000;
    if (scheduled < total && waiting.empty()) {
      const auto next = start + std::chrono::duration_cast<Clock::duration>(interval * scheduled);
      wait_ns = std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::nanoseconds>(next - Clock::now()).count());
    }
    const timespec timeout{static_cast<time_t>(wait_ns / 1000000000),
                           static_cast<long>(wait_ns % 1000000000)};
    epoll_event events[256];
    const int n = epoll_pwait2(ep, events, 256, &timeout, nullptr);
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[e].data.u64];
      if ((events[e].events & EPOLLOUT) != 0) {
        send_some(c);
      }
      if ((events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) {
        continue;
      }
      char buf[65536];
      for (;;) {
        const ssize_t got = recv(c.fd, buf, sizeof(buf), 0);
        if (got < 0 && errno == EAGAIN) {
          break;
        }
        if (got <= 0) {
          Die("the server closed a connection");
        }
        c.in.append(buf, static_cast<size_t>(got));
      }
      int status = 0;
      while (c.busy) {
        const size_t len = AnswerLength(c.in, &status);
        if (len == 0) {
          break;
        }
        c.in.erase(0, len);
        c.busy = false;
        if (status / 100 != 2) {
          ++errors;
        } else {
          latencies.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - c.due).count());
        }
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const size_t served = latencies.size();
  std::vector<double> v = latencies;
  std::printf(
      "{\"sent\": %lld, \"rate\": %.1f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
      "\"p999_ms\": %.3f, \"max_ms\": %.3f, \"errors\": %lld, \"late\": %lld}\n",
      static_cast<long long>(total), static_cast<double>(served) / elapsed, Percentile(v, 0.5),
      Percentile(v, 0.9), Percentile(v, 0.99), Percentile(v, 0.999),
      v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()), static_cast<long long>(errors),
      static_cast<long long>(late));
  for (Conn& c : conns) {
    close(c.fd);
  }
  close(ep);
  return 0;
}
