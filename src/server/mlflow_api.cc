#include "server/mlflow_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "core/batcher.h"
#include "core/clock.h"
#include "http/errors.h"
#include "http/metrics.h"
#include "server/mlflow_json.h"
#include "store/checkpointer.h"
#include "tracking/artifacts.h"
#include "tracking/registry_store.h"
#include "tracking/tracking_store.h"

namespace plinth::server {
namespace {

using core::Json;
using tracking::ArtifactRoot;
using tracking::FileInfo;
using tracking::GuessMimeType;
using tracking::ProxiedPath;
using tracking::SafeRelativePath;
using tracking::TrackingStore;

constexpr size_t kMaxBatchRequestBytes = 1'000'000;  // MLflow's MAX_BATCH_LOG_REQUEST_SIZE
// Logging requests merged into one transaction, at most.
constexpr size_t kMaxLogsPerCommit = 256;
// How often the SQLite log is moved into the database file, off the writer.
constexpr int kCheckpointIntervalMs = 50;

// A string field of a message ReadMessage checked ("" when absent).
std::string Str(const Json& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A list of strings of a message ReadMessage checked (empty when absent).
std::vector<std::string> StrList(const Json& m, const char* key) {
  std::vector<std::string> out;
  auto it = m.find(key);
  if (it != m.end() && it->is_array()) {
    for (const Json& v : *it) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
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
  auto list = m.find(key);
  if (list == m.end() || list->is_null()) {
    return out;
  }
  if (!list->is_array()) {
    return InvalidArgument("Invalid value " + core::JsonPreview(*list) + " for parameter '" + key +
                           "' supplied. Hint: expected a list of tags.");
  }
  for (const Json& t : *list) {
    if (!t.is_object() || !t.contains("key") || !t["key"].is_string() ||
        (t.contains("value") && !t["value"].is_string())) {
      return InvalidArgument("Invalid value " + core::JsonPreview(m[key]) + " for parameter '" +
                             key +
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

// One connection's stores: tracking and registry share the database.
struct Stores {
  std::unique_ptr<TrackingStore> tracking;
  std::unique_ptr<tracking::RegistryStore> registry;
};

// A handler's answer as response text: a tree is dumped, text is already JSON.
Result<std::string> Body(Result<Json> j) {
  if (!j.ok()) {
    return j.status();
  }
  return core::DumpJson(*j, false);
}
Result<std::string> Body(Result<std::string> text) { return text; }

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
Result<tracking::ModelQuery> ReadModelQuery(const http::Request& r, int64_t max_results) {
  PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"filter", FieldType::kString},
                                                  {"max_results", FieldType::kInt64},
                                                  {"order_by", FieldType::kStringList},
                                                  {"page_token", FieldType::kString}}));
  return tracking::ModelQuery{Str(m, "filter"), m.value("max_results", max_results),
                              StrList(m, "order_by"), Str(m, "page_token")};
}

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

// Handlers answer with the response body: JSON text.
using HandlerFn = std::function<Result<std::string>(Stores&, const http::Request&)>;
// A logging write, read from the request on the I/O thread and then written by
// the group commit; the answer is {} once it is committed.
using WriteFn = std::function<Result<tracking::LogRequest>(const http::Request&)>;

// A logging write waiting for the group commit, and how to answer it.
struct PendingLog {
  tracking::LogRequest request;
  std::function<void(Status)> done;
};

// One method of a path: answered at once, or a write that joins a group commit.
struct Endpoint {
  HandlerFn run;
  WriteFn write;
};

// A path's endpoints by HTTP method.
using Route = std::map<std::string, Endpoint, std::less<>>;

}  // namespace

struct MlflowApi::Impl {
  ApiOptions options;
  std::mutex mu;
  std::vector<Stores> free_stores;
  std::map<std::string, Route, std::less<>> routes;

  Result<Stores> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!free_stores.empty()) {
        Stores s = std::move(free_stores.back());
        free_stores.pop_back();
        return s;
      }
    }
    Stores s;
    PLINTH_ASSIGN_OR_RETURN(s.tracking,
                            tracking::OpenTrackingStore(options.store_uri, kProxiedArtifactRoot));
    PLINTH_ASSIGN_OR_RETURN(s.registry, tracking::OpenRegistryStore(options.store_uri));
    return s;
  }

