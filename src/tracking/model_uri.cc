#include "tracking/model_uri.h"

#include <algorithm>
#include <filesystem>

#include "core/json.h"
#include "core/url.h"

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

Status PutRunArtifact(std::string_view artifact_uri, std::string_view name, std::string_view bytes,
                      const ArtifactSink& artifacts) {
  if (std::optional<std::string> proxied = ProxiedPath(artifact_uri)) {
    return artifacts.Put(*proxied + "/" + std::string(name), bytes);
  }
  PLINTH_ASSIGN_OR_RETURN(std::string local, LocalArtifactPath(artifact_uri, artifacts));
  return ArtifactRoot(local).Put(name, bytes);
}

Result<std::string> LocalArtifactPath(std::string_view location, const ArtifactSink& artifacts) {
  if (std::optional<std::string> p = ProxiedPath(location)) {
    return artifacts.Fetch(*p);
  }
  if (std::optional<std::string> local = LocalPathOf(location); local && local->starts_with("/")) {
    return *local;
  }
  return Unimplemented("artifact location '" + std::string(location) +
                       "' is not on this machine (Plinth reads mlflow-artifacts:/, file:// and "
                       "absolute paths)");
}

bool IsLoggedModelId(std::string_view rest) {
  return rest.size() > 2 && rest.starts_with("m-") &&
         rest.find_first_of("/@") == std::string_view::npos;
}

Status RecordRegistration(TrackingStore& tracking, const std::string& model_id,
                          const ModelVersion& version) {
  constexpr std::string_view kTag = "mlflow.modelVersions";
  PLINTH_ASSIGN_OR_RETURN(LoggedModel model, tracking.GetLoggedModel(model_id, true));
  core::Json list = core::Json::array();
  for (const Tag& t : model.tags) {
    if (t.key == kTag) {
      Result<core::Json> parsed = core::ParseJson(t.value, "tag mlflow.modelVersions");
      if (parsed.ok() && parsed->is_array()) {
        list = *parsed;
      }
    }
  }
  core::Json entry = {{"name", version.name}, {"version", version.version}};
  if (std::find(list.begin(), list.end(), entry) == list.end()) {
    list.push_back(entry);
  }
  // A tag value holds 5000 characters: the oldest registrations give way (the lineage
  // edges keep them all).
  while (list.size() > 1 && core::DumpJson(list, false).size() > 5000) {
    list.erase(list.begin());
  }
  PLINTH_RETURN_IF_ERROR(
      tracking.SetLoggedModelTags(model_id, {{std::string(kTag), core::DumpJson(list, false)}}));
  return tracking.AddLineage({"logged_model", model_id, "model_version",
                              version.name + "/" + std::to_string(version.version), "registered",
                              0});
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
  // The files of a logged model (models:/<model_id>).
  auto logged_files = [&](std::string_view id) -> Result<std::string> {
    PLINTH_ASSIGN_OR_RETURN(LoggedModel logged, tracking.GetLoggedModel(std::string(id), false));
    return logged.artifact_uri;
  };
  if (IsLoggedModelId(uri.substr(8))) {
    Result<std::string> location = logged_files(uri.substr(8));
    Result<std::string> local =
        location.ok() ? LocalArtifactPath(*location, artifacts) : location.status();
    return local.ok() ? local : prefix(local.status());
  }
  Result<ModelVersion> version = FindVersion(uri.substr(8), registry);
  if (!version.ok()) {
    return prefix(version.status());
  }
  // A copy, or a version of a logged model, made through a server that did not say where
  // its files are: follow its source (models:/NAME/VERSION, models:/<model_id>) a few steps.
  for (int hops = 0; version->storage_location.starts_with("models:/") && hops < 8; ++hops) {
    const std::string_view rest = std::string_view(version->storage_location).substr(8);
    if (IsLoggedModelId(rest)) {
      Result<std::string> location = logged_files(rest);
      if (!location.ok()) {
        return prefix(location.status());
      }
      version->storage_location = *location;
      break;
    }
    Result<ModelVersion> original = FindVersion(rest, registry);
    if (!original.ok()) {
      return prefix(original.status());
    }
    version->storage_location = original->storage_location;
  }
  Result<std::string> local = LocalArtifactPath(version->storage_location, artifacts);
  if (!local.ok()) {
    return prefix(local.status());
  }
  if (version_out != nullptr) {
    *version_out = std::move(*version);
  }
  return local;
}

