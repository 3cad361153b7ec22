#include "quality/suite.h"

#include <gtest/gtest.h>

namespace plinth::quality {
namespace {

std::string LoadError(const std::string& text) {
  auto r = ParseSuite(text, "s.yaml");
  return r.ok() ? "ok" : r.status().message();
}

TEST(SuiteTest, NativeFormsAndDefaults) {
  auto s = ParseSuite(R"(
name: demo
defaults: {severity: warn, max_failing_rows: 3}
checks:
  - not_null: {columns: [a, b]}
  - between: {column: age, min: 0, max: 120, mostly: 0.99}
    severity: error
    name: sane-age
  - check: in_set
    column: sex
    values: [M, F]
  - rule: {expr: "a >= b or a is null"}
  - completeness: {column: c}
  - duplicate_rows: {}
)",
                      "s.yaml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "demo");
  ASSERT_EQ(s->checks.size(), 7u);  // not_null expands to one check per column
  EXPECT_EQ(s->checks[0].label, "not_null(a)");
  EXPECT_EQ(s->checks[1].label, "not_null(b)");
  EXPECT_EQ(s->checks[0].severity, Severity::kWarn);
  EXPECT_EQ(s->checks[0].max_failing_rows, 3);
  EXPECT_EQ(s->checks[2].label, "sane-age");
  EXPECT_EQ(s->checks[2].severity, Severity::kError);
  EXPECT_DOUBLE_EQ(s->checks[2].mostly, 0.99);
  EXPECT_EQ(s->checks[2].min->text, "0");
  EXPECT_EQ(s->checks[2].where, "s.yaml:6");
  EXPECT_EQ(s->checks[3].kind, CheckKind::kInSet);
  EXPECT_EQ(s->checks[3].values.size(), 2u);
  EXPECT_EQ(s->checks[4].kind, CheckKind::kRule);
  EXPECT_DOUBLE_EQ(s->checks[5].max_fraction, 0.05);  // completeness default
  EXPECT_DOUBLE_EQ(s->checks[6].max_fraction, 0.01);  // duplicate_rows default
}

TEST(SuiteTest, GreatExpectationsJson0x) {
  auto s = ParseSuite(R"({
  "expectation_suite_name": "ge0",
  "expectations": [
    {"expectation_type": "expect_column_values_to_be_between",
     "kwargs": {"column": "age", "min_value": 1, "max_value": null, "mostly": 0.9,
                "result_format": "COMPLETE"}, "meta": {"notes": "x"}},
    {"expectation_type": "expect_column_pair_values_A_to_be_greater_than_B",
     "kwargs": {"column_A": "end", "column_B": "start", "or_equal": true}},
    {"expectation_type": "expect_column_quantile_values_to_be_between",
     "kwargs": {"column": "x", "quantile_ranges": {"quantiles": [0.1, 0.9],
                "value_ranges": [[0, 1], [null, 10]]}}},
    {"expectation_type": "expect_table_columns_to_match_ordered_list",
     "kwargs": {"column_list": ["a", "b"]}}
  ]})",
                      "ge.json");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "ge0");
  ASSERT_EQ(s->checks.size(), 4u);
  EXPECT_EQ(s->checks[0].kind, CheckKind::kBetween);
  EXPECT_FALSE(s->checks[0].max.has_value());
  EXPECT_EQ(s->checks[1].expr, "`end` >= `start`");
  EXPECT_EQ(s->checks[2].quantiles, (std::vector<double>{0.1, 0.9}));
  EXPECT_FALSE(s->checks[2].ranges[1].first.has_value());
  EXPECT_EQ(s->checks[3].columns, (std::vector<std::string>{"a", "b"}));
}

TEST(SuiteTest, GreatExpectationsJson1x) {
  auto s = ParseSuite(R"({
  "name": "ge1", "id": "7c1b", "meta": {"great_expectations_version": "1.3.0"}, "notes": null,
  "expectations": [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"},
     "meta": {}, "id": "e1", "severity": "critical"},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "s", "value_set": ["x"]},
     "id": "e2", "severity": "warning", "rendered_content": []}
  ]})",
                      "ge.json");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "ge1");
  ASSERT_EQ(s->checks.size(), 2u);
  EXPECT_EQ(s->checks[0].severity, Severity::kError);
  EXPECT_EQ(s->checks[1].severity, Severity::kWarn);
}

