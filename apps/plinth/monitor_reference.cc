#include "monitor_reference.h"

#include <filesystem>
#include <map>

#include "commands.h"
#include "table/reader.h"

namespace plinth::cli {
namespace {

// The model's type for its input columns, its label and its `prediction` column.
std::map<std::string, table::DataType> ModelTypes(const ml::Predictor& p) {
  std::map<std::string, table::DataType> types;
  for (const table::Field& field : p.input_schema().fields()) {
    types[field.name] = field.type;
  }
  const bool regression = p.task() == ml::Task::kRegression;
  // Class labels are text wherever they are written (the log, plinth predict).
  const table::DataType label = regression ? table::DataType::kFloat64 : table::DataType::kString;
  if (!p.meta().target_name.empty()) {
    types[p.meta().target_name] = label;
  }
  types["prediction"] = label;
  return types;
}

bool IsText(table::DataType t) {
  return t == table::DataType::kString || t == table::DataType::kBool;
}

}  // namespace

Status ConformTypes(table::Table& t, const ml::Predictor& p, const std::string& source) {
  const std::map<std::string, table::DataType> types = ModelTypes(p);
  std::vector<table::Field> fields = t.schema().fields();
  auto keep = [&](size_t i) {
    const table::Column& col = t.column(i);
    auto want = types.find(fields[i].name);
    return want == types.end() || IsText(col.type()) == IsText(want->second) ||
           col.type() == table::DataType::kTimestamp || col.null_count() == col.size();
  };
  bool changed = false;
  for (size_t i = 0; i < t.num_columns() && !changed; ++i) {
    changed = !keep(i);
  }
  if (!changed) {
    return Status::Ok();  // no copy
  }
  std::vector<table::Column> cols;
  for (size_t i = 0; i < t.num_columns(); ++i) {
    const table::Column& col = t.column(i);
    auto want = types.find(fields[i].name);
    if (keep(i)) {
      cols.push_back(col);
      continue;
    }
    Result<table::Column> cast = col.CastTo(want->second);
    if (!cast.ok()) {
      return InvalidArgument(source + ": column \"" + fields[i].name + "\" holds " +
                             (IsText(col.type()) ? "text" : "numbers") + ", the model's " +
                             std::string(table::TypeName(want->second)) + ": " +
                             cast.status().message());
    }
    fields[i].type = want->second;
    cols.push_back(std::move(*cast));
  }
  t = table::Table(table::Schema(std::move(fields)), std::move(cols));
  return Status::Ok();
}

Status AddOutputs(table::Table& t, const ml::Predictor& p, const std::string& source) {
  if (t.ColumnByName("prediction") != nullptr) {
    return Status::Ok();
  }
  for (const table::Field& field : p.input_schema().fields()) {
    if (t.ColumnByName(field.name) == nullptr) {
      return Status::Ok();
    }
  }
  Result<table::Table> scored = ml::AppendPredictions(p, t);
  if (!scored.ok()) {
    return InvalidArgument(source + ": scoring it with the model: " + scored.status().message());
  }
  t = std::move(*scored);
  return Status::Ok();
}

Result<Reference> LoadReference(const std::string& model, const std::string& reference_flag,
                                const TrackingFlags& tracking, const table::CsvOptions& csv,
                                tracking::ModelVersion* version) {
  Reference ref;
  ref.source = reference_flag;
  if (!model.empty()) {
    PLINTH_ASSIGN_OR_RETURN(std::string dir, ResolveModel(model, tracking, version));
    Result<std::unique_ptr<ml::Predictor>> loaded = ml::Predictor::Load(dir);
    if (!loaded.ok()) {
      return loaded.status();
    }
    ref.model = std::move(*loaded);
    ref.model_name = model;
    if (ref.source.empty()) {
      Result<table::Table> set = ReadReferenceSet(dir, model, *ref.model, csv);
      if (!set.ok()) {
        return set.status().code() == StatusCode::kInvalidArgument
                   ? InvalidArgument(set.status().message() + "; pass --reference FILE")
                   : set.status();
      }
      ref.source = (std::filesystem::path(dir) / ml::kReferenceSetFile).string();
      ref.table = std::move(*set);
      return ref;
    }
  }
  PLINTH_ASSIGN_OR_RETURN(table::CsvTable read, table::ReadTable(ref.source, csv));
  ReportSkippedLines(read.info, csv);
  ref.table = std::move(read.table);
  if (ref.model) {
    PLINTH_RETURN_IF_ERROR(ConformTypes(ref.table, *ref.model, ref.source));
    PLINTH_RETURN_IF_ERROR(AddOutputs(ref.table, *ref.model, ref.source));
  }
  return ref;
}

Result<table::Table> ReadReferenceSet(const std::string& dir, const std::string& model_name,
                                      const ml::Predictor& model, const table::CsvOptions& csv) {
  const std::string path = (std::filesystem::path(dir) / ml::kReferenceSetFile).string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgument(model_name + ": the model has no reference set (" +
                           std::string(ml::kReferenceSetFile) +
                           ": trained before Plinth wrote one, imported, or with "
                           "monitoring.reference_rows: 0)");
  }
  PLINTH_ASSIGN_OR_RETURN(table::CsvTable read, table::ReadTable(path, csv));
  PLINTH_RETURN_IF_ERROR(ConformTypes(read.table, model, path));
  PLINTH_RETURN_IF_ERROR(AddOutputs(read.table, model, path));
  return std::move(read.table);
}

std::vector<std::string> InputNames(const ml::Predictor& p) {
  std::vector<std::string> names;
  for (const table::Field& field : p.input_schema().fields()) {
    names.push_back(field.name);
  }
  return names;
}

}  // namespace plinth::cli
