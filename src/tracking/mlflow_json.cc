#include "tracking/mlflow_json.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "core/clock.h"
#include "http/errors.h"
#include "tracking/spans.h"

namespace plinth::tracking {
namespace {

void WriteTags(core::JsonWriter& w, const std::vector<Tag>& tags) {
  w.BeginArray();
  for (const Tag& t : tags) {
    w.BeginObject().Field("key", t.key).Field("value", t.value).EndObject();
  }
  w.EndArray();
}

// "params": [{key, value}], left out when empty.
void WriteParams(core::JsonWriter& w, const std::vector<Param>& params) {
  if (params.empty()) {
    return;
  }
  w.Key("params").BeginArray();
  for (const Param& p : params) {
    w.BeginObject().Field("key", p.key).Field("value", p.value).EndObject();
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

// An int64 member of the server's `what` (0 when absent): a JSON integer, an
// integral double or a decimal string (proto3's JSON form), refused when out of
// int64's range rather than wrapped.
Result<int64_t> Int(const core::Json& j, const char* key, std::string_view what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return 0;
  }
  const core::Json& v = *it;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
      return static_cast<int64_t>(v.get<uint64_t>());
    }
  } else if (v.is_number_integer()) {
    return v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && d > -9223372036854775808.0 &&
        d < 9223372036854775808.0) {
      return static_cast<int64_t>(d);
    }
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    int64_t x = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), x);
    if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
      return x;
    }
  }
  return Corruption("the server's " + std::string(what) + ": key '" + key +
                    "': expected an integer from -2^63 to 2^63-1, got " + core::JsonPreview(v, 40));
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

// The member `key` of the server's `what` when it is of the type `check` accepts
// (`fallback` when absent or null), else Corruption naming it.
Result<const core::Json*> Member(const core::Json& j, const char* key, std::string_view what,
                                 bool (core::Json::*check)() const noexcept,
                                 const core::Json& fallback, std::string_view expected) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return &fallback;
  }
  if (!((*it).*check)()) {
    return Corruption("the server's " + std::string(what) + ": key '" + key + "': expected " +
                      std::string(expected) + ", got " + core::JsonPreview(*it, 40));
  }
  return &*it;
}

// An object member (an empty object when absent).
Result<const core::Json*> Obj(const core::Json& j, const char* key, std::string_view what) {
  static const core::Json kEmpty = core::Json::object();
  return Member(j, key, what, &core::Json::is_object, kEmpty, "an object");
}

// An array member (an empty array when absent).
Result<const core::Json*> List(const core::Json& j, const char* key, std::string_view what) {
  static const core::Json kEmpty = core::Json::array();
  return Member(j, key, what, &core::Json::is_array, kEmpty, "an array");
}

Status Expect(const core::Json& j, std::string_view what) {
  if (!j.is_object()) {
    return Corruption("the server's " + std::string(what) + " is not a JSON object");
  }
  return Status::Ok();
}

}  // namespace

Result<Experiment> ExperimentFromJson(const core::Json& j) {
  constexpr std::string_view kWhat = "experiment";
  PLINTH_RETURN_IF_ERROR(Expect(j, kWhat));
  PLINTH_ASSIGN_OR_RETURN(int64_t created, Int(j, "creation_time", kWhat));
  PLINTH_ASSIGN_OR_RETURN(int64_t updated, Int(j, "last_update_time", kWhat));
  return Experiment{Str(j, "experiment_id"),   Str(j, "name"), Str(j, "artifact_location"),
                    Str(j, "lifecycle_stage"), created,        updated,
                    TagsFrom(j, "tags")};
}

