#include "gates/run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include "core/clock.h"
#include "core/html.h"
#include "core/text_table.h"
#include "http/client.h"
#include "http/server.h"
#include "monitor/dataset_drift.h"
#include "monitor/report.h"
#include "quality/expr.h"
#include "quality/suite.h"
#include "quality/validate.h"
#include "serving/model_server.h"
#include "train/train.h"

namespace plinth::gates {
namespace {

// Rows the expectation gates (invariance, directional) and the output gate judge at most.
constexpr int64_t kMaxJudgedRows = 5000;
// Slices of a column judged at most (the most frequent first).
constexpr size_t kMaxSlices = 1000;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", 100 * share);
  return buf;
}

std::string JoinComma(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    out += (out.empty() ? "" : ", ") + p;
  }
  return out;
}

std::string_view KindName(Gate::Kind k) {
  switch (k) {
    case Gate::Kind::kMetric:
      return "metric";
    case Gate::Kind::kLatency:
      return "latency";
    case Gate::Kind::kOutput:
      return "output";
    case Gate::Kind::kQuality:
      return "quality";
    case Gate::Kind::kDrift:
      return "drift";
    case Gate::Kind::kInvariance:
      return "invariance";
    case Gate::Kind::kDirectional:
      return "directional";
  }
  return "metric";
}

class Runner {
 public:
  Runner(const Suite& suite, const Inputs& in) : suite_(suite), in_(in) {}
  Result<GateResult> Run(const Gate& g);

 private:
  Result<GateResult> Metric(const Gate& g);
  Result<GateResult> Sliced(const Gate& g);
  Result<GateResult> Latency(const Gate& g);
  Result<GateResult> Output(const Gate& g);
  Result<GateResult> Quality(const Gate& g);
  Result<GateResult> Drift(const Gate& g);
  Result<GateResult> Invariance(const Gate& g);
  Result<GateResult> Directional(const Gate& g);

  // The input column `name` of `rows` (the model must take it), or an error naming the rows.
  Result<const table::Column*> InputColumn(const table::Table& rows, const std::string& name) const;
  // The metrics of `p` on the evaluation data, or recorded at training (cached by model).
  Result<core::Json> MetricsOf(const ml::Predictor& p, const std::string& what);
  // The rows the output, latency and expectation gates use: the evaluation data, else the
  // reference set; at most kMaxJudgedRows.
  Result<table::Table> Rows(const Gate& g) const;
  // A row's score that expectations watch: `label`'s probability (classifiers; the
  // positive class by default), else the value.
  Result<std::vector<double>> Scores(const Gate& g, const table::Table& rows,
                                     const std::string& label) const;

  const Suite& suite_;
  const Inputs& in_;
  std::map<const ml::Predictor*, core::Json> metrics_;
};

Result<GateResult> Runner::Run(const Gate& g) {
  Result<GateResult> r = InvalidArgument("");
  switch (g.kind) {
    case Gate::Kind::kMetric:
      r = g.metric.slice_column.empty() && g.metric.slice_expr.empty() ? Metric(g) : Sliced(g);
      break;
    case Gate::Kind::kLatency:
      r = Latency(g);
      break;
    case Gate::Kind::kOutput:
      r = Output(g);
      break;
    case Gate::Kind::kQuality:
      r = Quality(g);
      break;
    case Gate::Kind::kDrift:
      r = Drift(g);
      break;
    case Gate::Kind::kInvariance:
      r = Invariance(g);
      break;
    case Gate::Kind::kDirectional:
      r = Directional(g);
      break;
  }
  if (!r.ok()) {
    return Status(r.status().code(), g.where + ": gate '" + g.name + "': " + r.status().message());
  }
  r->name = g.name;
  r->kind = std::string(KindName(g.kind));
  r->where = g.where;
  return r;
}

Result<core::Json> Runner::MetricsOf(const ml::Predictor& p, const std::string& what) {
  if (auto it = metrics_.find(&p); it != metrics_.end()) {
    return it->second;
  }
  core::Json m;
  if (in_.data != nullptr) {
    PLINTH_ASSIGN_OR_RETURN(m, train::Evaluate(p, *in_.data, in_.data_source));
  } else {
    const auto& trained = p.meta().trained;
    if (!trained || !trained->metrics.is_object() || !trained->metrics.contains("test") ||
        !trained->metrics["test"].is_object()) {
      return InvalidArgument(what +
                             " has no test metrics recorded at training; give evaluation data "
                             "(--data, or data: in the gates file)");
    }
    m = trained->metrics["test"];
  }
  metrics_[&p] = m;
  return m;
}

// MLflow's MetricThreshold verdict on `candidate` (and `baseline`, when compared).
struct Verdict {
  bool passed = true;
  std::string expected;
  std::string why;
};

