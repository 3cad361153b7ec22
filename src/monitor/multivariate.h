// Multivariate drift: how well a PCA fitted on the reference reconstructs the current
// rows (NannyML's data reconstruction drift). A change in how features move together
// (a correlation that breaks) raises the reconstruction error even when every feature's
// own distribution stays the same, which no per-column test sees.
//
// Fitting, on the model's input columns of the reference:
//   - numbers: missing values are the mean; categories: each value replaced by its share
//     of the reference (frequency encoding, NannyML's), a missing one by the most frequent
//     category's, an unseen one by 0;
//   - every encoded column standardized (mean 0, standard deviation 1; a constant column
//     is left out);
//   - PCA (Eigen's SelfAdjointEigenSolver on the covariance) keeping the fewest components
//     that explain at least 65% of the variance (NannyML's default).
// The reference is split in two by a seeded shuffle: the PCA is fitted on one half, and
// the other half's reconstruction errors give the threshold (rows the PCA never saw, as
// the current ones). A sample's error is the mean over its rows of the Euclidean distance
// between a standardized row and its reconstruction.
//
// The threshold for a window of m rows is bootstrapped: 200 samples of m rows (with
// replacement; of min(m, 10,000) rows with the spread scaled by sqrt(that / m) beyond)
// from the held-out half's errors; drift when the window's error exceeds their mean plus
// 3 standard deviations (NannyML's threshold on chunks).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "table/table.h"

namespace plinth::monitor {

struct MultivariateDrift {
  int64_t rows = 0;
  double error = 0;      // mean reconstruction error of the window
  double reference = 0;  // the bootstrap mean (the held-out half's mean error)
  double threshold = 0;  // reference + 3 bootstrap standard deviations
  bool drifted = false;
  int components = 0;  // PCA components kept
  int columns = 0;     // encoded columns
  double explained_variance = 0;
};
core::Json MultivariateToJson(const MultivariateDrift& d);

class ReconstructionModel {
 public:
  ~ReconstructionModel();
  ReconstructionModel(ReconstructionModel&&) noexcept;
  ReconstructionModel& operator=(ReconstructionModel&&) noexcept;

  // Fits on `columns` of `reference` (numbers and labels; timestamps are left out).
  // kInvalidArgument when fewer than 2 usable columns or 60 rows remain.
  static Result<ReconstructionModel> Fit(const table::Table& reference,
                                         const std::vector<std::string>& columns,
                                         uint64_t seed = 42);
  // The window's error against the bootstrapped threshold. kInvalidArgument when a
  // column is missing; "not enough data" under `min_rows` rows.
  Result<MultivariateDrift> Compare(const table::Table& current, int64_t min_rows = 30) const;
  // The reconstruction error of each row of `t` (for tests).
  Result<std::vector<double>> RowErrors(const table::Table& t) const;

 private:
  struct Impl;
  explicit ReconstructionModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::monitor
