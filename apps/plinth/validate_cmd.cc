// plinth validate FILE --suite SUITE [--report OUT.json] [--html OUT.html]
#include <cstdio>

#include "commands.h"
#include "core/file.h"
#include "core/json.h"
#include "quality/suite.h"
#include "quality/validate.h"
#include "table/reader.h"

namespace plinth::cli {
namespace {

struct ValidateFlags {
  std::string file;
  std::string suite;
  std::string report_out;
  std::string html_out;
  CsvFlags csv;
};

int RunValidate(const ValidateFlags& f) {
  auto csv = ToCsvOptions(f.csv);
  if (!csv.ok()) {
    return ReportError(csv.status());
  }
  // The suite first: a bad suite is reported before any data is read.
  auto suite = quality::LoadSuite(f.suite);
  if (!suite.ok()) {
    return ReportError(suite.status());
  }
  auto data = table::ReadTable(f.file, *csv);
  if (!data.ok()) {
    return ReportError(data.status());
  }
  ReportSkippedLines(data->info, *csv);
  quality::ValidateOptions opt;
  opt.threads = f.csv.threads;
  quality::ValidationReport report = quality::RunSuite(*suite, data->table, opt);
  report.data_source = f.file;
  if (!f.report_out.empty()) {
    Status s = WriteOutput(f.report_out, core::DumpJson(quality::ReportToJson(report)) + "\n");
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.html_out.empty()) {
    Status s = WriteOutput(f.html_out, quality::RenderReportHtml(report));
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.csv.quiet) {
    std::fputs(quality::FormatReportText(report).c_str(), stdout);
  }
  return report.success() ? kExitOk : kExitCheckFailed;
}

}  // namespace

void RegisterValidate(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<ValidateFlags>();
  CLI::App* cmd = app.add_subcommand("validate",
                                     "Check a CSV or Parquet file against a data-quality suite "
                                     "(exit 0 pass, 1 a check failed, 2 bad input)");
  cmd->add_option("FILE", flags->file,
                  "CSV file (.csv or .csv.gz), a .parquet file or a folder of them")
      ->required();
  cmd->add_option("-s,--suite", flags->suite,
                  "suite: Plinth YAML, or a Great Expectations expectation suite (JSON)")
      ->required();
  cmd->add_option("--report", flags->report_out, "write the report as JSON (docs/FORMATS.md)");
  cmd->add_option("--html", flags->html_out, "write the report as HTML");
  AddCsvFlags(*cmd, flags->csv);
  cmd->callback([flags, &run] { run = [flags] { return RunValidate(*flags); }; });
}

}  // namespace plinth::cli