Verdict Judge(const MetricGate& mg, double candidate, std::optional<double> baseline) {
  Verdict v;
  const bool up = mg.greater_is_better;
  auto better_or_equal = [up](double a, double b) { return up ? a >= b : a <= b; };
  const std::string op = up ? ">= " : "<= ";
  std::vector<std::string> expected;
  if (mg.threshold) {
    expected.push_back(op + Num(*mg.threshold));
    if (!better_or_equal(candidate, *mg.threshold)) {
      v.passed = false;
      v.why = Num(candidate) + " is not " + op + Num(*mg.threshold);
    }
  }
  if (baseline && mg.min_absolute_change) {
    const double bound =
        up ? *baseline + *mg.min_absolute_change : *baseline - *mg.min_absolute_change;
    expected.push_back(op + Num(bound) + " (" + mg.baseline + " " + Num(*baseline) +
                       (up ? " + " : " - ") + Num(*mg.min_absolute_change) + ")");
    if (!better_or_equal(candidate, bound) && v.passed) {
      v.passed = false;
      v.why = Num(candidate) + " does not beat " + mg.baseline + "'s " + Num(*baseline) + " by " +
              Num(*mg.min_absolute_change);
    }
  }
  if (baseline && mg.min_relative_change) {
    bool ok = false;
    if (*baseline == 0) {
      // MLflow: no relative change of 0; the candidate must simply be better.
      ok = better_or_equal(candidate, up ? *baseline + 1e-10 : *baseline - 1e-10);
    } else {
      const double change =
          up ? (candidate - *baseline) / *baseline : (*baseline - candidate) / *baseline;
      ok = change >= *mg.min_relative_change;
    }
    expected.push_back("a change of >= " + Percent(*mg.min_relative_change) + " over " +
                       mg.baseline + " " + Num(*baseline));
    if (!ok && v.passed) {
      v.passed = false;
      v.why = Num(candidate) + " is not " + Percent(*mg.min_relative_change) + " better than " +
              mg.baseline + "'s " + Num(*baseline);
    }
  }
  v.expected = JoinComma(expected);
  return v;
}

// The metric's value in `metrics`, or an error naming those there are.
Result<double> MetricValue(const core::Json& metrics, const std::string& metric,
                           const std::string& what) {
  if (metrics.contains(metric) && metrics[metric].is_null()) {
    return FailedPrecondition("metric '" + metric + "' is undefined for " + what +
                              " on these rows (e.g. roc_auc where one class alone is present)");
  }
  if (!metrics.contains(metric) || !metrics[metric].is_number()) {
    std::string there;
    for (const auto& [k, v] : metrics.items()) {
      if (v.is_number() && k != "n") {
        there += (there.empty() ? "" : ", ") + k;
      }
    }
    return InvalidArgument("metric '" + metric + "' is not among " + what + "'s metrics (" + there +
                           ")");
  }
  return metrics[metric].get<double>();
}

Result<GateResult> Runner::Metric(const Gate& g) {
  const MetricGate& mg = g.metric;
  PLINTH_ASSIGN_OR_RETURN(core::Json cm, MetricsOf(*in_.candidate, in_.candidate_name));
  PLINTH_ASSIGN_OR_RETURN(double candidate, MetricValue(cm, mg.metric, in_.candidate_name));
  std::optional<double> baseline;
  GateResult r;
  r.values = {{"metric", mg.metric}, {"value", candidate}};
  if (!mg.baseline.empty()) {
    auto it = in_.baselines.find(mg.baseline);
    if (it == in_.baselines.end() || !it->second) {
      // No version holds the alias yet (the model is registered: the caller checked): the
      // first model to be promoted has nothing to beat. (MLflow refuses comparison
      // thresholds without a baseline model; a gate that could never pass before the first
      // promotion would make protected aliases unusable.) Reported as skipped.
      r.detail = "no version is " + mg.baseline + " yet: the comparison is skipped";
      r.values["skipped"] = true;
    } else {
      const std::string what =
          in_.baseline_names.count(mg.baseline) ? in_.baseline_names.at(mg.baseline) : mg.baseline;
      PLINTH_ASSIGN_OR_RETURN(core::Json bm, MetricsOf(*it->second, what));
      PLINTH_ASSIGN_OR_RETURN(double b, MetricValue(bm, mg.metric, what));
      baseline = b;
      r.values["baseline"] = b;
      r.values["baseline_model"] = what;
    }
  }
  Verdict v = Judge(mg, candidate, baseline);
  r.passed = v.passed;
  r.observed = Num(candidate);
  r.expected = v.expected.empty() ? "(no baseline)" : v.expected;
  if (!v.passed) {
    r.detail = v.why;
  }
  return r;
}

