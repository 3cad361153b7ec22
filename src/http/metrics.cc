#include "http/metrics.h"

#include <charconv>
#include <cmath>

namespace plinth::http {
namespace {

// A label value escaped as the format requires (\\, \", \n).
void AppendLabelValue(std::string& out, std::string_view v) {
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
}

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, ec == std::errc() ? end : buf);
  }
}

}  // namespace

PrometheusWriter& PrometheusWriter::Family(std::string_view name, std::string_view type,
                                           std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;  // text of our own: no backslashes or newlines to escape
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
  return *this;
}

void PrometheusWriter::Name(std::string_view name, std::string_view suffix, Labels labels,
                            std::string_view le) {
  out_ += name;
  out_ += suffix;
  if (labels.size() == 0 && le.empty()) {
    out_ += ' ';
    return;
  }
  char sep = '{';
  for (const auto& [key, value] : labels) {
    out_ += sep;
    out_ += key;
    out_ += "=\"";
    AppendLabelValue(out_, value);
    out_ += '"';
    sep = ',';
  }
  if (!le.empty()) {
    out_ += sep;
    out_ += "le=\"";
    out_ += le;
    out_ += '"';
  }
  out_ += "} ";
}

PrometheusWriter& PrometheusWriter::Sample(std::string_view name, Labels labels, uint64_t value) {
  Name(name, "", labels);
  out_ += std::to_string(value);
  out_ += '\n';
  return *this;
}

PrometheusWriter& PrometheusWriter::Sample(std::string_view name, Labels labels, double value) {
  Name(name, "", labels);
  AppendValue(out_, value);
  out_ += '\n';
  return *this;
}

PrometheusWriter& PrometheusWriter::Sample(std::string_view name, Labels labels,
                                           const Histogram& h) {
  uint64_t cumulative = 0;
  std::string le;
  for (size_t b = 0; b < h.bounds_.size(); ++b) {
    cumulative += h.buckets_[b];
    le.clear();
    AppendValue(le, h.bounds_[b]);
    Name(name, "_bucket", labels, le);
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  Name(name, "_bucket", labels, "+Inf");
  out_ += std::to_string(h.count_);
  out_ += '\n';
  Name(name, "_sum", labels);
  AppendValue(out_, h.sum_);
  out_ += '\n';
  Name(name, "_count", labels);
  out_ += std::to_string(h.count_);
  out_ += '\n';
  return *this;
}

void RequestMetrics::Record(const std::string& route, const std::string& method, int status,
                            double seconds) {
  core::MutexLock lock(mu_);
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

void RequestMetrics::Render(std::string& out) const {
  core::MutexLock lock(mu_);
  PrometheusWriter w(out);
  const std::string total = prefix_ + "_http_requests_total";
  w.Family(total, "counter", "HTTP requests answered, by route, method and status.");
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    const std::string code = std::to_string(status);
    w.Sample(total, {{"route", route}, {"method", method}, {"status", code}}, n);
  }
  const std::string lat = prefix_ + "_http_request_duration_seconds";
  w.Family(lat, "histogram", "Time from a request's last byte read to its answer, by route.");
  for (const auto& [route, h] : latency_) {
    w.Sample(lat, {{"route", route}}, h);
  }
}

}  // namespace plinth::http
