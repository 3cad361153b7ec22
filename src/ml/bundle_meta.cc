#include "ml/bundle_meta.h"

#include <cmath>

namespace plinth::ml {
namespace {

using core::Json;
using core::JsonFields;

Json Number(std::optional<double> v) { return v && !std::isnan(*v) ? Json(*v) : Json(nullptr); }

// A list of strings at `key` (absent or null: empty). Non-string labels (a
// hand-written file's numbers) are kept as their JSON text.
Result<std::vector<std::string>> Strings(const JsonFields& fields, std::string_view key,
                                         bool any_scalar = false) {
  PLINTH_ASSIGN_OR_RETURN(const Json* items, fields.Items(key));
  std::vector<std::string> out;
  for (const Json& item : *items) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (any_scalar && item.is_primitive() && !item.is_null()) {
      out.push_back(item.dump());
    } else {
      return InvalidArgument(fields.At(key) + ": expected a list of strings, got " +
                             core::JsonPreview(item));
    }
  }
  return out;
}

Result<JsonFields> Member(const JsonFields& fields, std::string_view key) {
  PLINTH_ASSIGN_OR_RETURN(const Json* object, fields.Object(key));
  return JsonFields::Of(*object, fields.At(key));
}

Result<std::optional<double>> OptionalNumber(const JsonFields& fields, std::string_view key) {
  if (!fields.Has(key)) {
    return std::optional<double>();
  }
  PLINTH_ASSIGN_OR_RETURN(double v, fields.Number(key));
  return std::optional<double>(v);
}

Result<DataSummary> DataFromJson(const JsonFields& f) {
  DataSummary d;
  PLINTH_ASSIGN_OR_RETURN(d.path, f.String("path", ""));
  PLINTH_ASSIGN_OR_RETURN(d.sha256, f.String("sha256", ""));
  PLINTH_ASSIGN_OR_RETURN(d.rows, f.Int("rows", 0));
  PLINTH_ASSIGN_OR_RETURN(d.rows_without_label, f.Int("rows_without_label", 0));
  PLINTH_ASSIGN_OR_RETURN(d.duplicate_rows_dropped, f.Int("duplicate_rows_dropped", 0));
  PLINTH_ASSIGN_OR_RETURN(d.outlier_rows_dropped, f.Int("outlier_rows_dropped", 0));
  PLINTH_ASSIGN_OR_RETURN(d.train_rows, f.Int("train_rows", 0));
  PLINTH_ASSIGN_OR_RETURN(d.validation_rows, f.Int("validation_rows", 0));
  PLINTH_ASSIGN_OR_RETURN(d.test_rows, f.Int("test_rows", 0));
  if (f.Has("test_file")) {
    PLINTH_ASSIGN_OR_RETURN(d.test_file, f.String("test_file"));
  }
  PLINTH_ASSIGN_OR_RETURN(d.features, f.Int("features", 0));
  PLINTH_ASSIGN_OR_RETURN(const Json* cleaning, f.Items("cleaning"));
  for (const Json& step : *cleaning) {
    PLINTH_ASSIGN_OR_RETURN(JsonFields s, JsonFields::Of(step, f.At("cleaning")));
    CleaningStep c;
    PLINTH_ASSIGN_OR_RETURN(c.step, s.String("step"));
    PLINTH_ASSIGN_OR_RETURN(c.setting, s.String("setting", ""));
    PLINTH_ASSIGN_OR_RETURN(c.rows_in, s.Int("rows_in", 0));
    PLINTH_ASSIGN_OR_RETURN(c.rows_removed, s.Int("rows_removed", 0));
    d.cleaning.push_back(std::move(c));
  }
  return d;
}

Result<FitSummary> FitFromJson(const JsonFields& f) {
  FitSummary t;
  PLINTH_ASSIGN_OR_RETURN(t.monitor, f.String("monitor", ""));
  PLINTH_ASSIGN_OR_RETURN(t.maximize, f.Bool("maximize", false));
  PLINTH_ASSIGN_OR_RETURN(int64_t rounds, f.Int("rounds", 0));
  PLINTH_ASSIGN_OR_RETURN(int64_t best_round, f.Int("best_round", 0));
  t.rounds = static_cast<int>(rounds);
  t.best_round = static_cast<int>(best_round);
  PLINTH_ASSIGN_OR_RETURN(t.best_validation, OptionalNumber(f, "best_validation"));
  PLINTH_ASSIGN_OR_RETURN(t.stopped_early, f.Bool("stopped_early", false));
  if (f.Has("library_params")) {
    PLINTH_ASSIGN_OR_RETURN(const Json* params, f.Object("library_params"));
    t.library_params = *params;
  }
  PLINTH_ASSIGN_OR_RETURN(const Json* history, f.Items("history_train_validation"));
  for (const Json& point : *history) {
    if (!point.is_array() || point.size() != 2 || !point[0].is_number() ||
        !(point[1].is_number() || point[1].is_null())) {
      return InvalidArgument(f.At("history_train_validation") +
                             ": expected [train, validation] pairs of numbers, got " +
                             core::JsonPreview(point));
    }
    t.history.emplace_back(point[0].get<double>(),
                           point[1].is_null() ? std::optional<double>()
                                              : std::optional<double>(point[1].get<double>()));
  }
  return t;
}

}  // namespace

