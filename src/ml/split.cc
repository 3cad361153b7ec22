#include "ml/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>

namespace plinth::ml {
namespace {

// Fisher-Yates with mt19937_64, whose output sequence the standard fixes.
void Shuffle(std::vector<int64_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(rng() % i);
    std::swap(v[i - 1], v[j]);
  }
}

// The rows grouped by stratum (one group without strata), each shuffled.
std::vector<std::vector<int64_t>> ShuffledGroups(std::span<const int64_t> rows,
                                                 std::span<const int> strata, uint64_t seed) {
  std::map<int, std::vector<int64_t>> groups;
  for (size_t i = 0; i < rows.size(); ++i) {
    groups[strata.empty() ? 0 : strata[i]].push_back(rows[i]);
  }
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int64_t>> out;
  for (auto& [unused, g] : groups) {
    Shuffle(g, rng);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

Result<SplitRows> SplitTrainValidationTest(std::span<const int64_t> rows,
                                           std::span<const int> strata, const SplitFractions& f,
                                           uint64_t seed) {
  for (double x : {f.train, f.validation, f.test}) {
    if (!(x >= 0 && x <= 1)) {
      return InvalidArgument("split: each fraction must be between 0 and 1");
    }
  }
  double sum = f.train + f.validation + f.test;
  if (std::abs(sum - 1.0) > 1e-9) {
    return InvalidArgument("split: train + validation + test must sum to 1, got " +
                           std::to_string(sum));
  }
  SplitRows out;
  for (std::vector<int64_t>& g : ShuffledGroups(rows, strata, seed)) {
    const double n = static_cast<double>(g.size());
    size_t n_val = static_cast<size_t>(std::llround(n * f.validation));
    size_t n_test = static_cast<size_t>(std::llround(n * f.test));
    n_val = std::min(n_val, g.size());
    n_test = std::min(n_test, g.size() - n_val);
    out.validation.insert(out.validation.end(), g.begin(), g.begin() + n_val);
    out.test.insert(out.test.end(), g.begin() + n_val, g.begin() + n_val + n_test);
    out.train.insert(out.train.end(), g.begin() + n_val + n_test, g.end());
  }
  for (auto* part : {&out.train, &out.validation, &out.test}) {
    std::sort(part->begin(), part->end());
  }
  return out;
}

std::vector<std::vector<int64_t>> KFold(std::span<const int64_t> rows, std::span<const int> strata,
                                        int k, uint64_t seed) {
  std::vector<std::vector<int64_t>> folds(static_cast<size_t>(std::max(k, 1)));
  size_t next = 0;  // continue round-robin across strata so fold sizes stay even
  for (std::vector<int64_t>& g : ShuffledGroups(rows, strata, seed)) {
    for (int64_t r : g) {
      folds[next++ % folds.size()].push_back(r);
    }
  }
  for (auto& f : folds) {
    std::sort(f.begin(), f.end());
  }
  return folds;
}

}  // namespace plinth::ml
