// Column types and schemas. Every type is nullable: a value's presence is kept
// in a validity bitmap beside the values (see column.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace plinth::table {

enum class DataType : uint8_t {
  kInt64,
  kFloat64,
  kBool,
  kString,
  kTimestamp,  // microseconds since the Unix epoch, UTC (ISO-8601 in text)
};

// "int64", "float64", "bool", "string", "timestamp".
std::string_view TypeName(DataType type);

// Parses a type name; also accepts the common aliases int, integer, float,
// double, number, boolean, str, text, datetime, date. Returns kInvalidArgument
// listing the accepted names otherwise.
Result<DataType> ParseTypeName(std::string_view name);

inline bool IsNumeric(DataType t) { return t == DataType::kInt64 || t == DataType::kFloat64; }

struct Field {
  std::string name;
  DataType type;
  bool operator==(const Field&) const = default;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  // Index of the column named `name`, or nullopt.
  std::optional<size_t> IndexOf(std::string_view name) const;
  bool operator==(const Schema&) const = default;

 private:
  std::vector<Field> fields_;
};

}  // namespace plinth::table
