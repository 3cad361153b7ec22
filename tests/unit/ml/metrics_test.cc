#include "ml/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace plinth::ml {
namespace {

TEST(MetricsTest, BinaryByHand) {
  // truth:     1    0    1    1    0
  // p(1):    0.9  0.6  0.4  0.8  0.1   -> predicted 1 1 0 1 0
  std::vector<int> y = {1, 0, 1, 1, 0};
  std::vector<double> p1 = {0.9, 0.6, 0.4, 0.8, 0.1};
  std::vector<double> proba;
  for (double p : p1) {
    proba.push_back(1 - p);
    proba.push_back(p);
  }
  auto m = EvaluateClassifier(y, proba, 2);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_DOUBLE_EQ(m->accuracy, 0.6);         // 3 of 5
  EXPECT_DOUBLE_EQ(m->precision, 2.0 / 3.0);  // tp 2, fp 1
  EXPECT_DOUBLE_EQ(m->recall, 2.0 / 3.0);     // tp 2, fn 1
  EXPECT_DOUBLE_EQ(m->f1, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m->roc_auc, 5.0 / 6.0);  // 5 of 6 pairs ordered
  EXPECT_EQ(m->confusion, (std::vector<std::vector<int64_t>>{{1, 1}, {1, 2}}));
  double ll = -(std::log(0.9) + std::log(0.4) + std::log(0.4) + std::log(0.8) + std::log(0.9)) / 5;
  EXPECT_NEAR(m->log_loss, ll, 1e-12);
  // Average precision: thresholds 0.9 (P=1,R=1/3), 0.8 (1,2/3), 0.6 (2/3,2/3), 0.4 (3/4,1).
  EXPECT_NEAR(m->pr_auc, 1.0 / 3 + 1.0 / 3 + 0.75 / 3, 1e-12);
}

TEST(MetricsTest, ThresholdMovesPredictions) {
  std::vector<int> y = {1, 0};
  std::vector<double> proba = {0.7, 0.3, 0.6, 0.4};
  EXPECT_DOUBLE_EQ(EvaluateClassifier(y, proba, 2, 0.5)->accuracy, 0.5);
  EXPECT_DOUBLE_EQ(EvaluateClassifier(y, proba, 2, 0.25)->accuracy, 0.5);
  EXPECT_DOUBLE_EQ(EvaluateClassifier(y, proba, 2, 0.35)->accuracy, 0.0);
}

TEST(MetricsTest, SingleClassTruthHasNoAuc) {
  std::vector<int> y = {1, 1};
  std::vector<double> proba = {0.2, 0.8, 0.4, 0.6};
  auto m = EvaluateClassifier(y, proba, 2);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(std::isnan(m->roc_auc));
  EXPECT_TRUE(ToJson(*m, {"a", "b"})["roc_auc"].is_null());
}

TEST(MetricsTest, MulticlassMacroAndWeighted) {
  std::vector<int> y = {0, 1, 2, 2};
  std::vector<double> proba = {0.8, 0.1, 0.1,   // -> 0
                               0.2, 0.7, 0.1,   // -> 1
                               0.1, 0.6, 0.3,   // -> 1 (wrong)
                               0.1, 0.2, 0.7};  // -> 2
  auto m = EvaluateClassifier(y, proba, 3);
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->accuracy, 0.75);
  // precision per class: 1, 1/2, 1 ; recall: 1, 1, 1/2
  EXPECT_DOUBLE_EQ(m->precision, (1 + 0.5 + 1) / 3);
  EXPECT_DOUBLE_EQ(m->recall, (1 + 1 + 0.5) / 3);
  EXPECT_DOUBLE_EQ(m->precision_weighted, (1 * 1 + 0.5 * 1 + 1 * 2) / 4.0);
}

TEST(MetricsTest, Regression) {
  std::vector<double> y = {1, 2, 4};
  std::vector<double> p = {2, 2, 3};
  auto m = EvaluateRegressor(y, p);
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->mae, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m->rmse, std::sqrt(2.0 / 3));
  EXPECT_DOUBLE_EQ(m->mape, (1.0 + 0 + 0.25) / 3);
  EXPECT_NEAR(m->r2, 1 - 2.0 / (14.0 / 3), 1e-12);  // ss_tot of {1,2,4} is 14/3
}

TEST(MetricsTest, BadInputIsAnErrorNotACrash) {
  std::vector<int> y = {0, 3};
  std::vector<double> proba = {0.5, 0.5, 0.5, 0.5};
  EXPECT_FALSE(EvaluateClassifier(y, proba, 2).ok());
  EXPECT_FALSE(EvaluateClassifier(std::vector<int>{0}, proba, 2).ok());
  EXPECT_FALSE(EvaluateRegressor(std::vector<double>{}, std::vector<double>{}).ok());
  EXPECT_FALSE(EvaluateRegressor(std::vector<double>{1}, std::vector<double>{1, 2}).ok());
}

}  // namespace
}  // namespace plinth::ml
