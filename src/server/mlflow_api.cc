#include "server/mlflow_api.h"

#include <spdlog/spdlog.h>

#include <future>
#include <optional>

#include "core/clock.h"
#include "core/thread_pool.h"
#include "features/feature_server.h"
#include "http/errors.h"
#include "http/metrics.h"
#include "server/auth.h"
#include "server/graphql.h"
#include "server/mlflow_json.h"
#include "server/routes.h"
#include "server/webhooks.h"
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
  std::unique_ptr<WebhookSender> webhooks{
      std::make_unique<WebhookSender>(WebhookPolicy::FromEnvironment())};
  std::unique_ptr<Authenticator> authenticator;  // with --auth
  // POST /get-online-features (Feast's feature server) over the registry in this store.
  std::unique_ptr<features::OnlineFeatureServer> features;
  // Password checks (argon2id, ~0.1 s each) run here, off the I/O threads; at most
  // kMaxPendingSignIns wait, more are answered 503 at once.
  std::unique_ptr<core::ThreadPool> sign_ins;
  std::atomic<int> pending_sign_ins{0};
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

// A request path with repeated slashes merged (as MLflow's router, werkzeug, treats
// //api/2.0//x), and the route under its API prefix: "/mlflow/..." under /api/2.0 and
// /ajax-api/2.0, "/plinth/v1/..." under /api/plinth/v1, "/3.0/mlflow/..." under /api/3.0
// (MLflow 3's routes are kept apart from 2.0's); "" for any other path.
struct ApiPath {
  std::string path;
  std::string rest;
};

