#include "features/online.h"

#include <cmath>
#include <future>
#include <map>
#include <set>

#include "core/json.h"
#include "table/duckdb.h"
#include "table/value_parse.h"

namespace plinth::features {
namespace {

using core::Json;
using table::Column;
using table::DataType;
using table::Field;
using table::SqlIdentifier;

constexpr size_t kMaxEntities = 100000;  // rows one request may look up
constexpr size_t kMaxJsonValues = 2000000;
// Rows per OnlineStore::Write during materialization (a few megabytes).
constexpr size_t kWriteBatch = 50000;

std::string Iso(int64_t us) {
  std::string s = table::FormatTimestamp(us, false);
  s[10] = 'T';
  return s + "Z";
}

}  // namespace

std::string OnlineTable(const FeatureGroup& g) { return g.name + "@" + std::to_string(g.version); }

Result<std::vector<Materialized>> Materialize(
    const Definitions& defs, OnlineStore& store, const MaterializeOptions& options,
    const std::function<void(const std::string& group, int64_t rows)>& progress) {
  for (const std::string& name : options.groups) {
    if (defs.FindGroup(name) == nullptr) {
      return NotFound("no feature group '" + name + "' in the feature registry");
    }
  }
  std::vector<Materialized> done;
  for (const FeatureGroup& g : defs.groups) {
    if (!options.groups.empty() &&
        std::find(options.groups.begin(), options.groups.end(), g.name) == options.groups.end()) {
      continue;
    }
    const std::string table = OnlineTable(g);
    Materialized m{table, options.start_us, options.end_us, 0};
    if (options.incremental) {
      PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> mark, store.Watermark(table));
      m.start_us = mark       ? mark
                   : g.ttl_us ? std::optional<int64_t>(options.end_us - *g.ttl_us)
                              : std::nullopt;
    }
    if (m.start_us && *m.start_us > m.end_us) {
      return InvalidArgument("materialize " + table + ": the window starts (" + Iso(*m.start_us) +
                             ") after it ends (" + Iso(m.end_us) + ")");
    }
    PLINTH_ASSIGN_OR_RETURN(table::DuckDb db, table::DuckDb::Open());
    std::vector<std::string> cols;
    for (const Field& k : g.join_keys) {
      cols.push_back(k.name);
    }
    for (const std::string& t : {g.event_timestamp, g.created_timestamp}) {
      if (!t.empty()) {
        cols.push_back(t);
      }
    }
    for (const Field& f : g.features) {
      cols.push_back(f.name);
    }
    PLINTH_ASSIGN_OR_RETURN(PlannedSource planned, PlanSource(db, g.source, g.name, cols, "0"));
    PLINTH_RETURN_IF_ERROR(ConfineToSources(db, {&planned}));
    PLINTH_RETURN_IF_ERROR(DescribeSource(db, planned));
    const table::Schema& ss = planned.schema;
    const auto type_of = [&](const std::string& c) { return ss.field(*ss.IndexOf(c)).type; };
    // The output: keys, features (as defined), event and created times.
    std::string select;
    std::string keys;
    std::string where;
    for (const Field& k : g.join_keys) {
      if (type_of(k.name) != k.type) {
        return InvalidArgument("feature group " + g.name + ": key '" + k.name + "' is " +
                               std::string(table::TypeName(type_of(k.name))) + " in its source, " +
                               "defined as " + std::string(table::TypeName(k.type)));
      }
      select += SqlIdentifier(k.name) + ", ";
      keys += (keys.empty() ? "" : ", ") + SqlIdentifier(k.name);
      where += (where.empty() ? " WHERE " : " AND ") + SqlIdentifier(k.name) + " IS NOT NULL";
    }
    for (const Field& f : g.features) {
      const DataType got = type_of(f.name);
      if (got == f.type) {
        select += SqlIdentifier(f.name) + ", ";
      } else if (got == DataType::kInt64 && f.type == DataType::kFloat64) {
        select += "CAST(" + SqlIdentifier(f.name) + " AS DOUBLE), ";
      } else {
        return InvalidArgument("feature group " + g.name + ": column '" + f.name + "' is " +
                               std::string(table::TypeName(got)) + " in its source, defined as " +
                               std::string(table::TypeName(f.type)));
      }
    }
    const std::string ev = g.event_timestamp.empty()
                               ? ""
                               : "CAST(" + SqlIdentifier(g.event_timestamp) + " AS TIMESTAMP)";
    const std::string created =
        g.created_timestamp.empty()
            ? ""
            : "CAST(" + SqlIdentifier(g.created_timestamp) + " AS TIMESTAMP)";
    for (const std::string& t : {g.event_timestamp, g.created_timestamp}) {
      if (!t.empty() && type_of(t) != DataType::kTimestamp) {
        return InvalidArgument("feature group " + g.name + ": '" + t +
                               "' is not a timestamp column in its source");
      }
    }
    select += (ev.empty() ? "CAST(NULL AS TIMESTAMP)" : ev) + " AS __plinth_event, " +
              (created.empty() ? "CAST(NULL AS TIMESTAMP)" : created) + " AS __plinth_created";
    // The window as literals: a source query's own $1 is then an error, never Plinth's value.
    if (!ev.empty()) {
      where += (where.empty() ? " WHERE " : " AND ") + ev + " <= make_timestamp(CAST(" +
               std::to_string(options.end_us) + " AS BIGINT))";
      if (m.start_us) {
        where += " AND " + ev + " >= make_timestamp(CAST(" + std::to_string(*m.start_us) +
                 " AS BIGINT))";
      }
    }
    std::string order = ev.empty() ? "" : ev + " DESC, ";
    if (!created.empty()) {
      order += created + " DESC NULLS LAST, ";
    }
    order += std::string(kSourceOrder) + " DESC";
    const std::string sql = "SELECT " + select + " FROM (" + OrderedSql(planned) + ")" + where +
                            " QUALIFY row_number() OVER (PARTITION BY " + keys + " ORDER BY " +
                            order + ") = 1" + (store.WantsKeyOrder() ? " ORDER BY " + keys : "");
    const size_t nkeys = g.join_keys.size();
    const size_t nfeatures = g.features.size();
    // Rows go to the store in batches far larger than DuckDB's chunks (a transaction in
    // SQLite, a pipeline in Redis), each written on a thread of its own while the next is read;
    // one write at a time. (Returning early, the future's destructor waits for the write under
    // way; nothing else is written.)
    std::vector<OnlineRow> pending;
    std::future<Status> writing;
    int64_t handed = 0;  // rows of the write under way
    const auto wait = [&]() -> Status {
      if (!writing.valid()) {
        return Status::Ok();
      }
      PLINTH_RETURN_IF_ERROR(writing.get());
      m.rows += handed;
      if (progress) {
        progress(table, m.rows);
      }
      return Status::Ok();
    };
    const auto flush = [&]() -> Status {
      PLINTH_RETURN_IF_ERROR(wait());
      if (pending.empty()) {
        return Status::Ok();
      }
      handed = static_cast<int64_t>(pending.size());
      writing = std::async(std::launch::async, [&store, &table, rows = std::move(pending)] {
        return store.Write(table, rows);
      });
      pending = {};
      return Status::Ok();
    };
    PLINTH_RETURN_IF_ERROR(db.Query(sql, {}, "materialize " + table, [&](table::Table&& t) {
      std::vector<const Column*> key_cols;
      std::vector<const Column*> feature_cols;
      for (size_t c = 0; c < nkeys; ++c) {
        key_cols.push_back(&t.column(c));
      }
      for (size_t c = 0; c < nfeatures; ++c) {
        feature_cols.push_back(&t.column(nkeys + c));
      }
      const Column& event = t.column(nkeys + nfeatures);
      const Column& made = t.column(nkeys + nfeatures + 1);
      for (int64_t r = 0; r < t.num_rows(); ++r) {
        std::optional<std::string> key = EncodeKey(key_cols, r);
        if (!key) {
          continue;
        }
        const int64_t e = event.IsNull(r) ? 0 : event.ints()[r];
        const int64_t c = made.IsNull(r) ? kNoCreated : made.ints()[r];
        pending.push_back({std::move(*key), EncodeValues(feature_cols, r, e, c), e, c});
      }
      return pending.size() >= kWriteBatch ? flush() : Status::Ok();
    }));
    PLINTH_RETURN_IF_ERROR(flush());
    PLINTH_RETURN_IF_ERROR(wait());
    // The watermark says everything up to it is loaded: it moves only forward, and only when
    // this window joins what was loaded (a window starting later would leave a gap that
    // materialize-incremental would never fill).
    PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> mark, store.Watermark(table));
    const bool joins = !mark || !m.start_us || *m.start_us <= *mark || g.event_timestamp.empty();
    if (joins && (!mark || options.end_us > *mark)) {
      PLINTH_RETURN_IF_ERROR(store.SetWatermark(table, options.end_us));
    }
    done.push_back(m);
  }
  return done;
}

