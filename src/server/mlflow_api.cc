#include "server/mlflow_api.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "core/clock.h"
#include "server/mlflow_json.h"
#include "tracking/tracking_store.h"

namespace plinth::server {
namespace {

using core::Json;
using tracking::TrackingStore;

constexpr size_t kMaxBatchRequestBytes = 1'000'000;  // MLflow's MAX_BATCH_LOG_REQUEST_SIZE

std::string Str(const Json& m, const char* key) {
  return m.contains(key) ? m[key].get<std::string>() : std::string();
}

std::vector<std::string> StrList(const Json& m, const char* key) {
  std::vector<std::string> out;
  if (m.contains(key)) {
    for (const Json& v : m[key]) {
      out.push_back(v.get<std::string>());
    }
  }
  return out;
}

// run_id, or the deprecated run_uuid, as MLflow's handlers take either.
Result<std::string> RunId(const Json& m) {
  std::string id = Str(m, "run_id");
  if (id.empty()) {
    id = Str(m, "run_uuid");
  }
  if (id.empty()) {
    return InvalidArgument(
        "Missing value for required parameter 'run_id'. See the API docs for more information "
        "about request parameters.");
  }
  return id;
}

Result<std::vector<tracking::Tag>> Tags(const Json& m, const char* key) {
  std::vector<tracking::Tag> out;
  if (!m.contains(key)) {
    return out;
  }
  for (const Json& t : m[key]) {
    if (!t.contains("key") || !t["key"].is_string() ||
        (t.contains("value") && !t["value"].is_string())) {
      return InvalidArgument("Invalid value " + core::DumpJson(m[key], false) +
                             " for parameter '" + key +
                             "' supplied. Hint: each tag needs a string key and a string value.");
    }
    out.push_back({t["key"].get<std::string>(), t.value("value", "")});
  }
  return out;
}

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

using HandlerFn = std::function<Result<Json>(TrackingStore&, const http::Request&)>;

struct Route {
  std::vector<std::string> methods;
  HandlerFn fn;
};

}  // namespace

struct MlflowApi::Impl {
  ApiOptions options;
  std::mutex mu;
  std::vector<std::unique_ptr<TrackingStore>> free_stores;
  std::map<std::string, Route, std::less<>> routes;

  Result<std::unique_ptr<TrackingStore>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!free_stores.empty()) {
        auto s = std::move(free_stores.back());
        free_stores.pop_back();
        return s;
      }
    }
    return tracking::OpenTrackingStore(options.store_uri, options.artifact_root);
  }

  void Release(std::unique_ptr<TrackingStore> s) {
    std::lock_guard<std::mutex> lock(mu);
    free_stores.push_back(std::move(s));
  }

  void Add(std::string path, std::vector<std::string> methods, HandlerFn fn) {
    routes[std::move(path)] = {std::move(methods), std::move(fn)};
  }

  void AddTrackingRoutes();
};

