#include "tracking/sql_traces.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "core/hash.h"
#include "core/json.h"
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

// The server keeps where a trace's spans are: a client's tags of those names are dropped.
std::vector<Tag> ClientTags(std::vector<Tag> tags) {
  std::erase_if(tags, [](const Tag& t) {
    return t.key == kTraceArtifactLocationTag || t.key == kTraceSpansLocationTag;
  });
  return tags;
}

// The client chose the id: MLflow's tr-<hex>, or any id of its run-id shape.
Status ValidateTraceId(const std::string& id) {
  const bool word = std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (id.empty() || id.size() > 64 || !word) {
    return InvalidArgument("Invalid trace ID '" + id.substr(0, 64) +
                           "': expected tr- and hex digits (letters, digits, - and _, at most 64)");
  }
  return Status::Ok();
}

// At most `limit` bytes of `text`, not cutting a UTF-8 character.
std::string CutUtf8(const std::string& text, size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) {
    --n;
  }
  return text.substr(0, n);
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

// A trace attribute's SQL; end_time is MLflow's timestamp + duration (0 while running).
std::string AttributeSql(std::string_view attribute) {
  return attribute == "end_time_ms" ? "(t.timestamp_ms + COALESCE(t.execution_time_ms, 0))"
                                    : "t." + std::string(attribute);
}

constexpr std::string_view kAssessmentColumns =
    "assessment_id, trace_id, name, span_id, source_type, source_id, create_time_ms, "
    "last_update_time_ms, kind, value, error, serialized_value, rationale, metadata, overrides, "
    "valid, run_id";
constexpr size_t kMaxAssessmentName = 1000;
constexpr size_t kMaxBatchGet = 1000;

std::string TextOr(const Row& r, int i) { return r.IsNull(i) ? "" : r.Text(i); }
Value NullIfEmpty(const std::string& v) { return v.empty() ? Value() : Value(v); }

Result<Assessment> AssessmentOf(const Row& r) {
  Assessment a;
  a.assessment_id = r.Text(0);
  a.trace_id = r.Text(1);
  a.name = r.Text(2);
  a.span_id = TextOr(r, 3);
  a.source_type = TextOr(r, 4);
  a.source_id = TextOr(r, 5);
  a.create_time_ms = r.Int(6);
  a.last_update_time_ms = r.Int(7);
  a.is_expectation = r.Text(8) == "expectation";
  a.value_json = TextOr(r, 9);
  a.error_json = TextOr(r, 10);
  a.serialized_value_json = TextOr(r, 11);
  a.rationale = TextOr(r, 12);
  if (!r.IsNull(13)) {
    PLINTH_ASSIGN_OR_RETURN(core::Json m, core::ParseJson(r.Text(13), "assessment metadata"));
    for (const auto& [k, v] : m.items()) {
      a.metadata.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
    }
  }
  a.overrides = TextOr(r, 14);
  a.valid = r.Int(15) != 0;
  a.run_id = TextOr(r, 16);
  return a;
}

std::string MetadataText(const std::vector<Tag>& metadata) {
  core::Json m = core::Json::object();
  for (const Tag& t : metadata) {
    m[t.key] = t.value;
  }
  return core::DumpJson(m, false);
}

