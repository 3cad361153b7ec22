#include "tracking/sql_logged_models.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "tracking/search.h"
#include "tracking/sql_util.h"

namespace plinth::tracking {
namespace {

using store::Row;
using store::Value;

constexpr std::string_view kColumns =
    "l.model_id, l.experiment_id, l.name, l.artifact_location, l.creation_timestamp_ms, "
    "l.last_updated_timestamp_ms, l.status, l.lifecycle_stage, l.model_type, l.source_run_id";
constexpr int64_t kMaxModelsPerPage = 50000;
constexpr size_t kMaxEntityKey = 250;
constexpr size_t kMaxParamValue = 6000;
constexpr size_t kMaxTagValue = 5000;

std::string NotFoundMessage(const std::string& id) {
  return "Logged model with ID '" + id + "' not found.";
}

Status ValidateName(const std::string& name) {
  if (name.find_first_of("/:.%\"'") != std::string::npos) {
    return InvalidArgument("Invalid model name ('" + name +
                           "') provided. Model name must be a non-empty string and cannot "
                           "contain the following characters: ('/', ':', '.', '%', '\"', \"'\")");
  }
  return ValidateLength("Model name", kMaxEntityKey, name);
}

Status ValidateTags(const std::vector<Tag>& tags) {
  for (const Tag& t : tags) {
    PLINTH_RETURN_IF_ERROR(ValidateKeyName("tag", t.key));
    PLINTH_RETURN_IF_ERROR(ValidateLength("Tag key", kMaxEntityKey, t.key));
    PLINTH_RETURN_IF_ERROR(ValidateLength("Tag value", kMaxTagValue, t.value));
  }
  return Status::Ok();
}

Status ValidateParams(const std::vector<Param>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    PLINTH_RETURN_IF_ERROR(ValidateKeyName("parameter", p.key));
    PLINTH_RETURN_IF_ERROR(ValidateLength("Param key", kMaxEntityKey, p.key));
    PLINTH_RETURN_IF_ERROR(ValidateLength("Param value", kMaxParamValue, p.value));
    for (size_t j = 0; j < i; ++j) {
      if (params[j].key == p.key) {
        return InvalidArgument("Duplicate parameter keys have been submitted: ['" + p.key + "']");
      }
    }
  }
  return Status::Ok();
}

// The column an attribute names (MLflow's aliases included).
std::string Column(std::string_view attribute) {
  if (attribute == "creation_time" || attribute == "creation_timestamp") {
    return "creation_timestamp_ms";
  }
  if (attribute == "last_updated_timestamp") {
    return "last_updated_timestamp_ms";
  }
  if (attribute == "artifact_uri") {
    return "artifact_location";
  }
  return std::string(attribute);
}

constexpr std::string_view kOrderColumns[] = {
    "model_id", "experiment_id",   "name",       "artifact_location", "creation_timestamp_ms",
    "status",   "lifecycle_stage", "model_type", "source_run_id",     "last_updated_timestamp_ms"};

}  // namespace

const char* LoggedModelTables::Schema() {
  return R"sql(
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  creation_timestamp_ms BIGINT NOT NULL,
  last_updated_timestamp_ms BIGINT NOT NULL,
  status BIGINT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  model_type TEXT NOT NULL,
  source_run_id TEXT NOT NULL);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, creation_timestamp_ms);
CREATE INDEX logged_models_by_run ON logged_models (source_run_id);
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key));
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key));
CREATE TABLE logged_model_metrics (
  model_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan INTEGER NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  run_uuid TEXT NOT NULL,
  dataset_name TEXT NOT NULL,
  dataset_digest TEXT NOT NULL,
  PRIMARY KEY (model_id, key, timestamp, step, run_uuid));
CREATE TABLE run_models (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  direction TEXT NOT NULL,
  model_id TEXT NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_uuid, direction, model_id));
)sql";
}

Result<LoggedModel> LoggedModelTables::Create(const NewLoggedModel& m, const Experiment& e) {
  PLINTH_RETURN_IF_ERROR(ValidateName(m.name));
  PLINTH_RETURN_IF_ERROR(ValidateTags(m.tags));
  PLINTH_RETURN_IF_ERROR(ValidateParams(m.params));
  const std::string id = "m-" + core::NewUuidHex();
  const int64_t now = NowMs();
  const std::string location =
      ArtifactPathUnder(e.artifact_location, "models/" + id + "/artifacts");
  const int64_t experiment = std::stoll(e.experiment_id);
  PLINTH_RETURN_IF_ERROR(db_.Transaction([&]() -> Status {
    Value row[] = {id,
                   experiment,
                   m.name.empty() ? RandomRunName() : m.name,
                   location,
                   now,
                   now,
                   int64_t{static_cast<int>(LoggedModelStatus::kPending)},
                   m.model_type,
                   m.source_run_id};
    PLINTH_RETURN_IF_ERROR(db_.Exec(
        "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, "
        "creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, "
        "source_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
        row));
    for (const Param& p : m.params) {
      Value a[] = {id, p.key, p.value};
      PLINTH_RETURN_IF_ERROR(
          db_.Exec("INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)", a));
    }
    return UpsertTags(id, m.tags);
  }));
  return Get(id, false);
}

