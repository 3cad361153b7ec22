#include "features_context.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "core/progress.h"
#include "data/project.h"
#include "features/historical.h"
#include "features/online.h"
#include "tracking/client.h"

namespace plinth::cli {

Result<RegistryHandle> OpenRegistry(const TrackingFlags& flags) {
  Result<data::Project> project = data::Project::Find(".");
  PLINTH_ASSIGN_OR_RETURN(
      std::optional<tracking::StoreLocation> at,
      tracking::LocateTrackingStore(flags.uri, project.ok() ? project->root() : "", true));
  if (at->uri.rfind("http://", 0) == 0 || at->uri.rfind("https://", 0) == 0) {
    return InvalidArgument(
        "the feature registry lives in a database (sqlite:///PATH or postgresql://...); " +
        at->source + " names a tracking server, " + at->uri);
  }
  RegistryHandle h;
  h.uri = at->uri;
  PLINTH_ASSIGN_OR_RETURN(h.db, store::OpenDatabase(at->uri));
  PLINTH_ASSIGN_OR_RETURN(features::Registry r, features::Registry::Open(*h.db));
  h.registry.emplace(r);
  return h;
}

Result<RegistryHandle> OpenLatest(const TrackingFlags& flags, Online online) {
  PLINTH_ASSIGN_OR_RETURN(RegistryHandle h, OpenRegistry(flags));
  PLINTH_ASSIGN_OR_RETURN(h.latest, h.registry->Latest());
  if (online != Online::kNone) {
    PLINTH_ASSIGN_OR_RETURN(
        h.online, features::OpenOnlineStore(h.latest.online_store, online == Online::kWrite));
  }
  return h;
}

std::function<Result<features::FeatureGroup>(const features::FeatureRef&)> GroupsOf(
    const features::Definitions& defs, features::Registry& registry) {
  return [&defs, &registry](const features::FeatureRef& r) -> Result<features::FeatureGroup> {
    const features::FeatureGroup* g = defs.FindGroup(r.group);
    if (g != nullptr && (r.version == 0 || r.version == g->version)) {
      return *g;
    }
    return registry.Group(r.group, r.version);
  };
}

Status BuildTrainingSet(train::TrainingConfig& config, const TrackingFlags& flags, bool progress) {
  const train::TrainingConfig::FeatureInput& in = *config.features;
  PLINTH_ASSIGN_OR_RETURN(RegistryHandle h, OpenLatest(flags, Online::kNone));
  PLINTH_ASSIGN_OR_RETURN(std::vector<features::FeatureRef> refs,
                          features::ResolveFeatures(h.latest, in.service, {}));
  const features::FeatureService* service = h.latest.FindService(in.service);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(config.data_path).parent_path(), ec);
  if (ec) {
    return IoError(config.data_path + ": " + ec.message());
  }
  features::HistoricalOptions options;
  options.entities = in.entities;
  options.timestamp_column = in.timestamp_column;
  options.out = config.data_path;
  core::Progress bar("training set", 0, progress);
  bar.set_items_name("rows");
  PLINTH_ASSIGN_OR_RETURN(
      features::HistoricalResult r,
      features::HistoricalFeatures(h.latest, refs, GroupsOf(h.latest, *h.registry), options,
                                   [&](int64_t rows) { bar.Update(0, rows); }));
  bar.Finish();
  ml::FeatureServiceRecord record;
  record.service = in.service;
  record.version = service->version;
  for (const features::FeatureRef& f : refs) {
    record.features.push_back(f.Text());
  }
  record.entities = in.entities;
  record.timestamp_column = r.timestamp_column;
  for (const features::OnDemandFeature& od : h.latest.on_demand) {
    for (const features::FeatureRef& f : refs) {
      if (f.group.empty() && f.feature == od.name) {
        record.on_demand[od.name] = od.expression;
      }
    }
  }
  config.feature_service = std::move(record);
  // The time the features were taken as of is not a feature: a served request carries keys,
  // and the lookup is as of now.
  if (std::find(config.ignore_columns.begin(), config.ignore_columns.end(), r.timestamp_column) ==
          config.ignore_columns.end() &&
      std::find(config.id_columns.begin(), config.id_columns.end(), r.timestamp_column) ==
          config.id_columns.end()) {
    config.ignore_columns.push_back(r.timestamp_column);
  }
  return Status::Ok();
}

}  // namespace plinth::cli
