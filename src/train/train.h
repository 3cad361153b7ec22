// The training pipeline: load -> clean -> split -> fit preprocessing on the
// training rows -> fit the model with early stopping -> evaluate -> write the
// model bundle. Every step is driven by a TrainingConfig; every statistic is
// learned from the training split only.
#pragma once

#include <string>

#include "core/json.h"
#include "core/status.h"
#include "ml/bundle.h"
#include "ml/model.h"
#include "table/table.h"
#include "train/config.h"

namespace plinth::train {

struct TrainOptions {
  bool progress = true;  // rounds and epochs on stderr
};

struct TrainResult {
  // The run's report: config, data summary, fit history summary, metrics
  // (validation, test, cv). Also recorded in plinth-model.json.
  core::Json report;
  ml::FitReport fit;
  std::string bundle_dir;
  // The model as trained (in memory); its meta() is plinth-model.json as written.
  std::unique_ptr<ml::Predictor> predictor;
};

// Runs the pipeline for `config` and writes the bundle to config.output.
// Bad data (missing target or columns, one class, non-numeric regression
// target, empty split) is reported before any model is fitted.
Result<TrainResult> Train(const TrainingConfig& config, const TrainOptions& options);

// Evaluates `predictor` on the labelled rows of `data` (target column named
// in the bundle). `source` names the data in errors. Returns the metrics JSON
// (as ml::ToJson, with "rows" and "task").
// `predict_ms`, when given, receives the time the model's own inference took.
Result<core::Json> Evaluate(const ml::Predictor& predictor, const table::Table& data,
                            std::string_view source, double* predict_ms = nullptr);

// Reads the CSV at `path` and evaluates it.
Result<core::Json> EvaluateFile(const ml::Predictor& predictor, const std::string& path);

// Plain-text rendering of a metrics JSON (a table, and the confusion matrix).
std::string FormatMetrics(const core::Json& metrics);

// The HTML report of a training run from its bundle's `meta`: data
// summary, metrics, confusion matrix and the learning curve (train and
// validation metric per round, the kept round marked). One offline file.
std::string RenderTrainingHtml(const ml::BundleMeta& meta);
// The HTML report of an evaluation: `metrics` of `model` on `data`.
std::string RenderMetricsHtml(const core::Json& metrics, std::string_view model,
                              std::string_view data);

}  // namespace plinth::train
