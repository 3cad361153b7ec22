#include "ml/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace plinth::ml {
namespace {

std::vector<int64_t> Range(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(SplitTest, StratifiedKeepsClassProportions) {
  std::vector<int64_t> rows = Range(1000);
  std::vector<int> strata(1000);
  for (int i = 0; i < 1000; ++i) {
    strata[static_cast<size_t>(i)] = i % 10 == 0 ? 1 : 0;  // 10% positives
  }
  auto s = SplitTrainValidationTest(rows, strata, {0.7, 0.15, 0.15}, 42);
  ASSERT_TRUE(s.ok());
  auto positives = [&](const std::vector<int64_t>& part) {
    return std::count_if(part.begin(), part.end(), [](int64_t r) { return r % 10 == 0; });
  };
  EXPECT_EQ(s->train.size(), 700u);
  EXPECT_EQ(s->validation.size(), 150u);
  EXPECT_EQ(s->test.size(), 150u);
  EXPECT_EQ(positives(s->train), 70);
  EXPECT_EQ(positives(s->validation), 15);
  EXPECT_EQ(positives(s->test), 15);
  // A partition: every row exactly once.
  std::vector<int64_t> all = s->train;
  all.insert(all.end(), s->validation.begin(), s->validation.end());
  all.insert(all.end(), s->test.begin(), s->test.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, rows);
}

TEST(SplitTest, SameSeedSameSplitOtherSeedOther) {
  std::vector<int64_t> rows = Range(500);
  auto a = SplitTrainValidationTest(rows, {}, {0.6, 0.2, 0.2}, 7);
  auto b = SplitTrainValidationTest(rows, {}, {0.6, 0.2, 0.2}, 7);
  auto c = SplitTrainValidationTest(rows, {}, {0.6, 0.2, 0.2}, 8);
  EXPECT_EQ(a->test, b->test);
  EXPECT_NE(a->test, c->test);
}

TEST(SplitTest, FractionsMustSumToOne) {
  std::vector<int64_t> rows = Range(10);
  auto s = SplitTrainValidationTest(rows, {}, {0.7, 0.2, 0.2}, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("sum to 1"), std::string::npos);
  EXPECT_FALSE(SplitTrainValidationTest(rows, {}, {1.2, -0.2, 0}, 1).ok());
}

TEST(SplitTest, KFoldPartitionsStratified) {
  std::vector<int64_t> rows = Range(100);
  std::vector<int> strata(100);
  for (int i = 0; i < 100; ++i) {
    strata[static_cast<size_t>(i)] = i < 20 ? 1 : 0;
  }
  auto folds = KFold(rows, strata, 5, 3);
  ASSERT_EQ(folds.size(), 5u);
  std::vector<int64_t> all;
  for (const auto& f : folds) {
    EXPECT_EQ(f.size(), 20u);
    EXPECT_EQ(std::count_if(f.begin(), f.end(), [](int64_t r) { return r < 20; }), 4);
    all.insert(all.end(), f.begin(), f.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, rows);
}

}  // namespace
}  // namespace plinth::ml
