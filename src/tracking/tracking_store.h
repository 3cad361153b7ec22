// The tracking store: MLflow's tracking operations over Plinth's metadata store.
//
// Errors carry MLflow's meaning through Status codes (tracking/mlflow_json.h
// maps them to MLflow's error_code names): kNotFound = RESOURCE_DOES_NOT_EXIST,
// kAlreadyExists = RESOURCE_ALREADY_EXISTS, kInvalidArgument =
// INVALID_PARAMETER_VALUE, kFailedPrecondition = INVALID_STATE. Messages follow
// MLflow's wording, so clients that match on them keep working.

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

// Contracts, for every implementation (the SQL store and the REST client):
// - Thread safety: none. A store is one connection (a database connection, or
//   one keep-alive HTTP handle); use it from one thread at a time, and open one
//   per thread (tracking::Service keeps a pool for servers).
// - Blocking: every call is one or a few round trips to the database or the
//   server; writes may wait for the database's write lock (SQLite: up to its
//   busy timeout, then kUnavailable) and, over HTTP, for the server's answer
//   (the client's timeout, then kUnavailable).
// - Not found: calls naming an experiment, run or key that does not exist
//   return kNotFound (RESOURCE_DOES_NOT_EXIST) with MLflow's message; none
//   returns an empty entity instead.
// - Errors otherwise: kInvalidArgument for a value MLflow refuses (names,
//   lengths, a malformed filter) and, as MLflow answers it, for a write to a
//   deleted experiment or run; kAlreadyExists for a duplicate name;
//   kFailedPrecondition for a lifecycle move that does not apply (restoring
//   an active experiment, renaming a deleted one). A failed call writes nothing.
class TrackingStore {
 public:
  virtual ~TrackingStore() = default;

