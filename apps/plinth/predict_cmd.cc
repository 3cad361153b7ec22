// plinth predict: batch inference of a CSV or Parquet file with a model bundle.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "core/file.h"
#include "serving/batch.h"
#include "table/csv_reader.h"
#include "tracking_context.h"

namespace plinth::cli {
namespace {

struct PredictFlags {
  std::string model;
  TrackingFlags tracking;
  std::string input;
  std::string output;
  int64_t batch_size = 0;
  int64_t threads = 0;
  std::string shard;
  std::vector<std::string> keep_columns;
  std::string on_bad_rows = "error";
  bool quiet = false;
};

// "I/N" with 0 <= I < N.
Status ParseShard(const std::string& text, int64_t& index, int64_t& count) {
  const size_t slash = text.find('/');
  auto number = [](std::string_view s, int64_t& out) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    out = std::stoll(std::string(s));
    return true;
  };
  if (slash == std::string::npos || !number(std::string_view(text).substr(0, slash), index) ||
      !number(std::string_view(text).substr(slash + 1), count) || count < 1 || index >= count) {
    return InvalidArgument("--shard \"" + text + "\": expected I/N with 0 <= I < N, e.g. 0/4");
  }
  return Status::Ok();
}

std::string Thousands(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > (n < 0 ? 1 : 0); i -= 3) {
    s.insert(static_cast<size_t>(i), ",");
  }
  return s;
}

int RunPredict(const PredictFlags& f) {
  serving::BatchOptions options;
  options.input = f.input;
  options.output = f.output;
  options.keep_columns = f.keep_columns;
  options.progress = !f.quiet;
  options.null_values = table::CsvOptions().null_values;
  if (f.batch_size < 0) {
    return ReportError(InvalidArgument("--batch-size: expected 0 (whole chunks) or more"));
  }
  if (f.threads < 0) {
    return ReportError(InvalidArgument("--threads: expected 0 (one per core) or more"));
  }
  options.batch_size = f.batch_size;
  options.threads = static_cast<size_t>(f.threads);
  if (!f.shard.empty()) {
    if (Status s = ParseShard(f.shard, options.shard_index, options.shard_count); !s.ok()) {
      return ReportError(s);
    }
  }
  Result<serving::BadRows> bad = serving::ParseBadRows(f.on_bad_rows);
  if (!bad.ok()) {
    return ReportError(bad.status());
  }
  options.on_bad_rows = *bad;
  std::error_code ec;
  if (std::filesystem::equivalent(f.input, f.output, ec)) {
    return ReportError(InvalidArgument("--output: " + f.output + " is the input file"));
  }
  Result<std::string> dir = ResolveModel(f.model, f.tracking);
  if (!dir.ok()) {
    return ReportError(dir.status().WithPrefix("MODEL"));
  }
  Result<std::unique_ptr<ml::Predictor>> predictor = ml::Predictor::Load(*dir);
  if (!predictor.ok()) {
    return ReportError(predictor.status());
  }
  if (Status s = core::MakeParentDirs(f.output); !s.ok()) {
    return ReportError(s);
  }
  Result<serving::BatchSummary> summary = serving::ScoreCsvFile(**predictor, options);
  if (!summary.ok()) {
    return ReportError(summary.status());
  }
  const double rate =
      summary->seconds > 0 ? static_cast<double>(summary->rows) / summary->seconds : 0;
  std::printf("scored %s rows of %s in %.2f s (%s rows/s) -> %s\n",
              Thousands(summary->rows).c_str(), f.input.c_str(), summary->seconds,
              Thousands(static_cast<int64_t>(rate)).c_str(), f.output.c_str());
  if (summary->skipped_rows > 0 || summary->missing_values > 0) {
    std::printf("bad rows: %s skipped, %s values read as missing; the first:\n",
                Thousands(summary->skipped_rows).c_str(),
                Thousands(summary->missing_values).c_str());
    for (size_t i = 0; i < summary->examples.size() && i < 5; ++i) {
      std::printf("  %s\n", summary->examples[i].c_str());
    }
  }
  return kExitOk;
}

}  // namespace

void RegisterPredict(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<PredictFlags>();
  CLI::App* cmd = app.add_subcommand("predict", "Score a CSV or Parquet file with a model bundle");
  AddModelArgument(*cmd, flags->model);
  AddTrackingUriFlag(*cmd, flags->tracking);
  cmd->add_option("--input", flags->input,
                  "the file to score: CSV (plain or gzip), a .parquet file or a folder of them")
      ->required();
  cmd->add_option(
         "--output", flags->output,
         "the file to write, CSV, or Parquet when it ends in .parquet (replaced atomically)")
      ->required();
  cmd->add_option("--batch-size", flags->batch_size,
                  "rows per prediction (0: each chunk the reader delivers)")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "parser threads (0: one per core)")
      ->check(ThreadCount(0))
      ->capture_default_str();
  cmd->add_option("--shard", flags->shard,
                  "I/N: score only the I-th of N byte ranges of the input (0-based)");
  cmd->add_option("--keep-columns", flags->keep_columns,
                  "input columns copied to the output before the predictions")
      ->delimiter(',');
  cmd->add_option("--on-bad-rows", flags->on_bad_rows, "error, skip or null")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", flags->quiet, "no progress on stderr");
  cmd->callback([flags, &run] { run = [flags] { return RunPredict(*flags); }; });
}

}  // namespace plinth::cli
