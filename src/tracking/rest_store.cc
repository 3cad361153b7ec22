#include "tracking/rest_store.h"

#include "core/json.h"
#include "core/mutex.h"
#include "http/client.h"
#include "tracking/mlflow_json.h"
#include "tracking/spans.h"

namespace plinth::tracking {
namespace {

using core::Json;

// One MLflow REST connection: JSON in, JSON or MLflow's error shape out.
class Rest {
 public:
  explicit Rest(const std::string& base_url, std::string user = "")
      : client_(base_url), user_(std::move(user)) {}

  // GET with `message` as query parameters (lists repeat), or a JSON body.
  Result<Json> Call(std::string_view method, std::string_view path, const Json& message) {
    std::string target = std::string(path);
    std::string body;
    if (method == "GET") {
      std::string query;
      for (const auto& [k, v] : message.items()) {
        for (const Json& item : v.is_array() ? v : Json::array({v})) {
          std::string text = item.is_string() ? item.get<std::string>() : item.dump();
          query += (query.empty() ? "?" : "&") + http::UrlEncode(k) + "=" + http::UrlEncode(text);
        }
      }
      target += query;
    } else {
      body = core::DumpJson(message, false);
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (!user_.empty()) {
      headers.emplace_back("X-Plinth-User", user_);
    }
    PLINTH_ASSIGN_OR_RETURN(
        http::ClientResponse r,
        client_.Send(method, target, body, method == "GET" ? "" : "application/json", headers));
    return Parse(r, std::string(method) + " " + client_.base_url() + std::string(path));
  }

  http::Client& client() { return client_; }

  static Result<Json> Parse(const http::ClientResponse& r, const std::string& what) {
    Result<Json> j = core::ParseJson(r.body.empty() ? "{}" : r.body, what);
    if (r.status == 200) {
      if (!j.ok()) {
        return Corruption(what + ": the answer is not JSON");
      }
      return j;
    }
    if (j.ok() && j->is_object() && j->contains("error_code")) {
      core::JsonFields error = *core::JsonFields::Of(*j, what);
      Result<std::string> code = error.String("error_code");
      Result<std::string> message = error.String("message", "");
      if (code.ok() && message.ok()) {
        return StatusFromError(*code, *message);
      }
    }
    return Unavailable(what + ": HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200));
  }

 private:
  http::Client client_;
  std::string user_;
};

// A 200 answer's members, read with their types checked.
Result<core::JsonFields> Answer(const Json& j, std::string what = "the server's answer") {
  return core::JsonFields::Of(j, std::move(what));
}

// The member `key` of an answer, or null (which the entity readers refuse).
const Json& Member(const Json& j, const char* key) {
  static const Json kNull;
  auto it = j.is_object() ? j.find(key) : j.end();
  return it == j.end() ? kNull : *it;
}

// The elements of the array member `key` of an answer, each read by `from`.
template <typename T, typename From>
Result<std::vector<T>> List(const Json& j, const char* key, From from) {
  std::vector<T> out;
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields answer, Answer(j));
  PLINTH_ASSIGN_OR_RETURN(const Json* items, answer.Items(key));
  for (const Json& item : *items) {
    PLINTH_ASSIGN_OR_RETURN(T v, from(item));
    out.push_back(std::move(v));
  }
  return out;
}

template <typename T>
Result<Page<T>> PageOf(const Json& j, const char* key, Result<T> (*from)(const Json&)) {
  Page<T> page;
  PLINTH_ASSIGN_OR_RETURN(page.items, List<T>(j, key, from));
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields answer, Answer(j));
  PLINTH_ASSIGN_OR_RETURN(page.next_page_token, answer.String("next_page_token", ""));
  return page;
}

Json TagsJson(const std::vector<Tag>& tags) { return ToJson(tags); }

Json ParamsJson(const std::vector<Param>& params) {
  Json out = Json::array();
  for (const Param& p : params) {
    out.push_back({{"key", p.key}, {"value", p.value}});
  }
  return out;
}

std::string TracePath(const std::string& request_id) {
  return "/traces/" + http::UrlEncode(request_id);
}

std::string ModelPath(const std::string& model_id) {
  return "/logged-models/" + http::UrlEncode(model_id);
}

constexpr std::string_view kApi = "/api/2.0/mlflow";
constexpr std::string_view kApi3 = "/api/3.0/mlflow";

std::string AssessmentsPath(const std::string& trace_id) {
  return std::string(kApi3) + "/traces/" + http::UrlEncode(trace_id) + "/assessments";
}

std::string ViewTypeName(ViewType v) {
  return v == ViewType::kAll ? "ALL" : v == ViewType::kDeletedOnly ? "DELETED_ONLY" : "ACTIVE_ONLY";
}

class RestTrackingStore : public TrackingStore {
 public:
  explicit RestTrackingStore(const std::string& url) : rest_(url) {}