  void Release(Stores s) {
    std::lock_guard<std::mutex> lock(mu);
    free_stores.push_back(std::move(s));
  }

  // A tracking route; `fn(TrackingStore&, const http::Request&)` returns
  // Result<Json> or Result<std::string> (JSON text).
  template <typename Fn>
  void Add(const std::string& path, const std::vector<std::string>& methods, Fn fn) {
    for (const std::string& m : methods) {
      routes[path][m].run = [fn](Stores& s, const http::Request& r) {
        return Body(fn(*s.tracking, r));
      };
    }
  }

  // A registry route, as Add with a RegistryStore.
  template <typename Fn>
  void AddRegistry(const std::string& path, const std::string& method, Fn fn) {
    routes[path][method].run = [fn](Stores& s, const http::Request& r) {
      return Body(fn(*s.registry, r));
    };
  }

  void AddWrite(const std::string& path, WriteFn fn) { routes[path]["POST"].write = std::move(fn); }

  void AddTrackingRoutes();
  void AddRegistryRoutes();
  void AddArtifactRoutes();
  void AddPlinthRoutes();
  // /mlflow-artifacts/artifacts[/PATH], /get-artifact, /model-versions/get-artifact.
  std::optional<http::Response> HandleArtifacts(std::string_view rest, const http::Request& r);

  std::unique_ptr<ArtifactRoot> artifacts;
  http::RequestMetrics request_metrics{"plinth_server"};
  // The logging writes of every connection go through one writer connection
  // and its group commit: under many concurrent loggers a transaction carries
  // many requests in merged statements, and the writer's page cache stays warm.
  std::unique_ptr<store::Checkpointer> checkpointer;  // SQLite: the writer never checkpoints
  std::unique_ptr<TrackingStore> writer;
  std::unique_ptr<core::Batcher<PendingLog>> commit;
  // (Declared last: the group commit drains its queue before the rest goes.)
};

