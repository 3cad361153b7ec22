#include "gates/suite.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <system_error>

#include "core/file.h"
#include "core/hash.h"
#include "core/yaml.h"
#include "quality/expr.h"

namespace plinth::gates {
namespace {

constexpr uint64_t kMaxSuiteBytes = 1 << 20;

// Reads one gate's keys from its mapping; every error names the file and line.
class GateParser {
 public:
  GateParser(const YAML::Node& node, std::string_view source)
      : node_(node), source_(source), where_(core::YamlWhere(node, source)) {}

  // `key` as T when present (else `value` is left as it is).
  template <typename T>
  Status Optional(const YAML::Node& map, std::string_view key, std::string_view expected,
                  T& value) const {
    const YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) {
      return Status::Ok();
    }
    PLINTH_ASSIGN_OR_RETURN(value, core::YamlAs<T>(n, core::YamlWhere(n, source_), key, expected));
    return Status::Ok();
  }
  template <typename T>
  Status Optional(const YAML::Node& map, std::string_view key, std::string_view expected,
                  std::optional<T>& value) const {
    T v{};
    const YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) {
      return Status::Ok();
    }
    PLINTH_RETURN_IF_ERROR(Optional(map, key, expected, v));
    value = v;
    return Status::Ok();
  }
  // A number within [lo, hi].
  Status Number(const YAML::Node& map, std::string_view key, double lo, double hi,
                std::string_view expected, double& value) const {
    PLINTH_RETURN_IF_ERROR(Optional(map, key, expected, value));
    if (!std::isfinite(value) || value < lo || value > hi) {
      return Error(map[std::string(key)], std::string("key '") + std::string(key) + "': expected " +
                                              std::string(expected));
    }
    return Status::Ok();
  }
  Status Number(const YAML::Node& map, std::string_view key, double lo, double hi,
                std::string_view expected, std::optional<double>& value) const {
    if (!map[std::string(key)].IsDefined() || map[std::string(key)].IsNull()) {
      return Status::Ok();
    }
    double v = 0;
    PLINTH_RETURN_IF_ERROR(Number(map, key, lo, hi, expected, v));
    value = v;
    return Status::Ok();
  }
  Status Error(const YAML::Node& at, const std::string& message) const {
    return InvalidArgument(core::YamlWhere(at.IsDefined() ? at : node_, source_) + ": " + message);
  }

  Result<Gate> Parse() const;

 private:
  Status Metric(Gate& g) const;
  Status Latency(const YAML::Node& m, Gate& g) const;
  Status Output(const YAML::Node& m, Gate& g) const;
  Status Invariance(const YAML::Node& m, Gate& g) const;
  Status Directional(const YAML::Node& m, Gate& g) const;

  const YAML::Node& node_;
  std::string_view source_;
  std::string where_;
};

constexpr double kInf = std::numeric_limits<double>::infinity();

