#include "tracking/model_uri.h"

namespace plinth::tracking {

namespace {

// The version "NAME@ALIAS", "NAME/VERSION", "NAME/STAGE" or "NAME/latest" names.
Result<ModelVersion> FindVersion(std::string_view rest, RegistryStore& registry) {
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    return registry.GetModelVersionByAlias(std::string(rest.substr(0, at)),
                                           std::string(rest.substr(at + 1)));
  }
  size_t slash = rest.rfind('/');
  if (slash == std::string_view::npos) {
    return InvalidArgument("expected models:/NAME/VERSION or models:/NAME@ALIAS");
  }
  std::string name(rest.substr(0, slash));
  std::string which(rest.substr(slash + 1));
  if (!which.empty() && which.find_first_not_of("0123456789") == std::string::npos) {
    return registry.GetModelVersion(name, which);
  }
  // A stage, or "latest": the newest version in that stage (any stage for latest).
  std::vector<std::string> stages;
  if (which != "latest") {
    stages.push_back(which);
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<ModelVersion> latest,
                          registry.GetLatestVersions(name, stages));
  const ModelVersion* best = nullptr;
  for (const ModelVersion& v : latest) {
    if (best == nullptr || v.version > best->version) {
      best = &v;
    }
  }
  if (best == nullptr) {
    return NotFound("no version of model '" + name + "' in stage '" + which + "'");
  }
  return *best;
}

}  // namespace

bool IsModelUri(std::string_view uri) {
  return uri.starts_with("models:/") || uri.starts_with("runs:/");
}

Result<std::string> LocalArtifactPath(std::string_view location, const ArtifactSink& artifacts) {
  if (std::optional<std::string> p = ProxiedPath(location)) {
    return artifacts.Fetch(*p);
  }
  if (location.starts_with("file://")) {
    return std::string(location.substr(7));
  }
  if (location.starts_with("/")) {
    return std::string(location);
  }
  return Unimplemented("artifact location '" + std::string(location) +
                       "' is not on this machine (Plinth reads mlflow-artifacts:/, file:// and "
                       "absolute paths)");
}

Result<std::string> ResolveModelUri(std::string_view uri, TrackingStore& tracking,
                                    RegistryStore& registry, const ArtifactSink& artifacts,
                                    ModelVersion* version_out) {
  const std::string u(uri);
  auto prefix = [&](const Status& s) { return s.WithPrefix(u); };
  if (uri.starts_with("runs:/")) {
    std::string_view rest = uri.substr(6);
    size_t slash = rest.find('/');
    std::string run_id(rest.substr(0, slash));
    std::string path(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
    Result<Run> run = tracking.GetRun(run_id);
    if (!run.ok()) {
      return prefix(run.status());
    }
    Result<std::string> rel = SafeRelativePath(path);
    if (!rel.ok()) {
      return prefix(rel.status());
    }
    std::string location = run->info.artifact_uri + (rel->empty() ? "" : "/" + *rel);
    Result<std::string> local = LocalArtifactPath(location, artifacts);
    return local.ok() ? local : prefix(local.status());
  }
  if (!uri.starts_with("models:/")) {
    return InvalidArgument(u +
                           ": expected models:/NAME/VERSION, models:/NAME@ALIAS or "
                           "runs:/RUN_ID/PATH");
  }
  Result<ModelVersion> version = FindVersion(uri.substr(8), registry);
  if (!version.ok()) {
    return prefix(version.status());
  }
  Result<std::string> local = LocalArtifactPath(version->source, artifacts);
  if (!local.ok()) {
    return prefix(local.status());
  }
  if (version_out != nullptr) {
    *version_out = std::move(*version);
  }
  return local;
}

}  // namespace plinth::tracking
