// plinth serve: the data plane (one model bundle behind /predict and friends).
#include <cstdio>
#include <filesystem>
#include <optional>

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
  ListenFlags listen{.port = 8080};
  int64_t max_rows = 10000;  // signed, so that -1 is refused rather than wrapped
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
  Result<http::ServerOptions> http_options = ToServerOptions(f.listen);
  if (!http_options.ok()) {
    return ReportError(http_options.status());
  }
  if (f.max_rows < 1 || f.max_rows > (int64_t{1} << 30)) {
    return ReportError(InvalidArgument("--max-rows " + std::to_string(f.max_rows) +
                                       ": expected 1 to " + std::to_string(int64_t{1} << 30)));
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
  http::Server srv(
      *http_options, [&model](const http::Request& r) { return model.Handle(r); },
      serving::ModelServer::Error);
  return ServeUntilStopped(srv, "serve", [&](int port) {
    return options.model_name + " version " + options.model_version + " on http://" +
           f.listen.host + ":" + std::to_string(port) + " (POST /predict)";
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
  AddListenFlags(*cmd, flags->listen);
  cmd->add_option("--max-rows", flags->max_rows, "most rows in one request")->capture_default_str();
  cmd->callback([flags, &run] { run = [flags] { return RunServe(*flags); }; });
}

}  // namespace plinth::cli
