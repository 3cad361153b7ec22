// TrackingStore over store::Database: one schema, one SQL dialect, on SQLite
// and PostgreSQL alike.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "core/hash.h"
#include "tracking/artifacts.h"
#include "tracking/search.h"
#include "tracking/sql_logged_models.h"
#include "tracking/sql_stores.h"
#include "tracking/sql_traces.h"
#include "tracking/sql_util.h"

namespace plinth::tracking {
namespace {

using store::Row;
using store::Value;

// Not constexpr: migrations 3 and 4 are LoggedModelTables::Schema(), TraceTables::Schema().
const store::Migration kMigrations[] = {
    {1, "experiments, runs, params, metrics, tags, datasets",
     R"sql(
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters (name, value) VALUES ('experiment', 0);
CREATE TABLE experiments (
  experiment_id BIGINT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL);
CREATE TABLE experiment_tags (
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key));
CREATE TABLE runs (
  run_uuid TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  deleted_time BIGINT);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);
CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key));
CREATE TABLE tags (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key));
CREATE TABLE metrics (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan INTEGER NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan));
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan INTEGER NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_uuid, key));
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);
CREATE TABLE datasets (
  dataset_uuid TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest));
CREATE TABLE inputs (
  input_uuid TEXT PRIMARY KEY,
  dataset_uuid TEXT NOT NULL REFERENCES datasets (dataset_uuid) ON DELETE CASCADE,
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  UNIQUE (dataset_uuid, run_uuid));
CREATE TABLE input_tags (
  input_uuid TEXT NOT NULL REFERENCES inputs (input_uuid) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (input_uuid, name));
)sql"},
    {2, "lineage edges",
     R"sql(
CREATE TABLE IF NOT EXISTS lineage_edges (
  src_kind TEXT NOT NULL,
  src_id TEXT NOT NULL,
  dst_kind TEXT NOT NULL,
  dst_id TEXT NOT NULL,
  relation TEXT NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (src_kind, src_id, dst_kind, dst_id));
CREATE INDEX IF NOT EXISTS lineage_by_dst ON lineage_edges (dst_id);
CREATE INDEX IF NOT EXISTS lineage_by_src ON lineage_edges (src_id);
)sql"},
    {3,
     "logged models (MLflow 3): models, their params, tags and metrics, runs' model inputs "
     "and outputs",
     LoggedModelTables::Schema()},
    {4, "traces: their info, tags and request metadata", TraceTables::Schema()},
    {5, "trace spans and assessments (MLflow 3)", TraceTables::SpanSchema()},
    {6, "the prompt versions a trace used (MLflow 3); traces indexed in search order",
     TraceTables::PromptLinkSchema()},
};

// MLflow's limits (mlflow/utils/validation.py).
constexpr size_t kMaxEntityKey = 250;
constexpr size_t kMaxParamValue = 6000;
constexpr size_t kMaxTagValue = 5000;
constexpr size_t kMaxExperimentName = 500;
constexpr size_t kMaxMetricsPerBatch = 1000;
constexpr size_t kMaxParamsTagsPerBatch = 100;
constexpr size_t kMaxEntitiesPerBatch = 1000;
constexpr size_t kMaxDatasetName = 500;
constexpr size_t kMaxDatasetDigest = 36;
constexpr size_t kMaxDatasetSummaries = 1000;  // search-datasets answers at most this many
constexpr size_t kMaxDatasetSchema = 1048575;
constexpr size_t kMaxDatasetSource = 65535;
constexpr size_t kMaxInputTagKey = 255;
constexpr size_t kMaxInputTagValue = 500;
constexpr int64_t kMaxRunsPerPage = 50000;
constexpr int64_t kMaxExperimentsPerPage = 50000;

Status ValidateMetric(const Metric& m) {
  PLINTH_RETURN_IF_ERROR(ValidateKeyName("metric", m.key));
  if (m.timestamp < 0) {
    return InvalidArgument("Got invalid timestamp " + std::to_string(m.timestamp) +
                           " for metric '" + m.key +
                           "'. Timestamp must be a nonnegative long (64-bit integer) ");
  }
  return ValidateLength("Metric name", kMaxEntityKey, m.key);
}

Status ValidateParam(const Param& p) {
  PLINTH_RETURN_IF_ERROR(ValidateKeyName("parameter", p.key));
  PLINTH_RETURN_IF_ERROR(ValidateLength("Param key", kMaxEntityKey, p.key));
  return ValidateLength("Param value", kMaxParamValue, p.value);
}

Status ValidateTag(const Tag& t, size_t value_limit = kMaxTagValue) {
  PLINTH_RETURN_IF_ERROR(ValidateKeyName("tag", t.key));
  PLINTH_RETURN_IF_ERROR(ValidateLength("Tag key", kMaxEntityKey, t.key));
  return ValidateLength("Tag value", value_limit, t.value);
}

Status ValidateRunId(const std::string& id) {
  // MLflow's ^[a-zA-Z0-9][\w\-]{0,255}$.
  auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  };
  const bool valid = !id.empty() && id.size() <= 256 &&
                     std::isalnum(static_cast<unsigned char>(id[0])) &&
                     std::all_of(id.begin(), id.end(), word);
  if (!valid) {
    return InvalidArgument("Invalid run ID: '" + id + "'");
  }
  return Status::Ok();
}

Status ValidateBatchLimit(std::string_view what, size_t limit, size_t n) {
  if (n <= limit) {
    return Status::Ok();
  }
  return InvalidArgument("A batch logging request can contain at most " + std::to_string(limit) +
                         " " + std::string(what) + ". Got " + std::to_string(n) + " " +
                         std::string(what) + ". Please split up " + std::string(what) +
                         " across multiple requests and try again.");
}

std::string RunColumn(std::string_view attribute) {
  if (attribute == "run_id") {
    return "run_uuid";
  }
  if (attribute == "run_name") {
    return "name";
  }
  if (attribute == "created") {
    return "start_time";
  }
  return std::string(attribute);
}

std::string ExperimentColumn(std::string_view attribute) { return std::string(attribute); }

constexpr std::string_view kRunColumns =
    "run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, "
    "lifecycle_stage";

