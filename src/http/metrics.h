// Prometheus' text exposition format (version 0.0.4): PrometheusWriter, the
// one place its lines are written, and the metrics both servers keep:
// requests by route, method and status, and a latency histogram by route
// (RequestMetrics: thread-safe, recording takes one short lock).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/mutex.h"

namespace plinth::http {

class Histogram;

// Appends metric families to `out`: a family's # HELP and # TYPE lines, then
// its samples, `name{key="value",...} value`. Label values are escaped;
// doubles are written in their shortest round-trip form.
class PrometheusWriter {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  explicit PrometheusWriter(std::string& out) : out_(out) {}

  // `type`: counter, gauge, histogram or summary.
  PrometheusWriter& Family(std::string_view name, std::string_view type, std::string_view help);
  PrometheusWriter& Sample(std::string_view name, Labels labels, uint64_t value);
  PrometheusWriter& Sample(std::string_view name, Labels labels, double value);
  // The histogram's NAME_bucket{LABELS,le="..."} (cumulative), NAME_sum and NAME_count lines.
  PrometheusWriter& Sample(std::string_view name, Labels labels, const Histogram& h);

 private:
  void Name(std::string_view name, std::string_view suffix, Labels labels,
            std::string_view le = {});
  std::string& out_;
};

// A Prometheus histogram over fixed upper bounds. Not locked: its owner locks.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), buckets_(bounds_.size(), 0) {}
  void Observe(double v);
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  friend class PrometheusWriter;
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

  // Appends the exposition text: # HELP / # TYPE lines, counters, histogram buckets, sum, count.
  void Render(std::string& out) const;

  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};

 private:
  std::string prefix_;
  mutable core::Mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_ PLINTH_GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ PLINTH_GUARDED_BY(mu_);
};

}  // namespace plinth::http
