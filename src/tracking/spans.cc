#include "tracking/spans.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/wire_format_lite.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "core/hash.h"
#include "otlp_trace.pb.h"

namespace plinth::tracking {
namespace {

using core::Json;
using RepeatedKeyValues = google::protobuf::RepeatedPtrField<otlp::KeyValue>;

constexpr std::string_view kRequestIdAttribute = "mlflow.traceRequestId";
constexpr std::string_view kSpanTypeAttribute = "mlflow.spanType";

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1]));
  }
  return out;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// An id of `size` bytes from its raw bytes; "" stays "" when `optional`.
Result<std::string> IdFromBytes(std::string_view bytes, size_t size, std::string_view what,
                                bool optional) {
  if (bytes.empty() && optional) {
    return std::string();
  }
  if (bytes.size() != size) {
    return InvalidArgument(std::string(what) + ": expected " + std::to_string(size) +
                           " bytes, got " + std::to_string(bytes.size()));
  }
  return Hex(bytes);
}

// An id of `size` bytes from JSON text: hex (OTLP/JSON) or base64 (protobuf's JSON
// mapping), told apart by length.
Result<std::string> IdFromText(std::string_view text, size_t size, std::string_view what,
                               bool optional) {
  if (text.empty() && optional) {
    return std::string();
  }
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (lower.size() == size * 2 && IsLowerHex(lower)) {
    return lower;
  }
  if (text.size() == (size + 2) / 3 * 4) {
    Result<std::string> bytes = core::Base64Decode(text);
    if (bytes.ok()) {
      return IdFromBytes(*bytes, size, what, optional);
    }
  }
  return InvalidArgument(std::string(what) + ": expected " + std::to_string(size * 2) +
                         " hex digits (or base64 of " + std::to_string(size) + " bytes), got '" +
                         std::string(text.substr(0, 64)) + "'");
}

Result<int64_t> Nanos(uint64_t value, std::string_view what) {
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgument(std::string(what) + ": " + std::to_string(value) +
                           " is beyond the year 2262");
  }
  return static_cast<int64_t>(value);
}

std::string StatusName(int code) {
  return code == 1 ? "STATUS_CODE_OK" : code == 2 ? "STATUS_CODE_ERROR" : "STATUS_CODE_UNSET";
}

Status TooDeep(std::string_view what) {
  return InvalidArgument(std::string(what) + ": attribute values nested deeper than " +
                         std::to_string(kMaxAttributeDepth) + " levels");
}

// ---- protobuf -------------------------------------------------------------------

Result<Json> ValueOf(const otlp::AnyValue& v, int depth, std::string_view what);

Status TooManyAttributes(std::string_view what) {
  return InvalidArgument(std::string(what) + ": more than " + std::to_string(kMaxAttributes) +
                         " attributes (or entries of one map value)");
}

Result<Json> AttributesOf(const RepeatedKeyValues& kvs, int depth, std::string_view what) {
  if (static_cast<size_t>(kvs.size()) > kMaxAttributes) {
    return TooManyAttributes(what);
  }
  Json out = Json::object();
  for (const otlp::KeyValue& kv : kvs) {
    PLINTH_ASSIGN_OR_RETURN(out[kv.key()], ValueOf(kv.value(), depth, what));
  }
  return out;
}

Result<Json> ValueOf(const otlp::AnyValue& v, int depth, std::string_view what) {
  if (depth > kMaxAttributeDepth) {
    return TooDeep(what);
  }
  switch (v.value_case()) {
    case otlp::AnyValue::kStringValue:
      return Json(v.string_value());
    case otlp::AnyValue::kBoolValue:
      return Json(v.bool_value());
    case otlp::AnyValue::kIntValue:
      return Json(v.int_value());
    case otlp::AnyValue::kDoubleValue:
      return std::isfinite(v.double_value()) ? Json(v.double_value()) : Json();
    case otlp::AnyValue::kBytesValue:
      return Json(core::Base64Encode(v.bytes_value()));
    case otlp::AnyValue::kArrayValue: {
      Json out = Json::array();
      for (const otlp::AnyValue& item : v.array_value().values()) {
        PLINTH_ASSIGN_OR_RETURN(Json value, ValueOf(item, depth + 1, what));
        out.push_back(std::move(value));
      }
      return out;
    }
    case otlp::AnyValue::kKvlistValue:
      return AttributesOf(v.kvlist_value().values(), depth + 1, what);
    default:
      return Json();
  }
}

