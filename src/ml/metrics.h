// Evaluation metrics for classifiers and regressors, defined as scikit-learn
// defines them (tests compare with sklearn.metrics on the same predictions to
// 1e-9): accuracy, precision/recall/F1 (binary: of the positive class; multiclass:
// macro and support-weighted over the labels present in truth or prediction),
// confusion matrix, ROC AUC and average precision (one-vs-rest macro for
// multiclass), log loss; MAE, RMSE, R2, MAPE.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace plinth::ml {

struct ClassificationMetrics {
  int64_t n = 0;
  int num_classes = 0;
  double accuracy = 0;
  // Binary: of class 1. Multiclass: macro averages.
  double precision = 0, recall = 0, f1 = 0;
  // Multiclass only (equal to the above for binary): weighted by support.
  double precision_weighted = 0, recall_weighted = 0, f1_weighted = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  double roc_auc = 0;                           // NaN when the truth holds a single class
  double pr_auc = 0;                            // average precision; NaN likewise
  double log_loss = 0;
};

// `labels[i]` in [0, k); `proba` is n x k row-major class probabilities (for
// k = 2, column 1 is the positive class). A binary prediction is positive when
// its probability >= `threshold`; multiclass predictions take the most probable
// class (the first on ties).
Result<ClassificationMetrics> EvaluateClassifier(std::span<const int> labels,
                                                 std::span<const double> proba, int k,
                                                 double threshold = 0.5);

// The predicted class of each row, by the same rule.
std::vector<int> PredictedClasses(std::span<const double> proba, int k, double threshold = 0.5);

struct RegressionMetrics {
  int64_t n = 0;
  double mae = 0, rmse = 0, r2 = 0, mape = 0;
};

Result<RegressionMetrics> EvaluateRegressor(std::span<const double> truth,
                                            std::span<const double> predicted);

// JSON (NaN becomes null); `class_names` label the confusion matrix.
core::Json ToJson(const ClassificationMetrics& m, const std::vector<std::string>& class_names);
core::Json ToJson(const RegressionMetrics& m);

}  // namespace plinth::ml
