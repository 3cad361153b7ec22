// plinth-model.json, typed (docs/FORMATS.md "Model bundle"): what a bundle is (name, kind,
// task, inputs, class labels, threshold) and, for a bundle Plinth trained, what its training
// recorded (data summary, fit, metrics, config, warnings). Written by train and import, read by
// the Predictor, serving, the CLI and tracking through these fields, never by string keys.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "ml/model.h"
#include "table/table.h"

namespace plinth::ml {

inline constexpr std::string_view kBundleMetaFile = "plinth-model.json";
inline constexpr std::string_view kBundleFormat = "plinth.model/v1";

// One cleaning step of a training run: the rows it saw and the rows it removed.
struct CleaningStep {
  std::string step;     // "missing_label", "duplicates", "outliers"
  std::string setting;  // the config that drives it, as the report shows it
  int64_t rows_in = 0;
  int64_t rows_removed = 0;

  double fraction() const {
    return rows_in > 0 ? static_cast<double>(rows_removed) / static_cast<double>(rows_in) : 0.0;
  }
};

// The data a model was trained on and what became of its rows.
struct DataSummary {
  std::string path;
  std::string sha256;  // of the data file
  int64_t rows = 0;
  int64_t rows_without_label = 0;
  int64_t duplicate_rows_dropped = 0;
  int64_t outlier_rows_dropped = 0;
  int64_t train_rows = 0;
  int64_t validation_rows = 0;
  int64_t test_rows = 0;
  std::optional<std::string> test_file;  // data.test; none: the test rows were split off
  int64_t features = 0;                  // after preprocessing
  std::vector<CleaningStep> cleaning;
};

// The fit: the monitored metric per round and the round kept.
struct FitSummary {
  std::string monitor;
  bool maximize = false;
  int rounds = 0;
  int best_round = 0;                     // 0-based
  std::optional<double> best_validation;  // none without validation rows
  bool stopped_early = false;
  core::Json library_params = core::Json::object();
  // (train, validation) per round; validation none without validation rows.
  std::vector<std::pair<double, std::optional<double>>> history;
};

// The feature service a model was trained on (train.yaml's data.features): what serving looks
// up for it, each group at the version the training set read.
struct FeatureServiceRecord {
  std::string service;
  int64_t version = 0;
  std::vector<std::string> features;  // "weather@2:temp", "temp_c": the service's, in order
  std::string entities;               // the entity rows the training set was built from
  std::string timestamp_column;       // theirs, the features were taken as of
  // The on-demand features' expressions as trained: serving refuses a registry that changed
  // them since.
  std::map<std::string, std::string> on_demand;
  bool operator==(const FeatureServiceRecord&) const = default;
};

// What a training run recorded; absent in imported bundles.
struct TrainingRecord {
  DataSummary data;
  FitSummary fit;
  // {"validation": M, "test": M, "cv": {"folds", "mean": M, "std": M}}, each M as ml::ToJson
  // writes a metric set (its keys depend on the task; docs/FORMATS.md). Absent parts: no key.
  core::Json metrics = core::Json::object();
  core::Json params = core::Json::object();  // the training config (TrainingConfig::ToJson)
  std::vector<std::string> warnings;
  std::optional<FeatureServiceRecord> feature_service;
};

struct BundleMeta {
  std::string name;
  std::string uuid;
  std::string kind;  // a ModelKind's name
  Task task = Task::kBinary;
  std::string model_file;  // the model's file in the bundle
  std::string target_name;
  std::string target_type;                // a table type name
  std::vector<std::string> class_labels;  // classification: in the model's output order
  double threshold = 0.5;                 // binary: P(class_labels[1]) at or above it
  table::Schema input_schema;             // the raw columns the model reads
  std::vector<std::string> dropped_columns;
  std::vector<std::string> feature_names;       // after preprocessing, in model order
  bool imported = false;                        // wrapped by `plinth import`, not trained here
  std::string created;                          // ISO 8601, UTC
  std::map<std::string, std::string> versions;  // library -> version it was written with
  std::optional<TrainingRecord> trained;
};

// plinth-model.json's content for `meta`.
core::Json ToJson(const BundleMeta& meta);
// Parses plinth-model.json's content. Errors name `where` (the file) and the key.
Result<BundleMeta> BundleMetaFromJson(const core::Json& json, std::string_view where);

// The data summary and the fit as a training report shows them (the keys plinth-model.json
// uses); the fit without its per-round history unless `history`.
core::Json ToJson(const DataSummary& data);
core::Json ToJson(const FitSummary& fit, bool history);

// The input schema as plinth-model.json stores it: [{"name", "type"}, ...].
core::Json SchemaToJson(const table::Schema& schema);
Result<table::Schema> SchemaFromJson(const core::Json& json, std::string_view where);

}  // namespace plinth::ml