  Result<std::string> CreateExperiment(const std::string& name, const std::string& location,
                                       const std::vector<Tag>& tags) override {
    Json m = {{"name", name}, {"tags", TagsJson(tags)}};
    if (!location.empty()) {
      m["artifact_location"] = location;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/experiments/create", m));
    PLINTH_ASSIGN_OR_RETURN(core::JsonFields answer, Answer(r));
    return answer.String("experiment_id", "");
  }
  Result<Experiment> GetExperiment(const std::string& id) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, Get("/experiments/get", {{"experiment_id", id}}));
    return ExperimentFromJson(Member(r, "experiment"));
  }
  Result<Experiment> GetExperimentByName(const std::string& name) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, Get("/experiments/get-by-name", {{"experiment_name", name}}));
    return ExperimentFromJson(Member(r, "experiment"));
  }
  Result<Page<Experiment>> SearchExperiments(const ExperimentQuery& q) override {
    Json m = {{"max_results", q.max_results},
              {"filter", q.filter},
              {"order_by", q.order_by},
              {"view_type", ViewTypeName(q.view_type)}};
    if (!q.page_token.empty()) {
      m["page_token"] = q.page_token;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/experiments/search", m));
    return PageOf<Experiment>(r, "experiments", ExperimentFromJson);
  }
  Status DeleteExperiment(const std::string& id) override {
    return Post("/experiments/delete", {{"experiment_id", id}}).status();
  }
  Status RestoreExperiment(const std::string& id) override {
    return Post("/experiments/restore", {{"experiment_id", id}}).status();
  }
  Status RenameExperiment(const std::string& id, const std::string& name) override {
    return Post("/experiments/update", {{"experiment_id", id}, {"new_name", name}}).status();
  }
  Status SetExperimentTag(const std::string& id, const Tag& t) override {
    return Post("/experiments/set-experiment-tag",
                {{"experiment_id", id}, {"key", t.key}, {"value", t.value}})
        .status();
  }
  Status DeleteExperimentTag(const std::string& id, const std::string& key) override {
    return Post("/experiments/delete-experiment-tag", {{"experiment_id", id}, {"key", key}})
        .status();
  }

  Result<Run> CreateRun(const NewRun& n) override {
    Json m = {{"experiment_id", n.experiment_id.empty() ? "0" : n.experiment_id},
              {"user_id", n.user_id},
              {"tags", TagsJson(n.tags)}};
    if (!n.run_name.empty()) {
      m["run_name"] = n.run_name;
    }
    if (n.start_time) {
      m["start_time"] = *n.start_time;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/runs/create", m));
    return RunFromJson(Member(r, "run"));
  }
  Result<Run> GetRun(const std::string& id) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, Get("/runs/get", {{"run_id", id}}));
    return RunFromJson(Member(r, "run"));
  }
  Result<RunInfo> UpdateRun(const std::string& id, std::optional<RunStatus> status,
                            std::optional<int64_t> end_time, const std::string& name) override {
    Json m = {{"run_id", id}, {"run_uuid", id}};
    if (status) {
      m["status"] = std::string(RunStatusName(*status));
    }
    if (end_time) {
      m["end_time"] = *end_time;
    }
    if (!name.empty()) {
      m["run_name"] = name;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/runs/update", m));
    return RunInfoFromJson(Member(r, "run_info"));
  }
  Status DeleteRun(const std::string& id) override {
    return Post("/runs/delete", {{"run_id", id}}).status();
  }
  Status RestoreRun(const std::string& id) override {
    return Post("/runs/restore", {{"run_id", id}}).status();
  }
  Result<Page<Run>> SearchRuns(const RunQuery& q) override {
    Json m = {{"experiment_ids", q.experiment_ids},
              {"filter", q.filter},
              {"run_view_type", ViewTypeName(q.view_type)},
              {"max_results", q.max_results},
              {"order_by", q.order_by}};
    if (!q.page_token.empty()) {
      m["page_token"] = q.page_token;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/runs/search", m));
    return PageOf<Run>(r, "runs", RunFromJson);
  }
  Status LogMetric(const std::string& id, const Metric& m) override {
    return LogBatch(id, {m}, {}, {});
  }
  Status LogParam(const std::string& id, const Param& p) override {
    return LogBatch(id, {}, {p}, {});
  }
  Status SetTag(const std::string& id, const Tag& t) override { return LogBatch(id, {}, {}, {t}); }
  Status DeleteTag(const std::string& id, const std::string& key) override {
    return Post("/runs/delete-tag", {{"run_id", id}, {"key", key}}).status();
  }
  Status LogBatch(const std::string& id, const std::vector<Metric>& metrics,
                  const std::vector<Param>& params, const std::vector<Tag>& tags) override {
    Json ms = Json::array();
    for (const Metric& m : metrics) {
      ms.push_back(ToJson(m));
    }
    return Post("/runs/log-batch", {{"run_id", id},
                                    {"metrics", ms},
                                    {"params", ParamsJson(params)},
                                    {"tags", TagsJson(tags)}})
        .status();
  }
  Status LogInputs(const std::string& id, const std::vector<DatasetInput>& inputs) override {
    Json list = Json::array();
    for (const DatasetInput& in : inputs) {
      list.push_back({{"tags", TagsJson(in.tags)}, {"dataset", ToJson(in.dataset)}});
    }
    return Post("/runs/log-inputs", {{"run_id", id}, {"datasets", list}}).status();
  }
  Status AddLineage(const LineageEdge& e) override {
    return rest_.Call("POST", "/api/plinth/v1/lineage", ToJson(e)).status();
  }
  Result<std::vector<DatasetSummary>> SearchDatasets(
      const std::vector<std::string>& experiment_ids) override {
    PLINTH_ASSIGN_OR_RETURN(Json r,
                            rest_.Call("POST", "/ajax-api/2.0/mlflow/experiments/search-datasets",
                                       {{"experiment_ids", experiment_ids}}));
    return List<DatasetSummary>(r, "dataset_summaries", DatasetSummaryFromJson);
  }
  Result<std::vector<LineageEdge>> LineageOf(const std::string& id) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, rest_.Call("GET", "/api/plinth/v1/lineage", {{"id", id}}));
    return List<LineageEdge>(r, "edges", LineageEdgeFromJson);
  }
  Result<LoggedModel> CreateLoggedModel(const NewLoggedModel& n) override {
    Json m = {{"experiment_id", n.experiment_id}, {"tags", TagsJson(n.tags)}};
    for (const auto& [key, value] : {std::pair{"name", &n.name},
                                     {"model_type", &n.model_type},
                                     {"source_run_id", &n.source_run_id}}) {
      if (!value->empty()) {
        m[key] = *value;
      }
    }
    m["params"] = ParamsJson(n.params);
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/logged-models", m));
    return LoggedModelFromJson(Member(r, "model"));
  }
  Result<LoggedModel> GetLoggedModel(const std::string& id, bool allow_deleted) override {
    Json m = Json::object();
    if (allow_deleted) {
      m["allow_deleted"] = "true";
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Get(ModelPath(id), m));
    return LoggedModelFromJson(Member(r, "model"));
  }
  Result<LoggedModel> FinalizeLoggedModel(const std::string& id,
                                          LoggedModelStatus status) override {
    PLINTH_ASSIGN_OR_RETURN(
        Json r, Call("PATCH", ModelPath(id),
                     {{"model_id", id}, {"status", std::string(LoggedModelStatusName(status))}}));
    return LoggedModelFromJson(Member(r, "model"));
  }
  Status DeleteLoggedModel(const std::string& id) override {
    return Call("DELETE", ModelPath(id), {{"model_id", id}}).status();
  }
  Status SetLoggedModelTags(const std::string& id, const std::vector<Tag>& tags) override {
    return Call("PATCH", ModelPath(id) + "/tags", {{"model_id", id}, {"tags", TagsJson(tags)}})
        .status();
  }
  Status DeleteLoggedModelTag(const std::string& id, const std::string& key) override {
    return Call("DELETE", ModelPath(id) + "/tags/" + http::UrlEncode(key), Json::object()).status();
  }
  Status LogLoggedModelParams(const std::string& id, const std::vector<Param>& params) override {
    return Post(ModelPath(id) + "/params", {{"model_id", id}, {"params", ParamsJson(params)}})
        .status();
  }
  Result<Page<LoggedModel>> SearchLoggedModels(const LoggedModelQuery& q) override {
    Json datasets = Json::array();
    for (const auto& [name, digest] : q.datasets) {
      Json d = {{"dataset_name", name}};
      if (!digest.empty()) {
        d["dataset_digest"] = digest;
      }
      datasets.push_back(std::move(d));
    }
    Json order = Json::array();
    for (const LoggedModelOrder& o : q.order_by) {
      Json j = {{"field_name", o.field_name}, {"ascending", o.ascending}};
      if (!o.dataset_name.empty()) {
        j["dataset_name"] = o.dataset_name;
      }
      if (!o.dataset_digest.empty()) {
        j["dataset_digest"] = o.dataset_digest;
      }
      order.push_back(std::move(j));
    }
    Json m = {{"experiment_ids", q.experiment_ids},
              {"filter", q.filter},
              {"datasets", datasets},
              {"max_results", q.max_results},
              {"order_by", order}};
    if (!q.page_token.empty()) {
      m["page_token"] = q.page_token;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/logged-models/search", m));
    return PageOf<LoggedModel>(r, "models", LoggedModelFromJson);
  }
  Status LogModelInputs(const std::string& id, const std::vector<std::string>& models) override {
    Json list = Json::array();
    for (const std::string& model : models) {
      list.push_back({{"model_id", model}});
    }
    return Post("/runs/log-inputs", {{"run_id", id}, {"models", list}}).status();
  }
  Status LogOutputs(const std::string& id, const std::vector<ModelOutput>& models) override {
    Json list = Json::array();
    for (const ModelOutput& o : models) {
      list.push_back({{"model_id", o.model_id}, {"step", o.step}});
    }
    return Post("/runs/outputs", {{"run_id", id}, {"models", list}}).status();
  }

  Result<TraceInfo> StartTrace(const std::string& experiment_id, int64_t timestamp_ms,
                               const std::vector<Tag>& metadata,
                               const std::vector<Tag>& tags) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/traces", {{"experiment_id", experiment_id},
                                                     {"timestamp_ms", timestamp_ms},
                                                     {"request_metadata", TagsJson(metadata)},
                                                     {"tags", TagsJson(tags)}}));
    return TraceInfoFromJson(Member(r, "trace_info"));
  }
  Result<TraceInfo> EndTrace(const std::string& id, int64_t timestamp_ms, const std::string& status,
                             const std::vector<Tag>& metadata,
                             const std::vector<Tag>& tags) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, Call("PATCH", TracePath(id),
                                         {{"timestamp_ms", timestamp_ms},
                                          {"status", status},
                                          {"request_metadata", TagsJson(metadata)},
                                          {"tags", TagsJson(tags)}}));
    return TraceInfoFromJson(Member(r, "trace_info"));
  }
  Result<TraceInfo> GetTraceInfo(const std::string& id) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, Get(TracePath(id) + "/info", Json::object()));
    return TraceInfoFromJson(Member(r, "trace_info"));
  }
  Result<TraceInfo> PutTrace(const TraceInfo& t) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, rest_.Call("POST", "/api/3.0/mlflow/traces",
                                               {{"trace", {{"trace_info", TraceInfoV3Json(t)}}}}));
    return TraceInfoFromV3Json(Member(Member(r, "trace"), "trace_info"));
  }
  Result<Page<TraceInfo>> SearchTraces(const TraceQuery& q) override {
    Json m = {{"experiment_ids", q.experiment_ids},
              {"filter", q.filter},
              {"max_results", q.max_results},
              {"order_by", q.order_by}};
    if (!q.page_token.empty()) {
      m["page_token"] = q.page_token;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Get("/traces", m));
    return PageOf<TraceInfo>(r, "traces", TraceInfoFromJson);
  }
  Result<int64_t> DeleteTraces(const TraceDeletion& d) override {
    Json m = {{"experiment_id", d.experiment_id}};
    if (d.max_timestamp_millis) {
      m["max_timestamp_millis"] = *d.max_timestamp_millis;
    }
    if (d.max_traces) {
      m["max_traces"] = *d.max_traces;
    }
    if (!d.request_ids.empty()) {
      m["request_ids"] = d.request_ids;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Post("/traces/delete-traces", m));
    PLINTH_ASSIGN_OR_RETURN(core::JsonFields answer, Answer(r));
    return answer.Int("traces_deleted", 0);
  }
  Status SetTraceTag(const std::string& id, const Tag& t) override {
    return Call("PATCH", TracePath(id) + "/tags", {{"key", t.key}, {"value", t.value}}).status();
  }
  Status LinkTracesToRun(const std::vector<std::string>& trace_ids,
                         const std::string& run_id) override {
    return Post("/traces/link-to-run", {{"trace_ids", trace_ids}, {"run_id", run_id}}).status();
  }
  Status LinkPromptsToTrace(const std::string& trace_id,
                            const std::vector<PromptVersionRef>& prompts) override {
    Json refs = Json::array();
    for (const PromptVersionRef& p : prompts) {
      refs.push_back({{"name", p.name}, {"version", p.version}});
    }
    return Post("/traces/link-prompts", {{"trace_id", trace_id}, {"prompt_versions", refs}})
        .status();
  }
  Status DeleteTraceTag(const std::string& id, const std::string& key) override {
    return Call("DELETE", TracePath(id) + "/tags", {{"key", key}}).status();
  }

  // Spans go as MLflow's client sends them: OTLP protobuf to /v1/traces.
  Status LogSpans(const std::string& experiment_id, const std::vector<Span>& spans) override {
    if (spans.empty()) {
      return Status::Ok();
    }
    PLINTH_ASSIGN_OR_RETURN(
        http::ClientResponse r,
        rest_.client().Send("POST", "/v1/traces", OtlpProtobufRequest(spans),
                            "application/x-protobuf", {{"x-mlflow-experiment-id", experiment_id}}));
    if (r.status == 200) {
      return Status::Ok();
    }
    return Rest::Parse(r, "POST " + rest_.client().base_url() + "/v1/traces").status();
  }
  Result<Trace> GetTrace(const std::string& id, bool allow_partial) override {
    PLINTH_ASSIGN_OR_RETURN(
        Json r,
        rest_.Call("GET", std::string(kApi3) + "/traces/get",
                   {{"trace_id", id}, {"allow_partial", allow_partial ? "true" : "false"}}));
    return TraceFromV3Json(Member(r, "trace"));
  }
  Result<std::vector<Trace>> BatchGetTraces(const std::vector<std::string>& ids) override {
    if (ids.empty()) {
      return std::vector<Trace>();
    }
    PLINTH_ASSIGN_OR_RETURN(
        Json r, rest_.Call("GET", std::string(kApi3) + "/traces/batchGet", {{"trace_ids", ids}}));
    return List<Trace>(r, "traces", TraceFromV3Json);
  }
  Result<Assessment> CreateAssessment(const Assessment& a) override {
    PLINTH_ASSIGN_OR_RETURN(
        Json r, rest_.Call("POST", AssessmentsPath(a.trace_id), {{"assessment", ToJson(a)}}));
    return AssessmentFromJson(Member(r, "assessment"));
  }
  Result<Assessment> GetAssessment(const std::string& trace_id, const std::string& id) override {
    PLINTH_ASSIGN_OR_RETURN(
        Json r,
        rest_.Call("GET", AssessmentsPath(trace_id) + "/" + http::UrlEncode(id), Json::object()));
    return AssessmentFromJson(Member(r, "assessment"));
  }
  Result<Assessment> UpdateAssessment(const std::string& trace_id, const std::string& id,
                                      const AssessmentUpdate& u) override {
    Json a = {{"assessment_id", id}, {"trace_id", trace_id}};
    std::vector<std::string> mask;
    if (u.name) {
      a["assessment_name"] = *u.name;
      mask.push_back("assessment_name");
    }
    if (u.value) {
      Json value = ToJson(*u.value);
      const char* kind = u.value->is_expectation ? "expectation" : "feedback";
      a[kind] = value[kind];
      mask.push_back(kind);
    }
    if (u.rationale) {
      a["rationale"] = *u.rationale;
      mask.push_back("rationale");
    }
    if (u.metadata) {
      Json m = Json::object();
      for (const Tag& t : *u.metadata) {
        m[t.key] = t.value;
      }
      a["metadata"] = m;
      mask.push_back("metadata");
    }
    std::string paths;
    for (const std::string& p : mask) {
      paths += (paths.empty() ? "" : ",") + p;
    }
    PLINTH_ASSIGN_OR_RETURN(
        Json r, rest_.Call("PATCH", AssessmentsPath(trace_id) + "/" + http::UrlEncode(id),
                           {{"assessment", a}, {"update_mask", paths}}));
    return AssessmentFromJson(Member(r, "assessment"));
  }
  Status DeleteAssessment(const std::string& trace_id, const std::string& id) override {
    return rest_
        .Call("DELETE", AssessmentsPath(trace_id) + "/" + http::UrlEncode(id), Json::object())
        .status();
  }

  Result<Page<Metric>> GetMetricHistory(const std::string& id, const std::string& key,
                                        int64_t max_results, const std::string& token) override {
    Json m = {{"run_id", id}, {"metric_key", key}};
    if (max_results > 0) {
      m["max_results"] = max_results;
    }
    if (!token.empty()) {
      m["page_token"] = token;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Get("/metrics/get-history", m));
    return PageOf<Metric>(r, "metrics", MetricFromJson);
  }

 private:
  Result<Json> Post(std::string_view path, const Json& m) {
    return rest_.Call("POST", std::string(kApi) + std::string(path), m);
  }
  Result<Json> Get(std::string_view path, const Json& m) {
    return rest_.Call("GET", std::string(kApi) + std::string(path), m);
  }
  Result<Json> Call(std::string_view method, std::string_view path, const Json& m) {
    return rest_.Call(method, std::string(kApi) + std::string(path), m);
  }
  Rest rest_;
};

