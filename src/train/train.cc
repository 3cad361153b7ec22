#include "train/train.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

#include "core/clock.h"
#include "core/hash.h"
#include "core/html.h"
#include "core/logging.h"
#include "core/text_table.h"
#include "ml/metrics.h"
#include "ml/monitor.h"
#include "ml/split.h"
#include "profile/profile.h"
#include "table/csv_reader.h"
#include "table/hashing.h"
#include "table/reader.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth::train {
namespace {

using table::DataType;

// The labels of a target column: class indices (classification) or values.
struct Labels {
  ml::Task task = ml::Task::kBinary;
  std::vector<std::string> classes;  // class index -> label text
  std::vector<float> y;              // per row of the table (NaN where the target is null)
};

std::string ColumnMsg(std::string_view key, std::string_view column) {
  return "'" + std::string(key) + "': column \"" + std::string(column) + "\"";
}

// The distinct labels of `col` over `rows`, sorted (numerically for
// numbers), and each of those rows' index into them (-1 for other rows).
struct LabelCodes {
  std::vector<std::string> labels;
  std::vector<int> code;
};

LabelCodes EncodeLabels(const table::Column& col, const std::vector<int64_t>& rows) {
  LabelCodes out;
  out.code.assign(static_cast<size_t>(col.size()), -1);
  if (table::IsNumeric(col.type())) {
    std::map<double, int> ids;
    for (int64_t r : rows) {
      ids.emplace(col.GetDouble(r), 0);
    }
    for (auto& [v, id] : ids) {
      id = static_cast<int>(out.labels.size());
      out.labels.push_back(col.type() == DataType::kInt64 ? std::to_string(static_cast<int64_t>(v))
                                                          : table::FormatDouble(v));
    }
    for (int64_t r : rows) {
      out.code[static_cast<size_t>(r)] = ids[col.GetDouble(r)];
    }
    return out;
  }
  // Text: count by views into the column, then number the labels in order.
  std::string text;
  std::unordered_map<std::string, int> owned;  // labels of non-string columns (bool, time)
  std::unordered_map<std::string_view, int> ids;
  std::vector<std::string_view> first_seen;
  for (int64_t r : rows) {
    std::string_view v;
    if (col.type() == DataType::kString) {
      v = col.GetString(r);
    } else {
      text = col.FormatValue(r);
      v = owned.try_emplace(text, 0).first->first;
    }
    auto [it, added] = ids.try_emplace(v, static_cast<int>(first_seen.size()));
    if (added) {
      first_seen.push_back(v);
    }
    out.code[static_cast<size_t>(r)] = it->second;
  }
  std::vector<int> order(first_seen.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = static_cast<int>(i);
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return first_seen[static_cast<size_t>(a)] < first_seen[static_cast<size_t>(b)];
  });
  std::vector<int> rank(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    rank[static_cast<size_t>(order[i])] = static_cast<int>(i);
    out.labels.emplace_back(first_seen[static_cast<size_t>(order[i])]);
  }
  for (int64_t r : rows) {
    int& code = out.code[static_cast<size_t>(r)];
    code = rank[static_cast<size_t>(code)];
  }
  return out;
}

Result<Labels> MakeLabels(const TrainingConfig& c, const table::Column& col,
                          const std::vector<int64_t>& rows) {
  Labels out;
  const std::string key = c.source + ": key 'data.target'";
  std::optional<LabelCodes> codes;  // computed once, when the task is inferred from them
  if (c.task) {
    out.task = *c.task;
  } else if (col.type() == DataType::kFloat64) {
    out.task = ml::Task::kRegression;
  } else {
    codes = EncodeLabels(col, rows);
    size_t distinct = codes->labels.size();
    if (col.type() == DataType::kInt64 && distinct > 20) {
      out.task = ml::Task::kRegression;
    } else {
      out.task = distinct <= 2 ? ml::Task::kBinary : ml::Task::kMulticlass;
    }
  }
  out.y.assign(static_cast<size_t>(col.size()), std::nanf(""));
  if (out.task == ml::Task::kRegression) {
    if (!table::IsNumeric(col.type())) {
      return InvalidArgument(key + ": column \"" + c.target + "\" holds " +
                             std::string(table::TypeName(col.type())) +
                             " values; a regression target must be numeric");
    }
    for (int64_t r : rows) {
      out.y[r] = static_cast<float>(col.GetDouble(r));
    }
    return out;
  }
  if (!codes) {
    codes = EncodeLabels(col, rows);
  }
  out.classes = codes->labels;
  if (out.classes.size() < 2) {
    return InvalidArgument(key + ": column \"" + c.target + "\" has a single class" +
                           (out.classes.empty() ? std::string() : " \"" + out.classes[0] + "\"") +
                           "; a classifier needs at least two");
  }
  if (out.task == ml::Task::kBinary && out.classes.size() != 2) {
    return InvalidArgument(key + ": column \"" + c.target + "\" has " +
                           std::to_string(out.classes.size()) +
                           " classes; data.task is binary (use multiclass)");
  }
  if (out.task == ml::Task::kBinary && !c.positive_class.empty()) {
    auto it = std::find(out.classes.begin(), out.classes.end(), c.positive_class);
    if (it == out.classes.end()) {
      return InvalidArgument(c.source + ": key 'data.positive_class': \"" + c.positive_class +
                             "\" is not a label of column \"" + c.target + "\"");
    }
    if (it == out.classes.begin()) {
      std::swap(out.classes[0], out.classes[1]);
      for (int64_t r : rows) {
        int& code = codes->code[static_cast<size_t>(r)];
        code = 1 - code;
      }
    }
  }
  for (int64_t r : rows) {
    out.y[r] = static_cast<float>(codes->code[static_cast<size_t>(r)]);
  }
  return out;
}