core::Json SchemaToJson(const table::Schema& schema) {
  Json out = Json::array();
  for (const table::Field& f : schema.fields()) {
    out.push_back({{"name", f.name}, {"type", table::TypeName(f.type)}});
  }
  return out;
}

Result<table::Schema> SchemaFromJson(const core::Json& json, std::string_view where) {
  if (!json.is_array()) {
    return InvalidArgument(std::string(where) + ": expected a list of {name, type}");
  }
  std::vector<table::Field> fields;
  for (const Json& f : json) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("type") ||
        !f["type"].is_string()) {
      return InvalidArgument(std::string(where) + ": expected a list of {name, type}");
    }
    Result<table::DataType> type = table::ParseTypeName(f["type"].get<std::string>());
    if (!type.ok()) {
      return InvalidArgument(std::string(where) + ": column \"" + f["name"].get<std::string>() +
                             "\": " + type.status().message());
    }
    fields.push_back({f["name"].get<std::string>(), *type});
  }
  return table::Schema(std::move(fields));
}

core::Json ToJson(const DataSummary& d) {
  Json cleaning = Json::array();
  for (const CleaningStep& s : d.cleaning) {
    cleaning.push_back({{"step", s.step},
                        {"setting", s.setting},
                        {"rows_in", s.rows_in},
                        {"rows_removed", s.rows_removed},
                        {"fraction_removed", s.fraction()}});
  }
  return {{"path", d.path},
          {"sha256", d.sha256},
          {"rows", d.rows},
          {"rows_without_label", d.rows_without_label},
          {"duplicate_rows_dropped", d.duplicate_rows_dropped},
          {"outlier_rows_dropped", d.outlier_rows_dropped},
          {"train_rows", d.train_rows},
          {"validation_rows", d.validation_rows},
          {"test_rows", d.test_rows},
          {"test_file", d.test_file ? Json(*d.test_file) : Json(nullptr)},
          {"features", d.features},
          {"cleaning", cleaning}};
}

core::Json ToJson(const FitSummary& t, bool history) {
  Json out = {{"monitor", t.monitor},
              {"maximize", t.maximize},
              {"rounds", t.rounds},
              {"best_round", t.best_round},
              {"best_validation", Number(t.best_validation)},
              {"stopped_early", t.stopped_early},
              {"library_params", t.library_params}};
  if (history) {
    Json points = Json::array();
    for (const auto& [train, validation] : t.history) {
      points.push_back({Number(train), Number(validation)});
    }
    out["history_train_validation"] = points;
  }
  return out;
}

core::Json ToJson(const BundleMeta& m) {
  Json out = {{"format", kBundleFormat},
              {"name", m.name},
              {"uuid", m.uuid},
              {"kind", m.kind},
              {"task", Name(m.task)},
              {"model_file", m.model_file},
              {"target", {{"name", m.target_name}, {"type", m.target_type}}},
              {"class_labels", m.task == Task::kRegression ? Json(nullptr) : Json(m.class_labels)}};
  if (m.task == Task::kBinary && m.class_labels.size() == 2) {
    out["positive_class"] = m.class_labels[1];
  }
  out["threshold"] = m.threshold;
  out["input_schema"] = SchemaToJson(m.input_schema);
  out["dropped_columns"] = m.dropped_columns;
  out["feature_names"] = m.feature_names;
  if (m.imported) {
    out["imported"] = true;
  }
  if (m.trained) {
    out["metrics"] = m.trained->metrics;
    out["params"] = m.trained->params;
    out["training"] = ToJson(m.trained->fit, true);
    out["data"] = ToJson(m.trained->data);
    out["warnings"] = m.trained->warnings;
    if (const std::optional<FeatureServiceRecord>& fs = m.trained->feature_service) {
      out["feature_service"] = {{"name", fs->service},
                                {"version", fs->version},
                                {"features", fs->features},
                                {"entities", fs->entities},
                                {"timestamp_column", fs->timestamp_column},
                                {"on_demand", fs->on_demand}};
    }
  }
  if (!m.created.empty()) {
    out["created"] = m.created;
  }
  out["versions"] = m.versions;
  return out;
}

