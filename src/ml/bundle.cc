#include "ml/bundle.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <optional>

#include "core/clock.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/stale.h"
#include "ml/metrics.h"
#include "ml/mlflow_model.h"
#include "table/csv_writer.h"

namespace plinth::ml {
namespace {

namespace fs = std::filesystem;

std::string Where(std::string_view file, std::string_view key) {
  return std::string(file) + ": key \"" + std::string(key) + "\"";
}

// MLflow's name of a column type in a model signature.
std::string_view MlflowType(std::string_view type) {
  if (type == "int64") {
    return "long";
  }
  if (type == "float64") {
    return "double";
  }
  if (type == "bool") {
    return "boolean";
  }
  if (type == "timestamp") {
    return "datetime";
  }
  return "string";
}

}  // namespace

Result<std::unique_ptr<Predictor>> Predictor::Create(BundleMeta meta, Preprocessor preprocess,
                                                     std::unique_ptr<Model> model) {
  const std::string file(kBundleMetaFile);
  if (meta.task != Task::kRegression) {
    if (meta.class_labels.size() < 2) {
      return InvalidArgument(Where(file, "class_labels") + ": expected at least two labels");
    }
    if (meta.task == Task::kBinary && meta.class_labels.size() != 2) {
      return InvalidArgument(Where(file, "class_labels") + ": a binary model has two labels");
    }
  }
  for (const table::Field& f : meta.input_schema.fields()) {
    bool used = false;
    for (const ColumnTransform& t : preprocess.columns()) {
      used = used || t.name == f.name;
    }
    if (!used) {
      return InvalidArgument(Where(file, "input_schema") + ": column \"" + f.name +
                             "\" has no transform in preprocess.json");
    }
  }
  std::unique_ptr<Predictor> p(new Predictor());
  p->meta_ = std::move(meta);
  p->preprocess_ = std::move(preprocess);
  p->model_ = std::move(model);
  return p;
}

Result<std::unique_ptr<Predictor>> Predictor::Load(const std::string& dir) {
  const std::string meta_path = dir + "/" + std::string(kBundleMetaFile);
  if (!fs::is_directory(dir)) {
    return NotFound(dir + ": not a model bundle directory");
  }
  if (IsMlflowModelDir(dir)) {  // a model an MLflow client logged
    return LoadMlflowModel(dir);
  }
  PLINTH_ASSIGN_OR_RETURN(const core::Json json, core::ReadJsonFile(meta_path));
  PLINTH_ASSIGN_OR_RETURN(BundleMeta meta, BundleMetaFromJson(json, meta_path));
  Result<const ModelKind*> kind = FindModelKind(meta.kind);
  if (!kind.ok()) {
    return InvalidArgument(Where(meta_path, "kind") + ": " + kind.status().message());
  }
  const std::string pre_path = dir + "/preprocess.json";
  PLINTH_ASSIGN_OR_RETURN(core::Json pre_json, core::ReadJsonFile(pre_path));
  PLINTH_ASSIGN_OR_RETURN(Preprocessor pre, Preprocessor::FromJson(pre_json, pre_path));
  const std::string model_path = dir + "/" + std::string((*kind)->file_name);
  PLINTH_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(model_path));
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, (*kind)->create());
  Status s = model->Deserialize(bytes, meta.task, static_cast<int>(meta.class_labels.size()),
                                static_cast<int64_t>(pre.feature_names().size()));
  if (!s.ok()) {
    return Status(s.code(), model_path + ": " + s.message());
  }
  Result<std::unique_ptr<Predictor>> p = Create(std::move(meta), std::move(pre), std::move(model));
  if (!p.ok()) {
    return Status(p.status().code(), dir + "/" + p.status().message());
  }
  return p;
}

Result<Prediction> Predictor::Predict(const table::Table& rows) const {
  PLINTH_ASSIGN_OR_RETURN(Matrix x, preprocess_.Transform(rows));
  return PredictFeatures(x);
}

Result<Prediction> Predictor::PredictFeatures(const Matrix& x) const {
  PLINTH_ASSIGN_OR_RETURN(Matrix out, model_->Predict(x));
  return FromOutputs(out);
}

