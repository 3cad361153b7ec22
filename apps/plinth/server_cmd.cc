// plinth server: the control plane (MLflow's REST API over the metadata store).
#include <cstdio>

#include "commands.h"
#include "core/file.h"
#include "data/project.h"
#include "http/server.h"
#include "server/mlflow_api.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth::cli {
namespace {

struct ServerFlags {
  std::string store;
  std::string artifacts_root;
  std::string host = "127.0.0.1";
  int port = 5000;
  int threads = 4;
  int64_t max_body_mb = 64;  // signed, so that -1 is refused rather than wrapped
};

int RunServer(const ServerFlags& f) {
  std::string store = f.store;
  std::string artifacts = f.artifacts_root;
  if (store.empty() || artifacts.empty()) {
    Result<data::Project> project = data::Project::Find(".");
    if (!project.ok()) {
      return ReportError(InvalidArgument(
          "--store: not given and no Plinth project here (run 'plinth init' or pass --store "
          "sqlite:///PATH or postgresql://...)"));
    }
    if (store.empty()) {
      store = "sqlite:///" + project->root() + "/.plinth/plinth.db";
    }
    if (artifacts.empty()) {
      artifacts = project->root() + "/.plinth/artifacts";
    }
  }
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
  server::ApiOptions api_options{store, artifacts, PLINTH_VERSION};
  Result<std::unique_ptr<server::MlflowApi>> api = server::MlflowApi::Create(api_options);
  if (!api.ok()) {
    return ReportError(api.status().WithPrefix("--store"));
  }
  http::ServerOptions options;
  options.host = f.host;
  options.port = f.port;
  options.threads = f.threads;
  options.max_body_bytes = static_cast<uint64_t>(f.max_body_mb) << 20;
  server::MlflowApi* handler = api->get();
  http::Server srv(
      options,
      [handler](http::Request r, http::Responder respond) {
        handler->Handle(std::move(r), std::move(respond));
      },
      server::MlflowHttpError);
  return ServeUntilStopped(srv, "server", [&](int port) {
    return "MLflow REST API on http://" + f.host + ":" + std::to_string(port) + " (store " + store +
           ")";
  });
}

}  // namespace

void RegisterServer(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "server", "Serve the MLflow-compatible tracking API over the metadata store");
  cmd->add_option("--store", flags->store,
                  "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB (default: the "
                  "project's .plinth/plinth.db)");
  cmd->add_option("--artifacts-root", flags->artifacts_root,
                  "the directory behind the proxied artifact URIs mlflow-artifacts:/... "
                  "(default: the project's .plinth/artifacts)");
  cmd->add_option("--host", flags->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->port, "port (0 = any free port)")->capture_default_str();
  cmd->add_option("--threads", flags->threads, "I/O threads")->capture_default_str();
  cmd->add_option("--max-body-mb", flags->max_body_mb, "largest request body, MiB")
      ->capture_default_str();
  cmd->callback([flags, &run] { run = [flags] { return RunServer(*flags); }; });
}

}  // namespace plinth::cli