Result<RunInfo> RunInfoFromJson(const core::Json& j) {
  constexpr std::string_view kWhat = "run info";
  PLINTH_RETURN_IF_ERROR(Expect(j, kWhat));
  RunInfo info;
  info.run_id = Str(j, "run_id").empty() ? Str(j, "run_uuid") : Str(j, "run_id");
  info.run_name = Str(j, "run_name");
  info.experiment_id = Str(j, "experiment_id");
  info.user_id = Str(j, "user_id");
  Result<RunStatus> status = ParseRunStatus(Str(j, "status"));
  info.status = status.ok() ? *status : RunStatus::kRunning;
  PLINTH_ASSIGN_OR_RETURN(info.start_time, Int(j, "start_time", kWhat));
  if (j.contains("end_time")) {
    PLINTH_ASSIGN_OR_RETURN(info.end_time, Int(j, "end_time", kWhat));
  }
  info.artifact_uri = Str(j, "artifact_uri");
  info.lifecycle_stage = Str(j, "lifecycle_stage");
  return info;
}

Result<Metric> MetricFromJson(const core::Json& j) {
  PLINTH_RETURN_IF_ERROR(Expect(j, "metric"));
  PLINTH_ASSIGN_OR_RETURN(int64_t timestamp, Int(j, "timestamp", "metric"));
  PLINTH_ASSIGN_OR_RETURN(int64_t step, Int(j, "step", "metric"));
  Metric m{Str(j, "key"), Double(j, "value"), timestamp, step};
  m.model_id = Str(j, "model_id");
  m.dataset_name = Str(j, "dataset_name");
  m.dataset_digest = Str(j, "dataset_digest");
  m.run_id = Str(j, "run_id");
  return m;
}

Result<LoggedModel> LoggedModelFromJson(const core::Json& j) {
  constexpr std::string_view kWhat = "logged model";
  PLINTH_RETURN_IF_ERROR(Expect(j, kWhat));
  LoggedModel m;
  PLINTH_ASSIGN_OR_RETURN(const core::Json* info, Obj(j, "info", kWhat));
  m.model_id = Str(*info, "model_id");
  m.experiment_id = Str(*info, "experiment_id");
  m.name = Str(*info, "name");
  PLINTH_ASSIGN_OR_RETURN(m.creation_timestamp_ms, Int(*info, "creation_timestamp_ms", kWhat));
  PLINTH_ASSIGN_OR_RETURN(m.last_updated_timestamp_ms,
                          Int(*info, "last_updated_timestamp_ms", kWhat));
  m.artifact_uri = Str(*info, "artifact_uri");
  Result<LoggedModelStatus> status = ParseLoggedModelStatus(Str(*info, "status"));
  m.status = status.ok() ? *status : LoggedModelStatus::kUnspecified;
  m.lifecycle_stage = "active";
  m.model_type = Str(*info, "model_type");
  m.source_run_id = Str(*info, "source_run_id");
  m.tags = TagsFrom(*info, "tags");
  PLINTH_ASSIGN_OR_RETURN(const core::Json* data, Obj(j, "data", kWhat));
  for (const Tag& p : TagsFrom(*data, "params")) {
    m.params.push_back({p.key, p.value});
  }
  PLINTH_ASSIGN_OR_RETURN(const core::Json* metrics, List(*data, "metrics", "logged model's data"));
  for (const core::Json& x : *metrics) {
    PLINTH_ASSIGN_OR_RETURN(Metric metric, MetricFromJson(x));
    m.metrics.push_back(std::move(metric));
  }
  return m;
}

