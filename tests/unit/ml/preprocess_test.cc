#include "ml/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>

#include "table/csv_reader.h"

namespace plinth::ml {
namespace {

table::Table Csv(const std::string& text) {
  auto t = table::ReadCsvText(text);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t->table;
}

std::vector<int64_t> AllRows(const table::Table& t) {
  std::vector<int64_t> rows(static_cast<size_t>(t.num_rows()));
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i] = static_cast<int64_t>(i);
  }
  return rows;
}

PreprocessOptions Plain() {
  PreprocessOptions o;
  o.outliers = OutlierMethod::kNone;
  o.scaling = Scaling::kNone;
  return o;
}

TEST(PreprocessTest, MedianImputationFromTrainingRowsOnly) {
  // A second column, because a blank line is no row in CSV.
  table::Table t = Csv("x,k\n1,a\n2,a\n,a\n10,a\n1000,a\n");
  // Fit on rows 0..3 only: the median of 1, 2, 10 is 2; row 4 (1000) must not count.
  auto p = Preprocessor::Fit(t, {0, 1, 2, 3}, {"x"}, Plain());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto m = p->Transform(t);
  ASSERT_TRUE(m.ok());
  EXPECT_FLOAT_EQ(m->at(2, 0), 2.0f);
  EXPECT_FLOAT_EQ(m->at(4, 0), 1000.0f);
}

TEST(PreprocessTest, MeanAndConstantImputation) {
  table::Table t = Csv("x,k\n1,a\n2,a\n,a\n9,a\n");
  PreprocessOptions o = Plain();
  o.numeric_impute = NumericImpute::kMean;
  auto p = Preprocessor::Fit(t, AllRows(t), {"x"}, o);
  ASSERT_TRUE(p.ok());
  EXPECT_FLOAT_EQ(p->Transform(t)->at(2, 0), 4.0f);
  o.numeric_impute = NumericImpute::kConstant;
  o.impute_constant = -1;
  p = Preprocessor::Fit(t, AllRows(t), {"x"}, o);
  EXPECT_FLOAT_EQ(p->Transform(t)->at(2, 0), -1.0f);
}

