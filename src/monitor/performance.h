// Model quality in production: realized where labels arrived (accuracy, precision, recall,
// F1; MAE, RMSE for regressors), and estimated where they did not, by confidence-based
// performance estimation (CBPE, as NannyML computes it): the model's probabilities are
// calibrated on the reference set (isotonic regression per class, as scikit-learn's
// IsotonicRegression(out_of_bounds="clip"), rows renormalized for multiclass), and a
// window's expected confusion matrix is the sum over its rows of each calibrated class
// probability in the column of the predicted class. Its accuracy, precision, recall and
// F1 (binary: of the positive class, the second label; multiclass: macro averages) are
// the estimates.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "table/table.h"

namespace plinth::monitor {

// A classifier's outputs on some rows, as indices into its class labels.
struct ClassOutputs {
  int num_classes = 0;
  std::vector<double> proba;   // rows x num_classes
  std::vector<int> predicted;  // -1: no prediction (a log line without outputs): left out
  std::vector<int> truth;      // -1: no label (or one the model does not know)
  int64_t rows() const { return static_cast<int64_t>(predicted.size()); }
};

// Reads `prediction`, `probability_<label>` and the label column `target` (when present)
// of `t` for a classifier with `labels`. A binary model's log has only the positive
// class's probability: the other is 1 minus it. kInvalidArgument when a probability
// column is missing, or a prediction is not one of `labels`.
Result<ClassOutputs> ReadClassOutputs(const table::Table& t, const std::vector<std::string>& labels,
                                      const std::string& target, const std::string& source);

struct Quality {
  int64_t rows = 0;  // rows counted (labelled ones for realized quality)
  double accuracy = 0, precision = 0, recall = 0, f1 = 0;
};
core::Json QualityToJson(const Quality& q);

// Accuracy and the others over the rows whose truth is known; nullopt when none is.
std::optional<Quality> RealizedQuality(const ClassOutputs& out);

// scikit-learn's IsotonicRegression(increasing=True, out_of_bounds="clip"): pool adjacent
// violators over the unique x (their y averaged, weighted by count), linear between the
// fitted points, clipped outside them.
class Isotonic {
 public:
  static Isotonic Fit(std::span<const double> x, std::span<const double> y);
  double operator()(double x) const;

 private:
  std::vector<double> x_, y_;
};

class Cbpe {
 public:
  // Calibrates on the labelled rows of the reference outputs; kInvalidArgument when fewer
  // than `min_rows` have a label.
  static Result<Cbpe> Fit(const ClassOutputs& reference, int64_t min_rows = 100);
  // The estimated quality of a window's outputs (their labels are not used).
  Quality Estimate(const ClassOutputs& window) const;
  // Calibrated probabilities of one row (num_classes values).
  std::vector<double> Calibrate(std::span<const double> row) const;

 private:
  int num_classes_ = 0;
  std::vector<Isotonic> per_class_;  // binary: one, of the positive class
};

// A regressor's realized errors over the rows with a label.
struct RegressionQuality {
  int64_t rows = 0;
  double mae = 0, rmse = 0;
};
std::optional<RegressionQuality> RealizedRegression(const table::Table& t,
                                                    const std::string& target);

// The quality of a current sample next to the reference's: realized where labels are,
// estimated (classifiers) on every row. Each part is absent when it cannot be computed,
// and `notes` says why.
struct PerformanceReport {
  bool regression = false;
  std::optional<Quality> reference, realized, estimated;
  std::optional<RegressionQuality> reference_regression, realized_regression;
  std::vector<std::string> notes;
};

// The reference's side of ComparePerformance, made once for many windows: its outputs'
// quality and the calibration CBPE fits on them.
struct PerformanceReference {
  std::vector<std::string> labels;  // empty: a regressor
  std::string target;
  bool has_outputs = false;  // classifiers: the reference has the model's outputs
  std::optional<Quality> quality;
  std::optional<RegressionQuality> regression_quality;
  std::optional<Cbpe> cbpe;
  std::string note;  // why there is no cbpe
};
Result<PerformanceReference> PreparePerformance(const table::Table& reference,
                                                const std::vector<std::string>& labels,
                                                const std::string& target);
Result<PerformanceReport> ComparePerformance(const PerformanceReference& reference,
                                             const table::Table& current);

// `labels`: the classifier's class labels (empty for a regressor); `target` the label
// column. Tables hold the model's outputs as ReadClassOutputs reads them.
Result<PerformanceReport> ComparePerformance(const table::Table& reference,
                                             const table::Table& current,
                                             const std::vector<std::string>& labels,
                                             const std::string& target);
core::Json PerformanceToJson(const PerformanceReport& p);
std::string FormatPerformanceText(const PerformanceReport& p);

}  // namespace plinth::monitor