void MlflowApi::Impl::AddTrackingRoutes() {
  using F = FieldType;
  // Experiments.
  Add("/mlflow/experiments/create", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"name", F::kString, true},
                                                    {"artifact_location", F::kString},
                                                    {"tags", F::kObjectList}}));
    PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
    PLINTH_ASSIGN_OR_RETURN(std::string id,
                            s.CreateExperiment(Str(m, "name"), Str(m, "artifact_location"), tags));
    return Json{{"experiment_id", id}};
  });
  Add("/mlflow/experiments/get", {"GET"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
    PLINTH_ASSIGN_OR_RETURN(tracking::Experiment e, s.GetExperiment(Str(m, "experiment_id")));
    return Json{{"experiment", ToJson(e)}};
  });
  Add("/mlflow/experiments/get-by-name", {"GET"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_name", F::kString, true}}));
    PLINTH_ASSIGN_OR_RETURN(tracking::Experiment e,
                            s.GetExperimentByName(Str(m, "experiment_name")));
    return Json{{"experiment", ToJson(e)}};
  });
  Add("/mlflow/experiments/search", {"GET", "POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"max_results", F::kInt64},
                                                        {"page_token", F::kString},
                                                        {"filter", F::kString},
                                                        {"order_by", F::kStringList},
                                                        {"view_type", F::kEnum}}));
        tracking::ExperimentQuery q;
        PLINTH_ASSIGN_OR_RETURN(q.view_type,
                                EnumField(m, "view_type", tracking::ViewType::kActiveOnly,
                                          tracking::ParseViewType, 3));
        q.max_results = m.value("max_results", int64_t{1000});
        q.filter = Str(m, "filter");
        q.order_by = StrList(m, "order_by");
        q.page_token = Str(m, "page_token");
        PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchExperiments(q));
        Json out = Json::object();
        if (!page.items.empty()) {
          Json list = Json::array();
          for (const auto& e : page.items) {
            list.push_back(ToJson(e));
          }
          out["experiments"] = std::move(list);
        }
        if (!page.next_page_token.empty()) {
          out["next_page_token"] = page.next_page_token;
        }
        return out;
      });
  Add("/mlflow/experiments/delete", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
    PLINTH_RETURN_IF_ERROR(s.DeleteExperiment(Str(m, "experiment_id")));
    return Json::object();
  });
  Add("/mlflow/experiments/restore", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
    PLINTH_RETURN_IF_ERROR(s.RestoreExperiment(Str(m, "experiment_id")));
    return Json::object();
  });
  Add("/mlflow/experiments/update", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true},
                                                    {"new_name", F::kString, true}}));
    PLINTH_RETURN_IF_ERROR(s.RenameExperiment(Str(m, "experiment_id"), Str(m, "new_name")));
    return Json::object();
  });
  Add("/mlflow/experiments/set-experiment-tag", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true},
                                                        {"key", F::kString, true},
                                                        {"value", F::kString}}));
        PLINTH_RETURN_IF_ERROR(
            s.SetExperimentTag(Str(m, "experiment_id"), {Str(m, "key"), Str(m, "value")}));
        return Json::object();
      });
  Add("/mlflow/experiments/delete-experiment-tag", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true},
                                                        {"key", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.DeleteExperimentTag(Str(m, "experiment_id"), Str(m, "key")));
        return Json::object();
      });

  // Runs.
  Add("/mlflow/runs/create", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString},
                                                    {"user_id", F::kString},
                                                    {"run_name", F::kString},
                                                    {"start_time", F::kInt64},
                                                    {"tags", F::kObjectList}}));
    tracking::NewRun n;
    n.experiment_id = Str(m, "experiment_id");
    n.user_id = Str(m, "user_id");
    n.run_name = Str(m, "run_name");
    if (m.contains("start_time")) {
      n.start_time = m["start_time"].get<int64_t>();
    }
    PLINTH_ASSIGN_OR_RETURN(n.tags, Tags(m, "tags"));
    PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.CreateRun(n));
    return Json{{"run", ToJson(run)}};
  });
  Add("/mlflow/runs/update", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                        {"run_uuid", F::kString},
                                                        {"status", F::kEnum},
                                                        {"end_time", F::kInt64},
                                                        {"run_name", F::kString}}));
        PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
        std::optional<tracking::RunStatus> status;
        if (m.contains("status")) {
          PLINTH_ASSIGN_OR_RETURN(status, EnumField(m, "status", tracking::RunStatus::kRunning,
                                                    tracking::ParseRunStatus, 5));
        }
        std::optional<int64_t> end;
        if (m.contains("end_time")) {
          end = m["end_time"].get<int64_t>();
        }
        PLINTH_ASSIGN_OR_RETURN(tracking::RunInfo info,
                                s.UpdateRun(id, status, end, Str(m, "run_name")));
        return Json{{"run_info", ToJson(info)}};
      });
  Add("/mlflow/runs/delete", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true}}));
    PLINTH_RETURN_IF_ERROR(s.DeleteRun(Str(m, "run_id")));
    return Json::object();
  });
  Add("/mlflow/runs/restore", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true}}));
    PLINTH_RETURN_IF_ERROR(s.RestoreRun(Str(m, "run_id")));
    return Json::object();
  });
  Add("/mlflow/runs/get", {"GET"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m,
                            ReadMessage(r, {{"run_id", F::kString}, {"run_uuid", F::kString}}));
    PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
    PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.GetRun(id));
    return Json{{"run", ToJson(run)}};
  });
  Add("/mlflow/runs/log-metric", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                    {"run_uuid", F::kString},
                                                    {"key", F::kString, true},
                                                    {"value", F::kDouble, true},
                                                    {"timestamp", F::kInt64, true},
                                                    {"step", F::kInt64}}));
    PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
    PLINTH_RETURN_IF_ERROR(s.LogMetric(id, {Str(m, "key"), m["value"].get<double>(),
                                            m["timestamp"].get<int64_t>(),
                                            m.value("step", int64_t{0})}));
    return Json::object();
  });
  Add("/mlflow/runs/log-parameter", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                    {"run_uuid", F::kString},
                                                    {"key", F::kString, true},
                                                    {"value", F::kString}}));
    PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
    PLINTH_RETURN_IF_ERROR(s.LogParam(id, {Str(m, "key"), Str(m, "value")}));
    return Json::object();
  });
  Add("/mlflow/runs/set-tag", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                    {"run_uuid", F::kString},
                                                    {"key", F::kString, true},
                                                    {"value", F::kString}}));
    PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
    PLINTH_RETURN_IF_ERROR(s.SetTag(id, {Str(m, "key"), Str(m, "value")}));
    return Json::object();
  });
  Add("/mlflow/runs/delete-tag", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(
        Json m, ReadMessage(r, {{"run_id", F::kString, true}, {"key", F::kString, true}}));
    PLINTH_RETURN_IF_ERROR(s.DeleteTag(Str(m, "run_id"), Str(m, "key")));
    return Json::object();
  });
  Add("/mlflow/runs/log-batch", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        if (r.body.size() > kMaxBatchRequestBytes) {
          return InvalidArgument("Batched logging API requests must be at most " +
                                 std::to_string(kMaxBatchRequestBytes) +
                                 " bytes, got a request of size " + std::to_string(r.body.size()) +
                                 ".");
        }
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true},
                                                        {"metrics", F::kObjectList},
                                                        {"params", F::kObjectList},
                                                        {"tags", F::kObjectList}}));
        std::vector<tracking::Metric> metrics;
        if (m.contains("metrics")) {
          for (const Json& j : m["metrics"]) {
            Result<Json> one = ReadFields(
                j, {{"key", F::kString, true},
                 {"value", F::kDouble, true},
                 {"timestamp", F::kInt64, true},
                 {"step", F::kInt64}});
            if (!one.ok()) {
              return InvalidArgument("Invalid value " + core::DumpJson(m["metrics"], false) +
                                     " for parameter 'metrics' supplied: " +
                                     one.status().message());
            }
            metrics.push_back({Str(*one, "key"), (*one)["value"].get<double>(),
                               (*one)["timestamp"].get<int64_t>(),
                               one->value("step", int64_t{0})});
          }
        }
        PLINTH_ASSIGN_OR_RETURN(auto param_tags, Tags(m, "params"));
        std::vector<tracking::Param> params;
        for (const auto& t : param_tags) {
          params.push_back({t.key, t.value});
        }
        PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
        PLINTH_RETURN_IF_ERROR(s.LogBatch(Str(m, "run_id"), metrics, params, tags));
        return Json::object();
      });
  Add("/mlflow/runs/log-inputs", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true},
                                                        {"datasets", F::kObjectList, true}}));
        std::vector<tracking::DatasetInput> inputs;
        for (const Json& j : m["datasets"]) {
          tracking::DatasetInput in;
          PLINTH_ASSIGN_OR_RETURN(in.tags, Tags(j, "tags"));
          const Json d = j.value("dataset", Json::object());
          if (!d.is_object()) {
            return InvalidArgument("Missing value for required parameter 'datasets.dataset'.");
          }
          in.dataset.name = d.value("name", "");
          in.dataset.digest = d.value("digest", "");
          in.dataset.source_type = d.value("source_type", "");
          in.dataset.source = d.value("source", "");
          if (d.contains("schema") && d["schema"].is_string()) {
            in.dataset.schema = d["schema"].get<std::string>();
          }
          if (d.contains("profile") && d["profile"].is_string()) {
            in.dataset.profile = d["profile"].get<std::string>();
          }
          inputs.push_back(std::move(in));
        }
        PLINTH_RETURN_IF_ERROR(s.LogInputs(Str(m, "run_id"), inputs));
        return Json::object();
      });
  Add("/mlflow/runs/search", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_ids", F::kStringList},
                                                        {"filter", F::kString},
                                                        {"run_view_type", F::kEnum},
                                                        {"max_results", F::kInt64},
                                                        {"order_by", F::kStringList},
                                                        {"page_token", F::kString}}));
        tracking::RunQuery q;
        q.experiment_ids = StrList(m, "experiment_ids");
        q.filter = Str(m, "filter");
        PLINTH_ASSIGN_OR_RETURN(q.view_type,
                                EnumField(m, "run_view_type", tracking::ViewType::kActiveOnly,
                                          tracking::ParseViewType, 3));
        q.max_results = m.value("max_results", int64_t{1000});
        q.order_by = StrList(m, "order_by");
        q.page_token = Str(m, "page_token");
        PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchRuns(q));
        Json out = Json::object();
        if (!page.items.empty()) {
          Json list = Json::array();
          for (const auto& run : page.items) {
            list.push_back(ToJson(run));
          }
          out["runs"] = std::move(list);
        }
        if (!page.next_page_token.empty()) {
          out["next_page_token"] = page.next_page_token;
        }
        return out;
      });
  Add("/mlflow/metrics/get-history", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                        {"run_uuid", F::kString},
                                                        {"metric_key", F::kString, true},
                                                        {"page_token", F::kString},
                                                        {"max_results", F::kInt64}}));
        PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
        PLINTH_ASSIGN_OR_RETURN(auto page,
                                s.GetMetricHistory(id, Str(m, "metric_key"),
                                                   m.value("max_results", int64_t{0}),
                                                   Str(m, "page_token")));
        Json out = Json::object();
        if (!page.items.empty()) {
          Json list = Json::array();
          for (const auto& metric : page.items) {
            list.push_back(ToJson(metric));
          }
          out["metrics"] = std::move(list);
        }
        if (!page.next_page_token.empty()) {
          out["next_page_token"] = page.next_page_token;
        }
        return out;
      });
}

