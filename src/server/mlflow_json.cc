#include "server/mlflow_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "http/errors.h"

namespace plinth::server {
namespace {

// Python's type() name of a JSON value, for MLflow's "Hint: Value was of type" messages.
std::string PythonType(const core::Json& v) {
  if (v.is_string()) {
    return "str";
  }
  if (v.is_boolean()) {
    return "bool";
  }
  if (v.is_number_integer()) {
    return "int";
  }
  if (v.is_number()) {
    return "float";
  }
  if (v.is_array()) {
    return "list";
  }
  if (v.is_object()) {
    return "dict";
  }
  return "NoneType";
}

// `v` as MLflow quotes a value in its errors: Python's json.dumps(v, sort_keys=True,
// separators=(",", ":")) (ASCII only), cut to about 200 characters.
std::string PythonJson(const core::Json& v) {
  const nlohmann::json sorted = nlohmann::json::parse(core::DumpJson(v, false), nullptr, false);
  std::string text = sorted.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (text.size() > 200) {
    text = text.substr(0, 200) + "...";
  }
  return text;
}

// MLflow's text (utils/validation.py invalid_value, with handlers.py's hint), and what was
// expected when Plinth can say more.
Status BadValue(std::string_view name, const core::Json& v, std::string_view expected = {}) {
  return InvalidArgument("Invalid value " + PythonJson(v) + " for parameter '" + std::string(name) +
                         "' supplied: " + (expected.empty() ? "" : std::string(expected) + ".") +
                         " Hint: Value was of type '" + PythonType(v) +
                         "'. See the API docs for more information about request parameters.");
}

// An int64 field given a number it cannot hold (it would be stored wrapped).
Status OutOfRange(std::string_view name, const core::Json& v) {
  return BadValue(name, v,
                  "expected an integer from -9223372036854775808 to 9223372036854775807 (int64)");
}

// Converts `v` to the field's JSON type, or says why it cannot.
Result<core::Json> Coerce(const Field& f, const core::Json& v) {
  switch (f.type) {
    case FieldType::kString:
      if (v.is_string()) {
        return v;
      }
      break;
    case FieldType::kInt64:
      if (v.is_number_unsigned()) {
        if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          return OutOfRange(f.name, v);
        }
        return core::Json(static_cast<int64_t>(v.get<uint64_t>()));
      }
      if (v.is_number_integer()) {
        return v;
      }
      if (v.is_number_float()) {
        // An integer literal outside int64 is parsed as a double: -2^63 too
        // may be one rounded (-9223372036854775809), so only |d| < 2^63 is taken.
        const double d = v.get<double>();
        if (!std::isfinite(d) || std::floor(d) != d) {
          return BadValue(f.name, v, "expected an integer");
        }
        if (d <= -9223372036854775808.0 || d >= 9223372036854775808.0) {
          return OutOfRange(f.name, v);
        }
        return core::Json(static_cast<int64_t>(d));
      }
      if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        int64_t x = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), x);
        if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
          return core::Json(x);
        }
        if (r.ec == std::errc::result_out_of_range && r.ptr == s.data() + s.size()) {
          return OutOfRange(f.name, v);
        }
      }
      break;
    case FieldType::kDouble:
      if (v.is_number()) {
        return core::Json(v.get<double>());
      }
      if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        if (s == "NaN" || s == "nan") {
          return core::Json(std::nan(""));
        }
        if (s == "Infinity" || s == "inf") {
          return core::Json(INFINITY);
        }
        if (s == "-Infinity" || s == "-inf") {
          return core::Json(-INFINITY);
        }
        double x = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), x);
        if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
          return core::Json(x);
        }
      }
      break;
    case FieldType::kBool:
      if (v.is_boolean()) {
        return v;
      }
      if (v.is_string() && (v == "true" || v == "false" || v == "True" || v == "False")) {
        return core::Json(v == "true" || v == "True");
      }
      break;
    case FieldType::kEnum:
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return OutOfRange(f.name, v);
      }
      if (v.is_string() || v.is_number_integer()) {
        return v;
      }
      break;
    case FieldType::kStringList:
      if (v.is_string()) {
        return core::Json::array({v});  // a single GET parameter
      }
      if (v.is_array()) {
        for (const core::Json& item : v) {
          if (!item.is_string()) {
            return BadValue(f.name, v);
          }
        }
        return v;
      }
      break;
    case FieldType::kObjectList:
      if (v.is_array()) {
        for (const core::Json& item : v) {
          if (!item.is_object()) {
            return BadValue(f.name, v);
          }
        }
        return v;
      }
      break;
  }
  return BadValue(f.name, v);
}
}  // namespace

