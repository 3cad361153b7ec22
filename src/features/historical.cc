#include "features/historical.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "core/file.h"
#include "features/online.h"
#include "features/point_in_time.h"
#include "table/csv_reader.h"
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

// The rows of a CSV entity file too large to hold, written as they are read into `dir` as
// Parquet files of at most kRows rows each, named in their order.
class EntitySpool : public table::ChunkConsumer {
 public:
  static constexpr int64_t kRows = 1 << 20;

  EntitySpool(std::string source, std::string dir)
      : source_(std::move(source)), dir_(std::move(dir)) {}

  // Again after the reader restarts (a column's type widened): what was written goes.
  Status Begin(const table::Schema& schema, int64_t /*expected_rows*/) override {
    std::set<std::string> seen;
    for (const Field& f : schema.fields()) {
      std::string lower = f.name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (!seen.insert(lower).second) {
        return InvalidArgument(source_ + ": two columns named '" + f.name +
                               "' but for case; an entity file this large is joined through "
                               "Parquet, which does not tell them apart");
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
      return IoError(dir_ + ": " + ec.message());
    }
    schema_ = schema;
    pending_ = Empty();
    files_ = 0;
    return Status::Ok();
  }

  Status Consume(table::Table chunk) override {
    PLINTH_RETURN_IF_ERROR(pending_.Append(chunk));
    return pending_.num_rows() >= kRows ? Flush() : Status::Ok();
  }

  // Writes what is pending (a file without rows when there were none: the columns still).
  Status Finish() { return pending_.num_rows() > 0 || files_ == 0 ? Flush() : Status::Ok(); }

  const table::Schema& schema() const { return schema_; }

 private:
  table::Table Empty() const {
    std::vector<table::Column> cols;
    for (const Field& f : schema_.fields()) {
      cols.emplace_back(f.type);
    }
    return table::Table(schema_, std::move(cols));
  }

  Status Flush() {
    char name[32];
    std::snprintf(name, sizeof(name), "part-%08d.parquet", files_++);
    PLINTH_RETURN_IF_ERROR(table::WriteParquet(pending_, dir_ + "/" + name));
    pending_ = Empty();
    return Status::Ok();
  }

  std::string source_;
  std::string dir_;
  table::Schema schema_;
  table::Table pending_;
  int files_ = 0;
};

// Whether the CSV file at `path` is larger than `hold` bytes of text (a .gz one estimated at
// 8 times its size). A size that cannot be read: not (the reader names the problem).
bool LargerThan(const std::string& path, int64_t hold) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return false;
  }
  const bool gz = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  return static_cast<double>(size) * (gz ? 8.0 : 1.0) > static_cast<double>(hold);
}

}  // namespace

Result<HistoricalResult> HistoricalFeatures(
    const Definitions& defs, const std::vector<FeatureRef>& features,
    const std::function<Result<FeatureGroup>(const FeatureRef&)>& groups,
    const HistoricalOptions& options, const std::function<void(int64_t rows)>& progress) {
  PLINTH_RETURN_IF_ERROR(CheckOutputNames(features, options.full_feature_names));
  PLINTH_ASSIGN_OR_RETURN(table::DuckDb db,
                          table::DuckDb::Open({options.threads, options.memory_limit, ""}));
  // Parquet entities are read by DuckDB as the join runs (never whole in memory); a CSV file is
  // read by Plinth's reader first: held, or when large written as Parquet and read so.
  std::string entity_files;  // Parquet entities' file or folder ("": held)
  table::CsvTable read;
  table::Schema entity_schema;
  if (table::IsParquetPath(options.entities)) {
    entity_files = options.entities;
    PLINTH_ASSIGN_OR_RETURN(entity_schema, table::ReadParquetSchema(options.entities));
  } else if (LargerThan(options.entities, options.hold_csv_bytes)) {
    if (db.scratch_dir().empty()) {
      return Internal("features historical: the join's database has no scratch folder");
    }
    entity_files = db.scratch_dir() + "/plinth-entities";
    EntitySpool spool(options.entities, entity_files);
    PLINTH_RETURN_IF_ERROR(table::ScanCsv(options.entities, {}, spool).status());
    PLINTH_RETURN_IF_ERROR(spool.Finish());
    entity_schema = spool.schema();
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
  PLINTH_RETURN_IF_ERROR(!entity_files.empty()
                             ? PointInTimeJoin(db, entity_files, entity_schema, spec, write)
                             : PointInTimeJoin(db, read.table, spec, write));
  if (!pq && !csv) {
    return InvalidArgument(options.entities + ": no entity rows");
  }
  PLINTH_RETURN_IF_ERROR(pq ? pq->Commit() : csv->Commit());
  return result;
}

}  // namespace plinth::features
