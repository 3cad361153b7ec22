// MLflow's experiment and run routes, and the logging writes.
#include <algorithm>
#include <optional>

#include "server/routes.h"

namespace plinth::server {

namespace {

using tracking::TrackingStore;

constexpr size_t kMaxBatchRequestBytes = 1'000'000;  // MLflow's MAX_BATCH_LOG_REQUEST_SIZE

// A metric of a checked log-metric or log-batch message (with MLflow 3's model and
// dataset, when given).
tracking::Metric MetricOf(const Json& m) {
  tracking::Metric metric{Str(m, "key"), m["value"].get<double>(), m["timestamp"].get<int64_t>(),
                          m.value("step", int64_t{0})};
  metric.model_id = Str(m, "model_id");
  metric.dataset_name = Str(m, "dataset_name");
  metric.dataset_digest = Str(m, "dataset_digest");
  return metric;
}

}  // namespace

void AddExperimentRoutes(RouteTable& routes) {
  using F = FieldType;
  // MLflow 3's server-info: the 3.x client asks it whether workspaces are on.
  routes.Add("/3.0/mlflow/server-info", {"GET"},
             [](TrackingStore&, const http::Request&) -> Result<Json> {
               return Json{{"store_type", "SqlStore"}, {"workspaces_enabled", false}};
             });
  // Experiments.
  routes.Add("/mlflow/experiments/create", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"name", F::kString, true},
                                                               {"artifact_location", F::kString},
                                                               {"tags", F::kObjectList}}));
               PLINTH_ASSIGN_OR_RETURN(auto tags, Tags(m, "tags"));
               PLINTH_ASSIGN_OR_RETURN(
                   std::string id,
                   s.CreateExperiment(Str(m, "name"), Str(m, "artifact_location"), tags));
               return Json{{"experiment_id", id}};
             });
  routes.Add(
      "/mlflow/experiments/get", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
        PLINTH_ASSIGN_OR_RETURN(tracking::Experiment e, s.GetExperiment(Str(m, "experiment_id")));
        return Json{{"experiment", ToJson(e)}};
      });
  routes.Add(
      "/mlflow/experiments/get-by-name", {"GET"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_name", F::kString, true}}));
        PLINTH_ASSIGN_OR_RETURN(tracking::Experiment e,
                                s.GetExperimentByName(Str(m, "experiment_name")));
        return Json{{"experiment", ToJson(e)}};
      });
  routes.Add("/mlflow/experiments/search", {"GET", "POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
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
               return PageText("experiments", page);
             });
  // The datasets logged to runs of some experiments (MLflow's UI lists them).
  routes.Add(
      "/mlflow/experiments/search-datasets", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        constexpr size_t kMaxExperiments = 20;
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_ids", F::kStringList}}));
        const std::vector<std::string> ids = StrList(m, "experiment_ids");
        if (ids.empty()) {
          return InvalidArgument("SearchDatasets request must specify at least one experiment_id.");
        }
        if (ids.size() > kMaxExperiments) {
          return InvalidArgument("SearchDatasets request cannot specify more than " +
                                 std::to_string(kMaxExperiments) + " experiment_ids. Received " +
                                 std::to_string(ids.size()) + " experiment_ids.");
        }
        PLINTH_ASSIGN_OR_RETURN(auto summaries, s.SearchDatasets(ids));
        Json out = Json::object();
        for (const auto& d : summaries) {
          out["dataset_summaries"].push_back(ToJson(d));
        }
        return out;
      });
  routes.Add(
      "/mlflow/experiments/delete", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.DeleteExperiment(Str(m, "experiment_id")));
        return Json::object();
      });
  routes.Add(
      "/mlflow/experiments/restore", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.RestoreExperiment(Str(m, "experiment_id")));
        return Json::object();
      });
  routes.Add(
      "/mlflow/experiments/update", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true},
                                                        {"new_name", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.RenameExperiment(Str(m, "experiment_id"), Str(m, "new_name")));
        return Json::object();
      });
  routes.Add("/mlflow/experiments/set-experiment-tag", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true},
                                                               {"key", F::kString, true},
                                                               {"value", F::kString}}));
               PLINTH_RETURN_IF_ERROR(
                   s.SetExperimentTag(Str(m, "experiment_id"), {Str(m, "key"), Str(m, "value")}));
               return Json::object();
             });
  routes.Add(
      "/mlflow/experiments/delete-experiment-tag", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"experiment_id", F::kString, true},
                                                        {"key", F::kString, true}}));
        PLINTH_RETURN_IF_ERROR(s.DeleteExperimentTag(Str(m, "experiment_id"), Str(m, "key")));
        return Json::object();
      });

  // Runs.
  routes.Add("/mlflow/runs/create", {"POST"},
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
  routes.Add("/mlflow/runs/update", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                               {"run_uuid", F::kString},
                                                               {"status", F::kEnum},
                                                               {"end_time", F::kInt64},
                                                               {"run_name", F::kString}}));
               PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
               std::optional<tracking::RunStatus> status;
               if (m.contains("status")) {
                 PLINTH_ASSIGN_OR_RETURN(status,
                                         EnumField(m, "status", tracking::RunStatus::kRunning,
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
  routes.Add("/mlflow/runs/delete", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true}}));
               PLINTH_RETURN_IF_ERROR(s.DeleteRun(Str(m, "run_id")));
               return Json::object();
             });
  routes.Add("/mlflow/runs/restore", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true}}));
               PLINTH_RETURN_IF_ERROR(s.RestoreRun(Str(m, "run_id")));
               return Json::object();
             });
  routes.Add("/mlflow/runs/get", {"GET"},
             [](TrackingStore& s, const http::Request& r) -> Result<std::string> {
               PLINTH_ASSIGN_OR_RETURN(
                   Json m, ReadMessage(r, {{"run_id", F::kString}, {"run_uuid", F::kString}}));
               PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
               PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.GetRun(id));
               return MemberText("run", run);
             });
  routes.AddWrite(
      "/mlflow/runs/log-metric", [](const http::Request& r) -> Result<tracking::LogRequest> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString},
                                                        {"run_uuid", F::kString},
                                                        {"key", F::kString, true},
                                                        {"value", F::kDouble, true},
                                                        {"timestamp", F::kInt64, true},
                                                        {"step", F::kInt64},
                                                        {"model_id", F::kString},
                                                        {"dataset_name", F::kString},
                                                        {"dataset_digest", F::kString}}));
        PLINTH_ASSIGN_OR_RETURN(std::string id, RunId(m));
        tracking::LogRequest log{std::move(id), {}, {}, {}};
        log.metrics.push_back(MetricOf(m));
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
  routes.AddWrite("/mlflow/runs/log-parameter", key_value(true));
  routes.AddWrite("/mlflow/runs/set-tag", key_value(false));
  routes.Add("/mlflow/runs/delete-tag", {"POST"},
             [](TrackingStore& s, const http::Request& r) -> Result<Json> {
               PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true},
                                                               {"key", F::kString, true}}));
               PLINTH_RETURN_IF_ERROR(s.DeleteTag(Str(m, "run_id"), Str(m, "key")));
               return Json::object();
             });
  routes.AddWrite(
      "/mlflow/runs/log-batch", [](const http::Request& r) -> Result<tracking::LogRequest> {
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
        // MLflow's first check: each entry's required fields, named by position.
        for (const auto& [list, fields] : {std::pair<const char*, std::vector<const char*>>{
                                               "metrics", {"key", "value", "timestamp"}},
                                           {"params", {"key"}},
                                           {"tags", {"key"}}}) {
          if (!m.contains(list)) {
            continue;
          }
          for (size_t i = 0; i < m[list].size(); ++i) {
            for (const char* field : fields) {
              const Json& entry = m[list][i];
              auto found = entry.find(field);
              if (found == entry.end() || found->is_null() || *found == "") {
                return InvalidArgument("Missing value for required parameter '" +
                                       std::string(list) + "[" + std::to_string(i) + "]." + field +
                                       "'. See the API docs for more information about request "
                                       "parameters.");
              }
            }
          }
        }
        std::vector<tracking::Metric> metrics;
        if (m.contains("metrics")) {
          for (const Json& j : m["metrics"]) {
            Result<Json> one = ReadFields(j, {{"key", F::kString, true},
                                              {"value", F::kDouble, true},
                                              {"timestamp", F::kInt64, true},
                                              {"step", F::kInt64},
                                              {"model_id", F::kString},
                                              {"dataset_name", F::kString},
                                              {"dataset_digest", F::kString},
                                              {"run_id", F::kString}});
            if (!one.ok()) {
              return InvalidArgument(
                  "Invalid value " + core::JsonPreview(m["metrics"]) +
                  " for parameter 'metrics' supplied: " + one.status().message());
            }
            metrics.push_back(MetricOf(*one));
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
  routes.Add(
      "/mlflow/runs/log-inputs", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {{"run_id", F::kString, true},
                                                        {"datasets", F::kObjectList},
                                                        {"models", F::kObjectList}}));
        // MLflow 2.x requires datasets; 3.x takes models instead. Neither is refused as
        // 2.x refuses it (3.x clients never send that).
        if (!m.contains("datasets") && !m.contains("models")) {
          return InvalidArgument(
              "Missing value for required parameter 'datasets'. See the API docs for more "
              "information about request parameters.");
        }
        std::vector<tracking::DatasetInput> inputs;
        for (const Json& j : m.value("datasets", Json::array())) {
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
        // MLflow 3: logged models the run used.
        std::vector<std::string> models;
        for (const Json& j : m.value("models", Json::array())) {
          PLINTH_ASSIGN_OR_RETURN(Json one, ReadFields(j, {{"model_id", F::kString, true}}));
          models.push_back(Str(one, "model_id"));
        }
        if (!inputs.empty() || models.empty()) {
          PLINTH_RETURN_IF_ERROR(s.LogInputs(Str(m, "run_id"), inputs));
        }
        if (!models.empty()) {
          PLINTH_RETURN_IF_ERROR(s.LogModelInputs(Str(m, "run_id"), models));
        }
        return Json::object();
      });
  // MLflow 3: the logged models a run produced, at a step.
  routes.Add(
      "/mlflow/runs/outputs", {"POST"},
      [](TrackingStore& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(
            Json m, ReadMessage(r, {{"run_id", F::kString, true}, {"models", F::kObjectList}}));
        if (!m.contains("models")) {
          return InvalidArgument(
              "Missing value for required parameter 'models'. See the API docs for more "
              "information about request parameters.");
        }
        std::vector<tracking::ModelOutput> outputs;
        for (const Json& j : m["models"]) {
          PLINTH_ASSIGN_OR_RETURN(
              Json one, ReadFields(j, {{"model_id", F::kString, true}, {"step", F::kInt64}}));
          outputs.push_back({Str(one, "model_id"), one.value("step", int64_t{0})});
        }
        PLINTH_RETURN_IF_ERROR(s.LogOutputs(Str(m, "run_id"), outputs));
        return Json::object();
      });
  routes.Add("/mlflow/runs/search", {"POST"},
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
               PLINTH_ASSIGN_OR_RETURN(
                   q.view_type, EnumField(m, "run_view_type", tracking::ViewType::kActiveOnly,
                                          tracking::ParseViewType, 3));
               q.max_results = m.value("max_results", int64_t{1000});
               q.order_by = StrList(m, "order_by");
               q.page_token = Str(m, "page_token");
               PLINTH_ASSIGN_OR_RETURN(auto page, s.SearchRuns(q));
               return PageText("runs", page);
             });
  routes.Add(
      "/mlflow/runs/log-model", {"POST"},
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
        PLINTH_ASSIGN_OR_RETURN(tracking::Run run, s.GetRun(Str(m, "run_id")));
        PLINTH_RETURN_IF_ERROR(AppendModelHistory(s, run, *model));
        return Json::object();
      });
}

}  // namespace plinth::server
