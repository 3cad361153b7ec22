// Drift of a whole table against a reference table: every column compared with its
// test (monitor/drift.h: Evidently's defaults, or a rule per column from a YAML file),
// and dataset drift when at least `drift_share` of the compared columns drift
// (Evidently's rule, 0.5 by default). Renders as a terminal table, JSON and an HTML
// report with the reference and current distributions overlaid per column.
//
// The rules file (docs/MONITORING.md):
//   drift_share: 0.5      # dataset drift when at least this share of columns drift
//   min_values: 30        # fewer values (after missing ones) in either sample: "not enough data"
//   columns:
//     age: {method: psi, threshold: 0.2}
//     fnlwgt: {ignore: true}
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "monitor/drift.h"
#include "table/table.h"

namespace YAML {
class Node;
}

namespace plinth::monitor {

struct ColumnRule {
  std::optional<Method> method;
  std::optional<double> threshold;
  bool ignore = false;
};

struct DriftRules {
  double drift_share = 0.5;
  int64_t min_values = 30;
  std::map<std::string, ColumnRule> columns;
};

// Errors name the file, line and key ("drift.yaml:4: key 'method': ...").
Result<DriftRules> ParseDriftRules(std::string_view yaml, std::string_view source);
Result<DriftRules> ReadDriftRules(const std::string& path);
// The rules in a parsed YAML node (a section of a larger file, e.g. monitoring.yaml).
Result<DriftRules> DriftRulesFromYaml(const YAML::Node& root, std::string_view source);

// What a compared column is: an input feature (counted in the dataset drift share), one
// of the model's outputs (prediction drift: `prediction`, `probability_<label>`) or the
// label (target drift). Only features decide dataset drift.
enum class Role { kFeature, kPrediction, kTarget };
std::string_view RoleName(Role role);  // feature, prediction, target
// The role by name: `prediction` and `probability_*` are outputs, `target` the label.
Role RoleOf(std::string_view column, std::string_view target);

struct ColumnReport {
  std::string name;
  Role role = Role::kFeature;
  bool numeric = true;
  // Empty when compared; else why not ("not enough data: 12 values in the current
  // sample, 30 needed", "ignored by the rules", "timestamps are not compared").
  std::string skipped;
  ColumnDrift drift;
  // The two distributions for the report: bins (numbers) or the most frequent
  // categories, and each sample's share in them.
  std::vector<std::string> bins;
  std::vector<double> reference_shares, current_shares;
};

struct DriftReport {
  std::string reference_source, current_source;
  int64_t reference_rows = 0, current_rows = 0;
  std::vector<ColumnReport> columns;
  int64_t compared = 0, drifted = 0;  // features
  double share = 0;                   // drifted / compared
  double drift_share = 0.5;
  bool dataset_drift = false;
  // The model's outputs: drifted when one of them drifts (nullopt: none compared).
  std::optional<bool> prediction_drift;
  std::optional<double> prediction_score;  // the `prediction` column's score
  std::optional<bool> target_drift;        // the label, when both samples have it
};

// Compares every column of `reference` (present in `current` with a comparable type:
// kInvalidArgument naming a column that is missing or of another kind). `only`, when
// not empty, restricts the comparison to those columns (each must exist). Columns are
// features unless `target` names the label column or RoleOf calls them outputs. Without
// `distributions`, the columns' bins and shares (for the reports) are not made.
Result<DriftReport> CompareTables(const table::Table& reference, const table::Table& current,
                                  const DriftRules& rules,
                                  const std::vector<std::string>& only = {},
                                  std::string_view target = {}, bool distributions = true);

core::Json DriftReportToJson(const DriftReport& report);
std::string FormatDriftText(const DriftReport& report);
std::string RenderDriftHtml(const DriftReport& report);
// Parts of the page, for other reports: the sources and verdicts; the per-column table
// with the distributions overlaid.
std::string DriftSummaryHtml(const DriftReport& report);
std::string DriftTableHtml(const DriftReport& report);

}  // namespace plinth::monitor
