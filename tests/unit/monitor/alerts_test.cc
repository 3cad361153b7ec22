// monitoring.yaml and the alert rules' states; the server's use of them (webhook, restarts)
// is e2e.serve_monitor's.
#include "monitor/alerts.h"

#include <gtest/gtest.h>

namespace plinth::monitor {
namespace {

constexpr int64_t kSecond = 1000000;

TEST(AlertsTest, ParsesTheExampleConfig) {
  Result<MonitoringConfig> c = ParseMonitoringConfig(
      "window: {duration: 30m, rows: 5000}\ninterval: 10s\n"
      "drift: {drift_share: 0.3}\n"
      "webhook: {url: 'http://127.0.0.1:9/x', retries: 2, timeout: 3s}\n"
      "alerts:\n"
      "  - {name: Slow, metric: latency_p99_ms, op: '>=', threshold: 100, for: 5m}\n",
      "m.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->window_us, 1800 * kSecond);
  EXPECT_EQ(c->window_rows, 5000);
  EXPECT_EQ(c->interval_us, 10 * kSecond);
  EXPECT_DOUBLE_EQ(c->drift.drift_share, 0.3);
  ASSERT_TRUE(c->webhook.has_value());
  EXPECT_EQ(c->webhook->retries, 2);
  EXPECT_EQ(c->webhook->timeout_seconds, 3);
  ASSERT_EQ(c->alerts.size(), 1u);
  EXPECT_EQ(c->alerts[0].Describe(), "latency_p99_ms >= 100");
  EXPECT_EQ(c->alerts[0].for_us, 300 * kSecond);
  EXPECT_EQ(c->alerts[0].severity, "warning");
}

TEST(AlertsTest, ErrorsNameTheLineAndKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"alerts:\n  - {name: A, metric: nope, threshold: 1}\n",
       "m.yaml:2: alerts[0]: key 'metric': unknown metric 'nope'"},
      {"alerts:\n  - {name: A, metric: error_rate}\n", "key 'threshold': missing"},
      {"alerts:\n  - {name: 'a b', metric: error_rate, threshold: 1}\n", "key 'name': expected"},
      {"alerts:\n  - {name: A, metric: error_rate, threshold: 1, op: '=='}\n",
       "key 'op': expected >, >=, < or <="},
      {"alerts:\n  - {name: A, metric: error_rate, threshold: 1}\n"
       "  - {name: A, metric: error_rate, threshold: 2}\n",
       "alert 'A' given twice"},
      {"window: {rows: 10}\n", "m.yaml:1: key 'window.rows': expected a whole number from 100"},
      {"interval: 2h\nwindow: {duration: 1h}\nalerts: [{name: A, metric: error_rate, "
       "threshold: 1}]\n",
       "key 'interval' is longer than 'window.duration'"},
      {"webhook: {url: 'file:///etc/passwd'}\n", "expected an http:// or https:// URL"},
      {"drift: {columns: {age: {method: kl}}}\n", "unknown drift method 'kl'"},
      {"extra: 1\n", "m.yaml:1: monitoring: unknown key 'extra'"},
  };
  for (const auto& [yaml, message] : cases) {
    Result<MonitoringConfig> c = ParseMonitoringConfig(yaml, "m.yaml");
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find(message), std::string::npos)
        << yaml << " -> " << c.status().message();
  }
}

TEST(AlertsTest, PendingThenFiringThenResolved) {
  AlertRule rule;
  rule.name = "Drift";
  rule.metric = "dataset_drift_share";
  rule.threshold = 0.05;
  rule.for_us = 10 * kSecond;
  const std::vector<AlertRule> rules = {rule};
  std::map<std::string, AlertState> states;
  auto at = [&](double v, int64_t s) {
    return EvaluateAlerts(rules, {{"dataset_drift_share", v}}, s * kSecond, states);
  };
  EXPECT_TRUE(at(0.5, 0).empty());  // pending
  EXPECT_EQ(states["Drift"].phase, AlertState::kPending);
  EXPECT_TRUE(at(0.5, 5).empty());
  std::vector<AlertEvent> fired = at(0.5, 10);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(fired[0].firing);
  EXPECT_TRUE(at(0.6, 20).empty());  // still firing: told once
  // No value (an empty window after a restart): the state stays.
  EXPECT_TRUE(EvaluateAlerts(rules, {}, 25 * kSecond, states).empty());
  EXPECT_EQ(states["Drift"].phase, AlertState::kFiring);
  std::vector<AlertEvent> resolved = at(0.0, 30);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_FALSE(resolved[0].firing);
  EXPECT_EQ(resolved[0].since_us, 10 * kSecond);
  // A blip shorter than `for` never fires.
  EXPECT_TRUE(at(0.5, 40).empty());
  EXPECT_TRUE(at(0.0, 45).empty());
  EXPECT_EQ(states["Drift"].phase, AlertState::kInactive);
}

TEST(AlertsTest, AlertmanagerPayload) {
  AlertRule rule;
  rule.name = "Slow";
  rule.metric = "latency_p99_ms";
  rule.threshold = 100;
  rule.severity = "critical";
  AlertSubject subject{"adult", "3", "abc", "127.0.0.1:8080", "http://127.0.0.1:8080/monitor"};
  const core::Json p =
      AlertmanagerPayload({{"Slow", true, 150, 2 * kSecond, 2 * kSecond}}, {rule}, subject);
  EXPECT_EQ(p["version"], "4");
  EXPECT_EQ(p["status"], "firing");
  const core::Json& a = p["alerts"][0];
  EXPECT_EQ(a["labels"]["alertname"], "Slow");
  EXPECT_EQ(a["labels"]["severity"], "critical");
  EXPECT_EQ(a["labels"]["model_version"], "3");
  EXPECT_EQ(a["annotations"]["summary"], "latency_p99_ms > 100");
  EXPECT_EQ(a["startsAt"], "1970-01-01T00:00:02.000000Z");
  EXPECT_EQ(a["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(a["fingerprint"].get<std::string>().size(), 16u);
}

}  // namespace
}  // namespace plinth::monitor