Result<std::vector<FeatureRef>> ResolveFeatures(const Definitions& defs, const std::string& service,
                                                const std::vector<std::string>& refs) {
  std::vector<FeatureRef> out;
  if (!service.empty()) {
    const FeatureService* s = defs.FindService(service);
    if (s == nullptr) {
      return NotFound("no feature service '" + service + "' in the feature registry");
    }
    return s->features;
  }
  if (refs.empty()) {
    return InvalidArgument("no features named: give a feature service or group:feature names");
  }
  std::set<std::string> seen;
  for (const std::string& text : refs) {
    PLINTH_ASSIGN_OR_RETURN(FeatureRef r, ParseFeatureRef(text));
    if (r.group.empty()) {
      if (defs.FindOnDemand(r.feature) == nullptr) {
        return NotFound("no on-demand feature '" + r.feature +
                        "' (name a group's feature as "
                        "group:feature)");
      }
    } else {
      const FeatureGroup* g = defs.FindGroup(r.group);
      if (g == nullptr) {
        return NotFound("no feature group '" + r.group + "' in the feature registry");
      }
      if (r.version == 0) {
        r.version = g->version;
      }
      if (r.version == g->version && g->Feature(r.feature) == nullptr) {
        return NotFound("feature group " + g->Label() + " has no feature '" + r.feature + "'");
      }
    }
    if (!seen.insert(r.Text()).second) {
      return InvalidArgument("feature '" + text + "' named twice");
    }
    out.push_back(r);
  }
  return out;
}