Prediction Predictor::FromOutputs(const Matrix& out) const {
  const Matrix& x = out;  // one output row per input row
  Prediction p;
  p.task = meta_.task;
  p.rows = x.rows;
  if (meta_.task == Task::kRegression) {
    p.values.assign(out.values.begin(), out.values.end());
    return p;
  }
  const int k = static_cast<int>(meta_.class_labels.size());
  p.num_classes = k;
  p.proba.resize(static_cast<size_t>(x.rows) * static_cast<size_t>(k));
  for (int64_t i = 0; i < x.rows; ++i) {
    if (meta_.task == Task::kBinary) {
      double p1 = out.values[static_cast<size_t>(i)];
      p.proba[2 * i] = 1.0 - p1;
      p.proba[2 * i + 1] = p1;
    } else {
      for (int c = 0; c < k; ++c) {
        p.proba[i * k + c] = out.at(i, c);
      }
    }
  }
  p.classes = PredictedClasses(p.proba, k, meta_.threshold);
  return p;
}

std::string MlmodelText(const BundleMeta& meta) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "artifact_path" << YAML::Value << "model";
  y << YAML::Key << "flavors" << YAML::Value << YAML::BeginMap;
  const std::string& kind = meta.kind;
  const std::string& model_file = meta.model_file;
  y << YAML::Key << "plinth" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "bundle_format" << YAML::Value << std::string(kBundleFormat);
  y << YAML::Key << "kind" << YAML::Value << kind;
  y << YAML::Key << "model_file" << YAML::Value << model_file;
  y << YAML::Key << "preprocess" << YAML::Value << "preprocess.json";
  auto plinth = meta.versions.find("plinth");
  y << YAML::Key << "plinth_version" << YAML::Value
    << (plinth == meta.versions.end() ? std::string() : plinth->second);
  y << YAML::EndMap;
  if (model_file == "model.ubj") {
    // The raw booster, loadable by mlflow.xgboost.load_model (features are
    // the transformed ones in plinth-model.json "feature_names").
    y << YAML::Key << "xgboost" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "code" << YAML::Value << YAML::Null;
    y << YAML::Key << "data" << YAML::Value << model_file;
    y << YAML::Key << "model_class" << YAML::Value << "xgboost.core.Booster";
    y << YAML::Key << "model_format" << YAML::Value << "ubj";
    y << YAML::Key << "xgb_version" << YAML::Value << XgboostVersion();
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  y << YAML::Key << "model_uuid" << YAML::Value << meta.uuid;
  y << YAML::Key << "signature" << YAML::Value << YAML::BeginMap;
  core::Json inputs = core::Json::array();
  for (const table::Field& f : meta.input_schema.fields()) {
    inputs.push_back(
        {{"type", MlflowType(table::TypeName(f.type))}, {"name", f.name}, {"required", true}});
  }
  y << YAML::Key << "inputs" << YAML::Value << core::DumpJson(inputs, false);
  y << YAML::Key << "outputs" << YAML::Value << YAML::Null;
  y << YAML::EndMap;
  y << YAML::Key << "utc_time_created" << YAML::Value << meta.created;
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

namespace {

// `status` with every mention of the temporary `tmp_path` replaced by `target`:
// errors name the bundle the caller asked for, not the directory it is built in.
Status NamingTarget(const Status& status, const std::string& tmp_path, const fs::path& target) {
  std::string message = status.message();
  const std::string name = target.string();
  for (size_t at = message.find(tmp_path); at != std::string::npos;
       at = message.find(tmp_path, at + name.size())) {
    message.replace(at, tmp_path.size(), name);
  }
  return Status(status.code(), message);
}

fs::path BundleTarget(const std::string& dir) {
  fs::path target = fs::absolute(dir).lexically_normal();
  return target.filename().empty() ? target.parent_path() : target;
}

// Creates the parent directories of `target` and a locked temporary beside it
// (removing the stale ones of writers that were killed; a concurrent write's
// own stays locked, so it is left alone).
Result<core::LockedTempDir> MakeBundleTemporary(const fs::path& target) {
  PLINTH_RETURN_IF_ERROR(core::MakeParentDirs(target.string()));
  const std::string tmp_prefix = target.filename().string() + ".tmp-";
  PLINTH_RETURN_IF_ERROR(
      core::RemoveStaleTemporaries(target.parent_path().string(), tmp_prefix).status());
  for (int attempt = 0;; ++attempt) {
    const std::string candidate =
        target.parent_path().string() + "/" + tmp_prefix + core::NewUuidHex().substr(0, 12);
    Result<core::LockedTempDir> made = core::LockedTempDir::Create(candidate);
    if (made.ok() || attempt >= 3) {
      return made.ok() ? std::move(made) : NamingTarget(made.status(), candidate, target);
    }
  }
}

Status CheckReplaceable(const fs::path& target) {
  std::error_code ec;
  if (fs::exists(target, ec) &&
      (!fs::is_directory(target, ec) || !fs::exists(target / std::string(kBundleMetaFile), ec))) {
    return FailedPrecondition(target.string() +
                              ": exists and is not a model bundle; refusing to replace it");
  }
  return Status::Ok();
}

}  // namespace

Status CheckBundleTarget(const std::string& dir) {
  const fs::path target = BundleTarget(dir);
  PLINTH_RETURN_IF_ERROR(CheckReplaceable(target));
  PLINTH_ASSIGN_OR_RETURN(core::LockedTempDir probe, MakeBundleTemporary(target));
  std::error_code ec;
  fs::remove(probe.path(), ec);
  return Status::Ok();
}

Result<table::Table> AppendPredictions(const Predictor& predictor, const table::Table& rows) {
  PLINTH_ASSIGN_OR_RETURN(Prediction p, predictor.Predict(rows));
  std::vector<table::Field> fields = rows.schema().fields();
  std::vector<table::Column> cols;
  for (size_t i = 0; i < rows.num_columns(); ++i) {
    cols.push_back(rows.column(i));
  }
  auto add = [&](std::string name, table::Column col) -> Status {
    if (rows.ColumnByName(name) != nullptr) {
      return InvalidArgument("the data has a column \"" + name +
                             "\", the name of one of the model's outputs");
    }
    fields.push_back({std::move(name), col.type()});
    cols.push_back(std::move(col));
    return Status::Ok();
  };
  table::Column prediction(p.task == Task::kRegression ? table::DataType::kFloat64
                                                       : table::DataType::kString);
  prediction.Reserve(p.rows);
  for (int64_t r = 0; r < p.rows; ++r) {
    if (p.task == Task::kRegression) {
      prediction.AppendDouble(p.values[static_cast<size_t>(r)]);
    } else {
      prediction.AppendString(predictor.class_labels()[static_cast<size_t>(p.classes[r])]);
    }
  }
  PLINTH_RETURN_IF_ERROR(add("prediction", std::move(prediction)));
  for (int k = 0; k < p.num_classes && p.task != Task::kRegression; ++k) {
    table::Column proba(table::DataType::kFloat64);
    proba.Reserve(p.rows);
    for (int64_t r = 0; r < p.rows; ++r) {
      proba.AppendDouble(p.proba[static_cast<size_t>(r * p.num_classes + k)]);
    }
    PLINTH_RETURN_IF_ERROR(
        add("probability_" + predictor.class_labels()[static_cast<size_t>(k)], std::move(proba)));
  }
  return table::Table(table::Schema(std::move(fields)), std::move(cols));
}

Status WriteBundle(const std::string& dir, const Predictor& predictor, const core::Json& reference,
                   const table::Table* reference_set) {
  const fs::path target = BundleTarget(dir);
  PLINTH_ASSIGN_OR_RETURN(core::LockedTempDir locked, MakeBundleTemporary(target));
  const std::string tmp = locked.path();
  std::error_code ec;
  auto cleanup = [&] { fs::remove_all(tmp, ec); };
  const BundleMeta& meta = predictor.meta();
  PLINTH_ASSIGN_OR_RETURN(std::string model_bytes, predictor.model().Serialize());
  Status s = core::WriteJsonFile(tmp + "/" + std::string(kBundleMetaFile), ToJson(meta));
  if (s.ok()) {
    s = core::WriteJsonFile(tmp + "/preprocess.json", predictor.preprocessor().ToJson());
  }
  if (s.ok()) {
    s = core::AtomicWriteFile(tmp + "/" + meta.model_file, model_bytes);
  }
  if (s.ok() && !reference.is_null()) {
    s = core::WriteJsonFile(tmp + "/reference.json", reference);
  }
  if (s.ok() && reference_set != nullptr) {
    table::CsvWriteOptions csv;
    csv.gzip = true;
    s = table::WriteCsv(*reference_set, tmp + "/" + std::string(kReferenceSetFile), csv);
  }
  if (s.ok()) {
    s = core::AtomicWriteFile(tmp + "/MLmodel", MlmodelText(meta));
  }
  if (!s.ok()) {
    cleanup();
    return NamingTarget(s, tmp, target);
  }
  // Swap the new directory in: one rename when `dir` is new, an atomic
  // exchange when it exists (then the old bundle, now at `tmp`, is removed).
  if (!fs::exists(target)) {
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
      Status err = IoError(core::ErrnoMessage(target.string()));
      cleanup();
      return err;
    }
  } else {
    if (Status replaceable = CheckReplaceable(target); !replaceable.ok()) {
      cleanup();
      return replaceable;
    }
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
      Status err = IoError(core::ErrnoMessage(target.string()));
      cleanup();
      return err;
    }
    cleanup();
  }
  return Status::Ok();
}