void MlflowApi::Impl::AddTrackingRoutes() {
  using F = FieldType;
  // Experiments.
  Add("/mlflow/experiments/create", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"name", F::kString, true},
                                                        {"artifact_location", F::kString},
                                                        {"tags", F::kObjectList}}));
        PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
        PLINTH_ASSIGN_OR_RETURN(
            std::string id, s.CreateExperiment(Str(m, "name"), Str(m, "artifact_location"), tags));
        return Json{{"experiment_id", id}};
      });
  Add("/mlflow/experiments/get", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
        PLINTH_ASSIGN_OR_RETURN(tracking::Experiment e, s.GetExperiment(Str(m, "experiment_id")));
        return Json{{"experiment", ToJson(e)}};
      });
  Add("/mlflow/experiments/get-by-name", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_name", F::kString, true}}));
        PLINTH_ASSIGN_OR_RETURN(tracking::Experiment e,
                                s.GetExperimentByName(Str(m, "experiment_name")));
        return Json{{"experiment", ToJson(e)}};
      });
  Add("/mlflow/experiments/search", {"GET", "POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"max_results", F::kInt64},
                                                        {"page_token", F::kString},
                                                        {"filter", F::kString},
                                                        {"order_by", F::kStringList},
                                                        {"view_type", F::kEnum}}));
        tracking::ExperimentQuery q;
        PLINTH_ASSIGN_OR_RETURN(
            q.view_type,
            EnumField(m, "view_type", tracking::ViewType::kActiveOnly, tracking::ParseViewType, 3));
        q.max_results = m.value("max_results", int64_t{1000});
        q.filter = Str(m, "filter");
        q.order_by = StrList(m, "order_by");
        q.page_token = Str(m, "page_token");
        PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchExperiments(q));
        return PageText("experiments", page);
      });
  Add("/mlflow/experiments/delete", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.DeleteExperiment(Str(m, "experiment_id")));
        return Json::object();
      });
  Add("/mlflow/experiments/restore", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.RestoreExperiment(Str(m, "experiment_id")));
        return Json::object();
      });
  Add("/mlflow/experiments/update", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
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
  Add("/mlflow/runs/create", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
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
        return MemberText("run", run);
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
  Add("/mlflow/runs/delete", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.DeleteRun(Str(m, "run_id")));
        return Json::object();
      });
  Add("/mlflow/runs/restore", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.RestoreRun(Str(m, "run_id")));
        return Json::object();
      });
  Add("/mlflow/runs/get", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(Json m,
                                ReadMessage(r, {{"run_id", F::kString}, {"run_uuid", F::kString}}));
        PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
        PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.GetRun(id));
        return MemberText("run", run);
      });
  AddWrite("/mlflow/runs/log-metric", [](const http::Request& r) -> Result<tracking::LogRequest> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                    {"run_uuid", F::kString},
                                                    {"key", F::kString, true},
                                                    {"value", F::kDouble, true},
                                                    {"timestamp", F::kInt64, true},
                                                    {"step", F::kInt64}}));
    PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
    tracking::LogRequest log{std::move(id), {}, {}, {}};
    log.metrics.push_back({Str(m, "key"), m["value"].get<double>(), m["timestamp"].get<int64_t>(),
                           m.value("step", int64_t{0})});
    return log;
  });
  // log-parameter and set-tag: a key and a value for a run.
  auto key_value = [](bool param) {
    return [param](const http::Request& r) -> Result<tracking::LogRequest> {
      PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                      {"run_uuid", F::kString},
                                                      {"key", F::kString, true},
                                                      {"value", F::kString}}));
      PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
      tracking::LogRequest log{std::move(id), {}, {}, {}};
      if (param) {
        log.params.push_back({Str(m, "key"), Str(m, "value")});
      } else {
        log.tags.push_back({Str(m, "key"), Str(m, "value")});
      }
      return log;
    };
  };
  AddWrite("/mlflow/runs/log-parameter", key_value(true));
  AddWrite("/mlflow/runs/set-tag", key_value(false));
  Add("/mlflow/runs/delete-tag", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {{"run_id", F::kString, true}, {"key", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.DeleteTag(Str(m, "run_id"), Str(m, "key")));
        return Json::object();
      });
  AddWrite("/mlflow/runs/log-batch", [](const http::Request& r) -> Result<tracking::LogRequest> {
    if (r.body.size() > kMaxBatchRequestBytes) {
      return InvalidArgument(
          "Batched logging API requests must be at most " + std::to_string(kMaxBatchRequestBytes) +
          " bytes, got a request of size " + std::to_string(r.body.size()) + ".");
    }
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true},
                                                    {"metrics", F::kObjectList},
                                                    {"params", F::kObjectList},
                                                    {"tags", F::kObjectList}}));
    std::vector<tracking::Metric> metrics;
    if (m.contains("metrics")) {
      for (const Json& j : m["metrics"]) {
        Result<Json> one = ReadFields(j, {{"key", F::kString, true},
                                          {"value", F::kDouble, true},
                                          {"timestamp", F::kInt64, true},
                                          {"step", F::kInt64}});
        if (!one.ok()) {
          return InvalidArgument("Invalid value " + core::JsonPreview(m["metrics"]) +
                                 " for parameter 'metrics' supplied: " + one.status().message());
        }
        metrics.push_back({Str(*one, "key"), (*one)["value"].get<double>(),
                           (*one)["timestamp"].get<int64_t>(), one->value("step", int64_t{0})});
      }
    }
    PLINTH_ASSIGN_OR_RETURN(auto param_tags, Tags(m, "params"));
    std::vector<tracking::Param> params;
    for (const auto& t : param_tags) {
      params.push_back({t.key, t.value});
    }
    PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
    return tracking::LogRequest{Str(m, "run_id"), std::move(metrics), std::move(params),
                                std::move(tags)};
  });
  Add("/mlflow/runs/log-inputs", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true},
                                                        {"datasets", F::kObjectList, true}}));
        std::vector<tracking::DatasetInput> inputs;
        for (const Json& j : m["datasets"]) {
          tracking::DatasetInput in;
          PLINTH_ASSIGN_OR_RETURN(in.tags, Tags(j, "tags"));
          auto found = j.find("dataset");
          if (found == j.end() || !found->is_object()) {
            return InvalidArgument("Missing value for required parameter 'datasets.dataset'.");
          }
          Result<Json> d = ReadFields(*found, {{"name", F::kString},
                                               {"digest", F::kString},
                                               {"source_type", F::kString},
                                               {"source", F::kString},
                                               {"schema", F::kString},
                                               {"profile", F::kString}});
          if (!d.ok()) {
            return InvalidArgument(
                "Invalid value " + core::JsonPreview(*found) +
                " for parameter 'datasets.dataset' supplied: " + d.status().message());
          }
          in.dataset.name = Str(*d, "name");
          in.dataset.digest = Str(*d, "digest");
          in.dataset.source_type = Str(*d, "source_type");
          in.dataset.source = Str(*d, "source");
          if (d->contains("schema")) {
            in.dataset.schema = Str(*d, "schema");
          }
          if (d->contains("profile")) {
            in.dataset.profile = Str(*d, "profile");
          }
          inputs.push_back(std::move(in));
        }
        PLINTH_RETURN_IF_ERROR(s.LogInputs(Str(m, "run_id"), inputs));
        return Json::object();
      });
  Add("/mlflow/runs/search", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
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
        return PageText("runs", page);
      });
  Add("/mlflow/runs/log-model", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true},
                                                        {"model_json", F::kString, true}}));
        Result<Json> model = core::ParseJson(Str(m, "model_json"), "model_json");
        if (!model.ok() || !model->is_object()) {
          return InvalidArgument("Malformed model info. \n " + Str(m, "model_json") +
                                 " \n is not a valid JSON.");
        }
        std::string missing;
        for (const char* k : {"artifact_path", "flavors", "utc_time_created", "run_id"}) {
          if (!model->contains(k)) {
            missing += std::string(missing.empty() ? "" : ", ") + "'" + k + "'";
          }
        }
        if (!missing.empty()) {
          return InvalidArgument("Model json is missing mandatory fields: {" + missing + "}");
        }
        // As MLflow: appended to the run's mlflow.log-model.history tag.
        PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.GetRun(Str(m, "run_id")));
        Json history = Json::array();
        for (const auto& t : run.tags) {
          if (t.key == "mlflow.log-model.history") {
            Result<Json> old = core::ParseJson(t.value, "mlflow.log-model.history");
            if (old.ok() && old->is_array()) {
              history = std::move(*old);
            }
          }
        }
        history.push_back(*model);
        PLINTH_RETURN_IF_ERROR(s.SetTag(
            run.info.run_id, {"mlflow.log-model.history", core::DumpJson(history, false)}));
        return Json::object();
      });
  // The UI's charts: one metric of several runs, sampled to at most max_results
  // points per run (the first and last step always kept).
  Add("/mlflow/metrics/get-history-bulk-interval", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_ids", F::kStringList, true},
                                                        {"metric_key", F::kString, true},
                                                        {"start_step", F::kInt64},
                                                        {"end_step", F::kInt64},
                                                        {"max_results", F::kInt64}}));
        std::vector<std::string> ids = StrList(m, "run_ids");
        if (ids.size() > 100) {
          return InvalidArgument(
              "GetMetricHistoryBulkInterval request must specify at most 100 "
              "run_ids. Received " +
              std::to_string(ids.size()) + " run_ids.");
        }
        if (m.contains("start_step") != m.contains("end_step")) {
          return InvalidArgument(
              "If either start step or end step are specified, both must be "
              "specified.");
        }
        const int64_t max = m.value("max_results", int64_t{320});
        if (max <= 0 || max > 1000) {
          return InvalidArgument("max_results must be between 1 and 1000, got " +
                                 std::to_string(max));
        }
        std::sort(ids.begin(), ids.end());
        std::string out;
        core::JsonWriter w(&out);
        w.BeginObject();
        bool any = false;
        for (const std::string& id : ids) {
          PLINTH_ASSIGN_OR_RETURN(auto page, s.GetMetricHistory(id, Str(m, "metric_key"), 0, ""));
          std::vector<tracking::Metric> pts;
          for (const auto& p : page.items) {
            if (!m.contains("start_step") || (p.step >= m["start_step"].get<int64_t>() &&
                                              p.step <= m["end_step"].get<int64_t>())) {
              pts.push_back(p);
            }
          }
          const size_t n = pts.size();
          const size_t keep = std::min(n, static_cast<size_t>(max));
          for (size_t i = 0; i < keep; ++i) {
            size_t at = keep <= 1 ? 0 : i * (n - 1) / (keep - 1);
            if (!any) {
              w.Key("metrics").BeginArray();
              any = true;
            }
            WriteJson(w, pts[at], id);
          }
        }
        if (any) {
          w.EndArray();
        }
        w.EndObject();
        return out;
      });
  Add("/mlflow/metrics/get-history", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                        {"run_uuid", F::kString},
                                                        {"metric_key", F::kString, true},
                                                        {"page_token", F::kString},
                                                        {"max_results", F::kInt64}}));
        PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
        PLINTH_ASSIGN_OR_RETURN(auto page, s.GetMetricHistory(id, Str(m, "metric_key"),
                                                              m.value("max_results", int64_t{0}),
                                                              Str(m, "page_token")));
        return PageText("metrics", page);
      });
}

