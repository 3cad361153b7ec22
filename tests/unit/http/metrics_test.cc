#include "http/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace plinth::http {
namespace {

// The one writer of the exposition format: HELP/TYPE lines, escaped label
// values, cumulative buckets, shortest round-trip doubles.
TEST(PrometheusWriter, WritesTheTextFormat) {
  std::string out;
  Histogram h({0.5, 1, 2.5});
  for (double v : {0.25, 0.5, 0.75, 3.0}) {
    h.Observe(v);
  }
  PrometheusWriter(out)
      .Family("x_total", "counter", "Things, by kind.")
      .Sample("x_total", {{"kind", "a\"b\\c\nd"}, {"v", "1"}}, uint64_t{18446744073709551615u})
      .Family("g", "gauge", "A gauge.")
      .Sample("g", {}, 0.1)
      .Sample("g", {{"k", "nan"}}, std::numeric_limits<double>::quiet_NaN())
      .Sample("g", {{"k", "inf"}}, -std::numeric_limits<double>::infinity())
      .Family("h", "histogram", "A histogram.")
      .Sample("h", {{"route", "/r"}}, h)
      .Sample("h", {}, Histogram({1}));
  EXPECT_EQ(out,
            "# HELP x_total Things, by kind.\n"
            "# TYPE x_total counter\n"
            "x_total{kind=\"a\\\"b\\\\c\\nd\",v=\"1\"} 18446744073709551615\n"
            "# HELP g A gauge.\n"
            "# TYPE g gauge\n"
            "g 0.1\n"
            "g{k=\"nan\"} NaN\n"
            "g{k=\"inf\"} -Inf\n"
            "# HELP h A histogram.\n"
            "# TYPE h histogram\n"
            "h_bucket{route=\"/r\",le=\"0.5\"} 2\n"
            "h_bucket{route=\"/r\",le=\"1\"} 3\n"
            "h_bucket{route=\"/r\",le=\"2.5\"} 3\n"
            "h_bucket{route=\"/r\",le=\"+Inf\"} 4\n"
            "h_sum{route=\"/r\"} 4.5\n"
            "h_count{route=\"/r\"} 4\n"
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\n"
            "h_count 0\n");
}

TEST(RequestMetrics, CountsByRouteMethodAndStatus) {
  RequestMetrics m("p");
  m.Record("/a", "GET", 200, 0.002);
  m.Record("/a", "GET", 200, 0.02);
  m.Record("/b", "POST", 400, 3);
  std::string out;
  m.Render(out);
  EXPECT_NE(out.find("p_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 2\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("p_http_requests_total{route=\"/b\",method=\"POST\",status=\"400\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("p_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.0025\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("p_http_request_duration_seconds_bucket{route=\"/b\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("p_http_request_duration_seconds_count{route=\"/b\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace plinth::http
