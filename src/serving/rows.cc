#include "serving/rows.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "table/value_parse.h"

namespace plinth::serving {
namespace {

using core::Json;
using table::DataType;

std::string Shown(const Json& v) { return core::JsonPreview(v, 60); }

Scalar FromJson(const Json& v) {
  Scalar out;
  switch (v.type()) {
    case Json::value_t::null:
      out.kind = Scalar::kNull;
      break;
    case Json::value_t::boolean:
      out.kind = Scalar::kBool;
      out.b = v.get<bool>();
      break;
    case Json::value_t::number_integer:
      out.kind = Scalar::kInt;
      out.i = v.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:  // nlohmann's non-negative integers
      out.u = v.get<uint64_t>();
      if (out.u <= static_cast<uint64_t>(INT64_MAX)) {
        out.kind = Scalar::kInt;
        out.i = static_cast<int64_t>(out.u);
      } else {
        out.kind = Scalar::kUInt;
      }
      break;
    case Json::value_t::number_float:
      out.kind = Scalar::kDouble;
      out.d = v.get<double>();
      break;
    case Json::value_t::string:
      out.kind = Scalar::kString;
      out.s = v.get_ref<const std::string&>();
      break;
    default:
      out.kind = Scalar::kOther;
      break;
  }
  return out;
}

}  // namespace

std::string_view AppendScalar(table::Column& c, DataType type, const Scalar& v,
                              const std::vector<std::string>& null_values) {
  const bool is_int = v.kind == Scalar::kInt || v.kind == Scalar::kUInt;
  const bool is_number = is_int || v.kind == Scalar::kDouble;
  const bool is_text = v.kind == Scalar::kString;
  if (v.kind == Scalar::kNull ||
      (is_text && std::find(null_values.begin(), null_values.end(), v.s) != null_values.end())) {
    c.AppendNull();
    return {};
  }
  switch (type) {
    case DataType::kFloat64: {
      double d = 0;
      if (is_number) {
        d = v.kind == Scalar::kInt    ? static_cast<double>(v.i)
            : v.kind == Scalar::kUInt ? static_cast<double>(v.u)
                                      : v.d;
      } else if (!is_text || !(v.s.empty() || table::ParseFloat64(v.s, d))) {
        return "a number";
      }
      if ((is_text && v.s.empty()) || std::isnan(d)) {
        c.AppendNull();
      } else {
        c.AppendDouble(d);
      }
      return {};
    }
    case DataType::kInt64: {
      int64_t i = 0;
      if (is_int) {
        i = v.kind == Scalar::kInt ? v.i : static_cast<int64_t>(v.u);  // as nlohmann's get
      } else if (v.kind == Scalar::kDouble) {
        if (!(std::trunc(v.d) == v.d && std::fabs(v.d) < 9.2e18)) {
          return "an integer";
        }
        i = static_cast<int64_t>(v.d);
      } else if (!is_text || !table::ParseInt64(v.s, i)) {
        return "an integer";
      }
      c.AppendInt(i);
      return {};
    }
    case DataType::kBool: {
      bool b = false;
      if (v.kind == Scalar::kBool) {
        b = v.b;
      } else if (v.kind == Scalar::kInt && (v.i == 0 || v.i == 1)) {
        b = v.i == 1;
      } else if (!is_text || !table::ParseBool(v.s, b)) {
        return "true or false";
      }
      c.AppendBool(b);
      return {};
    }
    case DataType::kString:
      if (is_text) {
        c.AppendString(v.s);
      } else if (is_number) {
        // A number stands for its text, as JSON writes it.
        c.AppendString(core::DumpJson(v.kind == Scalar::kInt    ? Json(v.i)
                                      : v.kind == Scalar::kUInt ? Json(v.u)
                                                                : Json(v.d),
                                      false));
      } else {
        return "a string";
      }
      return {};
    case DataType::kTimestamp: {
      int64_t micros = 0;
      if (!is_text || !table::ParseTimestamp(v.s, micros)) {
        return "an ISO-8601 timestamp";
      }
      c.AppendInt(micros);
      return {};
    }
  }
  return "a value";
}

Result<table::Table> RowsFromJson(const Json& data, const table::Schema& schema,
                                  const std::vector<std::string>* columns, std::string_view where,
                                  size_t max_rows, const std::vector<std::string>& null_values) {
  const std::string w(where);
  if (!data.is_array()) {
    return InvalidArgument(w + ": expected an array of rows, got " + Shown(data));
  }
  if (data.size() > max_rows) {
    return ResourceExhausted(w + ": " + std::to_string(data.size()) +
                             " rows, more than the limit of " + std::to_string(max_rows));
  }
  // Where each of the model's columns sits in an array row.
  std::vector<size_t> position(schema.size());
  size_t width = schema.size();
  for (size_t f = 0; f < schema.size(); ++f) {
    position[f] = f;
  }
  if (columns) {
    width = columns->size();
    for (size_t f = 0; f < schema.size(); ++f) {
      size_t at = 0;
      while (at < columns->size() && (*columns)[at] != schema.field(f).name) {
        ++at;
      }
      if (at == columns->size()) {
        return InvalidArgument(w + ": missing column '" + schema.field(f).name +
                               "' (the model's columns: " + std::to_string(schema.size()) + ")");
      }
      position[f] = at;
    }
  }
  std::vector<table::Column> out;
  out.reserve(schema.size());
  for (const table::Field& field : schema.fields()) {
    out.emplace_back(field.type);
    out.back().Reserve(static_cast<int64_t>(data.size()));
  }
  for (size_t i = 0; i < data.size(); ++i) {
    const Json& row = data[i];
    const std::string at = w + "[" + std::to_string(i) + "]";
    const bool by_name = row.is_object();
    if (!by_name && !row.is_array()) {
      return InvalidArgument(at + ": expected an array of values or an object, got " + Shown(row));
    }
    if (!by_name && row.size() != width) {
      return InvalidArgument(at + ": expected " + std::to_string(width) + " values (" +
                             (columns ? "the columns given" : "the model's columns") + "), got " +
                             std::to_string(row.size()));
    }
    for (size_t f = 0; f < schema.size(); ++f) {
      const table::Field& field = schema.field(f);
      const Json* v = nullptr;
      if (by_name) {
        auto it = row.find(field.name);
        if (it == row.end()) {
          return InvalidArgument(at + ": missing column '" + field.name + "'");
        }
        v = &*it;
      } else {
        v = &row[position[f]];
      }
      if (std::string_view expected = AppendScalar(out[f], field.type, FromJson(*v), null_values);
          !expected.empty()) {
        return InvalidArgument(at + "." + field.name + ": expected " + std::string(expected) +
                               " (column type " + std::string(table::TypeName(field.type)) +
                               "), got " + Shown(*v));
      }
    }
  }
  return table::Table(schema, std::move(out));
}

}  // namespace plinth::serving