void MlflowApi::Impl::AddRegistryRoutes() {
  using F = FieldType;
  using tracking::RegistryStore;
  const std::string rm = "/mlflow/registered-models/";
  const std::string mv = "/mlflow/model-versions/";
  auto model = [](Result<tracking::RegisteredModel> m) -> Result<Json> {
    PLINTH_RETURN_IF_ERROR(m.status());
    return Json{{"registered_model", ToJson(*m)}};
  };
  auto version = [](Result<tracking::ModelVersion> v) -> Result<Json> {
    PLINTH_RETURN_IF_ERROR(v.status());
    return Json{{"model_version", ToJson(*v)}};
  };
  const Field name = {"name", F::kString, true};
  const Field ver = {"version", F::kString, true};

  AddRegistry(rm + "create", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(
        Json m, ReadMessage(r, {name, {"tags", F::kObjectList}, {"description", F::kString}}));
    PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
    return model(s.CreateRegisteredModel(Str(m, "name"), tags, Str(m, "description")));
  });
  AddRegistry(rm + "get", "GET", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name}));
    return model(s.GetRegisteredModel(Str(m, "name")));
  });
  AddRegistry(rm + "rename", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"new_name", F::kString, true}}));
    return model(s.RenameRegisteredModel(Str(m, "name"), Str(m, "new_name")));
  });
  AddRegistry(
      rm + "update", "PATCH", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"description", F::kString}}));
        return model(s.UpdateRegisteredModel(Str(m, "name"), Str(m, "description")));
      });
  AddRegistry(rm + "delete", "DELETE",
              [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name}));
                PLINTH_RETURN_IF_ERROR(s.DeleteRegisteredModel(Str(m, "name")));
                return Json::object();
              });
  AddRegistry(rm + "search", "GET",
              [=](RegistryStore& s, const http::Request& r) -> Result<std::string> {
                PLINTH_ASSIGN_OR_RETURN(tracking::ModelQuery q, ReadModelQuery(r, 100));
                PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchRegisteredModels(q));
                return PageText("registered_models", page);
              });
  for (const char* method : {"GET", "POST"}) {
    AddRegistry(
        rm + "get-latest-versions", method,
        [=](RegistryStore& s, const http::Request& r) -> Result<std::string> {
          PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"stages", F::kStringList}}));
          PLINTH_ASSIGN_OR_RETURN(auto versions,
                                  s.GetLatestVersions(Str(m, "name"), StrList(m, "stages")));
          return PageText("model_versions",
                          tracking::Page<tracking::ModelVersion>{std::move(versions), ""});
        });
  }
  AddRegistry(
      rm + "set-tag", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {name, {"key", F::kString, true}, {"value", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(
            s.SetRegisteredModelTag(Str(m, "name"), {Str(m, "key"), Str(m, "value")}));
        return Json::object();
      });
  AddRegistry(rm + "delete-tag", "DELETE",
              [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"key", F::kString, true}}));
                PLINTH_RETURN_IF_ERROR(s.DeleteRegisteredModelTag(Str(m, "name"), Str(m, "key")));
                return Json::object();
              });
  AddRegistry(rm + "alias", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"alias", F::kString, true}, ver}));
    PLINTH_RETURN_IF_ERROR(s.SetAlias(Str(m, "name"), Str(m, "alias"), Str(m, "version"),
                                      std::string(r.Header("x-plinth-user"))));
    return Json::object();
  });
  AddRegistry(
      rm + "alias", "DELETE", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"alias", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(
            s.DeleteAlias(Str(m, "name"), Str(m, "alias"), std::string(r.Header("x-plinth-user"))));
        return Json::object();
      });
  AddRegistry(rm + "alias", "GET", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, {"alias", F::kString, true}}));
    return version(s.GetModelVersionByAlias(Str(m, "name"), Str(m, "alias")));
  });

  AddRegistry(mv + "create", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name,
                                                    {"source", F::kString, true},
                                                    {"run_id", F::kString},
                                                    {"tags", F::kObjectList},
                                                    {"run_link", F::kString},
                                                    {"description", F::kString}}));
    tracking::NewModelVersion v;
    v.name = Str(m, "name");
    v.source = Str(m, "source");
    v.run_id = Str(m, "run_id");
    PLINTH_ASSIGN_OR_RETURN(v.tags, Tags(m, "tags"));
    v.run_link = Str(m, "run_link");
    v.description = Str(m, "description");
    return version(s.CreateModelVersion(v));
  });
  AddRegistry(mv + "get", "GET", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver}));
    return version(s.GetModelVersion(Str(m, "name"), Str(m, "version")));
  });
  AddRegistry(
      mv + "update", "PATCH", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver, {"description", F::kString}}));
        return version(
            s.UpdateModelVersion(Str(m, "name"), Str(m, "version"), Str(m, "description")));
      });
  AddRegistry(mv + "transition-stage", "POST",
              [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                PLINTH_ASSIGN_OR_RETURN(
                    Json m, ReadMessage(r, {name,
                                            ver,
                                            {"stage", F::kString, true},
                                            {"archive_existing_versions", F::kBool, true}}));
                return version(s.TransitionStage(Str(m, "name"), Str(m, "version"), Str(m, "stage"),
                                                 m["archive_existing_versions"].get<bool>(),
                                                 std::string(r.Header("x-plinth-user"))));
              });
  AddRegistry(mv + "delete", "DELETE",
              [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver}));
                PLINTH_RETURN_IF_ERROR(s.DeleteModelVersion(Str(m, "name"), Str(m, "version")));
                return Json::object();
              });
  AddRegistry(mv + "search", "GET",
              [=](RegistryStore& s, const http::Request& r) -> Result<std::string> {
                PLINTH_ASSIGN_OR_RETURN(tracking::ModelQuery q, ReadModelQuery(r, 200000));
                PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchModelVersions(q));
                return PageText("model_versions", page);
              });
  AddRegistry(mv + "get-download-uri", "GET",
              [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
                PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver}));
                PLINTH_ASSIGN_OR_RETURN(auto v,
                                        s.GetModelVersion(Str(m, "name"), Str(m, "version")));
                return Json{{"artifact_uri", v.source}};
              });
  AddRegistry(
      mv + "set-tag", "POST", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m,
            ReadMessage(r, {name, ver, {"key", F::kString, true}, {"value", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.SetModelVersionTag(Str(m, "name"), Str(m, "version"),
                                                    {Str(m, "key"), Str(m, "value")}));
        return Json::object();
      });
  AddRegistry(
      mv + "delete-tag", "DELETE", [=](RegistryStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {name, ver, {"key", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(
            s.DeleteModelVersionTag(Str(m, "name"), Str(m, "version"), Str(m, "key")));
        return Json::object();
      });
}

namespace {

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

}  // namespace

std::optional<http::Response> MlflowApi::Impl::HandleArtifacts(std::string_view rest,
                                                               const http::Request& r) {
  constexpr std::string_view kArtifacts = "/mlflow-artifacts/artifacts";
  auto result = [](Result<Json> j) {
    return j.ok() ? JsonResponse(*j) : ErrorResponse(j.status());
  };
  if (rest == kArtifacts) {  // list
    if (r.method != "GET") {
      return ErrorResponse("BAD_REQUEST", "Method " + r.method + " is not allowed for " + r.path);
    }
    Result<std::vector<FileInfo>> files = artifacts->List(r.Query("path").value_or(""));
    if (!files.ok()) {
      return ErrorResponse(files.status());
    }
    Json out = Json::object();
    if (!files->empty()) {
      out["files"] = FilesJson(*files, "");
    }
    return JsonResponse(out);
  }
  if (rest.starts_with(std::string(kArtifacts) + "/")) {
    std::string_view path = rest.substr(kArtifacts.size() + 1);
    if (r.method == "GET") {
      return FileResponse(artifacts->Open(path), path);
    }
    if (r.method == "PUT") {
      Status s = artifacts->Put(path, r.body);
      return result(s.ok() ? Result<Json>(Json::object()) : Result<Json>(s));
    }
    if (r.method == "DELETE") {
      Status s = artifacts->Delete(path);
      return result(s.ok() ? Result<Json>(Json::object()) : Result<Json>(s));
    }
    http::Response e = ErrorResponse("BAD_REQUEST", "Method " + r.method + " is not allowed");
    e.status = 405;
    return e;
  }
  if (rest == "/get-artifact" || rest == "/model-versions/get-artifact") {
    // The UI's downloads: a run's artifact, or one under a model version's source.
    Result<Stores> stores = Acquire();
    if (!stores.ok()) {
      return ErrorResponse(stores.status());
    }
    std::string root;
    Status s;
    if (rest == "/get-artifact") {
      std::string id = r.Query("run_id").value_or(r.Query("run_uuid").value_or(""));
      Result<tracking::Run> run = stores->tracking->GetRun(id);
      s = run.status();
      root = run.ok() ? run->info.artifact_uri : "";
    } else {
      Result<tracking::ModelVersion> v = stores->registry->GetModelVersion(
          r.Query("name").value_or(""), r.Query("version").value_or(""));
      s = v.status();
      root = v.ok() ? v->source : "";
    }
    Release(std::move(*stores));
    if (!s.ok()) {
      return ErrorResponse(s);
    }
    std::optional<std::string> base = ProxiedPath(root);
    if (!base) {
      return ErrorResponse(Unimplemented("artifacts at '" + root +
                                         "' are not kept by this server's artifact store"));
    }
    Result<std::string> rel = SafeRelativePath(r.Query("path").value_or(""));
    if (!rel.ok()) {
      return ErrorResponse(rel.status());
    }
    const std::string path = *base + "/" + *rel;
    return FileResponse(artifacts->Open(path), path);
  }
  return std::nullopt;
}

void MlflowApi::Impl::AddArtifactRoutes() {
  using F = FieldType;
  ArtifactRoot* root = artifacts.get();
  Add("/mlflow/artifacts/list", {"GET"},
      [root](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                        {"run_uuid", F::kString},
                                                        {"path", F::kString},
                                                        {"page_token", F::kString}}));
        PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
        PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.GetRun(id));
        PLINTH_ASSIGN_OR_RETURN(std::string rel, SafeRelativePath(Str(m, "path")));
        Json out = {{"root_uri", run.info.artifact_uri}};
        if (std::optional<std::string> base = ProxiedPath(run.info.artifact_uri)) {
          PLINTH_ASSIGN_OR_RETURN(auto files, root->List(rel.empty() ? *base : *base + "/" + rel));
          if (!files.empty()) {
            out["files"] = FilesJson(files, rel);
          }
        }
        return out;
      });
}