Result<SpanFields> FieldsOf(const otlp::Span& s) {
  const std::string what = "span '" + s.name().substr(0, 100) + "'";
  SpanFields f;
  PLINTH_ASSIGN_OR_RETURN(f.trace_hex, IdFromBytes(s.trace_id(), 16, what + " trace_id", false));
  PLINTH_ASSIGN_OR_RETURN(f.span_hex, IdFromBytes(s.span_id(), 8, what + " span_id", false));
  PLINTH_ASSIGN_OR_RETURN(f.parent_hex,
                          IdFromBytes(s.parent_span_id(), 8, what + " parent_span_id", true));
  f.name = s.name();
  PLINTH_ASSIGN_OR_RETURN(f.start_ns, Nanos(s.start_time_unix_nano(), what + " start time"));
  PLINTH_ASSIGN_OR_RETURN(f.end_ns, Nanos(s.end_time_unix_nano(), what + " end time"));
  f.status_code = StatusName(s.status().code());
  f.status_message = s.status().message();
  PLINTH_ASSIGN_OR_RETURN(f.attributes, AttributesOf(s.attributes(), 1, what));
  for (const otlp::Span::Event& e : s.events()) {
    PLINTH_ASSIGN_OR_RETURN(int64_t time, Nanos(e.time_unix_nano(), what + " event time"));
    PLINTH_ASSIGN_OR_RETURN(Json attributes, AttributesOf(e.attributes(), 1, what));
    f.events.push_back(
        {{"name", e.name()}, {"time_unix_nano", time}, {"attributes", std::move(attributes)}});
  }
  return f;
}

// Protobuf logs a string field that is not UTF-8 before failing the parse: the
// client gets the error, the server's log stays Plinth's.
void QuietProtobuf() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(nullptr); });
}

// The OTLP messages a request holds, by what each field of each holds.
enum class Wire {
  kRequest,
  kResourceSpans,
  kResource,
  kScopeSpans,
  kSpan,
  kEvent,
  kKeyValue,
  kAnyValue,
  kArray,
  kKeyValueList,
  kSkipped
};

Wire ChildOf(Wire parent, uint32_t field) {
  switch (parent) {
    case Wire::kRequest:
      return field == 1 ? Wire::kResourceSpans : Wire::kSkipped;
    case Wire::kResourceSpans:
      return field == 1 ? Wire::kResource : field == 2 ? Wire::kScopeSpans : Wire::kSkipped;
    case Wire::kResource:
      return field == 1 ? Wire::kKeyValue : Wire::kSkipped;
    case Wire::kScopeSpans:
      return field == 2 ? Wire::kSpan : Wire::kSkipped;
    case Wire::kSpan:
      return field == 9 ? Wire::kKeyValue : field == 11 ? Wire::kEvent : Wire::kSkipped;
    case Wire::kEvent:
      return field == 3 ? Wire::kKeyValue : Wire::kSkipped;
    case Wire::kKeyValue:
      return field == 2 ? Wire::kAnyValue : Wire::kSkipped;
    case Wire::kAnyValue:
      return field == 5 ? Wire::kArray : field == 6 ? Wire::kKeyValueList : Wire::kSkipped;
    case Wire::kArray:
      return field == 1 ? Wire::kAnyValue : Wire::kSkipped;
    case Wire::kKeyValueList:
      return field == 1 ? Wire::kKeyValue : Wire::kSkipped;
    default:
      return Wire::kSkipped;
  }
}

struct WireCount {
  size_t messages = 0;  // fields of any kind
  size_t spans = 0;
  bool over = false;
  bool group = false;
};