Result<Row> LoggedModelTables::FindRow(const std::string& model_id) {
  Value k[] = {model_id};
  PLINTH_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kColumns) +
                                                   " FROM logged_models l WHERE l.model_id = ?",
                                               k));
  if (rows.empty()) {
    return NotFound(NotFoundMessage(model_id));
  }
  return std::move(rows.front());
}

Result<LoggedModel> LoggedModelTables::Get(const std::string& model_id, bool allow_deleted) {
  PLINTH_ASSIGN_OR_RETURN(Row row, FindRow(model_id));
  if (!allow_deleted && row.Text(7) != "active") {
    return NotFound(NotFoundMessage(model_id));
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<LoggedModel> models, Load({row}));
  return std::move(models.front());
}

Result<LoggedModel> LoggedModelTables::Finalize(const std::string& model_id,
                                                LoggedModelStatus status) {
  PLINTH_RETURN_IF_ERROR(FindRow(model_id).status());
  Value a[] = {int64_t{static_cast<int>(status)}, NowMs(), model_id};
  PLINTH_RETURN_IF_ERROR(db_.Exec(
      "UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE model_id = ?", a));
  return Get(model_id, true);
}

Status LoggedModelTables::Delete(const std::string& model_id) {
  PLINTH_RETURN_IF_ERROR(FindRow(model_id).status());
  Value a[] = {NowMs(), model_id};
  return db_.Exec(
      "UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ? WHERE "
      "model_id = ?",
      a);
}

Status LoggedModelTables::SetTags(const std::string& model_id, const std::vector<Tag>& tags) {
  PLINTH_RETURN_IF_ERROR(ValidateTags(tags));
  PLINTH_RETURN_IF_ERROR(FindRow(model_id).status());
  return db_.Transaction([&]() -> Status { return UpsertTags(model_id, tags); });
}

