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
core::Json ToJson(const ModelVersion& v);
core::Json ToJson(const RegisteredModel& m);
core::Json ToJson(const Dataset& d);
core::Json ToJson(const std::vector<Tag>& tags);  // [{key, value}]
core::Json DoubleJson(double v);

Result<Experiment> ExperimentFromJson(const core::Json& j);
Result<RunInfo> RunInfoFromJson(const core::Json& j);
Result<Run> RunFromJson(const core::Json& j);
Result<Metric> MetricFromJson(const core::Json& j);
Result<ModelVersion> ModelVersionFromJson(const core::Json& j);
Result<RegisteredModel> RegisteredModelFromJson(const core::Json& j);

// MLflow's error_code for a Status code, and back.
std::string_view ErrorCode(StatusCode code);
Status StatusFromError(std::string_view error_code, const std::string& message);

}  // namespace plinth::tracking
