// Realized and estimated (CBPE) quality; their agreement with scikit-learn and NannyML's
// method on real data is e2e.monitor_model's, these pin small cases and the errors.
#include "monitor/performance.h"

#include <gtest/gtest.h>

#include <cmath>

#include "table/csv_reader.h"

namespace plinth::monitor {
namespace {

TEST(IsotonicTest, MatchesScikitLearn) {
  // IsotonicRegression(out_of_bounds="clip").fit(x, y).predict(at), scikit-learn 1.2.1.
  const std::vector<double> x = {0.1, 0.2, 0.2, 0.4, 0.5, 0.7, 0.9};
  const std::vector<double> y = {0, 1, 0, 1, 0, 1, 1};
  const Isotonic iso = Isotonic::Fit(x, y);
  const std::vector<std::pair<double, double>> want = {
      {0.0, 0.0},  {0.1, 0.0}, {0.15, 0.25}, {0.2, 0.5}, {0.3, 0.5},
      {0.45, 0.5}, {0.5, 0.5}, {0.6, 0.75},  {0.8, 1.0}, {1.0, 1.0}};
  for (const auto& [at, value] : want) {
    EXPECT_NEAR(iso(at), value, 1e-15) << at;
  }
}

table::Table Read(const char* csv) {
  Result<table::CsvTable> t = table::ReadCsvText(csv);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t->table;
}

TEST(PerformanceTest, RealizedAndEstimatedBinary) {
  const table::Table t = Read(
      "prediction,probability_yes,label\n"
      "yes,0.9,yes\nyes,0.8,no\nno,0.3,no\nno,0.2,yes\nno,0.1,no\nyes,0.7,\n");
  Result<ClassOutputs> out = ReadClassOutputs(t, {"no", "yes"}, "label", "t");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_DOUBLE_EQ(out->proba[0], 1 - 0.9);  // derived from the positive class
  std::optional<Quality> q = RealizedQuality(*out);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->rows, 5);
  EXPECT_DOUBLE_EQ(q->accuracy, 3.0 / 5);
  EXPECT_DOUBLE_EQ(q->precision, 1.0 / 2);
  EXPECT_DOUBLE_EQ(q->recall, 1.0 / 2);
  // Too few labelled rows to calibrate on.
  EXPECT_FALSE(Cbpe::Fit(*out).ok());
  Result<Cbpe> cbpe = Cbpe::Fit(*out, 5);
  ASSERT_TRUE(cbpe.ok());
  // Calibrated on 5 rows: P(yes) of 0.1..0.3 is 1/3 (pooled), of 0.8..0.9 is 1/2.
  const Quality est = cbpe->Estimate(*out);
  EXPECT_EQ(est.rows, 6);
  EXPECT_GT(est.accuracy, 0);
  EXPECT_LT(est.accuracy, 1);
}

TEST(PerformanceTest, MulticlassProbabilitiesSumToOne) {
  const table::Table t = Read(
      "prediction,probability_a,probability_b,probability_c,y\n"
      "a,0.7,0.2,0.1,a\nb,0.1,0.8,0.1,b\nc,0.2,0.2,0.6,a\nb,0.3,0.4,0.3,c\n");
  Result<ClassOutputs> out = ReadClassOutputs(t, {"a", "b", "c"}, "y", "t");
  ASSERT_TRUE(out.ok());
  Result<Cbpe> cbpe = Cbpe::Fit(*out, 1);
  ASSERT_TRUE(cbpe.ok());
  const std::vector<double> p = cbpe->Calibrate(std::span<const double>(out->proba.data(), 3));
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
  std::optional<Quality> q = RealizedQuality(*out);
  ASSERT_TRUE(q.has_value());
  EXPECT_DOUBLE_EQ(q->accuracy, 0.5);
}

TEST(PerformanceTest, BadOutputsAreNamed) {
  const table::Table unknown = Read("prediction,probability_yes\nmaybe,0.5\n");
  Result<ClassOutputs> out = ReadClassOutputs(unknown, {"no", "yes"}, "", "cur.csv");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "cur.csv: row 1: prediction \"maybe\" is not one of the model's class labels");
  const table::Table range = Read("prediction,probability_yes\nyes,1.5\n");
  out = ReadClassOutputs(range, {"no", "yes"}, "", "cur.csv");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "cur.csv: row 1: probability_yes is not within [0, 1]");
  const table::Table missing = Read("prediction\nyes\n");
  EXPECT_FALSE(ReadClassOutputs(missing, {"a", "b", "c"}, "", "cur.csv").ok());
}

TEST(PerformanceTest, RegressionErrors) {
  const table::Table t = Read("prediction,y\n1.0,2.0\n3.0,3.0\n5.0,\n");
  std::optional<RegressionQuality> q = RealizedRegression(t, "y");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->rows, 2);
  EXPECT_DOUBLE_EQ(q->mae, 0.5);
  EXPECT_DOUBLE_EQ(q->rmse, std::sqrt(0.5));
}

}  // namespace
}  // namespace plinth::monitor