TEST(PreprocessTest, StandardScalingUsesPopulationStd) {
  table::Table t = Csv("x\n1\n2\n3\n4\n");
  PreprocessOptions o = Plain();
  o.scaling = Scaling::kStandard;
  auto p = Preprocessor::Fit(t, AllRows(t), {"x"}, o);
  auto m = p->Transform(t);
  double sd = std::sqrt(1.25);  // as sklearn's StandardScaler
  EXPECT_NEAR(m->at(0, 0), (1 - 2.5) / sd, 1e-6);
  EXPECT_NEAR(m->at(3, 0), (4 - 2.5) / sd, 1e-6);
  o.scaling = Scaling::kMinMax;
  p = Preprocessor::Fit(t, AllRows(t), {"x"}, o);
  m = p->Transform(t);
  EXPECT_FLOAT_EQ(m->at(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(m->at(3, 0), 1.0f);
}

TEST(PreprocessTest, IqrOutliersRemovedFromTrainingAndClippedAtPrediction) {
  table::Table t = Csv("x\n1\n2\n3\n4\n5\n6\n7\n8\n100\n");
  PreprocessOptions o = Plain();
  o.outliers = OutlierMethod::kIqr;
  o.iqr_factor = 1.5;
  // The default action clips: every row is kept.
  auto p = Preprocessor::Fit(t, AllRows(t), {"x"}, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kept_rows(), AllRows(t));
  o.outlier_action = OutlierAction::kRemove;
  p = Preprocessor::Fit(t, AllRows(t), {"x"}, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kept_rows(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  // q1 = 3, q3 = 7 -> upper bound 7 + 1.5 * 4 = 13.
  table::Table probe = Csv("x\n100\n-50\n5\n");
  auto m = p->Transform(probe);
  EXPECT_FLOAT_EQ(m->at(0, 0), 13.0f);
  EXPECT_FLOAT_EQ(m->at(1, 0), -3.0f);
  EXPECT_FLOAT_EQ(m->at(2, 0), 5.0f);
  o.clip_at_predict = false;
  p = Preprocessor::Fit(t, AllRows(t), {"x"}, o);
  EXPECT_FLOAT_EQ(p->Transform(probe)->at(0, 0), 100.0f);
}

TEST(PreprocessTest, SpikeColumnHasNoIqrOutliers) {
  table::Table t = Csv("x\n0\n0\n0\n0\n0\n0\n5000\n");
  PreprocessOptions o = Plain();
  auto p = Preprocessor::Fit(t, AllRows(t), {"x"}, o);
  EXPECT_EQ(p->kept_rows().size(), 7u);
}

TEST(PreprocessTest, OneHotWithOtherAndUnseenAsZeros) {
  table::Table t = Csv("c,k\na,1\na,1\na,1\nb,1\nb,1\nc,1\nd,1\n,1\n");
  PreprocessOptions o = Plain();
  o.max_categories = 3;  // a, b, (other)
  auto p = Preprocessor::Fit(t, AllRows(t), {"c"}, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->feature_names(), (std::vector<std::string>{"c=a", "c=b", "c=(other)"}));
  table::Table probe = Csv("c,k\na,1\nc,1\nzzz,1\n,1\n");
  ASSERT_EQ(probe.num_rows(), 4);
  auto m = p->Transform(probe);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::vector<float>(m->row(0), m->row(0) + 3), (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(std::vector<float>(m->row(1), m->row(1) + 3), (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(std::vector<float>(m->row(2), m->row(2) + 3), (std::vector<float>{0, 0, 0}));
  // Null -> the most frequent category, "a".
  EXPECT_EQ(std::vector<float>(m->row(3), m->row(3) + 3), (std::vector<float>{1, 0, 0}));
}

TEST(PreprocessTest, MissingCategory) {
  table::Table t = Csv("c,k\na,1\n,1\nb,1\n");
  PreprocessOptions o = Plain();
  o.categorical_impute = CategoricalImpute::kMissingCategory;
  auto p = Preprocessor::Fit(t, AllRows(t), {"c"}, o);
  EXPECT_EQ(p->feature_names(), (std::vector<std::string>{"c=(missing)", "c=a", "c=b"}));
}

TEST(PreprocessTest, DatetimeParts) {
  table::Table t = Csv("ts\n2024-03-15T13:45:00\n2023-12-31T00:00:00\n");
  PreprocessOptions o = Plain();
  auto p = Preprocessor::Fit(t, AllRows(t), {"ts"}, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->feature_names(),
            (std::vector<std::string>{"ts.year", "ts.month", "ts.day_of_week", "ts.hour"}));
  auto m = p->Transform(t);
  // 2024-03-15 is a Friday (pandas dayofweek 4).
  EXPECT_EQ(std::vector<float>(m->row(0), m->row(0) + 4), (std::vector<float>{2024, 3, 4, 13}));
  EXPECT_EQ(std::vector<float>(m->row(1), m->row(1) + 4), (std::vector<float>{2023, 12, 6, 0}));
}

TEST(PreprocessTest, SignedLog) {
  table::Table t = Csv("x\n0\n9\n-9\n");
  PreprocessOptions o = Plain();
  o.log_columns = {"x"};
  auto m = Preprocessor::Fit(t, AllRows(t), {"x"}, o)->Transform(t);
  EXPECT_FLOAT_EQ(m->at(1, 0), static_cast<float>(std::log(10.0)));
  EXPECT_FLOAT_EQ(m->at(2, 0), static_cast<float>(-std::log(10.0)));
}

TEST(PreprocessTest, JsonRoundTripTransformsIdentically) {
  table::Table t =
      Csv("n,c,ts,b\n1.5,x,2024-01-01T00:00:00,true\n,y,2024-06-01T10:00:00,false\n"
          "3,,,true\n400,x,2024-02-01T00:00:00,\n2,z,2024-03-01T00:00:00,true\n");
  PreprocessOptions o;  // defaults: median, iqr, standard
  auto p = Preprocessor::Fit(t, AllRows(t), {"n", "c", "ts", "b"}, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto back = Preprocessor::FromJson(p->ToJson(), "preprocess.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->feature_names(), p->feature_names());
  EXPECT_EQ(back->Transform(t)->values, p->Transform(t)->values);
  EXPECT_EQ(back->ToJson(), p->ToJson());
}

TEST(PreprocessTest, TransformErrorsNameTheColumn) {
  table::Table t = Csv("age,city\n30,a\n40,b\n");
  auto p = Preprocessor::Fit(t, AllRows(t), {"age", "city"}, Plain());
  auto missing = p->Transform(Csv("city\na\n"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "column \"age\": missing from the input");
  auto wrong = p->Transform(Csv("age,city\nold,a\n"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "column \"age\": expected a number, got string");
  // Extra columns and another order are fine; a number where a category was is its text.
  auto ok = p->Transform(Csv("zip,city,age\n1,b,35\n"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->values, (std::vector<float>{35, 0, 1}));
}

TEST(PreprocessTest, FromJsonRejectsBadInput) {
  EXPECT_FALSE(Preprocessor::FromJson(core::Json::object(), "p.json").ok());
  core::Json j = {{"format", "plinth.preprocess/v1"},
                  {"columns", {{{"name", "x"}, {"type", "int64"}, {"kind", "blob"}}}}};
  auto r = Preprocessor::FromJson(j, "p.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("columns[0]"), std::string::npos);
}

TEST(PreprocessTest, ParallelTransformEqualsSerial) {
  std::string text = "x,c\n";
  for (int i = 0; i < 40000; ++i) {
    text += std::to_string(i % 97) + "," + std::string(1, static_cast<char>('a' + i % 5)) + "\n";
  }
  table::Table t = Csv(text);
  auto p = Preprocessor::Fit(t, AllRows(t), {"x", "c"}, PreprocessOptions());
  auto all = p->Transform(t);  // 40k rows: parallel blocks
  ASSERT_TRUE(all.ok());
  table::Table head = TakeRows(t, {39999});
  auto one = p->Transform(head);
  EXPECT_EQ(std::vector<float>(one->values),
            std::vector<float>(all->row(39999), all->row(39999) + all->cols));
}

}  // namespace
}  // namespace plinth::ml
