// Records a training run in the tracking store, as an MLflow user logs one:
// params (the config, flattened), the monitored metric per round with its step,
// the final metrics, the training data as a dataset input (a lineage edge from
// the data version), the bundle and the reports as artifacts, and the bundle
// registered as a new version of the model named in the config.
#pragma once

#include <string>
#include <vector>

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
  std::string artifact_uri;   // the run's
  int64_t model_version = 0;  // 0 when not registered
  std::string model_uri;      // models:/NAME/VERSION, or runs:/RUN_ID/model
};

// The config as MLflow params: dotted keys, values as text ("model.learning_rate" -> "0.1").
std::vector<tracking::Param> ConfigParams(const core::Json& config);

// The tag naming the process that writes a run of `plinth train`
// (core::ProcessToken), so that a later process can tell the run was killed.
inline constexpr const char* kProcessTag = "plinth.process";
// The tag saying why a run was marked FAILED.
inline constexpr const char* kFailureTag = "plinth.failure";

// Creates the run that training with `config` is recorded in (and its
// experiment when missing), RUNNING and tagged with this process
// (kProcessTag), before the training starts: a kill leaves it RUNNING for
// FailRunsOfGoneProcesses to find.
Result<TrackedRun> StartTrainingRun(const TrainingConfig& config, const TrackingTarget& target);

// Logs `result` of training with `config` into `run` (from StartTrainingRun)
// and marks it FINISHED. A failure marks it FAILED.
Result<TrackedRun> RecordTraining(const TrainingConfig& config, const TrainResult& result,
                                  const TrackingTarget& target, TrackedRun run);

// Marks `run` FAILED, with `why` in its kFailureTag: the training failed
// before there was anything to record.
Status FailTrainingRun(const TrackingTarget& target, const TrackedRun& run, const Status& why);

// The training as one MLflow trace in the run's experiment, linked to the run
// (mlflow.sourceRun and link-to-run), its spans stored as MLflow 3 clients send theirs,
// so one trace viewer shows Plinth's trainings beside an application's traces: a root
// span "plinth train NAME" from `start_ns` to `end_ns` (inputs: the config, data and
// model type; outputs: the bundle, run and metrics), and a child span per step of the
// report's timings_ms (load, clean_split, cross_validation, preprocess, fit, evaluate,
// bundle), laid end to end from the start. `result` null: the training failed with
// `failure` (the root span and the trace are ERROR). Returns the trace id.
Result<std::string> RecordTrainingTrace(const TrainingConfig& config, const TrainResult* result,
                                        const Status& failure, const TrackingTarget& target,
                                        const TrackedRun& run, int64_t start_ns, int64_t end_ns);

// Marks FAILED every RUNNING run of `store` whose process (kProcessTag) ran on
// this host and is gone: a `plinth train` that was killed, or crashed, before
// it could end its run. Runs of live processes, of other hosts and without the
// tag (logged by other clients) are left alone. Returns the ids it marked.
Result<std::vector<std::string>> FailRunsOfGoneProcesses(tracking::TrackingStore& store);

}  // namespace plinth::train