  // Experiments.
  // The new experiment's id. kAlreadyExists when an experiment (also a
  // deleted one) has the name.
  virtual Result<std::string> CreateExperiment(const std::string& name,
                                               const std::string& artifact_location,
                                               const std::vector<Tag>& tags) = 0;
  // kNotFound for an unknown id; deleted experiments are returned.
  virtual Result<Experiment> GetExperiment(const std::string& experiment_id) = 0;
  // kNotFound when no experiment, active or deleted, has the name.
  virtual Result<Experiment> GetExperimentByName(const std::string& name) = 0;
  // A page in `query.order_by` order (default: newest first); never kNotFound.
  virtual Result<Page<Experiment>> SearchExperiments(const ExperimentQuery& query) = 0;
  // Marks the experiment and its runs deleted / active again. kNotFound for
  // an unknown id; deleting the default experiment "0" is kInvalidArgument,
  // restoring an active one kFailedPrecondition.
  virtual Status DeleteExperiment(const std::string& experiment_id) = 0;
  virtual Status RestoreExperiment(const std::string& experiment_id) = 0;
  // kNotFound for an unknown id, kAlreadyExists for a taken name,
  // kFailedPrecondition for a deleted experiment.
  virtual Status RenameExperiment(const std::string& experiment_id,
                                  const std::string& new_name) = 0;
  // Sets (replaces) or deletes one tag. kNotFound for an unknown experiment,
  // kInvalidArgument for a deleted one; deleting a tag the experiment lacks is
  // kNotFound.
  virtual Status SetExperimentTag(const std::string& experiment_id, const Tag& tag) = 0;
  virtual Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) = 0;

  // Runs.
  // The new run, RUNNING. kNotFound for an unknown experiment,
  // kInvalidArgument for a deleted one.
  virtual Result<Run> CreateRun(const NewRun& run) = 0;
  // The run with its latest metric values, params, tags and inputs. kNotFound
  // for an unknown id; deleted runs are returned.
  virtual Result<Run> GetRun(const std::string& run_id) = 0;
  // Changes what is given (status, end time, name: "" keeps the name).
  // kNotFound for an unknown run.
  virtual Result<RunInfo> UpdateRun(const std::string& run_id, std::optional<RunStatus> status,
                                    std::optional<int64_t> end_time,
                                    const std::string& run_name) = 0;
  // Marks the run deleted / active again. kNotFound for an unknown run.
  virtual Status DeleteRun(const std::string& run_id) = 0;
  virtual Status RestoreRun(const std::string& run_id) = 0;
  // A page of runs of `query.experiment_ids` matching the filter; never kNotFound.
  virtual Result<Page<Run>> SearchRuns(const RunQuery& query) = 0;

  // The datasets logged to runs of `experiment_ids`, distinct by experiment, name,
  // digest and context, at most 1,000 (MLflow's search-datasets). Ids that name no
  // experiment match nothing; never kNotFound.
  virtual Result<std::vector<DatasetSummary>> SearchDatasets(
      const std::vector<std::string>& experiment_ids) = 0;

  // Run data. kNotFound for an unknown run, kInvalidArgument for a run that
  // is deleted. A param is immutable: logging another value for its key is
  // kInvalidArgument (the same value again is OK).
  virtual Status LogMetric(const std::string& run_id, const Metric& metric) = 0;
  virtual Status LogParam(const std::string& run_id, const Param& param) = 0;
  virtual Status SetTag(const std::string& run_id, const Tag& tag) = 0;
  // kNotFound when the run has no tag `key`.
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
  // Records datasets as the run's inputs (a dataset logged again is kept once).
  virtual Status LogInputs(const std::string& run_id,
                           const std::vector<DatasetInput>& datasets) = 0;
  // Lineage: records an edge (again: no-op), and lists the edges that start or
  // end at `id` (any kind), oldest first: empty, not kNotFound, for an id
  // without edges. See tracking/lineage.h for the whole graph.
  virtual Status AddLineage(const LineageEdge& edge) = 0;
  virtual Result<std::vector<LineageEdge>> LineageOf(const std::string& id) = 0;

  // Logged models (MLflow 3). Not found is kNotFound "Logged model with ID '<id>' not
  // found."; a deleted model is found only by the calls that say so.
  // The new model, PENDING, its files at <experiment's artifact location>/models/<id>/
  // artifacts. kNotFound for an unknown experiment, kInvalidArgument for a deleted one
  // or a name with / : . % " '. The source run is kept as given, not checked.
  virtual Result<LoggedModel> CreateLoggedModel(const NewLoggedModel& model) = 0;
  // With its tags, params and metrics. A deleted model only with `allow_deleted`.
  virtual Result<LoggedModel> GetLoggedModel(const std::string& model_id, bool allow_deleted) = 0;
  // Sets the status (and the last-updated time); deleted models too.
  virtual Result<LoggedModel> FinalizeLoggedModel(const std::string& model_id,
                                                  LoggedModelStatus status) = 0;
  // Marks the model deleted (again: no-op).
  virtual Status DeleteLoggedModel(const std::string& model_id) = 0;
  // Sets (replaces) tags; deletes one (kNotFound when the model lacks it).
  virtual Status SetLoggedModelTags(const std::string& model_id, const std::vector<Tag>& tags) = 0;
  virtual Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) = 0;
  // Adds params; a key the model has is kInvalidArgument (params are immutable).
  virtual Status LogLoggedModelParams(const std::string& model_id,
                                      const std::vector<Param>& params) = 0;
  // Active models of `query.experiment_ids` matching the filter, newest first
  // unless ordered otherwise; never kNotFound.
  virtual Result<Page<LoggedModel>> SearchLoggedModels(const LoggedModelQuery& query) = 0;
  // Records logged models as the run's inputs (again: no-op) or outputs (again:
  // kInvalidArgument, as MLflow). The run must exist and be active; the models are
  // not checked, as MLflow does not.
  virtual Status LogModelInputs(const std::string& run_id,
                                const std::vector<std::string>& model_ids) = 0;
  virtual Status LogOutputs(const std::string& run_id, const std::vector<ModelOutput>& models) = 0;

  // Traces (MLflow's v2 trace API). Not found is kNotFound "Trace with request_id '<id>'
  // not found.".
  // A new trace, IN_PROGRESS, its spans' place tagged mlflow.artifactLocation =
  // <experiment's artifact location>/traces/<request_id>/artifacts. kNotFound for an
  // unknown experiment, kInvalidArgument for a deleted one.
  virtual Result<TraceInfo> StartTrace(const std::string& experiment_id, int64_t timestamp_ms,
                                       const std::vector<Tag>& request_metadata,
                                       const std::vector<Tag>& tags) = 0;
  // Ends it: the execution time from `timestamp_ms`, the status; metadata and tags merged.
  virtual Result<TraceInfo> EndTrace(const std::string& request_id, int64_t timestamp_ms,
                                     const std::string& status,
                                     const std::vector<Tag>& request_metadata,
                                     const std::vector<Tag>& tags) = 0;
  virtual Result<TraceInfo> GetTraceInfo(const std::string& request_id) = 0;
  // MLflow 3's StartTraceV3: the trace with the client's id (tr-<hex>), created, or
  // updated when it exists (its metadata and tags merged). Checks and the artifact
  // location tag as StartTrace.
  virtual Result<TraceInfo> PutTrace(const TraceInfo& trace) = 0;
  // Traces of `query.experiment_ids`, newest first unless ordered; never kNotFound.
  virtual Result<Page<TraceInfo>> SearchTraces(const TraceQuery& query) = 0;
  // The number of traces deleted; kInvalidArgument for a deletion MLflow refuses.
  virtual Result<int64_t> DeleteTraces(const TraceDeletion& deletion) = 0;
  // MLflow 3's link-to-run: the traces become the run's (a search for run_id = R finds
  // them besides those whose mlflow.sourceRun metadata is R). At most 100 ids; a link made
  // again is kept once; neither the traces nor the run are checked, as MLflow does not.
  virtual Status LinkTracesToRun(const std::vector<std::string>& trace_ids,
                                 const std::string& run_id) = 0;
  // MLflow 3's link-prompts: the prompt versions the trace used, found again by a search
  // for prompt = 'name/version'. kNotFound for an unknown trace; kInvalidArgument for an
  // empty name, a version that is not a positive integer or more than 1000 references;
  // a link made again is kept once. The versions are not checked, as MLflow does not.
  virtual Status LinkPromptsToTrace(const std::string& trace_id,
                                    const std::vector<PromptVersionRef>& prompts) = 0;
  // Sets (replaces) a tag; deleting one the trace lacks is kNotFound.
  virtual Status SetTraceTag(const std::string& request_id, const Tag& tag) = 0;
  virtual Status DeleteTraceTag(const std::string& request_id, const std::string& key) = 0;

  // MLflow 3's span logging (what OTLP ingestion calls): spans of one trace (else
  // kInvalidArgument), stored under its id (a span stored again replaces the earlier
  // one). A new trace is created in `experiment_id` (kNotFound for an unknown
  // experiment, kInvalidArgument for a deleted one or when the trace is another
  // experiment's); the trace's times widen to cover the spans, an unfinished trace takes
  // its state from the root span, empty previews are filled from the root's inputs and
  // outputs, and the trace is tagged mlflow.trace.spansLocation = TRACKING_STORE.
  virtual Status LogSpans(const std::string& experiment_id, const std::vector<Span>& spans) = 0;
  // The trace with its spans (root first, then by start time). kNotFound for an unknown
  // trace, and (unless `allow_partial`) while fewer spans are stored than its
  // mlflow.trace.sizeStats metadata counts; kFailedPrecondition when its spans are not
  // in the store (the client's traces.json).
  virtual Result<Trace> GetTrace(const std::string& trace_id, bool allow_partial) = 0;
  // The listed traces whose spans are all in the store, in the order listed; the others
  // are left out, as MLflow does. At most 1000 ids.
  virtual Result<std::vector<Trace>> BatchGetTraces(const std::vector<std::string>& trace_ids) = 0;
  // Assessments (MLflow 3). A new one gets its id and times from the store; one that
  // overrides another marks that one invalid (kNotFound when it is not the trace's).
  // kNotFound for an unknown trace or assessment.
  virtual Result<Assessment> CreateAssessment(const Assessment& assessment) = 0;
  virtual Result<Assessment> GetAssessment(const std::string& trace_id,
                                           const std::string& assessment_id) = 0;
  // Changes what `update` sets (a value of the other kind is kInvalidArgument) and the
  // update time; the source, span and creation time stay.
  virtual Result<Assessment> UpdateAssessment(const std::string& trace_id,
                                              const std::string& assessment_id,
                                              const AssessmentUpdate& update) = 0;
  // Deleting an unknown assessment is not an error (MLflow's idempotent delete); the one
  // it overrode becomes valid again.
  virtual Status DeleteAssessment(const std::string& trace_id,
                                  const std::string& assessment_id) = 0;

  // Every logged value of `key`, by step then timestamp. max_results 0 = all.
  // kNotFound for an unknown run; an unknown key gives an empty page.
  virtual Result<Page<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key,
                                                int64_t max_results,
                                                const std::string& page_token) = 0;
};

}  // namespace plinth::tracking