Result<GateResult> Runner::Sliced(const Gate& g) {
  const MetricGate& mg = g.metric;
  if (in_.data == nullptr) {
    return InvalidArgument(
        "a metric per slice needs evaluation data (--data, or data: in the "
        "gates file)");
  }
  const table::Table& data = *in_.data;
  // The slices: name -> rows.
  std::vector<std::pair<std::string, std::vector<int64_t>>> slices;
  if (!mg.slice_column.empty()) {
    const table::Column* col = data.ColumnByName(mg.slice_column);
    if (col == nullptr) {
      return InvalidArgument("slice column \"" + mg.slice_column + "\" is not in " +
                             in_.data_source);
    }
    std::map<std::string, std::vector<int64_t>> by;
    for (int64_t i = 0; i < col->size(); ++i) {
      by[col->IsNull(i) ? std::string("(missing)") : col->FormatValue(i)].push_back(i);
    }
    for (auto& [name, rows] : by) {
      slices.emplace_back(mg.slice_column + "=" + name, std::move(rows));
    }
    std::stable_sort(slices.begin(), slices.end(), [](const auto& a, const auto& b) {
      return a.second.size() > b.second.size();
    });
    if (slices.size() > kMaxSlices) {
      slices.resize(kMaxSlices);
    }
  } else {
    Result<quality::CompiledExpr> expr =
        quality::CompiledExpr::Compile(mg.slice_expr, data.schema());
    if (!expr.ok()) {
      return InvalidArgument("slice.expr: " + expr.status().message());
    }
    if (!expr->is_boolean()) {
      return InvalidArgument("slice.expr: expected a rule (true or false per row)");
    }
    std::vector<int8_t> holds = expr->EvaluateRows(data);
    std::vector<int64_t> rows;
    for (size_t i = 0; i < holds.size(); ++i) {
      if (holds[i] == 1) {
        rows.push_back(static_cast<int64_t>(i));
      }
    }
    slices.emplace_back(mg.slice_expr, std::move(rows));
  }
  GateResult r;
  r.passed = true;
  core::Json per = core::Json::array();
  int judged = 0;
  std::optional<double> worst;
  std::string worst_name;
  for (const auto& [name, rows] : slices) {
    core::Json s = {{"slice", name}, {"rows", rows.size()}};
    if (static_cast<int64_t>(rows.size()) < mg.min_rows) {
      s["judged"] = false;
      per.push_back(std::move(s));
      continue;
    }
    const table::Table part = table::TakeRows(data, rows);
    PLINTH_ASSIGN_OR_RETURN(
        core::Json m, train::Evaluate(*in_.candidate, part, in_.data_source + " (" + name + ")"));
    Result<double> got = MetricValue(m, mg.metric, in_.candidate_name);
    if (!got.ok() && got.status().code() == StatusCode::kFailedPrecondition) {
      s["judged"] = false;  // undefined on this slice (one class alone)
      s["why"] = got.status().message();
      per.push_back(std::move(s));
      continue;
    }
    PLINTH_RETURN_IF_ERROR(got.status());
    const double value = *got;
    const Verdict v = Judge(mg, value, std::nullopt);
    ++judged;
    s["judged"] = true;
    s["value"] = value;
    s["passed"] = v.passed;
    per.push_back(std::move(s));
    const bool worse = !worst || (mg.greater_is_better ? value < *worst : value > *worst);
    if (worse) {
      worst = value;
      worst_name = name;
    }
    if (!v.passed) {
      r.passed = false;
    }
    r.expected = v.expected;
  }
  if (judged == 0) {
    return InvalidArgument("no slice has " + std::to_string(mg.min_rows) +
                           " rows (min_rows) and a "
                           "defined " +
                           mg.metric + "; nothing to judge");
  }
  r.observed = Num(*worst) + " (" + worst_name + ")";
  r.detail = std::to_string(judged) + " of " + std::to_string(slices.size()) +
             " slices judged (those with at least " + std::to_string(mg.min_rows) + " rows)";
  if (!r.passed) {
    r.detail =
        "the slice " + worst_name + " has " + mg.metric + " " + Num(*worst) + "; " + r.detail;
  }
  r.values = {{"metric", mg.metric}, {"slices", std::move(per)}};
  if (mg.threshold) {
    r.values["threshold"] = *mg.threshold;
  }
  return r;
}

Result<table::Table> Runner::Rows(const Gate& g) const {
  const table::Table* t = in_.data != nullptr ? in_.data : in_.reference;
  if (t == nullptr || t->num_rows() == 0) {
    return InvalidArgument("gate '" + g.name +
                           "' needs rows: evaluation data (--data) or the model's reference set");
  }
  if (t->num_rows() <= kMaxJudgedRows) {
    return *t;
  }
  std::vector<int64_t> first(kMaxJudgedRows);
  for (int64_t i = 0; i < kMaxJudgedRows; ++i) {
    first[static_cast<size_t>(i)] = i;
  }
  return table::TakeRows(*t, first);
}

