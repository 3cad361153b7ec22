#include "tracking/sql_traces.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/hash.h"
#include "tracking/search.h"
#include "tracking/sql_util.h"

namespace plinth::tracking {
namespace {

using store::Row;
using store::Value;

constexpr std::string_view kColumns =
    "t.request_id, t.experiment_id, t.timestamp_ms, t.execution_time_ms, t.status, "
    "t.client_request_id, t.request_preview, t.response_preview";
constexpr size_t kMaxPreview = 1000;
constexpr size_t kMaxTraceKey = 250;
constexpr size_t kMaxTraceTagValue = 8000;  // longer values are cut, as MLflow does
constexpr int64_t kMaxTracesPerPage = 50000;

std::string NotFoundMessage(const std::string& id) {
  return "Trace with request_id '" + id + "' not found.";
}

Status ValidateStatus(const std::string& status) {
  if (status != "TRACE_STATUS_UNSPECIFIED" && status != "OK" && status != "ERROR" &&
      status != "IN_PROGRESS") {
    return InvalidArgument("Invalid value '" + status +
                           "' for parameter 'status': expected OK, ERROR, IN_PROGRESS or "
                           "TRACE_STATUS_UNSPECIFIED");
  }
  return Status::Ok();
}

// ms since the epoch, up to the year 9999 (so durations and conversions cannot overflow).
Status ValidateTime(int64_t ms, std::string_view what) {
  if (ms < 0 || ms > 253402300799999) {
    return InvalidArgument("Invalid value " + std::to_string(ms) + " for parameter '" +
                           std::string(what) +
                           "': expected milliseconds since the epoch, up to the year 9999");
  }
  return Status::Ok();
}

// The server keeps where a trace's spans are: a client's tag of that name is dropped.
std::vector<Tag> ClientTags(std::vector<Tag> tags) {
  std::erase_if(tags, [](const Tag& t) { return t.key == kTraceArtifactLocationTag; });
  return tags;
}

Status ValidatePairs(const std::vector<Tag>& pairs, std::string_view what) {
  for (const Tag& t : pairs) {
    if (t.key.empty()) {
      return InvalidArgument("Missing value for required parameter '" + std::string(what) +
                             ".key'.");
    }
    if (t.key.size() > kMaxTraceKey) {
      return InvalidArgument("Trace " + std::string(what) + " key '" + t.key.substr(0, 250) +
                             "' had length " + std::to_string(t.key.size()) +
                             ", which exceeded length limit of 250");
    }
  }
  return Status::Ok();
}

std::vector<Tag> CutValues(std::vector<Tag> tags) {
  for (Tag& t : tags) {
    if (t.value.size() > kMaxTraceTagValue) {
      t.value.resize(kMaxTraceTagValue);
    }
  }
  return tags;
}

std::string Column(std::string_view attribute) { return std::string(attribute); }

}  // namespace

const char* TraceTables::Schema() {
  return R"sql(
CREATE TABLE trace_info (
  request_id TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  timestamp_ms BIGINT NOT NULL,
  execution_time_ms BIGINT,
  status TEXT NOT NULL,
  client_request_id TEXT,
  request_preview TEXT,
  response_preview TEXT);
CREATE INDEX trace_info_by_experiment ON trace_info (experiment_id, timestamp_ms);
CREATE TABLE trace_tags (
  request_id TEXT NOT NULL REFERENCES trace_info (request_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (request_id, key));
CREATE TABLE trace_run_links (
  request_id TEXT NOT NULL REFERENCES trace_info (request_id) ON DELETE CASCADE,
  run_uuid TEXT NOT NULL,
  PRIMARY KEY (request_id, run_uuid));
CREATE INDEX trace_run_links_by_run ON trace_run_links (run_uuid);
CREATE TABLE trace_request_metadata (
  request_id TEXT NOT NULL REFERENCES trace_info (request_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (request_id, key));
)sql";
}

Status TraceTables::Upsert(std::string_view table, const std::string& request_id,
                           const std::vector<Tag>& pairs) {
  for (const Tag& t : pairs) {
    Value a[] = {request_id, t.key, t.value};
    PLINTH_RETURN_IF_ERROR(db_.Exec("INSERT INTO " + std::string(table) +
                                        " (request_id, key, value) VALUES (?, ?, ?) ON CONFLICT "
                                        "(request_id, key) DO UPDATE SET value = excluded.value",
                                    a));
  }
  return Status::Ok();
}

Result<TraceInfo> TraceTables::Start(const Experiment& e, int64_t timestamp_ms,
                                     const std::vector<Tag>& metadata,
                                     const std::vector<Tag>& tags) {
  TraceInfo t;
  t.request_id = core::NewUuidHex();
  t.experiment_id = e.experiment_id;
  t.timestamp_ms = timestamp_ms;
  t.status = "IN_PROGRESS";
  t.request_metadata = metadata;
  t.tags = tags;
  return Put(e, t);
}

Result<TraceInfo> TraceTables::Put(const Experiment& e, const TraceInfo& t) {
  PLINTH_RETURN_IF_ERROR(ValidateStatus(t.status));
  PLINTH_RETURN_IF_ERROR(ValidateTime(t.timestamp_ms, "timestamp_ms"));
  if (t.execution_time_ms && (*t.execution_time_ms < 0 || *t.execution_time_ms > 253402300799999)) {
    return InvalidArgument("Invalid value " + std::to_string(*t.execution_time_ms) +
                           " for parameter 'execution_duration': expected 0 to the year 9999");
  }
  PLINTH_RETURN_IF_ERROR(ValidatePairs(t.request_metadata, "request metadata"));
  PLINTH_RETURN_IF_ERROR(ValidatePairs(t.tags, "tag"));
  // The client chose the id: MLflow's tr-<hex>, or any id of its run-id shape.
  const bool word = std::all_of(t.request_id.begin(), t.request_id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (t.request_id.empty() || t.request_id.size() > 64 || !word) {
    return InvalidArgument("Invalid trace ID '" + t.request_id.substr(0, 64) +
                           "': expected tr- and hex digits (letters, digits, - and _, at most 64)");
  }
  if (Result<TraceInfo> existing = Get(t.request_id);
      existing.ok() && existing->experiment_id != e.experiment_id) {
    return InvalidArgument("Trace '" + t.request_id + "' belongs to experiment " +
                           existing->experiment_id + ", not " + e.experiment_id);
  }
  std::vector<Tag> tags = CutValues(ClientTags(t.tags));
  tags.push_back({std::string(kTraceArtifactLocationTag),
                  ArtifactPathUnder(e.artifact_location, "traces/" + t.request_id + "/artifacts")});
  auto opt = [](const std::string& v) {
    return v.empty() ? Value() : Value(v.substr(0, kMaxPreview));
  };
  PLINTH_RETURN_IF_ERROR(db_.Transaction([&]() -> Status {
    Value row[] = {t.request_id,
                   std::stoll(e.experiment_id),
                   t.timestamp_ms,
                   t.execution_time_ms ? Value(*t.execution_time_ms) : Value(),
                   t.status,
                   opt(t.client_request_id),
                   opt(t.request_preview),
                   opt(t.response_preview)};
    PLINTH_RETURN_IF_ERROR(db_.Exec(
        "INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, "
        "status, client_request_id, request_preview, response_preview) VALUES (?, ?, ?, ?, ?, ?, "
        "?, ?) ON CONFLICT (request_id) DO UPDATE SET timestamp_ms = excluded.timestamp_ms, "
        "execution_time_ms = excluded.execution_time_ms, status = excluded.status, "
        "client_request_id = excluded.client_request_id, request_preview = "
        "excluded.request_preview, response_preview = excluded.response_preview",
        row));
    PLINTH_RETURN_IF_ERROR(
        Upsert("trace_request_metadata", t.request_id, CutValues(t.request_metadata)));
    return Upsert("trace_tags", t.request_id, tags);
  }));
  return Get(t.request_id);
}

Result<TraceInfo> TraceTables::End(const std::string& request_id, int64_t timestamp_ms,
                                   const std::string& status, const std::vector<Tag>& metadata,
                                   const std::vector<Tag>& tags) {
  PLINTH_RETURN_IF_ERROR(ValidateStatus(status));
  PLINTH_RETURN_IF_ERROR(ValidateTime(timestamp_ms, "timestamp_ms"));
  PLINTH_RETURN_IF_ERROR(ValidatePairs(metadata, "request metadata"));
  PLINTH_RETURN_IF_ERROR(ValidatePairs(tags, "tag"));
  PLINTH_ASSIGN_OR_RETURN(TraceInfo info, Get(request_id));
  PLINTH_RETURN_IF_ERROR(db_.Transaction([&]() -> Status {
    Value a[] = {timestamp_ms - info.timestamp_ms, status, request_id};
    PLINTH_RETURN_IF_ERROR(db_.Exec(
        "UPDATE trace_info SET execution_time_ms = ?, status = ? WHERE request_id = ?", a));
    PLINTH_RETURN_IF_ERROR(Upsert("trace_request_metadata", request_id, CutValues(metadata)));
    return Upsert("trace_tags", request_id, CutValues(ClientTags(tags)));
  }));
  return Get(request_id);
}

Result<TraceInfo> TraceTables::Get(const std::string& request_id) {
  Value k[] = {request_id};
  PLINTH_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kColumns) +
                                                   " FROM trace_info t WHERE t.request_id = ?",
                                               k));
  if (rows.empty()) {
    return NotFound(NotFoundMessage(request_id));
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<TraceInfo> infos, Load(rows));
  return std::move(infos.front());
}

