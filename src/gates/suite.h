// Model tests that gate promotion: the suite file (gates.yaml, docs/DEPLOYMENT.md).
//
// A suite names itself (the model version's tag is plinth.gates.<suite>), may name its
// evaluation data, and lists gates, each of one kind:
//
//   suite: release
//   data: eval.csv
//   gates:
//     - {metric: accuracy, threshold: 0.9}
//     - {metric: f1, baseline: production, min_relative_change: 0.01}
//     - {metric: accuracy, slice: {column: sex}, min_rows: 100, threshold: 0.8}
//     - {latency: {batch: 1, p99_ms: 100}}
//     - {output: {no_nulls: true, probabilities: true}}
//     - {quality: checks.yaml}
//     - {drift: {max_share: 0.5}}
//     - {invariance: {column: race, max_change: 0.05}}
//     - {directional: {column: capital-gain, increase: 1000, expect: increase}}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace plinth::gates {

// A metric gate, with MLflow's MetricThreshold semantics: `threshold` on the candidate's
// value; `min_absolute_change` / `min_relative_change` against the baseline's (the model
// version the alias `baseline` points to).
struct MetricGate {
  std::string metric;
  bool greater_is_better = true;
  std::optional<double> threshold;
  std::optional<double> min_absolute_change;
  std::optional<double> min_relative_change;
  std::string baseline;  // an alias of the same registered model, or ""
  // Per slice: the rows of each value of `slice_column`, or the rows where `slice_expr`
  // holds; slices with fewer than `min_rows` rows are not judged.
  std::string slice_column;
  std::string slice_expr;
  int64_t min_rows = 30;
};

struct LatencyGate {
  int batch = 1;  // rows per request
  int requests = 1000;
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
};

struct OutputGate {
  bool no_nulls = true;       // no null or NaN prediction
  bool probabilities = true;  // classifiers: each within [0, 1], each row's summing to 1
  std::optional<double> min;  // regressors: every value within [min, max]
  std::optional<double> max;
};

struct QualityGate {
  std::string suite;  // a plinth validate suite file, relative to the gates file
};

struct DriftGate {
  double max_share = 0.5;  // the share of drifting columns that fails (Evidently's 50%)
};

// Changing `column` (to each of `values`, or to each other value the data holds) must
// not move a row's prediction by more than `max_change` (the positive class's probability,
// or the value) for more than `max_violations` of the rows.
struct InvarianceGate {
  std::string column;
  std::vector<std::string> values;
  std::string label;  // multiclass: whose probability (required there)
  double max_change = 0.05;
  double max_violations = 0;
};

// Adding `increase` to the numeric `column` must move the prediction (`label`'s
// probability; the positive class by default, or the value) the `expect`ed way, give or
// take `tolerance`, for all but `max_violations` of the rows.
struct DirectionalGate {
  std::string column;
  double increase = 1;
  bool expect_increase = true;
  std::string label;
  double tolerance = 1e-9;
  double max_violations = 0;
};

struct Gate {
  enum class Kind { kMetric, kLatency, kOutput, kQuality, kDrift, kInvariance, kDirectional };
  Kind kind = Kind::kMetric;
  std::string name;   // as the file names it, else made from the gate
  std::string where;  // "gates.yaml:7"
  MetricGate metric;
  LatencyGate latency;
  OutputGate output;
  QualityGate quality;
  DriftGate drift;
  InvarianceGate invariance;
  DirectionalGate directional;
};

struct Suite {
  std::string name = "default";
  std::string source;  // the file
  std::string data;    // evaluation data named by the file (relative to it), or ""
  std::vector<Gate> gates;
  std::string digest;  // SHA-256 of the file's text: a changed suite is a new suite
};

// Parses suite `text`; `source` names it in errors ("gates.yaml:7: ...").
Result<Suite> ParseSuite(std::string_view text, std::string_view source);
// Reads the suite at `path` (at most 1 MiB).
Result<Suite> LoadSuite(const std::string& path);

// `path` as the gates file names it: relative to the file's folder `base_dir`.
std::string PathNear(const std::string& base_dir, const std::string& path);

// The digest a protected alias pins and a gate run records: of the gates file's text, of the
// quality suites it names (their bytes), of the evaluation data (`data_sha256`, "" when the
// recorded metrics are judged) and of the endpoint latency was measured at (`url`, "" for
// plinth serve's own request path). Two runs with the same digest judged the same things.
Result<std::string> EffectiveDigest(const Suite& suite, const std::string& base_dir,
                                    const std::string& data_sha256, const std::string& url);

// Whether a larger value of `metric` is better: known for the metrics plinth evaluate
// computes (accuracy, f1, ... true; log_loss, mae, rmse, mape false); nullopt otherwise.
std::optional<bool> GreaterIsBetter(std::string_view metric);

}  // namespace plinth::gates
