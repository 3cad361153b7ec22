// Data-quality suites: a list of checks loaded from YAML (Plinth's form) or
// from a Great Expectations expectation suite saved as JSON (0.x and 1.x shapes).
//
// Plinth's form (docs/FORMATS.md):
//   name: adult-raw
//   defaults: {severity: error, max_failing_rows: 20}
//   checks:
//     - completeness: {column: workclass, max_null_fraction: 0.06}
//     - between: {column: age, min: 17, max: 90}
//       severity: warn
//     - rule: {expr: "capital_gain >= 0 or capital_gain is null"}
//     - expect_column_values_to_be_in_set: {column: sex, value_set: [Male, Female], mostly: 0.99}
// Every check name of Great Expectations listed in docs/FORMATS.md is accepted
// with its own keyword arguments. Loading validates every key: an unknown
// check, an unknown or missing key, or a value of the wrong kind is an error
// naming the file, the line and the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "table/types.h"

namespace plinth::quality {

enum class Severity { kError, kWarn };

enum class CheckKind {
  kColumnExists,
  kNotNull,
  kCompleteness,
  kDuplicateRows,
  kUnique,
  kBetween,
  kInSet,
  kNotInSet,
  kRegex,
  kNotRegex,
  kType,
  kStringLength,
  kRule,
  kRowCount,
  kColumnCount,
  kStat,
  kColumnsMatchSet,
  kColumnsMatchList,
};

enum class Stat { kMean, kMedian, kStd, kMin, kMax, kSum, kQuantile, kDistinct, kDistinctFraction };

// A value as written in a suite: kept as text (so it can be read in the
// column's own type) with a note of whether it was a YAML/JSON string.
struct Literal {
  std::string text;
  bool is_null = false;
};

struct Check {
  std::string name;   // as written: "between", "expect_column_values_to_be_between", ...
  std::string label;  // the user's `name`, or a generated "between(age)"
  std::string where;  // "suite.yaml:12"
  CheckKind kind = CheckKind::kColumnExists;
  Severity severity = Severity::kError;
  std::vector<std::string> columns;  // the column, or the key columns of unique
  std::optional<Literal> min, max;   // between, string_length, stats, counts
  bool strict_min = false, strict_max = false;
  double mostly = 1.0;                 // fraction of evaluated values that must pass
  double max_fraction = 0;             // completeness, duplicate_rows
  std::vector<Literal> values;         // in_set, not_in_set
  std::string pattern;                 // regex, not_regex
  std::vector<table::DataType> types;  // type
  std::string expr;                    // rule
  Stat stat = Stat::kMean;
  std::vector<double> quantiles;  // quantile checks
  std::vector<std::pair<std::optional<Literal>, std::optional<Literal>>>
      ranges;               // one per quantile
  bool exact_match = true;  // columns_match_set
  int64_t max_failing_rows = 20;
};

struct Suite {
  std::string name;
  std::string source;  // the file it came from
  std::vector<Check> checks;
};

// Loads the suite at `path`: YAML in Plinth's form, or JSON in either form.
Result<Suite> LoadSuite(const std::string& path);
// Parses suite `text`; `source` names it in errors.
Result<Suite> ParseSuite(std::string_view text, std::string_view source);

std::string_view SeverityName(Severity s);

}  // namespace plinth::quality