Result<Run> RunFromJson(const core::Json& j) {
  PLINTH_RETURN_IF_ERROR(Expect(j, "run"));
  Run run;
  PLINTH_ASSIGN_OR_RETURN(const core::Json* info, Obj(j, "info", "run"));
  PLINTH_ASSIGN_OR_RETURN(run.info, RunInfoFromJson(*info));
  PLINTH_ASSIGN_OR_RETURN(const core::Json* data, Obj(j, "data", "run"));
  PLINTH_ASSIGN_OR_RETURN(const core::Json* metrics, List(*data, "metrics", "run's data"));
  for (const core::Json& m : *metrics) {
    PLINTH_ASSIGN_OR_RETURN(Metric metric, MetricFromJson(m));
    run.metrics.push_back(std::move(metric));
  }
  for (const Tag& p : TagsFrom(*data, "params")) {
    run.params.push_back({p.key, p.value});
  }
  run.tags = TagsFrom(*data, "tags");
  PLINTH_ASSIGN_OR_RETURN(const core::Json* inputs, Obj(j, "inputs", "run"));
  PLINTH_ASSIGN_OR_RETURN(const core::Json* dataset_inputs,
                          List(*inputs, "dataset_inputs", "run's inputs"));
  for (const core::Json& in : *dataset_inputs) {
    PLINTH_RETURN_IF_ERROR(Expect(in, "dataset input"));
    DatasetInput d;
    d.tags = TagsFrom(in, "tags");
    PLINTH_ASSIGN_OR_RETURN(const core::Json* ds, Obj(in, "dataset", "dataset input"));
    d.dataset = {Str(*ds, "name"),
                 Str(*ds, "digest"),
                 Str(*ds, "source_type"),
                 Str(*ds, "source"),
                 ds->contains("schema") ? std::optional(Str(*ds, "schema")) : std::nullopt,
                 ds->contains("profile") ? std::optional(Str(*ds, "profile")) : std::nullopt};
    run.inputs.push_back(std::move(d));
  }
  PLINTH_ASSIGN_OR_RETURN(const core::Json* model_inputs,
                          List(*inputs, "model_inputs", "run's inputs"));
  for (const core::Json& in : *model_inputs) {
    PLINTH_RETURN_IF_ERROR(Expect(in, "model input"));
    run.model_inputs.push_back(Str(in, "model_id"));
  }
  PLINTH_ASSIGN_OR_RETURN(const core::Json* outputs, Obj(j, "outputs", "run"));
  PLINTH_ASSIGN_OR_RETURN(const core::Json* model_outputs,
                          List(*outputs, "model_outputs", "run's outputs"));
  for (const core::Json& out : *model_outputs) {
    PLINTH_RETURN_IF_ERROR(Expect(out, "model output"));
    PLINTH_ASSIGN_OR_RETURN(int64_t step, Int(out, "step", "model output"));
    run.model_outputs.push_back({Str(out, "model_id"), step});
  }
  return run;
}

Result<ModelVersion> ModelVersionFromJson(const core::Json& j) {
  constexpr std::string_view kWhat = "model version";
  PLINTH_RETURN_IF_ERROR(Expect(j, kWhat));
  ModelVersion v;
  v.name = Str(j, "name");
  PLINTH_ASSIGN_OR_RETURN(v.version, Int(j, "version", kWhat));
  PLINTH_ASSIGN_OR_RETURN(v.creation_timestamp, Int(j, "creation_timestamp", kWhat));
  PLINTH_ASSIGN_OR_RETURN(v.last_updated_timestamp, Int(j, "last_updated_timestamp", kWhat));
  v.user_id = Str(j, "user_id");
  v.current_stage = Str(j, "current_stage");
  v.description = Str(j, "description");
  v.source = Str(j, "source");
  v.storage_location = v.source;  // MLflow 2.x does not send it (get-download-uri does)
  v.run_id = Str(j, "run_id");
  v.status = Str(j, "status");
  v.status_message = Str(j, "status_message");
  v.tags = TagsFrom(j, "tags");
  v.run_link = Str(j, "run_link");
  PLINTH_ASSIGN_OR_RETURN(const core::Json* aliases, List(j, "aliases", kWhat));
  for (const core::Json& a : *aliases) {
    v.aliases.push_back(a.is_string() ? a.get<std::string>() : "");
  }
  return v;
}

