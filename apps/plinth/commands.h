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
struct ServerOptions;
}  // namespace plinth::http

namespace plinth::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;  // the data or model did not pass
inline constexpr int kExitBadInput = 2;     // usage, bad file, bad config
inline constexpr int kExitInternal = 3;     // a bug or an environment failure

// Prints "plinth: error: MESSAGE" to stderr and returns the exit code for `status`.
int ReportError(const Status& status);

// The message for a command line `app` failed to parse with `error`. A word
// where a command was expected is named: "unknown command 'frobnicate' for
// 'plinth models'; expected one of ..." (CLI11 says only "A subcommand is required").
std::string ParseErrorMessage(CLI::App& app, const CLI::ParseError& error);

// The most threads or parallel jobs any flag or config asks for: more only
// costs memory and start-up time on any machine Plinth runs on.
inline constexpr int64_t kMaxThreads = 1024;
// Checks a thread or job count flag as CLI11 reads it: an integer from `min`
// (0 meaning one per core, where the flag allows it) to kMaxThreads, else
// "--jobs: expected a whole number from 1 to 1024, got \"-1\"".
CLI::Validator ThreadCount(int64_t min);

// Where and how an HTTP command listens: --host, --port, --threads,
// --max-body-mb, --request-timeout, --keep-alive, --max-connections. Numbers
// are signed, so that -1 is refused rather than wrapped.
struct ListenFlags {
  std::string host = "127.0.0.1";
  int64_t port = 0;
  int64_t threads = 2;
  int64_t max_body_mb = 16;
  int64_t request_timeout = 30;  // seconds to read one whole request
  int64_t keep_alive = 60;       // seconds a connection may wait idle for its next request
  int64_t max_connections = 4096;
  int64_t max_connections_per_client = 0;  // 0: no per-client cap
  double rate_limit = 0;                   // requests per second per client; 0: none
  std::string tls_cert = {};               // PEM files; both or neither
  std::string tls_key = {};
  // "https" with a certificate, else "http": for the banner.
  std::string scheme() const { return tls_cert.empty() ? "http" : "https"; }
};
void AddListenFlags(CLI::App& cmd, ListenFlags& flags);
// The server options the flags give; InvalidArgument naming a flag out of range.
Result<http::ServerOptions> ToServerOptions(const ListenFlags& flags);

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
void RegisterMonitor(CLI::App& app, Runner& run);  // monitor drift
void RegisterServer(CLI::App& app, Runner& run);
void RegisterServe(CLI::App& app, Runner& run);
void RegisterPredict(CLI::App& app, Runner& run);
void RegisterTracking(CLI::App& app, Runner& run);  // experiments, runs, lineage
// models ls|versions|alias|stage|history|protect|unprotect|approve
void RegisterRegistry(CLI::App& models, Runner& run);
void RegisterModelTest(CLI::App& models, Runner& run);    // models test
void RegisterDeploy(CLI::App& app, Runner& run);          // deploy, rollback, status
void RegisterFeatures(CLI::App& app, Runner& run);        // features ...
void RegisterCompareLive(CLI::App& models, Runner& run);  // models compare-live

// plinth models test's flags, and the command itself, as plinth deploy runs it too.
struct ModelTestFlags {
  std::string model;
  std::string gates;
  std::string data;
  std::string url;
  std::string json_out;
  std::string html_out;
  int threads = 2;
  bool no_record = false;
  bool quiet = false;
};
// Runs the gates on the model, prints the table, records the result; the exit code. `run_id`
// (when not null) gets the recorded run's id.
struct TrackingFlags;  // tracking_context.h
int RunModelTest(const ModelTestFlags& f, const TrackingFlags& store_flags,
                 std::string* run_id = nullptr);

}  // namespace plinth::cli