int HttpStatus(std::string_view error_code) { return http::HttpStatusForErrorCode(error_code); }

http::Response ErrorResponse(std::string_view error_code, const std::string& message) {
  http::Response r;
  r.status = HttpStatus(error_code);
  r.body = core::DumpJson({{"error_code", error_code}, {"message", message}}, false);
  return r;
}

http::Response ErrorResponse(const Status& s) {
  return ErrorResponse(ErrorCode(s.code()), s.message());
}

http::Response JsonResponse(const core::Json& body) {
  http::Response r;
  r.body = core::DumpJson(body, false);
  return r;
}

Result<core::Json> ReadMessage(const http::Request& req, const std::vector<Field>& fields) {
  PLINTH_ASSIGN_OR_RETURN(core::Json raw, ReadRawMessage(req));
  return ReadFields(raw, fields);
}

Result<core::Json> ReadRawMessage(const http::Request& req) {
  core::Json raw = core::Json::object();
  if (req.method == "GET") {
    for (const auto& [key, value] : req.query) {
      std::string name = key;
      // experiment_ids[] and experiment_ids[0] name a list, as MLflow's query parser reads them.
      if (size_t b = name.find('['); b != std::string::npos && name.back() == ']') {
        name.erase(b);
      }
      if (!raw.contains(name)) {
        raw[name] = value;
      } else if (raw[name].is_array()) {
        raw[name].push_back(value);
      } else {
        raw[name] = core::Json::array({raw[name], value});
      }
    }
  } else {
    // As MLflow's _validate_content_type: POST and PUT bodies must say they are JSON.
    if (req.method == "POST" || req.method == "PUT") {
      std::string_view type = req.Header("content-type");
      if (type.empty()) {
        return InvalidArgument("Bad Request. Content-Type header is missing.");
      }
      type = type.substr(0, type.find(';'));
      while (!type.empty() && type.back() == ' ') {
        type.remove_suffix(1);
      }
      if (type != "application/json") {
        return InvalidArgument("Bad Request. Content-Type must be one of ['application/json'].");
      }
    }
    std::string_view text = req.body;
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      text = "{}";  // no body: an empty message
    }
    Result<core::Json> body =
        core::ParseJson(text, "request body", core::kMaxJsonDepth, kMaxRequestValues);
    if (!body.ok()) {
      if (body.status().code() == StatusCode::kResourceExhausted) {
        return body.status();
      }
      return Corruption("Malformed JSON in the " + body.status().message());
    }
    raw = std::move(*body);
    if (raw.is_string()) {  // older clients double-encode
      Result<core::Json> inner = core::ParseJson(raw.get<std::string>(), "request body",
                                                 core::kMaxJsonDepth, kMaxRequestValues);
      if (!inner.ok()) {
        if (inner.status().code() == StatusCode::kResourceExhausted) {
          return inner.status();
        }
        return Corruption("Malformed JSON in the " + inner.status().message());
      }
      raw = std::move(*inner);
    }
    if (raw.is_null()) {
      raw = core::Json::object();
    }
    if (!raw.is_object()) {
      return Corruption("Malformed request body: expected a JSON object, got " +
                        std::string(raw.type_name()));
    }
  }
  return raw;
}

Result<core::Json> ReadFields(const core::Json& raw, const std::vector<Field>& fields) {
  core::Json out = core::Json::object();
  for (const Field& f : fields) {
    std::string name(f.name);
    const bool present = raw.contains(name) && !raw.at(name).is_null();
    if (!present || (raw.at(name).is_string() &&
                     raw.at(name).get_ref<const std::string&>().empty() && f.required)) {
      if (f.required) {
        return InvalidArgument("Missing value for required parameter '" + name +
                               "'. See the API docs for more information about request "
                               "parameters.");
      }
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(out[name], Coerce(f, raw.at(name)));
  }
  return out;
}

}  // namespace plinth::server