Result<const table::Column*> Runner::InputColumn(const table::Table& rows,
                                                 const std::string& name) const {
  const table::Column* col = rows.ColumnByName(name);
  if (col == nullptr || !in_.candidate->input_schema().IndexOf(name)) {
    return InvalidArgument("column \"" + name + "\" is not one of the model's inputs in " +
                           (in_.data ? in_.data_source : std::string("the reference set")));
  }
  return col;
}

Result<std::vector<double>> Runner::Scores(const Gate& g, const table::Table& rows,
                                           const std::string& label) const {
  (void)g;
  const ml::Predictor& p = *in_.candidate;
  PLINTH_ASSIGN_OR_RETURN(ml::Prediction pred, p.Predict(rows));
  std::vector<double> out(static_cast<size_t>(pred.rows));
  if (pred.task == ml::Task::kRegression) {
    return pred.values;
  }
  size_t cls = p.class_labels().size() > 1 ? 1 : 0;
  if (!label.empty()) {
    auto it = std::find(p.class_labels().begin(), p.class_labels().end(), label);
    if (it == p.class_labels().end()) {
      return InvalidArgument("label \"" + label + "\" is not one of the model's classes");
    }
    cls = static_cast<size_t>(it - p.class_labels().begin());
  } else if (pred.task == ml::Task::kMulticlass) {
    return InvalidArgument("a multiclass model: say which class's probability (label:)");
  }
  const auto k = static_cast<size_t>(pred.num_classes);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = pred.proba[i * k + cls];
  }
  return out;
}

// `t` with its column `name` set to `value` on every row (read as the column's type).
Result<table::Table> WithValue(const table::Table& t, const std::string& name,
                               const std::string& value) {
  const table::Column* col = t.ColumnByName(name);
  table::Column c(col->type());
  const int64_t n = t.num_rows();
  c.Reserve(n);
  if (col->type() == table::DataType::kString) {
    for (int64_t i = 0; i < n; ++i) {
      c.AppendString(value);
    }
  } else if (col->type() == table::DataType::kBool) {
    if (value != "true" && value != "false") {
      return InvalidArgument("value \"" + value + "\" of column \"" + name +
                             "\": expected true or false");
    }
    for (int64_t i = 0; i < n; ++i) {
      c.AppendBool(value == "true");
    }
  } else if (col->type() == table::DataType::kTimestamp) {
    return InvalidArgument("column \"" + name +
                           "\" holds timestamps: invariance is judged on "
                           "categories and numbers");
  } else {
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    const bool integral = col->type() == table::DataType::kInt64;
    if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v) ||
        (integral && (v != std::floor(v) || std::abs(v) > 9e15))) {
      return InvalidArgument("value \"" + value + "\" of column \"" + name + "\": expected " +
                             (integral ? "a whole number" : "a number"));
    }
    for (int64_t i = 0; i < n; ++i) {
      if (integral) {
        c.AppendInt(static_cast<int64_t>(v));
      } else {
        c.AppendDouble(v);
      }
    }
  }
  table::Table out = t;
  out.SetColumn({name, col->type()}, std::move(c));
  return out;
}

Result<GateResult> Runner::Invariance(const Gate& g) {
  const InvarianceGate& v = g.invariance;
  PLINTH_ASSIGN_OR_RETURN(table::Table rows, Rows(g));
  PLINTH_ASSIGN_OR_RETURN(const table::Column* col, InputColumn(rows, v.column));
  std::vector<std::string> values = v.values;
  if (values.empty()) {  // the 20 most frequent values the rows hold
    std::map<std::string, int64_t> counts;
    for (int64_t i = 0; i < col->size(); ++i) {
      if (!col->IsNull(i)) {
        ++counts[col->FormatValue(i)];
      }
    }
    std::vector<std::pair<int64_t, std::string>> by;
    for (const auto& [value, count] : counts) {
      by.emplace_back(-count, value);
    }
    std::sort(by.begin(), by.end());
    for (size_t i = 0; i < by.size() && i < 20; ++i) {
      values.push_back(by[i].second);
    }
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<double> base, Scores(g, rows, v.label));
  std::vector<char> violated(base.size(), 0);
  double max_change = 0;
  for (const std::string& value : values) {
    PLINTH_ASSIGN_OR_RETURN(table::Table changed, WithValue(rows, v.column, value));
    PLINTH_ASSIGN_OR_RETURN(std::vector<double> s, Scores(g, changed, v.label));
    for (size_t i = 0; i < base.size(); ++i) {
      const double d = std::abs(s[i] - base[i]);
      max_change = std::max(max_change, d);
      if (d > v.max_change) {
        violated[i] = 1;
      }
    }
  }
  const auto bad = static_cast<double>(std::count(violated.begin(), violated.end(), 1));
  const double share = base.empty() ? 0 : bad / static_cast<double>(base.size());
  GateResult r;
  r.passed = share <= v.max_violations;
  r.observed = Percent(share) + " of rows move > " + Num(v.max_change);
  r.expected = "<= " + Percent(v.max_violations);
  r.detail = std::to_string(base.size()) + " rows x " + std::to_string(values.size()) +
             " values of " + v.column + "; the largest move " + Num(max_change);
  r.values = {{"rows", base.size()},        {"values", values},
              {"violations", share},        {"max_change_seen", max_change},
              {"max_change", v.max_change}, {"max_violations", v.max_violations}};
  return r;
}