Result<RegisteredModel> RegisteredModelFromJson(const core::Json& j) {
  constexpr std::string_view kWhat = "registered model";
  PLINTH_RETURN_IF_ERROR(Expect(j, kWhat));
  RegisteredModel m;
  m.name = Str(j, "name");
  PLINTH_ASSIGN_OR_RETURN(m.creation_timestamp, Int(j, "creation_timestamp", kWhat));
  PLINTH_ASSIGN_OR_RETURN(m.last_updated_timestamp, Int(j, "last_updated_timestamp", kWhat));
  m.description = Str(j, "description");
  PLINTH_ASSIGN_OR_RETURN(const core::Json* latest, List(j, "latest_versions", kWhat));
  for (const core::Json& v : *latest) {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, ModelVersionFromJson(v));
    m.latest_versions.push_back(std::move(mv));
  }
  m.tags = TagsFrom(j, "tags");
  PLINTH_ASSIGN_OR_RETURN(const core::Json* aliases, List(j, "aliases", kWhat));
  for (const core::Json& a : *aliases) {
    PLINTH_ASSIGN_OR_RETURN(int64_t version, Int(a, "version", "registered model's alias"));
    m.aliases.emplace_back(Str(a, "alias"), version);
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
  if (!m.dataset_name.empty()) {
    w.Field("dataset_name", m.dataset_name);
  }
  if (!m.dataset_digest.empty()) {
    w.Field("dataset_digest", m.dataset_digest);
  }
  if (!m.model_id.empty()) {
    w.Field("model_id", m.model_id);
  }
  if (!run_id.empty() || !m.run_id.empty()) {
    w.Field("run_id", run_id.empty() ? std::string_view(m.run_id) : run_id);
  }
  w.EndObject();
}

void WriteJson(core::JsonWriter& w, const LoggedModel& m) {
  w.BeginObject().Key("info").BeginObject();
  w.Field("model_id", m.model_id)
      .Field("experiment_id", m.experiment_id)
      .Field("name", m.name)
      .Field("creation_timestamp_ms", m.creation_timestamp_ms)
      .Field("last_updated_timestamp_ms", m.last_updated_timestamp_ms)
      .Field("artifact_uri", m.artifact_uri)
      .Field("status", LoggedModelStatusName(m.status))
      .Field("model_type", m.model_type)
      .Field("source_run_id", m.source_run_id);
  if (!m.tags.empty()) {
    w.Key("tags");
    WriteTags(w, m.tags);
  }
  w.EndObject().Key("data").BeginObject();
  WriteParams(w, m.params);
  if (!m.metrics.empty()) {
    w.Key("metrics").BeginArray();
    for (const Metric& x : m.metrics) {
      WriteJson(w, x);
    }
    w.EndArray();
  }
  w.EndObject().EndObject();
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
  WriteParams(w, run.params);
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
  if (!run.model_inputs.empty()) {
    w.Key("model_inputs").BeginArray();
    for (const std::string& id : run.model_inputs) {
      w.BeginObject().Field("model_id", id).EndObject();
    }
    w.EndArray();
  }
  w.EndObject().Key("outputs").BeginObject();
  if (!run.model_outputs.empty()) {
    w.Key("model_outputs").BeginArray();
    for (const ModelOutput& o : run.model_outputs) {
      w.BeginObject().Field("model_id", o.model_id).Field("step", o.step).EndObject();
    }
    w.EndArray();
  }
  w.EndObject().EndObject();
}

core::Json ToJson(const RunInfo& info) { return ViaWriter(info); }
core::Json ToJson(const Metric& m) { return ViaWriter(m); }
core::Json ToJson(const Run& run) { return ViaWriter(run); }
core::Json ToJson(const LoggedModel& m) { return ViaWriter(m); }

core::Json ToJson(const TraceInfo& t) {
  // MLflow cuts keys and values to 250 characters in a TraceInfo it answers.
  auto cut = [](const std::vector<Tag>& pairs) {
    core::Json out = core::Json::array();
    for (const Tag& p : pairs) {
      out.push_back({{"key", p.key.substr(0, 250)}, {"value", p.value.substr(0, 250)}});
    }
    return out;
  };
  core::Json j = {{"request_id", t.request_id},
                  {"experiment_id", t.experiment_id},
                  {"timestamp_ms", t.timestamp_ms},
                  {"execution_time_ms", t.execution_time_ms.value_or(0)},
                  {"status", t.status}};
  if (!t.request_metadata.empty()) {
    j["request_metadata"] = cut(t.request_metadata);
  }
  if (!t.tags.empty()) {
    j["tags"] = cut(t.tags);
  }
  return j;
}

