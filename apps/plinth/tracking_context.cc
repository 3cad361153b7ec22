#include "tracking_context.h"

#include <cstdlib>

#include "data/project.h"
#include "tracking/model_uri.h"

namespace plinth::cli {

void AddTrackingUriFlag(CLI::App& cmd, TrackingFlags& flags) {
  cmd.add_option("--tracking-uri", flags.uri,
                 "the tracking store: sqlite:///PATH or postgresql://... (default: "
                 "$PLINTH_TRACKING_URI, $MLFLOW_TRACKING_URI, or the project's .plinth/plinth.db)");
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
    return Unimplemented(source + " " + ctx.uri +
                         ": logging to a tracking server over HTTP is not implemented yet; "
                         "point at its store (sqlite:///... or postgresql://...) instead");
  }
  if (artifacts.empty()) {
    return InvalidArgument(source + " " + ctx.uri +
                           ": no artifact root outside a Plinth project; set "
                           "PLINTH_ARTIFACTS_ROOT to the directory `plinth server "
                           "--artifacts-root` serves");
  }
  PLINTH_ASSIGN_OR_RETURN(ctx.tracking, tracking::OpenTrackingStore(ctx.uri, "mlflow-artifacts:"));
  PLINTH_ASSIGN_OR_RETURN(ctx.registry, tracking::OpenRegistryStore(ctx.uri));
  ctx.artifacts = std::make_unique<tracking::ArtifactRoot>(artifacts);
  return ctx;
}

Result<std::string> ResolveModel(const std::string& model, const TrackingFlags& flags) {
  if (!tracking::IsModelUri(model)) {
    return model;
  }
  PLINTH_ASSIGN_OR_RETURN(TrackingContext ctx, OpenTracking(flags, true));
  return tracking::ResolveModelUri(model, *ctx.tracking, *ctx.registry, *ctx.artifacts);
}

}  // namespace plinth::cli