// Class indices of a column read from another file, by the model's labels.
Result<std::vector<int>> LabelIndices(const table::Column& col, std::string_view target,
                                      const std::vector<std::string>& classes,
                                      std::string_view source) {
  std::map<std::string, int, std::less<>> index;
  for (size_t i = 0; i < classes.size(); ++i) {
    index[classes[i]] = static_cast<int>(i);
  }
  std::vector<int> out(static_cast<size_t>(col.size()));
  for (int64_t r = 0; r < col.size(); ++r) {
    if (col.IsNull(r)) {
      return InvalidArgument(std::string(source) + ": row " + std::to_string(r + 1) +
                             ": column \"" + std::string(target) + "\": the label is missing");
    }
    std::string v = col.FormatValue(r);
    auto it = index.find(v);
    if (it == index.end()) {
      return InvalidArgument(std::string(source) + ": row " + std::to_string(r + 1) +
                             ": column \"" + std::string(target) + "\": label \"" + v +
                             "\" is not one of the model's classes");
    }
    out[static_cast<size_t>(r)] = it->second;
  }
  return out;
}

// The target values of a labelled file as the model sees them: class
// indices by the model's labels, or numbers. Errors name `source`, the row
// and the column.
Result<std::vector<float>> TargetValues(const table::Column& col, std::string_view target,
                                        ml::Task task, const std::vector<std::string>& classes,
                                        std::string_view source) {
  std::vector<float> y;
  if (task != ml::Task::kRegression) {
    PLINTH_ASSIGN_OR_RETURN(std::vector<int> idx, LabelIndices(col, target, classes, source));
    y.assign(idx.begin(), idx.end());
    return y;
  }
  for (int64_t r = 0; r < col.size(); ++r) {
    if (col.IsNull(r) || !table::IsNumeric(col.type())) {
      return InvalidArgument(std::string(source) + ": row " + std::to_string(r + 1) +
                             ": column \"" + std::string(target) + "\": expected a number");
    }
    y.push_back(static_cast<float>(col.GetDouble(r)));
  }
  return y;
}

core::Json MetricsFor(const ml::Prediction& p, ml::Task task, std::span<const float> y,
                      const std::vector<std::string>& classes, double threshold) {
  if (task == ml::Task::kRegression) {
    std::vector<double> truth(y.begin(), y.end());
    Result<ml::RegressionMetrics> m = ml::EvaluateRegressor(truth, p.values);
    return m.ok() ? ml::ToJson(*m) : core::Json(nullptr);
  }
  std::vector<int> labels(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    labels[i] = static_cast<int>(y[i]);
  }
  Result<ml::ClassificationMetrics> m =
      ml::EvaluateClassifier(labels, p.proba, static_cast<int>(classes.size()), threshold);
  return m.ok() ? ml::ToJson(*m, classes) : core::Json(nullptr);
}

std::vector<float> Gather(const std::vector<float>& v, const std::vector<int64_t>& rows) {
  std::vector<float> out;
  out.reserve(rows.size());
  for (int64_t r : rows) {
    out.push_back(v[static_cast<size_t>(r)]);
  }
  return out;
}

// "balanced" class weights n / (k * n_c) per training row, or none.
std::vector<float> ClassWeights(const TrainingConfig& c, const Labels& labels,
                                const std::vector<float>& y) {
  if (c.class_weight != "balanced" || labels.task == ml::Task::kRegression) {
    return {};
  }
  std::vector<double> counts(labels.classes.size(), 0);
  for (float v : y) {
    counts[static_cast<size_t>(v)] += 1;
  }
  std::vector<float> w;
  w.reserve(y.size());
  for (float v : y) {
    w.push_back(
        static_cast<float>(static_cast<double>(y.size()) /
                           (static_cast<double>(counts.size()) * counts[static_cast<size_t>(v)])));
  }
  return w;
}

// Prints rounds to stderr: a redrawn line on a terminal, a line every 50
// rounds otherwise.
class RoundPrinter {
 public:
  RoundPrinter(bool enabled, std::string metric, std::string label)
      : enabled_(enabled),
        tty_(isatty(2) == 1),
        metric_(std::move(metric)),
        label_(std::move(label)) {}
  void operator()(const ml::RoundLog& log, const ml::RoundLog& best) {
    if (!enabled_) {
      return;
    }
    last_ = log;
    best_ = best;
    printed_ = false;
    if (tty_ || log.round % 50 == 0) {
      Print();
    }
  }
  void Finish() {
    if (enabled_ && last_.round >= 0) {
      if (!printed_ || tty_) {
        Print();
      }
      if (tty_) {
        std::fputc('\n', stderr);
      }
    }
  }

 private:
  void Print() {
    // Without a validation split there is no validation number to show.
    char validation[96] = "(no validation split)";
    if (!std::isnan(last_.validation)) {
      std::snprintf(validation, sizeof(validation), "validation %.5f  best %.5f @ %d",
                    last_.validation, best_.validation, best_.round + 1);
    }
    std::fprintf(stderr, "%s%s round %4d  train %s %.5f  %s%s", tty_ ? "\r" : "", label_.c_str(),
                 last_.round + 1, metric_.c_str(), last_.train, validation, tty_ ? "\033[K" : "\n");
    std::fflush(stderr);
    printed_ = true;
  }
  bool enabled_, tty_;
  std::string metric_, label_;
  ml::RoundLog last_{-1, 0, 0}, best_{-1, 0, 0};
  bool printed_ = false;
};

struct Prepared {
  ml::Preprocessor pre;
  std::vector<int64_t> train_rows;  // after outlier removal
};