Result<Gate> GateParser::Parse() const {
  if (!node_.IsMap()) {
    return Error(node_,
                 "a gate: expected a mapping with one of metric, latency, output, "
                 "quality, drift, invariance, directional");
  }
  Gate g;
  g.where = where_;
  PLINTH_RETURN_IF_ERROR(Optional(node_, "name", "a name", g.name));
  if (g.name.size() > 200 || std::any_of(g.name.begin(), g.name.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      })) {
    return Error(node_["name"], "key 'name': expected up to 200 characters on one line");
  }
  const std::vector<std::pair<std::string_view, Gate::Kind>> kinds = {
      {"metric", Gate::Kind::kMetric},
      {"latency", Gate::Kind::kLatency},
      {"output", Gate::Kind::kOutput},
      {"quality", Gate::Kind::kQuality},
      {"drift", Gate::Kind::kDrift},
      {"invariance", Gate::Kind::kInvariance},
      {"directional", Gate::Kind::kDirectional}};
  int found = 0;
  std::string_view kind_key;
  for (const auto& [key, kind] : kinds) {
    if (node_[std::string(key)].IsDefined()) {
      ++found;
      g.kind = kind;
      kind_key = key;
    }
  }
  if (found != 1) {
    return Error(node_,
                 "a gate: expected exactly one of metric, latency, output, quality, "
                 "drift, invariance, directional");
  }
  const YAML::Node m = node_[std::string(kind_key)];
  switch (g.kind) {
    case Gate::Kind::kMetric:
      PLINTH_RETURN_IF_ERROR(Metric(g));
      break;
    case Gate::Kind::kLatency:
      PLINTH_RETURN_IF_ERROR(
          core::YamlCheckKeys(node_, source_, "latency gate", {"latency", "name"}));
      PLINTH_RETURN_IF_ERROR(Latency(m, g));
      break;
    case Gate::Kind::kOutput:
      PLINTH_RETURN_IF_ERROR(
          core::YamlCheckKeys(node_, source_, "output gate", {"output", "name"}));
      PLINTH_RETURN_IF_ERROR(Output(m, g));
      break;
    case Gate::Kind::kQuality: {
      PLINTH_RETURN_IF_ERROR(
          core::YamlCheckKeys(node_, source_, "quality gate", {"quality", "name"}));
      PLINTH_ASSIGN_OR_RETURN(g.quality.suite,
                              core::YamlAs<std::string>(m, core::YamlWhere(m, source_), "quality",
                                                        "a plinth validate suite file"));
      if (g.quality.suite.empty()) {
        return Error(m, "key 'quality': expected a plinth validate suite file");
      }
      g.name = g.name.empty() ? "quality " + g.quality.suite : g.name;
      break;
    }
    case Gate::Kind::kDrift:
      PLINTH_RETURN_IF_ERROR(core::YamlCheckKeys(node_, source_, "drift gate", {"drift", "name"}));
      if (!m.IsNull()) {
        PLINTH_RETURN_IF_ERROR(core::YamlCheckKeys(m, source_, "drift", {"max_share"}));
        PLINTH_RETURN_IF_ERROR(
            Number(m, "max_share", 0, 1, "a share within [0, 1]", g.drift.max_share));
      }
      g.name = g.name.empty() ? "drift vs the reference set" : g.name;
      break;
    case Gate::Kind::kInvariance:
      PLINTH_RETURN_IF_ERROR(
          core::YamlCheckKeys(node_, source_, "invariance gate", {"invariance", "name"}));
      PLINTH_RETURN_IF_ERROR(Invariance(m, g));
      break;
    case Gate::Kind::kDirectional:
      PLINTH_RETURN_IF_ERROR(
          core::YamlCheckKeys(node_, source_, "directional gate", {"directional", "name"}));
      PLINTH_RETURN_IF_ERROR(Directional(m, g));
      break;
  }
  return g;
}

