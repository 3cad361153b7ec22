// Experiment tracking's entities, shaped as MLflow's protos define them
// (service.proto): the store returns them, the server and the HTTP client
// convert them to and from MLflow's JSON (tracking/mlflow_json.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace plinth::tracking {

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage;  // "active" | "deleted"
  int64_t creation_time = 0;    // ms since the epoch
  int64_t last_update_time = 0;
  std::vector<Tag> tags;
};

// MLflow's RunStatus enum, numbered as in the proto.
enum class RunStatus { kRunning = 1, kScheduled = 2, kFinished = 3, kFailed = 4, kKilled = 5 };
std::string_view RunStatusName(RunStatus s);
Result<RunStatus> ParseRunStatus(std::string_view name);

// MLflow's ViewType: which lifecycle stages a search returns.
enum class ViewType { kActiveOnly = 1, kDeletedOnly = 2, kAll = 3 };
Result<ViewType> ParseViewType(std::string_view name);

struct RunInfo {
  std::string run_id;
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  std::string lifecycle_stage;
};

struct Metric {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;
  int64_t step = 0;
  // MLflow 3: the logged model the value measures, and the dataset it was measured on
  // ("" = none). A metric with a model_id is also the model's (LoggedModel.data.metrics);
  // a run's own metric views never show these.
  std::string model_id = {};
  std::string dataset_name = {};
  std::string dataset_digest = {};
  std::string run_id = {};  // set in a logged model's metrics: the run that logged it
  bool operator==(const Metric&) const = default;
};

struct Param {
  std::string key;
  std::string value;
  bool operator==(const Param&) const = default;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::optional<std::string> schema;
  std::optional<std::string> profile;
};

struct DatasetInput {
  std::vector<Tag> tags;
  Dataset dataset;
};

// A dataset logged to a run of an experiment, with the context of that input
// (its mlflow.data.context tag; none when untagged): what search-datasets answers.
struct DatasetSummary {
  std::string experiment_id;
  std::string name;
  std::string digest;
  std::optional<std::string> context;
};

// A logged model a run produced, at a step (MLflow 3's ModelOutput).
struct ModelOutput {
  std::string model_id;
  int64_t step = 0;
  bool operator==(const ModelOutput&) const = default;
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // the latest value of each key
  std::vector<Param> params;
  std::vector<Tag> tags;
  std::vector<DatasetInput> inputs;
  std::vector<std::string> model_inputs = {};   // logged models the run used (MLflow 3)
  std::vector<ModelOutput> model_outputs = {};  // logged models the run produced
};

// MLflow 3's LoggedModelStatus, numbered as in the proto.
enum class LoggedModelStatus { kUnspecified = 0, kPending = 1, kReady = 2, kUploadFailed = 3 };
std::string_view LoggedModelStatusName(LoggedModelStatus s);
// A name (LOGGED_MODEL_READY) or a number ("2").
Result<LoggedModelStatus> ParseLoggedModelStatus(std::string_view name);

// MLflow 3's LoggedModel: a model's files (under artifact_uri), made by a run or
// on its own, with its own params, tags and metrics.
struct LoggedModel {
  std::string model_id;  // m-<32 hex>
  std::string experiment_id;
  std::string name;
  int64_t creation_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
  std::string artifact_uri;
  LoggedModelStatus status = LoggedModelStatus::kPending;
  std::string lifecycle_stage;  // "active" | "deleted"
  std::string model_type;
  std::string source_run_id;
  std::vector<Tag> tags;
  std::vector<Param> params;
  std::vector<Metric> metrics;  // every value logged with its model_id
};

struct NewLoggedModel {
  std::string experiment_id;
  std::string name;  // "" = generated
  std::string model_type;
  std::string source_run_id;
  std::vector<Param> params;
  std::vector<Tag> tags;
};

// search-logged-models: ordering by an attribute or metrics.<key> (its latest value,
// on a dataset when given).
struct LoggedModelOrder {
  std::string field_name;
  bool ascending = true;
  std::string dataset_name;
  std::string dataset_digest;
};

struct LoggedModelQuery {
  std::vector<std::string> experiment_ids;
  std::string filter;
  // Datasets metric clauses are limited to: name, and digest ("" = any).
  std::vector<std::pair<std::string, std::string>> datasets;
  int64_t max_results = 50;
  std::vector<LoggedModelOrder> order_by;
  std::string page_token;
};