ml::FitOptions FitOptionsOf(const TrainingConfig& c, const Labels& labels) {
  ml::FitOptions o;
  o.task = labels.task;
  o.num_classes = static_cast<int>(labels.classes.size());
  o.learning_rate = c.learning_rate;
  o.batch_size = c.batch_size;
  o.epochs = c.epochs;
  o.early_stopping_patience = c.early_stopping_patience;
  o.monitor = c.monitor;
  o.seed = c.seed;
  o.threads = c.threads;
  o.params = c.params;
  return o;
}

// Fits preprocessing on `train_rows` and the model on them, monitoring
// `valid_rows`. Returns the model, its preprocessing and the fit report.
struct Fitted {
  ml::Preprocessor pre;
  std::unique_ptr<ml::Model> model;
  ml::FitReport report;
  std::vector<int64_t> train_rows;
  ml::Matrix valid_x;  // the validation rows, transformed
  double preprocess_ms = 0, fit_ms = 0;
};

Result<Fitted> FitOn(
    const TrainingConfig& c, const ml::ModelKind& kind, const table::Table& data,
    const std::vector<std::string>& inputs, const Labels& labels,
    const std::vector<int64_t>& train_rows, const std::vector<int64_t>& valid_rows,
    RoundPrinter* printer,
    const std::function<void(const std::vector<int64_t>&)>& after_preprocess = {}) {
  Fitted f;
  core::PhaseTimer timer("train: fit");
  PLINTH_ASSIGN_OR_RETURN(f.pre, ml::Preprocessor::Fit(data, train_rows, inputs, c.preprocess));
  f.train_rows = f.pre.kept_rows();
  if (f.train_rows.empty()) {
    return InvalidArgument(c.source + ": the training split is empty after cleaning (" +
                           std::to_string(train_rows.size()) +
                           " rows before outlier removal); see 'clean.outliers'");
  }
  PLINTH_ASSIGN_OR_RETURN(ml::Matrix xt, f.pre.TransformRows(data, f.train_rows));
  PLINTH_ASSIGN_OR_RETURN(f.valid_x, f.pre.TransformRows(data, valid_rows));
  const ml::Matrix& xv = f.valid_x;
  ml::Dataset train{&xt, Gather(labels.y, f.train_rows), {}};
  train.weights = ClassWeights(c, labels, train.y);
  ml::Dataset valid{&xv, Gather(labels.y, valid_rows), {}};
  f.preprocess_ms = timer.Lap("preprocess");
  if (after_preprocess) {
    after_preprocess(f.train_rows);
  }
  ml::FitOptions o = FitOptionsOf(c, labels);
  o.input_columns = static_cast<int64_t>(f.pre.columns().size());
  if (printer != nullptr) {
    o.on_round = [printer](const ml::RoundLog& l, const ml::RoundLog& b) { (*printer)(l, b); };
  }
  PLINTH_ASSIGN_OR_RETURN(f.model, kind.create());
  PLINTH_ASSIGN_OR_RETURN(f.report, f.model->Fit(train, valid, o));
  f.fit_ms = timer.Lap("model");
  if (printer != nullptr) {
    printer->Finish();
  }
  return f;
}

table::Table SelectColumns(const table::Table& t, const std::vector<std::string>& names) {
  std::vector<table::Field> fields;
  std::vector<table::Column> cols;
  for (const std::string& n : names) {
    std::optional<size_t> i = t.schema().IndexOf(n);
    fields.push_back(t.schema().field(*i));
    cols.push_back(t.column(*i));
  }
  return table::Table(table::Schema(std::move(fields)), std::move(cols));
}

// The profile of the columns `names` over the rows `rows` of `t`, streamed
// in blocks so that no copy of the whole selection is made.
Result<profile::DatasetProfile> ProfileRows(const table::Table& t, const std::vector<int64_t>& rows,
                                            const std::vector<std::string>& names) {
  constexpr size_t kBlock = 65536;
  profile::Profiler profiler;
  std::vector<int64_t> block;
  for (size_t start = 0; start < rows.size() || start == 0; start += kBlock) {
    block.assign(rows.begin() + static_cast<int64_t>(start),
                 rows.begin() + static_cast<int64_t>(std::min(rows.size(), start + kBlock)));
    table::Table chunk = SelectColumns(ml::TakeRows(t, block), names);
    if (start == 0) {
      PLINTH_RETURN_IF_ERROR(profiler.Begin(chunk.schema(), static_cast<int64_t>(rows.size())));
    }
    PLINTH_RETURN_IF_ERROR(profiler.Add(chunk));
    if (rows.empty()) {
      break;
    }
  }
  return profiler.Finish();
}