bool IsHex(std::string_view s, size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

Status ValidateSpans(const std::vector<Span>& spans) {
  const std::string& id = spans.front().trace_id;
  PLINTH_RETURN_IF_ERROR(ValidateTraceId(id));
  for (const Span& s : spans) {
    if (s.trace_id != id) {
      return InvalidArgument("All spans must belong to the same trace. Found trace IDs: " + id +
                             ", " + s.trace_id.substr(0, 64));
    }
    if (!IsHex(s.span_id, 16) || (!s.parent_span_id.empty() && !IsHex(s.parent_span_id, 16))) {
      return InvalidArgument("span '" + s.name.substr(0, 100) +
                             "': expected 16 lowercase hex digits as its id and parent id");
    }
    if (s.start_time_ns < 0 || (s.end_time_ns && *s.end_time_ns < 0)) {
      return InvalidArgument("span '" + s.name.substr(0, 100) +
                             "': times must be nanoseconds since the epoch");
    }
  }
  return Status::Ok();
}

// The root span's trace state (OK unless it failed), none without a root.
std::optional<std::string> RootState(const std::vector<Span>& spans) {
  for (const Span& s : spans) {
    if (s.parent_span_id.empty()) {
      return s.status == "ERROR" ? "ERROR" : "OK";
    }
  }
  return std::nullopt;
}

// MLflow's preview of a request or response (tracing/utils/truncation.py): of a chat
// request or response (OpenAI's messages, choices, or Responses API input/output), the
// text of the last message by `role` (else the last message); else the JSON text; at
// most 1000 characters, cut to 997 and "...".
std::string Preview(const std::string& text, std::string_view role) {
  using core::Json;
  std::string content;
  Result<Json> obj = core::ParseJson(text, "preview");
  auto is_message = [](const Json& m) {
    return m.is_object() && m.contains("role") && m.contains("content");
  };
  std::function<std::vector<const Json*>(const Json&, int)> messages =
      [&](const Json& o, int depth) -> std::vector<const Json*> {
    std::vector<const Json*> out;
    if (!o.is_object() || depth > 4) {
      return out;
    }
    for (const char* key : {"messages", "input", "output"}) {
      auto it = o.find(key);
      if (it != o.end() && it->is_array() && !it->empty()) {
        for (const Json& m : *it) {
          if (is_message(m)) {
            out.push_back(&m);
          }
        }
        return out;
      }
      if (std::string_view(key) == "messages") {  // choices come second, as MLflow looks
        auto choices = o.find("choices");
        if (choices != o.end() && choices->is_array() && !choices->empty() &&
            (*choices)[0].is_object() && (*choices)[0].contains("message") &&
            is_message((*choices)[0]["message"])) {
          out.push_back(&(*choices)[0]["message"]);
          return out;
        }
      }
    }
    auto request = o.find("request");
    return request != o.end() ? messages(*request, depth + 1) : out;
  };
  if (obj.ok()) {
    std::vector<const Json*> found = messages(*obj, 0);
    if (!found.empty()) {
      const Json* pick = found.back();
      for (auto it = found.rbegin(); it != found.rend(); ++it) {
        if ((**it)["role"] == role) {
          pick = *it;
          break;
        }
      }
      const Json& c = (*pick)["content"];
      // Strings only: a number where a type or text belongs is no text (never a throw).
      auto text_of = [](const Json& o, const char* key) {
        auto it = o.find(key);
        return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      if (c.is_string()) {
        content = c.get<std::string>();
      } else if (c.is_array()) {
        for (const Json& part : c) {
          if (part.is_string()) {
            content = part.get<std::string>();
            break;
          }
          if (part.is_object() &&
              (text_of(part, "type") == "text" || text_of(part, "type") == "output_text")) {
            content = text_of(part, "text");
            break;
          }
        }
      }
    }
  }
  if (content.empty()) {
    content = text;
  }
  // Characters, not bytes: count UTF-8 lead bytes.
  size_t chars = 0, cut = content.size(), cut_997 = content.size();
  for (size_t i = 0; i < content.size(); ++i) {
    if ((static_cast<unsigned char>(content[i]) & 0xC0) != 0x80) {
      if (chars == 997) {
        cut_997 = i;
      }
      if (chars == kMaxPreview) {
        cut = i;
        break;
      }
      ++chars;
    }
  }
  return cut == content.size() ? content : content.substr(0, cut_997) + "...";
}

// The root span's inputs and outputs attributes (JSON text), for the trace's previews.
std::pair<std::string, std::string> RootPreviews(const std::vector<Span>& spans) {
  for (const Span& s : spans) {
    if (!s.parent_span_id.empty()) {
      continue;
    }
    Result<core::Json> content = core::ParseJson(s.content, "span");
    if (!content.ok() || !content->is_object()) {
      break;
    }
    auto attrs = content->find("attributes");
    if (attrs == content->end() || !attrs->is_object()) {
      break;
    }
    auto text = [&](const char* key, std::string_view role) -> std::string {
      auto it = attrs->find(key);
      return it != attrs->end() && it->is_string() ? Preview(it->get<std::string>(), role)
                                                   : std::string();
    };
    return {text("mlflow.spanInputs", "user"), text("mlflow.spanOutputs", "assistant")};
  }
  return {};
}

}  // namespace

const char* TraceTables::SpanSchema() {
  return R"sql(
CREATE TABLE trace_spans (
  trace_id TEXT NOT NULL REFERENCES trace_info (request_id) ON DELETE CASCADE,
  span_id TEXT NOT NULL,
  parent_span_id TEXT,
  name TEXT NOT NULL,
  type TEXT,
  status TEXT NOT NULL,
  start_time_unix_nano BIGINT NOT NULL,
  end_time_unix_nano BIGINT,
  content TEXT NOT NULL,
  PRIMARY KEY (trace_id, span_id));
CREATE TABLE trace_assessments (
  assessment_id TEXT PRIMARY KEY,
  trace_id TEXT NOT NULL REFERENCES trace_info (request_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  span_id TEXT,
  source_type TEXT,
  source_id TEXT,
  create_time_ms BIGINT NOT NULL,
  last_update_time_ms BIGINT NOT NULL,
  kind TEXT NOT NULL,
  value TEXT,
  error TEXT,
  serialized_value TEXT,
  rationale TEXT,
  metadata TEXT,
  overrides TEXT,
  valid INTEGER NOT NULL,
  run_id TEXT);
CREATE INDEX trace_assessments_by_trace ON trace_assessments (trace_id, create_time_ms);
)sql";
}

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

Result<TraceInfo> TraceTables::Put(const Experiment& e, const TraceInfo& t, int64_t now_ms) {
  PLINTH_RETURN_IF_ERROR(ValidateStatus(t.status));
  PLINTH_RETURN_IF_ERROR(ValidateTime(t.timestamp_ms, "timestamp_ms"));
  if (t.execution_time_ms && (*t.execution_time_ms < 0 || *t.execution_time_ms > 253402300799999)) {
    return InvalidArgument("Invalid value " + std::to_string(*t.execution_time_ms) +
                           " for parameter 'execution_duration': expected 0 to the year 9999");
  }
  PLINTH_RETURN_IF_ERROR(ValidatePairs(t.request_metadata, "request metadata"));
  PLINTH_RETURN_IF_ERROR(ValidatePairs(t.tags, "tag"));
  PLINTH_RETURN_IF_ERROR(ValidateTraceId(t.request_id));
  std::vector<Tag> tags = CutValues(ClientTags(t.tags));
  tags.push_back({std::string(kTraceArtifactLocationTag),
                  ArtifactPathUnder(e.artifact_location, "traces/" + t.request_id + "/artifacts")});
  auto opt = [](const std::string& v) {
    return v.empty() ? Value() : Value(CutUtf8(v, kMaxPreview));
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
        "?, ?) ON CONFLICT (request_id) DO NOTHING",
        row));
    // The owner is checked inside the transaction, after the insert, so that a trace
    // another experiment creates at the same moment is never overwritten.
    PLINTH_RETURN_IF_ERROR(CheckOwner(t.request_id, e.experiment_id));
    Value update[] = {t.timestamp_ms, row[3], t.status, row[5], row[6], row[7], t.request_id};
    PLINTH_RETURN_IF_ERROR(
        db_.Exec("UPDATE trace_info SET timestamp_ms = ?, execution_time_ms = ?, status = ?, "
                 "client_request_id = ?, request_preview = ?, response_preview = ? WHERE "
                 "request_id = ?",
                 update));
    PLINTH_RETURN_IF_ERROR(
        Upsert("trace_request_metadata", t.request_id, CutValues(t.request_metadata)));
    PLINTH_RETURN_IF_ERROR(Upsert("trace_tags", t.request_id, tags));
    // Assessments a client logged while the trace ran come with it (MLflow's start_trace
    // stores them); sent again, they are kept once.
    for (Assessment a : t.assessments) {
      a.trace_id = t.request_id;
      PLINTH_RETURN_IF_ERROR(InsertAssessment(a, now_ms > 0 ? now_ms : t.timestamp_ms, true));
    }
    return Status::Ok();
  }));
  return Get(t.request_id);
}

