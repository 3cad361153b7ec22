// Records a training run in the tracking store, as an MLflow user logs one:
// params (the config, flattened), the monitored metric per round with its step,
// the final metrics, the training data as a dataset input (a lineage edge from
// the data version), the bundle and the reports as artifacts, and the bundle
// registered as a new version of the model named in the config.
#pragma once

#include <string>

#include "core/status.h"
#include "tracking/artifacts.h"
#include "tracking/model_uri.h"
#include "tracking/registry_store.h"
#include "tracking/tracking_store.h"
#include "train/config.h"
#include "train/train.h"

namespace plinth::train {

struct TrackingTarget {
  tracking::TrackingStore* tracking = nullptr;
  tracking::RegistryStore* registry = nullptr;
  const tracking::ArtifactSink* artifacts = nullptr;
  std::string user;          // mlflow.user
  std::string pipeline_run;  // the `plinth run` this training ran in ("" = none)
};

struct TrackedRun {
  std::string experiment_id;
  std::string run_id;
  int64_t model_version = 0;  // 0 when not registered
  std::string model_uri;      // models:/NAME/VERSION, or runs:/RUN_ID/model
};

// The config as MLflow params: dotted keys, values as text ("model.learning_rate" -> "0.1").
std::vector<tracking::Param> ConfigParams(const core::Json& config);

// Logs `result` of training with `config` as a finished run. A failure after
// the run was created marks it FAILED.
Result<TrackedRun> RecordTraining(const TrainingConfig& config, const TrainResult& result,
                                  const TrackingTarget& target);

}  // namespace plinth::train
