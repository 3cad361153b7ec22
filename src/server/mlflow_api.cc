#include "server/mlflow_api.h"

#include <future>
#include <optional>

#include "core/clock.h"
#include "http/errors.h"
#include "http/metrics.h"
#include "server/graphql.h"
#include "server/mlflow_json.h"
#include "server/routes.h"
#include "tracking/artifacts.h"
#include "tracking/service.h"

namespace plinth::server {

struct MlflowApi::Impl {
  ApiOptions options;
  std::unique_ptr<tracking::Service> service;
  std::unique_ptr<tracking::ArtifactRoot> artifacts;
  std::unique_ptr<ArtifactLocations> locations;
  RouteTable routes;
  http::RequestMetrics request_metrics{"plinth_server"};
};

namespace {

// What an unserved MLflow 3 route belongs to, when Plinth leaves that part of MLflow out
// on purpose (docs/HTTP.md), for the 404's message; "" otherwise.
std::string OutOfScope(std::string_view rest) {
  static constexpr std::pair<std::string_view, std::string_view> kParts[] = {
      {"/mlflow/gateway", "AI gateway"},
      {"/gateway", "AI gateway"},
      {"/mlflow/scorers", "scorers"},
      {"/mlflow/prompt-optimization", "prompt optimization jobs"},
      {"/mlflow/datasets", "evaluation datasets"},
      {"/mlflow/workspaces", "workspaces"},
  };
  if (rest.starts_with("/3.0")) {
    rest.remove_prefix(4);
  }
  for (const auto& [prefix, what] : kParts) {
    if (rest.starts_with(prefix)) {
      return ": Plinth does not serve MLflow's " + std::string(what) +
             " (out of scope: see Plinth's docs/HTTP.md)";
    }
  }
  return "";
}

// A GraphQL root field's REST request: the message as a GET's query parameters (a
// list as repeated parameters) or a POST's JSON body.
http::Request RouteRequest(std::string_view method, std::string_view path, const Json& message) {
  http::Request r;
  r.method = std::string(method);
  r.path = "/api/2.0" + std::string(path);
  r.target = r.path;
  if (method == "GET") {
    auto text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    for (const auto& [key, value] : message.items()) {
      if (value.is_array()) {
        for (const Json& item : value) {
          r.query.emplace_back(key, text(item));
        }
      } else {
        r.query.emplace_back(key, text(value));
      }
    }
  } else {
    r.headers.emplace_back("content-type", "application/json");
    r.body = core::DumpJson(message, false);
  }
  return r;
}

}  // namespace

http::Response MlflowApi::AnswerGraphql(const http::Request& request) {
  Result<graphql::Request> query = graphql::ReadRequest(request);
  if (!query.ok()) {
    return ErrorResponse(query.status());
  }
  Result<graphql::Document> document = graphql::Parse(query->query);
  if (!document.ok()) {
    return JsonResponse(
        Json{{"data", nullptr}, {"errors", Json::array({document.status().message()})}});
  }
  Result<tracking::Service::Lease> stores = impl_->service->Acquire();
  if (!stores.ok()) {
    return ErrorResponse(stores.status());
  }
  auto call = [&](std::string_view method, std::string_view path,
                  const Json& message) -> Result<Json> {
    PathParams params;
    const auto* entry = impl_->routes.Find(path, &params);
    auto endpoint = entry != nullptr ? entry->second.find(method) : Route::const_iterator();
    if (entry == nullptr || endpoint == entry->second.end() || !endpoint->second.run) {
      return Internal("GraphQL field without a route: " + std::string(path));
    }
    PLINTH_ASSIGN_OR_RETURN(
        std::string text,
        endpoint->second.run(*stores, RouteRequest(method, path, message), params));
    return core::ParseJson(text, "route answer");
  };
  return JsonResponse(graphql::Execute(*document, query->operation_name, query->variables, call));
}

MlflowApi::MlflowApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MlflowApi::~MlflowApi() = default;

Result<std::string> DefaultArtifactRoot(const std::string& flag) {
  std::string root = flag;
  while (root.size() > 1 && root.back() == '/' && !root.ends_with(":/") && !root.ends_with("//")) {
    root.pop_back();
  }
  if (root.empty()) {
    return InvalidArgument("expected a URI or a directory, got an empty value");
  }
  if (root.starts_with("runs:") || root.starts_with("models:")) {
    return InvalidArgument("'" + flag + "': a runs:/ or models:/ URI cannot hold artifacts");
  }
  if (root.starts_with("file:") && !root.starts_with("file:/")) {
    return InvalidArgument("'" + flag + "': expected an absolute file:/// URI");
  }
  return tracking::ResolveIfLocal(root);
}

Result<std::unique_ptr<MlflowApi>> MlflowApi::Create(const ApiOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  tracking::ServiceOptions service;
  service.store_uri = options.store_uri;
  service.artifact_root = options.default_artifact_root;
  PLINTH_ASSIGN_OR_RETURN(impl->service, tracking::Service::Open(service));
  impl->artifacts = std::make_unique<tracking::ArtifactRoot>(options.artifacts_destination);
  const std::string& root = options.default_artifact_root;
  impl->locations = std::make_unique<ArtifactLocations>(
      *impl->artifacts, root.starts_with("/") || root.starts_with("file:") ? root : "");
  AddExperimentRoutes(impl->routes);
  AddMetricRoutes(impl->routes);
  AddRegistryRoutes(impl->routes);
  AddArtifactRoutes(impl->routes, *impl->locations);
  AddLineageRoutes(impl->routes);
  AddLoggedModelRoutes(impl->routes);
  AddTraceRoutes(impl->routes);
  AddPromptlabRoute(impl->routes, *impl->locations);
  return std::unique_ptr<MlflowApi>(new MlflowApi(std::move(impl)));
}

void MlflowApi::Handle(http::Request request, http::Responder respond) {
  Answer(std::move(request), [respond](http::Response r) { respond(std::move(r)); });
}

http::Response MlflowApi::HandleForTesting(http::Request request) {
  std::promise<http::Response> answered;
  std::future<http::Response> response = answered.get_future();
  Answer(std::move(request), [&answered](http::Response r) { answered.set_value(std::move(r)); });
  return response.get();
}

void MlflowApi::Answer(http::Request request, std::function<void(http::Response)> respond) {
  const int64_t start = core::SystemClock().MonotonicMicros();
  std::string route;
  tracking::LogRequest write;
  std::optional<http::Response> now = Dispatch(request, &route, &write);
  Impl* impl = impl_.get();
  auto answer = [impl, start, route, method = request.method, respond](http::Response r) {
    impl->request_metrics.Record(
        route, method, r.status,
        static_cast<double>(core::SystemClock().MonotonicMicros() - start) / 1e6);
    respond(std::move(r));
  };
  if (now) {
    return answer(std::move(*now));
  }
  impl->service->Log(std::move(write), [answer](Status s) {
    answer(s.ok() ? JsonResponse(Json::object()) : ErrorResponse(s));
  });
}

std::optional<http::Response> MlflowApi::Dispatch(const http::Request& request, std::string* route,
                                                  tracking::LogRequest* write) {
  // Repeated slashes are one, as MLflow's router (werkzeug) treats them: //api/2.0//x.
  std::string merged;
  for (char c : request.path) {
    if (c != '/' || merged.empty() || merged.back() != '/') {
      merged += c;
    }
  }
  std::string_view path = merged;
  *route = "other";  // unknown paths share one label: metrics stay bounded
  if (path == "/health" || path == "/version" || path == "/metrics") {
    *route = std::string(path);
  }
  if (path == "/metrics") {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    impl_->request_metrics.Render(r.body);
    http::PrometheusWriter(r.body)
        .Family("plinth_server_group_commit_requests_total", "counter",
                "Logging requests written by the group commit.")
        .Sample("plinth_server_group_commit_requests_total", {}, impl_->service->writes_committed())
        .Family("plinth_server_group_commit_batches_total", "counter",
                "Transactions that carried them.")
        .Sample("plinth_server_group_commit_batches_total", {}, impl_->service->commits());
    return r;
  }
  if (path == "/health") {
    http::Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "OK";
    return r;
  }
  // MLflow's GraphQL endpoint, at the root as MLflow serves it (and under /ajax-api for
  // a UI behind a static prefix).
  if (path == "/graphql" || path == "/ajax-api/graphql") {
    *route = "/graphql";
    if (request.method != "GET" && request.method != "POST") {
      http::Response r = ErrorResponse(
          "BAD_REQUEST", "Method " + request.method + " is not allowed for " + std::string(path));
      r.status = 405;
      r.headers.emplace_back("Allow", "GET, POST");
      return r;
    }
    return AnswerGraphql(request);
  }
  if (path == "/version") {
    http::Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = impl_->options.version;
    return r;
  }
  std::string_view rest;
  if (path.starts_with("/api/plinth/v1/")) {
    rest = path.substr(4);  // Plinth's own routes: "/plinth/v1/..."
  }
  for (std::string_view prefix : {"/api/2.0", "/ajax-api/2.0"}) {
    if (path.starts_with(prefix)) {
      rest = path.substr(prefix.size());
      break;
    }
  }
  // MLflow 3's /api/3.0 routes are kept apart from 2.0's: "/3.0/mlflow/...".
  std::string v3;
  for (std::string_view prefix : {"/api/3.0/", "/ajax-api/3.0/"}) {
    if (path.starts_with(prefix)) {
      v3 = "/3.0" + std::string(path.substr(prefix.size() - 1));
      rest = v3;
      break;
    }
  }
  if (auto served = HandleArtifactFiles(rest.empty() ? path : rest, request, *impl_->locations,
                                        *impl_->service)) {
    std::string_view p = rest.empty() ? path : rest;
    *route = p.starts_with("/mlflow-artifacts/artifacts") ? "/mlflow-artifacts/artifacts"
                                                          : std::string(p);
    return std::move(*served);
  }
  PathParams params;
  const auto* entry = impl_->routes.Find(rest, &params);
  if (entry != nullptr) {
    *route = entry->first;
  }
  if (rest.empty() || entry == nullptr) {
    return ErrorResponse("ENDPOINT_NOT_FOUND", "No API endpoint at " + std::string(path) + " (" +
                                                   request.method + ")" + OutOfScope(rest));
  }
  const Route& methods = entry->second;
  auto handler = methods.find(request.method);
  if (handler == methods.end()) {
    std::string allowed;
    for (const auto& [method, fn] : methods) {
      allowed += (allowed.empty() ? "" : ", ") + method;
    }
    http::Response r = ErrorResponse(
        "BAD_REQUEST", "Method " + request.method + " is not allowed for " + std::string(path));
    r.status = 405;
    r.headers.emplace_back("Allow", allowed);
    return r;
  }
  const Endpoint& endpoint = handler->second;
  if (endpoint.write) {
    Result<tracking::LogRequest> job = endpoint.write(request);
    if (!job.ok()) {
      return ErrorResponse(job.status());
    }
    *write = std::move(*job);
    return std::nullopt;  // answered once committed
  }
  Result<std::string> out = [&]() -> Result<std::string> {
    PLINTH_ASSIGN_OR_RETURN(tracking::Service::Lease stores, impl_->service->Acquire());
    return endpoint.run(stores, request, params);
  }();
  if (!out.ok()) {
    return ErrorResponse(out.status());
  }
  http::Response r;
  r.body = std::move(*out);
  return r;
}

http::Response MlflowHttpError(int status, const std::string& message) {
  http::Response r = ErrorResponse(http::ErrorCodeForHttpStatus(status), message);
  r.status = status;
  return r;
}

}  // namespace plinth::server
