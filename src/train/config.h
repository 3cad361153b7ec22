// The training configuration (train.yaml, docs/TRAINING.md): what to read,
// how to clean and encode it, how to split, which model to fit and where to
// write the bundle. LoadTrainingConfig validates everything that can be
// checked without reading the data, so a bad config fails before any work.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "ml/bundle_meta.h"
#include "ml/model.h"
#include "ml/preprocess.h"
#include "ml/split.h"

namespace plinth::train {

struct TrainingConfig {
  std::string source;  // the config file (for messages)
  std::string name;    // the model's name
  uint64_t seed = 42;

  // data
  std::string data_path;  // resolved against the config file's directory
  // data.features instead of data.path: the training set is built from the feature store, a
  // point-in-time join of these entity rows with the service's features (plinth features
  // historical), written to data_path (OUTPUT.training-set.parquet beside the bundle) by the
  // caller, which also fills `feature_service` with what it read.
  struct FeatureInput {
    std::string entities;  // resolved like data_path
    std::string service;
    std::string timestamp_column;  // "": the entities' only timestamp column
  };
  std::optional<FeatureInput> features;
  std::optional<ml::FeatureServiceRecord> feature_service;
  std::string test_path;  // optional labelled file evaluated instead of the test split
  std::string target;
  std::optional<ml::Task> task;  // inferred when absent
  std::string positive_class;    // binary: the label that is class 1
  std::vector<std::string> id_columns, ignore_columns;
  std::string delimiter;                 // "" = detect
  std::vector<std::string> null_values;  // empty = the CSV reader's defaults

  // clean + features. By default no row with a label is dropped: duplicates
  // are kept, and outliers are clipped (linear, mlp) or left alone (tree
  // kinds: clean.outliers.method none unless the config sets a method or an
  // action).
  bool drop_duplicates = false;
  ml::PreprocessOptions preprocess;

  // split
  ml::SplitFractions split;
  bool stratify = true;
  int cv_folds = 0;

  // model
  std::string model_type = "gbdt";
  double learning_rate = 0;  // 0 = the kind's default
  int batch_size = 256;
  int epochs = 0;  // 0 = the kind's default
  int early_stopping_patience = 5;
  std::string monitor = "loss";
  std::string class_weight = "none";  // none | balanced
  double threshold = 0.5;
  int threads = 0;
  core::Json params = core::Json::object();

  std::string output;  // bundle directory, resolved like data_path

  // monitoring: the reference set written into the bundle (reference.csv.gz): a seeded
  // sample of at most this many held-out rows (validation and test); 0 writes none.
  int64_t reference_rows = 100000;

  // tracking: where the run is recorded (the project's store, or --tracking-uri)
  std::string experiment;      // "" = the model's name
  bool register_model = true;  // register the bundle as a version of `name`

  // The whole config as JSON (recorded in the bundle and the run's params).
  core::Json ToJson() const;
};

// Reads `path`, applies each "key.path=value" of `overrides` (the value is
// parsed as YAML, so lists work: model.params.hidden_layers=[32,16]) and
// validates. Errors name the file, line and key: `train.yaml:12: key
// 'model.epochs': expected a positive integer, got "ten"`.
Result<TrainingConfig> LoadTrainingConfig(const std::string& path,
                                          const std::vector<std::string>& overrides);

// Defaults that depend on the model kind are in the model-kind table
// (ml::ModelKind: learning_rate, epochs, stops_early). The outlier method of a config that sets
// neither clean.outliers.method nor clean.outliers.action: kNone for tree kinds (ModelKind::trees),
// whose splits ignore how far out a value lies; kIqr otherwise, with the default action (clip), so
// linear and mlp models see bounded inputs and lose no row.
ml::OutlierMethod DefaultOutlierMethod(const ml::ModelKind& kind);

}  // namespace plinth::train
