#include "serving/protocols.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "serving/rows.h"
#include "table/csv_reader.h"
#include "table/value_parse.h"

namespace plinth::serving {
namespace {

using core::Json;
using core::JsonWriter;
using table::DataType;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<Json> ParseObject(std::string_view body, std::string_view expected) {
  PLINTH_ASSIGN_OR_RETURN(Json json, core::ParseJson(body, "request body"));
  if (!json.is_object()) {
    return InvalidArgument("request body: expected " + std::string(expected));
  }
  return json;
}

// {"name": {"a": [..], "b": [..]}}: columns of equal length, as rows.
Result<Json> ColumnsAsRows(const Json& columns, std::string_view where,
                           std::vector<std::string>& names) {
  size_t n = 0;
  bool first = true;
  for (const auto& [name, values] : columns.items()) {
    if (!values.is_array()) {
      return InvalidArgument(std::string(where) + "." + name + ": expected an array of values");
    }
    if (!first && values.size() != n) {
      return InvalidArgument(std::string(where) + "." + name + ": " +
                             std::to_string(values.size()) + " values, the columns before have " +
                             std::to_string(n));
    }
    n = values.size();
    first = false;
    names.push_back(name);
  }
  Json rows = Json::array();
  for (size_t i = 0; i < n; ++i) {
    Json row = Json::array();
    for (const auto& [name, values] : columns.items()) {
      row.push_back(values[i]);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<table::Table> ReadJsonInvocation(std::string_view body, const table::Schema& schema,
                                        const InputLimits& limits) {
  static constexpr std::string_view kShapes =
      R"(a JSON object with exactly one of "dataframe_split", "dataframe_records", )"
      R"("instances" or "inputs")";
  PLINTH_ASSIGN_OR_RETURN(Json json, ParseObject(body, kShapes));
  std::string key;
  for (std::string_view k : {"dataframe_split", "dataframe_records", "instances", "inputs"}) {
    if (json.contains(k)) {
      if (!key.empty()) {
        return InvalidArgument("request body: both \"" + key + "\" and \"" + std::string(k) +
                               "\"; expected " + std::string(kShapes));
      }
      key = k;
    }
  }
  if (key.empty()) {
    return InvalidArgument("request body: expected " + std::string(kShapes));
  }
  const Json& v = json[key];
  if (key == "dataframe_split") {
    if (!v.is_object() || !v.contains("data")) {
      return InvalidArgument(
          R"(dataframe_split: expected {"columns": [...], "data": [[...], ...]})");
    }
    std::vector<std::string> columns;
    const Json* cols = v.contains("columns") ? &v["columns"] : nullptr;
    if (cols) {
      if (!cols->is_array()) {
        return InvalidArgument("dataframe_split.columns: expected an array of column names");
      }
      for (const Json& c : *cols) {
        if (!c.is_string()) {
          return InvalidArgument("dataframe_split.columns: expected column names, got " +
                                 core::JsonPreview(c));
        }
        columns.push_back(c.get<std::string>());
      }
    }
    return RowsFromJson(v["data"], schema, cols ? &columns : nullptr, "dataframe_split.data",
                        limits.max_rows, limits.null_values);
  }
  if (key == "inputs" && v.is_object()) {
    std::vector<std::string> names;
    PLINTH_ASSIGN_OR_RETURN(Json rows, ColumnsAsRows(v, "inputs", names));
    return RowsFromJson(rows, schema, &names, "inputs", limits.max_rows, limits.null_values);
  }
  return RowsFromJson(v, schema, nullptr, key, limits.max_rows, limits.null_values);
}

Result<table::Table> ReadCsvInvocation(std::string_view body, const table::Schema& schema,
                                       const InputLimits& limits) {
  static constexpr std::string_view kName = "text/csv body";
  table::CsvOptions options;
  options.delimiter = ',';
  options.threads = 1;
  options.null_values = limits.null_values;
  // The header first, so that the model's columns can be read with its types
  // (a missing one is named as such rather than as a --type error).
  const std::string_view header = body.substr(0, body.find('\n') + 1);
  PLINTH_ASSIGN_OR_RETURN(table::CsvTable head, table::ReadCsvText(header, options, kName));
  for (const table::Field& field : schema.fields()) {
    if (head.table.ColumnByName(field.name) == nullptr) {
      return InvalidArgument(std::string(kName) + ": missing column '" + field.name +
                             "' in the header");
    }
    options.types[field.name] = field.type;
  }
  PLINTH_ASSIGN_OR_RETURN(table::CsvTable csv, table::ReadCsvText(body, options, kName));
  if (static_cast<size_t>(csv.table.num_rows()) > limits.max_rows) {
    return ResourceExhausted(std::string(kName) + ": " + std::to_string(csv.table.num_rows()) +
                             " rows, more than the limit of " + std::to_string(limits.max_rows));
  }
  return std::move(csv.table);
}

bool IsTensorType(std::string_view t) {
  static constexpr std::string_view kTypes[] = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64",
                                                "INT8", "INT16", "INT32",  "INT64",  "FP16",
                                                "FP32", "FP64",  "BYTES",  "BF16"};
  return std::find(std::begin(kTypes), std::end(kTypes), t) != std::end(kTypes);
}

// Whether `v` is a value of tensor datatype `type` (null, a missing value, is
// any type's).
bool FitsTensorType(const Json& v, std::string_view type) {
  if (v.is_null()) {
    return true;
  }
  if (type == "BOOL") {
    return v.is_boolean();
  }
  if (type == "BYTES") {
    return v.is_string();
  }
  if (type.starts_with("UINT")) {
    return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  }
  if (type.starts_with("INT")) {
    return v.is_number_integer();
  }
  return v.is_number();  // FP16, FP32, FP64, BF16
}

// The values of a tensor's (possibly nested) data, row-major.
Status Flatten(const Json& data, std::vector<const Json*>& out, int depth = 0) {
  if (depth > 32) {
    return InvalidArgument("nested more than 32 deep");
  }
  for (const Json& v : data) {
    if (v.is_array()) {
      PLINTH_RETURN_IF_ERROR(Flatten(v, out, depth + 1));
    } else {
      out.push_back(&v);
    }
  }
  return Status::Ok();
}

struct Tensor {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  std::vector<const Json*> values;
};

Result<Tensor> ReadTensor(const Json& input, const std::string& where) {
  if (!input.is_object()) {
    return InvalidArgument(where + R"(: expected {"name", "shape", "datatype", "data"})");
  }
  Tensor t;
  for (const char* key : {"name", "datatype", "shape", "data"}) {
    if (!input.contains(key)) {
      return InvalidArgument(where + ": missing \"" + key + "\"");
    }
  }
  if (!input["name"].is_string()) {
    return InvalidArgument(where + ".name: expected a string");
  }
  t.name = input["name"].get<std::string>();
  const std::string at = where + " ('" + t.name + "')";
  if (!input["datatype"].is_string() || !IsTensorType(input["datatype"].get<std::string>())) {
    return InvalidArgument(at +
                           ".datatype: expected one of BOOL, INT8..INT64, UINT8..UINT64, "
                           "FP16, FP32, FP64, BYTES, got " +
                           core::JsonPreview(input["datatype"]));
  }
  t.datatype = input["datatype"].get<std::string>();
  const Json& shape = input["shape"];
  if (!shape.is_array() || shape.empty() || shape.size() > 8) {
    return InvalidArgument(at + ".shape: expected an array of 1 to 8 sizes");
  }
  int64_t count = 1;
  for (const Json& d : shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t{1} << 40)) {
      return InvalidArgument(at + ".shape: expected sizes of 0 or more, got " +
                             core::JsonPreview(shape));
    }
    t.shape.push_back(d.get<int64_t>());
    count = count > 0 && t.shape.back() > (int64_t{1} << 40) / count ? (int64_t{1} << 40)
                                                                     : count * t.shape.back();
  }
  if (!input["data"].is_array()) {
    return InvalidArgument(at + ".data: expected an array");
  }
  if (Status s = Flatten(input["data"], t.values); !s.ok()) {
    return InvalidArgument(at + ".data: " + s.message());
  }
  if (static_cast<int64_t>(t.values.size()) != count) {
    return InvalidArgument(at + ": shape " + core::JsonPreview(shape) + " holds " +
                           std::to_string(count) + " values, data has " +
                           std::to_string(t.values.size()));
  }
  for (size_t i = 0; i < t.values.size(); ++i) {
    if (!FitsTensorType(*t.values[i], t.datatype)) {
      return InvalidArgument(at + ".data[" + std::to_string(i) + "]: expected a " + t.datatype +
                             " value, got " + core::JsonPreview(*t.values[i]));
    }
  }
  return t;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace

namespace {

// Reads `v` into `out` (arrays and objects: kOther), setting its kind and the
// one field that kind uses. In place, not returned: the caller's copy of a
// returned Scalar read back the fields just stored, a stall per value.
void ReadScalar(simdjson::dom::element v, Scalar& out) {
  switch (v.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      out.kind = Scalar::kNull;
      break;
    case simdjson::dom::element_type::BOOL:
      out.kind = Scalar::kBool;
      out.b = v.get_bool().value_unsafe();
      break;
    case simdjson::dom::element_type::STRING:
      out.kind = Scalar::kString;
      out.s = v.get_string().value_unsafe();
      break;
    case simdjson::dom::element_type::INT64:
      out.kind = Scalar::kInt;
      out.i = v.get_int64().value_unsafe();
      break;
    case simdjson::dom::element_type::UINT64:
      out.kind = Scalar::kUInt;
      out.u = v.get_uint64().value_unsafe();
      break;
    case simdjson::dom::element_type::DOUBLE:
      out.kind = Scalar::kDouble;
      out.d = v.get_double().value_unsafe();
      break;
    default:
      out.kind = Scalar::kOther;
      break;
  }
}

// The rows of a well-formed {"data": [...]} body read with simdjson straight
// into columns; nullopt for anything else (errors included), which the general
// reader then answers with its messages. simdjson's DOM parser picks the
// fastest kernel this CPU has at run time, and checks the whole document.
std::optional<table::Table> FastPredictRows(std::string_view body, const table::Schema& schema,
                                            const InputLimits& limits) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object top;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(top) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::dom::array data;
  int found = 0;
  for (simdjson::dom::key_value_pair member : top) {
    if (member.key == "data") {
      ++found;
      if (member.value.get_array().get(data) != simdjson::SUCCESS) {
        return std::nullopt;
      }
    }
  }
  // No "data", or a repeated one (the general reader keeps the last): its answer.
  if (found != 1 || data.size() > limits.max_rows) {
    return std::nullopt;
  }
  const size_t width = schema.size();
  std::vector<table::Column> out;
  out.reserve(width);
  for (const table::Field& field : schema.fields()) {
    out.emplace_back(field.type);
    out.back().Reserve(static_cast<int64_t>(data.size()));
  }
  std::vector<Scalar> row(width);
  const std::vector<table::Field>& fields = schema.fields();
  for (simdjson::dom::element element : data) {
    for (Scalar& value : row) {
      value.kind = Scalar::kNone;
    }
    if (element.type() == simdjson::dom::element_type::ARRAY) {
      simdjson::dom::array values;
      if (element.get_array().get(values) != simdjson::SUCCESS || values.size() != width) {
        return std::nullopt;
      }
      size_t n = 0;
      for (simdjson::dom::element v : values) {
        ReadScalar(v, row[n++]);
      }
    } else if (element.type() == simdjson::dom::element_type::OBJECT) {
      simdjson::dom::object members;
      if (element.get_object().get(members) != simdjson::SUCCESS) {
        return std::nullopt;
      }
      // Rows name their columns in the same order, mostly the schema's: each
      // name is first compared with the field after the previous one.
      size_t next = 0;
      for (simdjson::dom::key_value_pair member : members) {
        std::optional<size_t> at;
        if (next < width && fields[next].name == member.key) {
          at = next;
        } else {
          at = schema.IndexOf(member.key);
          if (!at) {
            continue;  // names the model does not use are ignored
          }
        }
        next = *at + 1;
        if (row[*at].kind != Scalar::kNone) {
          return std::nullopt;  // a repeated name: the general reader keeps the last
        }
        ReadScalar(member.value, row[*at]);
      }
    } else {
      return std::nullopt;
    }
    for (size_t f = 0; f < width; ++f) {
      // A missing column or a value the column cannot take: the general reader's message.
      if (row[f].kind == Scalar::kNone ||
          !AppendScalar(out[f], schema.field(f).type, row[f], limits.null_values).empty()) {
        return std::nullopt;
      }
    }
  }
  return table::Table(schema, std::move(out));
}

}  // namespace

Result<table::Table> ReadPredictBody(std::string_view body, const table::Schema& schema,
                                     const InputLimits& limits, bool fast) {
  if (fast) {
    if (std::optional<table::Table> rows = FastPredictRows(body, schema, limits)) {
      return *std::move(rows);
    }
  }
  static constexpr std::string_view kShape = R"({"data": [[...], ...]} or {"data": [{...}, ...]})";
  PLINTH_ASSIGN_OR_RETURN(Json json, ParseObject(body, kShape));
  if (!json.contains("data")) {
    return InvalidArgument("request body: expected " + std::string(kShape));
  }
  return RowsFromJson(json["data"], schema, nullptr, "data", limits.max_rows, limits.null_values);
}

Result<table::Table> ReadInvocationsBody(std::string_view body, std::string_view content_type,
                                         const table::Schema& schema, const InputLimits& limits) {
  const size_t semi = content_type.find(';');
  const std::string media = Lower(table::TrimSpaces(content_type.substr(0, semi)));
  for (std::string_view rest = semi == std::string_view::npos ? "" : content_type.substr(semi + 1);
       !table::TrimSpaces(rest).empty();) {
    const size_t next = rest.find(';');
    std::string_view param = table::TrimSpaces(rest.substr(0, next));
    rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
    const size_t eq = param.find('=');
    std::string value = Lower(
        table::TrimSpaces(param.substr(eq == std::string_view::npos ? param.size() : eq + 1)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (Lower(table::TrimSpaces(param.substr(0, eq))) != "charset" || value != "utf-8") {
      return Unimplemented("Content-Type: unsupported parameter '" + std::string(param) +
                           "' (only charset=utf-8)");
    }
  }
  if (media.empty() || media == "application/json") {
    return ReadJsonInvocation(body, schema, limits);
  }
  if (media == "text/csv") {
    return ReadCsvInvocation(body, schema, limits);
  }
  return Unimplemented("Content-Type '" + media + "': expected application/json or text/csv");
}

Result<InferRequest> ReadInferBody(std::string_view body, const table::Schema& schema,
                                   const InputLimits& limits) {
  PLINTH_ASSIGN_OR_RETURN(Json json, ParseObject(body, R"({"inputs": [{...}, ...]})"));
  InferRequest req;
  if (json.contains("id")) {
    if (!json["id"].is_string()) {
      return InvalidArgument("id: expected a string");
    }
    req.id = json["id"].get<std::string>();
  }
  if (json.contains("outputs")) {
    const Json& outputs = json["outputs"];
    if (!outputs.is_array()) {
      return InvalidArgument(R"(outputs: expected an array of {"name": ...})");
    }
    req.want_predictions = req.want_probabilities = false;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Json& o = outputs[i];
      const std::string at = "outputs[" + std::to_string(i) + "]";
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return InvalidArgument(at + R"(: expected {"name": "predictions" or "probabilities"})");
      }
      const std::string name = o["name"].get<std::string>();
      if (name == "predictions") {
        req.want_predictions = true;
      } else if (name == "probabilities") {
        req.want_probabilities = true;
      } else {
        return InvalidArgument(at + ".name: no output '" + name +
                               "' (the outputs: predictions, probabilities)");
      }
    }
  }
  if (!json.contains("inputs") || !json["inputs"].is_array() || json["inputs"].empty()) {
    return InvalidArgument(
        R"(inputs: expected an array of tensors {"name", "shape", "datatype", "data"})");
  }
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < json["inputs"].size(); ++i) {
    PLINTH_ASSIGN_OR_RETURN(Tensor t,
                            ReadTensor(json["inputs"][i], "inputs[" + std::to_string(i) + "]"));
    tensors.push_back(std::move(t));
  }
  const size_t width = schema.size();
  auto is_column = [&](const Tensor& t) { return schema.IndexOf(t.name).has_value(); };
  Json rows = Json::array();
  std::vector<std::string> names;
  if (std::all_of(tensors.begin(), tensors.end(), is_column)) {
    // One tensor per column: [N] or [N, 1] each.
    const int64_t n = tensors[0].shape[0];
    for (const Tensor& t : tensors) {
      if (t.shape[0] != n || (t.shape.size() == 2 && t.shape[1] != 1) || t.shape.size() > 2) {
        return InvalidArgument("inputs ('" + t.name + "'): shape " + ShapeText(t.shape) +
                               ", expected [" + std::to_string(n) + "] or [" + std::to_string(n) +
                               ", 1] like the first input");
      }
      names.push_back(t.name);
    }
    for (const table::Field& field : schema.fields()) {
      if (std::find(names.begin(), names.end(), field.name) == names.end()) {
        return InvalidArgument("inputs: no tensor for column '" + field.name +
                               "' (expected one tensor per model column, or one of shape [N, " +
                               std::to_string(width) + "])");
      }
    }
    if (static_cast<uint64_t>(n) > limits.max_rows) {
      return ResourceExhausted("inputs: " + std::to_string(n) + " rows, more than the limit of " +
                               std::to_string(limits.max_rows));
    }
    for (int64_t r = 0; r < n; ++r) {
      Json row = Json::array();
      for (const Tensor& t : tensors) {
        row.push_back(*t.values[static_cast<size_t>(r)]);
      }
      rows.push_back(std::move(row));
    }
  } else if (tensors.size() == 1 && tensors[0].shape.size() == 2 &&
             tensors[0].shape[1] == static_cast<int64_t>(width)) {
    // Whole rows in the schema's order.
    const Tensor& t = tensors[0];
    if (static_cast<uint64_t>(t.shape[0]) > limits.max_rows) {
      return ResourceExhausted("inputs: " + std::to_string(t.shape[0]) +
                               " rows, more than the limit of " + std::to_string(limits.max_rows));
    }
    for (int64_t r = 0; r < t.shape[0]; ++r) {
      Json row = Json::array();
      for (size_t c = 0; c < width; ++c) {
        row.push_back(*t.values[static_cast<size_t>(r) * width + c]);
      }
      rows.push_back(std::move(row));
    }
  } else {
    std::string columns;
    for (size_t c = 0; c < width && c < 8; ++c) {
      columns += (c ? ", " : "") + schema.field(c).name;
    }
    return InvalidArgument("inputs: expected one tensor per model column (" + columns +
                           (width > 8 ? ", ..." : "") + ") or one tensor of shape [N, " +
                           std::to_string(width) + "], got '" + tensors[0].name + "' of shape " +
                           ShapeText(tensors[0].shape));
  }
  PLINTH_ASSIGN_OR_RETURN(req.rows, RowsFromJson(rows, schema, names.empty() ? nullptr : &names,
                                                 "inputs", limits.max_rows, limits.null_values));
  return req;
}

std::string_view TensorType(table::DataType type) {
  switch (type) {
    case table::DataType::kFloat64:
      return "FP64";
    case table::DataType::kInt64:
      return "INT64";
    case table::DataType::kBool:
      return "BOOL";
    case table::DataType::kString:
    case table::DataType::kTimestamp:
      return "BYTES";
  }
  return "BYTES";
}

}  // namespace plinth::serving