Status GateParser::Metric(Gate& g) const {
  PLINTH_RETURN_IF_ERROR(core::YamlCheckKeys(
      node_, source_, "metric gate",
      {"metric", "name", "threshold", "min_absolute_change", "min_relative_change",
       "greater_is_better", "baseline", "slice", "min_rows"}));
  MetricGate& mg = g.metric;
  PLINTH_ASSIGN_OR_RETURN(mg.metric,
                          core::YamlMember<std::string>(node_, "metric", source_, "a metric name"));
  std::optional<bool> greater;
  PLINTH_RETURN_IF_ERROR(Optional(node_, "greater_is_better", "true or false", greater));
  if (!greater) {
    greater = GreaterIsBetter(mg.metric);
  }
  if (!greater) {
    return Error(node_["metric"], "metric '" + mg.metric +
                                      "': not one plinth evaluate computes; say "
                                      "greater_is_better: true or false");
  }
  mg.greater_is_better = *greater;
  PLINTH_RETURN_IF_ERROR(Number(node_, "threshold", -kInf, kInf, "a number", mg.threshold));
  // MLflow's bounds: a positive absolute change, a relative one within [0, 1].
  PLINTH_RETURN_IF_ERROR(
      Number(node_, "min_absolute_change", 0, kInf, "a positive number", mg.min_absolute_change));
  if (mg.min_absolute_change && *mg.min_absolute_change <= 0) {
    return Error(node_["min_absolute_change"],
                 "key 'min_absolute_change': expected a positive number");
  }
  PLINTH_RETURN_IF_ERROR(
      Number(node_, "min_relative_change", 0, 1, "a number within [0, 1]", mg.min_relative_change));
  PLINTH_RETURN_IF_ERROR(Optional(node_, "baseline", "an alias (e.g. production)", mg.baseline));
  const bool compared = mg.min_absolute_change || mg.min_relative_change;
  if (!mg.threshold && !compared) {
    return Error(node_, "metric gate '" + mg.metric +
                            "': expected threshold, min_absolute_change or min_relative_change");
  }
  if (compared && mg.baseline.empty()) {
    return Error(node_, "metric gate '" + mg.metric +
                            "': min_absolute_change and min_relative_change need a baseline "
                            "(an alias, e.g. baseline: production)");
  }
  if (!compared && !mg.baseline.empty()) {
    return Error(node_["baseline"], "metric gate '" + mg.metric +
                                        "': a baseline needs min_absolute_change or "
                                        "min_relative_change");
  }
  const YAML::Node slice = node_["slice"];
  if (slice.IsDefined()) {
    PLINTH_RETURN_IF_ERROR(core::YamlCheckKeys(slice, source_, "slice", {"column", "expr"}));
    PLINTH_RETURN_IF_ERROR(Optional(slice, "column", "a column name", mg.slice_column));
    PLINTH_RETURN_IF_ERROR(Optional(slice, "expr", "a rule, e.g. age >= 50", mg.slice_expr));
    if (mg.slice_column.empty() == mg.slice_expr.empty()) {
      return Error(slice, "slice: expected one of column or expr");
    }
    if (!mg.slice_expr.empty()) {
      if (Status s = quality::CompiledExpr::CheckSyntax(mg.slice_expr); !s.ok()) {
        return Error(slice["expr"], "slice.expr: " + s.message());
      }
    }
    if (!mg.baseline.empty()) {
      return Error(slice, "a sliced metric gate takes a threshold, not a baseline");
    }
  }
  double min_rows = static_cast<double>(mg.min_rows);
  PLINTH_RETURN_IF_ERROR(Number(node_, "min_rows", 1, 1e9, "a row count >= 1", min_rows));
  if (min_rows != std::floor(min_rows)) {
    return Error(node_["min_rows"], "key 'min_rows': expected a whole number of rows");
  }
  mg.min_rows = static_cast<int64_t>(min_rows);
  if (g.name.empty()) {
    g.name = mg.metric;
    if (!mg.slice_column.empty()) {
      g.name += " per " + mg.slice_column;
    } else if (!mg.slice_expr.empty()) {
      g.name += " where " + mg.slice_expr;
    }
    if (!mg.baseline.empty()) {
      g.name += " vs " + mg.baseline;
    }
  }
  return Status::Ok();
}

Status GateParser::Latency(const YAML::Node& m, Gate& g) const {
  PLINTH_RETURN_IF_ERROR(
      core::YamlCheckKeys(m, source_, "latency", {"batch", "requests", "p50_ms", "p99_ms"}));
  LatencyGate& l = g.latency;
  double batch = l.batch;
  double requests = l.requests;
  PLINTH_RETURN_IF_ERROR(Number(m, "batch", 1, 10000, "1 to 10000 rows", batch));
  PLINTH_RETURN_IF_ERROR(Number(m, "requests", 10, 1e6, "10 to 1000000 requests", requests));
  PLINTH_RETURN_IF_ERROR(Number(m, "p50_ms", 0, 1e7, "milliseconds >= 0", l.p50_ms));
  PLINTH_RETURN_IF_ERROR(Number(m, "p99_ms", 0, 1e7, "milliseconds >= 0", l.p99_ms));
  if (!l.p50_ms && !l.p99_ms) {
    return Error(m, "latency: expected p50_ms or p99_ms");
  }
  if (batch != std::floor(batch) || requests != std::floor(requests)) {
    return Error(m, "latency: batch and requests are whole numbers");
  }
  l.batch = static_cast<int>(batch);
  l.requests = static_cast<int>(requests);
  if (g.name.empty()) {
    g.name = "latency, " + std::to_string(l.batch) + (l.batch == 1 ? " row" : " rows");
  }
  return Status::Ok();
}

