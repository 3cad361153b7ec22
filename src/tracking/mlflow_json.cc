#include "tracking/mlflow_json.h"

#include <cmath>
#include <utility>

#include "http/errors.h"

namespace plinth::tracking {
namespace {

void WriteTags(core::JsonWriter& w, const std::vector<Tag>& tags) {
  w.BeginArray();
  for (const Tag& t : tags) {
    w.BeginObject().Field("key", t.key).Field("value", t.value).EndObject();
  }
  w.EndArray();
}

// MLflow's double: a number, or "NaN", "Infinity", "-Infinity".
void WriteDouble(core::JsonWriter& w, double v) {
  if (std::isnan(v)) {
    w.String("NaN");
  } else if (std::isinf(v)) {
    w.String(v > 0 ? "Infinity" : "-Infinity");
  } else {
    w.Double(v);
  }
}

// The tree of what WriteJson writes: one definition of each entity's JSON.
template <typename T>
core::Json ViaWriter(const T& x) {
  std::string text;
  core::JsonWriter w(&text);
  WriteJson(w, x);
  return *core::ParseJson(text, "entity");
}

core::Json TagsJson(const std::vector<Tag>& tags) {
  core::Json out = core::Json::array();
  for (const Tag& t : tags) {
    out.push_back({{"key", t.key}, {"value", t.value}});
  }
  return out;
}

std::string Str(const core::Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const core::Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) {
    return 0;
  }
  if (it->is_number()) {
    return it->get<int64_t>();
  }
  return it->is_string() ? std::strtoll(it->get<std::string>().c_str(), nullptr, 10) : 0;
}

double Double(const core::Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) {
    return 0;
  }
  if (it->is_number()) {
    return it->get<double>();
  }
  // strtod reads "NaN", "Infinity" and "-Infinity" as MLflow writes them.
  return it->is_string() ? std::strtod(it->get<std::string>().c_str(), nullptr) : 0;
}

std::vector<Tag> TagsFrom(const core::Json& j, const char* key) {
  std::vector<Tag> out;
  auto it = j.find(key);
  if (it != j.end() && it->is_array()) {
    for (const core::Json& t : *it) {
      out.push_back({Str(t, "key"), Str(t, "value")});
    }
  }
  return out;
}

Status Expect(const core::Json& j, std::string_view what) {
  if (!j.is_object()) {
    return Corruption("the server's " + std::string(what) + " is not a JSON object");
  }
  return Status::Ok();
}

}  // namespace

Result<Experiment> ExperimentFromJson(const core::Json& j) {
  PLINTH_RETURN_IF_ERROR(Expect(j, "experiment"));
  return Experiment{Str(j, "experiment_id"),   Str(j, "name"),          Str(j, "artifact_location"),
                    Str(j, "lifecycle_stage"), Int(j, "creation_time"), Int(j, "last_update_time"),
                    TagsFrom(j, "tags")};
}

Result<RunInfo> RunInfoFromJson(const core::Json& j) {
  PLINTH_RETURN_IF_ERROR(Expect(j, "run info"));
  RunInfo info;
  info.run_id = Str(j, "run_id").empty() ? Str(j, "run_uuid") : Str(j, "run_id");
  info.run_name = Str(j, "run_name");
  info.experiment_id = Str(j, "experiment_id");
  info.user_id = Str(j, "user_id");
  Result<RunStatus> status = ParseRunStatus(Str(j, "status"));
  info.status = status.ok() ? *status : RunStatus::kRunning;
  info.start_time = Int(j, "start_time");
  if (j.contains("end_time")) {
    info.end_time = Int(j, "end_time");
  }
  info.artifact_uri = Str(j, "artifact_uri");
  info.lifecycle_stage = Str(j, "lifecycle_stage");
  return info;
}

Result<Metric> MetricFromJson(const core::Json& j) {
  PLINTH_RETURN_IF_ERROR(Expect(j, "metric"));
  return Metric{Str(j, "key"), Double(j, "value"), Int(j, "timestamp"), Int(j, "step")};
}

