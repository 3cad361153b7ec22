#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "core/file.h"
#include "http/server.h"

namespace plinth::cli {

int ReportError(const Status& status) {
  std::fprintf(stderr, "plinth: error: %s\n", status.message().c_str());
  switch (status.code()) {
    case StatusCode::kInternal:
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
      return kExitInternal;
    default:
      return kExitBadInput;
  }
}

void AddCsvFlags(CLI::App& cmd, CsvFlags& f) {
  cmd.add_option("--delimiter", f.delimiter,
                 "field delimiter: one character, or 'tab' (default: detected among , ; tab |)");
  cmd.add_option("--null-value", f.null_values,
                 "a text that means missing (repeatable; added to the defaults: empty, NA, N/A, "
                 "NaN, null, ?)");
  cmd.add_flag("--no-default-nulls", f.no_default_nulls,
               "only the --null-value texts (and the empty field) mean missing");
  cmd.add_option("--type", f.types,
                 "a column's type instead of the inferred one: NAME=TYPE "
                 "(int64, float64, bool, string, timestamp; repeatable)");
  cmd.add_option("--on-bad-lines", f.on_bad_lines,
                 "a line with the wrong number of fields: error, warn (skip and report) or skip")
      ->capture_default_str();
  cmd.add_flag("--no-header", f.no_header, "the first line is data; columns are column_1, ...");
  cmd.add_option("--threads", f.threads, "parser threads (default: one per core)");
  cmd.add_flag("-q,--quiet", f.quiet, "print no progress and no table");
}

Result<table::CsvOptions> ToCsvOptions(const CsvFlags& f) {
  table::CsvOptions opt;
  if (f.delimiter == "tab" || f.delimiter == "\\t") {
    opt.delimiter = '\t';
  } else if (f.delimiter.size() == 1) {
    opt.delimiter = f.delimiter[0];
    if (opt.delimiter == '"' || opt.delimiter == '\n' || opt.delimiter == '\r') {
      return InvalidArgument("--delimiter: a quote or line end cannot separate fields");
    }
  } else if (!f.delimiter.empty()) {
    return InvalidArgument("--delimiter: expected one character or 'tab', got \"" + f.delimiter +
                           "\"");
  }
  if (f.no_default_nulls) {
    opt.null_values = {""};
  }
  for (const auto& v : f.null_values) {
    opt.null_values.push_back(v);
  }
  for (const auto& spec : f.types) {
    size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--type: expected NAME=TYPE, got \"" + spec + "\"");
    }
    auto type = table::ParseTypeName(spec.substr(eq + 1));
    if (!type.ok()) {
      return InvalidArgument("--type " + spec + ": " + type.status().message());
    }
    opt.types[spec.substr(0, eq)] = *type;
  }
  PLINTH_ASSIGN_OR_RETURN(opt.on_bad_lines, table::ParseBadLines(f.on_bad_lines));
  opt.header = !f.no_header;
  opt.threads = f.threads;
  opt.progress = !f.quiet;
  return opt;
}

Status WriteOutput(const std::string& path, std::string_view content) {
  PLINTH_RETURN_IF_ERROR(core::MakeParentDirs(path));
  return core::AtomicWriteFile(path, content);
}

void ReportSkippedLines(const table::CsvInfo& info, const table::CsvOptions& options) {
  if (options.on_bad_lines != table::BadLines::kWarn || info.skipped_lines == 0) {
    return;
  }
  for (const auto& m : info.skipped_messages) {
    std::fprintf(stderr, "plinth: warning: %s\n", m.c_str());
  }
  std::fprintf(stderr, "plinth: warning: %lld bad lines skipped\n",
               static_cast<long long>(info.skipped_lines));
}

int ServeUntilStopped(http::Server& server, const char* command,
                      const std::function<std::string(int port)>& banner) {
  if (Status s = server.Listen(); !s.ok()) {
    return ReportError(s);
  }
  std::fprintf(stderr, "plinth %s: %s\n", command, banner(server.port()).c_str());
  std::fflush(stderr);
  server.Run(/*handle_signals=*/true);
  std::fprintf(stderr, "plinth %s: stopped\n", command);
  return kExitOk;
}

}  // namespace plinth::cli