Result<std::unique_ptr<Predictor>> ImportModel(std::string_view library, std::string_view bytes,
                                               const core::Json& schema,
                                               std::string_view schema_source,
                                               const std::string& dir) {
  core::Json named = schema;
  if (named.is_object() && !named.contains("name")) {
    named["name"] = std::filesystem::path(dir).filename().string();
  }
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Predictor> p,
                          BuildImportedModel(library, bytes, named, schema_source));
  PLINTH_RETURN_IF_ERROR(WriteBundle(dir, *p, core::Json(nullptr)));
  return p;
}

Result<std::unique_ptr<Predictor>> BuildImportedModel(std::string_view library,
                                                      std::string_view bytes,
                                                      const core::Json& schema,
                                                      std::string_view schema_source) {
  const std::string src(schema_source);
  if (!schema.is_object()) {
    return InvalidArgument(src + ": expected a JSON object with task, inputs and class_labels");
  }
  const ModelKind* kind = nullptr;
  for (const ModelKind& k : ModelKinds()) {
    if (k.library == library && kind == nullptr) {
      kind = &k;
    }
  }
  if (kind == nullptr) {
    return InvalidArgument("this plinth has no " + std::string(library) + " model kind");
  }
  PLINTH_ASSIGN_OR_RETURN(table::Schema inputs, SchemaFromJson(schema.value("inputs", core::Json()),
                                                               Where(src, "inputs")));
  if (inputs.size() == 0) {
    return InvalidArgument(Where(src, "inputs") + ": expected at least one column");
  }
  Result<Preprocessor> pre = Preprocessor::Identity(inputs);
  if (!pre.ok()) {
    return InvalidArgument(Where(src, "inputs") + ": " + pre.status().message());
  }
  PLINTH_ASSIGN_OR_RETURN(const core::JsonFields fields, core::JsonFields::Of(schema, src));
  PLINTH_ASSIGN_OR_RETURN(const std::string task_name, fields.String("task", ""));
  PLINTH_ASSIGN_OR_RETURN(const std::string name, fields.String("name", "model"));
  PLINTH_ASSIGN_OR_RETURN(const std::string target, fields.String("target", "target"));
  PLINTH_ASSIGN_OR_RETURN(const double threshold, fields.Number("threshold", 0.5));
  Result<Task> task = ParseTask(task_name);
  if (!task.ok()) {
    return InvalidArgument(Where(src, "task") + ": " + task.status().message());
  }
  BundleMeta meta;
  meta.name = name;
  meta.uuid = core::NewUuidHex();
  meta.kind = kind->name;
  meta.task = *task;
  meta.model_file = kind->file_name;
  meta.target_name = target;
  meta.target_type = *task == Task::kRegression ? "float64" : "string";
  meta.threshold = threshold;
  meta.input_schema = inputs;
  meta.feature_names = pre->feature_names();
  meta.imported = true;
  meta.created = core::FormatIsoMicros(core::SystemClock().NowMicros());
  meta.versions = {{"xgboost", XgboostVersion()}, {"torch", TorchVersion()}};
  if (*task != Task::kRegression) {
    const core::Json labels = schema.value("class_labels", core::Json(nullptr));
    if (!labels.is_array() || labels.size() < 2) {
      return InvalidArgument(Where(src, "class_labels") +
                             ": expected the class labels in the "
                             "model's output order");
    }
    for (const core::Json& l : labels) {
      meta.class_labels.push_back(l.is_string() ? l.get<std::string>() : l.dump());
    }
  }
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, kind->create());
  const int k = static_cast<int>(meta.class_labels.size());
  PLINTH_RETURN_IF_ERROR(model->Deserialize(bytes, *task, k, static_cast<int64_t>(inputs.size())));
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Predictor> p,
                          Predictor::Create(std::move(meta), std::move(*pre), std::move(model)));
  Matrix probe(1, static_cast<int64_t>(inputs.size()));
  Result<Prediction> check = p->PredictFeatures(probe);
  if (!check.ok()) {
    return InvalidArgument("the model does not predict a row of " + std::to_string(inputs.size()) +
                           " features as a " + std::string(Name(*task)) +
                           " model: " + check.status().message());
  }
  return p;
}

}  // namespace plinth::ml