Result<std::vector<TraceInfo>> TraceTables::Load(const std::vector<Row>& rows) {
  std::vector<TraceInfo> out;
  std::map<std::string, size_t, std::less<>> index;
  std::vector<Value> keys;
  for (const Row& r : rows) {
    TraceInfo t;
    t.request_id = r.Text(0);
    t.experiment_id = std::to_string(r.Int(1));
    t.timestamp_ms = r.Int(2);
    if (!r.IsNull(3)) {
      t.execution_time_ms = r.Int(3);
    }
    t.status = r.Text(4);
    t.client_request_id = r.IsNull(5) ? "" : r.Text(5);
    t.request_preview = r.IsNull(6) ? "" : r.Text(6);
    t.response_preview = r.IsNull(7) ? "" : r.Text(7);
    index[t.request_id] = out.size();
    keys.emplace_back(t.request_id);
    out.push_back(std::move(t));
  }
  for (auto [table, member] : {std::pair{"trace_tags", &TraceInfo::tags},
                               std::pair{"trace_request_metadata", &TraceInfo::request_metadata}}) {
    PLINTH_RETURN_IF_ERROR(ForEachRowIn(
        db_, "SELECT request_id, key, value FROM " + std::string(table) + " WHERE request_id", keys,
        " ORDER BY key", [&, member = member](const Row& t) {
          (out[index[t.Text(0)]].*member).push_back({t.Text(1), t.Text(2)});
        }));
  }
  return out;
}