// The reference set (bundle file reference.csv.gz): a seeded sample of at most
// `c.reference_rows` held-out rows (the validation split, then the test split or the
// test file), their raw input columns and label, with the model's outputs on them.
// Test-file columns read with another type than the training data's are cast to it;
// when that fails the test rows are left out and a warning says so.
Result<std::optional<table::Table>> ReferenceSet(const TrainingConfig& c, const table::Table& data,
                                                 const std::vector<std::string>& columns,
                                                 const ml::SplitRows& split,
                                                 const table::Table& test_table,
                                                 const ml::Predictor& predictor,
                                                 std::vector<std::string>& warnings) {
  if (c.reference_rows == 0) {
    return std::optional<table::Table>();
  }
  // Each held-out row as (source, row): source 0 is `data`, 1 the test file.
  std::vector<table::Column> test_cols;
  bool use_test_file = !c.test_path.empty();
  for (const std::string& name : columns) {
    if (!use_test_file) {
      break;
    }
    const table::Column& want = *data.ColumnByName(name);
    const table::Column& have = *test_table.ColumnByName(name);
    if (have.type() == want.type()) {
      test_cols.push_back(have);
      continue;
    }
    Result<table::Column> cast = have.CastTo(want.type());
    if (!cast.ok()) {
      warnings.push_back("the reference set leaves the test file's rows out: its column \"" + name +
                         "\" reads as " + std::string(table::TypeName(have.type())) +
                         ", the training data's as " + std::string(table::TypeName(want.type())));
      use_test_file = false;
      break;
    }
    test_cols.push_back(std::move(*cast));
  }
  std::vector<std::pair<int, int64_t>> held_out;
  for (int64_t r : split.validation) {
    held_out.emplace_back(0, r);
  }
  if (use_test_file) {
    for (int64_t r = 0; r < test_table.num_rows(); ++r) {
      held_out.emplace_back(1, r);
    }
  } else if (c.test_path.empty()) {
    for (int64_t r : split.test) {
      held_out.emplace_back(0, r);
    }
  }
  if (held_out.empty()) {
    return std::optional<table::Table>();
  }
  if (static_cast<int64_t>(held_out.size()) > c.reference_rows) {
    // A partial Fisher-Yates with mt19937_64 (whose sequence the standard fixes), then
    // the sample back in file order.
    std::mt19937_64 rng(c.seed ^ 0x7265666572656e63ULL);  // "referenc": apart from the split's
    const size_t n = static_cast<size_t>(c.reference_rows);
    for (size_t i = 0; i < n; ++i) {
      const size_t j = i + static_cast<size_t>(rng() % (held_out.size() - i));
      std::swap(held_out[i], held_out[j]);
    }
    held_out.resize(n);
    std::sort(held_out.begin(), held_out.end());
  }
  std::vector<table::Field> fields;
  std::vector<table::Column> cols;
  for (size_t k = 0; k < columns.size(); ++k) {
    const table::Column& from_data = *data.ColumnByName(columns[k]);
    table::Column col(from_data.type());
    col.Reserve(static_cast<int64_t>(held_out.size()));
    for (const auto& [source, r] : held_out) {
      col.AppendFrom(source == 0 ? from_data : test_cols[k], r);
    }
    fields.push_back({columns[k], from_data.type()});
    cols.push_back(std::move(col));
  }
  Result<table::Table> with_outputs =
      ml::AppendPredictions(predictor, table::Table(table::Schema(fields), std::move(cols)));
  if (!with_outputs.ok()) {
    warnings.push_back("no reference set: " + with_outputs.status().message());
    return std::optional<table::Table>();
  }
  return std::optional<table::Table>(std::move(*with_outputs));
}

core::Json CvSummary(const std::vector<core::Json>& folds) {
  core::Json out = {{"folds", folds.size()}, {"per_fold", folds}};
  core::Json mean = core::Json::object(), stdev = core::Json::object();
  for (const auto& [key, value] : folds[0].items()) {
    if (!value.is_number()) {
      continue;
    }
    std::vector<double> v;
    for (const core::Json& f : folds) {
      if (f.contains(key) && f[key].is_number()) {
        v.push_back(f[key].get<double>());
      }
    }
    double m = 0, s = 0;
    for (double x : v) {
      m += x;
    }
    m /= static_cast<double>(v.size());
    for (double x : v) {
      s += (x - m) * (x - m);
    }
    mean[key] = m;
    stdev[key] = v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : 0.0;
  }
  out["mean"] = mean;
  out["std"] = stdev;
  return out;
}

// A cleaning step warns when it removes more than this fraction of its rows.
constexpr double kCleaningWarnFraction = 0.05;

using ml::CleaningStep;

// The one-line warning for `s` when it removed more than
// kCleaningWarnFraction of its rows, else "". `c` names the keys to change.
std::string CleaningWarning(const TrainingConfig& c, const CleaningStep& s) {
  if (!(s.fraction() > kCleaningWarnFraction)) {
    return "";
  }
  char share[96];
  std::snprintf(share, sizeof(share), "%.1f%% of the %s (%lld of %lld)", 100.0 * s.fraction(),
                s.step == "outliers"     ? "training rows"
                : s.step == "duplicates" ? "labelled rows"
                                         : "rows",
                static_cast<long long>(s.rows_removed), static_cast<long long>(s.rows_in));
  if (s.step == "missing_label") {
    return std::string(share) + " have no value in the target column \"" + c.target +
           "\" and were dropped";
  }
  if (s.step == "duplicates") {
    return "clean.drop_duplicates removed " + std::string(share) +
           " as exact duplicates of an earlier row; repeated rows are usually real observations: "
           "set clean.drop_duplicates: false to keep them";
  }
  return "clean.outliers (" + s.setting + ") removed " + std::string(share) +
         " as outliers; set clean.outliers.action: clip to keep them";
}

// Records `s` in `steps` and, when it removed too many rows, its warning in
// `warnings` and on stderr (as it happens, so a long fit does not hide it).
void AddCleaningStep(const TrainingConfig& c, CleaningStep s, std::vector<CleaningStep>& steps,
                     std::vector<std::string>& warnings) {
  std::string warning = CleaningWarning(c, s);
  if (!warning.empty()) {
    spdlog::warn("{}: {}", c.source, warning);
    warnings.push_back(warning);
  }
  steps.push_back(std::move(s));
}

// The run's report (TrainResult::report) from the bundle's meta.
core::Json ReportJson(const ml::BundleMeta& meta, const std::string& bundle,
                      const core::Json& timings) {
  const ml::TrainingRecord& r = *meta.trained;
  return {{"name", meta.name},          {"bundle", bundle},
          {"kind", meta.kind},          {"task", ml::Name(meta.task)},
          {"data", ml::ToJson(r.data)}, {"training", ml::ToJson(r.fit, false)},
          {"metrics", r.metrics},       {"warnings", r.warnings},
          {"timings_ms", timings}};
}

}  // namespace