Result<GateResult> Runner::Directional(const Gate& g) {
  const DirectionalGate& d = g.directional;
  PLINTH_ASSIGN_OR_RETURN(table::Table rows, Rows(g));
  PLINTH_ASSIGN_OR_RETURN(const table::Column* col, InputColumn(rows, d.column));
  if (!table::IsNumeric(col->type())) {
    return InvalidArgument("column \"" + d.column + "\" is not numeric: nothing to increase");
  }
  table::Column up(table::DataType::kFloat64);
  up.Reserve(col->size());
  for (int64_t i = 0; i < col->size(); ++i) {
    if (col->IsNull(i)) {
      up.AppendNull();
    } else {
      up.AppendDouble(col->GetDouble(i) + d.increase);
    }
  }
  table::Table changed = rows;
  changed.SetColumn({d.column, table::DataType::kFloat64}, std::move(up));
  PLINTH_ASSIGN_OR_RETURN(std::vector<double> base, Scores(g, rows, d.label));
  PLINTH_ASSIGN_OR_RETURN(std::vector<double> moved, Scores(g, changed, d.label));
  int64_t bad = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    const bool wrong =
        d.expect_increase ? moved[i] < base[i] - d.tolerance : moved[i] > base[i] + d.tolerance;
    bad += wrong ? 1 : 0;
  }
  const double share =
      base.empty() ? 0 : static_cast<double>(bad) / static_cast<double>(base.size());
  GateResult r;
  r.passed = share <= d.max_violations;
  r.observed = Percent(share) + " of rows move the other way";
  r.expected = "<= " + Percent(d.max_violations);
  r.detail = std::string(d.column) + " + " + Num(d.increase) + " must " +
             (d.expect_increase ? "not lower" : "not raise") + " the prediction (" +
             std::to_string(base.size()) + " rows)";
  r.values = {{"rows", base.size()}, {"violations", share}, {"max_violations", d.max_violations}};
  return r;
}

Result<GateResult> Runner::Output(const Gate& g) {
  const OutputGate& o = g.output;
  PLINTH_ASSIGN_OR_RETURN(table::Table rows, Rows(g));
  PLINTH_ASSIGN_OR_RETURN(ml::Prediction p, in_.candidate->Predict(rows));
  int64_t nulls = 0, out_of_range = 0, bad_sum = 0;
  const auto k = static_cast<size_t>(p.num_classes);
  for (int64_t i = 0; i < p.rows; ++i) {
    const auto row = static_cast<size_t>(i);
    if (p.task == ml::Task::kRegression) {
      const double v = p.values[row];
      nulls += std::isfinite(v) ? 0 : 1;
      out_of_range += std::isfinite(v) && ((o.min && v < *o.min) || (o.max && v > *o.max)) ? 1 : 0;
      continue;
    }
    double sum = 0;
    bool finite = p.classes[row] >= 0 && static_cast<size_t>(p.classes[row]) < k;
    bool in_unit = true;
    for (size_t c = 0; c < k; ++c) {
      const double q = p.proba[row * k + c];
      finite = finite && std::isfinite(q);
      in_unit = in_unit && q >= 0 && q <= 1;
      sum += q;
    }
    nulls += finite ? 0 : 1;
    out_of_range += finite && !in_unit ? 1 : 0;
    bad_sum += finite && std::abs(sum - 1) > 1e-6 ? 1 : 0;
  }
  GateResult r;
  std::vector<std::string> problems;
  if (o.no_nulls && nulls > 0) {
    problems.push_back(std::to_string(nulls) + " null or NaN predictions");
  }
  if (p.task != ml::Task::kRegression && o.probabilities && (out_of_range > 0 || bad_sum > 0)) {
    problems.push_back(std::to_string(out_of_range) + " rows with a probability outside [0, 1], " +
                       std::to_string(bad_sum) + " whose probabilities do not sum to 1");
  }
  if (p.task == ml::Task::kRegression && out_of_range > 0) {
    problems.push_back(std::to_string(out_of_range) + " values outside [" +
                       (o.min ? Num(*o.min) : "-inf") + ", " + (o.max ? Num(*o.max) : "inf") + "]");
  }
  r.passed = problems.empty();
  r.observed = r.passed ? std::to_string(p.rows) + " rows checked" : problems.front();
  std::vector<std::string> expected;
  if (o.no_nulls) {
    expected.push_back("no null");
  }
  if (p.task != ml::Task::kRegression && o.probabilities) {
    expected.push_back("probabilities in [0, 1] summing to 1");
  }
  if (p.task == ml::Task::kRegression && (o.min || o.max)) {
    expected.push_back("values in [" + (o.min ? Num(*o.min) : "-inf") + ", " +
                       (o.max ? Num(*o.max) : "inf") + "]");
  }
  r.expected = JoinComma(expected);
  for (size_t i = 1; i < problems.size(); ++i) {
    r.detail += (r.detail.empty() ? "" : "; ") + problems[i];
  }
  r.values = {
      {"rows", p.rows}, {"nulls", nulls}, {"out_of_range", out_of_range}, {"bad_sum", bad_sum}};
  return r;
}