void MlflowApi::Impl::AddPlinthRoutes() {
  using F = FieldType;
  Add("/plinth/v1/lineage", {"GET"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"id", F::kString, true}}));
    PLINTH_ASSIGN_OR_RETURN(auto edges, s.LineageOf(Str(m, "id")));
    Json list = Json::array();
    for (const auto& e : edges) {
      list.push_back({{"src_kind", e.src_kind},
                      {"src_id", e.src_id},
                      {"dst_kind", e.dst_kind},
                      {"dst_id", e.dst_id},
                      {"relation", e.relation},
                      {"created", e.created}});
    }
    return Json{{"edges", std::move(list)}};
  });
  Add("/plinth/v1/lineage", {"POST"}, [](TrackingStore& s, const http::Request& r) -> Result<Json> {
    PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"src_kind", F::kString, true},
                                                    {"src_id", F::kString, true},
                                                    {"dst_kind", F::kString, true},
                                                    {"dst_id", F::kString, true},
                                                    {"relation", F::kString}}));
    PLINTH_RETURN_IF_ERROR(s.AddLineage({Str(m, "src_kind"), Str(m, "src_id"), Str(m, "dst_kind"),
                                         Str(m, "dst_id"), Str(m, "relation"), 0}));
    return Json::object();
  });
  AddRegistry("/plinth/v1/registered-models/history", "GET",
              [](tracking::RegistryStore& s, const http::Request& r) -> Result<Json> {
                PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"name", F::kString, true}}));
                PLINTH_ASSIGN_OR_RETURN(auto events, s.History(Str(m, "name")));
                Json list = Json::array();
                for (const auto& e : events) {
                  list.push_back({{"name", e.name},
                                  {"version", e.version},
                                  {"kind", e.kind},
                                  {"key", e.key},
                                  {"from", e.from},
                                  {"to", e.to},
                                  {"user", e.user_id},
                                  {"time", e.time}});
                }
                return Json{{"events", std::move(list)}};
              });
}

