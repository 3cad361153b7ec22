// Live monitoring's configuration (monitoring.yaml, docs/MONITORING.md) and its alert
// rules: a metric of the current window compared with a threshold, held for a while
// before it fires (Prometheus' `for:`), with a severity. States go inactive -> pending
// -> firing -> resolved (inactive again) as Prometheus' alerting rules do, and firing or
// resolved alerts are delivered in Alertmanager's webhook payload (version 4), so
// receivers written for Alertmanager work unchanged.
//
//   window: {duration: 1h, rows: 100000}   # the newest rows of the last hour, at most N
//   interval: 30s                          # recomputed this often
//   drift: {drift_share: 0.5, min_values: 30, columns: {age: {method: psi}}}
//   webhook: {url: http://127.0.0.1:9093/alerts, retries: 3, timeout: 5s}
//   alerts:
//     - {name: LatencyHigh, metric: latency_p99_ms, op: ">", threshold: 100, for: 5m,
//        severity: warning}
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "monitor/dataset_drift.h"

namespace plinth::monitor {

// The metrics a rule can watch (values of the current window; absent when not known,
// e.g. accuracy before any label arrived, or every drift metric of an empty window: a
// rule whose metric is absent keeps its state, so a restart's empty window resolves
// nothing).
//   latency_p50_ms, latency_p90_ms, latency_p99_ms, error_rate, rows_per_second,
//   window_rows, dataset_drift_share, prediction_drift_score, multivariate_drift_error,
//   accuracy (realized), estimated_accuracy, accuracy_drop (relative drop of accuracy,
//   realized or else estimated, from the model's test accuracy)
const std::vector<std::string_view>& AlertMetrics();

enum class Comparison { kGreater, kGreaterEqual, kLess, kLessEqual };

struct AlertRule {
  std::string name;
  std::string metric;
  Comparison op = Comparison::kGreater;
  double threshold = 0;
  int64_t for_us = 0;
  std::string severity = "warning";
  std::string summary;  // default: "<metric> <op> <threshold>"
  bool Holds(double value) const;
  std::string Describe() const;  // "latency_p99_ms > 100"
};

struct WebhookConfig {
  std::string url;  // http:// or https://
  int retries = 3;
  int timeout_seconds = 5;
};

struct MonitoringConfig {
  int64_t window_us = int64_t{3600} * 1000000;
  int64_t window_rows = 100000;
  int64_t interval_us = int64_t{30} * 1000000;
  DriftRules drift;
  std::optional<WebhookConfig> webhook;
  std::vector<AlertRule> alerts;
};

// Errors name the file, line and key ("monitoring.yaml:7: alerts[1]: key 'metric':
// unknown metric 'latency'; expected one of ...").
Result<MonitoringConfig> ParseMonitoringConfig(std::string_view yaml, std::string_view source);
Result<MonitoringConfig> ReadMonitoringConfig(const std::string& path);

// One rule's state, carried from one evaluation to the next.
struct AlertState {
  enum Phase { kInactive, kPending, kFiring } phase = kInactive;
  int64_t active_since_us = 0;  // when the condition started to hold
  int64_t fired_us = 0;         // when it fired (Alertmanager's startsAt)
  double value = 0;             // the last value seen
};

// A change worth telling: a rule started firing, or a firing one resolved.
struct AlertEvent {
  std::string rule;
  bool firing = true;
  double value = 0;
  int64_t at_us = 0;     // when it fired or resolved
  int64_t since_us = 0;  // when it fired (startsAt)
};

// Evaluates `rules` against `values` at `now_us`, updating `states` (by rule name);
// returns the alerts that fired or resolved.
std::vector<AlertEvent> EvaluateAlerts(const std::vector<AlertRule>& rules,
                                       const std::map<std::string, double>& values, int64_t now_us,
                                       std::map<std::string, AlertState>& states);

// Who the alerts are about: labels every alert carries.
struct AlertSubject {
  std::string model, model_version, data_sha256, instance;
  std::string external_url;  // where /monitor answers, for generatorURL
};

// Alertmanager's webhook payload (version 4) for `events`, one group per call.
core::Json AlertmanagerPayload(const std::vector<AlertEvent>& events,
                               const std::vector<AlertRule>& rules, const AlertSubject& subject);

// One line of the alert history (alerts.jsonl in the log directory), and back.
core::Json AlertEventToJson(const AlertEvent& e, const AlertRule& rule,
                            const AlertSubject& subject);

}  // namespace plinth::monitor