Status CheckOutputNames(const std::vector<FeatureRef>& features, bool full_feature_names) {
  std::map<std::string, std::string> names;  // output name -> the ref that took it
  for (const FeatureRef& r : features) {
    const std::string name =
        full_feature_names && !r.group.empty() ? r.group + "__" + r.feature : r.feature;
    auto [it, fresh] = names.emplace(name, r.Text());
    if (!fresh) {
      return InvalidArgument(
          "features " + it->second + " and " + r.Text() + " would both be named '" + name + "'" +
          (full_feature_names ? std::string() : std::string(" (ask for full feature names)")));
    }
  }
  return Status::Ok();
}

std::string_view FeatureStatusName(FeatureStatus s) {
  switch (s) {
    case FeatureStatus::kPresent:
      return "PRESENT";
    case FeatureStatus::kNotFound:
      return "NOT_FOUND";
    case FeatureStatus::kNullValue:
      return "NULL_VALUE";
    case FeatureStatus::kOutsideMaxAge:
      return "OUTSIDE_MAX_AGE";
  }
  return "?";
}

Result<OnlineAnswer> LookupOnline(
    const Definitions& defs, const std::function<Result<FeatureGroup>(const FeatureRef&)>& groups,
    OnlineStore& store, const OnlineQuery& query, int64_t now_us) {
  PLINTH_RETURN_IF_ERROR(CheckOutputNames(query.features, query.full_feature_names));
  const table::Table& ent = query.entities;
  const int64_t n = ent.num_rows();
  // The groups the features come from, in order of first mention, each with its keys.
  struct Wanted {
    FeatureGroup group;
    std::vector<std::string> keys;  // encoded, one per entity ("" for a null key)
    std::vector<bool> has_key;
    size_t first = 0;  // its first key in the lookup
  };
  std::vector<Wanted> wanted;
  std::map<std::string, size_t> by_label;
  std::set<std::string> join_keys;
  for (const FeatureRef& r : query.features) {
    if (r.group.empty()) {
      continue;
    }
    const std::string label = r.group + "@" + std::to_string(r.version);
    if (by_label.count(label) != 0) {
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(FeatureGroup g, groups(r));
    Wanted w{std::move(g), {}, {}, 0};
    std::vector<const Column*> cols;
    for (const Field& k : w.group.join_keys) {
      const Column* c = ent.ColumnByName(k.name);
      if (c == nullptr) {
        return InvalidArgument("entities: no values for '" + k.name + "', the join key of " +
                               w.group.Label());
      }
      if (c->type() != k.type) {
        return InvalidArgument("entities: '" + k.name + "' is " +
                               std::string(table::TypeName(c->type())) + ", the join key of " +
                               w.group.Label() + " is " + std::string(table::TypeName(k.type)));
      }
      cols.push_back(c);
      join_keys.insert(k.name);
    }
    for (int64_t i = 0; i < n; ++i) {
      std::optional<std::string> key = EncodeKey(cols, i);
      w.has_key.push_back(key.has_value());
      w.keys.push_back(key ? std::move(*key) : std::string());
    }
    by_label[label] = wanted.size();
    wanted.push_back(std::move(w));
  }
  // Every key of every group, one call.
  std::vector<std::string> tables;
  tables.reserve(wanted.size());
  for (const Wanted& w : wanted) {
    tables.push_back(OnlineTable(w.group));
  }
  std::vector<std::pair<std::string_view, std::string_view>> lookups;
  for (size_t wi = 0; wi < wanted.size(); ++wi) {
    wanted[wi].first = lookups.size();
    for (int64_t i = 0; i < n; ++i) {
      if (wanted[wi].has_key[i]) {
        lookups.emplace_back(tables[wi], wanted[wi].keys[i]);
      }
    }
  }
  std::vector<std::optional<std::string>> found;
  PLINTH_RETURN_IF_ERROR(store.Get(lookups, &found));
  // Each group's rows decoded into its features' columns.
  struct Decoded {
    std::vector<Column> columns;
    std::vector<int64_t> event;
    std::vector<bool> hit;
  };
  std::vector<Decoded> decoded(wanted.size());
  for (size_t wi = 0; wi < wanted.size(); ++wi) {
    const FeatureGroup& g = wanted[wi].group;
    Decoded& d = decoded[wi];
    for (const Field& f : g.features) {
      d.columns.emplace_back(f.type);
    }
    std::vector<Column*> out;
    for (Column& c : d.columns) {
      out.push_back(&c);
    }
    size_t at = wanted[wi].first;
    const std::optional<std::string> none;
    for (int64_t i = 0; i < n; ++i) {
      const std::optional<std::string>& v = wanted[wi].has_key[i] ? found[at++] : none;
      int64_t event = 0;
      PLINTH_RETURN_IF_ERROR(DecodeValues(v, out, &event, OnlineTable(g)));
      d.event.push_back(event);
      d.hit.push_back(v.has_value());
    }
  }
  OnlineAnswer a;
  // The join keys first, in the request's order.
  for (size_t c = 0; c < ent.num_columns(); ++c) {
    const std::string& name = ent.schema().field(c).name;
    if (join_keys.count(name) != 0) {
      a.names.push_back(name);
      a.values.push_back(ent.column(c));
      a.statuses.emplace_back(static_cast<size_t>(n), FeatureStatus::kPresent);
      a.event_us.emplace_back(static_cast<size_t>(n), 0);
    }
  }
  // Stored features, and the table on-demand features are computed over.
  std::vector<Field> od_fields = ent.schema().fields();
  std::vector<Column> od_cols;
  for (size_t c = 0; c < ent.num_columns(); ++c) {
    od_cols.push_back(ent.column(c));
  }
  for (const FeatureRef& r : query.features) {
    if (r.group.empty()) {
      continue;
    }
    const size_t wi = by_label[r.group + "@" + std::to_string(r.version)];
    const FeatureGroup& g = wanted[wi].group;
    const Decoded& d = decoded[wi];
    size_t fi = 0;
    while (fi < g.features.size() && g.features[fi].name != r.feature) {
      ++fi;
    }
    if (fi == g.features.size()) {
      return NotFound("feature group " + g.Label() + " has no feature '" + r.feature + "'");
    }
    Column values(g.features[fi].type);
    std::vector<FeatureStatus> statuses;
    std::vector<int64_t> events;
    for (int64_t i = 0; i < n; ++i) {
      FeatureStatus s = FeatureStatus::kPresent;
      if (!d.hit[i]) {
        s = FeatureStatus::kNotFound;
      } else if (g.ttl_us && now_us - d.event[i] > *g.ttl_us) {
        s = FeatureStatus::kOutsideMaxAge;
      } else if (d.columns[fi].IsNull(i) || (d.columns[fi].type() == DataType::kFloat64 &&
                                             !std::isfinite(d.columns[fi].doubles()[i]))) {
        s = FeatureStatus::kNullValue;  // (JSON has no NaN or infinity)
      }
      if (s == FeatureStatus::kPresent) {
        values.AppendFrom(d.columns[fi], i);
      } else {
        values.AppendNull();
      }
      statuses.push_back(s);
      events.push_back(d.hit[i] ? d.event[i] : 0);
    }
    const std::string name = query.full_feature_names ? g.name + "__" + r.feature : r.feature;
    a.names.push_back(name);
    // On-demand features read stored features by their own names; a request value of the same
    // name would stand in for one.
    if (std::any_of(od_fields.begin(), od_fields.end(),
                    [&](const Field& f) { return f.name == r.feature; })) {
      if (ent.ColumnByName(r.feature) != nullptr) {
        return InvalidArgument("entities: '" + r.feature + "' is also a feature requested (" +
                               r.Text() + ")");
      }
    } else {
      od_fields.push_back({r.feature, values.type()});
      od_cols.push_back(values);
    }
    a.values.push_back(std::move(values));
    a.statuses.push_back(std::move(statuses));
    a.event_us.push_back(std::move(events));
  }
  // On-demand features over the request's values and the looked-up ones.
  const table::Table od_input(table::Schema(od_fields), std::move(od_cols));
  for (const FeatureRef& r : query.features) {
    if (!r.group.empty()) {
      continue;
    }
    const OnDemandFeature* f = defs.FindOnDemand(r.feature);
    if (f == nullptr) {
      return NotFound("no on-demand feature '" + r.feature + "' in the feature registry");
    }
    PLINTH_ASSIGN_OR_RETURN(Column values, ComputeOnDemand(*f, od_input, "the request"));
    std::vector<FeatureStatus> statuses;
    for (int64_t i = 0; i < n; ++i) {
      statuses.push_back(values.IsNull(i) ? FeatureStatus::kNullValue : FeatureStatus::kPresent);
    }
    a.names.push_back(f->name);
    a.values.push_back(std::move(values));
    a.statuses.push_back(std::move(statuses));
    a.event_us.emplace_back(static_cast<size_t>(n), 0);
  }
  return a;
}

std::map<std::string, DataType> RequestColumnTypes(const Definitions& defs) {
  std::map<std::string, DataType> types;
  for (const Entity& e : defs.entities) {
    for (const Field& k : e.join_keys) {
      types.emplace(k.name, k.type);
    }
  }
  for (const OnDemandFeature& f : defs.on_demand) {
    for (const Field& k : f.request) {
      types.emplace(k.name, k.type);
    }
  }
  return types;
}

namespace {

// A JSON value as a column value of `type`, or an error naming `where`.
Status AppendJson(const Json& v, DataType type, Column& out, const std::string& where) {
  if (v.is_null()) {
    out.AppendNull();
    return Status::Ok();
  }
  switch (type) {
    case DataType::kInt64:
      if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
          break;
        }
        out.AppendInt(v.get<int64_t>());
        return Status::Ok();
      }
      break;
    case DataType::kFloat64:
      if (v.is_number()) {
        out.AppendDouble(v.get<double>());
        return Status::Ok();
      }
      break;
    case DataType::kBool:
      if (v.is_boolean()) {
        out.AppendBool(v.get<bool>());
        return Status::Ok();
      }
      break;
    case DataType::kString:
      if (v.is_string()) {
        out.AppendString(v.get_ref<const std::string&>());
        return Status::Ok();
      }
      break;
    case DataType::kTimestamp: {
      int64_t us = 0;
      if (v.is_string() && table::ParseTimestamp(v.get_ref<const std::string&>(), us)) {
        out.AppendInt(us);
        return Status::Ok();
      }
      break;
    }
  }
  return InvalidArgument(where + ": expected " + std::string(table::TypeName(type)) +
                         " values, got " + core::JsonPreview(v, 40));
}

}  // namespace