Status ValidateNonLocalSource(const std::string& source) {
  const Status invalid = InvalidArgument(
      "Invalid model version source: '" + source +
      "'. If supplying a source as an http, https, local file path, ftp, objectstore, or "
      "mlflow-artifacts uri, an absolute path must be provided without relative path "
      "references present. Please provide an absolute path.");
  // Decoded until nothing changes (unquote_plus), so %2e%2e and %252e%252e are seen.
  std::string s = source;
  for (std::string prev; prev != s;) {
    prev = s;
    s = core::PercentDecode(s, true);
  }
  // '..' anywhere, the query included (a%3f/../.. decodes to a?/../..).
  for (size_t i = 0; i <= s.size();) {
    const size_t j = std::min(s.find('/', i), s.size());
    if (std::string_view(s).substr(i, j - i) == "..") {
      return invalid;
    }
    i = j + 1;
  }
  std::string path;
  for (char c : SplitUri(s).path) {  // runs of '/' are one
    if (c != '/' || path.empty() || path.back() != '/') {
      path += c;
    }
  }
  while (!path.empty() && path.back() == '/') {
    path.pop_back();
  }
  if (path.find('\0') != std::string::npos) {
    return invalid;
  }
  // The path must already be what resolving it gives: absolute, no '.' parts.
  const std::string normal = std::filesystem::path(path).lexically_normal().string();
  if (path.empty() || path[0] != '/' || normal != path) {
    return invalid;
  }
  return Status::Ok();
}

bool IsPromptVersion(const std::vector<Tag>& tags) {
  return std::any_of(tags.begin(), tags.end(),
                     [](const Tag& t) { return t.key == "mlflow.prompt.is_prompt"; });
}

Status ValidatePromptSource(const std::string& source) {
  const std::string scheme = SplitUri(source).scheme;
  if (scheme == "file" || (scheme.empty() && source.starts_with('/'))) {
    return InvalidArgument("Invalid prompt source: '" + source +
                           "'. Local source paths are not allowed for prompts.");
  }
  if (!scheme.empty()) {
    return ValidateNonLocalSource(source);
  }
  std::string decoded = source;
  for (std::string prev; prev != decoded;) {
    prev = decoded;
    decoded = core::PercentDecode(decoded, true);
  }
  bool relative = decoded.find('\0') != std::string::npos;
  for (size_t i = 0; i <= decoded.size() && !relative;) {
    const size_t j = std::min(decoded.find('/', i), decoded.size());
    relative = std::string_view(decoded).substr(i, j - i) == "..";
    i = j + 1;
  }
  if (relative) {
    return InvalidArgument("Invalid prompt source: '" + source +
                           "'. A prompt's source may not hold relative path references.");
  }
  return Status::Ok();
}

Status ValidateModelVersionSource(const std::string& source, const std::string& run_id,
                                  TrackingStore& runs) {
  const std::optional<std::string> local = LocalPathOf(source);
  if (!local && SplitUri(source).scheme == "file") {
    return InvalidArgument(source +
                           " is not a valid remote uri. For remote access on windows, please "
                           "consider using a different scheme such as SMB (e.g. "
                           "smb://<hostname>/<path>).");
  }
  if (!local) {
    return ValidateNonLocalSource(source);
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::absolute(*local, ec), ec);
  if (!run_id.empty()) {
    PLINTH_ASSIGN_OR_RETURN(Run run, runs.GetRun(run_id));
    if (std::optional<std::string> dir_text = LocalPathOf(run.info.artifact_uri)) {
      const fs::path dir = fs::weakly_canonical(fs::absolute(*dir_text, ec), ec);
      for (fs::path p = resolved; !p.empty(); p = p.parent_path()) {
        if (p == dir) {
          return Status::Ok();
        }
        if (p == p.parent_path()) {
          break;
        }
      }
    }
  }
  return InvalidArgument("Invalid model version source: '" + resolved.string() +
                         "'. To use a local path as a model version source, the run_id request "
                         "parameter has to be specified and the local path has to be contained "
                         "within the artifact directory of the run specified by the run_id.");
}

}  // namespace plinth::tracking