Result<BundleMeta> BundleMetaFromJson(const core::Json& json, std::string_view where) {
  PLINTH_ASSIGN_OR_RETURN(const JsonFields f, JsonFields::Of(json, std::string(where)));
  PLINTH_ASSIGN_OR_RETURN(const std::string format, f.String("format", ""));
  if (format != kBundleFormat) {
    return InvalidArgument(std::string(where) + ": expected \"format\": \"" +
                           std::string(kBundleFormat) + "\"");
  }
  BundleMeta m;
  PLINTH_ASSIGN_OR_RETURN(m.name, f.String("name", ""));
  PLINTH_ASSIGN_OR_RETURN(m.uuid, f.String("uuid", ""));
  PLINTH_ASSIGN_OR_RETURN(m.kind, f.String("kind"));
  PLINTH_ASSIGN_OR_RETURN(const std::string task, f.String("task"));
  Result<Task> parsed = ParseTask(task);
  if (!parsed.ok()) {
    return InvalidArgument(f.At("task") + ": " + parsed.status().message());
  }
  m.task = *parsed;
  PLINTH_ASSIGN_OR_RETURN(m.model_file, f.String("model_file", ""));
  if (f.Has("target")) {
    PLINTH_ASSIGN_OR_RETURN(const JsonFields target, Member(f, "target"));
    PLINTH_ASSIGN_OR_RETURN(m.target_name, target.String("name", ""));
    PLINTH_ASSIGN_OR_RETURN(m.target_type, target.String("type", ""));
  }
  PLINTH_ASSIGN_OR_RETURN(m.class_labels, Strings(f, "class_labels", true));
  PLINTH_ASSIGN_OR_RETURN(m.threshold, f.Number("threshold", m.threshold));
  PLINTH_ASSIGN_OR_RETURN(const Json* schema, f.Array("input_schema"));
  PLINTH_ASSIGN_OR_RETURN(m.input_schema, SchemaFromJson(*schema, f.At("input_schema")));
  PLINTH_ASSIGN_OR_RETURN(m.dropped_columns, Strings(f, "dropped_columns"));
  PLINTH_ASSIGN_OR_RETURN(m.feature_names, Strings(f, "feature_names"));
  PLINTH_ASSIGN_OR_RETURN(m.imported, f.Bool("imported", false));
  PLINTH_ASSIGN_OR_RETURN(m.created, f.String("created", ""));
  if (f.Has("versions")) {
    PLINTH_ASSIGN_OR_RETURN(const Json* versions, f.Object("versions"));
    for (const auto& [library, version] : versions->items()) {
      m.versions[library] = version.is_string() ? version.get<std::string>() : version.dump();
    }
  }
  if (f.Has("training") || f.Has("data") || f.Has("metrics")) {
    TrainingRecord r;
    if (f.Has("data")) {
      PLINTH_ASSIGN_OR_RETURN(const JsonFields data, Member(f, "data"));
      PLINTH_ASSIGN_OR_RETURN(r.data, DataFromJson(data));
    }
    if (f.Has("training")) {
      PLINTH_ASSIGN_OR_RETURN(const JsonFields fit, Member(f, "training"));
      PLINTH_ASSIGN_OR_RETURN(r.fit, FitFromJson(fit));
    }
    if (f.Has("metrics")) {
      PLINTH_ASSIGN_OR_RETURN(const Json* metrics, f.Object("metrics"));
      r.metrics = *metrics;
    }
    if (f.Has("params")) {
      PLINTH_ASSIGN_OR_RETURN(const Json* params, f.Object("params"));
      r.params = *params;
    }
    PLINTH_ASSIGN_OR_RETURN(r.warnings, Strings(f, "warnings"));
    if (f.Has("feature_service")) {
      PLINTH_ASSIGN_OR_RETURN(const JsonFields fs, Member(f, "feature_service"));
      FeatureServiceRecord record;
      PLINTH_ASSIGN_OR_RETURN(record.service, fs.String("name"));
      PLINTH_ASSIGN_OR_RETURN(record.version, fs.Int("version"));
      PLINTH_ASSIGN_OR_RETURN(record.features, Strings(fs, "features"));
      PLINTH_ASSIGN_OR_RETURN(record.entities, fs.String("entities", ""));
      PLINTH_ASSIGN_OR_RETURN(record.timestamp_column, fs.String("timestamp_column", ""));
      if (fs.Has("on_demand")) {
        PLINTH_ASSIGN_OR_RETURN(const Json* od, fs.Object("on_demand"));
        for (const auto& [name, expression] : od->items()) {
          if (!expression.is_string()) {
            return InvalidArgument(fs.At("on_demand") + ": '" + name + "': expected an expression");
          }
          record.on_demand[name] = expression.get<std::string>();
        }
      }
      r.feature_service = std::move(record);
    }
    m.trained = std::move(r);
  }
  return m;
}

}  // namespace plinth::ml