namespace {

// The v3 state names and the v2 status names differ only for the unspecified one.
std::string StateOf(const std::string& status) {
  return status == "TRACE_STATUS_UNSPECIFIED" ? "STATE_UNSPECIFIED" : status;
}

// A google.protobuf.Timestamp in JSON ("2025-01-02T03:04:05.123Z", 0 to 9 fraction
// digits, UTC) as ms since the epoch.
Result<int64_t> TimestampMs(const std::string& text, std::string_view what = "request_time") {
  auto bad = [&] {
    return InvalidArgument(std::string(what) +
                           ": expected an RFC 3339 time such as "
                           "2025-01-02T03:04:05.123Z, got '" +
                           text.substr(0, 40) + "'");
  };
  // YYYY-MM-DDTHH:MM:SS: digits where digits belong, nothing else.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kShape.size()) {
    return bad();
  }
  for (size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(text[i])) != 0;
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) {
      return bad();
    }
  }
  auto num = [&](size_t at, size_t len) { return std::stoi(text.substr(at, len)); };
  const int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
            sec = num(17, 2);
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0) || h > 23 ||
      mi > 59 || sec > 59) {
    return bad();
  }
  std::string rest = text.substr(19);
  int64_t ms = 0;
  if (rest.starts_with(".")) {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    std::string frac = rest.substr(1, digits - 1) + "000";
    ms = std::stoll(frac.substr(0, 3));
    rest = rest.substr(digits);
  }
  if (rest != "Z") {
    return InvalidArgument(std::string(what) + ": expected a UTC time ending in Z, got '" +
                           text.substr(0, 40) + "'");
  }
  // Days from the civil date (Howard Hinnant's days_from_civil).
  const int yy = y - (mo <= 2);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + doe - 719468;
  return ((days * 24 + h) * 60 + mi) * 60000 + int64_t{sec} * 1000 + ms;
}

// A google.protobuf.Duration in JSON ("0.012s") as ms.
Result<int64_t> DurationMs(const std::string& text) {
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || std::string_view(end) != "s" || !std::isfinite(seconds) ||
      seconds < 0 || seconds > 1e12) {
    return InvalidArgument("execution_duration: expected seconds such as 0.012s, got '" +
                           text.substr(0, 40) + "'");
  }
  return static_cast<int64_t>(std::llround(seconds * 1000));
}

core::Json MapOf(const std::vector<Tag>& pairs, size_t value_limit) {
  core::Json out = core::Json::object();
  for (const Tag& p : pairs) {
    out[p.key.substr(0, 250)] = p.value.substr(0, value_limit);
  }
  return out;
}

Result<std::vector<Tag>> PairsOf(const core::Json& j, const char* key) {
  std::vector<Tag> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return out;
  }
  if (!it->is_object()) {
    return InvalidArgument(std::string(key) + ": expected an object of strings");
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return InvalidArgument(std::string(key) + "." + k + ": expected a string");
    }
    out.push_back({k, v.get<std::string>()});
  }
  return out;
}

}  // namespace

core::Json TraceInfoV3Json(const TraceInfo& t) {
  core::Json j = {{"trace_id", t.request_id},
                  {"trace_location",
                   {{"type", "MLFLOW_EXPERIMENT"},
                    {"mlflow_experiment", {{"experiment_id", t.experiment_id}}}}},
                  {"request_time", core::FormatIsoMicros(t.timestamp_ms * 1000)},
                  {"state", StateOf(t.status)},
                  {"trace_metadata", MapOf(t.request_metadata, 250)},
                  {"tags", MapOf(t.tags, 4096)}};
  if (!t.assessments.empty()) {
    core::Json list = core::Json::array();
    for (const Assessment& a : t.assessments) {
      list.push_back(ToJson(a));
    }
    j["assessments"] = std::move(list);
  }
  if (t.execution_time_ms) {
    char text[40];
    std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(*t.execution_time_ms) / 1000);
    j["execution_duration"] = text;
  }
  for (const auto& [key, value] : {std::pair{"client_request_id", &t.client_request_id},
                                   {"request_preview", &t.request_preview},
                                   {"response_preview", &t.response_preview}}) {
    if (!value->empty()) {
      j[key] = *value;
    }
  }
  return j;
}

