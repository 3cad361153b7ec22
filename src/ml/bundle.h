// The model bundle (a directory, docs/FORMATS.md) and the Predictor that
// serves it.
//
//   plinth-model.json  name, task, kind, input schema, class labels, threshold,
//                      metrics, params, training data digest, created, versions
//                      (ml::BundleMeta, ml/bundle_meta.h)
//   preprocess.json    the fitted Preprocessor
//   model.ubj | model.pt  the model in its library's own format
//   reference.json     the profile of the training split (quick drift checks)
//   reference.csv.gz   the reference set: a sample of held-out rows with the
//                      model's outputs on them (the monitoring reference)
//   MLmodel            MLflow model metadata
//
// A Predictor holds a loaded bundle: preprocessing plus model. It is
// immutable; Predict is thread-safe, so serving shares one through
// shared_ptr<const Predictor> and swaps it on reload.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "ml/bundle_meta.h"
#include "ml/model.h"
#include "ml/preprocess.h"
#include "table/table.h"

namespace plinth::ml {

// Predictions for rows, in row order.
struct Prediction {
  Task task = Task::kBinary;
  int64_t rows = 0;
  int num_classes = 0;         // classification: the number of class labels
  std::vector<double> proba;   // classification: rows x num_classes (binary too)
  std::vector<int> classes;    // classification: index into class_labels
  std::vector<double> values;  // regression
};

class Predictor {
 public:
  // `meta` describes the bundle; Create checks that a classifier has its class labels
  // (two for a binary one) and that every input column has a transform in `preprocess`.
  static Result<std::unique_ptr<Predictor>> Create(BundleMeta meta, Preprocessor preprocess,
                                                   std::unique_ptr<Model> model);
  // Loads the bundle directory `dir` (or an MLflow model directory Plinth can score,
  // ml/mlflow_model.h). Errors name the file and the key.
  static Result<std::unique_ptr<Predictor>> Load(const std::string& dir);

  // Preprocesses the raw `rows` (columns by name, see Preprocessor::Transform)
  // and predicts them.
  Result<Prediction> Predict(const table::Table& rows) const;
  // The threads one Predict call uses (Model::SetPredictThreads). Before sharing.
  Status SetPredictThreads(int threads) { return model_->SetPredictThreads(threads); }
  // What evaluates the model (Model::PredictEngine).
  std::string PredictEngine() const { return model_->PredictEngine(); }
  // Predicts an already transformed feature matrix.
  Result<Prediction> PredictFeatures(const Matrix& x) const;
  // The predictions for raw model outputs (as Model::Predict returns them).
  Prediction FromOutputs(const Matrix& out) const;

  // What training recorded, written with the bundle. Before sharing.
  void SetTrainingRecord(TrainingRecord record) { meta_.trained = std::move(record); }

  Task task() const { return meta_.task; }
  const std::vector<std::string>& class_labels() const { return meta_.class_labels; }
  const table::Schema& input_schema() const { return meta_.input_schema; }
  double threshold() const { return meta_.threshold; }
  const BundleMeta& meta() const { return meta_; }
  const Preprocessor& preprocessor() const { return preprocess_; }
  const Model& model() const { return *model_; }

 private:
  Predictor() = default;
  BundleMeta meta_;
  Preprocessor preprocess_;
  std::unique_ptr<Model> model_;
};

// The reference set's file in a bundle (docs/FORMATS.md).
inline constexpr std::string_view kReferenceSetFile = "reference.csv.gz";

// `rows` with the model's outputs appended as `plinth predict` writes them: `prediction`
// (the class label, or the value) and, for classifiers, `probability_<label>` per class.
// kInvalidArgument when `rows` already has a column of one of those names.
Result<table::Table> AppendPredictions(const Predictor& predictor, const table::Table& rows);

// Writes a bundle for `predictor` into `dir`: every file is written to a
// sibling temporary directory first, which then replaces `dir` in one
// rename, so readers see the old bundle or the new one, never a mix.
// plinth-model.json holds the predictor's meta; `reference` (a profile's
// JSON) is written when it is not null, and `reference_set` (kReferenceSetFile) when
// given.
Status WriteBundle(const std::string& dir, const Predictor& predictor, const core::Json& reference,
                   const table::Table* reference_set = nullptr);

// Checks, before any work, that WriteBundle(`dir`) can succeed as far as the
// file system tells: `dir` is absent or a bundle, and a temporary can be made
// beside it (parent directories are created). Errors name `dir`, never the
// temporary: kFailedPrecondition or kIoError.
Status CheckBundleTarget(const std::string& dir);

// Wraps a model trained elsewhere into a bundle at `dir`: `library` is
// "xgboost" (UBJSON, JSON or binary model bytes) or "torch" (TorchScript).
// `schema` describes it (docs/FORMATS.md): {"task", "class_labels",
// "target", "inputs": [{"name", "type"}], "threshold"?, "name"?}; the inputs
// are the model's features in order, numeric, passed through unchanged.
// The model is checked by predicting one row of zeros before anything is
// written. Errors name `schema_source` and the key.
Result<std::unique_ptr<Predictor>> ImportModel(std::string_view library, std::string_view bytes,
                                               const core::Json& schema,
                                               std::string_view schema_source,
                                               const std::string& dir);

// ImportModel's predictor, checked, without writing a bundle ("name" in `schema`
// names it; "model" when absent).
Result<std::unique_ptr<Predictor>> BuildImportedModel(std::string_view library,
                                                      std::string_view bytes,
                                                      const core::Json& schema,
                                                      std::string_view schema_source);

// The MLmodel file (YAML) for a bundle described by `meta`.
std::string MlmodelText(const BundleMeta& meta);

}  // namespace plinth::ml
