#include "table/types.h"

#include <algorithm>
#include <cctype>

namespace plinth::table {

std::string_view TypeName(DataType type) {
  switch (type) {
    case DataType::kInt64:
      return "int64";
    case DataType::kFloat64:
      return "float64";
    case DataType::kBool:
      return "bool";
    case DataType::kString:
      return "string";
    case DataType::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

Result<DataType> ParseTypeName(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "int64" || n == "int" || n == "integer" || n == "long") {
    return DataType::kInt64;
  }
  if (n == "float64" || n == "float" || n == "double" || n == "number" || n == "real") {
    return DataType::kFloat64;
  }
  if (n == "bool" || n == "boolean") {
    return DataType::kBool;
  }
  if (n == "string" || n == "str" || n == "text" || n == "object" || n == "category") {
    return DataType::kString;
  }
  if (n == "timestamp" || n == "datetime" || n == "date" || n == "datetime64") {
    return DataType::kTimestamp;
  }
  return InvalidArgument("unknown type \"" + std::string(name) +
                         "\", expected int64, float64, bool, string or timestamp");
}

std::optional<size_t> Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace plinth::table