Result<Run> RunFromJson(const core::Json& j) {
  PLINTH_RETURN_IF_ERROR(Expect(j, "run"));
  Run run;
  PLINTH_ASSIGN_OR_RETURN(run.info, RunInfoFromJson(j.value("info", core::Json::object())));
  const core::Json data = j.value("data", core::Json::object());
  for (const core::Json& m : data.value("metrics", core::Json::array())) {
    PLINTH_ASSIGN_OR_RETURN(Metric metric, MetricFromJson(m));
    run.metrics.push_back(std::move(metric));
  }
  for (const Tag& p : TagsFrom(data, "params")) {
    run.params.push_back({p.key, p.value});
  }
  run.tags = TagsFrom(data, "tags");
  const core::Json inputs = j.value("inputs", core::Json::object());
  for (const core::Json& in : inputs.value("dataset_inputs", core::Json::array())) {
    DatasetInput d;
    d.tags = TagsFrom(in, "tags");
    const core::Json ds = in.value("dataset", core::Json::object());
    d.dataset = {Str(ds, "name"),
                 Str(ds, "digest"),
                 Str(ds, "source_type"),
                 Str(ds, "source"),
                 ds.contains("schema") ? std::optional(Str(ds, "schema")) : std::nullopt,
                 ds.contains("profile") ? std::optional(Str(ds, "profile")) : std::nullopt};
    run.inputs.push_back(std::move(d));
  }
  return run;
}

Result<ModelVersion> ModelVersionFromJson(const core::Json& j) {
  PLINTH_RETURN_IF_ERROR(Expect(j, "model version"));
  ModelVersion v;
  v.name = Str(j, "name");
  v.version = Int(j, "version");
  v.creation_timestamp = Int(j, "creation_timestamp");
  v.last_updated_timestamp = Int(j, "last_updated_timestamp");
  v.user_id = Str(j, "user_id");
  v.current_stage = Str(j, "current_stage");
  v.description = Str(j, "description");
  v.source = Str(j, "source");
  v.run_id = Str(j, "run_id");
  v.status = Str(j, "status");
  v.status_message = Str(j, "status_message");
  v.tags = TagsFrom(j, "tags");
  v.run_link = Str(j, "run_link");
  for (const core::Json& a : j.value("aliases", core::Json::array())) {
    v.aliases.push_back(a.is_string() ? a.get<std::string>() : "");
  }
  return v;
}

Result<RegisteredModel> RegisteredModelFromJson(const core::Json& j) {
  PLINTH_RETURN_IF_ERROR(Expect(j, "registered model"));
  RegisteredModel m;
  m.name = Str(j, "name");
  m.creation_timestamp = Int(j, "creation_timestamp");
  m.last_updated_timestamp = Int(j, "last_updated_timestamp");
  m.description = Str(j, "description");
  for (const core::Json& v : j.value("latest_versions", core::Json::array())) {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, ModelVersionFromJson(v));
    m.latest_versions.push_back(std::move(mv));
  }
  m.tags = TagsFrom(j, "tags");
  for (const core::Json& a : j.value("aliases", core::Json::array())) {
    m.aliases.emplace_back(Str(a, "alias"), Int(a, "version"));
  }
  return m;
}

Status StatusFromError(std::string_view code, const std::string& message) {
  return Status(http::StatusCodeForErrorCode(code), message);
}

void WriteJson(core::JsonWriter& w, const Dataset& ds) {
  w.BeginObject()
      .Field("name", ds.name)
      .Field("digest", ds.digest)
      .Field("source_type", ds.source_type)
      .Field("source", ds.source);
  if (ds.schema) {
    w.Field("schema", *ds.schema);
  }
  if (ds.profile) {
    w.Field("profile", *ds.profile);
  }
  w.EndObject();
}

core::Json ToJson(const Dataset& ds) { return ViaWriter(ds); }

core::Json ToJson(const std::vector<Tag>& tags) { return TagsJson(tags); }

core::Json DoubleJson(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "Infinity" : "-Infinity";
  }
  return v;
}

core::Json ToJson(const Experiment& e) {
  core::Json j = {
      {"experiment_id", e.experiment_id},         {"name", e.name},
      {"artifact_location", e.artifact_location}, {"lifecycle_stage", e.lifecycle_stage},
      {"last_update_time", e.last_update_time},   {"creation_time", e.creation_time}};
  if (!e.tags.empty()) {
    j["tags"] = TagsJson(e.tags);
  }
  return j;
}

