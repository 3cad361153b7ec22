#include "http/metrics.h"

#include <cstdio>

namespace plinth::http {

std::string PrometheusLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void RequestMetrics::Record(const std::string& route, const std::string& method, int status,
                            double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, method, status}];
  Histogram& h = latency_[route];
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) {
    ++b;
  }
  if (b < kBuckets.size()) {
    ++h.buckets[b];
  }
  ++h.count;
  h.sum += seconds;
}

std::string RequestMetrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  const std::string total = prefix_ + "_http_requests_total";
  out += "# HELP " + total + " HTTP requests answered, by route, method and status.\n";
  out += "# TYPE " + total + " counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += total + "{route=\"" + PrometheusLabel(route) + "\",method=\"" + PrometheusLabel(method) +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  const std::string lat = prefix_ + "_http_request_duration_seconds";
  out += "# HELP " + lat + " Time from a request's last byte read to its answer, by route.\n";
  out += "# TYPE " + lat + " histogram\n";
  char buf[64];
  for (const auto& [route, h] : latency_) {
    const std::string label = "route=\"" + PrometheusLabel(route) + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += h.buckets[b];
      std::snprintf(buf, sizeof(buf), "%g", kBuckets[b]);
      out += lat + "_bucket{" + label + ",le=\"" + buf + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += lat + "_bucket{" + label + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    std::snprintf(buf, sizeof(buf), "%.9g", h.sum);
    out += lat + "_sum{" + label + "} " + buf + "\n";
    out += lat + "_count{" + label + "} " + std::to_string(h.count) + "\n";
  }
  return out;
}

}  // namespace plinth::http