Result<Page<TraceInfo>> TraceTables::Search(const TraceQuery& q) {
  if (q.max_results < 1) {
    return InvalidArgument("Invalid value " + std::to_string(q.max_results) +
                           " for parameter 'max_results' supplied. It must be a positive integer");
  }
  if (q.max_results > kMaxTracesPerPage) {
    return InvalidArgument("Invalid value " + std::to_string(q.max_results) +
                           " for parameter 'max_results' supplied. It must be at most 50000");
  }
  if (q.experiment_ids.size() > 1000) {
    return InvalidArgument("A trace search takes at most 1000 experiment ids, got " +
                           std::to_string(q.experiment_ids.size()));
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<Comparison> comparisons,
                          ParseFilter(q.filter, TraceSearch()));
  // run_id = R: the mlflow.sourceRun metadata, or a link-to-run (MLflow 3's meaning).
  SqlFragment linked;
  for (auto it = comparisons.begin(); it != comparisons.end();) {
    if (it->kind == EntityKind::kAttribute && it->key == "run_id" && it->op == "=") {
      linked.sql += linked.sql.empty() ? "" : " AND ";
      linked.sql +=
          "(EXISTS (SELECT 1 FROM trace_request_metadata x WHERE x.request_id = t.request_id AND "
          "x.key = 'mlflow.sourceRun' AND x.value = ?) OR EXISTS (SELECT 1 FROM trace_run_links "
          "l WHERE l.request_id = t.request_id AND l.run_uuid = ?))";
      linked.params.emplace_back(it->strings.at(0));
      linked.params.emplace_back(it->strings.at(0));
      it = comparisons.erase(it);
    } else {
      ApplyTraceAliases(&it->kind, &it->key);
      ++it;
    }
  }
  SqlNames names = {"t", "request_id", "trace_tags", "request_id", Column};
  names.param_table = "trace_request_metadata";
  SqlFragment filter = CompileFilter(comparisons, names);
  SqlFragment where;
  for (const std::string& id : q.experiment_ids) {
    Result<int64_t> key = ExperimentKey(id);
    if (!key.ok()) {
      continue;  // names no experiment
    }
    where.sql += where.sql.empty() ? "?" : ", ?";
    where.params.emplace_back(*key);
  }
  if (where.sql.empty()) {
    return Page<TraceInfo>{};
  }
  where.sql = "t.experiment_id IN (" + where.sql + ") AND " + filter.sql;
  where.params.insert(where.params.end(), filter.params.begin(), filter.params.end());
  if (!linked.sql.empty()) {
    where.sql += " AND " + linked.sql;
    where.params.insert(where.params.end(), linked.params.begin(), linked.params.end());
  }
  // SearchStatement parses order_by itself: it gets the clauses with the aliases resolved.
  std::vector<std::string> resolved;
  bool by_time = false, by_id = false;
  for (const std::string& clause : q.order_by) {
    PLINTH_ASSIGN_OR_RETURN(OrderKey key, ParseOrderBy(clause, TraceSearch()));
    ApplyTraceAliases(&key.kind, &key.key);
    by_time = by_time || (key.kind == EntityKind::kAttribute && key.key == "timestamp_ms");
    by_id = by_id || (key.kind == EntityKind::kAttribute && key.key == "request_id");
    const std::string prefix = key.kind == EntityKind::kTag     ? "tags.`"
                               : key.kind == EntityKind::kParam ? "request_metadata.`"
                                                                : "attributes.`";
    resolved.push_back(prefix + key.key + "`" + (key.ascending ? " ASC" : " DESC"));
  }
  std::string tiebreak;
  if (!by_time) {
    tiebreak = "t.timestamp_ms DESC";
  }
  if (!by_id) {
    tiebreak += std::string(tiebreak.empty() ? "" : ", ") + "t.request_id ASC";
  }
  PLINTH_ASSIGN_OR_RETURN(
      SqlFragment sql,
      SearchStatement("SELECT " + std::string(kColumns) + " FROM trace_info t", where, resolved,
                      TraceSearch(), names, tiebreak.empty() ? "t.request_id ASC" : tiebreak));
  return FetchPage<TraceInfo>(db_, std::move(sql), q.max_results, q.page_token,
                              [this](const std::vector<Row>& rows) { return Load(rows); });
}