namespace {

Result<FeastRequest> ParseRequest(std::string_view body, const Definitions& defs) {
  PLINTH_ASSIGN_OR_RETURN(Json j, core::ParseJson(body, "request body", 8, kMaxJsonValues));
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields r, core::JsonFields::Of(j, "request body"));
  FeastRequest req;
  PLINTH_ASSIGN_OR_RETURN(req.service, r.String("feature_service", ""));
  PLINTH_ASSIGN_OR_RETURN(const Json* features, r.Items("features"));
  for (const Json& f : *features) {
    if (!f.is_string()) {
      return InvalidArgument(
          "request body: key 'features': expected names such as "
          "\"weather:temp\", got " +
          core::JsonPreview(f, 40));
    }
    req.features.push_back(f.get<std::string>());
  }
  if (req.service.empty() && req.features.empty()) {
    return InvalidArgument("request body: expected 'features' or 'feature_service'");
  }
  PLINTH_ASSIGN_OR_RETURN(req.query.full_feature_names, r.Bool("full_feature_names", false));
  PLINTH_ASSIGN_OR_RETURN(const Json* entities, r.Object("entities"));
  const std::map<std::string, DataType> types = RequestColumnTypes(defs);
  std::vector<Field> fields;
  std::vector<Column> cols;
  size_t rows = 0;
  for (const auto& [name, values] : entities->items()) {
    const std::string where = "request body: entities: '" + name.substr(0, 200) + "'";
    auto t = types.find(name);
    if (t == types.end()) {
      return InvalidArgument(where +
                             ": not a join key of any entity, nor a request value of an "
                             "on-demand feature");
    }
    if (!values.is_array()) {
      return InvalidArgument(where + ": expected a list of values");
    }
    if (values.size() > kMaxEntities) {
      return InvalidArgument(where + ": more than " + std::to_string(kMaxEntities) + " values");
    }
    if (!fields.empty() && values.size() != rows) {
      return InvalidArgument(where + ": " + std::to_string(values.size()) + " values, '" +
                             fields[0].name + "' has " + std::to_string(rows));
    }
    rows = values.size();
    Column c(t->second);
    for (const Json& v : values) {
      PLINTH_RETURN_IF_ERROR(AppendJson(v, t->second, c, where));
    }
    fields.push_back({name, t->second});
    cols.push_back(std::move(c));
  }
  if (fields.empty()) {
    return InvalidArgument("request body: key 'entities': expected at least one join key");
  }
  req.query.entities = table::Table(table::Schema(std::move(fields)), std::move(cols));
  PLINTH_ASSIGN_OR_RETURN(req.query.features, ResolveFeatures(defs, req.service, req.features));
  return req;
}

}  // namespace

