#include "features/point_in_time.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <set>

#include "features/source.h"
#include "table/parquet.h"

namespace plinth::features {
namespace {

using table::DataType;
using table::Field;
using table::Schema;
using table::SqlIdentifier;
using table::Table;

constexpr const char* kRow = "__plinth_row";           // the entities' order
constexpr const char* kOrder = kSourceOrder;           // a source row's place in its input
constexpr const char* kAsOf = "__plinth_asof";         // (event time, created, place) to join on
constexpr const char* kEventUs = "__plinth_event_us";  // the event time in microseconds
// Beyond any time's microseconds (the years 1 to 9999 are within +-2.6e17).
constexpr const char* kMaxUs = "9223372036854775807::BIGINT";
constexpr const char* kMinUs = "(-9223372036854775807)::BIGINT";

// The columns a source is read with: keys, event and created timestamps, features.
std::vector<std::string> Needed(const AsOfSource& s) {
  std::vector<std::string> cols = s.join_keys;
  for (const std::string& c : {s.event_timestamp, s.created_timestamp}) {
    if (!c.empty()) {
      cols.push_back(c);
    }
  }
  for (const auto& [column, out] : s.features) {
    cols.push_back(column);
  }
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const std::string& c : cols) {
    if (seen.insert(c).second) {
      unique.push_back(c);
    }
  }
  return unique;
}

// Source `i`'s needed columns, planned in `db` (see source.h).
Result<PlannedSource> Plan(table::DuckDb& db, const AsOfSource& s, size_t i) {
  const Source source{s.path, s.query, s.tables};
  return PlanSource(db, source, s.name, Needed(s), std::to_string(i));
}

// The entities: rows Plinth holds (`table`), or a Parquet file or folder DuckDB reads itself
// (`path`), with their columns.
struct EntityInput {
  const Table* table = nullptr;
  std::string path;
  Schema schema;
};

Status Join(table::DuckDb& db, const EntityInput& in, const JoinSpec& spec,
            const std::function<Status(Table&&)>& chunk) {
  const Schema& es = in.schema;
  const std::optional<size_t> ts_at = es.IndexOf(spec.entity_timestamp);
  if (!ts_at || es.field(*ts_at).type != DataType::kTimestamp) {
    return InvalidArgument(
        "entities: expected a timestamp column '" + spec.entity_timestamp + "'" +
        (ts_at ? std::string(", it is ") + std::string(table::TypeName(es.field(*ts_at).type))
               : std::string(", there is none")));
  }
  std::set<std::string> names;
  for (const Field& f : es.fields()) {
    if (f.name.size() >= 9 && std::equal(f.name.begin(), f.name.begin() + 9, "__plinth_",
                                         [](char a, char b) { return std::tolower(a) == b; })) {
      return InvalidArgument("entities: the column name '" + f.name +
                             "' is reserved (names starting __plinth_ are Plinth's own)");
    }
    names.insert(f.name);
  }
  std::string entity_rows;    // FROM this, as e: the rows with kRow, their place
  PlannedSource entity_file;  // a Parquet file's, confined to with the sources
  if (in.table != nullptr) {
    // Only what the joins read goes into DuckDB: the sources' keys, the timestamp and each
    // row's place. The other columns come back from the table as the rows do (in order).
    std::set<std::string> used{spec.entity_timestamp};
    for (const AsOfSource& s : spec.sources) {
      used.insert(s.join_keys.begin(), s.join_keys.end());
    }
    std::vector<Field> fields;
    std::vector<table::Column> columns;
    for (size_t c = 0; c < in.table->num_columns(); ++c) {
      if (used.count(es.field(c).name) > 0) {
        fields.push_back(es.field(c));
        columns.push_back(in.table->column(c));
      }
    }
    // A name of its own, should the database serve another join (the rows stay with it until
    // it closes: a database of its own per join, as for a source query).
    static std::atomic<int64_t> joins{0};
    const std::string scan = "plinth_entities_" + std::to_string(joins.fetch_add(1));
    PLINTH_RETURN_IF_ERROR(
        db.Scan(scan, std::make_shared<const Table>(Schema(std::move(fields)), std::move(columns)),
                kRow, "entities"));
    entity_rows = scan + "()";
  } else {
    // Read by DuckDB as the rows stream through the join: never whole in memory.
    PLINTH_ASSIGN_OR_RETURN(entity_file.files, table::ParquetFiles(in.path));
    PLINTH_ASSIGN_OR_RETURN(table::ParquetQuery q, table::PlanParquetQuery(db, in.path, {}, kRow));
    if (q.schema != es) {
      return InvalidArgument(in.path + ": its columns changed while it was read");
    }
    entity_rows = "(" +
                  (q.has_place ? q.sql
                               : "SELECT *, row_number() OVER () AS " + std::string(kRow) +
                                     " FROM (" + q.sql + ")") +
                  ")";
  }
  std::string with;
  std::string select = "SELECT e." + std::string(kRow) + ", ";
  if (in.table == nullptr) {
    for (const Field& f : es.fields()) {
      select += "e." + SqlIdentifier(f.name) + ", ";
    }
  }
  std::string from = " FROM " + entity_rows + " e";
  const std::string ets = "e." + SqlIdentifier(spec.entity_timestamp);
  // Every source planned, then the database confined if a user's query is among them, then
  // the queries described (their SQL runs only confined).
  std::vector<PlannedSource> planned;
  for (size_t i = 0; i < spec.sources.size(); ++i) {
    if (spec.sources[i].join_keys.empty()) {
      return InvalidArgument("source " + spec.sources[i].name + ": no join keys");
    }
    PLINTH_ASSIGN_OR_RETURN(PlannedSource p, Plan(db, spec.sources[i], i));
    planned.push_back(std::move(p));
  }
  std::vector<PlannedSource*> all = {&entity_file};
  for (PlannedSource& p : planned) {
    all.push_back(&p);
  }
  PLINTH_RETURN_IF_ERROR(ConfineToSources(db, all));
  for (size_t i = 0; i < spec.sources.size(); ++i) {
    const AsOfSource& s = spec.sources[i];
    PLINTH_RETURN_IF_ERROR(DescribeSource(db, planned[i]));
    const std::string source_sql = OrderedSql(planned[i]);
    const Schema& ss = planned[i].schema;
    for (const std::string& k : s.join_keys) {
      const std::optional<size_t> in_e = es.IndexOf(k);
      if (!in_e) {
        return InvalidArgument("source " + s.name + ": the entities have no key column '" + k +
                               "'");
      }
      const DataType st = ss.field(*ss.IndexOf(k)).type;
      if (st != es.field(*in_e).type) {
        return InvalidArgument("source " + s.name + ": key '" + k + "' is " +
                               std::string(table::TypeName(st)) + " in " + s.path +
                               ", the entities' is " +
                               std::string(table::TypeName(es.field(*in_e).type)));
      }
    }
    for (const std::string& t : {s.event_timestamp, s.created_timestamp}) {
      if (!t.empty() && ss.field(*ss.IndexOf(t)).type != DataType::kTimestamp) {
        return InvalidArgument("source " + s.name + ": '" + t + "' in " + s.path +
                               " is not a timestamp column");
      }
    }
    const std::string alias = "s" + std::to_string(i);
    std::string keys;
    std::string on;
    for (const std::string& k : s.join_keys) {
      keys += (keys.empty() ? "" : ", ") + SqlIdentifier(k);
      on += (on.empty() ? "" : " AND ") + std::string("e.") + SqlIdentifier(k) + " = " + alias +
            "." + SqlIdentifier(k);
    }
    // Among rows of one key and event time, the latest created wins, else the one read last.
    const std::string ev = s.event_timestamp.empty() ? "" : SqlIdentifier(s.event_timestamp);
    const std::string created =
        s.created_timestamp.empty() ? "" : SqlIdentifier(s.created_timestamp);
    if (ev.empty()) {
      // A dimension: one row per key, picked before the join.
      std::string order = created.empty() ? "" : created + " DESC NULLS LAST, ";
      order += std::string(kOrder) + " DESC";
      with += std::string(with.empty() ? "WITH " : ", ") + alias + " AS (SELECT * FROM (" +
              source_sql + ") QUALIFY row_number() OVER (PARTITION BY " + keys + " ORDER BY " +
              order + ") = 1)";
      from += " LEFT JOIN " + alias + " ON " + on;
    } else {
      // The ASOF join orders the source by (event time, created, place read) and takes, per
      // entity row, the greatest at or before (its time, +inf, +inf): the tie-break is part of
      // the join's own sort instead of a window over the whole source before it, which kept
      // every row in memory (DuckDB's window operator ran out of a 4 GB limit on 50M rows
      // where the join alone stays within it, 2026-12-07). A null created time orders first.
      // Times compare as microseconds since the epoch (epoch_us: the same for a TIMESTAMP and
      // for a TIMESTAMP WITH TIME ZONE read as UTC, without a calendar per row).
      const std::string made =
          created.empty() ? "" : "coalesce(epoch_us(" + created + "), " + kMinUs + "), ";
      const std::string made_e = created.empty() ? "" : std::string(kMaxUs) + ", ";
      with += std::string(with.empty() ? "WITH " : ", ") + alias + " AS (SELECT *, epoch_us(" + ev +
              ") AS " + kEventUs + ", row(epoch_us(" + ev + "), " + made + kOrder + ") AS " +
              kAsOf + " FROM (" + source_sql + ") WHERE " + ev + " IS NOT NULL)";
      from += " ASOF LEFT JOIN " + alias + " ON " + on + " AND (CASE WHEN " + ets +
              " IS NULL THEN NULL ELSE row(epoch_us(" + ets + "), " + made_e + kMaxUs +
              ") END) >= " + alias + "." + kAsOf;
    }
    for (const auto& [column, out] : s.features) {
      if (!names.insert(out).second) {
        return InvalidArgument("source " + s.name + ": the output column '" + out +
                               "' is already taken");
      }
      std::string value = alias + "." + SqlIdentifier(column);
      const auto want = s.feature_types.find(out);
      const DataType got = ss.field(*ss.IndexOf(column)).type;
      if (want != s.feature_types.end() && want->second != got) {
        if (want->second != DataType::kFloat64 || got != DataType::kInt64) {
          return InvalidArgument("source " + s.name + ": column '" + column + "' is " +
                                 std::string(table::TypeName(got)) + " in " + s.path +
                                 ", defined as " + std::string(table::TypeName(want->second)));
        }
        value = "CAST(" + value + " AS DOUBLE)";  // an int64 column feeding a float64 feature
      }
      if (s.ttl_us && !ev.empty()) {
        // entity time - event time <= ttl: both within the years 1 to 9999, no overflow.
        select += "CASE WHEN epoch_us(" + ets + ") - " + alias + "." + kEventUs +
                  " <= " + std::to_string(*s.ttl_us) + " THEN " + value + " END AS " +
                  SqlIdentifier(out) + ", ";
      } else {
        select += value + " AS " + SqlIdentifier(out) + ", ";
      }
    }
  }
  select.resize(select.size() - 2);
  // Each piece of the answer is the next rows of the entities (in order, one each: the joins
  // are LEFT joins and a dimension has one row per key): with rows Plinth holds, their columns
  // put back in front; with a file's, as DuckDB read them.
  int64_t next = 0;
  PLINTH_RETURN_IF_ERROR(
      db.Query(with + " " + select + from + " ORDER BY e." + kRow, {}, "point-in-time join",
               [&](Table&& t) -> Status {
                 std::vector<Field> out_fields;
                 std::vector<table::Column> out;
                 if (in.table != nullptr) {
                   const table::Column& place = t.column(0);
                   for (int64_t i = 0; i < t.num_rows(); ++i) {
                     if (place.IsNull(i) || place.ints()[static_cast<size_t>(i)] != next + i) {
                       return Internal("point-in-time join: entity rows came back out of order");
                     }
                   }
                   out_fields = es.fields();
                   for (size_t c = 0; c < in.table->num_columns(); ++c) {
                     table::Column piece(es.field(c).type);
                     piece.AppendRange(in.table->column(c), next, t.num_rows());
                     out.push_back(std::move(piece));
                   }
                 }
                 next += t.num_rows();
                 const Schema got = t.schema();
                 std::vector<table::Column> joined = std::move(t).TakeColumns();
                 for (size_t c = 1; c < joined.size(); ++c) {
                   out_fields.push_back(got.field(c));
                   out.push_back(std::move(joined[c]));
                 }
                 return chunk(Table(Schema(std::move(out_fields)), std::move(out)));
               }));
  if (in.table != nullptr && next != in.table->num_rows()) {
    return Internal("point-in-time join: " + std::to_string(next) + " rows came back of " +
                    std::to_string(in.table->num_rows()));
  }
  return Status::Ok();
}

}  // namespace

Status PointInTimeJoin(table::DuckDb& db, const Table& entities, const JoinSpec& spec,
                       const std::function<Status(Table&&)>& chunk) {
  return Join(db, EntityInput{&entities, "", entities.schema()}, spec, chunk);
}

Status PointInTimeJoin(table::DuckDb& db, const std::string& entities_parquet,
                       const table::Schema& schema, const JoinSpec& spec,
                       const std::function<Status(Table&&)>& chunk) {
  return Join(db, EntityInput{nullptr, entities_parquet, schema}, spec, chunk);
}

Result<Table> PointInTimeJoin(table::DuckDb& db, const Table& entities, const JoinSpec& spec) {
  Table all;
  bool first = true;
  PLINTH_RETURN_IF_ERROR(PointInTimeJoin(db, entities, spec, [&](Table&& t) {
    if (first) {
      all = std::move(t);
      first = false;
      return Status::Ok();
    }
    return all.Append(t);
  }));
  return all;
}

}  // namespace plinth::features