// Counts the messages of the encoded `kind` without building them (protobuf's own
// reader, no allocation), stopping once past the limits: tiny messages cost a
// parsed tree far more than their bytes. False when the bytes are not protobuf (the
// parse then says so) or a limit is passed (`count.over`).
bool CountWire(google::protobuf::io::CodedInputStream& in, Wire kind, int depth, WireCount& count) {
  using google::protobuf::internal::WireFormatLite;
  if (depth > 100) {
    return false;
  }
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    const Wire child =
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED
            ? ChildOf(kind, WireFormatLite::GetTagFieldNumber(tag))
            : Wire::kSkipped;
    // Every field costs the parsed message something (a skipped one is kept among its
    // unknown fields): each counts.
    if (++count.messages > kMaxOtlpMessages) {
      count.over = true;
      return false;
    }
    if (child == Wire::kSkipped) {
      if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_START_GROUP) {
        count.group = true;  // OTLP has no groups
        return false;
      }
      if (!WireFormatLite::SkipField(&in, tag)) {
        return false;
      }
      continue;
    }
    uint32_t size = 0;
    if (!in.ReadVarint32(&size)) {
      return false;
    }
    if (child == Wire::kSpan && ++count.spans > kMaxOtlpSpans) {
      count.over = true;
      return false;
    }
    const auto limit = in.PushLimit(static_cast<int>(std::min<uint32_t>(size, INT32_MAX)));
    if (!CountWire(in, child, depth + 1, count) || in.BytesUntilLimit() != 0) {
      return false;
    }
    in.PopLimit(limit);
  }
  return true;
}

Status TooMany() {
  return ResourceExhausted("request body: more than " + std::to_string(kMaxOtlpSpans) +
                           " spans or " + std::to_string(kMaxOtlpMessages) +
                           " values in one export; send smaller batches");
}

Result<std::vector<Span>> FromProtobuf(std::string_view body) {
  QuietProtobuf();
  if (body.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return TooMany();
  }
  {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(body.data()),
                                              static_cast<int>(body.size()));
    WireCount count;
    if (!CountWire(in, Wire::kRequest, 0, count)) {
      if (count.over) {
        return TooMany();
      }
      if (count.group) {
        return InvalidArgument(
            "Invalid OpenTelemetry protobuf format: a group field (OTLP has none)");
      }
    }
  }
  otlp::ExportTraceServiceRequest request;
  if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return InvalidArgument(
        "Invalid OpenTelemetry protobuf format: expected an ExportTraceServiceRequest");
  }
  if (request.resource_spans().empty()) {  // as MLflow: an empty export is refused
    return InvalidArgument("Invalid OpenTelemetry protobuf format - no spans found");
  }
  std::vector<Span> out;
  for (const otlp::ResourceSpans& rs : request.resource_spans()) {
    for (const otlp::ScopeSpans& ss : rs.scope_spans()) {
      for (const otlp::Span& s : ss.spans()) {
        PLINTH_ASSIGN_OR_RETURN(SpanFields f, FieldsOf(s));
        out.push_back(SpanOf(f));
      }
    }
  }
  return out;
}

// ---- JSON ------------------------------------------------------------------------

