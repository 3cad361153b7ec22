// MLflow's artifact routes: run artifact listings and the proxied artifact files.
#include <filesystem>

#include "server/routes.h"
#include "tracking/spans.h"

namespace plinth::server {

using tracking::ArtifactRoot;
using tracking::FileInfo;
using tracking::GuessMimeType;
using tracking::ProxiedPath;
using tracking::SafeRelativePath;
using tracking::TrackingStore;

namespace {

// An artifact path a client sent, made relative and checked (SafeRelativePath); an unsafe
// one is answered with MLflow's exact text, "Invalid path" (clients and MLflow's own tests
// compare it).
Result<std::string> RequestPath(std::string_view path) {
  Result<std::string> rel = SafeRelativePath(path);
  if (!rel.ok()) {
    return InvalidArgument("Invalid path");
  }
  return rel;
}

// An artifact file as MLflow sends one: an attachment, its type guessed from
// the name `path`; `file` is the opened artifact, or the error answered instead.
http::Response FileResponse(Result<core::UniqueFd> file, std::string_view path) {
  if (!file.ok()) {
    return ErrorResponse(file.status());
  }
  http::Response r;
  r.file = std::make_shared<const core::UniqueFd>(*std::move(file));
  r.content_type = GuessMimeType(path);
  std::string name(path.substr(path.find_last_of('/') + 1));
  r.headers.emplace_back("Content-Disposition", "attachment; filename=" + name);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

Json FilesJson(const std::vector<FileInfo>& files, const std::string& prefix) {
  Json list = Json::array();
  for (const FileInfo& f : files) {
    Json j = {{"path", prefix.empty() ? f.path : prefix + "/" + f.path}, {"is_dir", f.is_dir}};
    if (f.file_size) {
      j["file_size"] = *f.file_size;
    }
    list.push_back(std::move(j));
  }
  return list;
}

// artifacts/list's answer for the directory `rel` under the artifacts at `uri`: the
// root and its files, none when the server does not keep `uri`'s artifacts.
Result<Json> ListUnder(const ArtifactLocations& where, const std::string& uri,
                       const std::string& rel) {
  Json out = {{"root_uri", uri}};
  if (auto base = where.Find(uri)) {
    const std::string dir =
        base->rel.empty() ? rel : (rel.empty() ? base->rel : base->rel + "/" + rel);
    PLINTH_ASSIGN_OR_RETURN(auto files, base->root->List(dir));
    if (!files.empty()) {
      out["files"] = FilesJson(files, rel);
    }
  }
  return out;
}

// The absolute local path `uri` names (tracking::LocalPathOf), normalized; none otherwise.
std::optional<std::string> LocalPath(std::string_view uri) {
  std::optional<std::string> path = tracking::LocalPathOf(uri);
  if (!path || !path->starts_with("/")) {
    return std::nullopt;
  }
  return std::filesystem::path(*path).lexically_normal().string();
}

}  // namespace

ArtifactLocations::ArtifactLocations(ArtifactRoot& proxied, const std::string& local_root)
    : proxied_(proxied) {
  if (std::optional<std::string> dir = LocalPath(local_root)) {
    local_dir_ = *dir;
    while (local_dir_.size() > 1 && local_dir_.back() == '/') {
      local_dir_.pop_back();
    }
    local_ = std::make_unique<ArtifactRoot>(local_dir_);
  }
}

std::optional<ArtifactLocations::Found> ArtifactLocations::Find(std::string_view uri) const {
  if (std::optional<std::string> proxied = ProxiedPath(uri)) {
    return Found{&proxied_, *proxied};
  }
  if (!local_) {
    return std::nullopt;
  }
  std::optional<std::string> path = LocalPath(uri);
  if (!path || (*path != local_dir_ && !path->starts_with(local_dir_ + "/"))) {
    return std::nullopt;
  }
  const std::string rel =
      path->size() > local_dir_.size() ? path->substr(local_dir_.size() + 1) : "";
  Result<std::string> safe = SafeRelativePath(rel);
  if (!safe.ok()) {
    return std::nullopt;
  }
  return Found{local_.get(), *safe};
}

std::optional<http::Response> HandleArtifactFiles(std::string_view rest, const http::Request& r,
                                                  const ArtifactLocations& locations,
                                                  tracking::Service& service) {
  ArtifactRoot& files = locations.proxied();
  constexpr std::string_view kArtifacts = "/mlflow-artifacts/artifacts";
  auto result = [](Result<Json> j) {
    return j.ok() ? JsonResponse(*j) : ErrorResponse(j.status());
  };
  // Multipart uploads (MLflow's mpu/create, complete, abort): not for a local artifact root,
  // answered as MLflow answers for one, so that its client (with
  // MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD) falls back to a plain upload.
  for (std::string_view mpu : {"/mlflow-artifacts/mpu/create", "/mlflow-artifacts/mpu/complete",
                               "/mlflow-artifacts/mpu/abort"}) {
    if (rest == mpu || (rest.starts_with(mpu) && rest[mpu.size()] == '/')) {
      return ErrorResponse("NOT_IMPLEMENTED",
                           "Multipart upload is not supported for the current artifact repository");
    }
  }
  if (rest == kArtifacts) {  // list
    if (r.method != "GET") {
      return ErrorResponse("BAD_REQUEST", "Method " + r.method + " is not allowed for " + r.path);
    }
    Result<std::vector<FileInfo>> listed = files.List(r.Query("path").value_or(""));
    if (!listed.ok()) {
      return ErrorResponse(listed.status());
    }
    Json out = Json::object();
    if (!listed->empty()) {
      out["files"] = FilesJson(*listed, "");
    }
    return JsonResponse(out);
  }
  if (rest.starts_with(std::string(kArtifacts) + "/")) {
    std::string_view path = rest.substr(kArtifacts.size() + 1);
    if (r.method == "GET") {
      return FileResponse(files.Open(path), path);
    }
    if (r.method == "PUT") {
      Status s = files.Put(path, r.body);
      return result(s.ok() ? Result<Json>(Json::object()) : Result<Json>(s));
    }
    if (r.method == "DELETE") {
      Status s = files.Delete(path);
      return result(s.ok() ? Result<Json>(Json::object()) : Result<Json>(s));
    }
    http::Response e = ErrorResponse("BAD_REQUEST", "Method " + r.method + " is not allowed");
    e.status = 405;
    return e;
  }
  // MLflow 3's UI download of a logged model's file:
  // /mlflow/logged-models/{model_id}/artifacts/files?artifact_file_path=...
  constexpr std::string_view kModels = "/mlflow/logged-models/";
  constexpr std::string_view kFiles = "/artifacts/files";
  if (rest.starts_with(kModels) && rest.ends_with(kFiles) &&
      rest.size() > kModels.size() + kFiles.size()) {
    const std::string id(rest.substr(kModels.size(), rest.size() - kModels.size() - kFiles.size()));
    const std::optional<std::string> file = r.Query("artifact_file_path");
    if (!file || file->empty()) {
      return ErrorResponse("BAD_REQUEST",
                           "Request must include the \"artifact_file_path\" query parameter.");
    }
    Result<std::string> rel = RequestPath(*file);
    if (!rel.ok()) {
      return ErrorResponse(rel.status());
    }
    Result<tracking::Service::Lease> stores = service.Acquire();
    if (!stores.ok()) {
      return ErrorResponse(stores.status());
    }
    Result<tracking::LoggedModel> model = stores->tracking().GetLoggedModel(id, false);
    if (!model.ok()) {
      return ErrorResponse(model.status());
    }
    std::optional<ArtifactLocations::Found> base = locations.Find(model->artifact_uri);
    if (!base) {
      return ErrorResponse(Unimplemented("artifacts at '" + model->artifact_uri +
                                         "' are not kept by this server's artifact store"));
    }
    const std::string path = base->rel.empty() ? *rel : base->rel + "/" + *rel;
    return FileResponse(base->root->Open(path), path);
  }
  if (rest == "/mlflow/get-trace-artifact" || rest == "/3.0/mlflow/get-trace-artifact") {
    // The UI's (and MLflow's tests') read of a trace's spans: traces.json under the
    // trace's artifact location, which the client wrote.
    const std::string id = r.Query("request_id").value_or("");
    if (id.empty()) {
      return ErrorResponse("BAD_REQUEST",
                           "Request must include the \"request_id\" query parameter.");
    }
    Result<tracking::Service::Lease> stores = service.Acquire();
    if (!stores.ok()) {
      return ErrorResponse(stores.status());
    }
    Result<tracking::TraceInfo> info = stores->tracking().GetTraceInfo(id);
    if (!info.ok()) {
      return ErrorResponse(info.status());
    }
    std::string root;
    bool in_store = false;
    for (const tracking::Tag& t : info->tags) {
      if (t.key == tracking::kTraceArtifactLocationTag) {
        root = t.value;
      }
      in_store = in_store ||
                 (t.key == tracking::kTraceSpansLocationTag && t.value == tracking::kSpansInStore);
    }
    if (in_store) {  // spans sent over OTLP: traces.json as the client would have written it
      Result<tracking::Trace> trace = stores->tracking().GetTrace(id, /*allow_partial=*/true);
      if (!trace.ok()) {
        return ErrorResponse(trace.status());
      }
      http::Response out;
      out.content_type = "application/octet-stream";
      out.body = tracking::TracesJson(trace->spans);
      return out;
    }
    std::optional<ArtifactLocations::Found> base = locations.Find(root);
    if (root.empty() || !base) {
      return ErrorResponse(Unimplemented("the trace's data at '" + root +
                                         "' is not kept by this server's artifact store"));
    }
    const std::string path = (base->rel.empty() ? "" : base->rel + "/") + "traces.json";
    Result<core::UniqueFd> file = base->root->Open(path);
    if (!file.ok() && file.status().code() == StatusCode::kNotFound) {
      return ErrorResponse(NotFound("Trace data not found for path=" + root + "/traces.json"));
    }
    return FileResponse(std::move(file), path);
  }
  if (rest == "/get-artifact" || rest == "/model-versions/get-artifact") {
    // The UI's downloads: a run's artifact, or one under a model version's source. The
    // path is checked first, as MLflow does.
    Result<std::string> rel = RequestPath(r.Query("path").value_or(""));
    if (!rel.ok()) {
      return ErrorResponse(rel.status());
    }
    Result<tracking::Service::Lease> stores = service.Acquire();
    if (!stores.ok()) {
      return ErrorResponse(stores.status());
    }
    std::string root;
    Status s;
    if (rest == "/get-artifact") {
      std::string id = r.Query("run_id").value_or(r.Query("run_uuid").value_or(""));
      Result<tracking::Run> run = stores->tracking().GetRun(id);
      s = run.status();
      root = run.ok() ? run->info.artifact_uri : "";
    } else {
      Result<tracking::ModelVersion> v = stores->registry().GetModelVersion(
          r.Query("name").value_or(""), r.Query("version").value_or(""));
      s = v.status();
      root = v.ok() ? v->storage_location : "";
    }
    if (!s.ok()) {
      return ErrorResponse(s);
    }
    std::optional<ArtifactLocations::Found> base = locations.Find(root);
    if (!base) {
      return ErrorResponse(Unimplemented("artifacts at '" + root +
                                         "' are not kept by this server's artifact store"));
    }
    const std::string path = base->rel.empty() ? *rel : base->rel + "/" + *rel;
    return FileResponse(base->root->Open(path), path);
  }
  return std::nullopt;
}

void AddArtifactRoutes(RouteTable& routes, const ArtifactLocations& locations) {
  using F = FieldType;
  const ArtifactLocations* where = &locations;
  routes.Add("/mlflow/artifacts/list", {"GET"},
             [where](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                               {"run_uuid", F::kString},
                                                               {"path", F::kString},
                                                               {"page_token", F::kString}}));
               PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
               PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.GetRun(id));
               PLINTH_ASSIGN_OR_RETURN(std::string rel, RequestPath(Str(m, "path")));
               return ListUnder(*where, run.info.artifact_uri, rel);
             });
  // A logged model's files (MLflow 3's UI): as artifacts/list, under the model's location.
  routes.AddTemplate(
      "/mlflow/logged-models/{model_id}/artifacts/directories", "GET",
      [where](TrackingStore& s, const http::Request& r, const PathParams& p) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"artifact_directory_path", F::kString},
                                                        {"page_token", F::kString}}));
        PLINTH_ASSIGN_OR_RETURN(tracking::LoggedModel model,
                                s.GetLoggedModel(p.at("model_id"), false));
        PLINTH_ASSIGN_OR_RETURN(std::string rel, RequestPath(Str(m, "artifact_directory_path")));
        return ListUnder(*where, model.artifact_uri, rel);
      });
  // The UI's upload of one file into a run's artifacts (MLflow's upload_artifact_handler):
  // the body is the file, at most 10 MB.
  routes.Add("/mlflow/upload-artifact", {"POST"},
             [where](TrackingStore& s, const http::Request& r) -> Result<Json> {
               constexpr size_t kMaxBytes = 10 * 1024 * 1024;
               const std::string id = r.Query("run_uuid").value_or("");
               if (id.empty()) {
                 return InvalidArgument("Request must specify run_uuid.");
               }
               const std::string path = r.Query("path").value_or("");
               if (path.empty()) {
                 return InvalidArgument("Request must specify path.");
               }
               PLINTH_ASSIGN_OR_RETURN(std::string rel, RequestPath(path));
               if (r.body.size() > kMaxBytes) {
                 return InvalidArgument("Artifact size is too large. Max size is 10MB.");
               }
               if (r.body.empty()) {
                 return InvalidArgument("Request must specify data.");
               }
               PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.GetRun(id));
               std::optional<ArtifactLocations::Found> base = where->Find(run.info.artifact_uri);
               if (!base) {
                 return Unimplemented("artifacts at '" + run.info.artifact_uri +
                                      "' are not kept by this server's artifact store");
               }
               PLINTH_RETURN_IF_ERROR(
                   base->root->Put(base->rel.empty() ? rel : base->rel + "/" + rel, r.body));
               return Json::object();
             });
}

}  // namespace plinth::server