Result<TrainResult> Train(const TrainingConfig& c, const TrainOptions& options) {
  core::PhaseTimer timer("train");
  core::Json timings = core::Json::object();  // milliseconds per step
  PLINTH_ASSIGN_OR_RETURN(const ml::ModelKind* kind, ml::FindModelKind(c.model_type));
  table::CsvOptions csv;
  if (!c.delimiter.empty()) {
    csv.delimiter = c.delimiter[0];
  }
  if (!c.null_values.empty()) {
    csv.null_values = c.null_values;
  }
  csv.progress = options.progress;
  PLINTH_ASSIGN_OR_RETURN(table::CsvTable read, table::ReadTable(c.data_path, csv));
  timings["load"] = timer.Lap("load");
  const table::Table& data = read.table;
  const table::Column* target = data.ColumnByName(c.target);
  if (target == nullptr) {
    return InvalidArgument(c.source + ": key " + ColumnMsg("data.target", c.target) +
                           " is not in " + c.data_path);
  }
  for (const auto* list : {&c.id_columns, &c.ignore_columns}) {
    for (const std::string& name : *list) {
      if (data.ColumnByName(name) == nullptr) {
        return InvalidArgument(
            c.source + ": key " +
            ColumnMsg(list == &c.id_columns ? "data.id_columns" : "data.ignore_columns", name) +
            " is not in " + c.data_path);
      }
    }
  }
  std::vector<std::string> inputs;
  for (const table::Field& f : data.schema().fields()) {
    bool excluded = f.name == c.target ||
                    std::count(c.id_columns.begin(), c.id_columns.end(), f.name) ||
                    std::count(c.ignore_columns.begin(), c.ignore_columns.end(), f.name);
    if (!excluded) {
      inputs.push_back(f.name);
    }
  }
  if (inputs.empty()) {
    return InvalidArgument(c.source +
                           ": no input columns are left after data.target, "
                           "data.id_columns and data.ignore_columns");
  }

  // Clean: rows without a label, then duplicate rows (ids aside).
  std::vector<int64_t> rows;
  int64_t null_targets = 0, duplicates = 0;
  std::vector<int64_t> first;
  if (c.drop_duplicates) {
    std::vector<size_t> cols;
    for (size_t i = 0; i < data.num_columns(); ++i) {
      if (!std::count(c.id_columns.begin(), c.id_columns.end(), data.schema().field(i).name)) {
        cols.push_back(i);
      }
    }
    first = table::FirstOccurrence(data, cols);
  }
  for (int64_t r = 0; r < data.num_rows(); ++r) {
    if (target->IsNull(r) ||
        (target->type() == DataType::kFloat64 && std::isnan(target->doubles()[r]))) {
      ++null_targets;
    } else if (!first.empty() && first[static_cast<size_t>(r)] != r) {
      ++duplicates;
    } else {
      rows.push_back(r);
    }
  }
  std::vector<CleaningStep> cleaning;
  std::vector<std::string> warnings;
  AddCleaningStep(c, {"missing_label", "data.target: " + c.target, data.num_rows(), null_targets},
                  cleaning, warnings);
  AddCleaningStep(
      c,
      {"duplicates", c.drop_duplicates ? "drop_duplicates: true" : "drop_duplicates: false",
       data.num_rows() - null_targets, duplicates},
      cleaning, warnings);
  PLINTH_ASSIGN_OR_RETURN(Labels labels, MakeLabels(c, *target, rows));
  PLINTH_ASSIGN_OR_RETURN(ml::Monitor monitor, ml::ResolveMonitor(c.monitor, labels.task));

  // Split.
  std::vector<int> strata;
  if (c.stratify && labels.task != ml::Task::kRegression) {
    for (int64_t r : rows) {
      strata.push_back(static_cast<int>(labels.y[static_cast<size_t>(r)]));
    }
  }
  PLINTH_ASSIGN_OR_RETURN(ml::SplitRows split,
                          ml::SplitTrainValidationTest(rows, strata, c.split, c.seed));
  for (auto [part, fraction, name] :
       {std::tuple{&split.train, c.split.train, "train"},
        std::tuple{&split.validation, c.split.validation, "validation"},
        std::tuple{&split.test, c.split.test, "test"}}) {
    if (fraction > 0 && part->empty()) {
      return InvalidArgument(c.source + ": the " + std::string(name) + " split is empty (" +
                             std::to_string(rows.size()) + " rows after cleaning, " +
                             std::to_string(null_targets) + " without a label, " +
                             std::to_string(duplicates) + " duplicates)");
    }
  }
  // A separate test file is read before training, so its errors come first too.
  table::Table test_table;
  if (!c.test_path.empty()) {
    table::CsvOptions tcsv = csv;  // types inferred, as in EvaluateFile
    tcsv.progress = false;
    PLINTH_ASSIGN_OR_RETURN(table::CsvTable t, table::ReadTable(c.test_path, tcsv));
    test_table = std::move(t.table);
    if (test_table.ColumnByName(c.target) == nullptr) {
      return InvalidArgument(c.source + ": key " + ColumnMsg("data.target", c.target) +
                             " is not in the test file " + c.test_path);
    }
    for (const std::string& name : inputs) {
      if (test_table.ColumnByName(name) == nullptr) {
        return InvalidArgument(c.test_path + ": column \"" + name +
                               "\" (an input column of the training data) is missing");
      }
    }
    PLINTH_RETURN_IF_ERROR(TargetValues(*test_table.ColumnByName(c.target), c.target, labels.task,
                                        labels.classes, c.test_path)
                               .status());
  }
  // An output that cannot be written (`output: /proc/x`) fails now, not after the fit.
  const std::string output_key = c.source + ": key 'output'";
  PLINTH_RETURN_IF_ERROR(ml::CheckBundleTarget(c.output).WithPrefix(output_key));
  timings["clean_split"] = timer.Lap("clean+split");

  // Optional k-fold cross-validation over train + validation.
  core::Json cv = nullptr;
  if (c.cv_folds >= 2) {
    std::vector<int64_t> pool = split.train;
    pool.insert(pool.end(), split.validation.begin(), split.validation.end());
    std::sort(pool.begin(), pool.end());
    std::vector<int> pool_strata;
    if (!strata.empty()) {
      for (int64_t r : pool) {
        pool_strata.push_back(static_cast<int>(labels.y[static_cast<size_t>(r)]));
      }
    }
    std::vector<std::vector<int64_t>> folds = ml::KFold(pool, pool_strata, c.cv_folds, c.seed);
    std::vector<core::Json> results;
    for (size_t k = 0; k < folds.size(); ++k) {
      std::vector<int64_t> fit_rows;
      for (size_t j = 0; j < folds.size(); ++j) {
        if (j != k) {
          fit_rows.insert(fit_rows.end(), folds[j].begin(), folds[j].end());
        }
      }
      std::sort(fit_rows.begin(), fit_rows.end());
      RoundPrinter printer(options.progress, monitor.name,
                           "cv fold " + std::to_string(k + 1) + "/" + std::to_string(folds.size()));
      PLINTH_ASSIGN_OR_RETURN(Fitted f,
                              FitOn(c, *kind, data, inputs, labels, fit_rows, folds[k], &printer));
      ml::BundleMeta meta;
      meta.task = labels.task;
      meta.class_labels = labels.classes;
      meta.threshold = c.threshold;
      PLINTH_ASSIGN_OR_RETURN(auto predictor,
                              ml::Predictor::Create(std::move(meta), f.pre, std::move(f.model)));
      ml::Prediction p = predictor->FromOutputs(f.report.validation_output);
      results.push_back(
          MetricsFor(p, labels.task, Gather(labels.y, folds[k]), labels.classes, c.threshold));
    }
    cv = CvSummary(results);
    timings["cross_validation"] = timer.Lap("cross-validation");
  }

  // reference.json: the profile of the training rows the model learns from.
  std::vector<std::string> ref_cols = inputs;
  ref_cols.push_back(c.target);
  std::future<Result<profile::DatasetProfile>> reference;
  RoundPrinter printer(options.progress, monitor.name, c.model_type);
  PLINTH_ASSIGN_OR_RETURN(
      Fitted f, FitOn(c, *kind, data, inputs, labels, split.train, split.validation, &printer,
                      [&](const std::vector<int64_t>& kept) {
                        // The drift reference is profiled while the model fits.
                        reference = std::async(std::launch::async, [&data, kept, &ref_cols] {
                          return ProfileRows(data, kept, ref_cols);
                        });
                      }));
  timer.Lap("fit");
  {
    const ml::PreprocessOptions& p = c.preprocess;
    std::string setting = std::string(ml::Name(p.outliers));
    if (p.outliers != ml::OutlierMethod::kNone) {
      setting += ", " + std::string(ml::Name(p.outlier_action));
    }
    AddCleaningStep(c,
                    {"outliers", setting, static_cast<int64_t>(split.train.size()),
                     static_cast<int64_t>(split.train.size() - f.train_rows.size())},
                    cleaning, warnings);
  }
  timings["preprocess"] = f.preprocess_ms;
  timings["fit"] = f.fit_ms;

  // The bundle's description.
  std::vector<table::Field> input_fields;
  for (const std::string& name : inputs) {
    input_fields.push_back(data.schema().field(*data.schema().IndexOf(name)));
  }
  PLINTH_ASSIGN_OR_RETURN(std::string data_sha, table::DataDigest(c.data_path));
  std::vector<std::string> dropped = c.id_columns;
  dropped.insert(dropped.end(), c.ignore_columns.begin(), c.ignore_columns.end());
  ml::BundleMeta meta;
  meta.name = c.name;
  meta.uuid = core::NewUuidHex();
  meta.kind = c.model_type;
  meta.task = labels.task;
  meta.model_file = kind->file_name;
  meta.target_name = c.target;
  meta.target_type = table::TypeName(target->type());
  if (labels.task != ml::Task::kRegression) {
    meta.class_labels = labels.classes;
  }
  meta.threshold = c.threshold;
  meta.input_schema = table::Schema(input_fields);
  meta.dropped_columns = dropped;
  meta.feature_names = f.pre.feature_names();
  meta.created = core::FormatIsoMicros(core::SystemClock().NowMicros());
  meta.versions = {
      {"plinth", PLINTH_VERSION}, {"xgboost", ml::XgboostVersion()}, {"torch", ml::TorchVersion()}};
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<ml::Predictor> predictor,
                          ml::Predictor::Create(std::move(meta), f.pre, std::move(f.model)));

  // Evaluate on validation and test.
  core::Json metrics = core::Json::object();
  double evaluate_ms = 0;
  double predict_ms = 0;
  if (!split.validation.empty()) {
    // The model's validation outputs are known from training.
    ml::Prediction pv = predictor->FromOutputs(f.report.validation_output);
    metrics["validation"] = MetricsFor(pv, labels.task, Gather(labels.y, split.validation),
                                       labels.classes, c.threshold);
  }
  if (!c.test_path.empty()) {
    PLINTH_ASSIGN_OR_RETURN(metrics["test"],
                            Evaluate(*predictor, test_table, c.test_path, &predict_ms));
  } else if (!split.test.empty()) {
    PLINTH_ASSIGN_OR_RETURN(ml::Matrix test_x, f.pre.TransformRows(data, split.test));
    evaluate_ms += timer.Lap("evaluate: test features");
    // The model's own inference is timed apart from the data work around it.
    PLINTH_ASSIGN_OR_RETURN(ml::Prediction pt, predictor->PredictFeatures(test_x));
    predict_ms = timer.Lap("evaluate: predict");
    metrics["test"] =
        MetricsFor(pt, labels.task, Gather(labels.y, split.test), labels.classes, c.threshold);
  }
  if (!cv.is_null()) {
    metrics["cv"] = cv;
  }
  evaluate_ms += timer.Lap("evaluate");
  timings["evaluate"] = evaluate_ms + predict_ms;
  timings["evaluate_predict"] = predict_ms;

  ml::TrainingRecord record;
  record.feature_service = c.feature_service;
  ml::DataSummary& d = record.data;
  d.path = c.data_path;
  d.sha256 = data_sha;
  d.rows = data.num_rows();
  d.rows_without_label = null_targets;
  d.duplicate_rows_dropped = duplicates;
  d.outlier_rows_dropped =
      static_cast<int64_t>(split.train.size()) - static_cast<int64_t>(f.train_rows.size());
  d.train_rows = static_cast<int64_t>(f.train_rows.size());
  d.validation_rows = static_cast<int64_t>(split.validation.size());
  d.test_rows =
      c.test_path.empty() ? static_cast<int64_t>(split.test.size()) : test_table.num_rows();
  if (!c.test_path.empty()) {
    d.test_file = c.test_path;
  }
  d.features = static_cast<int64_t>(f.pre.feature_names().size());
  d.cleaning = std::move(cleaning);
  // No validation rows: the validation numbers are none, never the training ones.
  auto number = [](double v) { return std::isnan(v) ? std::nullopt : std::optional<double>(v); };
  ml::FitSummary& fit = record.fit;
  fit.monitor = f.report.metric;
  fit.maximize = f.report.maximize;
  fit.rounds = f.report.rounds;
  fit.best_round = f.report.best_round;
  fit.best_validation = number(f.report.best_validation);
  fit.stopped_early = f.report.stopped_early;
  fit.library_params = f.report.params;
  for (const ml::RoundLog& l : f.report.history) {
    fit.history.emplace_back(l.train, number(l.validation));
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<table::Table> reference_set,
                          ReferenceSet(c, data, ref_cols, split, test_table, *predictor, warnings));
  timings["reference_set"] = timer.Lap("reference set");
  record.metrics = metrics;
  record.params = c.ToJson();
  record.warnings = std::move(warnings);
  predictor->SetTrainingRecord(std::move(record));
  PLINTH_ASSIGN_OR_RETURN(profile::DatasetProfile ref, reference.get());
  ref.source = c.data_path;
  PLINTH_RETURN_IF_ERROR(ml::WriteBundle(c.output, *predictor, profile::ProfileToJson(ref),
                                         reference_set ? &*reference_set : nullptr)
                             .WithPrefix(output_key));
  timings["bundle"] = timer.Lap("bundle");

  TrainResult result;
  result.report = ReportJson(predictor->meta(), c.output, timings);
  result.fit = std::move(f.report);
  result.bundle_dir = c.output;
  result.predictor = std::move(predictor);
  return result;
}

