// How an error reaches an HTTP client, in one table for every front end (the
// control plane's MLflow API and the model server alike): a Status code gives
// the HTTP status and MLflow's `error_code`, the JSON error shape both servers
// answer with; an MLflow `error_code` read by a client gives the Status code
// back. Stateless and thread-safe.
#pragma once

#include <string_view>

#include "core/status.h"

namespace plinth::http {

// The HTTP status for `code`: 400 for a bad request (InvalidArgument,
// AlreadyExists, FailedPrecondition, Corruption of what the client sent), 404
// NotFound, 401, 403, 413 ResourceExhausted (a request over a limit:
// retrying it cannot help, where MLflow's 429 would make clients retry), 501,
// 503 Unavailable, and 500 for IoError, Internal and anything else.
int HttpStatusFor(StatusCode code);

// MLflow's error_code for `code` ("INVALID_PARAMETER_VALUE",
// "RESOURCE_DOES_NOT_EXIST", ...; "INTERNAL_ERROR" for the rest).
std::string_view ErrorCodeFor(StatusCode code);

// The HTTP status MLflow gives `error_code` (mlflow/exceptions.py), for an
// error answered by name ("ENDPOINT_NOT_FOUND", "BAD_REQUEST"); 500 for names
// it does not know.
int HttpStatusForErrorCode(std::string_view error_code);

// The error_code for an error the HTTP layer answers by status alone (a
// malformed request, a body over the limit): BAD_REQUEST for 400,
// ENDPOINT_NOT_FOUND for 404, INTERNAL_ERROR for 500, and the table's name
// for the others.
std::string_view ErrorCodeForHttpStatus(int status);

// The Status code for an MLflow error_code a server answered with (kInternal
// for names without one).
StatusCode StatusCodeForErrorCode(std::string_view error_code);

}  // namespace plinth::http