Result<GateResult> Runner::Quality(const Gate& g) {
  if (in_.data == nullptr) {
    return InvalidArgument(
        "a quality gate runs on evaluation data (--data, or data: in the "
        "gates file)");
  }
  PLINTH_ASSIGN_OR_RETURN(quality::Suite checks,
                          quality::LoadSuite(PathNear(in_.base_dir, g.quality.suite)));
  quality::ValidationReport v = quality::RunSuite(checks, *in_.data);
  GateResult r;
  r.passed = v.success();
  r.observed =
      std::to_string(v.passed()) + " of " + std::to_string(v.results.size()) + " checks passed";
  r.expected = "every error-level check";
  for (const quality::CheckResult& c : v.results) {
    if (!c.success && c.severity == quality::Severity::kError) {
      r.detail += (r.detail.empty() ? "failed: " : ", ") + c.label;
    }
  }
  r.values = quality::ReportToJson(v);
  return r;
}

Result<GateResult> Runner::Drift(const Gate& g) {
  if (in_.data == nullptr) {
    return InvalidArgument(
        "a drift gate compares evaluation data (--data, or data: in the "
        "gates file) with the reference set");
  }
  if (in_.reference == nullptr) {
    return InvalidArgument("the model has no reference set to compare the data with");
  }
  std::vector<std::string> inputs;
  for (const table::Field& f : in_.candidate->input_schema().fields()) {
    if (in_.data->ColumnByName(f.name) != nullptr && in_.reference->ColumnByName(f.name)) {
      inputs.push_back(f.name);
    }
  }
  PLINTH_ASSIGN_OR_RETURN(monitor::DriftReport d,
                          monitor::CompareTables(*in_.reference, *in_.data, monitor::DriftRules(),
                                                 inputs, {}, /*distributions=*/false));
  if (d.compared == 0) {
    return InvalidArgument("not enough data: no column could be compared (each needs 30 values)");
  }
  GateResult r;
  r.passed = d.share < g.drift.max_share;
  r.observed = Percent(d.share) + " of features drift (" + std::to_string(d.drifted) + " of " +
               std::to_string(d.compared) + ")";
  r.expected = "< " + Percent(g.drift.max_share);
  for (const monitor::ColumnReport& c : d.columns) {
    if (c.skipped.empty() && c.drift.drifted) {
      r.detail += (r.detail.empty() ? "drifting: " : ", ") + c.name;
    }
  }
  r.values = {{"share", d.share}, {"drifted", d.drifted}, {"compared", d.compared}};
  return r;
}

// The rows as {"data": [{column: value, ...}, ...]} bodies of `batch` rows each.
std::vector<std::string> Bodies(const table::Table& rows, const ml::Predictor& p, int batch) {
  std::vector<std::string> bodies;
  const int64_t n = rows.num_rows();
  const int64_t count = std::min<int64_t>(64, std::max<int64_t>(1, n / batch));
  for (int64_t b = 0; b < count; ++b) {
    core::Json data = core::Json::array();
    for (int64_t j = 0; j < batch; ++j) {
      const int64_t i = (b * batch + j) % n;
      core::Json row = core::Json::object();
      for (const table::Field& f : p.input_schema().fields()) {
        const table::Column* c = rows.ColumnByName(f.name);
        if (c == nullptr || c->IsNull(i)) {
          row[f.name] = nullptr;
        } else if (c->type() == table::DataType::kString ||
                   c->type() == table::DataType::kTimestamp) {
          row[f.name] = c->type() == table::DataType::kString ? std::string(c->GetString(i))
                                                              : c->FormatValue(i);
        } else if (c->type() == table::DataType::kBool) {
          row[f.name] = c->GetDouble(i) != 0;
        } else {
          row[f.name] = c->GetDouble(i);
        }
      }
      data.push_back(std::move(row));
    }
    bodies.push_back(core::DumpJson(core::Json{{"data", std::move(data)}}, false));
  }
  return bodies;
}

