// Drift of one column between a reference sample and a current one, with the tests
// and defaults Evidently uses, so a score means what its users expect:
//
//   reference <= 1000 values: KS (numbers with > 5 distinct values; drift when
//     p <= 0.05), chi-square (categories, or numbers with 3-5 distinct values; p < 0.05),
//     Z-test (two distinct values; p < 0.05);
//   reference > 1000 values: Wasserstein distance normed by the reference's std
//     (numbers with > 5 distinct values; drift when >= 0.1), Jensen-Shannon distance
//     (categories, or numbers with <= 5 distinct values; >= 0.1).
//   PSI (>= 0.1) and chi2_contingency (p < 0.05) on request.
//
// Distinct values count both samples. Missing values (NaN, +-inf, empty) are dropped
// before any test, as Evidently drops them; they are reported as their own signal.
// Binning (PSI, Jensen-Shannon): numbers whose reference has more than 20 distinct
// values fall into numpy's 'sturges' bins over both samples; otherwise each value
// (or category) is its own bin. PSI fills empty bins (FillZeroShares); JS does not.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "table/string_index.h"

namespace plinth::monitor {

enum class Method { kKs, kChiSquare, kZ, kWasserstein, kJensenShannon, kPsi, kChi2Contingency };

std::string_view MethodName(Method m);  // ks, chisquare, z, wasserstein, jensenshannon, ...
Result<Method> ParseMethod(std::string_view name);
// Whether the method's score is a p-value (drift when small) or a distance (when large).
bool IsPValue(Method m);
// Evidently's default threshold: 0.05 for p-values, 0.1 for distances.
double DefaultThreshold(Method m);
// Evidently's default test for a column (see the file comment).
Method DefaultMethod(bool numeric, int64_t reference_values, int64_t distinct_values);

// One column's values: numbers (any order; NaN and infinities are missing) or labels
// (empty = missing).
struct Sample {
  bool numeric = true;
  std::vector<double> numbers;
  std::vector<std::string_view> labels;  // views of strings the caller keeps alive
};

// The count of each distinct label in two samples (empty labels, the missing values,
// skipped), labels numbered in the order first seen. A StringIndex: a hash map of
// string_view cost a third of a report's statistics.
struct LabelCounts {
  table::StringIndex labels;
  std::vector<double> reference, current;  // by label number
  double reference_total = 0, current_total = 0;
};
LabelCounts CountLabels(std::span<const std::string_view> reference,
                        std::span<const std::string_view> current);

struct DriftOptions {
  std::optional<Method> method;     // default: DefaultMethod
  std::optional<double> threshold;  // default: DefaultThreshold
};

struct ColumnDrift {
  Method method = Method::kKs;
  double score = 0;  // the p-value or the distance
  double threshold = 0;
  bool drifted = false;
  int64_t reference_values = 0;  // compared (missing dropped)
  int64_t current_values = 0;
  int64_t reference_missing = 0;
  int64_t current_missing = 0;
  int64_t new_categories = 0;  // current categories the reference never had
};

// kInvalidArgument for a method that does not apply (KS or Wasserstein on labels), or
// for a sample with no value left after dropping the missing ones.
Result<ColumnDrift> CompareColumn(const Sample& reference, const Sample& current,
                                  const DriftOptions& options = {});
// The same on samples given up (cleaned and sorted in place, without a copy).
Result<ColumnDrift> CompareColumn(Sample&& reference, Sample&& current,
                                  const DriftOptions& options = {});
// Several tests of one column (one per options), its samples cleaned and sorted once.
Result<std::vector<ColumnDrift>> CompareColumnMethods(const Sample& reference,
                                                      const Sample& current,
                                                      std::span<const DriftOptions> each);

}  // namespace plinth::monitor