MlflowApi::MlflowApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MlflowApi::~MlflowApi() = default;

Result<std::unique_ptr<MlflowApi>> MlflowApi::Create(const ApiOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  PLINTH_ASSIGN_OR_RETURN(auto first, impl->Acquire());
  impl->Release(std::move(first));
  impl->artifacts = std::make_unique<ArtifactRoot>(options.artifacts_destination);
  PLINTH_ASSIGN_OR_RETURN(auto writer_db, store::OpenDatabase(options.store_uri));
  PLINTH_ASSIGN_OR_RETURN(impl->checkpointer,
                          store::Checkpointer::Start(options.store_uri, kCheckpointIntervalMs));
  if (impl->checkpointer) {
    PLINTH_RETURN_IF_ERROR(store::Checkpointer::DisableAutoCheckpoint(*writer_db));
  }
  store::Database* db = writer_db.get();
  PLINTH_ASSIGN_OR_RETURN(impl->writer,
                          tracking::OpenTrackingStore(std::move(writer_db), kProxiedArtifactRoot));
  TrackingStore* writer = impl->writer.get();
  store::Checkpointer* checkpointer = impl->checkpointer.get();
  impl->commit = std::make_unique<core::Batcher<PendingLog>>(
      [writer, db, checkpointer](std::vector<PendingLog>& batch) {
        std::vector<tracking::LogRequest> requests;
        requests.reserve(batch.size());
        for (PendingLog& p : batch) {
          requests.push_back(std::move(p.request));
        }
        std::vector<Status> outcomes = writer->LogBatches(requests);
        for (size_t i = 0; i < batch.size(); ++i) {
          batch[i].done(outcomes[i]);
        }
        if (checkpointer && checkpointer->WriterShouldCheckpoint()) {
          if (Status s = checkpointer->CheckpointWriter(*db); !s.ok()) {
            spdlog::warn("checkpoint: {}", s.ToString());
          }
        }
      },
      kMaxLogsPerCommit);
  impl->AddTrackingRoutes();
  impl->AddRegistryRoutes();
  impl->AddArtifactRoutes();
  impl->AddPlinthRoutes();
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
  impl->commit->Submit({std::move(write), [answer](Status s) {
                          answer(s.ok() ? JsonResponse(Json::object()) : ErrorResponse(s));
                        }});
}