Result<TraceInfo> TraceInfoFromV3Json(const core::Json& j) {
  if (!j.is_object()) {
    return InvalidArgument("trace_info: expected an object");
  }
  TraceInfo t;
  t.request_id = Str(j, "trace_id");
  auto loc = j.find("trace_location");
  if (loc != j.end() && loc->is_object()) {
    auto exp = loc->find("mlflow_experiment");
    if (exp != loc->end() && exp->is_object()) {
      t.experiment_id = Str(*exp, "experiment_id");
    }
  }
  if (t.experiment_id.empty()) {
    return InvalidArgument(
        "trace_info.trace_location: expected an MLflow experiment (mlflow_experiment."
        "experiment_id)");
  }
  PLINTH_ASSIGN_OR_RETURN(t.timestamp_ms, TimestampMs(Str(j, "request_time")));
  if (!Str(j, "execution_duration").empty()) {
    PLINTH_ASSIGN_OR_RETURN(t.execution_time_ms, DurationMs(Str(j, "execution_duration")));
  }
  const std::string state = Str(j, "state");
  if (!state.empty() && state != "STATE_UNSPECIFIED" && state != "OK" && state != "ERROR" &&
      state != "IN_PROGRESS") {
    return InvalidArgument("state: expected OK, ERROR, IN_PROGRESS or STATE_UNSPECIFIED, got '" +
                           state.substr(0, 40) + "'");
  }
  t.status = state.empty() || state == "STATE_UNSPECIFIED" ? "TRACE_STATUS_UNSPECIFIED" : state;
  PLINTH_ASSIGN_OR_RETURN(t.request_metadata, PairsOf(j, "trace_metadata"));
  PLINTH_ASSIGN_OR_RETURN(t.tags, PairsOf(j, "tags"));
  t.client_request_id = Str(j, "client_request_id");
  t.request_preview = Str(j, "request_preview");
  t.response_preview = Str(j, "response_preview");
  if (auto list = j.find("assessments"); list != j.end() && !list->is_null()) {
    if (!list->is_array()) {
      return InvalidArgument("trace_info.assessments: expected a list");
    }
    for (const core::Json& a : *list) {
      PLINTH_ASSIGN_OR_RETURN(Assessment parsed, AssessmentFromJson(a));
      t.assessments.push_back(std::move(parsed));
    }
  }
  return t;
}

Result<TraceInfo> TraceInfoFromJson(const core::Json& j) {
  constexpr std::string_view kWhat = "trace info";
  PLINTH_RETURN_IF_ERROR(Expect(j, kWhat));
  TraceInfo t;
  t.request_id = Str(j, "request_id");
  t.experiment_id = Str(j, "experiment_id");
  PLINTH_ASSIGN_OR_RETURN(t.timestamp_ms, Int(j, "timestamp_ms", kWhat));
  PLINTH_ASSIGN_OR_RETURN(int64_t execution, Int(j, "execution_time_ms", kWhat));
  t.status = Str(j, "status");
  if (t.status != "IN_PROGRESS") {
    t.execution_time_ms = execution;
  }
  t.request_metadata = TagsFrom(j, "request_metadata");
  t.tags = TagsFrom(j, "tags");
  return t;
}

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

core::Json ToJson(const LineageEdge& e) {
  return {{"src_kind", e.src_kind}, {"src_id", e.src_id},     {"dst_kind", e.dst_kind},
          {"dst_id", e.dst_id},     {"relation", e.relation}, {"created", e.created}};
}

core::Json ToJson(const RegistryEvent& e) {
  core::Json j = {{"name", e.name}, {"version", e.version}, {"kind", e.kind},    {"key", e.key},
                  {"from", e.from}, {"to", e.to},           {"user", e.user_id}, {"time", e.time}};
  if (!e.reason.empty()) {
    j["reason"] = e.reason;
  }
  return j;
}

