#include "tracking_context.h"

#include <cstdlib>

#include "data/project.h"
#include "tracking/client.h"
#include "tracking/model_uri.h"

namespace plinth::cli {

void AddTrackingUriFlag(CLI::App& cmd, TrackingFlags& flags) {
  cmd.add_option("--tracking-uri", flags.uri,
                 "the tracking store: sqlite:///PATH or postgresql://... (default: "
                 "$PLINTH_TRACKING_URI, $MLFLOW_TRACKING_URI, or the project's .plinth/plinth.db)");
}

void AddModelArgument(CLI::App& cmd, std::string& model) {
  cmd.add_option("MODEL", model,
                 "a bundle directory, models:/NAME/VERSION, models:/NAME@ALIAS or "
                 "runs:/RUN_ID/PATH")
      ->required();
}

Result<TrackingContext> OpenTracking(const TrackingFlags& flags, bool required) {
  TrackingContext ctx;
  ctx.uri = flags.uri;
  std::string source = "--tracking-uri";
  for (const char* env : {"PLINTH_TRACKING_URI", "MLFLOW_TRACKING_URI"}) {
    const char* v = std::getenv(env);
    if (ctx.uri.empty() && v != nullptr && *v != '\0') {
      ctx.uri = v;
      source = std::string("$") + env;
    }
  }
  Result<data::Project> project = data::Project::Find(".");
  std::string artifacts;
  if (const char* a = std::getenv("PLINTH_ARTIFACTS_ROOT"); a != nullptr && *a != '\0') {
    artifacts = a;
  } else if (project.ok()) {
    artifacts = project->root() + "/.plinth/artifacts";
  }
  if (ctx.uri.empty()) {
    if (!project.ok()) {
      if (!required) {
        return ctx;
      }
      return InvalidArgument(
          "no tracking store: run inside a Plinth project ('plinth init'), pass --tracking-uri, "
          "or set PLINTH_TRACKING_URI");
    }
    ctx.uri = "sqlite:///" + project->root() + "/.plinth/plinth.db";
    source = "the project";
  }
  if (ctx.uri.starts_with("http://") || ctx.uri.starts_with("https://")) {
    // A tracking server: models it serves are downloaded into the user's cache.
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') {
      artifacts = std::string(x) + "/plinth/artifacts";
    } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
      artifacts = std::string(home) + "/.cache/plinth/artifacts";
    } else {
      artifacts = "/tmp/plinth-artifacts";
    }
  } else if (artifacts.empty()) {
    return InvalidArgument(source + " " + ctx.uri +
                           ": no artifact root outside a Plinth project; set "
                           "PLINTH_ARTIFACTS_ROOT to the directory `plinth server "
                           "--artifacts-root` serves");
  }
  const char* user = std::getenv("USER");
  PLINTH_ASSIGN_OR_RETURN(tracking::TrackingClient client,
                          tracking::OpenTrackingClient(ctx.uri, artifacts, user ? user : ""));
  ctx.tracking = std::move(client.tracking);
  ctx.registry = std::move(client.registry);
  ctx.artifacts = std::move(client.artifacts);
  return ctx;
}

Result<std::string> ResolveModel(const std::string& model, const TrackingFlags& flags,
                                 tracking::ModelVersion* version) {
  if (!tracking::IsModelUri(model)) {
    return model;
  }
  PLINTH_ASSIGN_OR_RETURN(TrackingContext ctx, OpenTracking(flags, true));
  return tracking::ResolveModelUri(model, *ctx.tracking, *ctx.registry, *ctx.artifacts, version);
}

}  // namespace plinth::cli
