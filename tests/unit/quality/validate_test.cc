#include "quality/validate.h"

#include <gtest/gtest.h>

#include "table/csv_reader.h"
#include "testutil/testutil.h"

namespace plinth::quality {
namespace {

class ValidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = table::ReadCsvText(
        "id,age,sex,email,score,start,end\n"
        "1,34,M,a@x.org,0.5,2020-01-01,2020-01-05\n"
        "2,,F,b@x.org,0.7,2020-01-02,2020-01-01\n"
        "3,150,F,not-an-email,,2020-01-03,2020-01-04\n"
        "3,29,X,c@x.org,0.9,2020-01-04,2020-01-09\n"
        "5,41,M,,0.1,2020-01-05,2020-01-06\n"
        "5,41,M,,0.1,2020-01-05,2020-01-06\n",
        {}, "t.csv");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    data_ = std::move(r->table);
  }

  CheckResult One(const std::string& check_yaml) {
    auto s = ParseSuite("checks:\n  - " + check_yaml + "\n", "s.yaml");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    ValidationReport rep = RunSuite(*s, data_);
    EXPECT_EQ(rep.results.size(), 1u);
    return rep.results.empty() ? CheckResult() : rep.results[0];
  }

  table::Table data_;
};

TEST_F(ValidateTest, NotNullCountsNullsAgainstTheCheck) {
  CheckResult r = One("not_null: {column: age}");
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.evaluated, 6);
  EXPECT_EQ(r.unexpected, 1);
  ASSERT_EQ(r.failing.size(), 1u);
  EXPECT_EQ(r.failing[0].row, 1);
  EXPECT_TRUE(One("not_null: {column: age, mostly: 0.8}").success);
}

TEST_F(ValidateTest, BetweenIgnoresNullsAndListsFailingRows) {
  CheckResult r = One("between: {column: age, min: 0, max: 120}");
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.evaluated, 5);
  EXPECT_EQ(r.unexpected, 1);
  EXPECT_DOUBLE_EQ(r.unexpected_percent, 20.0);
  EXPECT_EQ(r.failing[0].row, 2);
  EXPECT_EQ(r.failing[0].value, "150");
  EXPECT_TRUE(One("between: {column: age, min: 0, max: 120, mostly: 0.8}").success);
  EXPECT_FALSE(One("between: {column: age, min: 29, strict_min: true, max: 200}").success);
  EXPECT_TRUE(One("between: {column: start, min: '2020-01-01', max: '2020-01-05'}").success);
}

TEST_F(ValidateTest, CompletenessAndDuplicates) {
  CheckResult c = One("completeness: {column: email, max_null_fraction: 0.34}");
  EXPECT_TRUE(c.success);
  EXPECT_NEAR(c.observed.get<double>(), 2.0 / 6, 1e-12);
  EXPECT_FALSE(One("completeness: {column: email}").success);  // default 0.05
  CheckResult d = One("duplicate_rows: {max_fraction: 0.1}");
  EXPECT_FALSE(d.success);
  EXPECT_EQ(d.unexpected, 1);
  EXPECT_EQ(d.failing[0].row, 5);
  EXPECT_EQ(d.failing[0].value, "same as row 4");
}

TEST_F(ValidateTest, UniqueSingleAndCompound) {
  CheckResult u = One("unique: {column: id}");
  EXPECT_FALSE(u.success);
  EXPECT_EQ(u.unexpected, 4);  // both members of each duplicated group, as GE counts
  EXPECT_TRUE(One("unique: {columns: [id, age]}").success == false);
  EXPECT_TRUE(One("unique: {columns: [id, email]}").success == false);
  EXPECT_TRUE(One("unique: {columns: [id, sex, age]}").success == false);
  EXPECT_TRUE(One("unique: {columns: [id, start, score], mostly: 0.6}").success);
}

