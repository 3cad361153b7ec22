// MLflow 3's trace spans in the forms they travel in: OTLP (protobuf or JSON, what
// /v1/traces receives), the OTel Span JSON of MLflow's Trace message (what
// traces/get and traces/batchGet answer), and MLflow's span dictionary (what the
// store and traces.json keep, Span::content).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "tracking/entities.h"

namespace plinth::tracking {

// A span's fields with their values decoded.
struct SpanFields {
  std::string trace_hex;   // the OTel trace id: 32 lowercase hex digits
  std::string span_hex;    // 16 lowercase hex digits
  std::string parent_hex;  // "" for a root
  std::string name;
  int64_t start_ns = 0;
  int64_t end_ns = 0;                             // 0 = not ended
  std::string status_code = "STATUS_CODE_UNSET";  // STATUS_CODE_UNSET | _OK | _ERROR
  std::string status_message = {};
  core::Json attributes = core::Json::object();  // key -> value
  core::Json events = core::Json::array();       // [{name, time_unix_nano, attributes: {}}]
};

// The span the store keeps: MLflow's span dictionary as `content` (base64 ids,
// attribute values as JSON text, mlflow.traceRequestId added when absent), trace id
// tr-<trace_hex>, as MLflow's server makes it from an OTLP span.
Span SpanOf(const SpanFields& fields);

// The deepest nesting of attribute values (lists and maps) the readers accept, and the
// most attributes of a span or event (or entries of one map value): OpenTelemetry's SDKs
// keep 128 by default.
inline constexpr int kMaxAttributeDepth = 32;
inline constexpr size_t kMaxAttributes = 1000;

// At most this many spans, and this many messages or JSON values in all, in one
// export request (kResourceExhausted beyond, found before the request is built):
// OpenTelemetry's batch exporter sends 512 spans at a time, MLflow's client one.
inline constexpr size_t kMaxOtlpSpans = 10000;
inline constexpr size_t kMaxOtlpMessages = 1000000;

enum class OtlpEncoding { kProtobuf, kJson };

// The spans of an OTLP ExportTraceServiceRequest, in order. OTLP/JSON as the
// specification writes it (lowerCamelCase names, hex ids, enums as numbers) and as
// protobuf's JSON mapping does (snake_case names, base64 ids, enum names).
// kInvalidArgument naming the span and field for bad ids, times, nesting deeper than
// kMaxAttributeDepth, a body that is not the encoding, or one with no resource spans
// (MLflow's server refuses an empty export too).
Result<std::vector<Span>> SpansFromOtlp(std::string_view body, OtlpEncoding encoding);

// An HTTP body's Content-Encoding undone: gzip, deflate (zlib or raw) or identity;
// at most `limit` bytes out (kResourceExhausted beyond), kInvalidArgument for a
// corrupt body or an unknown encoding.
Result<std::string> DecodeContentEncoding(std::string_view body, std::string_view encoding,
                                          size_t limit);

// The OTel Span message of a stored span as MLflow's JSON writes it (proto field
// names, base64 ids, enum names, 64-bit integers as strings).
core::Json OtelSpanJson(const Span& span);
// The spans of MLflow's Trace JSON (`spans`, OtelSpanJson's form).
Result<std::vector<Span>> SpansFromOtelJson(const core::Json& spans);
// An OTLP ExportTraceServiceRequest carrying `spans`, protobuf-encoded: what MLflow's
// client posts to /v1/traces.
std::string OtlpProtobufRequest(const std::vector<Span>& spans);
// traces.json as MLflow's clients write it: {"spans": [span dictionaries]}.
std::string TracesJson(const std::vector<Span>& spans);

}  // namespace plinth::tracking
