// The request bodies of the serving protocols, apart from HTTP and from the
// models so that each parser can be tested and fuzzed on its own (the answers
// are in answers.h):
//   Plinth     POST /predict       {"data": rows}
//   MLflow     POST /invocations   dataframe_split, dataframe_records,
//                                  instances, inputs (JSON) or text/csv
//   KServe v2  POST /v2/models/NAME[/versions/V]/infer   typed tensors
//   KServe v1  POST /v1/models/NAME:predict              {"instances": rows}
// Every parser reads into a table of the bundle's input schema with training's
// missing-value rules (RowsFromJson), so a row scores the same whichever
// protocol carried it. Errors are InvalidArgument naming the field, row and
// column; too many rows is ResourceExhausted; an unsupported Content-Type is
// Unimplemented (HTTP 415).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "table/table.h"

namespace plinth::serving {

struct InputLimits {
  size_t max_rows = 10000;
  std::vector<std::string> null_values;  // strings read as missing values
};

// POST /predict: {"data": [[...], ...]} or {"data": [{...}, ...]}. A
// well-formed body is read with simdjson straight into columns; anything else
// (errors included) goes through the general reader, which gives the same
// rows and the messages. `fast` false: the general reader only (the fuzzer
// checks that both agree).
Result<table::Table> ReadPredictBody(std::string_view body, const table::Schema& schema,
                                     const InputLimits& limits, bool fast = true);

// POST /invocations: `content_type` is the request's header ("" reads as JSON).
Result<table::Table> ReadInvocationsBody(std::string_view body, std::string_view content_type,
                                         const table::Schema& schema, const InputLimits& limits);

// POST .../infer. The inputs are either one tensor per model column, named
// after it, of shape [N] or [N, 1] (MLServer's pandas codec), or one tensor of
// shape [N, number of model columns] holding whole rows in the schema's order.
struct InferRequest {
  table::Table rows;
  std::optional<std::string> id;
  bool want_predictions = true;
  bool want_probabilities = true;  // classifiers only
};
Result<InferRequest> ReadInferBody(std::string_view body, const table::Schema& schema,
                                   const InputLimits& limits);

// The KServe v2 datatype a column of `type` travels as.
std::string_view TensorType(table::DataType type);

}  // namespace plinth::serving
