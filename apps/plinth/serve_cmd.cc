// plinth serve: the data plane (one model bundle behind /predict and friends).
#include <cstdio>
#include <filesystem>
#include <optional>
#include <tuple>

#include "commands.h"
#include "core/hash.h"
#include "http/server.h"
#include "serving/model_server.h"
#include "table/csv_reader.h"
#include "tracking_context.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth::cli {
namespace {

struct ServeFlags {
  std::string model;
  TrackingFlags tracking;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 2;
  int64_t max_body_mb = 16;  // signed, so that -1 is refused rather than wrapped
  int64_t max_rows = 10000;
  int64_t request_timeout = 30;  // seconds to read one whole request
  int64_t keep_alive = 60;       // seconds a connection may wait idle for its next request
  int64_t max_connections = 4096;
};

// The name and version answers report: the registry's for a models:/ URI
// (`registered`, when resolved), else the bundle's name and the first 12 hex
// digits of its plinth-model.json's SHA-256 (which changes whenever the bundle does).
Result<std::pair<std::string, std::string>> ModelIdentity(
    const std::string& dir, const ml::Predictor& predictor,
    const std::optional<tracking::ModelVersion>& registered) {
  if (registered) {
    return std::pair{registered->name, std::to_string(registered->version)};
  }
  PLINTH_ASSIGN_OR_RETURN(std::string digest, core::Sha256File(dir + "/plinth-model.json"));
  std::string name = predictor.meta().value("name", std::string());
  if (name.empty()) {
    name = std::filesystem::path(dir).filename().string();
  }
  return std::pair{name, digest.substr(0, 12)};
}

int RunServe(const ServeFlags& f) {
  if (f.port < 0 || f.port > 65535) {
    return ReportError(
        InvalidArgument("--port " + std::to_string(f.port) + ": expected 0 to 65535"));
  }
  if (f.threads < 1) {
    return ReportError(InvalidArgument("--threads: expected at least 1"));
  }
  if (f.max_body_mb < 1) {
    return ReportError(InvalidArgument("--max-body-mb: expected at least 1"));
  }
  for (const auto& [flag, value, top] :
       {std::tuple{"--max-rows", f.max_rows, int64_t{1} << 30},
        std::tuple{"--request-timeout", f.request_timeout, int64_t{86400}},
        std::tuple{"--keep-alive", f.keep_alive, int64_t{86400}},
        std::tuple{"--max-connections", f.max_connections, int64_t{1} << 20}}) {
    if (value < 1 || value > top) {
      return ReportError(InvalidArgument(std::string(flag) + " " + std::to_string(value) +
                                         ": expected 1 to " + std::to_string(top)));
    }
  }
  tracking::ModelVersion version;
  Result<std::string> dir = ResolveModel(f.model, f.tracking, &version);
  if (!dir.ok()) {
    return ReportError(dir.status().WithPrefix("MODEL"));
  }
  Result<std::unique_ptr<ml::Predictor>> predictor = ml::Predictor::Load(*dir);
  if (!predictor.ok()) {
    return ReportError(predictor.status());
  }
  // Requests run concurrently on the I/O threads, each predicting on its own.
  if (Status s = (*predictor)->SetPredictThreads(1); !s.ok()) {
    return ReportError(s);
  }
  std::optional<tracking::ModelVersion> registered;
  if (f.model.starts_with("models:/")) {
    registered = std::move(version);
  }
  auto identity = ModelIdentity(*dir, **predictor, registered);
  if (!identity.ok()) {
    return ReportError(identity.status().WithPrefix("MODEL"));
  }
  serving::ServeOptions options{
      identity->first, identity->second, PLINTH_VERSION,
      serving::InputLimits{static_cast<size_t>(f.max_rows), table::CsvOptions().null_values}};
  serving::ModelServer model(std::shared_ptr<const ml::Predictor>(std::move(*predictor)), options);
  http::ServerOptions http_options;
  http_options.host = f.host;
  http_options.port = f.port;
  http_options.threads = f.threads;
  http_options.max_body_bytes = static_cast<uint64_t>(f.max_body_mb) << 20;
  http_options.request_timeout_seconds = static_cast<int>(f.request_timeout);
  http_options.idle_timeout_seconds = static_cast<int>(f.keep_alive);
  http_options.max_connections = static_cast<int>(f.max_connections);
  http::Server srv(
      http_options, [&model](const http::Request& r) { return model.Handle(r); },
      serving::ModelServer::Error);
  return ServeUntilStopped(srv, "serve", [&](int port) {
    return options.model_name + " version " + options.model_version + " on http://" + f.host + ":" +
           std::to_string(port) + " (POST /predict)";
  });
}

}  // namespace

void RegisterServe(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a model bundle over HTTP (POST /predict)");
  cmd->add_option("MODEL", flags->model,
                  "a bundle directory, models:/NAME/VERSION, models:/NAME@ALIAS or "
                  "runs:/RUN_ID/PATH")
      ->required();
  AddTrackingUriFlag(*cmd, flags->tracking);
  cmd->add_option("--host", flags->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->port, "port (0 = any free port)")->capture_default_str();
  cmd->add_option("--threads", flags->threads, "I/O threads")->capture_default_str();
  cmd->add_option("--max-body-mb", flags->max_body_mb, "largest request body, MiB")
      ->capture_default_str();
  cmd->add_option("--max-rows", flags->max_rows, "most rows in one request")->capture_default_str();
  cmd->add_option("--request-timeout", flags->request_timeout,
                  "seconds to read one whole request (then the connection is closed)")
      ->capture_default_str();
  cmd->add_option("--keep-alive", flags->keep_alive,
                  "seconds an idle keep-alive connection is kept open")
      ->capture_default_str();
  cmd->add_option("--max-connections", flags->max_connections,
                  "open connections at most (more are closed at once)")
      ->capture_default_str();
  cmd->callback([flags, &run] { run = [flags] { return RunServe(*flags); }; });
}

}  // namespace plinth::cli
