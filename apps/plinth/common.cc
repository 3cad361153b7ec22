#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <tuple>

#include "commands.h"
#include "core/file.h"
#include "http/server.h"

namespace plinth::cli {

int ReportError(const Status& status) {
  // One line, whatever a file name or a library quoted into the message.
  std::fprintf(stderr, "plinth: error: %s\n", EscapeControl(status.message()).c_str());
  switch (status.code()) {
    case StatusCode::kInternal:
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
      return kExitInternal;
    default:
      return kExitBadInput;
  }
}

std::string ParseErrorMessage(CLI::App& app, const CLI::ParseError& error) {
  // The innermost command given, and the first word none of them took.
  CLI::App* command = &app;
  std::string path = app.get_name();
  while (!command->get_subcommands().empty()) {
    command = command->get_subcommands().front();
    path += " " + command->get_name();
  }
  std::string names;
  for (const CLI::App* sub : command->get_subcommands([](CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  if (names.empty()) {
    return error.what();
  }
  for (const std::string& word : app.remaining(/*recurse=*/true)) {
    if (!word.empty() && word.front() != '-') {
      return "unknown command '" + word + "' for '" + path + "'; expected one of " + names;
    }
  }
  if (std::string_view(error.what()).find("subcommand") != std::string_view::npos) {
    return "'" + path + "' needs a command: one of " + names;
  }
  return error.what();
}

CLI::Validator ThreadCount(int64_t min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        int64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size() || v < min || v > kMaxThreads) {
          return "expected a whole number from " + std::to_string(min) + " to " +
                 std::to_string(kMaxThreads) + ", got \"" + text + "\"";
        }
        return "";
      },
      "INT in [" + std::to_string(min) + ".." + std::to_string(kMaxThreads) + "]");
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
  cmd.add_option("--threads", f.threads, "parser threads (default: one per core)")
      ->check(ThreadCount(0));
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

void AddListenFlags(CLI::App& cmd, ListenFlags& flags) {
  cmd.add_option("--host", flags.host, "address to listen on")->capture_default_str();
  cmd.add_option("--port", flags.port, "port (0 = any free port)")->capture_default_str();
  cmd.add_option("--threads", flags.threads, "I/O threads")->capture_default_str();
  cmd.add_option("--max-body-mb", flags.max_body_mb, "largest request body, MiB")
      ->capture_default_str();
  cmd.add_option("--request-timeout", flags.request_timeout,
                 "seconds to read one whole request (then the connection is closed)")
      ->capture_default_str();
  cmd.add_option("--keep-alive", flags.keep_alive,
                 "seconds an idle keep-alive connection is kept open")
      ->capture_default_str();
  cmd.add_option("--max-connections", flags.max_connections,
                 "open connections at most (more are closed at once)")
      ->capture_default_str();
  cmd.add_option("--max-connections-per-client", flags.max_connections_per_client,
                 "open connections from one client address at most (more get 429); 0: no cap")
      ->capture_default_str();
  cmd.add_option("--rate-limit", flags.rate_limit,
                 "requests per second from one client address (more get 429 with Retry-After; "
                 "bursts of one second's worth); 0: no limit")
      ->capture_default_str();
  cmd.add_option("--tls-cert", flags.tls_cert,
                 "serve HTTPS (TLS 1.2+) with this PEM certificate chain (with --tls-key)");
  cmd.add_option("--tls-key", flags.tls_key, "the PEM private key of --tls-cert");
}

Result<http::ServerOptions> ToServerOptions(const ListenFlags& f) {
  for (const auto& [flag, value, low, high] :
       {std::tuple{"--port", f.port, int64_t{0}, int64_t{65535}},
        std::tuple{"--threads", f.threads, int64_t{1}, int64_t{1024}},
        std::tuple{"--max-body-mb", f.max_body_mb, int64_t{1}, int64_t{1} << 20},
        std::tuple{"--request-timeout", f.request_timeout, int64_t{1}, int64_t{86400}},
        std::tuple{"--keep-alive", f.keep_alive, int64_t{1}, int64_t{86400}},
        std::tuple{"--max-connections", f.max_connections, int64_t{1}, int64_t{1} << 20},
        std::tuple{"--max-connections-per-client", f.max_connections_per_client, int64_t{0},
                   int64_t{1} << 20}}) {
    if (value < low || value > high) {
      return InvalidArgument(std::string(flag) + " " + std::to_string(value) + ": expected " +
                             std::to_string(low) + " to " + std::to_string(high));
    }
  }
  http::ServerOptions options;
  options.host = f.host;
  options.port = static_cast<int>(f.port);
  options.threads = static_cast<int>(f.threads);
  options.max_body_bytes = static_cast<uint64_t>(f.max_body_mb) << 20;
  options.request_timeout_seconds = static_cast<int>(f.request_timeout);
  options.idle_timeout_seconds = static_cast<int>(f.keep_alive);
  options.max_connections = static_cast<int>(f.max_connections);
  if (!(f.rate_limit >= 0 && f.rate_limit <= 1e6)) {  // NaN too
    return InvalidArgument("--rate-limit " + std::to_string(f.rate_limit) +
                           ": expected 0 (no limit) to 1000000 requests per second");
  }
  options.max_connections_per_client = static_cast<int>(f.max_connections_per_client);
  options.requests_per_second_per_client = f.rate_limit;
  options.tls_cert_file = f.tls_cert;
  options.tls_key_file = f.tls_key;
  return options;
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
