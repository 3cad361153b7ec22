#include "features/historical.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/file.h"
#include "features/online.h"
#include "features/point_in_time.h"
#include "table/csv_reader.h"
#include "table/csv_writer.h"
#include "table/parquet.h"

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

// Bytes a table's values take in memory (about: strings' text and offsets, 8 per other value).
int64_t Bytes(const table::Table& t) {
  int64_t n = 0;
  for (size_t c = 0; c < t.num_columns(); ++c) {
    const table::Column& col = t.column(c);
    n += 8 * col.size() +
         (col.type() == DataType::kString ? static_cast<int64_t>(col.chars().size()) : 0);
  }
  return n;
}

// The rows of a CSV entity file as the reader delivers them: held while they take at most
// `hold_bytes`; beyond that, they and all that follow are written into `dir` as Parquet files
// of about `file_bytes` each, named in their order (the reader's memory and one file's rows at
// a time, whatever the file's size).
class EntityRows : public table::ChunkConsumer {
 public:
  EntityRows(std::string source, std::string dir, int64_t hold_bytes, int64_t file_bytes)
      : source_(std::move(source)),
        dir_(std::move(dir)),
        hold_bytes_(hold_bytes),
        file_bytes_(std::max<int64_t>(file_bytes, 1)) {}

  // Again after the reader restarts (a column's type widened): what was held or written goes.
  Status Begin(const table::Schema& schema, int64_t /*expected_rows*/) override {
    schema_ = schema;
    held_ = table::Table(schema_, Empty());
    held_bytes_ = 0;
    pending_ = Empty();
    pending_rows_ = 0;
    files_ = 0;
    if (spooling_) {
      spooling_ = false;
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      if (ec) {
        return IoError(source_ + ": clearing " + dir_ + ": " + ec.message());
      }
    }
    return Status::Ok();
  }

  Status Consume(table::Table chunk) override {
    if (spooling_) {
      return Write(chunk);
    }
    held_bytes_ += Bytes(chunk);
    if (held_.num_rows() == 0) {
      held_ = std::move(chunk);
    } else {
      PLINTH_RETURN_IF_ERROR(held_.Append(chunk));
    }
    if (held_bytes_ <= hold_bytes_) {
      return Status::Ok();
    }
    // Too large to hold: written from here on, what was held first.
    if (const std::optional<std::string> twice = table::NamedTwiceButForCase(schema_)) {
      return InvalidArgument(source_ + ": two columns named '" + *twice +
                             "' but for case; an entity file this large is joined through "
                             "Parquet, which does not tell them apart");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
      return IoError(source_ + ": making " + dir_ + " to write it as Parquet: " + ec.message());
    }
    spooling_ = true;
    const table::Table held = std::exchange(held_, table::Table(schema_, Empty()));
    return Write(held);
  }

  // Writes what is pending (a file without rows when none was written: the columns still).
  Status Finish() {
    return spooling_ && (pending_rows_ > 0 || files_ == 0) ? Flush() : Status::Ok();
  }

  bool spooled() const { return spooling_; }
  const table::Schema& schema() const { return schema_; }
  table::Table TakeHeld() { return std::move(held_); }

 private:
  std::vector<table::Column> Empty() const {
    std::vector<table::Column> cols;
    for (const Field& f : schema_.fields()) {
      cols.emplace_back(f.type);
    }
    return cols;
  }

  // Adds `t`'s rows to the file being filled, writing each once it holds about file_bytes_.
  Status Write(const table::Table& t) {
    const int64_t rows = t.num_rows();
    const int64_t per_row = std::max<int64_t>(1, Bytes(t) / std::max<int64_t>(rows, 1));
    const int64_t cap = std::max<int64_t>(1, file_bytes_ / per_row);
    for (int64_t at = 0; at < rows;) {
      const int64_t n = std::min(rows - at, std::max<int64_t>(1, cap - pending_rows_));
      for (size_t c = 0; c < pending_.size(); ++c) {
        pending_[c].AppendRange(t.column(c), at, n);
      }
      pending_rows_ += n;
      at += n;
      if (pending_rows_ >= cap) {
        PLINTH_RETURN_IF_ERROR(Flush());
      }
    }
    return Status::Ok();
  }

  Status Flush() {
    char name[32];
    std::snprintf(name, sizeof(name), "part-%08d.parquet", files_++);
    const Status s = table::WriteParquet(table::Table(schema_, std::exchange(pending_, Empty())),
                                         dir_ + "/" + name);
    pending_rows_ = 0;
    if (!s.ok()) {
      return Status(s.code(), source_ + ": writing it as Parquet under " + dir_ +
                                  " (an entity file too large to hold): " + s.message());
    }
    return Status::Ok();
  }

  std::string source_;
  std::string dir_;
  int64_t hold_bytes_;
  int64_t file_bytes_;
  table::Schema schema_;
  table::Table held_;
  int64_t held_bytes_ = 0;
  bool spooling_ = false;
  std::vector<table::Column> pending_;
  int64_t pending_rows_ = 0;
  int files_ = 0;
};

}  // namespace

Result<HistoricalResult> HistoricalFeatures(
    const Definitions& defs, const std::vector<FeatureRef>& features,
    const std::function<Result<FeatureGroup>(const FeatureRef&)>& groups,
    const HistoricalOptions& options, const std::function<void(int64_t rows)>& progress) {
  PLINTH_RETURN_IF_ERROR(CheckOutputNames(features, options.full_feature_names));
  // The groups and features first: a mistake in them is found before a large file is read.
  HistoricalResult result;
  JoinSpec spec;
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
  // Parquet entities are read by DuckDB as the join runs (never whole in memory); a CSV file is
  // read by Plinth's reader first: held, or once too large written as Parquet and read so.
  std::string entity_files;  // Parquet entities' file or folder ("": held)
  table::Table held;
  table::Schema entity_schema;
  if (table::IsParquetPath(options.entities)) {
    entity_files = options.entities;
    PLINTH_ASSIGN_OR_RETURN(entity_schema, table::ReadParquetSchema(options.entities));
  } else {
    if (db.scratch_dir().empty()) {
      return Internal("features historical: the join's database has no scratch folder");
    }
    const std::string spool = db.scratch_dir() + "/plinth-entities";
    EntityRows rows(options.entities, spool, options.hold_csv_bytes, options.spool_file_bytes);
    PLINTH_RETURN_IF_ERROR(table::ScanCsv(options.entities, {}, rows).status());
    PLINTH_RETURN_IF_ERROR(rows.Finish());
    entity_schema = rows.schema();
    if (rows.spooled()) {
      entity_files = spool;
    } else {
      held = rows.TakeHeld();
    }
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
  result.timestamp_column = ts;
  spec.entity_timestamp = ts;
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
                             : PointInTimeJoin(db, held, spec, write));
  if (!pq && !csv) {
    return InvalidArgument(options.entities + ": no entity rows");
  }
  PLINTH_RETURN_IF_ERROR(pq ? pq->Commit() : csv->Commit());
  return result;
}

}  // namespace plinth::features