Result<int64_t> TraceTables::Delete(const TraceDeletion& d) {
  if (!d.max_timestamp_millis && d.request_ids.empty()) {
    return InvalidArgument("Either `max_timestamp_millis` or `request_ids` must be specified.");
  }
  if (d.max_timestamp_millis && !d.request_ids.empty()) {
    return InvalidArgument(
        "Only one of `max_timestamp_millis` and `request_ids` can be specified.");
  }
  if (d.max_traces && !d.request_ids.empty()) {
    return InvalidArgument("`max_traces` can't be specified if `request_ids` is specified.");
  }
  if (d.request_ids.size() > 1000) {
    return InvalidArgument("At most 1000 `request_ids` can be deleted in one request, got " +
                           std::to_string(d.request_ids.size()) + ".");
  }
  if (d.max_traces && *d.max_traces <= 0) {
    return InvalidArgument("`max_traces` must be a positive integer, received " +
                           std::to_string(*d.max_traces) + ".");
  }
  Result<int64_t> experiment = ExperimentKey(d.experiment_id);
  if (!experiment.ok()) {
    return int64_t{0};  // names no experiment: nothing to delete
  }
  SqlFragment sel{"SELECT request_id FROM trace_info WHERE experiment_id = ?", {*experiment}};
  if (d.max_timestamp_millis) {
    sel.sql += " AND timestamp_ms <= ?";
    sel.params.emplace_back(*d.max_timestamp_millis);
  }
  if (!d.request_ids.empty()) {
    sel.sql += " AND request_id IN (" + Placeholders(d.request_ids.size()) + ")";
    for (const std::string& id : d.request_ids) {
      sel.params.emplace_back(id);
    }
  }
  sel.sql += " ORDER BY timestamp_ms ASC, request_id ASC";
  if (d.max_traces) {
    sel.sql += " LIMIT ?";
    sel.params.emplace_back(*d.max_traces);
  }
  int64_t deleted = 0;
  PLINTH_RETURN_IF_ERROR(db_.Transaction([&]() -> Status {
    PLINTH_ASSIGN_OR_RETURN(auto rows, db_.Query(sel.sql, sel.params));
    for (const Row& r : rows) {
      Value k[] = {r.Text(0)};
      for (const char* table :
           {"trace_tags", "trace_request_metadata", "trace_run_links", "trace_info"}) {
        PLINTH_RETURN_IF_ERROR(
            db_.Exec("DELETE FROM " + std::string(table) + " WHERE request_id = ?", k));
      }
      ++deleted;
    }
    return Status::Ok();
  }));
  return deleted;
}