class RestRegistryStore : public RegistryStore {
 public:
  RestRegistryStore(const std::string& url, const std::string& user) : rest_(url, user) {}

  Result<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                const std::vector<Tag>& tags,
                                                const std::string& description) override {
    return Model(Call("POST", "/registered-models/create",
                      {{"name", name}, {"tags", TagsJson(tags)}, {"description", description}}));
  }
  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override {
    return Model(Call("GET", "/registered-models/get", {{"name", name}}));
  }
  Result<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                const std::string& new_name) override {
    return Model(
        Call("POST", "/registered-models/rename", {{"name", name}, {"new_name", new_name}}));
  }
  Result<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                const std::string& description) override {
    return Model(
        Call("PATCH", "/registered-models/update", {{"name", name}, {"description", description}}));
  }
  Status DeleteRegisteredModel(const std::string& name) override {
    return Call("DELETE", "/registered-models/delete", {{"name", name}}).status();
  }
  Result<Page<RegisteredModel>> SearchRegisteredModels(const ModelQuery& q) override {
    Json m = {{"filter", q.filter}, {"max_results", q.max_results}, {"order_by", q.order_by}};
    if (!q.page_token.empty()) {
      m["page_token"] = q.page_token;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Call("GET", "/registered-models/search", m));
    return PageOf<RegisteredModel>(r, "registered_models", RegisteredModelFromJson);
  }
  Result<std::vector<ModelVersion>> GetLatestVersions(
      const std::string& name, const std::vector<std::string>& stages) override {
    PLINTH_ASSIGN_OR_RETURN(Json r, Call("POST", "/registered-models/get-latest-versions",
                                         {{"name", name}, {"stages", stages}}));
    return List<ModelVersion>(r, "model_versions", ModelVersionFromJson);
  }
  Status SetRegisteredModelTag(const std::string& name, const Tag& t) override {
    return Call("POST", "/registered-models/set-tag",
                {{"name", name}, {"key", t.key}, {"value", t.value}})
        .status();
  }
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override {
    return Call("DELETE", "/registered-models/delete-tag", {{"name", name}, {"key", key}}).status();
  }
  Result<ModelVersion> CreateModelVersion(const NewModelVersion& v) override {
    return Version(Call("POST", "/model-versions/create",
                        {{"name", v.name},
                         {"source", v.source},
                         {"run_id", v.run_id},
                         {"tags", TagsJson(v.tags)},
                         {"run_link", v.run_link},
                         {"description", v.description}}));
  }
  Result<ModelVersion> GetModelVersion(const std::string& name,
                                       const std::string& version) override {
    return Version(Call("GET", "/model-versions/get", {{"name", name}, {"version", version}}));
  }
  Result<ModelVersion> UpdateModelVersion(const std::string& name, const std::string& version,
                                          const std::string& description) override {
    return Version(Call("PATCH", "/model-versions/update",
                        {{"name", name}, {"version", version}, {"description", description}}));
  }
  Result<ModelVersion> TransitionStage(const std::string& name, const std::string& version,
                                       const std::string& stage, bool archive,
                                       const std::string& user) override {
    (void)user;  // sent as X-Plinth-User
    return Version(Call("POST", "/model-versions/transition-stage",
                        {{"name", name},
                         {"version", version},
                         {"stage", stage},
                         {"archive_existing_versions", archive}}));
  }
  Status DeleteModelVersion(const std::string& name, const std::string& version) override {
    return Call("DELETE", "/model-versions/delete", {{"name", name}, {"version", version}})
        .status();
  }
  Result<Page<ModelVersion>> SearchModelVersions(const ModelQuery& q) override {
    Json m = {{"filter", q.filter}, {"max_results", q.max_results}, {"order_by", q.order_by}};
    if (!q.page_token.empty()) {
      m["page_token"] = q.page_token;
    }
    PLINTH_ASSIGN_OR_RETURN(Json r, Call("GET", "/model-versions/search", m));
    return PageOf<ModelVersion>(r, "model_versions", ModelVersionFromJson);
  }
  Status SetModelVersionTag(const std::string& name, const std::string& version,
                            const Tag& t) override {
    return Call("POST", "/model-versions/set-tag",
                {{"name", name}, {"version", version}, {"key", t.key}, {"value", t.value}})
        .status();
  }
  Status DeleteModelVersionTag(const std::string& name, const std::string& version,
                               const std::string& key) override {
    return Call("DELETE", "/model-versions/delete-tag",
                {{"name", name}, {"version", version}, {"key", key}})
        .status();
  }
  Status SetAlias(const std::string& name, const std::string& alias, const std::string& version,
                  const std::string& user) override {
    (void)user;
    return Call("POST", "/registered-models/alias",
                {{"name", name}, {"alias", alias}, {"version", version}})
        .status();
  }
  Status DeleteAlias(const std::string& name, const std::string& alias,
                     const std::string& user) override {
    (void)user;
    return Call("DELETE", "/registered-models/alias", {{"name", name}, {"alias", alias}}).status();
  }
  Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                              const std::string& alias) override {
    return Version(Call("GET", "/registered-models/alias", {{"name", name}, {"alias", alias}}));
  }
  Result<std::vector<RegistryEvent>> History(const std::string& name) override {
    PLINTH_ASSIGN_OR_RETURN(
        Json r, rest_.Call("GET", "/api/plinth/v1/registered-models/history", {{"name", name}}));
    return List<RegistryEvent>(r, "events", RegistryEventFromJson);
  }

 private:
  Result<Json> Call(std::string_view method, std::string_view path, const Json& m) {
    return rest_.Call(method, std::string(kApi) + std::string(path), m);
  }
  static Result<RegisteredModel> Model(Result<Json> r) {
    PLINTH_RETURN_IF_ERROR(r.status());
    return RegisteredModelFromJson(Member(*r, "registered_model"));
  }
  static Result<ModelVersion> Version(Result<Json> r) {
    PLINTH_RETURN_IF_ERROR(r.status());
    return ModelVersionFromJson(Member(*r, "model_version"));
  }
  Rest rest_;
};

