#include "monitor/alerts.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "core/clock.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/yaml.h"
#include "monitor/report.h"

namespace plinth::monitor {
namespace {

constexpr size_t kMaxAlerts = 100;

std::string_view OpName(Comparison op) {
  switch (op) {
    case Comparison::kGreater:
      return ">";
    case Comparison::kGreaterEqual:
      return ">=";
    case Comparison::kLess:
      return "<";
    case Comparison::kLessEqual:
      return "<=";
  }
  return ">";
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

Status CheckKeys(const YAML::Node& map, std::string_view source, const std::string& what,
                 const std::vector<std::string_view>& known) {
  return core::YamlCheckKeys(map, source, what, known);
}

Result<int64_t> Duration(const YAML::Node& n, std::string_view source, const std::string& key,
                         bool zero_ok) {
  const std::string where = core::YamlWhere(n, source);
  PLINTH_ASSIGN_OR_RETURN(std::string text,
                          core::YamlAs<std::string>(n, where, key, "a duration such as 30s"));
  if (zero_ok && !text.empty() && text.find_first_not_of('0') != std::string::npos &&
      std::string_view("smhdw").find(text.back()) != std::string_view::npos &&
      text.find_first_not_of('0') == text.size() - 1) {
    return int64_t{0};  // 0s, 0m, 00h ...
  }
  if (zero_ok && text.find_first_not_of('0') == std::string::npos && !text.empty()) {
    return int64_t{0};  // 0
  }
  Result<int64_t> us = ParseDuration(text, "key '" + key + "'");
  if (!us.ok()) {
    return InvalidArgument(where + ": " + us.status().message());
  }
  return us;
}

}  // namespace

const std::vector<std::string_view>& AlertMetrics() {
  static const std::vector<std::string_view> kMetrics = {
      "latency_p50_ms",           "latency_p90_ms", "latency_p99_ms",      "error_rate",
      "rows_per_second",          "window_rows",    "dataset_drift_share", "prediction_drift_score",
      "multivariate_drift_error", "accuracy",       "estimated_accuracy",  "accuracy_drop"};
  return kMetrics;
}

bool AlertRule::Holds(double value) const {
  switch (op) {
    case Comparison::kGreater:
      return value > threshold;
    case Comparison::kGreaterEqual:
      return value >= threshold;
    case Comparison::kLess:
      return value < threshold;
    case Comparison::kLessEqual:
      return value <= threshold;
  }
  return false;
}

std::string AlertRule::Describe() const {
  return metric + " " + std::string(OpName(op)) + " " + Number(threshold);
}

Result<MonitoringConfig> ParseMonitoringConfig(std::string_view yaml, std::string_view source) {
  PLINTH_ASSIGN_OR_RETURN(YAML::Node root, core::ParseYaml(yaml, source));
  MonitoringConfig c;
  if (!root.IsDefined() || root.IsNull()) {
    return c;
  }
  PLINTH_RETURN_IF_ERROR(
      CheckKeys(root, source, "monitoring", {"window", "interval", "drift", "webhook", "alerts"}));
  if (const YAML::Node w = root["window"]; w.IsDefined() && !w.IsNull()) {
    PLINTH_RETURN_IF_ERROR(CheckKeys(w, source, "window", {"duration", "rows"}));
    if (w["duration"].IsDefined()) {
      PLINTH_ASSIGN_OR_RETURN(c.window_us,
                              Duration(w["duration"], source, "window.duration", false));
    }
    if (w["rows"].IsDefined()) {
      const std::string where = core::YamlWhere(w["rows"], source);
      PLINTH_ASSIGN_OR_RETURN(c.window_rows,
                              core::YamlAs<int64_t>(w["rows"], where, "window.rows",
                                                    "a whole number from 100 to 10000000"));
      if (c.window_rows < 100 || c.window_rows > 10'000'000) {
        return InvalidArgument(where +
                               ": key 'window.rows': expected a whole number from 100 "
                               "to 10000000");
      }
    }
  }
  if (const YAML::Node n = root["interval"]; n.IsDefined() && !n.IsNull()) {
    PLINTH_ASSIGN_OR_RETURN(c.interval_us, Duration(n, source, "interval", false));
  }
  if (const YAML::Node d = root["drift"]; d.IsDefined() && !d.IsNull()) {
    PLINTH_ASSIGN_OR_RETURN(c.drift, DriftRulesFromYaml(d, source));
  }
  if (const YAML::Node h = root["webhook"]; h.IsDefined() && !h.IsNull()) {
    PLINTH_RETURN_IF_ERROR(CheckKeys(h, source, "webhook", {"url", "retries", "timeout"}));
    WebhookConfig web;
    PLINTH_ASSIGN_OR_RETURN(web.url, core::YamlMember<std::string>(h, "url", source, "a URL"));
    if (!web.url.starts_with("http://") && !web.url.starts_with("https://")) {
      return InvalidArgument(core::YamlWhere(h["url"], source) +
                             ": key 'webhook.url': expected an http:// or https:// URL, got \"" +
                             web.url.substr(0, 64) + "\"");
    }
    if (h["retries"].IsDefined()) {
      const std::string where = core::YamlWhere(h["retries"], source);
      PLINTH_ASSIGN_OR_RETURN(web.retries,
                              core::YamlAs<int>(h["retries"], where, "webhook.retries", "0 to 10"));
      if (web.retries < 0 || web.retries > 10) {
        return InvalidArgument(where + ": key 'webhook.retries': expected 0 to 10");
      }
    }
    if (h["timeout"].IsDefined()) {
      PLINTH_ASSIGN_OR_RETURN(int64_t us, Duration(h["timeout"], source, "webhook.timeout", false));
      if (us > int64_t{60} * 1000000) {
        return InvalidArgument(core::YamlWhere(h["timeout"], source) +
                               ": key 'webhook.timeout': expected at most 60s");
      }
      web.timeout_seconds = static_cast<int>(us / 1000000);
    }
    c.webhook = web;
  }
  if (const YAML::Node a = root["alerts"]; a.IsDefined() && !a.IsNull()) {
    if (!a.IsSequence()) {
      return InvalidArgument(core::YamlWhere(a, source) + ": key 'alerts': expected a list");
    }
    if (a.size() > kMaxAlerts) {
      return InvalidArgument(core::YamlWhere(a, source) + ": key 'alerts': at most " +
                             std::to_string(kMaxAlerts) + " rules");
    }
    std::set<std::string> names;
    for (size_t i = 0; i < a.size(); ++i) {
      const YAML::Node r = a[i];
      const std::string what = "alerts[" + std::to_string(i) + "]";
      PLINTH_RETURN_IF_ERROR(CheckKeys(
          r, source, what, {"name", "metric", "op", "threshold", "for", "severity", "summary"}));
      AlertRule rule;
      auto member = [&](const char* key, const char* expected) {
        return core::YamlMember<std::string>(r, key, source, expected);
      };
      PLINTH_ASSIGN_OR_RETURN(rule.name, member("name", "a name of letters, digits and _"));
      const std::string at = core::YamlWhere(r, source) + ": " + what;
      if (rule.name.empty() || rule.name.size() > 64 ||
          rule.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_") != std::string::npos) {
        return InvalidArgument(at + ": key 'name': expected 1 to 64 letters, digits or _, got \"" +
                               rule.name.substr(0, 64) + "\"");
      }
      if (!names.insert(rule.name).second) {
        return InvalidArgument(at + ": alert '" + rule.name + "' given twice");
      }
      PLINTH_ASSIGN_OR_RETURN(rule.metric, member("metric", "a metric name"));
      const auto& known = AlertMetrics();
      if (std::find(known.begin(), known.end(), rule.metric) == known.end()) {
        std::string list;
        for (std::string_view k : known) {
          list += (list.empty() ? "" : ", ") + std::string(k);
        }
        return InvalidArgument(at + ": key 'metric': unknown metric '" + rule.metric.substr(0, 64) +
                               "'; expected one of " + list);
      }
      if (r["op"].IsDefined()) {
        PLINTH_ASSIGN_OR_RETURN(std::string op, member("op", "> >= < or <="));
        if (op == ">") {
          rule.op = Comparison::kGreater;
        } else if (op == ">=") {
          rule.op = Comparison::kGreaterEqual;
        } else if (op == "<") {
          rule.op = Comparison::kLess;
        } else if (op == "<=") {
          rule.op = Comparison::kLessEqual;
        } else {
          return InvalidArgument(at + ": key 'op': expected >, >=, < or <=, got \"" +
                                 op.substr(0, 16) + "\"");
        }
      }
      PLINTH_ASSIGN_OR_RETURN(rule.threshold,
                              core::YamlMember<double>(r, "threshold", source, "a number"));
      if (!std::isfinite(rule.threshold)) {
        return InvalidArgument(at + ": key 'threshold': expected a finite number");
      }
      if (r["for"].IsDefined()) {
        PLINTH_ASSIGN_OR_RETURN(rule.for_us, Duration(r["for"], source, what + ".for", true));
      }
      if (r["severity"].IsDefined()) {
        PLINTH_ASSIGN_OR_RETURN(rule.severity, member("severity", "a severity"));
        if (rule.severity.empty() || rule.severity.size() > 32) {
          return InvalidArgument(at + ": key 'severity': expected 1 to 32 characters");
        }
      }
      if (r["summary"].IsDefined()) {
        PLINTH_ASSIGN_OR_RETURN(rule.summary, member("summary", "a text"));
        rule.summary = rule.summary.substr(0, 1000);
      }
      c.alerts.push_back(std::move(rule));
    }
  }
  if (!c.alerts.empty() && c.interval_us > c.window_us) {
    return InvalidArgument(std::string(source) +
                           ": key 'interval' is longer than 'window.duration': every window "
                           "would be judged once at most");
  }
  return c;
}

Result<MonitoringConfig> ReadMonitoringConfig(const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::string text, core::ReadConfigFile(path, "a monitoring config"));
  return ParseMonitoringConfig(text, path);
}

std::vector<AlertEvent> EvaluateAlerts(const std::vector<AlertRule>& rules,
                                       const std::map<std::string, double>& values, int64_t now_us,
                                       std::map<std::string, AlertState>& states) {
  std::vector<AlertEvent> events;
  for (const AlertRule& rule : rules) {
    AlertState& s = states[rule.name];
    auto v = values.find(rule.metric);
    if (v == values.end() || !std::isfinite(v->second)) {
      continue;  // no value (no rows, no labels yet): the state stays as it was
    }
    s.value = v->second;
    if (!rule.Holds(v->second)) {
      if (s.phase == AlertState::kFiring) {
        events.push_back({rule.name, false, s.value, now_us, s.fired_us});
      }
      s.phase = AlertState::kInactive;
      continue;
    }
    if (s.phase == AlertState::kInactive) {
      s.phase = AlertState::kPending;
      s.active_since_us = now_us;
    }
    if (s.phase == AlertState::kPending && now_us - s.active_since_us >= rule.for_us) {
      s.phase = AlertState::kFiring;
      s.fired_us = now_us;
      events.push_back({rule.name, true, s.value, now_us, now_us});
    }
  }
  return events;
}

namespace {

const AlertRule* RuleNamed(const std::vector<AlertRule>& rules, const std::string& name) {
  for (const AlertRule& r : rules) {
    if (r.name == name) {
      return &r;
    }
  }
  return nullptr;
}

core::Json Labels(const AlertRule& rule, const AlertSubject& subject) {
  return {{"alertname", rule.name},
          {"severity", rule.severity},
          {"metric", rule.metric},
          {"model", subject.model},
          {"model_version", subject.model_version},
          {"instance", subject.instance}};
}

}  // namespace

core::Json AlertmanagerPayload(const std::vector<AlertEvent>& events,
                               const std::vector<AlertRule>& rules, const AlertSubject& subject) {
  core::Json alerts = core::Json::array();
  bool any_firing = false;
  for (const AlertEvent& e : events) {
    const AlertRule* rule = RuleNamed(rules, e.rule);
    if (rule == nullptr) {
      continue;
    }
    any_firing = any_firing || e.firing;
    core::Json labels = Labels(*rule, subject);
    alerts.push_back({{"status", e.firing ? "firing" : "resolved"},
                      {"labels", labels},
                      {"annotations",
                       {{"summary", rule->summary.empty() ? rule->Describe() : rule->summary},
                        {"description", rule->Describe() + " (value " + Number(e.value) + ")"},
                        {"value", Number(e.value)},
                        {"training_data_sha256", subject.data_sha256}}},
                      {"startsAt", core::FormatIsoMicros(e.since_us)},
                      {"endsAt", e.firing ? std::string("0001-01-01T00:00:00Z")
                                          : core::FormatIsoMicros(e.at_us)},
                      {"generatorURL", subject.external_url},
                      {"fingerprint", core::Sha256Hex(labels.dump()).substr(0, 16)}});
  }
  const core::Json common = {{"model", subject.model}, {"model_version", subject.model_version}};
  return {{"version", "4"},
          {"groupKey", "{}:{model=\"" + subject.model + "\"}"},
          {"truncatedAlerts", 0},
          {"status", any_firing ? "firing" : "resolved"},
          {"receiver", "plinth"},
          {"groupLabels", {{"model", subject.model}}},
          {"commonLabels", common},
          {"commonAnnotations", core::Json::object()},
          {"externalURL", subject.external_url},
          {"alerts", alerts}};
}

core::Json AlertEventToJson(const AlertEvent& e, const AlertRule& rule,
                            const AlertSubject& subject) {
  return {{"time", core::FormatIsoMicros(e.at_us)},
          {"alert", rule.name},
          {"status", e.firing ? "firing" : "resolved"},
          {"severity", rule.severity},
          {"rule", rule.Describe()},
          {"value", e.value},
          {"since", core::FormatIsoMicros(e.since_us)},
          {"model", subject.model},
          {"model_version", subject.model_version},
          {"training_data_sha256", subject.data_sha256}};
}

}  // namespace plinth::monitor
