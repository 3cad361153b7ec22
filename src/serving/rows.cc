#include "serving/rows.h"

#include <algorithm>
#include <cmath>

#include "table/value_parse.h"

namespace plinth::serving {
namespace {

using core::Json;
using table::DataType;

std::string Shown(const Json& v) {
  std::string s = core::DumpJson(v, false);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Appends `v` to `c` (of type `type`); on a value the type cannot take, the
// expectation ("a number") without appending.
std::string_view Append(table::Column& c, DataType type, const Json& v,
                        const std::vector<std::string>& null_values) {
  const std::string* text = v.is_string() ? &v.get_ref<const std::string&>() : nullptr;
  if (v.is_null() ||
      (text && std::find(null_values.begin(), null_values.end(), *text) != null_values.end())) {
    c.AppendNull();
    return {};
  }
  switch (type) {
    case DataType::kFloat64: {
      double d = 0;
      if (v.is_number()) {
        d = v.get<double>();
      } else if (!text || !(text->empty() || table::ParseFloat64(*text, d))) {
        return "a number";
      }
      if ((text && text->empty()) || std::isnan(d)) {
        c.AppendNull();
      } else {
        c.AppendDouble(d);
      }
      return {};
    }
    case DataType::kInt64: {
      int64_t i = 0;
      if (v.is_number_integer()) {
        i = v.get<int64_t>();
      } else if (v.is_number_float()) {
        double d = v.get<double>();
        if (!(std::trunc(d) == d && std::fabs(d) < 9.2e18)) {
          return "an integer";
        }
        i = static_cast<int64_t>(d);
      } else if (!text || !table::ParseInt64(*text, i)) {
        return "an integer";
      }
      c.AppendInt(i);
      return {};
    }
    case DataType::kBool: {
      bool b = false;
      if (v.is_boolean()) {
        b = v.get<bool>();
      } else if (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)) {
        b = v.get<int64_t>() == 1;
      } else if (!text || !table::ParseBool(*text, b)) {
        return "true or false";
      }
      c.AppendBool(b);
      return {};
    }
    case DataType::kString:
      if (text) {
        c.AppendString(*text);
      } else if (v.is_number()) {
        c.AppendString(core::DumpJson(v, false));
      } else {
        return "a string";
      }
      return {};
    case DataType::kTimestamp: {
      int64_t micros = 0;
      if (!text || !table::ParseTimestamp(*text, micros)) {
        return "an ISO-8601 timestamp";
      }
      c.AppendInt(micros);
      return {};
    }
  }
  return "a value";
}

}  // namespace

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
      if (std::string_view expected = Append(out[f], field.type, *v, null_values);
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