// The member named `camel` (OTLP/JSON) or `snake` (protobuf's names), else null.
const Json* Member(const Json& j, std::string_view camel, std::string_view snake) {
  if (!j.is_object()) {
    return nullptr;
  }
  auto it = j.find(camel);
  if (it == j.end()) {
    it = j.find(snake);
  }
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

Result<std::string> TextOf(const Json* v, std::string_view what) {
  if (v == nullptr) {
    return std::string();
  }
  if (!v->is_string()) {
    return InvalidArgument(std::string(what) + ": expected a string, got " +
                           core::JsonPreview(*v, 40));
  }
  return v->get<std::string>();
}

// A 64-bit unsigned integer, as a number or a decimal string (both are OTLP/JSON).
Result<int64_t> NanosOf(const Json* v, std::string_view what) {
  if (v == nullptr) {
    return int64_t{0};
  }
  if (v->is_number_unsigned()) {
    return Nanos(v->get<uint64_t>(), what);
  }
  if (v->is_string()) {
    const std::string text = v->get<std::string>();
    if (!text.empty() && text.size() <= 20 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      errno = 0;
      const unsigned long long n = std::strtoull(text.c_str(), nullptr, 10);
      if (errno == 0) {
        return Nanos(n, what);
      }
    }
  }
  return InvalidArgument(std::string(what) +
                         ": expected nanoseconds since the epoch (an unsigned integer), got " +
                         core::JsonPreview(*v, 40));
}

Result<Json> ValueOfJson(const Json& v, int depth, std::string_view what);

// [{key, value}] -> {key: value}
Result<Json> AttributesOfJson(const Json* list, int depth, std::string_view what) {
  Json out = Json::object();
  if (list == nullptr) {
    return out;
  }
  if (!list->is_array()) {
    return InvalidArgument(std::string(what) + ": attributes: expected a list of {key, value}");
  }
  if (list->size() > kMaxAttributes) {
    return TooManyAttributes(what);
  }
  for (const Json& kv : *list) {
    const Json* key = Member(kv, "key", "key");
    if (key == nullptr || !key->is_string()) {
      return InvalidArgument(std::string(what) + ": attributes: expected {key, value}, got " +
                             core::JsonPreview(kv, 60));
    }
    const Json* value = Member(kv, "value", "value");
    if (value == nullptr) {
      out[key->get<std::string>()] = nullptr;
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(out[key->get<std::string>()], ValueOfJson(*value, depth, what));
  }
  return out;
}

Result<Json> ValueOfJson(const Json& v, int depth, std::string_view what) {
  if (depth > kMaxAttributeDepth) {
    return TooDeep(what);
  }
  if (!v.is_object()) {
    return InvalidArgument(std::string(what) + ": expected an AnyValue object, got " +
                           core::JsonPreview(v, 40));
  }
  if (const Json* s = Member(v, "stringValue", "string_value")) {
    PLINTH_ASSIGN_OR_RETURN(std::string text, TextOf(s, what));
    return Json(std::move(text));
  }
  if (const Json* b = Member(v, "boolValue", "bool_value")) {
    if (!b->is_boolean()) {
      return InvalidArgument(std::string(what) + ": boolValue: expected true or false");
    }
    return *b;
  }
  if (const Json* i = Member(v, "intValue", "int_value")) {
    if (i->is_number_unsigned() &&
        i->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgument(std::string(what) + ": intValue: beyond a 64-bit integer");
    }
    if (i->is_number_integer()) {
      return *i;
    }
    if (i->is_string()) {
      const std::string text = i->get<std::string>();
      char* end = nullptr;
      errno = 0;
      const long long n = std::strtoll(text.c_str(), &end, 10);
      if (!text.empty() && errno == 0 && end == text.c_str() + text.size()) {
        return Json(static_cast<int64_t>(n));
      }
    }
    return InvalidArgument(std::string(what) + ": intValue: expected a 64-bit integer, got " +
                           core::JsonPreview(*i, 40));
  }
  if (const Json* d = Member(v, "doubleValue", "double_value")) {
    if (d->is_number()) {
      return *d;
    }
    if (d->is_string()) {  // "NaN", "Infinity": no JSON number holds them
      return Json();
    }
    return InvalidArgument(std::string(what) + ": doubleValue: expected a number");
  }
  if (const Json* bytes = Member(v, "bytesValue", "bytes_value")) {
    PLINTH_ASSIGN_OR_RETURN(std::string text, TextOf(bytes, what));
    return Json(std::move(text));
  }
  if (const Json* a = Member(v, "arrayValue", "array_value")) {
    Json out = Json::array();
    const Json* values = Member(*a, "values", "values");
    if (values != nullptr && !values->is_array()) {
      return InvalidArgument(std::string(what) + ": arrayValue.values: expected a list");
    }
    for (const Json& item : values != nullptr ? *values : Json::array()) {
      PLINTH_ASSIGN_OR_RETURN(Json value, ValueOfJson(item, depth + 1, what));
      out.push_back(std::move(value));
    }
    return out;
  }
  if (const Json* kv = Member(v, "kvlistValue", "kvlist_value")) {
    return AttributesOfJson(Member(*kv, "values", "values"), depth + 1, what);
  }
  return Json();
}

int StatusCodeOfJson(const Json* code) {
  if (code == nullptr) {
    return 0;
  }
  if (code->is_number_integer()) {
    return code->get<int>();
  }
  if (code->is_string()) {
    const std::string name = code->get<std::string>();
    return name == "STATUS_CODE_OK" ? 1 : name == "STATUS_CODE_ERROR" ? 2 : 0;
  }
  return 0;
}

Result<SpanFields> FieldsOfJson(const Json& s) {
  if (!s.is_object()) {
    return InvalidArgument("span: expected an object, got " + core::JsonPreview(s, 40));
  }
  SpanFields f;
  PLINTH_ASSIGN_OR_RETURN(f.name, TextOf(Member(s, "name", "name"), "span name"));
  const std::string what = "span '" + f.name.substr(0, 100) + "'";
  PLINTH_ASSIGN_OR_RETURN(std::string trace, TextOf(Member(s, "traceId", "trace_id"), what));
  PLINTH_ASSIGN_OR_RETURN(f.trace_hex, IdFromText(trace, 16, what + " traceId", false));
  PLINTH_ASSIGN_OR_RETURN(std::string span, TextOf(Member(s, "spanId", "span_id"), what));
  PLINTH_ASSIGN_OR_RETURN(f.span_hex, IdFromText(span, 8, what + " spanId", false));
  PLINTH_ASSIGN_OR_RETURN(std::string parent,
                          TextOf(Member(s, "parentSpanId", "parent_span_id"), what));
  PLINTH_ASSIGN_OR_RETURN(f.parent_hex, IdFromText(parent, 8, what + " parentSpanId", true));
  PLINTH_ASSIGN_OR_RETURN(f.start_ns,
                          NanosOf(Member(s, "startTimeUnixNano", "start_time_unix_nano"), what));
  PLINTH_ASSIGN_OR_RETURN(f.end_ns,
                          NanosOf(Member(s, "endTimeUnixNano", "end_time_unix_nano"), what));
  if (const Json* status = Member(s, "status", "status")) {
    f.status_code = StatusName(StatusCodeOfJson(Member(*status, "code", "code")));
    PLINTH_ASSIGN_OR_RETURN(f.status_message,
                            TextOf(Member(*status, "message", "message"), what + " status"));
  }
  PLINTH_ASSIGN_OR_RETURN(f.attributes,
                          AttributesOfJson(Member(s, "attributes", "attributes"), 1, what));
  if (const Json* events = Member(s, "events", "events")) {
    if (!events->is_array()) {
      return InvalidArgument(what + ": events: expected a list");
    }
    for (const Json& e : *events) {
      PLINTH_ASSIGN_OR_RETURN(std::string name, TextOf(Member(e, "name", "name"), what + " event"));
      PLINTH_ASSIGN_OR_RETURN(int64_t time,
                              NanosOf(Member(e, "timeUnixNano", "time_unix_nano"), what));
      PLINTH_ASSIGN_OR_RETURN(Json attributes,
                              AttributesOfJson(Member(e, "attributes", "attributes"), 1, what));
      f.events.push_back(
          {{"name", name}, {"time_unix_nano", time}, {"attributes", std::move(attributes)}});
    }
  }
  return f;
}

// A JSON list member (absent = empty).
Result<const Json*> ListOf(const Json& j, std::string_view camel, std::string_view snake) {
  static const Json kEmpty = Json::array();
  const Json* list = Member(j, camel, snake);
  if (list == nullptr) {
    return &kEmpty;
  }
  if (!list->is_array()) {
    return InvalidArgument(std::string(camel) + ": expected a list");
  }
  return list;
}

Result<std::vector<Span>> FromJson(std::string_view body) {
  Result<Json> parsed =
      core::ParseJson(body, "request body", core::kMaxJsonDepth, kMaxOtlpMessages);
  if (!parsed.ok()) {
    return parsed.status().code() == StatusCode::kResourceExhausted ? TooMany() : parsed.status();
  }
  const Json& request = *parsed;
  if (!request.is_object()) {
    return InvalidArgument("request body: expected an ExportTraceServiceRequest object");
  }
  PLINTH_ASSIGN_OR_RETURN(const Json* resource_spans,
                          ListOf(request, "resourceSpans", "resource_spans"));
  if (resource_spans->empty()) {  // as MLflow refuses an empty protobuf export
    return InvalidArgument("request body: no resourceSpans: no spans found");
  }
  std::vector<const Json*> spans;
  for (const Json& rs : *resource_spans) {
    PLINTH_ASSIGN_OR_RETURN(const Json* scope_spans, ListOf(rs, "scopeSpans", "scope_spans"));
    for (const Json& ss : *scope_spans) {
      PLINTH_ASSIGN_OR_RETURN(const Json* list, ListOf(ss, "spans", "spans"));
      for (const Json& s : *list) {
        if (spans.size() == kMaxOtlpSpans) {
          return TooMany();
        }
        spans.push_back(&s);
      }
    }
  }
  std::vector<Span> out;
  out.reserve(spans.size());
  for (const Json* s : spans) {
    PLINTH_ASSIGN_OR_RETURN(SpanFields f, FieldsOfJson(*s));
    out.push_back(SpanOf(f));
  }
  return out;
}

// ---- stored spans back out -----------------------------------------------------------

// A stored span's fields: its content read back (attribute values parsed from their
// JSON text; a value that is not JSON stays the text).
SpanFields FieldsOfStored(const Span& s) {
  SpanFields f;
  f.trace_hex = s.trace_id.starts_with("tr-") ? s.trace_id.substr(3) : s.trace_id;
  f.span_hex = s.span_id;
  f.parent_hex = s.parent_span_id;
  f.name = s.name;
  f.start_ns = s.start_time_ns;
  f.end_ns = s.end_time_ns.value_or(0);
  f.status_code = s.status == "OK"      ? "STATUS_CODE_OK"
                  : s.status == "ERROR" ? "STATUS_CODE_ERROR"
                                        : "STATUS_CODE_UNSET";
  Result<Json> content = core::ParseJson(s.content, "span");
  if (!content.ok() || !content->is_object()) {
    return f;
  }
  if (const Json* status = Member(*content, "status", "status"); status != nullptr) {
    if (const Json* m = Member(*status, "message", "message"); m != nullptr && m->is_string()) {
      f.status_message = m->get<std::string>();
    }
  }
  if (const Json* attrs = Member(*content, "attributes", "attributes");
      attrs != nullptr && attrs->is_object()) {
    for (const auto& [key, value] : attrs->items()) {
      Result<Json> parsed =
          value.is_string() ? core::ParseJson(value.get<std::string>(), "attribute") : value;
      f.attributes[key] = parsed.ok() ? std::move(*parsed) : value;
    }
  }
  if (const Json* events = Member(*content, "events", "events");
      events != nullptr && events->is_array()) {
    f.events = *events;
  }
  return f;
}

Json AnyValueJson(const Json& v, int depth) {
  if (depth > kMaxAttributeDepth) {
    return {{"string_value", core::DumpJson(v, false)}};
  }
  if (v.is_string()) {
    return {{"string_value", v.get<std::string>()}};
  }
  if (v.is_boolean()) {
    return {{"bool_value", v.get<bool>()}};
  }
  if (v.is_number_unsigned()) {
    return {{"int_value", std::to_string(v.get<uint64_t>())}};
  }
  if (v.is_number_integer()) {
    return {{"int_value", std::to_string(v.get<int64_t>())}};
  }
  if (v.is_number()) {
    return {{"double_value", v.get<double>()}};
  }
  if (v.is_array()) {
    Json values = Json::array();
    for (const Json& item : v) {
      values.push_back(AnyValueJson(item, depth + 1));
    }
    return {{"array_value", {{"values", std::move(values)}}}};
  }
  if (v.is_object()) {
    Json values = Json::array();
    for (const auto& [key, item] : v.items()) {
      values.push_back({{"key", key}, {"value", AnyValueJson(item, depth + 1)}});
    }
    return {{"kvlist_value", {{"values", std::move(values)}}}};
  }
  return Json::object();
}

Json KeyValuesJson(const Json& attributes) {
  Json out = Json::array();
  if (attributes.is_object()) {
    for (const auto& [key, value] : attributes.items()) {
      out.push_back({{"key", key}, {"value", AnyValueJson(value, 1)}});
    }
  }
  return out;
}

void SetAnyValue(const Json& v, otlp::AnyValue* out, int depth) {
  if (depth > kMaxAttributeDepth) {
    out->set_string_value(core::DumpJson(v, false));
  } else if (v.is_string()) {
    out->set_string_value(v.get<std::string>());
  } else if (v.is_boolean()) {
    out->set_bool_value(v.get<bool>());
  } else if (v.is_number_integer()) {
    out->set_int_value(v.get<int64_t>());
  } else if (v.is_number()) {
    out->set_double_value(v.get<double>());
  } else if (v.is_array()) {
    otlp::ArrayValue* array = out->mutable_array_value();
    for (const Json& item : v) {
      SetAnyValue(item, array->add_values(), depth + 1);
    }
  } else if (v.is_object()) {
    otlp::KeyValueList* list = out->mutable_kvlist_value();
    for (const auto& [key, item] : v.items()) {
      otlp::KeyValue* kv = list->add_values();
      kv->set_key(key);
      SetAnyValue(item, kv->mutable_value(), depth + 1);
    }
  }
}

void SetAttributes(const Json& attributes, RepeatedKeyValues* out) {
  if (!attributes.is_object()) {
    return;
  }
  for (const auto& [key, value] : attributes.items()) {
    otlp::KeyValue* kv = out->Add();
    kv->set_key(key);
    SetAnyValue(value, kv->mutable_value(), 1);
  }
}

}  // namespace

Span SpanOf(const SpanFields& f) {
  Span s;
  s.trace_id = "tr-" + f.trace_hex;
  s.span_id = f.span_hex;
  s.parent_span_id = f.parent_hex;
  s.name = f.name;
  s.start_time_ns = f.start_ns;
  if (f.end_ns != 0) {
    s.end_time_ns = f.end_ns;
  }
  s.status = f.status_code == "STATUS_CODE_OK"      ? "OK"
             : f.status_code == "STATUS_CODE_ERROR" ? "ERROR"
                                                    : "UNSET";
  Json attributes = Json::object();
  attributes[kRequestIdAttribute] = "";  // first, as MLflow writes it
  for (const auto& [key, value] : f.attributes.items()) {
    attributes[key] = core::DumpJson(value, false);
  }
  // The trace the span is stored in, whatever the sender claimed: a span cannot name
  // another trace (another experiment's) as its own.
  attributes[kRequestIdAttribute] = core::DumpJson(Json(s.trace_id), false);
  if (auto type = f.attributes.find(kSpanTypeAttribute);
      type != f.attributes.end() && type->is_string()) {
    s.type = type->get<std::string>();
  }
  Json content = {{"trace_id", core::Base64Encode(Unhex(f.trace_hex))},
                  {"span_id", core::Base64Encode(Unhex(f.span_hex))},
                  {"parent_span_id",
                   f.parent_hex.empty() ? Json() : Json(core::Base64Encode(Unhex(f.parent_hex)))},
                  {"name", f.name},
                  {"start_time_unix_nano", f.start_ns},
                  {"end_time_unix_nano", f.end_ns != 0 ? Json(f.end_ns) : Json()},
                  {"events", f.events},
                  {"status", {{"code", f.status_code}, {"message", f.status_message}}},
                  {"attributes", std::move(attributes)}};
  s.content = core::DumpJson(content, false);
  return s;
}

Result<std::vector<Span>> SpansFromOtlp(std::string_view body, OtlpEncoding encoding) {
  return encoding == OtlpEncoding::kProtobuf ? FromProtobuf(body) : FromJson(body);
}

Result<std::string> DecodeContentEncoding(std::string_view body, std::string_view raw_encoding,
                                          size_t limit) {
  std::string encoding(raw_encoding);  // content codings are case-insensitive
  std::transform(encoding.begin(), encoding.end(), encoding.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (encoding.empty() || encoding == "identity") {
    return std::string(body);
  }
  if (encoding != "gzip" && encoding != "deflate") {
    return InvalidArgument("Content-Encoding '" + encoding.substr(0, 40) +
                           "': expected gzip, deflate or identity");
  }
  // gzip and zlib-wrapped deflate by their headers (32 + 15); raw deflate next.
  for (int window : {32 + 15, -15}) {
    z_stream z{};
    if (inflateInit2(&z, window) != Z_OK) {
      return Internal("zlib: cannot start inflating");
    }
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    z.avail_in = static_cast<uInt>(std::min<size_t>(body.size(), std::numeric_limits<uInt>::max()));
    std::string out;
    char chunk[65536];
    int rc = Z_OK;
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(chunk);
      z.avail_out = sizeof chunk;
      rc = inflate(&z, Z_NO_FLUSH);
      out.append(chunk, sizeof chunk - z.avail_out);
      if (out.size() > limit) {
        inflateEnd(&z);
        return ResourceExhausted("request body: more than " + std::to_string(limit) +
                                 " bytes once decompressed");
      }
      if (rc == Z_BUF_ERROR && z.avail_in == 0) {
        break;  // truncated
      }
    }
    inflateEnd(&z);
    if (rc == Z_STREAM_END) {
      return out;
    }
  }
  return InvalidArgument("request body: not valid " + std::string(encoding) + " data");
}

Json OtelSpanJson(const Span& span) {
  const SpanFields f = FieldsOfStored(span);
  Json out = {{"trace_id", core::Base64Encode(Unhex(f.trace_hex))},
              {"span_id", core::Base64Encode(Unhex(f.span_hex))}};
  if (!f.parent_hex.empty()) {
    out["parent_span_id"] = core::Base64Encode(Unhex(f.parent_hex));
  }
  out["name"] = f.name;
  out["start_time_unix_nano"] = std::to_string(f.start_ns);
  if (f.end_ns != 0) {
    out["end_time_unix_nano"] = std::to_string(f.end_ns);
  }
  out["attributes"] = KeyValuesJson(f.attributes);
  Json events = Json::array();
  for (const Json& e : f.events) {
    if (!e.is_object()) {
      continue;
    }
    Json event = {{"time_unix_nano", std::to_string(e.value("time_unix_nano", int64_t{0}))},
                  {"name", e.value("name", std::string())}};
    event["attributes"] = KeyValuesJson(e.value("attributes", Json::object()));
    events.push_back(std::move(event));
  }
  if (!events.empty()) {
    out["events"] = std::move(events);
  }
  Json status = Json::object();
  if (!f.status_message.empty()) {
    status["message"] = f.status_message;
  }
  status["code"] = f.status_code;
  out["status"] = std::move(status);
  return out;
}

Result<std::vector<Span>> SpansFromOtelJson(const Json& spans) {
  std::vector<Span> out;
  if (spans.is_null()) {
    return out;
  }
  if (!spans.is_array()) {
    return InvalidArgument("trace.spans: expected a list");
  }
  for (const Json& s : spans) {
    PLINTH_ASSIGN_OR_RETURN(SpanFields f, FieldsOfJson(s));
    out.push_back(SpanOf(f));
  }
  return out;
}

std::string OtlpProtobufRequest(const std::vector<Span>& spans) {
  otlp::ExportTraceServiceRequest request;
  otlp::ScopeSpans* scope = request.add_resource_spans()->add_scope_spans();
  scope->mutable_scope()->set_name("plinth");
  for (const Span& span : spans) {
    const SpanFields f = FieldsOfStored(span);
    otlp::Span* s = scope->add_spans();
    s->set_trace_id(Unhex(f.trace_hex));
    s->set_span_id(Unhex(f.span_hex));
    if (!f.parent_hex.empty()) {
      s->set_parent_span_id(Unhex(f.parent_hex));
    }
    s->set_name(f.name);
    s->set_start_time_unix_nano(static_cast<uint64_t>(f.start_ns));
    s->set_end_time_unix_nano(static_cast<uint64_t>(f.end_ns));
    SetAttributes(f.attributes, s->mutable_attributes());
    for (const Json& e : f.events) {
      if (!e.is_object()) {
        continue;
      }
      otlp::Span::Event* event = s->add_events();
      event->set_name(e.value("name", std::string()));
      event->set_time_unix_nano(static_cast<uint64_t>(e.value("time_unix_nano", int64_t{0})));
      SetAttributes(e.value("attributes", Json::object()), event->mutable_attributes());
    }
    s->mutable_status()->set_message(f.status_message);
    s->mutable_status()->set_code(f.status_code == "STATUS_CODE_OK" ? otlp::Status::STATUS_CODE_OK
                                  : f.status_code == "STATUS_CODE_ERROR"
                                      ? otlp::Status::STATUS_CODE_ERROR
                                      : otlp::Status::STATUS_CODE_UNSET);
  }
  return request.SerializeAsString();
}

std::string TracesJson(const std::vector<Span>& spans) {
  std::string out = "{\"spans\": [";
  for (size_t i = 0; i < spans.size(); ++i) {
    out += i == 0 ? "" : ", ";
    out += spans[i].content;
  }
  return out + "]}";
}

}  // namespace plinth::tracking
