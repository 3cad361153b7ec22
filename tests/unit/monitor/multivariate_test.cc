// Multivariate drift: a broken correlation that no column's own test sees.
#include "monitor/multivariate.h"

#include <gtest/gtest.h>

#include <random>

#include "monitor/dataset_drift.h"

namespace plinth::monitor {
namespace {

// x ~ N(0, 1), y = x + small noise, a category following the sign of x; with
// `independent`, y and the category are drawn apart from x (same marginals).
table::Table Sample(int64_t n, uint64_t seed, bool independent) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  table::Column x(table::DataType::kFloat64), y(table::DataType::kFloat64),
      c(table::DataType::kString);
  for (int64_t i = 0; i < n; ++i) {
    const double a = normal(rng);
    const double b = independent ? normal(rng) : a;
    x.AppendDouble(a);
    y.AppendDouble(b + 0.1 * normal(rng));
    c.AppendString((independent ? normal(rng) : a) > 0 ? "up" : "down");
  }
  return table::Table(table::Schema({{"x", table::DataType::kFloat64},
                                     {"y", table::DataType::kFloat64},
                                     {"c", table::DataType::kString}}),
                      {std::move(x), std::move(y), std::move(c)});
}

TEST(MultivariateTest, CatchesABrokenCorrelation) {
  const table::Table reference = Sample(4000, 1, false);
  Result<ReconstructionModel> model = ReconstructionModel::Fit(reference, {"x", "y", "c"});
  ASSERT_TRUE(model.ok()) << model.status().ToString();

  Result<MultivariateDrift> same = model->Compare(Sample(2000, 2, false));
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->drifted) << same->error << " vs " << same->threshold;
  EXPECT_EQ(same->components, 1);  // x, y and c move as one

  const table::Table broken = Sample(2000, 3, true);
  Result<MultivariateDrift> changed = model->Compare(broken);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(changed->drifted) << changed->error << " vs " << changed->threshold;
  // Column by column, nothing moved.
  Result<DriftReport> univariate = CompareTables(reference, broken, DriftRules());
  ASSERT_TRUE(univariate.ok());
  EXPECT_EQ(univariate->drifted, 0);
}

TEST(MultivariateTest, Errors) {
  const table::Table reference = Sample(4000, 1, false);
  EXPECT_EQ(ReconstructionModel::Fit(Sample(10, 1, false), {"x", "y"}).status().message(),
            "multivariate drift needs at least 60 reference rows, the reference has 10");
  EXPECT_EQ(ReconstructionModel::Fit(reference, {"x"}).status().message(),
            "multivariate drift needs at least 2 varying columns, the reference has 1");
  Result<ReconstructionModel> model = ReconstructionModel::Fit(reference, {"x", "y"});
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->Compare(Sample(10, 4, false)).status().message(),
            "not enough data: 10 rows, 30 needed");
  const table::Table other(table::Schema({{"x", table::DataType::kFloat64}}),
                           {table::Column(table::DataType::kFloat64)});
  EXPECT_EQ(model->Compare(other, 0).status().message(),
            "column 'y' is missing from the current data");
}

}  // namespace
}  // namespace plinth::monitor