Result<FeastRequest> ParseFeastRequest(std::string_view body, const Definitions& defs) {
  Result<FeastRequest> r = ParseRequest(body, defs);
  if (!r.ok()) {
    return OneLine(r.status());  // names quoted from the body may hold line feeds
  }
  return r;
}

std::string FeastResponseJson(const OnlineAnswer& a) {
  std::string out = "{\"metadata\":{\"feature_names\":[";
  for (size_t i = 0; i < a.names.size(); ++i) {
    out += i == 0 ? "" : ",";
    core::AppendJsonString(&out, a.names[i]);
  }
  out += "]},\"results\":[";
  for (size_t f = 0; f < a.values.size(); ++f) {
    const Column& c = a.values[f];
    out += f == 0 ? "{\"values\":[" : ",{\"values\":[";
    for (int64_t i = 0; i < c.size(); ++i) {
      out += i == 0 ? "" : ",";
      if (c.IsNull(i)) {
        out += "null";
        continue;
      }
      switch (c.type()) {
        case DataType::kInt64:
          out += std::to_string(c.ints()[i]);
          break;
        case DataType::kFloat64:
          core::AppendJsonDouble(&out, c.doubles()[i]);
          break;
        case DataType::kBool:
          out += c.bools()[i] != 0 ? "true" : "false";
          break;
        case DataType::kString:
          core::AppendJsonString(&out, c.GetString(i));
          break;
        case DataType::kTimestamp:
          core::AppendJsonString(&out, Iso(c.ints()[i]));
          break;
      }
    }
    out += "],\"statuses\":[";
    for (size_t i = 0; i < a.statuses[f].size(); ++i) {
      out += i == 0 ? "\"" : ",\"";
      out += FeatureStatusName(a.statuses[f][i]);
      out += "\"";
    }
    out += "],\"event_timestamps\":[";
    for (size_t i = 0; i < a.event_us[f].size(); ++i) {
      out += i == 0 ? "\"" : ",\"";
      out += Iso(a.event_us[f][i]);
      out += "\"";
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace plinth::features