Status GateParser::Output(const YAML::Node& m, Gate& g) const {
  OutputGate& o = g.output;
  if (!m.IsNull()) {
    PLINTH_RETURN_IF_ERROR(
        core::YamlCheckKeys(m, source_, "output", {"no_nulls", "probabilities", "min", "max"}));
    PLINTH_RETURN_IF_ERROR(Optional(m, "no_nulls", "true or false", o.no_nulls));
    PLINTH_RETURN_IF_ERROR(Optional(m, "probabilities", "true or false", o.probabilities));
    PLINTH_RETURN_IF_ERROR(Number(m, "min", -kInf, kInf, "a number", o.min));
    PLINTH_RETURN_IF_ERROR(Number(m, "max", -kInf, kInf, "a number", o.max));
    if (o.min && o.max && *o.min > *o.max) {
      return Error(m, "output: min is above max");
    }
  }
  g.name = g.name.empty() ? "outputs" : g.name;
  return Status::Ok();
}

Status GateParser::Invariance(const YAML::Node& m, Gate& g) const {
  PLINTH_RETURN_IF_ERROR(core::YamlCheckKeys(m, source_, "invariance",
                                             {"column", "values", "max_change", "max_violations"}));
  InvarianceGate& v = g.invariance;
  PLINTH_ASSIGN_OR_RETURN(v.column,
                          core::YamlMember<std::string>(m, "column", source_, "a column name"));
  const YAML::Node values = m["values"];
  if (values.IsDefined()) {
    if (!values.IsSequence() || values.size() == 0 || values.size() > 100) {
      return Error(values, "invariance.values: expected a list of 1 to 100 values");
    }
    for (const YAML::Node& value : values) {
      PLINTH_ASSIGN_OR_RETURN(
          std::string text,
          core::YamlAs<std::string>(value, core::YamlWhere(value, source_), "values", "a value"));
      v.values.push_back(text);
    }
  }
  PLINTH_RETURN_IF_ERROR(Optional(m, "label", "a class label", v.label));
  PLINTH_RETURN_IF_ERROR(Number(m, "max_change", 0, kInf, "a number >= 0", v.max_change));
  PLINTH_RETURN_IF_ERROR(
      Number(m, "max_violations", 0, 1, "a share within [0, 1]", v.max_violations));
  g.name = g.name.empty() ? "invariance to " + v.column : g.name;
  return Status::Ok();
}

Status GateParser::Directional(const YAML::Node& m, Gate& g) const {
  PLINTH_RETURN_IF_ERROR(core::YamlCheckKeys(
      m, source_, "directional",
      {"column", "increase", "expect", "label", "tolerance", "max_violations"}));
  DirectionalGate& d = g.directional;
  PLINTH_ASSIGN_OR_RETURN(d.column,
                          core::YamlMember<std::string>(m, "column", source_, "a column name"));
  PLINTH_RETURN_IF_ERROR(Number(m, "increase", -1e15, 1e15, "a number within +-1e15", d.increase));
  if (d.increase == 0) {
    return Error(m["increase"], "directional.increase: expected a change other than 0");
  }
  std::string expect = "increase";
  PLINTH_RETURN_IF_ERROR(Optional(m, "expect", "increase or decrease", expect));
  if (expect != "increase" && expect != "decrease") {
    return Error(m["expect"],
                 "directional.expect: expected increase or decrease, got \"" + expect + "\"");
  }
  d.expect_increase = expect == "increase";
  PLINTH_RETURN_IF_ERROR(Optional(m, "label", "a class label", d.label));
  PLINTH_RETURN_IF_ERROR(Number(m, "tolerance", 0, kInf, "a number >= 0", d.tolerance));
  PLINTH_RETURN_IF_ERROR(
      Number(m, "max_violations", 0, 1, "a share within [0, 1]", d.max_violations));
  g.name = g.name.empty() ? "direction of " + d.column : g.name;
  return Status::Ok();
}

}  // namespace

