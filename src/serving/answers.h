// The answers of the serving protocols (protocols.h reads their requests).
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "ml/bundle.h"
#include "serving/protocols.h"

namespace plinth::serving {

// The answers. `version` is the version reported; `timestamp` ISO-8601;
// `request_id` what /feedback refers to.
void WritePredictAnswer(std::string* out, const ml::Predictor& predictor,
                        const ml::Prediction& pred, std::string_view version,
                        std::string_view timestamp, std::string_view request_id);
// {"predictions": [label or value, ...]} (MLflow and KServe v1).
void WritePredictionsOnly(std::string* out, const ml::Predictor& predictor,
                          const ml::Prediction& pred);
void WriteInferAnswer(std::string* out, const ml::Predictor& predictor, const ml::Prediction& pred,
                      const InferRequest& request, std::string_view name, std::string_view version);
// GET /v2/models/NAME: the inputs (one tensor per column: the model's, or `request_schema`'s
// when a request carries other columns, as with looked-up features) and the outputs.
core::Json ModelMetadata(const ml::Predictor& predictor, std::string_view name,
                         std::string_view version, const table::Schema* request_schema = nullptr);

}  // namespace plinth::serving