TEST(SuiteTest, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(LoadError("checks:\n  - betwen: {column: a}\n"),
            "s.yaml:2: unknown check 'betwen' (see docs/FORMATS.md for the list)");
  EXPECT_EQ(LoadError("checks:\n  - between: {column: a, mn: 1}\n"),
            "s.yaml:2: check 'between': unknown key 'mn' (expected column, columns, max, min, "
            "mostly, strict_max, strict_min)");
  EXPECT_EQ(LoadError("checks:\n  - in_set: {values: [1]}\n"),
            "s.yaml:2: check 'in_set': missing key 'column' (or 'columns')");
  EXPECT_EQ(LoadError("checks:\n  - not_null: {column: a, mostly: 2}\n"),
            "s.yaml:2: check 'not_null': key 'mostly': expected a number from 0 to 1, got 2");
  EXPECT_EQ(LoadError("checks:\n  - between: {column: a}\n"),
            "s.yaml:2: check 'between': give min, max or both");
  EXPECT_EQ(LoadError("checks:\n  - regex: {column: a, pattern: '(ab'}\n"),
            "s.yaml:2: check 'regex': invalid regex \"(ab\": missing ): (ab");
  EXPECT_EQ(LoadError("checks:\n  - rule: {expr: 'a >'}\n"),
            "s.yaml:2: check 'rule': expr \"a >\": at character 4: expected an operand, got the "
            "end of the expression");
  EXPECT_EQ(LoadError("checks:\n  - not_null: {column: a}\n    severity: fatal\n"),
            "s.yaml:2: key 'severity': expected error or warn, got \"fatal\"");
  EXPECT_EQ(LoadError("items: []\n"),
            "s.yaml: expected a key 'checks' (or 'expectations', as Great Expectations writes) "
            "holding the list of checks");
  EXPECT_EQ(LoadError("checks: [\n"), LoadError("checks: [\n"));  // stable
  EXPECT_EQ(LoadError("checks:\n  - not_null: {column: a}\n    in_set: {column: b}\n"),
            "s.yaml:2: a check item names one check, found 'not_null' and 'in_set'");
  EXPECT_EQ(LoadError("checks:\n  - type: {column: a, type: decimal}\n"),
            "s.yaml:2: check 'type': key 'type': unknown type \"decimal\", expected int64, "
            "float64, bool, string or timestamp");
  EXPECT_NE(LoadError("checks: [\n").find("s.yaml:"), std::string::npos);
}

// An ill-typed bound used to load and then fail its check on the data; it is
// a suite error naming the file, the expectation and the key.
TEST(SuiteTest, IllTypedArgumentsAreSuiteErrors) {
  auto ge = [](const std::string& type, const std::string& kwargs) {
    auto r = ParseSuite("{\"expectations\": [\n  {\"expectation_type\": \"" + type +
                            "\",\n   \"kwargs\": {" + kwargs + "}}]}",
                        "ge.json");
    return r.ok() ? "ok" : r.status().message();
  };
  EXPECT_EQ(ge("expect_column_values_to_be_between", R"("column": "age", "min_value": "zz")"),
            "ge.json:2: check 'expect_column_values_to_be_between': key 'min_value': expected a "
            "number, an ISO-8601 timestamp or null, got \"zz\"");
  EXPECT_EQ(ge("expect_column_mean_to_be_between", R"("column": "age", "max_value": [1])"),
            "ge.json:2: check 'expect_column_mean_to_be_between': key 'max_value': expected a "
            "number, an ISO-8601 timestamp or null");
  // Counts and lengths take numbers only.
  EXPECT_EQ(ge("expect_table_row_count_to_be_between", R"("min_value": "2020-01-01")"),
            "ge.json:2: check 'expect_table_row_count_to_be_between': key 'min_value': expected "
            "a number or null, got \"2020-01-01\"");
  EXPECT_EQ(ge("expect_column_value_lengths_to_equal", R"("column": "s", "value": "three")"),
            "ge.json:2: check 'expect_column_value_lengths_to_equal': key 'value': expected a "
            "number or null, got \"three\"");
  EXPECT_EQ(
      ge("expect_column_quantile_values_to_be_between",
         R"("column": "x", "quantile_ranges": {"quantiles": [0.5], "value_ranges": [["a", 1]]})"),
      "ge.json:2: check 'expect_column_quantile_values_to_be_between': key 'value_ranges': "
      "expected a number, an ISO-8601 timestamp or null, got \"a\"");
  EXPECT_EQ(ge("expect_column_to_exist", R"("column": "a", "column_index": "first")"),
            "ge.json:2: check 'expect_column_to_exist': key 'column_index': expected a whole "
            "number or null, got \"first\"");
  EXPECT_EQ(ge("expect_column_values_to_be_between",
               R"("column": "age", "min_value": 1, "strict_min": "yes please")"),
            "ge.json:2: check 'expect_column_values_to_be_between': key 'strict_min': expected "
            "true or false, got \"yes please\"");
  // What is well typed still loads: numbers, numbers as strings, timestamps, null.
  EXPECT_EQ(ge("expect_column_values_to_be_between",
               R"("column": "t", "min_value": "2020-01-01T00:00:00", "max_value": null)"),
            "ok");
  EXPECT_EQ(ge("expect_column_values_to_be_between", R"("column": "a", "min_value": "5")"), "ok");
  EXPECT_EQ(ge("expect_column_to_exist", R"("column": "a", "column_index": 0)"), "ok");
  EXPECT_EQ(LoadError("checks:\n  - row_count: {min: lots}\n"),
            "s.yaml:2: check 'row_count': key 'min': expected a number or null, got \"lots\"");
}

}  // namespace
}  // namespace plinth::quality
