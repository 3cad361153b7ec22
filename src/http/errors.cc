#include "http/errors.h"

namespace plinth::http {
namespace {

struct Mapping {
  StatusCode code;
  int http_status;
  std::string_view error_code;
};

// Status codes first: the first row naming a code or an error_code is the one
// used for it.
constexpr Mapping kMappings[] = {
    {StatusCode::kInvalidArgument, 400, "INVALID_PARAMETER_VALUE"},
    {StatusCode::kNotFound, 404, "RESOURCE_DOES_NOT_EXIST"},
    {StatusCode::kAlreadyExists, 400, "RESOURCE_ALREADY_EXISTS"},
    {StatusCode::kFailedPrecondition, 400, "INVALID_STATE"},
    {StatusCode::kCorruption, 400, "BAD_REQUEST"},
    {StatusCode::kUnavailable, 503, "TEMPORARILY_UNAVAILABLE"},
    {StatusCode::kUnimplemented, 501, "NOT_IMPLEMENTED"},
    {StatusCode::kPermissionDenied, 403, "PERMISSION_DENIED"},
    {StatusCode::kUnauthenticated, 401, "UNAUTHENTICATED"},
    {StatusCode::kResourceExhausted, 413, "RESOURCE_EXHAUSTED"},
    {StatusCode::kInternal, 500, "INTERNAL_ERROR"},
    {StatusCode::kIoError, 500, "INTERNAL_ERROR"},
    // error_codes Plinth answers by name, without a Status code of their own.
    {StatusCode::kNotFound, 404, "ENDPOINT_NOT_FOUND"},
    // MLflow's name for a 429 (a client over its limits).
    {StatusCode::kResourceExhausted, 429, "REQUEST_LIMIT_EXCEEDED"},
};

}  // namespace

int HttpStatusFor(StatusCode code) {
  for (const Mapping& m : kMappings) {
    if (m.code == code) {
      return m.http_status;
    }
  }
  return 500;
}

std::string_view ErrorCodeFor(StatusCode code) {
  for (const Mapping& m : kMappings) {
    if (m.code == code) {
      return m.error_code;
    }
  }
  return "INTERNAL_ERROR";
}

int HttpStatusForErrorCode(std::string_view error_code) {
  for (const Mapping& m : kMappings) {
    if (m.error_code == error_code) {
      return m.http_status;
    }
  }
  return 500;
}

std::string_view ErrorCodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return "BAD_REQUEST";
    case 404:
      return "ENDPOINT_NOT_FOUND";
    case 500:
      return "INTERNAL_ERROR";
    default:
      break;
  }
  for (const Mapping& m : kMappings) {
    if (m.http_status == status) {
      return m.error_code;
    }
  }
  return status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST";
}

StatusCode StatusCodeForErrorCode(std::string_view error_code) {
  for (const Mapping& m : kMappings) {
    if (m.error_code == error_code) {
      return m.code;
    }
  }
  return StatusCode::kInternal;
}

}  // namespace plinth::http