Result<core::Json> Evaluate(const ml::Predictor& predictor, const table::Table& data,
                            std::string_view source, double* predict_ms) {
  const std::string& target = predictor.meta().target_name;
  const table::Column* col = data.ColumnByName(target);
  if (col == nullptr) {
    return InvalidArgument(std::string(source) + ": the target column \"" + target +
                           "\" is missing; evaluation needs labelled rows");
  }
  Result<ml::Matrix> x = predictor.preprocessor().Transform(data);
  Result<ml::Prediction> p = x.status();
  if (x.ok()) {
    const int64_t start = core::SystemClock().MonotonicMicros();
    p = predictor.PredictFeatures(*x);
    if (predict_ms != nullptr) {
      *predict_ms = static_cast<double>(core::SystemClock().MonotonicMicros() - start) / 1000.0;
    }
  }
  if (!p.ok()) {
    return Status(p.status().code(), std::string(source) + ": " + p.status().message());
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<float> y, TargetValues(*col, target, predictor.task(),
                                                             predictor.class_labels(), source));
  core::Json m =
      MetricsFor(*p, predictor.task(), y, predictor.class_labels(), predictor.threshold());
  if (m.is_null()) {
    return InvalidArgument(std::string(source) + ": no labelled rows to evaluate");
  }
  return m;
}