// An assessment of a trace (MLflow 3's Assessment): a feedback (a judgement, with an
// optional error) or an expectation (the ground truth), by a source.
struct Assessment {
  std::string assessment_id;  // a-<32 hex>, the server's
  std::string trace_id;
  std::string name;
  std::string span_id = {};      // "" = the whole trace
  std::string source_type = {};  // HUMAN | LLM_JUDGE | CODE | SOURCE_TYPE_UNSPECIFIED
  std::string source_id = {};
  int64_t create_time_ms = 0;
  int64_t last_update_time_ms = 0;
  bool is_expectation = false;             // else a feedback
  std::string value_json = {};             // the value (google.protobuf.Value) as JSON, "" = none
  std::string error_json = {};             // a feedback's AssessmentError as JSON, "" = none
  std::string serialized_value_json = {};  // an expectation's serialized_value, "" = none
  std::string rationale = {};
  std::vector<Tag> metadata = {};
  std::string overrides = {};  // the assessment this one replaces, "" = none
  bool valid = true;           // false once another assessment overrides it
  std::string run_id = {};
};

// What UpdateAssessment changes (MLflow's update mask): each set field.
struct AssessmentUpdate {
  std::optional<std::string> name;
  // The new value of the same kind as the assessment's: {value_json, error_json,
  // serialized_value_json} of `is_expectation`.
  std::optional<Assessment> value;
  std::optional<std::string> rationale;
  std::optional<std::vector<Tag>> metadata;  // merged into the existing metadata
};

// An MLflow trace's info (the v2 TraceInfo): one request through an instrumented
// application. Its spans are in the metadata store when the trace's
// mlflow.trace.spansLocation tag says TRACKING_STORE (sent over OTLP), else the
// client's, in traces.json under the trace's mlflow.artifactLocation tag.
struct TraceInfo {
  std::string request_id;  // 32 hex
  std::string experiment_id;
  int64_t timestamp_ms = 0;
  std::optional<int64_t> execution_time_ms;  // none while in progress
  std::string status;                        // TRACE_STATUS_UNSPECIFIED | OK | ERROR | IN_PROGRESS
  std::vector<Tag> request_metadata;
  std::vector<Tag> tags;
  // MLflow 3's TraceInfoV3 besides ("" = none): the application's own id, and short
  // previews of the request and the response.
  std::string client_request_id = {};
  std::string request_preview = {};
  std::string response_preview = {};
  std::vector<Assessment> assessments = {};  // MLflow 3's, oldest first
};

// One span of a trace as MLflow's SQL store keeps it: the columns a read needs and
// `content`, MLflow's span dictionary (Span.to_dict(): base64 ids, attribute values as
// JSON text), which is also what a traces.json file lists.
struct Span {
  std::string trace_id;        // MLflow's: tr-<32 hex>
  std::string span_id;         // 16 hex
  std::string parent_span_id;  // 16 hex, "" for the root
  std::string name;
  std::string type;    // the mlflow.spanType attribute, "" = none
  std::string status;  // OK | ERROR | UNSET
  int64_t start_time_ns = 0;
  std::optional<int64_t> end_time_ns;  // none while running
  std::string content;
};

// A trace with its spans, root first, then by start time.
struct Trace {
  TraceInfo info;
  std::vector<Span> spans;
};

struct TraceQuery {
  std::vector<std::string> experiment_ids;
  std::string filter;
  int64_t max_results = 100;
  std::vector<std::string> order_by;
  std::string page_token;
};

// Which traces delete-traces removes: those of the experiment up to a time (the oldest
// max_traces of them, when given), or the listed ones.
struct TraceDeletion {
  std::string experiment_id;
  std::optional<int64_t> max_timestamp_millis;
  std::optional<int64_t> max_traces;
  std::vector<std::string> request_ids;
};

// A prompt version a trace used (MLflow 3's link-prompts; searched as
// prompt = 'name/version').
struct PromptVersionRef {
  std::string name;
  std::string version;
};

// The tag naming where a trace's spans are (traces.json under it).
inline constexpr std::string_view kTraceArtifactLocationTag = "mlflow.artifactLocation";
// The tag saying the spans are in the metadata store (value kSpansInStore).
inline constexpr std::string_view kTraceSpansLocationTag = "mlflow.trace.spansLocation";
inline constexpr std::string_view kSpansInStore = "TRACKING_STORE";

// A lineage edge: `src` produced or fed `dst`. Kinds: "data" (a data version,
// id = its SHA-256), "pipeline_run", "run", "model_version" (id = NAME/VERSION),
// "deployment".
struct LineageEdge {
  std::string src_kind;
  std::string src_id;
  std::string dst_kind;
  std::string dst_id;
  std::string relation;  // e.g. "input", "produced", "registered"
  int64_t created = 0;   // ms since the epoch
  bool operator==(const LineageEdge&) const = default;
};

