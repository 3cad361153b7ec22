// Internal to the server module.
// The MLflow REST adapter's route table and the request-reading helpers its
// route groups share. Internal to the server module: each route group
// (experiment_routes.cc, metric_routes.cc, registry_routes.cc,
// artifact_routes.cc, lineage_routes.cc) adds its routes to the table, and
// mlflow_api.cc dispatches requests to them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "http/server.h"
#include "server/mlflow_json.h"
#include "tracking/artifacts.h"
#include "tracking/service.h"

namespace plinth::server {

using core::Json;

// A string field of a message ReadMessage checked ("" when absent).
std::string Str(const Json& m, const char* key);

// A list of strings of a message ReadMessage checked (empty when absent).
std::vector<std::string> StrList(const Json& m, const char* key);

// run_id, or the deprecated run_uuid, as MLflow's handlers take either.
Result<std::string> RunId(const Json& m);

// A list of tags ({key, value} objects) of a message ReadMessage checked.
Result<std::vector<tracking::Tag>> Tags(const Json& m, const char* key);

// An enum given by name or by number (ViewType, RunStatus).
template <typename E>
Result<E> EnumField(const Json& m, const char* key, E fallback,
                    Result<E> (*parse)(std::string_view), int max) {
  if (!m.contains(key)) {
    return fallback;
  }
  const Json& v = m[key];
  if (v.is_number_integer()) {
    int64_t x = v.get<int64_t>();
    if (x >= 1 && x <= max) {
      return static_cast<E>(x);
    }
    return InvalidArgument("Invalid value " + std::to_string(x) + " for parameter '" +
                           std::string(key) + "'");
  }
  return parse(v.get<std::string>());
}

// A handler's answer as response text: a tree is dumped, text is already JSON.
inline Result<std::string> Body(Result<Json> j) {
  if (!j.ok()) {
    return j.status();
  }
  return core::DumpJson(*j, false);
}
inline Result<std::string> Body(Result<std::string> text) { return text; }

// A list of entities as {"key": [...], "next_page_token": ...}, both left out
// when empty. Runs and metric points are written straight into the text (a page
// of 1,000 runs is about 1.5 MB); other entities go through their trees.
template <typename T>
std::string PageText(const char* key, const tracking::Page<T>& page) {
  std::string out;
  core::JsonWriter w(&out);
  w.BeginObject();
  if (!page.items.empty()) {
    w.Key(key).BeginArray();
    for (const T& item : page.items) {
      if constexpr (requires { WriteJson(w, item); }) {
        WriteJson(w, item);
      } else {
        w.Value(ToJson(item));
      }
    }
    w.EndArray();
  }
  if (!page.next_page_token.empty()) {
    w.Field("next_page_token", page.next_page_token);
  }
  w.EndObject();
  return out;
}

// A registry search's query (filter, max_results defaulting to `max_results`,
// order_by, page_token) from a GET query string.
Result<tracking::ModelQuery> ReadModelQuery(const http::Request& r, int64_t max_results);

// {"key": entity}, written straight into text.
template <typename T>
std::string MemberText(const char* key, const T& entity) {
  std::string out;
  core::JsonWriter w(&out);
  w.BeginObject().Key(key);
  WriteJson(w, entity);
  w.EndObject();
  return out;
}

// The values of a templated route's {name} segments, by name.
using PathParams = std::map<std::string, std::string, std::less<>>;

// Handlers answer with the response body: JSON text.
using HandlerFn = std::function<Result<std::string>(tracking::Service::Lease&, const http::Request&,
                                                    const PathParams&)>;
// A logging write, read from the request on the I/O thread and then written by
// the tracking service's group commit; the answer is {} once it is committed.
using WriteFn = std::function<Result<tracking::LogRequest>(const http::Request&)>;

// One method of a path: answered at once, or a write that joins a group commit.
struct Endpoint {
  HandlerFn run;
  WriteFn write;
};

// A path's endpoints by HTTP method.
using Route = std::map<std::string, Endpoint, std::less<>>;

// Paths (after /api/2.0 or /ajax-api/2.0) to their endpoints.
class RouteTable {
 public:
  // A tracking route; `fn(TrackingStore&, const http::Request&)` returns
  // Result<Json> or Result<std::string> (JSON text).
  template <typename Fn>
  void Add(const std::string& path, const std::vector<std::string>& methods, Fn fn) {
    for (const std::string& m : methods) {
      routes_[path][m].run = [fn](tracking::Service::Lease& s, const http::Request& r,
                                  const PathParams&) { return Body(fn(s.tracking(), r)); };
    }
  }

  // A tracking route whose path has {name} segments, each matching one segment
  // of the request's path ("/mlflow/logged-models/{model_id}/tags"); `fn(TrackingStore&,
  // const http::Request&, const PathParams&)`. Exact paths are matched first.
  template <typename Fn>
  void AddTemplate(const std::string& path, const std::string& method, Fn fn) {
    templates_.emplace(path);
    routes_[path][method].run = [fn](tracking::Service::Lease& s, const http::Request& r,
                                     const PathParams& p) { return Body(fn(s.tracking(), r, p)); };
  }

  // A registry route, as Add with a RegistryStore.
  template <typename Fn>
  void AddRegistry(const std::string& path, const std::string& method, Fn fn) {
    routes_[path][method].run = [fn](tracking::Service::Lease& s, const http::Request& r,
                                     const PathParams&) { return Body(fn(s.registry(), r)); };
  }

