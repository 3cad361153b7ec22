// Running a Suite against a Table: one CheckResult per check, in suite order.
//
// Semantics follow Great Expectations: a value check counts nulls as neither
// passing nor failing (except not_null, which is about nulls), `mostly` is the
// fraction of evaluated (non-null) values that must pass, and
// unexpected_percent is relative to the evaluated values. A check that cannot
// run on this data (a missing column, a text column given to `between`) fails
// with a message saying why. Checks run in parallel; the report is the same
// whatever the thread count.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "quality/suite.h"
#include "table/table.h"

namespace plinth::quality {

struct FailingRow {
  int64_t row;        // 0-based data row (the pandas index)
  std::string value;  // the offending value(s), "a=1, b=2" for several columns
};

struct CheckResult {
  std::string label;
  std::string name;
  std::string where;
  Severity severity = Severity::kError;
  std::vector<std::string> columns;
  bool success = false;
  bool per_value = false;     // judged value by value: the unexpected counts apply
  core::Json observed;        // the measured value (fraction, statistic, count, type...)
  std::string expected;       // what would pass, for people: "<= 0.05", "in [17, 90]"
  int64_t element_count = 0;  // rows considered
  int64_t evaluated = 0;      // values judged (non-null, unless the check is about nulls)
  int64_t unexpected = 0;
  double unexpected_percent = 0;
  std::vector<FailingRow> failing;  // the first max_failing_rows
  std::string error;                // set when the check could not run
};

struct ValidationReport {
  std::string suite_name;
  std::string suite_source;
  std::string data_source;
  int64_t rows = 0;
  size_t columns = 0;
  std::vector<CheckResult> results;

  // True when every error-level check passed.
  bool success() const;
  int passed() const;
  int failed_errors() const;
  int failed_warnings() const;
};

struct ValidateOptions {
  size_t threads = 0;  // 0: one per hardware thread
};

// Runs every check of `suite` on `data`.
ValidationReport RunSuite(const Suite& suite, const table::Table& data,
                          const ValidateOptions& options = {});

// The JSON report ("plinth.validation/v1", docs/FORMATS.md).
core::Json ReportToJson(const ValidationReport& report);
// One line per check and a summary, for the terminal.
std::string FormatReportText(const ValidationReport& report);
// A self-contained HTML page.
std::string RenderReportHtml(const ValidationReport& report);

}  // namespace plinth::quality