Status LoggedModelTables::UpsertTags(const std::string& model_id, const std::vector<Tag>& tags) {
  for (const Tag& t : tags) {
    Value a[] = {model_id, t.key, t.value};
    PLINTH_RETURN_IF_ERROR(
        db_.Exec("INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?) ON "
                 "CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                 a));
  }
  return Status::Ok();
}

Status LoggedModelTables::DeleteTag(const std::string& model_id, const std::string& key) {
  PLINTH_RETURN_IF_ERROR(FindRow(model_id).status());
  Value a[] = {model_id, key};
  PLINTH_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ? RETURNING 1", a));
  if (rows.empty()) {
    return NotFound("No tag with key '" + key + "' found for model with ID '" + model_id + "'.");
  }
  return Status::Ok();
}

Status LoggedModelTables::LogParams(const std::string& model_id, const std::vector<Param>& params) {
  PLINTH_RETURN_IF_ERROR(ValidateParams(params));
  PLINTH_RETURN_IF_ERROR(FindRow(model_id).status());
  return db_.Transaction([&]() -> Status {
    for (const Param& p : params) {
      Value a[] = {model_id, p.key, p.value};
      PLINTH_ASSIGN_OR_RETURN(
          auto inserted,
          db_.Query("INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?) ON "
                    "CONFLICT (model_id, key) DO NOTHING RETURNING 1",
                    a));
      if (inserted.empty()) {
        return InvalidArgument("Param '" + p.key + "' was already logged for model with ID '" +
                               model_id + "': a logged model's params cannot be changed.");
      }
    }
    return Status::Ok();
  });
}

Result<Page<LoggedModel>> LoggedModelTables::Search(const LoggedModelQuery& q) {
  int64_t max_results = q.max_results == 0 ? 100 : q.max_results;
  PLINTH_RETURN_IF_ERROR(CheckMaxResults(max_results, kMaxModelsPerPage));
  // The datasets metric clauses may match: (name [AND digest]) OR ...
  SqlFragment scope;
  for (const auto& [name, digest] : q.datasets) {
    if (name.empty()) {
      return InvalidArgument("`dataset_name` in the `datasets` clause must be specified.");
    }
    std::string one = "m.dataset_name = ?";
    scope.params.emplace_back(name);
    if (!digest.empty()) {
      one += " AND m.dataset_digest = ?";
      scope.params.emplace_back(digest);
    }
    scope.sql += (scope.sql.empty() ? "(" : " OR (") + one + ")";
  }
  if (q.experiment_ids.size() > 1000 || q.datasets.size() > 100) {
    return InvalidArgument(
        "A logged-model search takes at most 1000 experiment ids and 100 "
        "datasets, got " +
        std::to_string(q.experiment_ids.size()) + " and " + std::to_string(q.datasets.size()));
  }
  PLINTH_ASSIGN_OR_RETURN(auto comparisons, ParseFilter(q.filter, LoggedModelSearch()));
  SqlNames names = {"l", "model_id", "logged_model_tags", "model_id", Column};
  names.metric_table = "logged_model_metrics";
  names.param_table = "logged_model_params";
  names.metric_scope = scope.sql.empty() ? nullptr : &scope;
  SqlFragment filter = CompileFilter(comparisons, names);
  const bool metric_filter = std::any_of(comparisons.begin(), comparisons.end(),
                                         [](auto& c) { return c.kind == EntityKind::kMetric; });
  SqlFragment sql{"SELECT " + std::string(kColumns) + " FROM logged_models l WHERE ", {}};
  std::string ids;
  for (const std::string& id : q.experiment_ids) {
    Result<int64_t> key = ExperimentKey(id);
    if (!key.ok()) {
      continue;  // names no experiment
    }
    ids += ids.empty() ? "?" : ", ?";
    sql.params.emplace_back(*key);
  }
  if (ids.empty()) {
    return Page<LoggedModel>{};
  }
  sql.sql += "l.experiment_id IN (" + ids + ") AND l.lifecycle_stage = 'active' AND " + filter.sql;
  sql.params.insert(sql.params.end(), filter.params.begin(), filter.params.end());
  if (!scope.sql.empty() && !metric_filter) {
    sql.sql +=
        " AND EXISTS (SELECT 1 FROM logged_model_metrics m WHERE m.model_id = l.model_id "
        "AND (" +
        scope.sql + "))";
    sql.params.insert(sql.params.end(), scope.params.begin(), scope.params.end());
  }
  std::string order;
  bool by_creation = false;
  for (const LoggedModelOrder& o : q.order_by) {
    std::string expr;
    if (o.field_name.starts_with("metrics.")) {
      expr =
          "(SELECT m.value FROM logged_model_metrics m WHERE m.model_id = l.model_id AND m.key = ?";
      sql.params.emplace_back(o.field_name.substr(8));
      if (!o.dataset_name.empty()) {
        expr += " AND m.dataset_name = ?";
        sql.params.emplace_back(o.dataset_name);
        if (!o.dataset_digest.empty()) {
          expr += " AND m.dataset_digest = ?";
          sql.params.emplace_back(o.dataset_digest);
        }
      }
      expr += " ORDER BY m.timestamp DESC, m.step DESC LIMIT 1)";
    } else if (o.field_name.find('.') != std::string::npos) {
      return InvalidArgument("Invalid order by field name: " + o.field_name +
                             ". Only metrics are supported.");
    } else {
      std::string column = Column(o.field_name);
      if (std::find(std::begin(kOrderColumns), std::end(kOrderColumns), column) ==
          std::end(kOrderColumns)) {
        return InvalidArgument("Invalid order by field name: " + o.field_name);
      }
      by_creation = by_creation || column == "creation_timestamp_ms";
      expr = "l." + column;
    }
    order += (order.empty() ? "" : ", ") + expr + (o.ascending ? " ASC" : " DESC") + " NULLS LAST";
  }
  if (!by_creation) {
    order += std::string(order.empty() ? "" : ", ") + "l.creation_timestamp_ms DESC";
  }
  sql.sql += " ORDER BY " + order + ", l.model_id ASC";
  return FetchPage<LoggedModel>(db_, std::move(sql), max_results, q.page_token,
                                [this](const std::vector<Row>& rows) { return Load(rows); });
}

Result<std::vector<LoggedModel>> LoggedModelTables::Load(const std::vector<Row>& rows) {
  std::vector<LoggedModel> out;
  std::map<std::string, size_t, std::less<>> index;
  std::vector<Value> keys;
  for (const Row& r : rows) {
    LoggedModel m;
    m.model_id = r.Text(0);
    m.experiment_id = std::to_string(r.Int(1));
    m.name = r.Text(2);
    m.artifact_uri = r.Text(3);
    m.creation_timestamp_ms = r.Int(4);
    m.last_updated_timestamp_ms = r.Int(5);
    const int64_t status = r.Int(6);
    m.status = status >= 0 && status <= 3 ? static_cast<LoggedModelStatus>(status)
                                          : LoggedModelStatus::kUnspecified;
    m.lifecycle_stage = r.Text(7);
    m.model_type = r.Text(8);
    m.source_run_id = r.Text(9);
    index[m.model_id] = out.size();
    keys.emplace_back(m.model_id);
    out.push_back(std::move(m));
  }
  PLINTH_RETURN_IF_ERROR(
      ForEachRowIn(db_, "SELECT model_id, key, value FROM logged_model_tags WHERE model_id", keys,
                   " ORDER BY key", [&](const Row& t) {
                     out[index[t.Text(0)]].tags.push_back({t.Text(1), t.Text(2)});
                   }));
  PLINTH_RETURN_IF_ERROR(
      ForEachRowIn(db_, "SELECT model_id, key, value FROM logged_model_params WHERE model_id", keys,
                   " ORDER BY key", [&](const Row& p) {
                     out[index[p.Text(0)]].params.push_back({p.Text(1), p.Text(2)});
                   }));
  PLINTH_RETURN_IF_ERROR(
      ForEachRowIn(db_,
                   "SELECT model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, "
                   "dataset_digest FROM logged_model_metrics WHERE model_id",
                   keys, " ORDER BY key, timestamp, step, run_uuid", [&](const Row& m) {
                     Metric metric{m.Text(1), MetricValue(m, 2, 3), m.Int(4), m.Int(5)};
                     metric.model_id = m.Text(0);
                     metric.run_id = m.Text(6);
                     metric.dataset_name = m.Text(7);
                     metric.dataset_digest = m.Text(8);
                     out[index[m.Text(0)]].metrics.push_back(std::move(metric));
                   }));
  return out;
}

Status LoggedModelTables::LinkInputs(const std::string& run_id,
                                     const std::vector<std::string>& model_ids) {
  return db_.Transaction([&]() -> Status {
    for (const std::string& id : model_ids) {
      if (id.empty()) {
        return InvalidArgument("Missing value for required parameter 'models.model_id'.");
      }
      Value a[] = {run_id, id};
      PLINTH_RETURN_IF_ERROR(db_.Exec(
          "INSERT INTO run_models (run_uuid, direction, model_id, step) VALUES (?, 'input', ?, "
          "0) ON CONFLICT (run_uuid, direction, model_id) DO NOTHING",
          a));
    }
    return Status::Ok();
  });
}

Status LoggedModelTables::LinkOutputs(const std::string& run_id,
                                      const std::vector<ModelOutput>& models) {
  return db_.Transaction([&]() -> Status {
    for (const ModelOutput& m : models) {
      if (m.model_id.empty()) {
        return InvalidArgument("Missing value for required parameter 'models.model_id'.");
      }
      Value a[] = {run_id, m.model_id, m.step};
      PLINTH_ASSIGN_OR_RETURN(
          auto inserted,
          db_.Query("INSERT INTO run_models (run_uuid, direction, model_id, step) VALUES (?, "
                    "'output', ?, ?) ON CONFLICT (run_uuid, direction, model_id) DO NOTHING "
                    "RETURNING 1",
                    a));
      if (inserted.empty()) {
        return InvalidArgument("Model '" + m.model_id + "' is already an output of run '" + run_id +
                               "'.");
      }
      Value edge[] = {run_id, m.model_id, NowMs()};
      PLINTH_RETURN_IF_ERROR(db_.Exec(
          "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id, relation, created) "
          "VALUES ('run', ?, 'logged_model', ?, 'produced', ?) ON CONFLICT (src_kind, src_id, "
          "dst_kind, dst_id) DO NOTHING",
          edge));
    }
    return Status::Ok();
  });
}

Status LoggedModelTables::LoadRunModels(std::span<const Value> ids,
                                        const std::map<std::string, Run*, std::less<>>& by_id) {
  return ForEachRowIn(db_,
                      "SELECT run_uuid, direction, model_id, step FROM run_models WHERE run_uuid",
                      ids, " ORDER BY run_uuid, step, model_id", [&](const Row& r) {
                        auto it = by_id.find(r.Text(0));
                        if (it == by_id.end()) {
                          return;
                        }
                        if (r.Text(1) == "input") {
                          it->second->model_inputs.push_back(r.Text(2));
                        } else {
                          it->second->model_outputs.push_back({r.Text(2), r.Int(3)});
                        }
                      });
}

Status LoggedModelTables::InsertModelMetrics(const std::string& run_id,
                                             std::span<const Metric* const> metrics) {
  for (const Metric* m : metrics) {
    if (m->model_id.empty()) {
      continue;
    }
    const bool nan = std::isnan(m->value);
    Value a[] = {m->model_id, m->key, nan ? 0.0 : m->value, int64_t{nan},     m->timestamp,
                 m->step,     run_id, m->dataset_name,      m->dataset_digest};
    PLINTH_RETURN_IF_ERROR(db_.Exec(
        "INSERT INTO logged_model_metrics (model_id, key, value, is_nan, timestamp, step, "
        "run_uuid, dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
        "(model_id, key, timestamp, step, run_uuid) DO NOTHING",
        a));
  }
  return Status::Ok();
}

}  // namespace plinth::tracking