Status TraceTables::SetTag(const std::string& request_id, const Tag& tag) {
  PLINTH_RETURN_IF_ERROR(ValidateKeyName("tag", tag.key));
  PLINTH_RETURN_IF_ERROR(ValidatePairs({tag}, "tag"));
  PLINTH_RETURN_IF_ERROR(Get(request_id).status());
  return Upsert("trace_tags", request_id, CutValues(ClientTags({tag})));
}

Status TraceTables::LinkToRun(const std::vector<std::string>& trace_ids,
                              const std::string& run_id) {
  if (trace_ids.size() > 100) {
    return InvalidArgument(
        "Cannot link more than 100 traces to a run in a single request. "
        "Provided " +
        std::to_string(trace_ids.size()) + " traces.");
  }
  return db_.Transaction([&]() -> Status {
    for (const std::string& id : trace_ids) {
      Value a[] = {id};
      PLINTH_ASSIGN_OR_RETURN(auto found,
                              db_.Query("SELECT 1 FROM trace_info WHERE request_id = ?", a));
      if (found.empty()) {
        continue;  // MLflow links what exists and ignores the rest
      }
      Value link[] = {id, run_id};
      PLINTH_RETURN_IF_ERROR(
          db_.Exec("INSERT INTO trace_run_links (request_id, run_uuid) VALUES (?, ?) ON CONFLICT "
                   "(request_id, run_uuid) DO NOTHING",
                   link));
    }
    return Status::Ok();
  });
}

Status TraceTables::DeleteTag(const std::string& request_id, const std::string& key) {
  Value a[] = {request_id, key};
  PLINTH_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("DELETE FROM trace_tags WHERE request_id = ? AND key = ? RETURNING 1", a));
  if (rows.empty()) {
    return NotFound("No trace tag with key '" + key + "' for trace with request_id '" + request_id +
                    "'");
  }
  return Status::Ok();
}

}  // namespace plinth::tracking