Status TraceTables::CheckOwner(const std::string& trace_id, const std::string& experiment_id) {
  Value k[] = {trace_id};
  PLINTH_ASSIGN_OR_RETURN(
      auto owner, db_.Query("SELECT experiment_id FROM trace_info WHERE request_id = ?", k));
  if (owner.empty() || std::to_string(owner.front().Int(0)) != experiment_id) {
    // Which experiment has it is not said: the caller may not be allowed to see it.
    return InvalidArgument("Trace ID '" + trace_id +
                           "' is already used by a trace of another experiment than " +
                           experiment_id);
  }
  return Status::Ok();
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
  Status parsed = Status::Ok();
  PLINTH_RETURN_IF_ERROR(ForEachRowIn(
      db_, "SELECT " + std::string(kAssessmentColumns) + " FROM trace_assessments WHERE trace_id",
      keys, " ORDER BY create_time_ms, assessment_id", [&](const Row& r) {
        Result<Assessment> a = AssessmentOf(r);
        if (!a.ok()) {
          parsed = a.status();
          return;
        }
        out[index[a->trace_id]].assessments.push_back(std::move(*a));
      }));
  PLINTH_RETURN_IF_ERROR(parsed);
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
    if (it->kind == EntityKind::kAttribute && it->key == "prompt") {  // = 'name/version'
      linked.sql += linked.sql.empty() ? "" : " AND ";
      linked.sql +=
          "EXISTS (SELECT 1 FROM trace_prompt_links p WHERE p.request_id = t.request_id AND "
          "p.prompt = ?)";
      linked.params.emplace_back(it->strings.at(0));
      it = comparisons.erase(it);
    } else if (it->kind == EntityKind::kAttribute && it->key == "run_id" && it->op == "=") {
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
  names.attribute_sql = AttributeSql;
  names.engine = db_.engine();
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
    if (key.kind == EntityKind::kAttribute && (key.key == "text" || key.key == "prompt")) {
      return InvalidArgument("invalid order_by clause \"" + clause +
                             "\": results cannot be ordered by " + key.key);
    }
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
  Result<Page<TraceInfo>> page =
      FetchPage<TraceInfo>(db_, std::move(sql), q.max_results, q.page_token,
                           [this](const std::vector<Row>& rows) { return Load(rows); });
  const bool regex = std::any_of(comparisons.begin(), comparisons.end(),
                                 [](const Comparison& c) { return c.op == "RLIKE"; });
  if (!page.ok() && page.status().code() == StatusCode::kInvalidArgument && regex) {
    // A pattern RE2 takes and PostgreSQL's ~ does not (their syntaxes differ): the
    // database's reason, without the connection it names.
    const std::string& m = page.status().message();
    const size_t at = m.find("invalid regular expression");
    const std::string why = at == std::string::npos
                                ? "the database refused one of its regular expressions"
                                : m.substr(at, std::min<size_t>(m.find('\n', at), at + 200) - at);
    return InvalidArgument("invalid filter \"" + Abbreviated(q.filter, 120) + "\": " + why);
  }
  return page;
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
      for (const char* table : {"trace_spans", "trace_assessments"}) {
        PLINTH_RETURN_IF_ERROR(
            db_.Exec("DELETE FROM " + std::string(table) + " WHERE trace_id = ?", k));
      }
      for (const char* table : {"trace_tags", "trace_request_metadata", "trace_run_links",
                                "trace_prompt_links", "trace_info"}) {
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

const char* TraceTables::PromptLinkSchema() {
  return R"sql(
CREATE TABLE trace_prompt_links (
  request_id TEXT NOT NULL REFERENCES trace_info (request_id) ON DELETE CASCADE,
  prompt TEXT NOT NULL,
  PRIMARY KEY (request_id, prompt));
CREATE INDEX trace_prompt_links_by_prompt ON trace_prompt_links (prompt);
-- A search's default order (newest first, then id) read straight from the index: with
-- the time alone, traces of one millisecond were sorted whole for each page (50,000 of
-- them took 21 ms a page; 0.03 ms now).
CREATE INDEX trace_info_by_experiment_time
  ON trace_info (experiment_id, timestamp_ms DESC, request_id);
DROP INDEX trace_info_by_experiment;
)sql";
}

Status TraceTables::LinkPrompts(const std::string& trace_id,
                                const std::vector<PromptVersionRef>& prompts) {
  if (prompts.size() > 1000) {
    return InvalidArgument(
        "At most 1000 prompt versions can be linked to a trace in one "
        "request, got " +
        std::to_string(prompts.size()) + ".");
  }
  std::vector<std::string> ids;
  for (const PromptVersionRef& p : prompts) {
    if (p.name.empty() || p.name.size() > kMaxAssessmentName) {
      return InvalidArgument("A prompt version's name must be 1 to " +
                             std::to_string(kMaxAssessmentName) + " characters long");
    }
    int64_t version = 0;
    auto [end, ec] =
        std::from_chars(p.version.data(), p.version.data() + p.version.size(), version);
    if (ec != std::errc() || end != p.version.data() + p.version.size() || version < 1) {
      return InvalidArgument("Invalid version '" + p.version + "' of prompt '" + p.name +
                             "': expected a positive integer");
    }
    ids.push_back(p.name + "/" + std::to_string(version));
  }
  return db_.Transaction([&]() -> Status {
    PLINTH_RETURN_IF_ERROR(Get(trace_id).status());
    for (const std::string& id : ids) {
      Value link[] = {trace_id, id};
      PLINTH_RETURN_IF_ERROR(
          db_.Exec("INSERT INTO trace_prompt_links (request_id, prompt) VALUES (?, ?) ON CONFLICT "
                   "(request_id, prompt) DO NOTHING",
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

Status TraceTables::LogSpans(const Experiment& e, const std::vector<Span>& spans) {
  if (spans.empty()) {
    return Status::Ok();
  }
  PLINTH_RETURN_IF_ERROR(ValidateSpans(spans));
  const std::string& id = spans.front().trace_id;
  int64_t min_start_ms = std::numeric_limits<int64_t>::max();
  std::optional<int64_t> max_end_ms;
  for (const Span& s : spans) {
    min_start_ms = std::min(min_start_ms, s.start_time_ns / 1000000);
    if (s.end_time_ns) {
      max_end_ms = std::max(max_end_ms.value_or(0), *s.end_time_ns / 1000000);
    }
  }
  PLINTH_RETURN_IF_ERROR(ValidateTime(min_start_ms, "start_time_unix_nano"));
  const std::optional<std::string> root_state = RootState(spans);
  // (Not a structured binding: Clang 14 cannot capture one in the lambda below.)
  const std::pair<std::string, std::string> previews = RootPreviews(spans);
  return db_.Transaction([&]() -> Status {
    Value row[] = {id, std::stoll(e.experiment_id), min_start_ms,
                   max_end_ms ? Value(*max_end_ms - std::min(min_start_ms, *max_end_ms)) : Value(),
                   root_state.value_or("IN_PROGRESS")};
    PLINTH_RETURN_IF_ERROR(
        db_.Exec("INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, "
                 "execution_time_ms, status) VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id) DO "
                 "NOTHING",
                 row));
    PLINTH_RETURN_IF_ERROR(CheckOwner(id, e.experiment_id));
    // One statement, so concurrent loggers of the same trace cannot lose a widening.
    const std::string new_start = "(CASE WHEN timestamp_ms > ? THEN ? ELSE timestamp_ms END)";
    const std::string old_end = "(timestamp_ms + COALESCE(execution_time_ms, 0))";
    std::string sql =
        "UPDATE trace_info SET timestamp_ms = " + new_start + ", execution_time_ms = ";
    std::vector<Value> params = {min_start_ms, min_start_ms};
    if (max_end_ms) {
      sql += "(CASE WHEN " + old_end + " > ? THEN " + old_end + " ELSE ? END) - " + new_start;
      params.insert(params.end(), {*max_end_ms, *max_end_ms, min_start_ms, min_start_ms});
    } else {
      sql += "CASE WHEN execution_time_ms IS NULL THEN NULL ELSE " + old_end + " - " + new_start +
             " END";
      params.insert(params.end(), {min_start_ms, min_start_ms});
    }
    if (root_state) {
      sql +=
          ", status = CASE WHEN status IN ('IN_PROGRESS', 'TRACE_STATUS_UNSPECIFIED') THEN ? "
          "ELSE status END";
      params.emplace_back(*root_state);
    }
    for (const auto& [column, text] : {std::pair{"request_preview", &previews.first},
                                       std::pair{"response_preview", &previews.second}}) {
      if (!text->empty()) {
        sql += std::string(", ") + column + " = COALESCE(" + column + ", ?)";
        params.emplace_back(*text);
      }
    }
    sql += " WHERE request_id = ?";
    params.emplace_back(id);
    PLINTH_RETURN_IF_ERROR(db_.Exec(sql, params));
    for (const Span& s : spans) {
      Value span[] = {s.trace_id,
                      s.span_id,
                      NullIfEmpty(s.parent_span_id),
                      s.name,
                      NullIfEmpty(s.type),
                      s.status,
                      s.start_time_ns,
                      s.end_time_ns ? Value(*s.end_time_ns) : Value(),
                      s.content};
      PLINTH_RETURN_IF_ERROR(db_.Exec(
          "INSERT INTO trace_spans (trace_id, span_id, parent_span_id, name, type, status, "
          "start_time_unix_nano, end_time_unix_nano, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (trace_id, span_id) DO UPDATE SET parent_span_id = "
          "excluded.parent_span_id, name = excluded.name, type = excluded.type, status = "
          "excluded.status, start_time_unix_nano = excluded.start_time_unix_nano, "
          "end_time_unix_nano = excluded.end_time_unix_nano, content = excluded.content",
          span));
    }
    std::vector<Tag> tags = {
        {std::string(kTraceSpansLocationTag), std::string(kSpansInStore)},
        {std::string(kTraceArtifactLocationTag),
         ArtifactPathUnder(e.artifact_location, "traces/" + id + "/artifacts")}};
    Value has[] = {id, std::string(kTraceArtifactLocationTag)};
    PLINTH_ASSIGN_OR_RETURN(
        auto located, db_.Query("SELECT 1 FROM trace_tags WHERE request_id = ? AND key = ?", has));
    if (!located.empty()) {
      tags.pop_back();
    }
    return Upsert("trace_tags", id, tags);
  });
}

Result<std::optional<std::vector<Span>>> TraceTables::Spans(const TraceInfo& t,
                                                            bool allow_partial) {
  auto where = std::find_if(t.tags.begin(), t.tags.end(),
                            [](const Tag& tag) { return tag.key == kTraceSpansLocationTag; });
  if (where == t.tags.end() || where->value != kSpansInStore) {
    return FailedPrecondition("Trace data of '" + t.request_id +
                              "' is not stored in the tracking store: its client wrote it to "
                              "traces.json in the trace's artifacts");
  }
  Value k[] = {t.request_id};
  PLINTH_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("SELECT span_id, parent_span_id, name, type, status, start_time_unix_nano, "
                "end_time_unix_nano, content FROM trace_spans WHERE trace_id = ?",
                k));
  std::vector<Span> spans;
  spans.reserve(rows.size());
  for (const Row& r : rows) {
    Span s;
    s.trace_id = t.request_id;
    s.span_id = r.Text(0);
    s.parent_span_id = TextOr(r, 1);
    s.name = r.Text(2);
    s.type = TextOr(r, 3);
    s.status = r.Text(4);
    s.start_time_ns = r.Int(5);
    if (!r.IsNull(6)) {
      s.end_time_ns = r.Int(6);
    }
    s.content = r.Text(7);
    spans.push_back(std::move(s));
  }
  std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    const bool ra = a.parent_span_id.empty(), rb = b.parent_span_id.empty();
    if (ra != rb) {
      return ra;
    }
    return a.start_time_ns != b.start_time_ns ? a.start_time_ns < b.start_time_ns
                                              : a.span_id < b.span_id;
  });
  if (!allow_partial) {
    for (const Tag& m : t.request_metadata) {
      if (m.key != "mlflow.trace.sizeStats") {
        continue;
      }
      Result<core::Json> stats = core::ParseJson(m.value, "size stats");
      if (stats.ok() && stats->is_object() && (*stats)["num_spans"].is_number_integer() &&
          static_cast<int64_t>(spans.size()) < (*stats)["num_spans"].get<int64_t>()) {
        return std::optional<std::vector<Span>>();
      }
    }
  }
  if (spans.empty() && !allow_partial) {
    return std::optional<std::vector<Span>>();
  }
  return std::optional<std::vector<Span>>(std::move(spans));
}

Result<Trace> TraceTables::GetTrace(const std::string& trace_id, bool allow_partial) {
  Result<TraceInfo> info = Get(trace_id);
  if (!info.ok()) {
    return NotFound("Trace with ID " + trace_id + " is not found.");
  }
  PLINTH_ASSIGN_OR_RETURN(auto spans, Spans(*info, allow_partial));
  if (!spans) {
    return NotFound("Trace with ID " + trace_id +
                    " is not fully exported yet, please try again later.");
  }
  return Trace{std::move(*info), std::move(*spans)};
}

Result<std::vector<Trace>> TraceTables::BatchGet(const std::vector<std::string>& trace_ids) {
  if (trace_ids.size() > kMaxBatchGet) {
    return InvalidArgument("At most 1000 trace_ids can be fetched in one request, got " +
                           std::to_string(trace_ids.size()));
  }
  std::vector<Trace> out;
  std::set<std::string, std::less<>> seen;
  for (const std::string& id : trace_ids) {
    if (!seen.insert(id).second) {
      continue;  // each trace once, as MLflow's IN (...) answers
    }
    Result<TraceInfo> info = Get(id);
    if (!info.ok()) {
      continue;
    }
    Result<std::optional<std::vector<Span>>> spans = Spans(*info, false);
    if (spans.ok() && *spans) {
      out.push_back({std::move(*info), std::move(**spans)});
    }
  }
  return out;
}

Result<Assessment> TraceTables::CreateAssessment(Assessment a, int64_t now_ms) {
  PLINTH_RETURN_IF_ERROR(Get(a.trace_id).status());
  PLINTH_RETURN_IF_ERROR(
      db_.Transaction([&]() -> Status { return InsertAssessment(a, now_ms, false); }));
  return a;
}

Status TraceTables::InsertAssessment(Assessment& a, int64_t now_ms, bool keep_id) {
  if (a.name.empty()) {
    return InvalidArgument("Missing value for required parameter 'assessment.assessment_name'.");
  }
  PLINTH_RETURN_IF_ERROR(ValidateLength("assessment name", kMaxAssessmentName, a.name));
  const bool word = !a.assessment_id.empty() && a.assessment_id.size() <= 64 &&
                    std::all_of(a.assessment_id.begin(), a.assessment_id.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                    });
  if (!keep_id || !word) {
    a.assessment_id = "a-" + core::NewUuidHex();
  }
  if (a.create_time_ms <= 0) {
    a.create_time_ms = now_ms;
  }
  if (a.last_update_time_ms <= 0) {
    a.last_update_time_ms = a.create_time_ms;
  }
  PLINTH_RETURN_IF_ERROR(ValidateTime(a.create_time_ms, "create_time"));
  PLINTH_RETURN_IF_ERROR(ValidateTime(a.last_update_time_ms, "last_update_time"));
  // A new assessment is valid and invalidates what it overrides; one carried in a trace
  // (a copy of a stored trace, or logged while it ran) is kept as it was sent, valid
  // flag included, in whatever order the list comes.
  if (!keep_id) {
    a.valid = true;
  }
  if (!keep_id && !a.overrides.empty()) {
    Value o[] = {a.trace_id, a.overrides};
    PLINTH_ASSIGN_OR_RETURN(auto hit, db_.Query("UPDATE trace_assessments SET valid = 0 WHERE "
                                                "trace_id = ? AND assessment_id = ? RETURNING 1",
                                                o));
    if (hit.empty()) {
      return NotFound("Assessment with ID '" + a.overrides + "' not found for trace '" +
                      a.trace_id + "'");
    }
  }
  Value row[] = {a.assessment_id,
                 a.trace_id,
                 a.name,
                 NullIfEmpty(a.span_id),
                 NullIfEmpty(a.source_type),
                 NullIfEmpty(a.source_id),
                 a.create_time_ms,
                 a.last_update_time_ms,
                 a.is_expectation ? "expectation" : "feedback",
                 NullIfEmpty(a.value_json),
                 NullIfEmpty(a.error_json),
                 NullIfEmpty(a.serialized_value_json),
                 NullIfEmpty(a.rationale),
                 a.metadata.empty() ? Value() : Value(MetadataText(a.metadata)),
                 NullIfEmpty(a.overrides),
                 int64_t{a.valid ? 1 : 0},
                 NullIfEmpty(a.run_id)};
  return db_.Exec("INSERT INTO trace_assessments (" + std::string(kAssessmentColumns) +
                      ") VALUES (" + Placeholders(17) + ") ON CONFLICT (assessment_id) DO NOTHING",
                  row);
}

Result<Assessment> TraceTables::GetAssessment(const std::string& trace_id, const std::string& id) {
  Value k[] = {trace_id, id};
  PLINTH_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT " + std::string(kAssessmentColumns) +
                                                   " FROM trace_assessments WHERE trace_id = ? "
                                                   "AND assessment_id = ?",
                                               k));
  if (rows.empty()) {
    return NotFound("Assessment with ID '" + id + "' not found for trace '" + trace_id + "'");
  }
  return AssessmentOf(rows.front());
}

Result<Assessment> TraceTables::UpdateAssessment(const std::string& trace_id, const std::string& id,
                                                 const AssessmentUpdate& u, int64_t now_ms) {
  PLINTH_ASSIGN_OR_RETURN(Assessment a, GetAssessment(trace_id, id));
  if (u.value && u.value->is_expectation != a.is_expectation) {
    return InvalidArgument(a.is_expectation
                               ? "Cannot update feedback value on an Expectation assessment."
                               : "Cannot update expectation value on a Feedback assessment.");
  }
  if (u.name) {
    if (u.name->empty()) {
      return InvalidArgument("Missing value for required parameter 'assessment.assessment_name'.");
    }
    PLINTH_RETURN_IF_ERROR(ValidateLength("assessment name", kMaxAssessmentName, *u.name));
    a.name = *u.name;
  }
  if (u.value) {
    a.value_json = u.value->value_json;
    a.error_json = u.value->error_json;
    a.serialized_value_json = u.value->serialized_value_json;
  }
  if (u.rationale && !a.is_expectation) {
    a.rationale = *u.rationale;
  }
  if (u.metadata) {
    for (const Tag& m : *u.metadata) {
      auto it = std::find_if(a.metadata.begin(), a.metadata.end(),
                             [&](const Tag& t) { return t.key == m.key; });
      if (it != a.metadata.end()) {
        it->value = m.value;
      } else {
        a.metadata.push_back(m);
      }
    }
  }
  a.last_update_time_ms = std::max(now_ms, a.create_time_ms);
  Value row[] = {a.name,
                 NullIfEmpty(a.value_json),
                 NullIfEmpty(a.error_json),
                 NullIfEmpty(a.serialized_value_json),
                 NullIfEmpty(a.rationale),
                 a.metadata.empty() ? Value() : Value(MetadataText(a.metadata)),
                 a.last_update_time_ms,
                 trace_id,
                 id};
  PLINTH_RETURN_IF_ERROR(
      db_.Exec("UPDATE trace_assessments SET name = ?, value = ?, error = ?, serialized_value = "
               "?, rationale = ?, metadata = ?, last_update_time_ms = ? WHERE trace_id = ? AND "
               "assessment_id = ?",
               row));
  return a;
}

Status TraceTables::DeleteAssessment(const std::string& trace_id, const std::string& id) {
  PLINTH_RETURN_IF_ERROR(Get(trace_id).status());
  return db_.Transaction([&]() -> Status {
    Value k[] = {trace_id, id};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_.Query("DELETE FROM trace_assessments WHERE trace_id = ? AND assessment_id "
                             "= ? RETURNING overrides",
                             k));
    if (rows.empty() || rows.front().IsNull(0)) {
      return Status::Ok();  // MLflow's delete is idempotent
    }
    Value o[] = {trace_id, rows.front().Text(0)};
    return db_.Exec(
        "UPDATE trace_assessments SET valid = 1 WHERE trace_id = ? AND assessment_id = ?", o);
  });
}

}  // namespace plinth::tracking
