#include "monitor/performance.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <unordered_map>

namespace plinth::monitor {
namespace {

std::string LabelText(const table::Column& c, int64_t i) {
  return c.type() == table::DataType::kString ? std::string(c.GetString(i)) : c.FormatValue(i);
}

// Accuracy, precision, recall and F1 of a confusion matrix (rows: truth, columns:
// predicted) with `k` classes: of class 1 for two, macro averages for more (a class
// never predicted or never true counts 0, as scikit-learn's zero_division=0).
Quality FromConfusion(const std::vector<double>& m, int k, int64_t rows) {
  Quality q;
  q.rows = rows;
  double total = 0, diagonal = 0;
  std::vector<double> p(static_cast<size_t>(k)), r(static_cast<size_t>(k)),
      f(static_cast<size_t>(k));
  for (int c = 0; c < k; ++c) {
    double tp = m[static_cast<size_t>(c * k + c)], predicted = 0, actual = 0;
    for (int o = 0; o < k; ++o) {
      predicted += m[static_cast<size_t>(o * k + c)];
      actual += m[static_cast<size_t>(c * k + o)];
      total += m[static_cast<size_t>(c * k + o)];
    }
    diagonal += tp;
    p[static_cast<size_t>(c)] = predicted > 0 ? tp / predicted : 0;
    r[static_cast<size_t>(c)] = actual > 0 ? tp / actual : 0;
    f[static_cast<size_t>(c)] = predicted + actual > 0 ? 2 * tp / (predicted + actual) : 0;
  }
  q.accuracy = total > 0 ? diagonal / total : 0;
  if (k == 2) {
    q.precision = p[1];
    q.recall = r[1];
    q.f1 = f[1];
  } else {
    const double n = static_cast<double>(k);
    q.precision = std::accumulate(p.begin(), p.end(), 0.0) / n;
    q.recall = std::accumulate(r.begin(), r.end(), 0.0) / n;
    q.f1 = std::accumulate(f.begin(), f.end(), 0.0) / n;
  }
  return q;
}

}  // namespace

Result<ClassOutputs> ReadClassOutputs(const table::Table& t, const std::vector<std::string>& labels,
                                      const std::string& target, const std::string& source) {
  ClassOutputs out;
  const int k = static_cast<int>(labels.size());
  out.num_classes = k;
  std::unordered_map<std::string, int> index;
  for (int c = 0; c < k; ++c) {
    index[labels[static_cast<size_t>(c)]] = c;
  }
  const table::Column* prediction = t.ColumnByName("prediction");
  if (prediction == nullptr) {
    return InvalidArgument(source + ": no \"prediction\" column");
  }
  std::vector<const table::Column*> proba(static_cast<size_t>(k), nullptr);
  for (int c = 0; c < k; ++c) {
    const std::string name = "probability_" + labels[static_cast<size_t>(c)];
    proba[static_cast<size_t>(c)] = t.ColumnByName(name);
    const bool derivable = k == 2 && c == 0;  // 1 - P(positive)
    if (proba[static_cast<size_t>(c)] == nullptr && !derivable) {
      return InvalidArgument(source + ": no \"" + name + "\" column");
    }
    if (proba[static_cast<size_t>(c)] != nullptr &&
        (proba[static_cast<size_t>(c)]->type() == table::DataType::kString ||
         proba[static_cast<size_t>(c)]->type() == table::DataType::kBool)) {
      return InvalidArgument(source + ": column \"" + name + "\" holds text, not probabilities");
    }
  }
  const table::Column* truth = target.empty() ? nullptr : t.ColumnByName(target);
  const int64_t n = t.num_rows();
  out.proba.resize(static_cast<size_t>(n * k));
  out.predicted.resize(static_cast<size_t>(n));
  out.truth.assign(static_cast<size_t>(n), -1);
  for (int64_t i = 0; i < n; ++i) {
    double* row = &out.proba[static_cast<size_t>(i * k)];
    if (prediction->IsNull(i)) {  // a log line without outputs: the row is left out
      out.predicted[static_cast<size_t>(i)] = -1;
      continue;
    }
    auto it = index.find(LabelText(*prediction, i));
    if (it == index.end()) {
      return InvalidArgument(source + ": row " + std::to_string(i + 1) + ": prediction \"" +
                             LabelText(*prediction, i) +
                             "\" is not one of the model's class labels");
    }
    out.predicted[static_cast<size_t>(i)] = it->second;
    for (int c = 0; c < k; ++c) {
      const table::Column* col = proba[static_cast<size_t>(c)];
      if (col == nullptr) {
        continue;
      }
      const double v = col->IsNull(i) ? std::nan("") : col->GetDouble(i);
      if (!(v >= 0 && v <= 1)) {
        return InvalidArgument(source + ": row " + std::to_string(i + 1) + ": probability_" +
                               labels[static_cast<size_t>(c)] + " is not within [0, 1]");
      }
      row[c] = v;
    }
    if (proba[0] == nullptr) {
      row[0] = 1 - row[1];
    }
    if (truth != nullptr && !truth->IsNull(i)) {
      auto t_it = index.find(LabelText(*truth, i));
      out.truth[static_cast<size_t>(i)] = t_it == index.end() ? -1 : t_it->second;
    }
  }
  return out;
}

core::Json QualityToJson(const Quality& q) {
  return {{"rows", q.rows},
          {"accuracy", q.accuracy},
          {"precision", q.precision},
          {"recall", q.recall},
          {"f1", q.f1}};
}

std::optional<Quality> RealizedQuality(const ClassOutputs& out) {
  const int k = out.num_classes;
  std::vector<double> m(static_cast<size_t>(k * k), 0.0);
  int64_t rows = 0;
  for (size_t i = 0; i < out.predicted.size(); ++i) {
    if (out.truth[i] >= 0 && out.predicted[i] >= 0) {
      m[static_cast<size_t>(out.truth[i] * k + out.predicted[i])] += 1;
      ++rows;
    }
  }
  if (rows == 0) {
    return std::nullopt;
  }
  return FromConfusion(m, k, rows);
}

Isotonic Isotonic::Fit(std::span<const double> x, std::span<const double> y) {
  // Unique x in order, their y averaged (scikit-learn's _make_unique).
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  struct Block {
    double x_first, x_last, sum, weight;
  };
  std::vector<double> ux, uy, uw;
  for (size_t j : order) {
    if (ux.empty() || x[j] != ux.back()) {
      ux.push_back(x[j]);
      uy.push_back(0);
      uw.push_back(0);
    }
    uy.back() += y[j];
    uw.back() += 1;
  }
  // Pool adjacent violators (weighted), block by block.
  std::vector<Block> blocks;
  for (size_t i = 0; i < ux.size(); ++i) {
    blocks.push_back({ux[i], ux[i], uy[i], uw[i]});
    while (blocks.size() > 1) {
      const Block& b = blocks.back();
      const Block& a = blocks[blocks.size() - 2];
      if (a.sum / a.weight <= b.sum / b.weight) {
        break;
      }
      Block merged{a.x_first, b.x_last, a.sum + b.sum, a.weight + b.weight};
      blocks.pop_back();
      blocks.back() = merged;
    }
  }
  // The fitted value at every unique x: its block's mean; interpolation between them.
  Isotonic iso;
  size_t b = 0;
  for (double v : ux) {
    while (v > blocks[b].x_last) {
      ++b;
    }
    iso.x_.push_back(v);
    iso.y_.push_back(blocks[b].sum / blocks[b].weight);
  }
  return iso;
}

double Isotonic::operator()(double x) const {
  if (x_.empty()) {
    return x;
  }
  if (x <= x_.front()) {
    return y_.front();
  }
  if (x >= x_.back()) {
    return y_.back();
  }
  const size_t hi = static_cast<size_t>(std::upper_bound(x_.begin(), x_.end(), x) - x_.begin());
  const size_t lo = hi - 1;
  // np.interp's formula: slope * (x - xp[lo]) + fp[lo].
  const double slope = (y_[hi] - y_[lo]) / (x_[hi] - x_[lo]);
  return slope * (x - x_[lo]) + y_[lo];
}

Result<Cbpe> Cbpe::Fit(const ClassOutputs& reference, int64_t min_rows) {
  const int k = reference.num_classes;
  std::vector<size_t> labelled;
  for (size_t i = 0; i < reference.truth.size(); ++i) {
    if (reference.truth[i] >= 0 && reference.predicted[i] >= 0) {
      labelled.push_back(i);
    }
  }
  if (static_cast<int64_t>(labelled.size()) < min_rows) {
    return InvalidArgument("estimating quality needs at least " + std::to_string(min_rows) +
                           " labelled reference rows, the reference has " +
                           std::to_string(labelled.size()));
  }
  Cbpe cbpe;
  cbpe.num_classes_ = k;
  for (int c = k == 2 ? 1 : 0; c < k; ++c) {
    std::vector<double> x, y;
    x.reserve(labelled.size());
    y.reserve(labelled.size());
    for (size_t i : labelled) {
      x.push_back(reference.proba[i * static_cast<size_t>(k) + static_cast<size_t>(c)]);
      y.push_back(reference.truth[i] == c ? 1.0 : 0.0);
    }
    cbpe.per_class_.push_back(Isotonic::Fit(x, y));
  }
  return cbpe;
}

std::vector<double> Cbpe::Calibrate(std::span<const double> row) const {
  std::vector<double> out(static_cast<size_t>(num_classes_));
  if (num_classes_ == 2) {
    out[1] = per_class_[0](row[1]);
    out[0] = 1 - out[1];
    return out;
  }
  double sum = 0;
  for (int c = 0; c < num_classes_; ++c) {
    out[static_cast<size_t>(c)] = per_class_[static_cast<size_t>(c)](row[static_cast<size_t>(c)]);
    sum += out[static_cast<size_t>(c)];
  }
  if (sum > 0) {
    for (double& v : out) {
      v /= sum;
    }
  }
  return out;
}

Quality Cbpe::Estimate(const ClassOutputs& window) const {
  const int k = num_classes_;
  std::vector<double> m(static_cast<size_t>(k * k), 0.0);
  int64_t rows = 0;
  for (size_t i = 0; i < window.predicted.size(); ++i) {
    if (window.predicted[i] < 0) {
      continue;
    }
    ++rows;
    const std::vector<double> p = Calibrate(
        std::span<const double>(&window.proba[i * static_cast<size_t>(k)], static_cast<size_t>(k)));
    for (int t = 0; t < k; ++t) {
      m[static_cast<size_t>(t * k + window.predicted[i])] += p[static_cast<size_t>(t)];
    }
  }
  return FromConfusion(m, k, rows);
}

std::optional<RegressionQuality> RealizedRegression(const table::Table& t,
                                                    const std::string& target) {
  const table::Column* pred = t.ColumnByName("prediction");
  const table::Column* truth = t.ColumnByName(target);
  if (pred == nullptr || truth == nullptr || pred->type() == table::DataType::kString ||
      truth->type() == table::DataType::kString || pred->type() == table::DataType::kBool ||
      truth->type() == table::DataType::kBool) {
    return std::nullopt;
  }
  RegressionQuality q;
  double abs = 0, sq = 0;
  for (int64_t i = 0; i < t.num_rows(); ++i) {
    if (pred->IsNull(i) || truth->IsNull(i)) {
      continue;
    }
    const double e = pred->GetDouble(i) - truth->GetDouble(i);
    if (!std::isfinite(e)) {
      continue;
    }
    abs += std::fabs(e);
    sq += e * e;
    ++q.rows;
  }
  if (q.rows == 0) {
    return std::nullopt;
  }
  q.mae = abs / static_cast<double>(q.rows);
  q.rmse = std::sqrt(sq / static_cast<double>(q.rows));
  return q;
}

Result<PerformanceReference> PreparePerformance(const table::Table& reference,
                                                const std::vector<std::string>& labels,
                                                const std::string& target) {
  PerformanceReference r;
  r.labels = labels;
  r.target = target;
  if (labels.empty()) {
    r.regression_quality = RealizedRegression(reference, target);
    return r;
  }
  if (reference.ColumnByName("prediction") == nullptr) {
    return r;
  }
  r.has_outputs = true;
  PLINTH_ASSIGN_OR_RETURN(ClassOutputs outputs,
                          ReadClassOutputs(reference, labels, target, "the reference data"));
  r.quality = RealizedQuality(outputs);
  Result<Cbpe> cbpe = Cbpe::Fit(outputs);
  if (cbpe.ok()) {
    r.cbpe = std::move(*cbpe);
  } else {
    r.note = cbpe.status().message();
  }
  return r;
}

Result<PerformanceReport> ComparePerformance(const PerformanceReference& reference,
                                             const table::Table& current) {
  PerformanceReport p;
  p.regression = reference.labels.empty();
  if (p.regression) {
    p.reference_regression = reference.regression_quality;
    p.realized_regression = RealizedRegression(current, reference.target);
    if (!p.realized_regression) {
      p.notes.push_back("no labelled current row: no realized error");
    }
    return p;
  }
  if (!reference.has_outputs || current.ColumnByName("prediction") == nullptr) {
    p.notes.push_back("no model outputs in both samples: quality not judged");
    return p;
  }
  PLINTH_ASSIGN_OR_RETURN(ClassOutputs cur, ReadClassOutputs(current, reference.labels,
                                                             reference.target, "the current data"));
  p.reference = reference.quality;
  p.realized = RealizedQuality(cur);
  if (!p.realized) {
    p.notes.push_back("no labelled current row: no realized quality");
  }
  if (!reference.cbpe) {
    p.notes.push_back(reference.note);
  } else if (cur.rows() > 0) {
    p.estimated = reference.cbpe->Estimate(cur);
  }
  return p;
}

Result<PerformanceReport> ComparePerformance(const table::Table& reference,
                                             const table::Table& current,
                                             const std::vector<std::string>& labels,
                                             const std::string& target) {
  PLINTH_ASSIGN_OR_RETURN(PerformanceReference prepared,
                          PreparePerformance(reference, labels, target));
  return ComparePerformance(prepared, current);
}

core::Json PerformanceToJson(const PerformanceReport& p) {
  auto quality = [](const std::optional<Quality>& q) {
    return q ? QualityToJson(*q) : core::Json(nullptr);
  };
  auto errors = [](const std::optional<RegressionQuality>& q) {
    return q ? core::Json{{"rows", q->rows}, {"mae", q->mae}, {"rmse", q->rmse}}
             : core::Json(nullptr);
  };
  core::Json j = p.regression ? core::Json{{"reference", errors(p.reference_regression)},
                                           {"realized", errors(p.realized_regression)}}
                              : core::Json{{"reference", quality(p.reference)},
                                           {"realized", quality(p.realized)},
                                           {"estimated", quality(p.estimated)}};
  j["notes"] = p.notes;
  return j;
}

std::string FormatPerformanceText(const PerformanceReport& p) {
  auto number = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.4f", v);
    return std::string(buf);
  };
  std::string out;
  if (p.regression) {
    if (p.realized_regression) {
      out += "MAE " + number(p.realized_regression->mae) + ", RMSE " +
             number(p.realized_regression->rmse) + " on " +
             std::to_string(p.realized_regression->rows) + " labelled rows";
      if (p.reference_regression) {
        out += " (reference: MAE " + number(p.reference_regression->mae) + ", RMSE " +
               number(p.reference_regression->rmse) + ")";
      }
      out += "\n";
    }
  } else if (p.realized || p.estimated) {
    out += "accuracy:";
    if (p.realized) {
      out += " realized " + number(p.realized->accuracy) + " on " +
             std::to_string(p.realized->rows) + " labelled rows;";
    }
    if (p.estimated) {
      out += " estimated " + number(p.estimated->accuracy) + " (CBPE, " +
             std::to_string(p.estimated->rows) + " rows);";
    }
    if (p.reference) {
      out += " reference " + number(p.reference->accuracy);
    }
    out += "\n";
  }
  for (const std::string& n : p.notes) {
    out += "note: " + n + "\n";
  }
  return out;
}

}  // namespace plinth::monitor