RunInfo RunInfoFromRow(const Row& r) {
  RunInfo info;
  info.run_id = r.Text(0);
  info.run_name = r.Text(1);
  info.experiment_id = r.Text(2);
  info.user_id = r.Text(3);
  Result<RunStatus> status = ParseRunStatus(r.Text(4));
  info.status = status.ok() ? *status : RunStatus::kRunning;
  info.start_time = r.Int(5);
  if (!r.IsNull(6)) {
    info.end_time = r.Int(6);
  }
  info.artifact_uri = r.Text(7);
  info.lifecycle_stage = r.Text(8);
  return info;
}

class SqlTrackingStore : public TrackingStore {
 public:
  SqlTrackingStore(std::unique_ptr<store::Database> db, std::string artifact_root,
                   const core::Clock& clock)
      : db_(std::move(db)),
        artifact_root_(std::move(artifact_root)),
        clock_(clock),
        logged_models_(*db_, clock),
        traces_(*db_) {
    while (artifact_root_.size() > 1 && artifact_root_.back() == '/') {
      artifact_root_.pop_back();
    }
  }

  Status Init() {
    PLINTH_RETURN_IF_ERROR(store::Migrate(*db_, "tracking", kMigrations));
    // MLflow's default experiment "0" exists from the start.
    int64_t now = NowMs();
    Value args[] = {artifact_root_ + "/0", now, now};
    return db_->Exec(
        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
        "creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?) "
        "ON CONFLICT (experiment_id) DO NOTHING",
        args);
  }

  // ---- Experiments ----

  Result<std::string> CreateExperiment(const std::string& name,
                                       const std::string& artifact_location,
                                       const std::vector<Tag>& tags) override {
    if (name.empty()) {
      return InvalidArgument("Invalid experiment name: ''");
    }
    if (name.size() > kMaxExperimentName) {
      return InvalidArgument("Experiment name exceeds the maximum length of " +
                             std::to_string(kMaxExperimentName) + " characters");
    }
    if (artifact_location.starts_with("runs:")) {
      return InvalidArgument("Artifact location cannot be a runs:/ URI. Given: '" +
                             artifact_location + "'");
    }
    for (const Tag& t : tags) {
      PLINTH_RETURN_IF_ERROR(ValidateTag(t));
    }
    std::string id;
    Status s = db_->Transaction([&]() -> Status {
      Value n[] = {name};
      PLINTH_ASSIGN_OR_RETURN(auto existing,
                              db_->Query("SELECT 1 FROM experiments WHERE name = ?", n));
      if (!existing.empty()) {
        return AlreadyExists("Experiment(name=" + name + ") already exists.");
      }
      PLINTH_ASSIGN_OR_RETURN(auto next,
                              db_->Query("UPDATE counters SET value = value + 1 WHERE name = "
                                         "'experiment' RETURNING value"));
      int64_t key = next.at(0).Int(0);
      id = std::to_string(key);
      int64_t now = NowMs();
      Value row[] = {
          key, name,
          artifact_location.empty() ? artifact_root_ + "/" + id : ResolveIfLocal(artifact_location),
          now, now};
      PLINTH_RETURN_IF_ERROR(
          db_->Exec("INSERT INTO experiments (experiment_id, name, artifact_location, "
                    "lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, "
                    "'active', ?, ?)",
                    row));
      for (const Tag& t : tags) {
        PLINTH_RETURN_IF_ERROR(UpsertExperimentTag(key, t));
      }
      return Status::Ok();
    });
    if (s.code() == StatusCode::kFailedPrecondition) {  // lost a race on the unique name
      return AlreadyExists("Experiment(name=" + name + ") already exists.");
    }
    PLINTH_RETURN_IF_ERROR(s);
    return id;
  }

