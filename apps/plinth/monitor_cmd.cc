// plinth monitor drift --reference FILE (--current FILE | --log DIR [--since T] [--until T])
//                      [--rules drift.yaml] [--json OUT] [--html OUT] [--columns A,B]
#include <cstdio>
#include <tuple>

#include "commands.h"
#include "core/json.h"
#include "monitor/dataset_drift.h"
#include "monitor/prediction_log.h"

namespace plinth::cli {
namespace {

struct DriftFlags {
  std::string reference;
  std::string current;
  std::string log;
  std::string since;
  std::string until;
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
  table::Table current;
  std::vector<std::string> columns = f.columns;
  std::string current_source = f.current;
  if (!f.log.empty()) {
    // A window of the prediction log: its features are what is compared.
    monitor::LogWindow window;
    for (const auto& [text, flag, slot] : {std::tuple{f.since, "--since", &window.since_us},
                                           std::tuple{f.until, "--until", &window.until_us}}) {
      if (!text.empty()) {
        Result<int64_t> us = monitor::ParseLogTime(text, flag);
        if (!us.ok()) {
          return ReportError(us.status());
        }
        *slot = *us;
      }
    }
    Result<monitor::LogRead> log = monitor::ReadPredictionLog(f.log, window);
    if (!log.ok()) {
      return ReportError(log.status());
    }
    if (log->skipped_lines > 0) {
      std::fprintf(stderr, "plinth: warning: %lld malformed log lines skipped, first: %s\n",
                   static_cast<long long>(log->skipped_lines), log->skipped.front().c_str());
    }
    if (columns.empty()) {
      // The features, and prediction drift where the reference has the model's outputs too
      // (as `plinth predict` names them: prediction, probability_<label>).
      columns = log->features;
      for (size_t i = 0; i < log->table.num_columns(); ++i) {
        const std::string& name = log->table.schema().field(i).name;
        const bool output = name == "prediction" || name.starts_with("probability_");
        if (output && reference->table.ColumnByName(name) != nullptr) {
          columns.push_back(name);
        }
      }
    }
    current = std::move(log->table);
    current_source = f.log + " (" + std::to_string(log->lines) + " requests" +
                     (f.since.empty() ? "" : " since " + f.since) +
                     (f.until.empty() ? "" : " until " + f.until) + ")";
  } else {
    auto read = table::ReadCsv(f.current, *csv);
    if (!read.ok()) {
      return ReportError(read.status());
    }
    ReportSkippedLines(read->info, *csv);
    current = std::move(read->table);
  }
  auto report = monitor::CompareTables(reference->table, current, rules, columns);
  if (!report.ok()) {
    return ReportError(report.status());
  }
  report->reference_source = f.reference;
  report->current_source = current_source;
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
  if (report->compared == 0) {  // never reported as "no drift"
    return ReportError(
        InvalidArgument("not enough data: no column has " + std::to_string(rules.min_values) +
                        " values in both samples (min_values), so drift could not be judged"));
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
  auto* current = cmd->add_option("--current", flags->current, "the current data (CSV, .csv.gz)");
  auto* log = cmd->add_option(
      "--log", flags->log,
      "the current data from plinth serve's prediction log directory (its features)");
  current->excludes(log);
  cmd->add_option("--since", flags->since, "with --log: requests from this time (UTC, ISO 8601)")
      ->needs(log);
  cmd->add_option("--until", flags->until, "with --log: requests before this time")->needs(log);
  cmd->add_option("--rules", flags->rules,
                  "YAML: drift_share, min_values, and per column method, threshold, ignore "
                  "(docs/MONITORING.md)");
  cmd->add_option("--columns", flags->columns, "compare only these columns")->delimiter(',');
  cmd->add_option("--json", flags->json_out, "write the report as JSON");
  cmd->add_option("--html", flags->html_out,
                  "write an HTML report with each column's distributions overlaid");
  AddCsvFlags(*cmd, flags->csv);
  cmd->callback([flags, &run] {
    if (flags->current.empty() && flags->log.empty()) {
      throw CLI::ValidationError("--current or --log", "one of them is required");
    }
    run = [flags] { return RunDrift(*flags); };
  });
}

}  // namespace plinth::cli
