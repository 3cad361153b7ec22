#include "features/historical.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "core/file.h"
#include "features/online.h"
#include "features/point_in_time.h"
#include "table/csv_writer.h"
#include "table/parquet.h"
#include "table/reader.h"

namespace plinth::features {
namespace {

using table::DataType;
using table::Field;

// Appends each on-demand feature of `features` to `t`, computed from the entities' columns and
// the stored features under their own names (as a lookup computes them, whatever the output
// names are).
Status AddOnDemand(const Definitions& defs, const std::vector<FeatureRef>& features,
                   bool full_feature_names, table::Table& t) {
  if (std::all_of(features.begin(), features.end(),
                  [](const FeatureRef& r) { return !r.group.empty(); })) {
    return Status::Ok();
  }
  std::map<std::string, std::string> bare;  // output name -> the feature's own name
  for (const FeatureRef& r : features) {
    if (!r.group.empty()) {
      bare[full_feature_names ? r.group + "__" + r.feature : r.feature] = r.feature;
    }
  }
  std::vector<Field> fields;
  std::vector<table::Column> cols;
  std::set<std::string> names;
  for (size_t c = 0; c < t.num_columns(); ++c) {
    const std::string& out = t.schema().field(c).name;
    const auto it = bare.find(out);
    const std::string name = it == bare.end() ? out : it->second;
    if (!names.insert(name).second) {
      return InvalidArgument("the entities' column '" + name + "' is also a feature requested");
    }
    fields.push_back({name, t.schema().field(c).type});
    cols.push_back(t.column(c));
  }
  const table::Table input(table::Schema(std::move(fields)), std::move(cols));
  for (const FeatureRef& r : features) {
    if (!r.group.empty()) {
      continue;
    }
    const OnDemandFeature* f = defs.FindOnDemand(r.feature);
    if (f == nullptr) {
      return NotFound("no on-demand feature '" + r.feature + "' in the feature registry");
    }
    PLINTH_ASSIGN_OR_RETURN(table::Column c, ComputeOnDemand(*f, input, "the entities"));
    if (t.ColumnByName(f->name) != nullptr) {
      return InvalidArgument("on-demand feature " + f->name +
                             ": the entities have a column of that name");
    }
    t.SetColumn({f->name, f->type}, std::move(c));
  }
  return Status::Ok();
}

}  // namespace

Result<HistoricalResult> HistoricalFeatures(
    const Definitions& defs, const std::vector<FeatureRef>& features,
    const std::function<Result<FeatureGroup>(const FeatureRef&)>& groups,
    const HistoricalOptions& options, const std::function<void(int64_t rows)>& progress) {
  PLINTH_RETURN_IF_ERROR(CheckOutputNames(features, options.full_feature_names));
  // Parquet entities are read by DuckDB as the join runs (never whole in memory); a CSV file is
  // read by Plinth's reader first.
  const bool parquet_entities = table::IsParquetPath(options.entities);
  table::CsvTable read;
  table::Schema entity_schema;
  if (parquet_entities) {
    PLINTH_ASSIGN_OR_RETURN(entity_schema, table::ReadParquetSchema(options.entities));
  } else {
    PLINTH_ASSIGN_OR_RETURN(read, table::ReadTable(options.entities));
    entity_schema = read.table.schema();
  }
  std::string ts = options.timestamp_column;
  if (ts.empty()) {
    std::vector<std::string> found;
    for (const Field& f : entity_schema.fields()) {
      if (f.type == DataType::kTimestamp) {
        found.push_back(f.name);
      }
    }
    if (found.size() != 1) {
      return InvalidArgument(options.entities + ": " +
                             (found.empty() ? std::string("no timestamp column")
                                            : std::to_string(found.size()) + " timestamp columns") +
                             "; each entity row needs the time its features are taken at (name "
                             "the column: --timestamp-column, or data.features.timestamp_column "
                             "in train.yaml)");
    }
    ts = found[0];
  }
  HistoricalResult result;
  result.timestamp_column = ts;
  JoinSpec spec{ts, {}};
  std::map<std::string, size_t> by_label;
  for (const FeatureRef& r : features) {
    if (r.group.empty()) {
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(FeatureGroup g, groups(r));
    const table::Field* f = g.Feature(r.feature);
    if (f == nullptr) {
      return NotFound("feature group " + g.Label() + " has no feature '" + r.feature + "'");
    }
    auto it = by_label.find(g.Label());
    if (it == by_label.end()) {
      AsOfSource s;
      s.name = g.Label();
      s.path = g.source.query.empty() ? g.source.path : g.Label() + " (source query)";
      s.query = g.source.query;
      s.tables = g.source.tables;
      for (const Field& k : g.join_keys) {
        s.join_keys.push_back(k.name);
      }
      s.event_timestamp = g.event_timestamp;
      s.created_timestamp = g.created_timestamp;
      s.ttl_us = g.ttl_us;
      it = by_label.emplace(g.Label(), spec.sources.size()).first;
      spec.sources.push_back(std::move(s));
      result.groups.push_back(g.Label());
    }
    AsOfSource& s = spec.sources[it->second];
    const std::string out = options.full_feature_names ? g.name + "__" + r.feature : r.feature;
    s.features.emplace_back(r.feature, out);
    s.feature_types[out] = f->type;
  }
  PLINTH_ASSIGN_OR_RETURN(table::DuckDb db,
                          table::DuckDb::Open({options.threads, options.memory_limit, ""}));
  const bool parquet = table::HasParquetName(options.out);
  std::optional<table::ParquetWriter> pq;
  std::optional<core::AtomicFileWriter> csv;
  const std::function<Status(table::Table &&)> write = [&](table::Table&& chunk) -> Status {
    PLINTH_RETURN_IF_ERROR(AddOnDemand(defs, features, options.full_feature_names, chunk));
    if (result.rows == 0 && !pq && !csv) {
      for (const Field& f : chunk.schema().fields()) {
        result.columns.push_back(f.name);
      }
      if (parquet) {
        PLINTH_ASSIGN_OR_RETURN(table::ParquetWriter w,
                                table::ParquetWriter::Open(options.out, chunk.schema()));
        pq.emplace(std::move(w));
      } else {
        PLINTH_ASSIGN_OR_RETURN(core::AtomicFileWriter w,
                                core::AtomicFileWriter::Open(options.out));
        csv.emplace(std::move(w));
      }
    }
    if (pq) {
      PLINTH_RETURN_IF_ERROR(pq->Append(chunk));
    } else {
      table::CsvWriteOptions o;
      o.header = result.rows == 0;
      PLINTH_RETURN_IF_ERROR(csv->Append(table::FormatCsv(chunk, o)));
    }
    result.rows += chunk.num_rows();
    if (progress) {
      progress(result.rows);
    }
    return Status::Ok();
  };
  PLINTH_RETURN_IF_ERROR(parquet_entities
                             ? PointInTimeJoin(db, options.entities, entity_schema, spec, write)
                             : PointInTimeJoin(db, read.table, spec, write));
  if (!pq && !csv) {
    return InvalidArgument(options.entities + ": no entity rows");
  }
  PLINTH_RETURN_IF_ERROR(pq ? pq->Commit() : csv->Commit());
  return result;
}

}  // namespace plinth::features
