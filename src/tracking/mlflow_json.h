// MLflow's JSON for tracking and registry entities, as its server writes it
// (proto2 messages through message_to_json): snake_case names, unset optional
// fields and empty lists left out, int64 as JSON numbers, enums by name, NaN and
// infinities as "NaN", "Infinity", "-Infinity". The server writes with ToJson;
// the HTTP client reads with FromJson (which also takes int64 given as strings).
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"
#include "tracking/entities.h"
#include "tracking/registry_store.h"

namespace plinth::tracking {

core::Json ToJson(const Experiment& e);
core::Json ToJson(const RunInfo& info);
core::Json ToJson(const Run& run);
core::Json ToJson(const Metric& m);
core::Json ToJson(const LoggedModel& m);
core::Json ToJson(const TraceInfo& t);  // MLflow's v2 TraceInfo
core::Json ToJson(const ModelVersion& v);
core::Json ToJson(const RegisteredModel& m);
core::Json ToJson(const Dataset& d);
core::Json ToJson(const std::vector<Tag>& tags);  // [{key, value}]
core::Json DoubleJson(double v);

// The same JSON as ToJson, written straight into a JsonWriter: for pages of
// runs and metric histories, where building the tree costs more than the text.
// (ToJson of these is the parsed output of WriteJson: one definition each.)
void WriteJson(core::JsonWriter& w, const RunInfo& info);
void WriteJson(core::JsonWriter& w, const Run& run);
// With a run id, MLflow's MetricWithRunId (get-history-bulk-interval).
void WriteJson(core::JsonWriter& w, const Metric& m, std::string_view run_id = {});
void WriteJson(core::JsonWriter& w, const Dataset& d);
void WriteJson(core::JsonWriter& w, const LoggedModel& m);

Result<Experiment> ExperimentFromJson(const core::Json& j);
Result<RunInfo> RunInfoFromJson(const core::Json& j);
Result<Run> RunFromJson(const core::Json& j);
Result<Metric> MetricFromJson(const core::Json& j);
Result<LoggedModel> LoggedModelFromJson(const core::Json& j);
Result<TraceInfo> TraceInfoFromJson(const core::Json& j);
// MLflow 3's TraceInfoV3: trace_id, trace_location, request_time (RFC 3339),
// execution_duration ("0.012s"), state, trace_metadata and tags as maps. Reading
// checks what a client sends (kInvalidArgument naming the field).
core::Json TraceInfoV3Json(const TraceInfo& t);
Result<TraceInfo> TraceInfoFromV3Json(const core::Json& j);
// MLflow 3's Assessment (create_time and last_update_time in RFC 3339, the value of
// a feedback or an expectation as the client sent it) and Trace ({trace_info, spans}
// with OTel spans, tracking/spans.h).
core::Json ToJson(const Assessment& a);
Result<Assessment> AssessmentFromJson(const core::Json& j);
core::Json TraceV3Json(const Trace& t);
Result<Trace> TraceFromV3Json(const core::Json& j);
Result<ModelVersion> ModelVersionFromJson(const core::Json& j);
Result<RegisteredModel> RegisteredModelFromJson(const core::Json& j);

// Plinth's own entities, as `plinth server` answers them under /api/plinth/v1
// and the CLI prints them with --json: one shape each, written and read here.
core::Json ToJson(const LineageEdge& e);  // {src_kind, src_id, dst_kind, dst_id, relation, created}
core::Json ToJson(const RegistryEvent& e);  // {name, version, kind, key, from, to, user, time}
Result<LineageEdge> LineageEdgeFromJson(const core::Json& j);
core::Json ToJson(const DatasetSummary& d);  // {experiment_id, name, digest, context?}
Result<DatasetSummary> DatasetSummaryFromJson(const core::Json& j);
Result<RegistryEvent> RegistryEventFromJson(const core::Json& j);

// MLflow's error_code for a Status code, and back.
std::string_view ErrorCode(StatusCode code);
Status StatusFromError(std::string_view error_code, const std::string& message);

// MLflow's page tokens: base64 of {"offset": N}.
std::string EncodePageToken(int64_t offset);
Result<int64_t> DecodePageToken(std::string_view token);

}  // namespace plinth::tracking