Result<core::Json> EvaluateFile(const ml::Predictor& predictor, const std::string& path) {
  // Types are inferred, not forced to the training file's: a column the file
  // lacks is then reported by name, and a category that reads as a number
  // here still matches its text.
  PLINTH_ASSIGN_OR_RETURN(table::CsvTable read, table::ReadTable(path, table::CsvOptions()));
  Result<core::Json> metrics = Evaluate(predictor, read.table, path);
  if (metrics.ok() || metrics.status().code() != StatusCode::kInvalidArgument) {
    return metrics;
  }
  // A value the model cannot take ("abc" in a number column): read again with
  // the model's types, which names the line, column and value as `plinth
  // predict` does. Only this failure pays for a second read.
  table::CsvOptions typed;
  typed.types_source = "the model's input schema";
  for (const table::Field& field : predictor.input_schema().fields()) {
    if (read.table.ColumnByName(field.name) != nullptr) {
      typed.types[field.name] = field.type;
    }
  }
  PLINTH_RETURN_IF_ERROR(table::ReadTable(path, typed).status());
  return metrics;
}

std::string FormatMetrics(const core::Json& m) {
  core::TextTable t({"metric", "value"}, {false, true});
  std::string matrix;
  for (const auto& [key, value] : m.items()) {
    if (value.is_number()) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), value.is_number_integer() ? "%.0f" : "%.4f",
                    value.get<double>());
      t.AddRow({key, buf});
    } else if (value.is_null()) {
      t.AddRow({key, "n/a"});
    } else if (key == "confusion_matrix" && value.is_object()) {
      std::vector<std::string> header = {"true \\ predicted"};
      std::vector<bool> right = {false};
      for (const core::Json& l : value["labels"]) {
        header.push_back(l.get<std::string>());
        right.push_back(true);
      }
      core::TextTable cm(header, right);
      size_t i = 0;
      for (const core::Json& row : value["rows_true_cols_predicted"]) {
        std::vector<std::string> cells = {value["labels"][i++].get<std::string>()};
        for (const core::Json& v : row) {
          cells.push_back(std::to_string(v.get<int64_t>()));
        }
        cm.AddRow(cells);
      }
      matrix = "\nconfusion matrix\n" + cm.Render();
    }
  }
  return t.Render() + matrix;
}

}  // namespace plinth::train

