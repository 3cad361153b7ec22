// plinth server: the control plane (MLflow's REST API over the metadata store).
#include <cstdio>
#include <cstdlib>

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
  std::string default_artifact_root = "mlflow-artifacts:";
  bool auth = false;
  std::string auth_config;
  std::string app_name;
  // Artifact uploads are large: a long request timeout, a large body.
  ListenFlags listen{.port = 5000, .threads = 4, .max_body_mb = 64, .request_timeout = 300};
};

int RunServer(const ServerFlags& f) {
  Result<http::ServerOptions> options = ToServerOptions(f.listen);
  if (!options.ok()) {
    return ReportError(options.status());
  }
  std::string store = f.store;
  std::string artifacts = f.artifacts_root;
  if (store.empty() || artifacts.empty()) {
    Result<data::Project> project = data::Project::Find(".");
    if (!project.ok()) {
      // Name the flag that is missing: with --store given, that is --artifacts-root.
      return ReportError(InvalidArgument(
          store.empty() ? "--store: not given and no Plinth project here (run 'plinth init' or "
                          "pass --store sqlite:///PATH or postgresql://...)"
                        : "--artifacts-root: not given and no Plinth project here to default "
                          "to (pass --artifacts-root DIR with --store outside a project)"));
    }
    if (store.empty()) {
      store = "sqlite:///" + project->root() + "/.plinth/plinth.db";
    }
    if (artifacts.empty()) {
      artifacts = project->root() + "/.plinth/artifacts";
    }
  }
  Result<std::string> root = server::DefaultArtifactRoot(f.default_artifact_root);
  if (!root.ok()) {
    return ReportError(root.status().WithPrefix("--default-artifact-root"));
  }
  server::ApiOptions api_options{store, artifacts, PLINTH_VERSION, *root};
  api_options.max_body_bytes = static_cast<uint64_t>(f.listen.max_body_mb) << 20;
  if (!f.app_name.empty() && f.app_name != "basic-auth") {
    return ReportError(
        InvalidArgument("--app-name: expected basic-auth (MLflow's name for "
                        "--auth), got '" +
                        f.app_name + "'"));
  }
  if (f.auth || f.app_name == "basic-auth") {
    // As MLflow: the config file from MLFLOW_AUTH_CONFIG_PATH when no flag names one.
    std::string config = f.auth_config;
    const char* env = std::getenv("MLFLOW_AUTH_CONFIG_PATH");
    if (config.empty() && env != nullptr) {
      config = env;
    }
    if (config.empty()) {
      return ReportError(InvalidArgument(
          "--auth: needs --auth-config FILE (MLflow's basic_auth.ini keys: default_permission, "
          "admin_username, admin_password) or MLFLOW_AUTH_CONFIG_PATH; Plinth has no built-in "
          "admin password"));
    }
    Result<server::AuthOptions> auth = server::ReadAuthConfig(config);
    if (!auth.ok()) {
      return ReportError(auth.status().WithPrefix("--auth-config"));
    }
    api_options.auth = std::move(*auth);
  }
  Result<std::unique_ptr<server::MlflowApi>> api = server::MlflowApi::Create(api_options);
  if (!api.ok()) {
    return ReportError(api.status().WithPrefix("--store"));
  }
  server::MlflowApi* handler = api->get();
  http::Server srv(
      *options,
      [handler](http::Request r, http::Responder respond) {
        handler->Handle(std::move(r), std::move(respond));
      },
      server::MlflowHttpError);
  return ServeUntilStopped(srv, "server", [&](int port) {
    return "MLflow REST API on " + f.listen.scheme() + "://" + f.listen.host + ":" +
           std::to_string(port) + " (store " + store + ")";
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
  cmd->add_option("--default-artifact-root", flags->default_artifact_root,
                  "where new experiments keep artifacts, as MLflow's flag: mlflow-artifacts: "
                  "(the default: proxied, under --artifacts-root), a local path or file:// URI "
                  "(clients write there themselves), or a URI clients can reach (s3://..., "
                  "http://HOST/api/2.0/mlflow-artifacts/artifacts)");
  cmd->add_flag("--auth", flags->auth,
                "require a user on every request (HTTP Basic or a bearer JWT) and check MLflow's "
                "per-experiment and per-model permissions; serves MLflow's auth API");
  cmd->add_option("--auth-config", flags->auth_config,
                  "with --auth: MLflow's basic_auth.ini (default_permission, admin_username, "
                  "admin_password; jwt_secret for bearer tokens); default "
                  "$MLFLOW_AUTH_CONFIG_PATH");
  cmd->add_option("--app-name", flags->app_name,
                  "MLflow's flag: basic-auth is --auth (the only app Plinth has)");
  AddListenFlags(*cmd, flags->listen);
  cmd->callback([flags, &run] { run = [flags] { return RunServer(*flags); }; });
}

}  // namespace plinth::cli
