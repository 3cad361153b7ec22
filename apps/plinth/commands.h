// The plinth command line: each command group registers its subcommand on the
// app and runs by calling library functions. No logic lives here beyond
// parsing flags and printing results.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "table/csv_reader.h"

namespace plinth::http {
class Server;
}  // namespace plinth::http

namespace plinth::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;  // the data or model did not pass
inline constexpr int kExitBadInput = 2;     // usage, bad file, bad config
inline constexpr int kExitInternal = 3;     // a bug or an environment failure

// Prints "plinth: error: MESSAGE" to stderr and returns the exit code for `status`.
int ReportError(const Status& status);

// Listens, prints "plinth COMMAND: " + banner(port) on stderr, serves until
// SIGTERM or SIGINT, then prints "plinth COMMAND: stopped". The exit code.
int ServeUntilStopped(http::Server& server, const char* command,
                      const std::function<std::string(int port)>& banner);

// The CSV flags every command that reads data takes.
struct CsvFlags {
  std::string delimiter;
  std::vector<std::string> null_values;
  bool no_default_nulls = false;
  std::vector<std::string> types;  // NAME=TYPE
  std::string on_bad_lines = "error";
  bool no_header = false;
  size_t threads = 0;
  bool quiet = false;
};
void AddCsvFlags(CLI::App& cmd, CsvFlags& flags);
Result<table::CsvOptions> ToCsvOptions(const CsvFlags& flags);
// Writes an output file the user named (--json, --html, --report): parent
// directories are created, the write is atomic.
Status WriteOutput(const std::string& path, std::string_view content);

// With --on-bad-lines warn, prints what was skipped to stderr.
void ReportSkippedLines(const table::CsvInfo& info, const table::CsvOptions& options);

// A command's body: returns the process exit code.
using Runner = std::function<int()>;

// Each registers one subcommand and sets `run` to execute it when chosen.
void RegisterProfile(CLI::App& app, Runner& run);
void RegisterValidate(CLI::App& app, Runner& run);
void RegisterData(CLI::App& app, Runner& run);
void RegisterPipeline(CLI::App& app, Runner& run);
void RegisterTrain(CLI::App& app, Runner& run);  // train, evaluate
void RegisterModels(CLI::App& app, Runner& run);
void RegisterServer(CLI::App& app, Runner& run);
void RegisterServe(CLI::App& app, Runner& run);
void RegisterPredict(CLI::App& app, Runner& run);
void RegisterTracking(CLI::App& app, Runner& run);     // experiments, runs, lineage
void RegisterRegistry(CLI::App& models, Runner& run);  // models ls|versions|alias|stage|history

}  // namespace plinth::cli