// The model registry's entities.

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string current_stage;  // None | Staging | Production | Archived
  std::string description;
  std::string source;
  // Where its files are: the source, or for a copy (source models:/NAME/VERSION) the
  // original's storage location, fixed when the copy is made (MLflow's storage_location).
  std::string storage_location;
  std::string run_id;
  std::string status;  // READY
  std::string status_message;
  std::vector<Tag> tags;
  std::string run_link;
  std::vector<std::string> aliases;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  std::vector<ModelVersion> latest_versions;  // the newest version in each stage
  std::vector<Tag> tags;
  std::vector<std::pair<std::string, int64_t>> aliases;  // alias -> version
};

// One alias or stage move.
struct RegistryEvent {
  std::string name;
  int64_t version = 0;  // the version the alias or stage now names (0: alias deleted)
  std::string kind;     // "alias" | "stage"
  std::string key;      // the alias, or "" for a stage
  std::string from;     // the previous version (alias) or stage; "" if none
  std::string to;       // the new one; "" when an alias is deleted
  std::string user_id;
  int64_t time = 0;    // ms since the epoch
  std::string reason;  // why a protected alias was forced (--force --reason), else ""
};

// A protected alias: moving it (or the stage of the same name) to a version needs that
// version's last run of the gates suite `suite` to have passed, with this very suite (its
// file's digest), and `approvals` approvals of the version.
struct AliasProtection {
  std::string name;
  std::string alias;
  std::string suite;
  std::string suite_sha256;
  int64_t approvals = 0;
  std::string user_id;
  int64_t time = 0;  // ms
};

// One `plinth models test` result as the registry keeps it (what protections read: the
// version's tags can be set by anyone who may edit it).
struct GateRun {
  std::string name;
  int64_t version = 0;
  std::string suite;
  std::string suite_sha256;
  bool passed = false;
  std::string failed;  // the failed gates, comma-separated
  std::string run_id;
  std::string data_sha256;
  std::string user_id;
  int64_t time = 0;  // ms
};

struct Approval {
  std::string name;
  int64_t version = 0;
  std::string user_id;
  int64_t time = 0;  // ms
};

// A deployment (plinth deploy): an environment's alias moved to a version, and whether the
// environment's endpoints then served it. `id` numbers it among the model's events.
struct Deployment {
  std::string name;
  int64_t id = 0;
  std::string env;               // the environment, which is the alias it moves
  int64_t version = 0;           // the version deployed
  int64_t previous_version = 0;  // the alias's version before (0: it was unset)
  std::string kind;              // "deploy" | "rollback"
  std::string gate_run_id;       // the gate run it ran ("" when it ran none)
  std::string user_id;
  int64_t time = 0;  // ms, when the alias moved
  // "moved" (alias moved, endpoints not yet confirmed: also what a deploy killed midway
  // leaves), "live" (every endpoint serves it), "timeout" (some did not in time).
  std::string status;
  std::string endpoints;  // JSON array: [{"url", "version", "ok"}] as last seen
  int64_t finished = 0;   // ms, when the endpoints were last checked (0: never)
  std::string reason;
};

// What plinth deploy asks the store to do, in one transaction: move `env`'s alias to
// `version` if it still names `expected_previous` (0: unset; -1: do not check), obeying the
// alias's protection (a rollback may skip it, but only to a version the alias named before),
// record the move in the history and the deployment.
struct NewDeployment {
  std::string name;
  std::string env;
  int64_t version = 0;
  int64_t expected_previous = -1;
  std::string kind = "deploy";
  std::string gate_run_id;
  std::string user_id;
  std::string reason;
};

// A plinth serve endpoint serving models:/NAME@ENV, as it registers itself (and renews
// every poll interval) where the registry is, for plinth deploy to wait for.
struct ServingEndpoint {
  std::string url;  // how clients (and plinth deploy) reach it
  std::string name;
  std::string env;
  int64_t version = 0;  // serving at its last heartbeat
  std::string host;
  int64_t pid = 0;
  int64_t poll_seconds = 0;  // its reload interval (the heartbeat's too)
  int64_t started = 0;       // ms
  int64_t heartbeat = 0;     // ms
};

struct NewModelVersion {
  std::string name;
  std::string source;
  // Where its files are when the caller resolved it (a logged model's location for
  // source models:/<model_id>); "" = from the source.
  std::string storage_location = {};
  std::string run_id;
  std::vector<Tag> tags;
  std::string run_link;
  std::string description;
  std::string user_id;
};

struct ModelQuery {
  std::string filter;
  int64_t max_results = 100;
  std::vector<std::string> order_by;
  std::string page_token;
};

// A page of results and the token of the next page ("" at the end).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

// Tags MLflow's clients set and read.
inline constexpr std::string_view kRunNameTag = "mlflow.runName";
inline constexpr std::string_view kParentRunTag = "mlflow.parentRunId";
inline constexpr std::string_view kUserTag = "mlflow.user";

}  // namespace plinth::tracking