  // A route that needs both stores (the registry checking a run, say).
  template <typename Fn>
  void AddService(const std::string& path, const std::string& method, Fn fn) {
    routes_[path][method].run = [fn](tracking::Service::Lease& s, const http::Request& r,
                                     const PathParams&) { return Body(fn(s, r)); };
  }

  // A templated route that needs the whole lease (several stores).
  template <typename Fn>
  void AddServiceTemplate(const std::string& path, const std::string& method, Fn fn) {
    templates_.emplace(path);
    routes_[path][method].run = [fn](tracking::Service::Lease& s, const http::Request& r,
                                     const PathParams& p) { return Body(fn(s, r, p)); };
  }

  void AddWrite(const std::string& path, WriteFn fn) {
    routes_[path]["POST"].write = std::move(fn);
  }

  // The path's entry (its label for /metrics and its endpoints), or null; a
  // templated route's segment values go to `params`.
  const std::pair<const std::string, Route>* Find(std::string_view path, PathParams* params) const;

 private:
  std::map<std::string, Route, std::less<>> routes_;
  std::set<std::string, std::less<>> templates_;
};

// Appends `model` (an MLmodel as JSON) to the run's mlflow.log-model.history tag, as
// MLflow records a logged model.
Status AppendModelHistory(tracking::TrackingStore& s, const tracking::Run& run, const Json& model);

// The route groups.
// Experiments, runs, and the logging writes (log-metric, log-parameter,
// set-tag, log-batch) that go to the group commit.
void AddExperimentRoutes(RouteTable& routes);
// Metric histories: one run's, and the UI's sampled charts of several runs.
void AddMetricRoutes(RouteTable& routes);
// The model registry: registered models, versions, stages, tags, aliases.
void AddRegistryRoutes(RouteTable& routes);
// The artifact directories the server itself reads and writes: the proxied root
// (mlflow-artifacts:/..., or the artifact service's HTTP route), and, when
// --default-artifact-root is local, that directory (experiments created with it keep
// file:// locations under it). A run or version whose artifacts are anywhere else (another
// local directory a client chose, s3://...) is not the server's to read or write.
class ArtifactLocations {
 public:
  // `local_root`: the local default artifact root (a path or file:// URI), or "".
  ArtifactLocations(tracking::ArtifactRoot& proxied, const std::string& local_root);

  struct Found {
    const tracking::ArtifactRoot* root;
    std::string rel;  // beneath root; "" for the root itself
  };
  // Where the artifacts at `uri` are, or none.
  std::optional<Found> Find(std::string_view uri) const;
  tracking::ArtifactRoot& proxied() const { return proxied_; }

 private:
  tracking::ArtifactRoot& proxied_;
  std::string local_dir_;  // normalized, no trailing '/'; "" when none
  std::unique_ptr<tracking::ArtifactRoot> local_;
};

// Listing a run's artifacts (artifacts/list) and the UI's upload (upload-artifact).
void AddArtifactRoutes(RouteTable& routes, const ArtifactLocations& locations);
// Plinth's own: lineage edges and the registry's alias and stage history.
void AddLineageRoutes(RouteTable& routes);
// MLflow 3's logged models (logged-models/...), a run's model inputs and outputs.
void AddLoggedModelRoutes(RouteTable& routes);
// MLflow's traces (traces/..., v2 and v3) and their assessments.
void AddTraceRoutes(RouteTable& routes);
// OTLP span ingestion, POST /v1/traces as MLflow 3 serves it: an ExportTraceServiceRequest
// in protobuf or JSON (gzip or deflate accepted, at most `max_body` bytes once
// decompressed: the server's limit on bodies), its spans stored per trace in the
// experiment the X-Mlflow-Experiment-Id header names.
http::Response AnswerOtlpTraces(const http::Request& r, tracking::Service& service,
                                uint64_t max_body);
// MLflow 2.x's prompt engineering UI: runs/create-promptlab-run, which writes its run's
// promptlab model and evaluation table through `locations`.
void AddPromptlabRoute(RouteTable& routes, const ArtifactLocations& locations);

class WebhookSender;
// MLflow 3's registry webhooks: create, list, get, update, delete, test.
void AddWebhookRoutes(RouteTable& routes, const WebhookSender& sender);
// After a registry route answered `answer` to `r`: the webhook event it fires, if any
// (model_version.created, model_version_alias.created, prompt_tag.set, ...), queued.
void FireRegistryEvents(WebhookSender& sender, tracking::Service::Lease& stores,
                        const http::Request& r, std::string_view rest, const std::string& answer);

// MLflow's auth API (users, experiment and registered-model permissions), with --auth.
void AddAuthRoutes(RouteTable& routes);
// GET /signup: the form that creates a user (admins only).
http::Response SignupPage();
// users/create posted by that form (application/x-www-form-urlencoded): MLflow's HTML
// answer; none for any other request.
std::optional<http::Response> SignupForm(tracking::Service::Lease& s, const http::Request& r);

// MLflow's proxied artifact files, which are not JSON routes:
// /mlflow-artifacts/artifacts[/PATH] (list, GET, PUT, DELETE), and the UI's
// downloads /get-artifact and /model-versions/get-artifact. None when `rest`
// is none of them.
std::optional<http::Response> HandleArtifactFiles(std::string_view rest, const http::Request& r,
                                                  const ArtifactLocations& locations,
                                                  tracking::Service& service);

}  // namespace plinth::server