Result<LineageEdge> LineageEdgeFromJson(const core::Json& j) {
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields f, core::JsonFields::Of(j, "the server's lineage edge"));
  LineageEdge edge;
  PLINTH_ASSIGN_OR_RETURN(edge.src_kind, f.String("src_kind", ""));
  PLINTH_ASSIGN_OR_RETURN(edge.src_id, f.String("src_id", ""));
  PLINTH_ASSIGN_OR_RETURN(edge.dst_kind, f.String("dst_kind", ""));
  PLINTH_ASSIGN_OR_RETURN(edge.dst_id, f.String("dst_id", ""));
  PLINTH_ASSIGN_OR_RETURN(edge.relation, f.String("relation", ""));
  PLINTH_ASSIGN_OR_RETURN(edge.created, f.Int("created", 0));
  return edge;
}

core::Json ToJson(const DatasetSummary& d) {
  core::Json j = {{"experiment_id", d.experiment_id}, {"name", d.name}, {"digest", d.digest}};
  if (d.context) {
    j["context"] = *d.context;
  }
  return j;
}

Result<DatasetSummary> DatasetSummaryFromJson(const core::Json& j) {
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields f,
                          core::JsonFields::Of(j, "the server's dataset summary"));
  DatasetSummary d;
  PLINTH_ASSIGN_OR_RETURN(d.experiment_id, f.String("experiment_id", ""));
  PLINTH_ASSIGN_OR_RETURN(d.name, f.String("name", ""));
  PLINTH_ASSIGN_OR_RETURN(d.digest, f.String("digest", ""));
  if (f.Has("context")) {
    PLINTH_ASSIGN_OR_RETURN(d.context, f.String("context"));
  }
  return d;
}

Result<RegistryEvent> RegistryEventFromJson(const core::Json& j) {
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields f,
                          core::JsonFields::Of(j, "the server's registry event"));
  RegistryEvent event;
  PLINTH_ASSIGN_OR_RETURN(event.name, f.String("name", ""));
  PLINTH_ASSIGN_OR_RETURN(event.version, f.Int("version", 0));
  PLINTH_ASSIGN_OR_RETURN(event.kind, f.String("kind", ""));
  PLINTH_ASSIGN_OR_RETURN(event.key, f.String("key", ""));
  PLINTH_ASSIGN_OR_RETURN(event.from, f.String("from", ""));
  PLINTH_ASSIGN_OR_RETURN(event.to, f.String("to", ""));
  PLINTH_ASSIGN_OR_RETURN(event.user_id, f.String("user", ""));
  PLINTH_ASSIGN_OR_RETURN(event.time, f.Int("time", 0));
  PLINTH_ASSIGN_OR_RETURN(event.reason, f.String("reason", ""));
  return event;
}

core::Json ToJson(const Assessment& a) {
  core::Json j = {
      {"assessment_id", a.assessment_id}, {"assessment_name", a.name}, {"trace_id", a.trace_id}};
  if (!a.span_id.empty()) {
    j["span_id"] = a.span_id;
  }
  core::Json source = core::Json::object();
  source["source_type"] = a.source_type.empty() ? "SOURCE_TYPE_UNSPECIFIED" : a.source_type;
  if (!a.source_id.empty()) {
    source["source_id"] = a.source_id;
  }
  j["source"] = std::move(source);
  j["create_time"] = core::FormatIsoMicros(a.create_time_ms * 1000);
  j["last_update_time"] = core::FormatIsoMicros(a.last_update_time_ms * 1000);
  auto parsed = [](const std::string& text) {
    Result<core::Json> v = core::ParseJson(text, "assessment value");
    return v.ok() ? std::move(*v) : core::Json(text);
  };
  core::Json value = core::Json::object();
  if (!a.value_json.empty()) {
    value["value"] = parsed(a.value_json);
  }
  if (!a.error_json.empty()) {
    value["error"] = parsed(a.error_json);
  }
  if (!a.serialized_value_json.empty()) {
    value["serialized_value"] = parsed(a.serialized_value_json);
  }
  j[a.is_expectation ? "expectation" : "feedback"] = std::move(value);
  if (!a.rationale.empty()) {
    j["rationale"] = a.rationale;
  }
  if (!a.metadata.empty()) {
    j["metadata"] = MapOf(a.metadata, std::string::npos);
  }
  if (!a.overrides.empty()) {
    j["overrides"] = a.overrides;
  }
  j["valid"] = a.valid;
  return j;
}

