// MLflow's JSON, as its server writes it (proto2 messages through
// message_to_json): snake_case field names, unset optional fields and empty
// repeated fields left out, int64 as JSON numbers, enums by name, NaN and
// infinities as the strings "NaN", "Infinity", "-Infinity". Requests are read
// the way its handlers read them: a JSON body, or query parameters for GET.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "http/server.h"
#include "tracking/mlflow_json.h"

namespace plinth::server {

using tracking::DoubleJson;
using tracking::ErrorCode;
using tracking::ToJson;

// MLflow's HTTP status for an error_code.
int HttpStatus(std::string_view error_code);
// {"error_code": ..., "message": ...} with the matching status.
http::Response ErrorResponse(std::string_view error_code, const std::string& message);
http::Response ErrorResponse(const Status& s);
http::Response JsonResponse(const core::Json& body);

// A request field's type, as its proto declares it.
// kEnum takes a name or a number, left for the handler to check.
// No MLflow message holds a million values (a batch is at most 1,000 metrics): request
// bodies with more are refused while parsed, before they are built into a tree many times
// their size (core::ParseJson's limits; 413 RESOURCE_EXHAUSTED).
inline constexpr size_t kMaxRequestValues = 1000000;

enum class FieldType { kString, kInt64, kDouble, kBool, kEnum, kStringList, kObjectList };

struct Field {
  std::string_view name;
  FieldType type;
  bool required = false;
};

// Reads the request message: the JSON body (POST, PATCH, DELETE) or the query
// parameters (GET; repeated parameters make lists), checks each declared field's
// type and presence as MLflow's handlers do, and returns the fields with JSON
// types (int64 fields as integers, numeric strings accepted). Errors are
// INVALID_PARAMETER_VALUE (InvalidArgument) with MLflow's messages, or
// BAD_REQUEST (Corruption) for a body that is not a JSON object.
Result<core::Json> ReadMessage(const http::Request& req, const std::vector<Field>& fields);
// ReadMessage's object before its field checks: every field the request gave.
Result<core::Json> ReadRawMessage(const http::Request& req);
// The field checks of ReadMessage on an already parsed object.
Result<core::Json> ReadFields(const core::Json& raw, const std::vector<Field>& fields);

}  // namespace plinth::server
