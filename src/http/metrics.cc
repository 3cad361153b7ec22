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
  auto it = latency_.find(route);
  if (it == latency_.end()) {
    it = latency_.emplace(route, Histogram({kBuckets.begin(), kBuckets.end()})).first;
  }
  it->second.Observe(seconds);
}

void Histogram::Observe(double v) {
  size_t b = 0;
  while (b < bounds_.size() && v > bounds_[b]) {
    ++b;
  }
  if (b < bounds_.size()) {
    ++buckets_[b];
  }
  ++count_;
  sum_ += v;
}

void Histogram::Render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  char buf[64];
  uint64_t cumulative = 0;
  for (size_t b = 0; b < bounds_.size(); ++b) {
    cumulative += buckets_[b];
    std::snprintf(buf, sizeof(buf), "%g", bounds_[b]);
    out += name + "_bucket{" + labels + sep + "le=\"" + buf + "\"} " + std::to_string(cumulative) +
           "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(count_) + "\n";
  std::snprintf(buf, sizeof(buf), "%.9g", sum_);
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + buf + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
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
  for (const auto& [route, h] : latency_) {
    h.Render(out, lat, "route=\"" + PrometheusLabel(route) + "\"");
  }
  return out;
}

}  // namespace plinth::http