namespace plinth::train {
namespace {

std::string MetricsTableHtml(const core::Json& m) {
  std::string out = "<table><tr><th>metric</th><th>value</th></tr>";
  std::string matrix;
  for (const auto& [key, value] : m.items()) {
    if (value.is_number() || value.is_null()) {
      out += "<tr><td>" + core::EscapeHtml(key) + "</td><td class=\"num\">" +
             (value.is_null() ? std::string("n/a") : core::FormatNumber(value.get<double>())) +
             "</td></tr>";
    } else if (key == "confusion_matrix" && value.is_object()) {
      matrix = "<h3>Confusion matrix (rows: true, columns: predicted)</h3><table><tr><th></th>";
      for (const core::Json& l : value["labels"]) {
        matrix += "<th>" + core::EscapeHtml(l.get<std::string>()) + "</th>";
      }
      matrix += "</tr>";
      size_t i = 0;
      for (const core::Json& row : value["rows_true_cols_predicted"]) {
        matrix += "<tr><th>" + core::EscapeHtml(value["labels"][i++].get<std::string>()) + "</th>";
        for (const core::Json& v : row) {
          matrix += "<td class=\"num\">" + std::to_string(v.get<int64_t>()) + "</td>";
        }
        matrix += "</tr>";
      }
      matrix += "</table>";
    }
  }
  return out + "</table>" + matrix;
}

}  // namespace

std::string RenderTrainingHtml(const ml::BundleMeta& meta) {
  const std::string name = meta.name.empty() ? "model" : meta.name;
  std::string body = "<h1>Training report: " + core::EscapeHtml(name) + "</h1>";
  body += "<p>" + core::EscapeHtml(meta.kind) + ", " + core::EscapeHtml(ml::Name(meta.task)) +
          ", created " + core::EscapeHtml(meta.created) + "</p>";
  static const ml::TrainingRecord kNone;  // an imported bundle's: nothing recorded
  const ml::TrainingRecord& record = meta.trained ? *meta.trained : kNone;
  for (const std::string& w : record.warnings) {
    body += "<p class=\"warn\">warning: " + core::EscapeHtml(w) + "</p>";
  }
  if (meta.trained) {
    body += "<h2>Data</h2><table>";
    const core::Json data = ml::ToJson(record.data);
    for (const auto& [key, value] : data.items()) {
      if (key == "cleaning") {
        continue;
      }
      body += "<tr><td>" + core::EscapeHtml(key) + "</td><td>" +
              core::EscapeHtml(value.is_string() ? value.get<std::string>() : value.dump()) +
              "</td></tr>";
    }
    body += "</table>";
  }
  if (!record.data.cleaning.empty()) {
    body +=
        "<h2>Cleaning</h2><table><tr><th>step</th><th>setting</th><th>rows in</th>"
        "<th>rows removed</th><th>share</th></tr>";
    for (const CleaningStep& s : record.data.cleaning) {
      char share[32];
      std::snprintf(share, sizeof(share), "%.1f%%", 100.0 * s.fraction());
      body += "<tr><td>" + core::EscapeHtml(s.step) + "</td><td>" + core::EscapeHtml(s.setting) +
              "</td><td class=\"num\">" + std::to_string(s.rows_in) + "</td><td class=\"num\">" +
              std::to_string(s.rows_removed) + "</td><td class=\"num\">" + share + "</td></tr>";
    }
    body += "</table>";
  }
  const ml::FitSummary& fit = record.fit;
  if (!fit.history.empty()) {
    std::vector<std::vector<double>> series(2);
    for (const auto& [train, validation] : fit.history) {
      series[0].push_back(train);
      series[1].push_back(validation.value_or(std::nan("")));
    }
    std::vector<std::string> names = {"train " + fit.monitor, "validation " + fit.monitor};
    if (!fit.best_validation) {  // no validation split
      series.pop_back();
      names.pop_back();
    }
    body += "<h2>Learning curve</h2><p>" + core::EscapeHtml(fit.monitor) +
            " per round; the dashed line marks the kept round (" +
            std::to_string(fit.best_round + 1) + " of " + std::to_string(fit.rounds) + ")</p>";
    body += core::SvgLines(series, names, fit.best_round);
  }
  const core::Json& metrics = record.metrics;
  for (const char* part : {"test", "validation"}) {
    if (metrics.contains(part) && metrics[part].is_object()) {
      body += std::string("<h2>") + (part[0] == 't' ? "Test" : "Validation") + " metrics</h2>" +
              MetricsTableHtml(metrics[part]);
    }
  }
  if (metrics.contains("cv")) {
    body += "<h2>Cross-validation (" + metrics["cv"]["folds"].dump() + " folds, mean)</h2>" +
            MetricsTableHtml(metrics["cv"]["mean"]);
  }
  return core::HtmlPage("Training report: " + name, body);
}

std::string RenderMetricsHtml(const core::Json& metrics, std::string_view model,
                              std::string_view data) {
  std::string body = "<h1>Evaluation</h1><p>model " + core::EscapeHtml(model) + " on " +
                     core::EscapeHtml(data) + "</p>" + MetricsTableHtml(metrics);
  return core::HtmlPage("Evaluation of " + std::string(model), body);
}

}  // namespace plinth::train