class RestArtifacts : public ArtifactSink {
 public:
  RestArtifacts(const std::string& url, std::string cache) : rest_(url), cache_(std::move(cache)) {}

  Status Put(std::string_view path, std::string_view bytes) const override {
    PLINTH_ASSIGN_OR_RETURN(std::string rel, SafeRelativePath(path));
    core::MutexLock lock(mu_);
    PLINTH_ASSIGN_OR_RETURN(
        http::ClientResponse r,
        rest_.client().Send("PUT",
                            "/api/2.0/mlflow-artifacts/artifacts/" + http::UrlEncode(rel, true),
                            bytes, "application/octet-stream"));
    return Rest::Parse(r, "PUT " + rel).status();
  }

  Result<std::string> Fetch(std::string_view dir) const override {
    PLINTH_ASSIGN_OR_RETURN(std::string rel, SafeRelativePath(dir));
    core::MutexLock lock(mu_);
    ArtifactRoot local(cache_);
    PLINTH_RETURN_IF_ERROR(FetchDir(rel, local));
    return local.Fetch(rel);
  }

 private:
  Status FetchDir(const std::string& rel, const ArtifactRoot& local) const PLINTH_REQUIRES(mu_) {
    PLINTH_ASSIGN_OR_RETURN(
        Json listing, rest_.Call("GET", "/api/2.0/mlflow-artifacts/artifacts", {{"path", rel}}));
    PLINTH_ASSIGN_OR_RETURN(core::JsonFields answer, Answer(listing));
    PLINTH_ASSIGN_OR_RETURN(const Json* files, answer.Items("files"));
    if (files->empty()) {
      return NotFound("no artifacts at mlflow-artifacts:/" + rel + " on " +
                      rest_.client().base_url());
    }
    for (const Json& file : *files) {
      PLINTH_ASSIGN_OR_RETURN(core::JsonFields f, Answer(file, "the server's artifact listing"));
      PLINTH_ASSIGN_OR_RETURN(std::string name, f.String("path"));
      PLINTH_ASSIGN_OR_RETURN(bool is_dir, f.Bool("is_dir", false));
      std::string child = rel + "/" + name;
      if (is_dir) {
        PLINTH_RETURN_IF_ERROR(FetchDir(child, local));
        continue;
      }
      PLINTH_ASSIGN_OR_RETURN(http::ClientResponse r,
                              rest_.client().Send("GET", "/api/2.0/mlflow-artifacts/artifacts/" +
                                                             http::UrlEncode(child, true)));
      if (r.status != 200) {
        return Rest::Parse(r, "GET " + child).status();
      }
      PLINTH_RETURN_IF_ERROR(local.Put(child, r.body));
    }
    return Status::Ok();
  }

  mutable core::Mutex mu_;
  mutable Rest rest_ PLINTH_GUARDED_BY(mu_);  // one HTTP handle, one call at a time
  std::string cache_;
};

}  // namespace

std::unique_ptr<TrackingStore> OpenRestTrackingStore(const std::string& base_url) {
  return std::make_unique<RestTrackingStore>(base_url);
}

std::unique_ptr<RegistryStore> OpenRestRegistryStore(const std::string& base_url,
                                                     const std::string& user) {
  return std::make_unique<RestRegistryStore>(base_url, user);
}

std::unique_ptr<ArtifactSink> OpenRestArtifacts(const std::string& base_url,
                                                const std::string& cache_dir) {
  return std::make_unique<RestArtifacts>(base_url, cache_dir);
}

}  // namespace plinth::tracking