ApiPath SplitApiPath(std::string_view raw) {
  ApiPath out;
  for (char c : raw) {
    if (c != '/' || out.path.empty() || out.path.back() != '/') {
      out.path += c;
    }
  }
  std::string_view path = out.path;
  if (path.starts_with("/api/plinth/v1/")) {
    out.rest = path.substr(4);
  }
  for (std::string_view prefix : {"/api/2.0", "/ajax-api/2.0"}) {
    if (path.starts_with(prefix)) {
      out.rest = path.substr(prefix.size());
      break;
    }
  }
  for (std::string_view prefix : {"/api/3.0/", "/ajax-api/3.0/"}) {
    if (path.starts_with(prefix)) {
      out.rest = "/3.0" + std::string(path.substr(prefix.size() - 1));
      break;
    }
  }
  return out;
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

http::Response MlflowApi::AnswerGraphql(const http::Request& request, const Identity* who) {
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
    http::Request inner = RouteRequest(method, path, message);
    if (who != nullptr) {  // each field as if asked through its route
      Status allowed =
          Authorize(*who, impl_->authenticator->options(), inner.method, path, inner, *stores);
      if (allowed.code() == StatusCode::kPermissionDenied) {
        return PermissionDenied("Permission denied: " + std::string(path));
      }
      PLINTH_RETURN_IF_ERROR(allowed);
    }
    PLINTH_ASSIGN_OR_RETURN(std::string text, endpoint->second.run(*stores, inner, params));
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
  service.auth = options.auth.has_value();
  PLINTH_ASSIGN_OR_RETURN(impl->service, tracking::Service::Open(service));
  if (options.auth) {
    impl->authenticator = std::make_unique<Authenticator>(*options.auth);
    impl->sign_ins = std::make_unique<core::ThreadPool>(2);
    PLINTH_ASSIGN_OR_RETURN(tracking::Service::Lease stores, impl->service->Acquire());
    PLINTH_RETURN_IF_ERROR(impl->authenticator->Bootstrap(stores.auth()));
    AddAuthRoutes(impl->routes);
  }
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
  AddWebhookRoutes(impl->routes, *impl->webhooks);
  PLINTH_ASSIGN_OR_RETURN(impl->features, features::OnlineFeatureServer::Open(options.store_uri));
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
  constexpr int kMaxPendingSignIns = 256;
  Impl* impl = impl_.get();
  if (impl->authenticator && !impl->authenticator->Remembered(request)) {
    if (impl->pending_sign_ins.fetch_add(1) >= kMaxPendingSignIns) {
      impl->pending_sign_ins.fetch_sub(1);
      http::Response busy = MlflowHttpError(503, "Too many sign-ins in progress; retry shortly.");
      busy.headers.emplace_back("Retry-After", "1");
      return respond(std::move(busy));
    }
    (void)impl->sign_ins->Submit([this, impl, request = std::move(request), respond]() mutable {
      impl->pending_sign_ins.fetch_sub(1);
      AnswerNow(std::move(request), std::move(respond));
    });
    return;
  }
  AnswerNow(std::move(request), std::move(respond));
}

void MlflowApi::AnswerNow(http::Request request, std::function<void(http::Response)> respond) {
  const int64_t start = core::SystemClock().MonotonicMicros();
  std::string route = "refused";
  tracking::LogRequest write;
  std::optional<Identity> who;
  std::optional<http::Response> now;
  if (impl_->authenticator) {
    now = Admit(request, &who);
  }
  if (!now) {
    now = Dispatch(request, &route, &write, who ? &*who : nullptr);
    if (now && who) {
      if (std::optional<http::Response> failed = AfterAuth(request, *who, *now)) {
        now = std::move(failed);
      }
    }
  }
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
                                                  tracking::LogRequest* write,
                                                  const Identity* who) {
  const ApiPath api = SplitApiPath(request.path);
  std::string_view path = api.path;
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
  if (request.path == "/get-online-features") {
    *route = "/get-online-features";
    if (request.method != "POST") {
      http::Response r =
          ErrorResponse("INVALID_PARAMETER_VALUE", "/get-online-features takes POST");
      r.status = 405;
      return r;
    }
    features::FeatureAnswer a = impl_->features->GetOnlineFeatures(request.body);
    http::Response r;
    r.status = a.status;
    r.body = std::move(a.body);
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
    return AnswerGraphql(request, who);
  }
  if (path == "/v1/traces") {
    *route = "/v1/traces";
    return AnswerOtlpTraces(request, *impl_->service, impl_->options.max_body_bytes);
  }
  if (path == "/version") {
    http::Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::string(kMlflowApiVersion);
    r.headers.emplace_back("X-Plinth-Version", impl_->options.version);
    return r;
  }
  if (path == "/signup" && impl_->authenticator) {
    *route = "/signup";
    return SignupPage();  // Admit let admins only through
  }
  std::string_view rest = api.rest;
  if (impl_->authenticator && rest == "/mlflow/users/create") {
    Result<tracking::Service::Lease> stores = impl_->service->Acquire();
    if (!stores.ok()) {
      return ErrorResponse(stores.status());
    }
    if (std::optional<http::Response> form = SignupForm(*stores, request)) {
      *route = std::string(rest);
      return form;
    }
  }
  if (who != nullptr && !who->is_admin &&
      ((rest == "/mlflow/experiments/search" &&
        (request.method == "GET" || request.method == "POST")) ||
       (rest == "/mlflow/registered-models/search" && request.method == "GET"))) {
    *route = std::string(rest);
    return FilteredSearch(request, rest, *who);
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
    Result<std::string> answer = endpoint.run(stores, request, params);
    if (answer.ok()) {
      FireRegistryEvents(*impl_->webhooks, stores, request, rest, *answer);
    }
    return answer;
  }();
  if (!out.ok()) {
    return ErrorResponse(out.status());
  }
  http::Response r;
  r.body = std::move(*out);
  return r;
}

std::optional<http::Response> MlflowApi::Admit(http::Request& request,
                                               std::optional<Identity>* who) {
  const ApiPath api = SplitApiPath(request.path);
  for (std::string_view open : {"/static", "/favicon.ico", "/health"}) {
    if (api.path.starts_with(open)) {
      return std::nullopt;  // as MLflow: no credentials asked
    }
  }
  Result<tracking::Service::Lease> stores = impl_->service->Acquire();
  if (!stores.ok()) {
    return ErrorResponse(stores.status());
  }
  auto verdict = impl_->authenticator->Authenticate(request, stores->auth());
  if (auto* refused = std::get_if<http::Response>(&verdict)) {
    return std::move(*refused);
  }
  Identity id = std::get<Identity>(std::move(verdict));
  // Registry moves record the signed-in user, never a name the client chose.
  std::erase_if(request.headers, [](const auto& h) { return h.first == "x-plinth-user"; });
  request.headers.emplace_back("x-plinth-user", id.username);
  std::string_view rule = api.rest.empty() ? std::string_view(api.path) : api.rest;
  if (rule.starts_with("/3.0/")) {
    rule.remove_prefix(4);  // MLflow 3's routes need what their 2.0 namesakes need
  }
  Status allowed =
      Authorize(id, impl_->authenticator->options(), request.method, rule, request, *stores);
  if (allowed.code() == StatusCode::kPermissionDenied) {
    return PermissionDeniedResponse();
  }
  if (!allowed.ok()) {
    return ErrorResponse(allowed);
  }
  *who = std::move(id);
  return std::nullopt;
}

std::optional<http::Response> MlflowApi::AfterAuth(const http::Request& request,
                                                   const Identity& who,
                                                   const http::Response& response) {
  if (response.status >= 400) {
    return std::nullopt;
  }
  const ApiPath api = SplitApiPath(request.path);
  auto is = [&](std::string_view method, std::string_view rest) {
    return request.method == method && api.rest == rest;
  };
  bool creates_experiment = is("POST", "/mlflow/experiments/create");
  bool creates_model = is("POST", "/mlflow/registered-models/create");
  bool deletes_model = is("DELETE", "/mlflow/registered-models/delete");
  bool renames_model = is("POST", "/mlflow/registered-models/rename");
  if (!creates_experiment && !creates_model && !deletes_model && !renames_model) {
    return std::nullopt;
  }
  Status s = [&]() -> Status {
    PLINTH_ASSIGN_OR_RETURN(tracking::Service::Lease stores, impl_->service->Acquire());
    tracking::AuthStore& auth = stores.auth();
    using tracking::Resource;
    if (creates_experiment || creates_model) {
      // The creator manages what they made (MLflow's after-request hook).
      PLINTH_ASSIGN_OR_RETURN(Json body, core::ParseJson(response.body, "answer"));
      std::string id = creates_experiment ? body.value("experiment_id", std::string())
                                          : body["registered_model"].value("name", std::string());
      return auth.PutGrant(creates_experiment ? Resource::kExperiment : Resource::kRegisteredModel,
                           id, who.id, tracking::Permission::kManage);
    }
    PLINTH_ASSIGN_OR_RETURN(Json m, core::ParseJson(request.body, "request body"));
    if (deletes_model) {  // a model made again under the name starts with no grants
      return auth.DeleteResource(Resource::kRegisteredModel, m.value("name", std::string()));
    }
    return auth.RenameResource(Resource::kRegisteredModel, m.value("name", std::string()),
                               m.value("new_name", std::string()));
  }();
  if (!s.ok()) {
    spdlog::error("recording the permissions of {} {}: {}", request.method, api.path, s.ToString());
    return ErrorResponse(
        Internal("The change was made, but its permissions were not recorded: " + s.message()));
  }
  return std::nullopt;
}

http::Response MlflowApi::FilteredSearch(const http::Request& request, std::string_view rest,
                                         const Identity& who) {
  const bool experiments = rest == "/mlflow/experiments/search";
  const char* list_key = experiments ? "experiments" : "registered_models";
  const char* id_key = experiments ? "experiment_id" : "name";
  const auto kind =
      experiments ? tracking::Resource::kExperiment : tracking::Resource::kRegisteredModel;
  PathParams params;
  const auto* entry = impl_->routes.Find(rest, &params);
  const Endpoint& endpoint = entry->second.at(request.method);
  Result<tracking::Service::Lease> stores = impl_->service->Acquire();
  if (!stores.ok()) {
    return ErrorResponse(stores.status());
  }
  // The request asked again page by page: same filter and order, from `offset`.
  auto page = [&](int64_t offset, int64_t max_results) -> Result<Json> {
    http::Request r = request;
    std::string token = offset > 0 ? tracking::EncodePageToken(offset) : "";
    if (r.method == "GET") {
      std::erase_if(r.query, [](const auto& q) {
        return q.first == "page_token" || q.first == "max_results";
      });
      r.query.emplace_back("max_results", std::to_string(max_results));
      if (!token.empty()) {
        r.query.emplace_back("page_token", token);
      }
    } else {
      Result<Json> body = core::ParseJson(r.body.empty() ? "{}" : r.body, "request body");
      if (body.ok() && body->is_object()) {
        (*body)["max_results"] = max_results;
        body->erase("page_token");
        if (!token.empty()) {
          (*body)["page_token"] = token;
        }
        r.body = core::DumpJson(*body, false);
      }
    }
    PLINTH_ASSIGN_OR_RETURN(std::string text, endpoint.run(*stores, r, params));
    return core::ParseJson(text, "search answer");
  };
  // The asked page size and start; any other bad field is the route's own error, answered
  // from the first page.
  Result<Json> first = ReadMessage(
      request, {{"max_results", FieldType::kInt64}, {"page_token", FieldType::kString}});
  if (!first.ok()) {
    return ErrorResponse(first.status());
  }
  int64_t max_results = first->value("max_results", int64_t{experiments ? 1000 : 100});
  int64_t offset = 0;
  if (std::string t = first->value("page_token", std::string()); !t.empty()) {
    Result<int64_t> decoded = tracking::DecodePageToken(t);
    if (!decoded.ok()) {
      return ErrorResponse(decoded.status());
    }
    offset = *decoded;
  }
  Json found = Json::array();
  std::string next;
  while (max_results > 0) {
    Result<Json> answer = page(offset, max_results);
    if (!answer.ok()) {
      return ErrorResponse(answer.status());
    }
    const Json items = answer->value(list_key, Json::array());
    bool more_pages = !answer->value("next_page_token", std::string()).empty();
    for (size_t i = 0; i < items.size(); ++i) {
      ++offset;
      const Json& item = items[i];
      Result<tracking::Permission> p =
          EffectivePermission(who, impl_->authenticator->options(), kind,
                              item.value(id_key, std::string()), stores->auth());
      if (!p.ok()) {
        return ErrorResponse(p.status());
      }
      if (!tracking::CanRead(*p)) {
        continue;
      }
      found.push_back(item);
      if (static_cast<int64_t>(found.size()) == max_results) {
        if (i + 1 < items.size() || more_pages) {
          next = tracking::EncodePageToken(offset);
        }
        more_pages = false;
        break;
      }
    }
    if (!more_pages || items.empty()) {
      break;
    }
  }
  Json out = Json::object();
  if (!found.empty()) {
    out[list_key] = std::move(found);
  }
  if (!next.empty()) {
    out["next_page_token"] = next;
  }
  return JsonResponse(out);
}

http::Response MlflowHttpError(int status, const std::string& message) {
  http::Response r = ErrorResponse(http::ErrorCodeForHttpStatus(status), message);
  r.status = status;
  return r;
}

}  // namespace plinth::server