TEST_F(ValidateTest, SetsRegexLengthsAndTypes) {
  CheckResult s = One("in_set: {column: sex, values: [M, F]}");
  EXPECT_EQ(s.unexpected, 1);
  EXPECT_EQ(s.failing[0].value, "X");
  EXPECT_EQ(One("not_in_set: {column: age, values: [41]}").unexpected, 2);
  EXPECT_EQ(One("regex: {column: email, pattern: '^[^@]+@[^@]+$'}").unexpected, 1);
  EXPECT_EQ(One("not_regex: {column: email, pattern: 'x\\.org'}").unexpected, 3);
  EXPECT_EQ(One("string_length: {column: email, min: 7, max: 7}").unexpected, 1);
  EXPECT_TRUE(One("type: {column: age, type: int64}").success);
  EXPECT_FALSE(One("type: {column: age, type: [string, float64]}").success);
  EXPECT_TRUE(One("expect_column_values_to_be_of_type: {column: score, type_: float64}").success);
}

TEST_F(ValidateTest, RulesAndPairs) {
  CheckResult r = One("rule: {expr: 'end >= start'}");
  EXPECT_EQ(r.unexpected, 1);
  EXPECT_EQ(r.failing[0].row, 1);
  EXPECT_EQ(r.failing[0].value, "end=2020-01-01, start=2020-01-02");
  EXPECT_EQ(One("expect_column_pair_values_A_to_be_greater_than_B: "
                "{column_A: end, column_B: start}")
                .unexpected,
            1);
  CheckResult bad = One("rule: {expr: 'ag > 1'}");
  EXPECT_FALSE(bad.success);
  EXPECT_EQ(bad.error, "expr \"ag > 1\": at character 1: unknown column \"ag\"");
}

TEST_F(ValidateTest, TableAndStatisticChecks) {
  EXPECT_TRUE(One("row_count: {min: 6, max: 6}").success);
  EXPECT_FALSE(One("expect_table_row_count_to_equal: {value: 7}").success);
  EXPECT_TRUE(One("column_count: {min: 7}").success);
  CheckResult m = One("mean: {column: age, min: 59, max: 59}");
  EXPECT_TRUE(m.success);
  EXPECT_DOUBLE_EQ(m.observed.get<double>(), 59.0);
  EXPECT_TRUE(One("median: {column: age, min: 41, max: 41}").success);
  EXPECT_TRUE(One("expect_column_max_to_be_between: {column: age, max_value: 150}").success);
  EXPECT_TRUE(One("distinct_count: {column: sex, min: 3, max: 3}").success);
  EXPECT_TRUE(One("expect_table_columns_to_match_set: "
                  "{column_set: [id, age], exact_match: false}")
                  .success);
  CheckResult cols = One("columns_match_set: {columns: [id, age, nope]}");
  EXPECT_FALSE(cols.success);
  EXPECT_EQ(cols.error, "missing: nope; unexpected: email, end, score, sex, start");
}

TEST_F(ValidateTest, MissingColumnFailsTheCheckWithAReason) {
  CheckResult r = One("not_null: {column: agee}");
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.error, "column \"agee\" is not in the data");
  CheckResult t = One("between: {column: sex, min: 0}");
  EXPECT_EQ(t.error, "column \"sex\" is string, this check needs numbers or timestamps");
}

TEST_F(ValidateTest, ReportSuccessDependsOnErrorLevelChecksOnly) {
  auto s = ParseSuite(
      "checks:\n  - not_null: {column: age}\n    severity: warn\n"
      "  - row_count: {min: 1}\n",
      "s.yaml");
  ASSERT_TRUE(s.ok());
  ValidationReport rep = RunSuite(*s, data_, {.threads = 2});
  EXPECT_TRUE(rep.success());
  EXPECT_EQ(rep.failed_warnings(), 1);
  core::Json j = ReportToJson(rep);
  EXPECT_EQ(j["success"], true);
  EXPECT_EQ(j["results"][0]["unexpected_count"], 1);
  EXPECT_EQ(j["statistics"]["failed_warnings"], 1);
  EXPECT_NE(RenderReportHtml(rep).find("<table>"), std::string::npos);
  EXPECT_NE(FormatReportText(rep).find("2 checks: 1 passed, 0 failed, 1 warnings"),
            std::string::npos);
}

}  // namespace
}  // namespace plinth::quality
