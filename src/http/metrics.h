// Request metrics in Prometheus' text exposition format (version 0.0.4):
// requests by route, method and status, and a latency histogram by route.
// Thread-safe; recording takes one short lock.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace plinth::http {

// A Prometheus histogram over fixed upper bounds. Not locked: its owner locks.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), buckets_(bounds_.size(), 0) {}
  void Observe(double v);
  // The "NAME_bucket{LABELS,le=...}", "NAME_sum" and "NAME_count" lines; `labels`
  // is "" or `key="value",...`.
  void Render(std::string& out, const std::string& name, const std::string& labels) const;
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> buckets_;  // non-cumulative
  uint64_t count_ = 0;
  double sum_ = 0;
};

class RequestMetrics {
 public:
  // `prefix` names the metrics: "<prefix>_http_requests_total", ...
  explicit RequestMetrics(std::string prefix) : prefix_(std::move(prefix)) {}

  void Record(const std::string& route, const std::string& method, int status, double seconds);

  // The exposition text: # HELP / # TYPE lines, counters, histogram buckets, sum, count.
  std::string Render() const;

  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};

 private:
  std::string prefix_;
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

// A label value escaped as the format requires (\\, \", \n).
std::string PrometheusLabel(const std::string& v);

}  // namespace plinth::http