Result<Assessment> AssessmentFromJson(const core::Json& j) {
  if (!j.is_object()) {
    return InvalidArgument("assessment: expected an object");
  }
  Assessment a;
  a.assessment_id = Str(j, "assessment_id");
  a.name = Str(j, "assessment_name");
  a.trace_id = Str(j, "trace_id");
  a.span_id = Str(j, "span_id");
  if (auto source = j.find("source"); source != j.end() && !source->is_null()) {
    if (!source->is_object()) {
      return InvalidArgument("assessment.source: expected {source_type, source_id}");
    }
    const core::Json& type = source->value("source_type", core::Json("SOURCE_TYPE_UNSPECIFIED"));
    static constexpr std::string_view kTypes[] = {"SOURCE_TYPE_UNSPECIFIED", "HUMAN", "LLM_JUDGE",
                                                  "CODE"};
    if (type.is_number_integer() && type.get<int64_t>() >= 0 && type.get<int64_t>() < 4) {
      a.source_type = std::string(kTypes[type.get<int64_t>()]);
    } else if (type.is_string() && std::find(std::begin(kTypes), std::end(kTypes),
                                             type.get<std::string>()) != std::end(kTypes)) {
      a.source_type = type.get<std::string>();
    } else {
      return InvalidArgument(
          "assessment.source.source_type: expected HUMAN, LLM_JUDGE, CODE or "
          "SOURCE_TYPE_UNSPECIFIED, got " +
          core::JsonPreview(type, 40));
    }
    a.source_id = Str(*source, "source_id");
  }
  for (auto [key, out] : {std::pair{"create_time", &a.create_time_ms},
                          std::pair{"last_update_time", &a.last_update_time_ms}}) {
    if (const std::string text = Str(j, key); !text.empty()) {
      PLINTH_ASSIGN_OR_RETURN(*out, TimestampMs(text, std::string("assessment.") + key));
    }
  }
  auto feedback = j.find("feedback");
  auto expectation = j.find("expectation");
  const bool has_feedback = feedback != j.end() && !feedback->is_null();
  const bool has_expectation = expectation != j.end() && !expectation->is_null();
  if (has_feedback == has_expectation) {
    return InvalidArgument("assessment: expected exactly one of feedback and expectation");
  }
  const core::Json& value = has_feedback ? *feedback : *expectation;
  if (!value.is_object()) {
    return InvalidArgument(std::string("assessment.") +
                           (has_feedback ? "feedback" : "expectation") + ": expected an object");
  }
  a.is_expectation = has_expectation;
  auto text = [&](const char* key) {
    auto it = value.find(key);
    return it == value.end() || it->is_null() ? std::string() : core::DumpJson(*it, false);
  };
  a.value_json = text("value");
  if (has_feedback) {
    a.error_json = text("error");
  } else {
    a.serialized_value_json = text("serialized_value");
  }
  a.rationale = Str(j, "rationale");
  PLINTH_ASSIGN_OR_RETURN(a.metadata, PairsOf(j, "metadata"));
  a.overrides = Str(j, "overrides");
  if (auto valid = j.find("valid"); valid != j.end() && valid->is_boolean()) {
    a.valid = valid->get<bool>();
  }
  return a;
}

core::Json TraceV3Json(const Trace& t) {
  core::Json spans = core::Json::array();
  for (const Span& s : t.spans) {
    spans.push_back(OtelSpanJson(s));
  }
  return {{"trace_info", TraceInfoV3Json(t.info)}, {"spans", std::move(spans)}};
}

Result<Trace> TraceFromV3Json(const core::Json& j) {
  if (!j.is_object()) {
    return InvalidArgument("trace: expected {trace_info, spans}");
  }
  Trace t;
  PLINTH_ASSIGN_OR_RETURN(t.info, TraceInfoFromV3Json(j.value("trace_info", core::Json())));
  PLINTH_ASSIGN_OR_RETURN(t.spans, SpansFromOtelJson(j.value("spans", core::Json())));
  return t;
}

}  // namespace plinth::tracking