Result<GateResult> Runner::Latency(const Gate& g) {
  const LatencyGate& l = g.latency;
  PLINTH_ASSIGN_OR_RETURN(table::Table rows, Rows(g));
  const std::vector<std::string> bodies = Bodies(rows, *in_.candidate, l.batch);
  // What plinth serve does: its request path (body parsing, the predictor on one thread per
  // request, the answer) behind its HTTP server, over a loopback connection; or the endpoint
  // at --url.
  std::unique_ptr<serving::ModelServer> model;
  std::unique_ptr<http::Server> server;
  std::thread running;
  std::string base = in_.url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  if (base.empty()) {
    auto served = std::make_shared<serving::ServedModel>();
    served->predictor = in_.candidate;
    served->name = in_.candidate_name;
    served->version = "candidate";
    serving::ServeOptions options;
    options.plinth_version = "gates";
    options.limits.max_rows = 10000;
    model = std::make_unique<serving::ModelServer>(served, options);
    http::ServerOptions http_options;
    http_options.threads = in_.serve_threads;
    serving::ModelServer* m = model.get();
    server = std::make_unique<http::Server>(
        http_options,
        [m](http::Request r, http::Responder respond) {
          m->Handle(std::move(r), std::move(respond));
        },
        serving::ModelServer::Error);
    PLINTH_RETURN_IF_ERROR(server->Listen());
    running = std::thread([s = server.get()] { s->Run(false); });
    base = "http://127.0.0.1:" + std::to_string(server->port());
  }
  // Stopped and joined on every way out (an exception included: a joinable thread destroyed
  // ends the process).
  class Stopper {
   public:
    Stopper(http::Server* server, std::thread* running) : server_(server), running_(running) {}
    Stopper(const Stopper&) = delete;
    Stopper& operator=(const Stopper&) = delete;
    ~Stopper() {
      if (server_ != nullptr && running_->joinable()) {
        server_->Stop();
        running_->join();
      }
    }

   private:
    http::Server* server_;
    std::thread* running_;
  };
  std::optional<Stopper> stopper(std::in_place, server.get(), &running);
  auto stop = [&] { stopper.reset(); };
  http::Client client(base, 30);
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(l.requests));
  const int warmup = std::min(50, l.requests / 10);
  Status failed;
  for (int i = 0; i < warmup + l.requests && failed.ok(); ++i) {
    const std::string& body = bodies[static_cast<size_t>(i) % bodies.size()];
    const int64_t start = core::SystemClock().MonotonicMicros();
    Result<http::ClientResponse> answer = client.Send("POST", "/predict", body, "application/json");
    const int64_t took = core::SystemClock().MonotonicMicros() - start;
    if (!answer.ok()) {
      failed = answer.status();
    } else if (answer->status != 200) {
      std::string excerpt = answer->body.substr(0, 200);  // on one line
      std::replace_if(
          excerpt.begin(), excerpt.end(),
          [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
      failed = InvalidArgument(base + "/predict answered " + std::to_string(answer->status) + ": " +
                               excerpt);
    } else if (i >= warmup) {
      ms.push_back(static_cast<double>(took) / 1000.0);
      if (in_.progress && ms.size() % 200 == 0) {
        in_.progress(g.name + ": " + std::to_string(ms.size()) + "/" + std::to_string(l.requests));
      }
    }
  }
  stop();
  PLINTH_RETURN_IF_ERROR(failed);
  const double p50 = *monitor::Percentile(ms, 0.50);
  const double p99 = *monitor::Percentile(ms, 0.99);
  GateResult r;
  r.passed = (!l.p50_ms || p50 <= *l.p50_ms) && (!l.p99_ms || p99 <= *l.p99_ms);
  r.observed = "p50 " + Num(p50) + " ms, p99 " + Num(p99) + " ms";
  std::vector<std::string> expected;
  if (l.p50_ms) {
    expected.push_back("p50 <= " + Num(*l.p50_ms) + " ms");
  }
  if (l.p99_ms) {
    expected.push_back("p99 <= " + Num(*l.p99_ms) + " ms");
  }
  r.expected = JoinComma(expected);
  r.detail = std::to_string(l.requests) + " requests of " + std::to_string(l.batch) +
             " rows, one at a time, to " +
             (in_.url.empty() ? "plinth serve's request path on "
                                "a loopback connection"
                              : in_.url);
  r.values = {{"p50_ms", p50},
              {"p99_ms", p99},
              {"requests", l.requests},
              {"batch", l.batch},
              {"endpoint", in_.url.empty() ? "in-process" : in_.url}};
  return r;
}

}  // namespace

bool Report::passed() const { return failed() == 0; }