std::optional<http::Response> MlflowApi::Dispatch(const http::Request& request, std::string* route,
                                                  tracking::LogRequest* write) {
  std::string_view path = request.path;
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
        .Sample("plinth_server_group_commit_requests_total", {}, impl_->commit->items_run())
        .Family("plinth_server_group_commit_batches_total", "counter",
                "Transactions that carried them.")
        .Sample("plinth_server_group_commit_batches_total", {}, impl_->commit->batches_run());
    return r;
  }
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
  if (path.starts_with("/api/plinth/v1/")) {
    rest = path.substr(4);  // Plinth's own routes: "/plinth/v1/..."
  }
  for (std::string_view prefix : {"/api/2.0", "/ajax-api/2.0"}) {
    if (path.starts_with(prefix)) {
      rest = path.substr(prefix.size());
      break;
    }
  }
  if (auto served = impl_->HandleArtifacts(rest.empty() ? path : rest, request)) {
    std::string_view p = rest.empty() ? path : rest;
    *route = p.starts_with("/mlflow-artifacts/artifacts") ? "/mlflow-artifacts/artifacts"
                                                          : std::string(p);
    return std::move(*served);
  }
  auto it = impl_->routes.find(rest);
  if (it != impl_->routes.end()) {
    *route = it->first;
  }
  if (rest.empty() || it == impl_->routes.end()) {
    return ErrorResponse("ENDPOINT_NOT_FOUND",
                         "No API endpoint at " + std::string(path) + " (" + request.method + ")");
  }
  const Route& methods = it->second;
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
  Result<Stores> stores = impl_->Acquire();
  if (!stores.ok()) {
    return ErrorResponse(stores.status());
  }
  Result<std::string> out = endpoint.run(*stores, request);
  impl_->Release(std::move(*stores));
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
