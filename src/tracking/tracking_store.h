// The tracking store: MLflow's tracking operations over Plinth's metadata store.
//
// Errors carry MLflow's meaning through Status codes (tracking/mlflow_json.h
// maps them to MLflow's error_code names): kNotFound = RESOURCE_DOES_NOT_EXIST,
// kAlreadyExists = RESOURCE_ALREADY_EXISTS, kInvalidArgument =
// INVALID_PARAMETER_VALUE, kFailedPrecondition = INVALID_STATE. Messages follow
// MLflow's wording, so clients that match on them keep working.
//
// A store wraps one database connection and is not thread-safe: open one per
// thread (the server keeps a pool).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tracking/entities.h"

namespace plinth::tracking {

struct ExperimentQuery {
  ViewType view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::string filter;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct RunQuery {
  std::vector<std::string> experiment_ids;
  std::string filter;
  ViewType view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct NewRun {
  std::string experiment_id;  // "" = the default experiment "0"
  std::string user_id;
  std::string run_name;               // "" = from the mlflow.runName tag, else generated
  std::optional<int64_t> start_time;  // ms; now when absent
  std::vector<Tag> tags;
};

// One LogBatch call's worth of run data.
struct LogRequest {
  std::string run_id;
  std::vector<Metric> metrics;
  std::vector<Param> params;
  std::vector<Tag> tags;
};

class TrackingStore {
 public:
  virtual ~TrackingStore() = default;

  // Experiments.
  virtual Result<std::string> CreateExperiment(const std::string& name,
                                               const std::string& artifact_location,
                                               const std::vector<Tag>& tags) = 0;
  virtual Result<Experiment> GetExperiment(const std::string& experiment_id) = 0;
  virtual Result<Experiment> GetExperimentByName(const std::string& name) = 0;
  virtual Result<Page<Experiment>> SearchExperiments(const ExperimentQuery& query) = 0;
  virtual Status DeleteExperiment(const std::string& experiment_id) = 0;
  virtual Status RestoreExperiment(const std::string& experiment_id) = 0;
  virtual Status RenameExperiment(const std::string& experiment_id,
                                  const std::string& new_name) = 0;
  virtual Status SetExperimentTag(const std::string& experiment_id, const Tag& tag) = 0;
  virtual Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) = 0;

  // Runs.
  virtual Result<Run> CreateRun(const NewRun& run) = 0;
  virtual Result<Run> GetRun(const std::string& run_id) = 0;
  virtual Result<RunInfo> UpdateRun(const std::string& run_id, std::optional<RunStatus> status,
                                    std::optional<int64_t> end_time,
                                    const std::string& run_name) = 0;
  virtual Status DeleteRun(const std::string& run_id) = 0;
  virtual Status RestoreRun(const std::string& run_id) = 0;
  virtual Result<Page<Run>> SearchRuns(const RunQuery& query) = 0;

  // Run data. A param is immutable: logging another value for its key is an error.
  virtual Status LogMetric(const std::string& run_id, const Metric& metric) = 0;
  virtual Status LogParam(const std::string& run_id, const Param& param) = 0;
  virtual Status SetTag(const std::string& run_id, const Tag& tag) = 0;
  virtual Status DeleteTag(const std::string& run_id, const std::string& key) = 0;
  // All or nothing, within MLflow's batch limits (1000 metrics, 100 params, 100 tags).
  virtual Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                          const std::vector<Param>& params, const std::vector<Tag>& tags) = 0;
  // Several independent LogBatch calls at once, with an outcome each exactly as
  // if each had been made alone, in order. The SQL store writes them in one
  // transaction with merged statements (the server's group commit); the
  // default makes the calls one by one.
  virtual std::vector<Status> LogBatches(const std::vector<LogRequest>& requests) {
    std::vector<Status> out;
    out.reserve(requests.size());
    for (const LogRequest& r : requests) {
      out.push_back(LogBatch(r.run_id, r.metrics, r.params, r.tags));
    }
    return out;
  }
  virtual Status LogInputs(const std::string& run_id,
                           const std::vector<DatasetInput>& datasets) = 0;
  // Lineage: records an edge (again: no-op), and lists the edges that start or
  // end at `id` (any kind), oldest first.
  virtual Status AddLineage(const LineageEdge& edge) = 0;
  virtual Result<std::vector<LineageEdge>> LineageOf(const std::string& id) = 0;

  // Every logged value of `key`, by step then timestamp. max_results 0 = all.
  virtual Result<Page<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key,
                                                int64_t max_results,
                                                const std::string& page_token) = 0;
};

}  // namespace plinth::tracking
