// plinth profile FILE [--json OUT] [--html OUT]
#include <cstdio>

#include "commands.h"
#include "core/file.h"
#include "core/json.h"
#include "profile/profile.h"

namespace plinth::cli {
namespace {

struct ProfileFlags {
  std::string file;
  std::string json_out;
  std::string html_out;
  CsvFlags csv;
  int bins = 20;
  int64_t max_categories = 1000;
  int64_t sample_limit = 1'000'000;
};

int RunProfile(const ProfileFlags& f) {
  auto csv = ToCsvOptions(f.csv);
  if (!csv.ok()) {
    return ReportError(csv.status());
  }
  if (f.bins < 1 || f.bins > 1000) {
    return ReportError(
        InvalidArgument("--bins: expected 1 to 1000, got " + std::to_string(f.bins)));
  }
  if (f.sample_limit < 1 || f.max_categories < 1) {
    return ReportError(InvalidArgument("--sample-limit and --max-categories must be positive"));
  }
  profile::ProfileOptions opt;
  opt.histogram_bins = f.bins;
  opt.max_categories = f.max_categories;
  opt.sample_limit = f.sample_limit;
  opt.threads = f.csv.threads;
  auto result = profile::ProfileCsv(f.file, *csv, opt);
  if (!result.ok()) {
    return ReportError(result.status());
  }
  ReportSkippedLines(result->info, *csv);
  const profile::DatasetProfile* p = &result->profile;
  if (!f.json_out.empty()) {
    Status s = WriteOutput(f.json_out, core::DumpJson(profile::ProfileToJson(*p)) + "\n");
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.html_out.empty()) {
    Status s = WriteOutput(f.html_out, profile::RenderProfileHtml(*p));
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  if (!f.csv.quiet) {
    std::fputs(profile::FormatProfileText(*p).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace

void RegisterProfile(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<ProfileFlags>();
  CLI::App* cmd = app.add_subcommand(
      "profile",
      "Column statistics of a CSV or Parquet file (also the drift reference of a model)");
  cmd->add_option("FILE", flags->file,
                  "CSV file (.csv or .csv.gz), a .parquet file or a folder of them")
      ->required();
  cmd->add_option("--json", flags->json_out, "write the profile as JSON (docs/FORMATS.md)");
  cmd->add_option("--html", flags->html_out, "write an HTML report with histograms");
  cmd->add_option("--bins", flags->bins, "histogram bins per numeric column")
      ->capture_default_str();
  cmd->add_option("--max-categories", flags->max_categories, "category counts kept per text column")
      ->capture_default_str();
  cmd->add_option("--sample-limit", flags->sample_limit,
                  "values kept per column for exact quantiles; beyond, a uniform sample")
      ->capture_default_str();
  AddCsvFlags(*cmd, flags->csv);
  cmd->callback([flags, &run] { run = [flags] { return RunProfile(*flags); }; });
}

}  // namespace plinth::cli