std::string PathNear(const std::string& base_dir, const std::string& path) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? path : (std::filesystem::path(base_dir) / p).string();
}

Result<std::string> EffectiveDigest(const Suite& suite, const std::string& base_dir,
                                    const std::string& data_sha256, const std::string& url) {
  std::string parts = "gates " + suite.digest + "\n";
  for (const Gate& g : suite.gates) {
    if (g.kind == Gate::Kind::kQuality) {
      const std::string path = PathNear(base_dir, g.quality.suite);
      PLINTH_ASSIGN_OR_RETURN(std::string text,
                              core::ReadConfigFile(path, "a quality suite", 16 << 20));
      parts += "quality " + g.quality.suite + " " + core::Sha256Hex(text) + "\n";
    }
  }
  parts += "data " + data_sha256 + "\nurl " + url + "\n";
  return core::Sha256Hex(parts);
}

std::optional<bool> GreaterIsBetter(std::string_view metric) {
  for (std::string_view m :
       {"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "precision_macro",
        "recall_macro", "f1_macro", "precision_weighted", "recall_weighted", "f1_weighted", "r2"}) {
    if (metric == m) {
      return true;
    }
  }
  for (std::string_view m : {"log_loss", "mae", "rmse", "mape", "mse"}) {
    if (metric == m) {
      return false;
    }
  }
  return std::nullopt;
}

Result<Suite> ParseSuite(std::string_view text, std::string_view source) {
  PLINTH_ASSIGN_OR_RETURN(YAML::Node root, core::ParseYaml(text, source));
  PLINTH_RETURN_IF_ERROR(
      core::YamlCheckKeys(root, source, "gates file", {"suite", "data", "gates"}));
  Suite suite;
  suite.source = std::string(source);
  suite.digest = core::Sha256Hex(text);
  if (root["suite"].IsDefined()) {
    PLINTH_ASSIGN_OR_RETURN(suite.name,
                            core::YamlMember<std::string>(root, "suite", source, "a suite name"));
    const bool ok = !suite.name.empty() && suite.name.size() <= 64 &&
                    suite.name.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                        "TUVWXYZ0123456789_-") == std::string::npos;
    if (!ok) {
      return InvalidArgument(core::YamlWhere(root["suite"], source) +
                             ": key 'suite': expected 1 to 64 letters, digits, '_' or '-' (it "
                             "names the tag plinth.gates.<suite>), got \"" +
                             suite.name.substr(0, 64) + "\"");
    }
  }
  if (root["data"].IsDefined()) {
    PLINTH_ASSIGN_OR_RETURN(suite.data,
                            core::YamlMember<std::string>(root, "data", source, "a data file"));
  }
  const YAML::Node gates = root["gates"];
  if (!gates.IsDefined() || !gates.IsSequence() || gates.size() == 0) {
    return InvalidArgument(core::YamlWhere(gates.IsDefined() ? gates : root, source) +
                           ": key 'gates': expected a list of at least one gate");
  }
  if (gates.size() > 1000) {
    return InvalidArgument(core::YamlWhere(gates, source) + ": key 'gates': at most 1000 gates");
  }
  for (const YAML::Node& node : gates) {
    PLINTH_ASSIGN_OR_RETURN(Gate g, GateParser(node, source).Parse());
    suite.gates.push_back(std::move(g));
  }
  return suite;
}

Result<Suite> LoadSuite(const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::string text,
                          core::ReadConfigFile(path, "a gates file", kMaxSuiteBytes));
  return ParseSuite(text, path);
}

}  // namespace plinth::gates
