// plinth monitor drift --reference FILE --current FILE [--rules drift.yaml] [--json OUT]
//                      [--html OUT] [--columns A,B]
#include <cstdio>

#include "commands.h"
#include "core/json.h"
#include "monitor/dataset_drift.h"

namespace plinth::cli {
namespace {

struct DriftFlags {
  std::string reference;
  std::string current;
  std::string rules;
  std::string json_out;
  std::string html_out;
  std::vector<std::string> columns;
  CsvFlags csv;
};

int RunDrift(const DriftFlags& f) {
  auto csv = ToCsvOptions(f.csv);
  if (!csv.ok()) {
    return ReportError(csv.status());
  }
  monitor::DriftRules rules;
  if (!f.rules.empty()) {
    Result<monitor::DriftRules> read = monitor::ReadDriftRules(f.rules);
    if (!read.ok()) {
      return ReportError(read.status());
    }
    rules = std::move(*read);
  }
  auto reference = table::ReadCsv(f.reference, *csv);
  if (!reference.ok()) {
    return ReportError(reference.status());
  }
  ReportSkippedLines(reference->info, *csv);
  auto current = table::ReadCsv(f.current, *csv);
  if (!current.ok()) {
    return ReportError(current.status());
  }
  ReportSkippedLines(current->info, *csv);
  auto report = monitor::CompareTables(reference->table, current->table, rules, f.columns);
  if (!report.ok()) {
    return ReportError(report.status());
  }
  report->reference_source = f.reference;
  report->current_source = f.current;
  if (!f.json_out.empty()) {
    Status s = WriteOutput(f.json_out, core::DumpJson(monitor::DriftReportToJson(*report)) + "\n");
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.html_out.empty()) {
    Status s = WriteOutput(f.html_out, monitor::RenderDriftHtml(*report));
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.csv.quiet) {
    std::fputs(monitor::FormatDriftText(*report).c_str(), stdout);
  }
  return report->dataset_drift ? kExitCheckFailed : kExitOk;
}

}  // namespace

void RegisterMonitor(CLI::App& app, Runner& run) {
  CLI::App* monitor = app.add_subcommand("monitor", "Drift of data and models against a reference");
  monitor->require_subcommand(1);
  auto flags = std::make_shared<DriftFlags>();
  CLI::App* cmd = monitor->add_subcommand(
      "drift",
      "Data drift of a current CSV file against a reference one, per column with Evidently's "
      "tests; exit 1 when the dataset drifts");
  cmd->add_option("--reference", flags->reference, "the reference data (CSV, .csv.gz)")->required();
  cmd->add_option("--current", flags->current, "the current data (CSV, .csv.gz)")->required();
  cmd->add_option("--rules", flags->rules,
                  "YAML: drift_share, min_values, and per column method, threshold, ignore "
                  "(docs/MONITORING.md)");
  cmd->add_option("--columns", flags->columns, "compare only these columns")->delimiter(',');
  cmd->add_option("--json", flags->json_out, "write the report as JSON");
  cmd->add_option("--html", flags->html_out,
                  "write an HTML report with each column's distributions overlaid");
  AddCsvFlags(*cmd, flags->csv);
  cmd->callback([flags, &run] { run = [flags] { return RunDrift(*flags); }; });
}

}  // namespace plinth::cli