  Result<Experiment> GetExperiment(const std::string& experiment_id) override {
    PLINTH_ASSIGN_OR_RETURN(int64_t key, ExperimentKey(experiment_id));
    Value k[] = {key};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query(std::string(kExperimentSelect) + " WHERE e.experiment_id = ?", k));
    if (rows.empty()) {
      return NotFound("No Experiment with id=" + experiment_id + " exists");
    }
    PLINTH_ASSIGN_OR_RETURN(std::vector<Experiment> e, LoadExperiments(rows));
    return e.front();
  }

  Result<Experiment> GetExperimentByName(const std::string& name) override {
    Value n[] = {name};
    PLINTH_ASSIGN_OR_RETURN(auto rows,
                            db_->Query(std::string(kExperimentSelect) + " WHERE e.name = ?", n));
    if (rows.empty()) {
      return NotFound("Could not find experiment with name '" + name + "'");
    }
    PLINTH_ASSIGN_OR_RETURN(std::vector<Experiment> e, LoadExperiments(rows));
    return e.front();
  }

  Result<Page<Experiment>> SearchExperiments(const ExperimentQuery& q) override {
    PLINTH_RETURN_IF_ERROR(CheckMaxResults(q.max_results, kMaxExperimentsPerPage));
    PLINTH_ASSIGN_OR_RETURN(auto comparisons, ParseFilter(q.filter, ExperimentSearch()));
    static const SqlNames kNames = {"e", "experiment_id", "experiment_tags", "experiment_id",
                                    ExperimentColumn};
    SqlFragment where = CompileFilter(comparisons, kNames);
    where.sql += LifecycleCondition("e", q.view_type);
    PLINTH_ASSIGN_OR_RETURN(
        SqlFragment sql, SearchStatement(kExperimentSelect, where, q.order_by, ExperimentSearch(),
                                         kNames, "e.creation_time DESC, e.experiment_id DESC"));
    return FetchPage<Experiment>(
        *db_, std::move(sql), q.max_results, q.page_token,
        [this](const std::vector<Row>& rows) { return LoadExperiments(rows); });
  }

  Status DeleteExperiment(const std::string& experiment_id) override {
    PLINTH_ASSIGN_OR_RETURN(Experiment e, GetExperiment(experiment_id));
    if (e.experiment_id == "0") {
      return InvalidArgument(
          "Cannot delete the default experiment '0'. This is an internally reserved experiment.");
    }
    return MoveExperiment(std::stoll(e.experiment_id), "active", "deleted");
  }

  Status RestoreExperiment(const std::string& experiment_id) override {
    PLINTH_ASSIGN_OR_RETURN(Experiment e, GetExperiment(experiment_id));
    if (e.lifecycle_stage != "deleted") {
      return FailedPrecondition("Cannot restore an active experiment.");
    }
    return MoveExperiment(std::stoll(e.experiment_id), "deleted", "active");
  }

  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name) override {
    if (new_name.empty()) {
      return InvalidArgument("Invalid experiment name: ''");
    }
    PLINTH_ASSIGN_OR_RETURN(Experiment e, GetExperiment(experiment_id));
    if (e.lifecycle_stage != "active") {
      return FailedPrecondition("Cannot rename a non-active experiment.");
    }
    Value a[] = {new_name, NowMs(), std::stoll(e.experiment_id)};
    Status s = db_->Exec(
        "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?", a);
    if (s.code() == StatusCode::kFailedPrecondition) {
      return AlreadyExists("Experiment(name=" + new_name + ") already exists.");
    }
    return s;
  }

  Status SetExperimentTag(const std::string& experiment_id, const Tag& tag) override {
    PLINTH_RETURN_IF_ERROR(ValidateTag(tag));
    PLINTH_ASSIGN_OR_RETURN(Experiment e, ActiveExperiment(experiment_id));
    return UpsertExperimentTag(std::stoll(e.experiment_id), tag);
  }

  Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) override {
    PLINTH_ASSIGN_OR_RETURN(Experiment e, GetExperiment(experiment_id));
    Value a[] = {std::stoll(e.experiment_id), key};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows,
        db_->Query("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ? RETURNING 1",
                   a));
    if (rows.empty()) {
      return NotFound("No tag with name: " + key + " in experiment with id " + experiment_id);
    }
    return Status::Ok();
  }

  // ---- Runs ----

  Result<Run> CreateRun(const NewRun& r) override {
    std::string experiment_id = r.experiment_id.empty() ? "0" : r.experiment_id;
    PLINTH_ASSIGN_OR_RETURN(Experiment e, ActiveExperiment(experiment_id));
    std::vector<Tag> tags = r.tags;
    for (const Tag& t : tags) {
      PLINTH_RETURN_IF_ERROR(ValidateTag(t));
    }
    std::string tag_name;
    for (const Tag& t : tags) {
      if (t.key == kRunNameTag) {
        tag_name = t.value;
      }
    }
    if (!r.run_name.empty() && !tag_name.empty() && r.run_name != tag_name) {
      return InvalidArgument(
          "Both 'run_name' argument and 'mlflow.runName' tag are specified, "
          "but with different values (run_name='" +
          r.run_name + "', mlflow.runName='" + tag_name + "').");
    }
    std::string name = !r.run_name.empty() ? r.run_name
                       : !tag_name.empty() ? tag_name
                                           : RandomRunName();
    if (tag_name.empty()) {
      tags.push_back({std::string(kRunNameTag), name});
    }
    std::string run_id = core::NewUuidHex();
    int64_t start = r.start_time.value_or(NowMs());
    std::string artifact_uri = e.artifact_location + "/" + run_id + "/artifacts";
    Value row[] = {run_id, name, std::stoll(e.experiment_id), r.user_id, start, artifact_uri};
    PLINTH_RETURN_IF_ERROR(InsertWithTags(
        "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, "
        "artifact_uri, lifecycle_stage) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, 'active')",
        row, "tags", "run_uuid", run_id, tags));
    return GetRun(run_id);
  }

  Result<Run> GetRun(const std::string& run_id) override {
    PLINTH_ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
    std::vector<Run> runs = {Run{info, {}, {}, {}, {}}};
    PLINTH_RETURN_IF_ERROR(LoadRunData(&runs));
    return runs.front();
  }

  Result<RunInfo> UpdateRun(const std::string& run_id, std::optional<RunStatus> status,
                            std::optional<int64_t> end_time, const std::string& run_name) override {
    PLINTH_ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
    PLINTH_RETURN_IF_ERROR(CheckActive(info));
    PLINTH_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
      if (status) {
        Value a[] = {std::string(RunStatusName(*status)), run_id};
        PLINTH_RETURN_IF_ERROR(db_->Exec("UPDATE runs SET status = ? WHERE run_uuid = ?", a));
      }
      if (end_time) {
        Value a[] = {*end_time, run_id};
        PLINTH_RETURN_IF_ERROR(db_->Exec("UPDATE runs SET end_time = ? WHERE run_uuid = ?", a));
      }
      if (!run_name.empty()) {
        Value a[] = {run_name, run_id};
        PLINTH_RETURN_IF_ERROR(db_->Exec("UPDATE runs SET name = ? WHERE run_uuid = ?", a));
        PLINTH_RETURN_IF_ERROR(UpsertTag(run_id, {std::string(kRunNameTag), run_name}));
      }
      return Status::Ok();
    }));
    return LoadRunInfo(run_id);
  }

  Status DeleteRun(const std::string& run_id) override { return MoveRun(run_id, "deleted"); }

  Status RestoreRun(const std::string& run_id) override { return MoveRun(run_id, "active"); }

  Result<Page<Run>> SearchRuns(const RunQuery& q) override {
    PLINTH_RETURN_IF_ERROR(CheckMaxResults(q.max_results, kMaxRunsPerPage));
    PLINTH_ASSIGN_OR_RETURN(auto comparisons, ParseFilter(q.filter, RunSearch()));
    static const SqlNames kNames = {"r", "run_uuid", "tags", "run_uuid", RunColumn};
    SqlFragment filter = CompileFilter(comparisons, kNames);
    SqlFragment where;
    for (const std::string& id : q.experiment_ids) {
      Result<int64_t> key = ExperimentKey(id);
      if (!key.ok()) {
        continue;  // an id that cannot exist matches no run
      }
      where.params.emplace_back(*key);
      where.sql += where.sql.empty() ? "?" : ", ?";
    }
    if (where.sql.empty()) {
      return Page<Run>{};
    }
    where.sql = "r.experiment_id IN (" + where.sql + ") AND " + filter.sql +
                LifecycleCondition("r", q.view_type);
    where.params.insert(where.params.end(), filter.params.begin(), filter.params.end());
    PLINTH_ASSIGN_OR_RETURN(
        SqlFragment sql,
        SearchStatement("SELECT " + std::string(kRunColumnsR) + " FROM runs r", where, q.order_by,
                        RunSearch(), kNames, "r.start_time DESC, r.run_uuid ASC"));
    return FetchPage<Run>(*db_, std::move(sql), q.max_results, q.page_token,
                          [this](const std::vector<Row>& rows) -> Result<std::vector<Run>> {
                            std::vector<Run> runs;
                            runs.reserve(rows.size());
                            for (const Row& r : rows) {
                              runs.push_back(Run{RunInfoFromRow(r), {}, {}, {}, {}});
                            }
                            PLINTH_RETURN_IF_ERROR(LoadRunData(&runs));
                            return runs;
                          });
  }

  // ---- Run data ----

  Status LogMetric(const std::string& run_id, const Metric& metric) override {
    return LogBatch(run_id, {metric}, {}, {});
  }

  Status LogParam(const std::string& run_id, const Param& param) override {
    return LogBatch(run_id, {}, {param}, {});
  }

  Status SetTag(const std::string& run_id, const Tag& tag) override {
    return LogBatch(run_id, {}, {}, {tag});
  }

  Status DeleteTag(const std::string& run_id, const std::string& key) override {
    PLINTH_ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
    PLINTH_RETURN_IF_ERROR(CheckActive(info));
    Value a[] = {run_id, key};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("DELETE FROM tags WHERE run_uuid = ? AND key = ? RETURNING 1", a));
    if (rows.empty()) {
      return NotFound("No tag with name: " + key + " in run with id " + run_id);
    }
    return Status::Ok();
  }

  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                  const std::vector<Param>& params, const std::vector<Tag>& tags) override {
    PLINTH_RETURN_IF_ERROR(ValidateBatch(metrics, params, tags));
    PLINTH_ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
    PLINTH_RETURN_IF_ERROR(CheckActive(info));
    return db_->Transaction([&]() -> Status {
      // Latest values are shared rows: batches from other connections take turns.
      PLINTH_RETURN_IF_ERROR(db_->SerializeWriters());
      PLINTH_RETURN_IF_ERROR(WriteParamsAndTags(run_id, params, tags));
      std::vector<RunMetric> rows;
      rows.reserve(metrics.size());
      for (const Metric& m : metrics) {
        rows.push_back({&run_id, &m});
      }
      return InsertMetrics(rows);
    });
  }

  std::vector<Status> LogBatches(const std::vector<LogRequest>& requests) override {
    std::vector<Status> out(requests.size());
    std::vector<size_t> todo;
    for (size_t i = 0; i < requests.size(); ++i) {
      const LogRequest& r = requests[i];
      out[i] = ValidateBatch(r.metrics, r.params, r.tags);
      if (out[i].ok()) {
        todo.push_back(i);
      }
    }
    if (todo.empty()) {
      return out;
    }
    // All requests in one transaction: the runs read with one query, every
    // metric point in multi-row statements, each key's latest value moved
    // once. Any write that fails (a param logged again with another value)
    // rolls it all back, and the requests then run one by one instead.
    Status merged = db_->Transaction(
        [&]() -> Status {
          PLINTH_RETURN_IF_ERROR(db_->SerializeWriters());
          std::vector<std::string_view> ids;
          for (size_t i : todo) {
            ids.push_back(requests[i].run_id);
          }
          PLINTH_ASSIGN_OR_RETURN(auto runs, LoadRunInfos(ids));
          std::vector<RunMetric> rows;
          for (size_t i : todo) {
            const LogRequest& r = requests[i];
            auto it = runs.find(r.run_id);
            if (it == runs.end()) {
              out[i] = NotFound("Run with id=" + r.run_id + " not found");
              continue;
            }
            out[i] = CheckActive(it->second);
            if (!out[i].ok()) {
              continue;
            }
            PLINTH_RETURN_IF_ERROR(WriteParamsAndTags(r.run_id, r.params, r.tags));
            for (const Metric& m : r.metrics) {
              rows.push_back({&r.run_id, &m});
            }
          }
          return InsertMetrics(rows);
        },
        store::Database::Nesting::kAllOrNothing);
    if (!merged.ok()) {
      for (size_t i : todo) {
        const LogRequest& r = requests[i];
        out[i] = LogBatch(r.run_id, r.metrics, r.params, r.tags);
      }
    }
    return out;
  }

  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) override {
    for (const DatasetInput& in : inputs) {
      const Dataset& d = in.dataset;
      if (d.name.empty() || d.digest.empty() || d.source_type.empty() || d.source.empty()) {
        return InvalidArgument(
            "Missing value for required parameter 'datasets.dataset': a dataset needs name, "
            "digest, source_type and source");
      }
      PLINTH_RETURN_IF_ERROR(ValidateLength("Dataset name", kMaxDatasetName, d.name));
      PLINTH_RETURN_IF_ERROR(ValidateLength("Dataset digest", kMaxDatasetDigest, d.digest));
      PLINTH_RETURN_IF_ERROR(ValidateLength("Dataset source", kMaxDatasetSource, d.source));
      if (d.schema) {
        PLINTH_RETURN_IF_ERROR(ValidateLength("Dataset schema", kMaxDatasetSchema, *d.schema));
      }
      for (const Tag& t : in.tags) {
        PLINTH_RETURN_IF_ERROR(ValidateLength("Input tag key", kMaxInputTagKey, t.key));
        PLINTH_RETURN_IF_ERROR(ValidateLength("Input tag value", kMaxInputTagValue, t.value));
      }
    }
    PLINTH_ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
    PLINTH_RETURN_IF_ERROR(CheckActive(info));
    int64_t experiment = std::stoll(info.experiment_id);
    return db_->Transaction([&]() -> Status {
      for (const DatasetInput& in : inputs) {
        const Dataset& d = in.dataset;
        Value key[] = {experiment, d.name, d.digest};
        PLINTH_ASSIGN_OR_RETURN(
            auto found, db_->Query("SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND "
                                   "name = ? AND digest = ?",
                                   key));
        std::string dataset_uuid;
        if (found.empty()) {
          dataset_uuid = core::NewUuidHex();
          Value row[] = {dataset_uuid,
                         experiment,
                         d.name,
                         d.digest,
                         d.source_type,
                         d.source,
                         d.schema ? Value(*d.schema) : Value(),
                         d.profile ? Value(*d.profile) : Value()};
          PLINTH_RETURN_IF_ERROR(
              db_->Exec("INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, "
                        "source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        row));
        } else {
          dataset_uuid = found[0].Text(0);
        }
        Value link[] = {dataset_uuid, run_id};
        PLINTH_ASSIGN_OR_RETURN(
            auto existing,
            db_->Query("SELECT input_uuid FROM inputs WHERE dataset_uuid = ? AND run_uuid = ?",
                       link));
        if (!existing.empty()) {
          continue;  // logged before: MLflow keeps the first
        }
        Value edge[] = {d.digest, run_id, NowMs()};
        PLINTH_RETURN_IF_ERROR(db_->Exec(
            "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id, relation, created) "
            "VALUES ('data', ?, 'run', ?, 'input', ?) ON CONFLICT (src_kind, src_id, dst_kind, "
            "dst_id) DO NOTHING",
            edge));
        std::string input_uuid = core::NewUuidHex();
        Value row[] = {input_uuid, dataset_uuid, run_id};
        PLINTH_RETURN_IF_ERROR(db_->Exec(
            "INSERT INTO inputs (input_uuid, dataset_uuid, run_uuid) VALUES (?, ?, ?)", row));
        for (const Tag& t : in.tags) {
          Value tag[] = {input_uuid, t.key, t.value};
          PLINTH_RETURN_IF_ERROR(db_->Exec(
              "INSERT INTO input_tags (input_uuid, name, value) VALUES (?, ?, ?) ON CONFLICT "
              "(input_uuid, name) DO UPDATE SET value = excluded.value",
              tag));
        }
      }
      return Status::Ok();
    });
  }

  Status AddLineage(const LineageEdge& e) override {
    if (e.src_kind.empty() || e.src_id.empty() || e.dst_kind.empty() || e.dst_id.empty()) {
      return InvalidArgument("a lineage edge needs both ends' kinds and ids");
    }
    Value row[] = {e.src_kind, e.src_id,   e.dst_kind,
                   e.dst_id,   e.relation, e.created ? e.created : NowMs()};
    return db_->Exec(
        "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id, relation, created) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (src_kind, src_id, dst_kind, dst_id) DO NOTHING",
        row);
  }

  Result<std::vector<DatasetSummary>> SearchDatasets(
      const std::vector<std::string>& experiment_ids) override {
    std::vector<DatasetSummary> out;
    for (const std::string& id : experiment_ids) {
      Result<int64_t> key = ExperimentKey(id);
      if (!key.ok()) {
        continue;  // names no experiment
      }
      Value k[] = {*key};
      PLINTH_ASSIGN_OR_RETURN(
          auto rows,
          db_->Query("SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d "
                     "JOIN inputs i ON i.dataset_uuid = d.dataset_uuid LEFT JOIN input_tags t ON "
                     "t.input_uuid = i.input_uuid AND t.name = 'mlflow.data.context' WHERE "
                     "d.experiment_id = ? ORDER BY d.name, d.digest, t.value",
                     k));
      for (const Row& r : rows) {
        if (out.size() >= kMaxDatasetSummaries) {
          return out;
        }
        out.push_back({std::to_string(r.Int(0)), r.Text(1), r.Text(2),
                       r.IsNull(3) ? std::nullopt : std::optional<std::string>(r.Text(3))});
      }
    }
    return out;
  }

  Result<std::vector<LineageEdge>> LineageOf(const std::string& id) override {
    Value k[] = {id, id};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("SELECT src_kind, src_id, dst_kind, dst_id, relation, created FROM "
                              "lineage_edges WHERE src_id = ? OR dst_id = ? ORDER BY created, "
                              "src_id, dst_id",
                              k));
    std::vector<LineageEdge> out;
    for (const Row& r : rows) {
      out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5)});
    }
    return out;
  }

  // ---- Logged models ----

  Result<LoggedModel> CreateLoggedModel(const NewLoggedModel& m) override {
    PLINTH_ASSIGN_OR_RETURN(Experiment e, ActiveExperiment(m.experiment_id));
    return logged_models_.Create(m, e);
  }
  Result<LoggedModel> GetLoggedModel(const std::string& model_id, bool allow_deleted) override {
    return logged_models_.Get(model_id, allow_deleted);
  }
  Result<LoggedModel> FinalizeLoggedModel(const std::string& model_id,
                                          LoggedModelStatus status) override {
    return logged_models_.Finalize(model_id, status);
  }
  Status DeleteLoggedModel(const std::string& model_id) override {
    return logged_models_.Delete(model_id);
  }
  Status SetLoggedModelTags(const std::string& model_id, const std::vector<Tag>& tags) override {
    return logged_models_.SetTags(model_id, tags);
  }
  Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) override {
    return logged_models_.DeleteTag(model_id, key);
  }
  Status LogLoggedModelParams(const std::string& model_id,
                              const std::vector<Param>& params) override {
    return logged_models_.LogParams(model_id, params);
  }
  Result<Page<LoggedModel>> SearchLoggedModels(const LoggedModelQuery& q) override {
    return logged_models_.Search(q);
  }
  Status LogModelInputs(const std::string& run_id,
                        const std::vector<std::string>& model_ids) override {
    PLINTH_ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
    PLINTH_RETURN_IF_ERROR(CheckActive(info));
    return logged_models_.LinkInputs(run_id, model_ids);
  }
  Status LogOutputs(const std::string& run_id, const std::vector<ModelOutput>& models) override {
    PLINTH_ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
    PLINTH_RETURN_IF_ERROR(CheckActive(info));
    return logged_models_.LinkOutputs(run_id, models);
  }

  // ---- Traces ----

  Result<TraceInfo> StartTrace(const std::string& experiment_id, int64_t timestamp_ms,
                               const std::vector<Tag>& request_metadata,
                               const std::vector<Tag>& tags) override {
    PLINTH_ASSIGN_OR_RETURN(Experiment e, ActiveExperiment(experiment_id));
    return traces_.Start(e, timestamp_ms, request_metadata, tags);
  }
  Result<TraceInfo> EndTrace(const std::string& request_id, int64_t timestamp_ms,
                             const std::string& status, const std::vector<Tag>& request_metadata,
                             const std::vector<Tag>& tags) override {
    return traces_.End(request_id, timestamp_ms, status, request_metadata, tags);
  }
  Result<TraceInfo> GetTraceInfo(const std::string& request_id) override {
    return traces_.Get(request_id);
  }
  Result<TraceInfo> PutTrace(const TraceInfo& trace) override {
    PLINTH_ASSIGN_OR_RETURN(Experiment e, ActiveExperiment(trace.experiment_id));
    return traces_.Put(e, trace, NowMs());
  }
  Result<Page<TraceInfo>> SearchTraces(const TraceQuery& q) override { return traces_.Search(q); }
  Result<int64_t> DeleteTraces(const TraceDeletion& d) override { return traces_.Delete(d); }
  Status SetTraceTag(const std::string& request_id, const Tag& tag) override {
    return traces_.SetTag(request_id, tag);
  }
  Status DeleteTraceTag(const std::string& request_id, const std::string& key) override {
    return traces_.DeleteTag(request_id, key);
  }
  Status LogSpans(const std::string& experiment_id, const std::vector<Span>& spans) override {
    PLINTH_ASSIGN_OR_RETURN(Experiment e, ActiveExperiment(experiment_id));
    return traces_.LogSpans(e, spans);
  }
  Result<Trace> GetTrace(const std::string& trace_id, bool allow_partial) override {
    return traces_.GetTrace(trace_id, allow_partial);
  }
  Result<std::vector<Trace>> BatchGetTraces(const std::vector<std::string>& trace_ids) override {
    return traces_.BatchGet(trace_ids);
  }
  Result<Assessment> CreateAssessment(const Assessment& a) override {
    return traces_.CreateAssessment(a, NowMs());
  }
  Result<Assessment> GetAssessment(const std::string& trace_id,
                                   const std::string& assessment_id) override {
    return traces_.GetAssessment(trace_id, assessment_id);
  }
  Result<Assessment> UpdateAssessment(const std::string& trace_id, const std::string& assessment_id,
                                      const AssessmentUpdate& update) override {
    return traces_.UpdateAssessment(trace_id, assessment_id, update, NowMs());
  }
  Status DeleteAssessment(const std::string& trace_id, const std::string& assessment_id) override {
    return traces_.DeleteAssessment(trace_id, assessment_id);
  }
  Status LinkTracesToRun(const std::vector<std::string>& trace_ids,
                         const std::string& run_id) override {
    return traces_.LinkToRun(trace_ids, run_id);
  }
  Status LinkPromptsToTrace(const std::string& trace_id,
                            const std::vector<PromptVersionRef>& prompts) override {
    return traces_.LinkPrompts(trace_id, prompts);
  }

  Result<Page<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key,
                                        int64_t max_results,
                                        const std::string& page_token) override {
    PLINTH_RETURN_IF_ERROR(LoadRunInfo(run_id).status());
    if (max_results < 0) {
      return InvalidArgument("max_results must be positive, got " + std::to_string(max_results));
    }
    SqlFragment sql = {
        "SELECT key, value, is_nan, timestamp, step FROM metrics WHERE run_uuid = ? AND key = ? "
        "ORDER BY step, timestamp, value",
        {run_id, key}};
    return FetchPage<Metric>(
        *db_, std::move(sql), max_results, page_token, [](const std::vector<Row>& rows) {
          std::vector<Metric> out;
          out.reserve(rows.size());
          for (const Row& r : rows) {
            out.push_back({r.Text(0), MetricValue(r, 1, 2), r.Int(3), r.Int(4)});
          }
          return Result<std::vector<Metric>>(std::move(out));
        });
  }

 private:
  static constexpr std::string_view kExperimentSelect =
      "SELECT e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, "
      "e.last_update_time FROM experiments e";
  static constexpr std::string_view kRunColumnsR =
      "r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time, "
      "r.artifact_uri, r.lifecycle_stage";

  int64_t NowMs() const { return clock_.NowMicros() / 1000; }

  // The experiment, which must exist and be active (what a new run, logged model or
  // trace needs), with MLflow's messages.
  Result<Experiment> ActiveExperiment(const std::string& experiment_id) {
    PLINTH_ASSIGN_OR_RETURN(Experiment e, GetExperiment(experiment_id));
    if (e.lifecycle_stage != "active") {
      return InvalidArgument("The experiment " + e.experiment_id +
                             " must be in the 'active' state. Current state is " +
                             e.lifecycle_stage + ".");
    }
    return e;
  }

  static std::string LifecycleCondition(std::string_view alias, ViewType v) {
    switch (v) {
      case ViewType::kActiveOnly:
        return " AND " + std::string(alias) + ".lifecycle_stage = 'active'";
      case ViewType::kDeletedOnly:
        return " AND " + std::string(alias) + ".lifecycle_stage = 'deleted'";
      case ViewType::kAll:
        break;
    }
    return "";
  }

  Result<std::vector<Experiment>> LoadExperiments(const std::vector<Row>& rows) {
    std::vector<Experiment> out;
    std::map<int64_t, size_t> index;
    std::vector<Value> keys;
    for (const Row& r : rows) {
      Experiment e;
      e.experiment_id = r.Text(0);
      e.name = r.Text(1);
      e.artifact_location = r.Text(2);
      e.lifecycle_stage = r.Text(3);
      e.creation_time = r.Int(4);
      e.last_update_time = r.Int(5);
      index[r.Int(0)] = out.size();
      keys.emplace_back(r.Int(0));
      out.push_back(std::move(e));
    }
    PLINTH_RETURN_IF_ERROR(ForEachRowIn(
        *db_, "SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id", keys,
        " ORDER BY key", [&](const Row& t) {
          out[index[t.Int(0)]].tags.push_back({t.Text(1), t.Text(2)});
        }));
    return out;
  }

  Result<RunInfo> LoadRunInfo(const std::string& run_id) {
    PLINTH_ASSIGN_OR_RETURN(auto infos, LoadRunInfos({run_id}));
    if (infos.empty()) {
      return NotFound("Run with id=" + run_id + " not found");
    }
    return std::move(infos.begin()->second);
  }

  static Status CheckActive(const RunInfo& info) {
    if (info.lifecycle_stage != "active") {
      return InvalidArgument("The run " + info.run_id +
                             " must be in the 'active' state. Current state is " +
                             info.lifecycle_stage + ".");
    }
    return Status::Ok();
  }

  // Fills params, tags, latest metrics and inputs of `runs` with one query per kind.
  Status LoadRunData(std::vector<Run>* runs) {
    if (runs->empty()) {
      return Status::Ok();
    }
    std::map<std::string, Run*, std::less<>> by_id;
    std::vector<Value> ids;
    for (Run& r : *runs) {
      by_id[r.info.run_id] = &r;
      ids.emplace_back(r.info.run_id);
    }
    // Params and tags: key-value rows of one table each.
    auto load_pairs = [&](std::string_view table, auto member) {
      return ForEachRowIn(
          *db_, "SELECT run_uuid, key, value FROM " + std::string(table) + " WHERE run_uuid", ids,
          " ORDER BY run_uuid, key", [&](const Row& r) {
            (by_id[r.Text(0)]->*member).push_back({r.Text(1), r.Text(2)});
          });
    };
    PLINTH_RETURN_IF_ERROR(load_pairs("params", &Run::params));
    PLINTH_RETURN_IF_ERROR(load_pairs("tags", &Run::tags));
    PLINTH_RETURN_IF_ERROR(ForEachRowIn(
        *db_,
        "SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics WHERE run_uuid",
        ids, " ORDER BY run_uuid, key", [&](const Row& m) {
          by_id[m.Text(0)]->metrics.push_back(
              {m.Text(1), MetricValue(m, 2, 3), m.Int(4), m.Int(5)});
        }));
    std::vector<Row> inputs;
    PLINTH_RETURN_IF_ERROR(ForEachRowIn(
        *db_,
        "SELECT i.run_uuid, i.input_uuid, d.name, d.digest, d.source_type, d.source, d.schema, "
        "d.profile FROM inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE "
        "i.run_uuid",
        ids, " ORDER BY d.name, d.digest", [&](const Row& i) { inputs.push_back(i); }));
    std::vector<Value> input_ids;
    for (const Row& i : inputs) {
      input_ids.emplace_back(i.Text(1));
    }
    std::map<std::string, std::vector<Tag>> tags_of;
    PLINTH_RETURN_IF_ERROR(
        ForEachRowIn(*db_, "SELECT input_uuid, name, value FROM input_tags WHERE input_uuid",
                     input_ids, " ORDER BY name", [&](const Row& t) {
                       tags_of[t.Text(0)].push_back({t.Text(1), t.Text(2)});
                     }));
    for (const Row& i : inputs) {
      DatasetInput in;
      in.tags = tags_of[i.Text(1)];
      in.dataset = {i.Text(2),
                    i.Text(3),
                    i.Text(4),
                    i.Text(5),
                    i.IsNull(6) ? std::nullopt : std::optional(i.Text(6)),
                    i.IsNull(7) ? std::nullopt : std::optional(i.Text(7))};
      by_id[i.Text(0)]->inputs.push_back(std::move(in));
    }
    return logged_models_.LoadRunModels(ids, by_id);
  }

  // Moves an experiment to lifecycle stage `to`, with its runs that are in `from`.
  Status MoveExperiment(int64_t key, std::string_view from, std::string_view to) {
    return db_->Transaction([&]() -> Status {
      int64_t now = NowMs();
      Value a[] = {std::string(to), now, key};
      PLINTH_RETURN_IF_ERROR(db_->Exec(
          "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id "
          "= ?",
          a));
      Value b[] = {std::string(to), to == "deleted" ? Value(now) : Value(), key, std::string(from)};
      return db_->Exec(
          "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ? AND "
          "lifecycle_stage = ?",
          b);
    });
  }

  Status MoveRun(const std::string& run_id, std::string_view to) {
    PLINTH_ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
    Value a[] = {std::string(to), to == "deleted" ? Value(NowMs()) : Value(), info.run_id};
    return db_->Exec("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?", a);
  }

  // Inserts a row with `insert` and then its tags, in one transaction.
  Status InsertWithTags(std::string_view insert, std::span<const Value> row,
                        std::string_view tag_table, std::string_view id_column, const Value& id,
                        const std::vector<Tag>& tags) {
    return db_->Transaction([&]() -> Status {
      PLINTH_RETURN_IF_ERROR(db_->Exec(insert, row));
      for (const Tag& t : tags) {
        PLINTH_RETURN_IF_ERROR(UpsertTag(tag_table, id_column, id, t));
      }
      return Status::Ok();
    });
  }

  // Sets `t` on the row `id` of a tag table (experiment_tags or tags).
  Status UpsertTag(std::string_view table, std::string_view id_column, const Value& id,
                   const Tag& t) {
    Value a[] = {id, t.key, t.value};
    const std::string cols = std::string(id_column);
    return db_->Exec("INSERT INTO " + std::string(table) + " (" + cols +
                         ", key, value) VALUES (?, ?, ?) ON CONFLICT (" + cols +
                         ", key) DO UPDATE SET value = excluded.value",
                     a);
  }
  Status UpsertExperimentTag(int64_t experiment, const Tag& t) {
    return UpsertTag("experiment_tags", "experiment_id", experiment, t);
  }
  Status UpsertTag(const std::string& run_id, const Tag& t) {
    return UpsertTag("tags", "run_uuid", run_id, t);
  }

  Status InsertParam(const std::string& run_id, const Param& p) {
    Value a[] = {run_id, p.key, p.value};
    PLINTH_RETURN_IF_ERROR(db_->Exec(
        "INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?) ON CONFLICT (run_uuid, key) "
        "DO NOTHING",
        a));
    Value k[] = {run_id, p.key};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("SELECT value FROM params WHERE run_uuid = ? AND key = ?", k));
    if (!rows.empty() && rows[0].Text(0) != p.value) {
      return InvalidArgument("Changing param values is not allowed. Param with key='" + p.key +
                             "' was already logged with value='" + rows[0].Text(0) +
                             "' for run ID='" + run_id + "'. Attempted logging new value '" +
                             p.value + "'.");
    }
    return Status::Ok();
  }

  // MLflow's checks of a batch that need no database: limits, keys, values,
  // duplicate param keys.
  static Status ValidateBatch(const std::vector<Metric>& metrics, const std::vector<Param>& params,
                              const std::vector<Tag>& tags) {
    PLINTH_RETURN_IF_ERROR(ValidateBatchLimit("metrics", kMaxMetricsPerBatch, metrics.size()));
    PLINTH_RETURN_IF_ERROR(ValidateBatchLimit("params", kMaxParamsTagsPerBatch, params.size()));
    PLINTH_RETURN_IF_ERROR(ValidateBatchLimit("tags", kMaxParamsTagsPerBatch, tags.size()));
    PLINTH_RETURN_IF_ERROR(ValidateBatchLimit("metrics, params, and tags", kMaxEntitiesPerBatch,
                                              metrics.size() + params.size() + tags.size()));
    for (const Metric& m : metrics) {
      PLINTH_RETURN_IF_ERROR(ValidateMetric(m));
    }
    std::set<std::string_view> seen;
    std::vector<std::string> dupes;
    for (const Param& p : params) {
      PLINTH_RETURN_IF_ERROR(ValidateParam(p));
      if (!seen.insert(p.key).second) {
        dupes.push_back("'" + p.key + "'");
      }
    }
    if (!dupes.empty()) {
      std::string list;
      for (const std::string& d : dupes) {
        list += (list.empty() ? "" : ", ") + d;
      }
      return InvalidArgument("Duplicate parameter keys have been submitted: [" + list +
                             "]. Please ensure the request contains only one param value per "
                             "param key.");
    }
    for (const Tag& t : tags) {
      PLINTH_RETURN_IF_ERROR(ValidateTag(t));
    }
    return Status::Ok();
  }

  Status WriteParamsAndTags(const std::string& run_id, const std::vector<Param>& params,
                            const std::vector<Tag>& tags) {
    for (const Param& p : params) {
      PLINTH_RETURN_IF_ERROR(InsertParam(run_id, p));
    }
    for (const Tag& t : tags) {
      PLINTH_RETURN_IF_ERROR(UpsertTag(run_id, t));
      if (t.key == kRunNameTag) {
        Value a[] = {t.value, run_id};
        PLINTH_RETURN_IF_ERROR(db_->Exec("UPDATE runs SET name = ? WHERE run_uuid = ?", a));
      }
    }
    return Status::Ok();
  }

  // The runs among `ids` that exist, by id (malformed ids are simply absent).
  Result<std::map<std::string, RunInfo, std::less<>>> LoadRunInfos(
      std::vector<std::string_view> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::erase_if(ids, [](std::string_view id) { return !ValidateRunId(std::string(id)).ok(); });
    std::vector<Value> keys;
    for (std::string_view id : ids) {
      keys.emplace_back(std::string(id));
    }
    std::map<std::string, RunInfo, std::less<>> out;
    PLINTH_RETURN_IF_ERROR(
        ForEachRowIn(*db_, "SELECT " + std::string(kRunColumns) + " FROM runs WHERE run_uuid", keys,
                     "", [&](const Row& row) {
                       RunInfo info = RunInfoFromRow(row);
                       std::string id = info.run_id;
                       out.emplace(std::move(id), std::move(info));
                     }));
    return out;
  }

  struct RunMetric {
    const std::string* run_id;
    const Metric* metric;
  };

  // Inserts the history rows with multi-row statements (one round trip per 200
  // rows on PostgreSQL), then moves each (run, key)'s latest value once, again
  // 200 rows a statement.
  Status InsertMetrics(const std::vector<RunMetric>& rows) {
    constexpr size_t kRowsPerStatement = 200;
    // The latest value is the one with the largest (step, timestamp, value), as MLflow keeps it.
    auto later = [](const Metric& a, const Metric& b) {
      double va = std::isnan(a.value) ? 0.0 : a.value;
      double vb = std::isnan(b.value) ? 0.0 : b.value;
      return std::tie(a.step, a.timestamp, va) > std::tie(b.step, b.timestamp, vb);
    };
    std::map<std::pair<std::string_view, std::string_view>, RunMetric> latest;
    for (const RunMetric& r : rows) {
      std::pair<std::string_view, std::string_view> key(*r.run_id, r.metric->key);
      auto [it, fresh] = latest.emplace(key, r);
      if (!fresh && later(*r.metric, *it->second.metric)) {
        it->second = r;
      }
    }
    auto insert = [this](std::string_view head, std::string_view tail, auto first, auto last) {
      std::string sql(head);
      std::vector<Value> args;
      args.reserve(static_cast<size_t>(std::distance(first, last)) * 6);
      for (auto it = first; it != last; ++it) {
        const RunMetric& r = *it;
        const Metric& m = *r.metric;
        const bool nan = std::isnan(m.value);
        sql += it == first ? "(?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?)";
        args.insert(args.end(),
                    {*r.run_id, m.key, nan ? 0.0 : m.value, int64_t{nan}, m.timestamp, m.step});
      }
      sql += tail;
      return db_->Exec(sql, args);
    };
    for (size_t i = 0; i < rows.size(); i += kRowsPerStatement) {
      const size_t n = std::min(kRowsPerStatement, rows.size() - i);
      auto first = rows.begin() + static_cast<std::ptrdiff_t>(i);
      PLINTH_RETURN_IF_ERROR(
          insert("INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES ",
                 " ON CONFLICT (run_uuid, key, step, timestamp, value, is_nan) DO NOTHING", first,
                 first + static_cast<std::ptrdiff_t>(n)));
    }
    for (const RunMetric& r : rows) {
      if (!r.metric->model_id.empty()) {
        const Metric* one[] = {r.metric};
        PLINTH_RETURN_IF_ERROR(logged_models_.InsertModelMetrics(*r.run_id, one));
      }
    }
    std::vector<RunMetric> moves;
    moves.reserve(latest.size());
    for (const auto& [key, r] : latest) {
      moves.push_back(r);
    }
    for (size_t i = 0; i < moves.size(); i += kRowsPerStatement) {
      const size_t n = std::min(kRowsPerStatement, moves.size() - i);
      auto first = moves.begin() + static_cast<std::ptrdiff_t>(i);
      PLINTH_RETURN_IF_ERROR(insert(
          "INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES ",
          " ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = "
          "excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step WHERE "
          "excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND "
          "(excluded.timestamp > latest_metrics.timestamp OR (excluded.timestamp = "
          "latest_metrics.timestamp AND excluded.value > latest_metrics.value)))",
          first, first + static_cast<std::ptrdiff_t>(n)));
    }
    return Status::Ok();
  }

  std::unique_ptr<store::Database> db_;
  std::string artifact_root_;
  const core::Clock& clock_;
  LoggedModelTables logged_models_;
  TraceTables traces_;
};

}  // namespace

Result<std::unique_ptr<TrackingStore>> OpenTrackingStore(std::unique_ptr<store::Database> db,
                                                         const std::string& artifact_root,
                                                         const core::Clock& clock) {
  auto s = std::make_unique<SqlTrackingStore>(std::move(db), artifact_root, clock);
  PLINTH_RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<TrackingStore>(std::move(s));
}

Result<std::unique_ptr<TrackingStore>> OpenTrackingStore(const std::string& store_uri,
                                                         const std::string& artifact_root,
                                                         const core::Clock& clock) {
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, store::OpenDatabase(store_uri));
  return OpenTrackingStore(std::move(db), artifact_root, clock);
}

}  // namespace plinth::tracking
