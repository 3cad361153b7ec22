// Seeded row splits: train/validation/test and k-fold, stratified by class
// for classification so every part keeps the class proportions. The same
// seed gives the same split on every machine (the shuffle uses a fixed
// generator, not std::shuffle, whose algorithm is implementation-defined).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace plinth::ml {

struct SplitFractions {
  double train = 0.7;
  double validation = 0.15;
  double test = 0.15;
};

struct SplitRows {
  std::vector<int64_t> train, validation, test;  // ascending row indices
};

// Splits `rows` by `fractions` (which must each be in [0, 1] and sum to 1).
// With `strata` (one class per row of `rows`, same length) each class is split
// on its own. Returns kInvalidArgument for bad fractions.
Result<SplitRows> SplitTrainValidationTest(std::span<const int64_t> rows,
                                           std::span<const int> strata,
                                           const SplitFractions& fractions, uint64_t seed);

// Assigns `rows` to `k` folds (stratified when `strata` is given); returns the
// rows of each fold, ascending.
std::vector<std::vector<int64_t>> KFold(std::span<const int64_t> rows, std::span<const int> strata,
                                        int k, uint64_t seed);

}  // namespace plinth::ml