int Report::failed() const {
  return static_cast<int>(
      std::count_if(results.begin(), results.end(), [](const GateResult& r) { return !r.passed; }));
}

Result<Report> RunGates(const Suite& suite, const Inputs& in) {
  Report report;
  report.suite = suite.name;
  report.suite_source = suite.source;
  report.suite_digest = suite.digest;
  report.model = in.candidate_name;
  report.data_source =
      in.data != nullptr ? in.data_source : "the test metrics recorded at training";
  report.started_us = core::SystemClock().NowMicros();
  const int64_t start = core::SystemClock().MonotonicMicros();
  Runner runner(suite, in);
  for (const Gate& g : suite.gates) {
    if (in.progress) {
      in.progress(g.name);
    }
    PLINTH_ASSIGN_OR_RETURN(GateResult r, runner.Run(g));
    report.results.push_back(std::move(r));
  }
  report.seconds = static_cast<double>(core::SystemClock().MonotonicMicros() - start) / 1e6;
  return report;
}

core::Json ReportToJson(const Report& r) {
  core::Json gates = core::Json::array();
  for (const GateResult& g : r.results) {
    gates.push_back({{"name", g.name},
                     {"kind", g.kind},
                     {"where", g.where},
                     {"passed", g.passed},
                     {"observed", g.observed},
                     {"expected", g.expected},
                     {"detail", g.detail},
                     {"values", g.values}});
  }
  return {{"format", "plinth.gates/v1"},
          {"suite", r.suite},
          {"suite_source", r.suite_source},
          {"suite_sha256", r.suite_digest},
          {"model", r.model},
          {"data", r.data_source},
          {"started", core::FormatIsoMicros(r.started_us)},
          {"seconds", r.seconds},
          {"passed", r.passed()},
          {"failed", r.failed()},
          {"gates", std::move(gates)}};
}

std::string FormatReportText(const Report& r) {
  core::TextTable t({"gate", "result", "observed", "expected"}, {false, false, false, false});
  for (const GateResult& g : r.results) {
    t.AddRow({g.name, g.passed ? "passed" : "FAILED", g.observed, g.expected});
  }
  std::string out = "gates " + r.suite + " (" + r.suite_source + ") on " + r.model +
                    ", data: " + r.data_source + "\n" + t.Render(48);
  for (const GateResult& g : r.results) {
    if (!g.passed && !g.detail.empty()) {
      out += "  " + g.name + ": " + g.detail + "\n";
    }
  }
  out += r.passed() ? "all " + std::to_string(r.results.size()) + " gates passed\n"
                    : std::to_string(r.failed()) + " of " + std::to_string(r.results.size()) +
                          " gates failed\n";
  return out;
}

std::string RenderReportHtml(const Report& r) {
  std::string body = "<h1>Gates " + core::EscapeHtml(r.suite) + ": " +
                     (r.passed() ? "passed" : "FAILED") + "</h1>\n<p>Model " +
                     core::EscapeHtml(r.model) + "; data: " + core::EscapeHtml(r.data_source) +
                     "; suite " + core::EscapeHtml(r.suite_source) + " (sha256 " +
                     core::EscapeHtml(r.suite_digest.substr(0, 12)) + ")</p>\n";
  body +=
      "<table><tr><th>gate</th><th>result</th><th>observed</th><th>expected</th>"
      "<th>detail</th></tr>\n";
  for (const GateResult& g : r.results) {
    body += std::string("<tr class=\"") + (g.passed ? "pass" : "fail") + "\"><td>" +
            core::EscapeHtml(g.name) + "</td><td>" + (g.passed ? "passed" : "FAILED") +
            "</td><td>" + core::EscapeHtml(g.observed) + "</td><td>" +
            core::EscapeHtml(g.expected) + "</td><td>" + core::EscapeHtml(g.detail) +
            "</td></tr>\n";
  }
  body += "</table>\n";
  // Per-slice values as bars, for the sliced metric gates.
  for (const GateResult& g : r.results) {
    if (g.values.is_object() && g.values.contains("slices")) {
      std::vector<double> values;
      std::vector<std::string> labels;
      for (const core::Json& s : g.values["slices"]) {
        if (s.value("judged", false)) {
          values.push_back(s["value"].get<double>());
          labels.push_back(s["slice"].get<std::string>());
        }
      }
      const double threshold = g.values.value("threshold", 0.0);
      body +=
          "<h2>" + core::EscapeHtml(g.name) + " per slice</h2>\n" +
          core::SvgOverlaidBars(values, std::vector<double>(values.size(), threshold), labels,
                                {g.values["metric"].get<std::string>(), "threshold"}, 640, 220) +
          "\n";
    }
  }
  return core::HtmlPage("Plinth gates: " + r.suite, body);
}

}  // namespace plinth::gates
