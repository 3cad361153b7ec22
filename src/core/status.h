// Status and Result<T>: how every Plinth module reports errors.
//
// A Status is either OK or carries a code and a one-line message that names the
// thing (file, line, column, field) and what was expected. OK costs one null
// pointer. Result<T> holds either a value or a non-OK Status. No exception
// crosses a module API; adapters around throwing libraries convert to Status.
// Both types are values: copyable, movable, not thread-safe to mutate.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace plinth {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kIoError,
  kCorruption,
  kUnavailable,
  kUnimplemented,
  kInternal,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
};

// Returns the name of `code`, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message; empty for OK.
  const std::string& message() const;
  // "Code: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "`prefix`: message" (for adding a file name
  // or a field path as an error travels up). OK stays OK.
  Status WithPrefix(std::string_view prefix) const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status AlreadyExists(std::string message);
Status FailedPrecondition(std::string message);
Status IoError(std::string message);
Status Corruption(std::string message);
Status Unavailable(std::string message);
Status Unimplemented(std::string message);
Status Internal(std::string message);

// `text` with control characters written as \xNN: for quoting a name from a file or a client
// in a one-line message.
std::string EscapeControl(std::string_view text);
// `s` with its message passed through EscapeControl (the same code).
Status OneLine(const Status& s);
Status PermissionDenied(std::string message);
Status ResourceExhausted(std::string message);

// Either a T or a non-OK Status. Accessing value() of an error is a bug (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) {
      status_ = Internal("Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace plinth

#define PLINTH_CONCAT_INNER(a, b) a##b
#define PLINTH_CONCAT(a, b) PLINTH_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define PLINTH_RETURN_IF_ERROR(expr) \
  PLINTH_RETURN_IF_ERROR_IMPL(PLINTH_CONCAT(plinth_status_, __COUNTER__), expr)
#define PLINTH_RETURN_IF_ERROR_IMPL(var, expr) \
  do {                                         \
    ::plinth::Status var = (expr);             \
    if (!var.ok()) {                           \
      return var;                              \
    }                                          \
  } while (false)

// `lhs = value of rexpr` (a Result<T>), or returns its Status from the enclosing function.
#define PLINTH_ASSIGN_OR_RETURN(lhs, rexpr) \
  PLINTH_ASSIGN_OR_RETURN_IMPL(PLINTH_CONCAT(plinth_result_, __COUNTER__), lhs, rexpr)
#define PLINTH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) {                                    \
    return tmp.status();                              \
  }                                                   \
  lhs = std::move(tmp).value()