MlflowApi::MlflowApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MlflowApi::~MlflowApi() = default;

Result<std::unique_ptr<MlflowApi>> MlflowApi::Create(const ApiOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  PLINTH_ASSIGN_OR_RETURN(auto first, impl->Acquire());
  impl->Release(std::move(first));
  impl->AddTrackingRoutes();
  return std::unique_ptr<MlflowApi>(new MlflowApi(std::move(impl)));
}

http::Response MlflowApi::Handle(const http::Request& request) {
  std::string_view path = request.path;
  if (path == "/health") {
    http::Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "OK";
    return r;
  }
  if (path == "/version") {
    http::Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = impl_->options.version;
    return r;
  }
  std::string_view rest;
  for (std::string_view prefix : {"/api/2.0", "/ajax-api/2.0"}) {
    if (path.starts_with(prefix)) {
      rest = path.substr(prefix.size());
      break;
    }
  }
  auto it = impl_->routes.find(rest);
  if (rest.empty() || it == impl_->routes.end()) {
    return ErrorResponse("ENDPOINT_NOT_FOUND",
                         "No API endpoint at " + std::string(path) + " (" + request.method + ")");
  }
  const Route& route = it->second;
  if (std::find(route.methods.begin(), route.methods.end(), request.method) ==
      route.methods.end()) {
    http::Response r = ErrorResponse("BAD_REQUEST", "Method " + request.method +
                                                        " is not allowed for " +
                                                        std::string(path));
    r.status = 405;
    return r;
  }
  Result<std::unique_ptr<TrackingStore>> store = impl_->Acquire();
  if (!store.ok()) {
    return ErrorResponse(store.status());
  }
  Result<Json> out = route.fn(**store, request);
  impl_->Release(std::move(*store));
  if (!out.ok()) {
    return ErrorResponse(out.status());
  }
  return JsonResponse(*out);
}

http::Response MlflowHttpError(int status, const std::string& message) {
  http::Response r = ErrorResponse(status == 413 ? "RESOURCE_EXHAUSTED" : "BAD_REQUEST", message);
  r.status = status;
  return r;
}

}  // namespace plinth::server
