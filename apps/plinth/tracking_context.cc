#include "tracking_context.h"

#include <pwd.h>
#include <unistd.h>

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

void AddModelArgument(CLI::App& cmd, std::string& model, bool required) {
  cmd.add_option("MODEL", model,
                 "a bundle directory (or an MLflow xgboost-flavor model), models:/NAME/VERSION, "
                 "models:/NAME@ALIAS, models:/<model_id> or runs:/RUN_ID/PATH")
      ->required(required);
}

Result<TrackingContext> OpenTracking(const TrackingFlags& flags, bool required) {
  Result<data::Project> project = data::Project::Find(".");
  PLINTH_ASSIGN_OR_RETURN(
      std::optional<tracking::StoreLocation> at,
      tracking::LocateTrackingStore(flags.uri, project.ok() ? project->root() : "", required));
  if (!at) {
    return TrackingContext();
  }
  return tracking::OpenTrackingClient(at->uri, at->artifacts, at->user);
}

Result<std::string> ResolveModel(const std::string& model, const TrackingFlags& flags,
                                 tracking::ModelVersion* version) {
  if (!tracking::IsModelUri(model)) {
    return model;
  }
  PLINTH_ASSIGN_OR_RETURN(TrackingContext ctx, OpenTracking(flags, true));
  return tracking::ResolveModelUri(model, *ctx.tracking, *ctx.registry, *ctx.artifacts, version);
}

std::string HostName() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof(buf) - 1) == 0 ? buf : "";
}

std::string MoverName() {
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? std::string(user) : AccountName();
}

Result<tracking::Run> CreateRecordRun(tracking::TrackingStore& store, const std::string& experiment,
                                      const std::string& run_name,
                                      std::vector<tracking::Tag> tags) {
  std::string experiment_id;
  Result<tracking::Experiment> e = store.GetExperimentByName(experiment);
  if (e.ok()) {
    experiment_id = e->experiment_id;
  } else if (e.status().code() == StatusCode::kNotFound) {
    PLINTH_ASSIGN_OR_RETURN(experiment_id, store.CreateExperiment(experiment, "", {}));
  } else {
    return e.status();
  }
  tracking::NewRun nr;
  nr.experiment_id = experiment_id;
  const char* user = std::getenv("USER");
  nr.user_id = user != nullptr ? user : "";
  nr.run_name = run_name;
  nr.tags = std::move(tags);
  return store.CreateRun(nr);
}

std::string AccountName() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw != nullptr && pw->pw_name != nullptr ? pw->pw_name : std::to_string(::getuid());
}

}  // namespace plinth::cli