void WriteJson(core::JsonWriter& w, const RunInfo& info) {
  w.BeginObject()
      .Field("run_uuid", info.run_id)
      .Field("experiment_id", info.experiment_id)
      .Field("run_name", info.run_name)
      .Field("user_id", info.user_id)
      .Field("status", RunStatusName(info.status))
      .Field("start_time", info.start_time);
  if (info.end_time) {
    w.Field("end_time", *info.end_time);
  }
  w.Field("artifact_uri", info.artifact_uri)
      .Field("lifecycle_stage", info.lifecycle_stage)
      .Field("run_id", info.run_id)
      .EndObject();
}

void WriteJson(core::JsonWriter& w, const Metric& m, std::string_view run_id) {
  w.BeginObject().Field("key", m.key).Key("value");
  WriteDouble(w, m.value);
  w.Field("timestamp", m.timestamp).Field("step", m.step);
  if (!run_id.empty()) {
    w.Field("run_id", run_id);
  }
  w.EndObject();
}

void WriteJson(core::JsonWriter& w, const Run& run) {
  w.BeginObject().Key("info");
  WriteJson(w, run.info);
  w.Key("data").BeginObject();
  if (!run.metrics.empty()) {
    w.Key("metrics").BeginArray();
    for (const Metric& m : run.metrics) {
      WriteJson(w, m);
    }
    w.EndArray();
  }
  if (!run.params.empty()) {
    w.Key("params").BeginArray();
    for (const Param& p : run.params) {
      w.BeginObject().Field("key", p.key).Field("value", p.value).EndObject();
    }
    w.EndArray();
  }
  if (!run.tags.empty()) {
    w.Key("tags");
    WriteTags(w, run.tags);
  }
  w.EndObject().Key("inputs").BeginObject();
  if (!run.inputs.empty()) {
    w.Key("dataset_inputs").BeginArray();
    for (const DatasetInput& in : run.inputs) {
      w.BeginObject();
      if (!in.tags.empty()) {
        w.Key("tags");
        WriteTags(w, in.tags);
      }
      w.Key("dataset");
      WriteJson(w, in.dataset);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject().EndObject();
}

core::Json ToJson(const RunInfo& info) { return ViaWriter(info); }
core::Json ToJson(const Metric& m) { return ViaWriter(m); }
core::Json ToJson(const Run& run) { return ViaWriter(run); }

core::Json ToJson(const ModelVersion& v) {
  core::Json j = {{"name", v.name},
                  {"version", std::to_string(v.version)},
                  {"creation_timestamp", v.creation_timestamp},
                  {"last_updated_timestamp", v.last_updated_timestamp}};
  if (!v.user_id.empty()) {
    j["user_id"] = v.user_id;
  }
  j["current_stage"] = v.current_stage;
  if (!v.description.empty()) {
    j["description"] = v.description;
  }
  j["source"] = v.source;
  if (!v.run_id.empty()) {
    j["run_id"] = v.run_id;
  }
  j["status"] = v.status;
  if (!v.status_message.empty()) {
    j["status_message"] = v.status_message;
  }
  if (!v.tags.empty()) {
    j["tags"] = TagsJson(v.tags);
  }
  if (!v.run_link.empty()) {
    j["run_link"] = v.run_link;
  }
  if (!v.aliases.empty()) {
    j["aliases"] = v.aliases;
  }
  return j;
}

core::Json ToJson(const RegisteredModel& m) {
  core::Json j = {{"name", m.name},
                  {"creation_timestamp", m.creation_timestamp},
                  {"last_updated_timestamp", m.last_updated_timestamp}};
  if (!m.description.empty()) {
    j["description"] = m.description;
  }
  if (!m.latest_versions.empty()) {
    core::Json list = core::Json::array();
    for (const ModelVersion& v : m.latest_versions) {
      list.push_back(ToJson(v));
    }
    j["latest_versions"] = std::move(list);
  }
  if (!m.tags.empty()) {
    j["tags"] = TagsJson(m.tags);
  }
  if (!m.aliases.empty()) {
    core::Json list = core::Json::array();
    for (const auto& [alias, version] : m.aliases) {
      list.push_back({{"alias", alias}, {"version", std::to_string(version)}});
    }
    j["aliases"] = std::move(list);
  }
  return j;
}

std::string_view ErrorCode(StatusCode code) { return http::ErrorCodeFor(code); }

}  // namespace plinth::tracking
