// OTLP span decoding (protobuf and both JSON spellings), the span dictionary MLflow
// stores, and the OTel JSON traces/get answers.
#include "tracking/spans.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "core/hash.h"

namespace plinth::tracking {
namespace {

using core::Json;

Json Content(const Span& s) { return *core::ParseJson(s.content, "span"); }

// OTLP/JSON as the specification's example writes it: camelCase, hex ids, enum numbers,
// 64-bit integers as strings.
constexpr std::string_view kSpecJson = R"({"resourceSpans": [{
  "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
  "scopeSpans": [{"scope": {"name": "lib"}, "spans": [{
    "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
    "parentSpanId": "EEE19B7EC3C1B173", "name": "checkout", "kind": 2,
    "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": 1544712661000000000,
    "attributes": [
      {"key": "http.status", "value": {"intValue": "200"}},
      {"key": "ok", "value": {"boolValue": true}},
      {"key": "ratio", "value": {"doubleValue": 0.5}},
      {"key": "items", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 2}]}}},
      {"key": "cart", "value": {"kvlistValue": {"values": [{"key": "n", "value": {"intValue": "3"}}]}}}],
    "events": [{"timeUnixNano": "1544712660500000000", "name": "paid",
                "attributes": [{"key": "amount", "value": {"doubleValue": 9.5}}]}],
    "status": {"code": 2, "message": "card declined"}}]}]}]})";

TEST(Spans, OtlpJsonAsTheSpecificationWritesIt) {
  auto spans = SpansFromOtlp(kSpecJson, OtlpEncoding::kJson);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  ASSERT_EQ(spans->size(), 1u);
  const Span& s = (*spans)[0];
  EXPECT_EQ(s.trace_id, "tr-5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(s.span_id, "eee19b7ec3c1b174");
  EXPECT_EQ(s.parent_span_id, "eee19b7ec3c1b173");
  EXPECT_EQ(s.status, "ERROR");
  EXPECT_EQ(s.start_time_ns, 1544712660000000000);
  EXPECT_EQ(s.end_time_ns, 1544712661000000000);
  // MLflow's span dictionary: base64 ids, attribute values as JSON text, the request id.
  Json c = Content(s);
  EXPECT_EQ(c["trace_id"],
            core::Base64Encode(std::string(
                "\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c", 16)));
  EXPECT_EQ(c["attributes"]["http.status"], "200");
  EXPECT_EQ(c["attributes"]["ok"], "true");
  EXPECT_EQ(c["attributes"]["ratio"], "0.5");
  EXPECT_EQ(c["attributes"]["items"], R"(["a",2])");
  EXPECT_EQ(c["attributes"]["cart"], R"({"n":3})");
  EXPECT_EQ(c["attributes"]["mlflow.traceRequestId"], "\"tr-5b8efff798038103d269b633813fc60c\"");
  EXPECT_EQ(c["status"], Json({{"code", "STATUS_CODE_ERROR"}, {"message", "card declined"}}));
  EXPECT_EQ(c["events"][0]["name"], "paid");
  EXPECT_EQ(c["events"][0]["attributes"]["amount"], 9.5);  // event attributes stay values
}

TEST(Spans, ProtobufRoundTripsThroughTheStoredForm) {
  auto spans = SpansFromOtlp(kSpecJson, OtlpEncoding::kJson);
  ASSERT_TRUE(spans.ok());
  const std::string wire = OtlpProtobufRequest(*spans);
  auto back = SpansFromOtlp(wire, OtlpEncoding::kProtobuf);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ(Content((*back)[0]), Content((*spans)[0]));

  // The OTel JSON traces/get answers reads back into the same span too.
  Json otel = OtelSpanJson((*spans)[0]);
  EXPECT_EQ(otel["span_id"],
            core::Base64Encode(std::string("\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74", 8)));
  EXPECT_EQ(otel["start_time_unix_nano"], "1544712660000000000");
  EXPECT_EQ(otel["status"]["code"], "STATUS_CODE_ERROR");
  auto from_otel = SpansFromOtelJson(Json::array({otel}));
  ASSERT_TRUE(from_otel.ok()) << from_otel.status().ToString();
  EXPECT_EQ(Content((*from_otel)[0]), Content((*spans)[0]));
  EXPECT_EQ(TracesJson(*spans), "{\"spans\": [" + (*spans)[0].content + "]}");
}

TEST(Spans, BadInputIsRefusedWithWhatIsWrong) {
  auto error = [](std::string_view body, OtlpEncoding e = OtlpEncoding::kJson) {
    auto r = SpansFromOtlp(body, e);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(error("not protobuf", OtlpEncoding::kProtobuf),
            "Invalid OpenTelemetry protobuf format: expected an ExportTraceServiceRequest");
  EXPECT_EQ(error(R"({"resourceSpans": [{"scopeSpans": [{"spans": [
                {"name": "x", "traceId": "abc", "spanId": "eee19b7ec3c1b174"}]}]}]})"),
            "span 'x' traceId: expected 32 hex digits (or base64 of 16 bytes), got 'abc'");
  EXPECT_EQ(error(R"({"resourceSpans": [{"scopeSpans": [{"spans": [
                {"name": "x", "traceId": "5b8efff798038103d269b633813fc60c",
                 "spanId": "eee19b7ec3c1b174", "startTimeUnixNano": "99999999999999999999"}]}]}]})"),
            "span 'x': expected nanoseconds since the epoch (an unsigned integer), got "
            "\"99999999999999999999\"");
  EXPECT_EQ(error(R"({"resourceSpans": {}})"), "resourceSpans: expected a list");
  EXPECT_EQ(error("[1]"), "request body: expected an ExportTraceServiceRequest object");
  // Nesting: a value 40 lists deep.
  std::string deep = R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x",
      "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
      "attributes": [{"key": "k", "value": )";
  std::string value = R"({"intValue": 1})";
  for (int i = 0; i < 40; ++i) {
    value = R"({"arrayValue": {"values": [)" + value + "]}}";
  }
  EXPECT_NE(error(deep + value + "}]}]}]}]}").find("nested deeper"), std::string::npos);
  // An empty export is refused, as MLflow's server refuses it.
  EXPECT_EQ(error("", OtlpEncoding::kProtobuf),
            "Invalid OpenTelemetry protobuf format - no spans found");
  EXPECT_EQ(error("{}"), "request body: no resourceSpans: no spans found");
}

TEST(Spans, ASpanCannotClaimAnotherTrace) {
  std::string body(kSpecJson);
  body.replace(
      body.find(R"("attributes": [)"), 15,
      R"("attributes": [{"key": "mlflow.traceRequestId", "value": {"stringValue": "tr-1"}},)");
  auto spans = SpansFromOtlp(body, OtlpEncoding::kJson);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  EXPECT_EQ(Content((*spans)[0])["attributes"]["mlflow.traceRequestId"],
            "\"tr-5b8efff798038103d269b633813fc60c\"");
}

TEST(Spans, SmallRequestsCannotBuildHugeTrees) {
  // 10,001 spans in JSON.
  std::string span =
      R"({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"})";
  std::string json = R"({"resourceSpans": [{"scopeSpans": [{"spans": [)";
  for (size_t i = 0; i <= kMaxOtlpSpans; ++i) {
    json += (i == 0 ? "" : ",") + span;
  }
  json += "]}]}]}";
  EXPECT_EQ(SpansFromOtlp(json, OtlpEncoding::kJson).status().code(),
            StatusCode::kResourceExhausted);
  // A million empty values in JSON, refused while parsing.
  std::string values = R"({"x": [)";
  for (size_t i = 0; i <= kMaxOtlpMessages; ++i) {
    values += i == 0 ? "0" : ",0";
  }
  EXPECT_EQ(SpansFromOtlp(values + "]}", OtlpEncoding::kJson).status().code(),
            StatusCode::kResourceExhausted);
  // Protobuf: one span whose attribute list holds a million empty KeyValues (field 9,
  // length 0: two bytes each), counted on the wire before anything is built.
  std::string attrs;
  for (size_t i = 0; i <= kMaxOtlpMessages; ++i) {
    attrs += std::string("\x4a\x00", 2);
  }
  auto varint = [](size_t n) {
    std::string out;
    while (n >= 0x80) {
      out += static_cast<char>((n & 0x7f) | 0x80);
      n >>= 7;
    }
    return out + static_cast<char>(n);
  };
  auto field = [&](char tag, const std::string& inner) {
    return tag + varint(inner.size()) + inner;
  };
  const std::string wire = field('\x0a', field('\x12', field('\x12', attrs)));
  auto r = SpansFromOtlp(wire, OtlpEncoding::kProtobuf);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  // Fields Plinth does not read count too: a million empty links (field 13) are kept by
  // protobuf among the span's unknown fields.
  std::string links;
  for (size_t i = 0; i <= kMaxOtlpMessages; ++i) {
    links += std::string("\x6a\x00", 2);
  }
  r = SpansFromOtlp(field('\x0a', field('\x12', field('\x12', links))), OtlpEncoding::kProtobuf);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  // A group (wire type 3) is no OTLP.
  r = SpansFromOtlp(std::string("\x0b\x0c", 2), OtlpEncoding::kProtobuf);
  EXPECT_EQ(r.status().message(),
            "Invalid OpenTelemetry protobuf format: a group field (OTLP has none)");
  // More attributes than a span may have: refused before a map of them is built.
  std::string many = R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x",
      "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
      "attributes": [)";
  for (size_t i = 0; i <= kMaxAttributes; ++i) {
    many += (i == 0 ? "" : ",") + std::string(R"({"key": "k)") + std::to_string(i) +
            R"(", "value": {"intValue": 1}})";
  }
  r = SpansFromOtlp(many + "]}]}]}]}", OtlpEncoding::kJson);
  EXPECT_EQ(r.status().message(),
            "span 'x': more than 1000 attributes (or entries of one map value)");
}

TEST(Spans, ContentEncodings) {
  const std::string text(100000, 'x');
  auto compress = [&](int window) {
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, text.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  };
  EXPECT_EQ(*DecodeContentEncoding(compress(15 + 16), "gzip", 1 << 20), text);
  EXPECT_EQ(*DecodeContentEncoding(compress(15 + 16), "GZip", 1 << 20), text);
  EXPECT_EQ(*DecodeContentEncoding(compress(15), "deflate", 1 << 20), text);
  EXPECT_EQ(*DecodeContentEncoding(compress(-15), "deflate", 1 << 20), text);
  EXPECT_EQ(*DecodeContentEncoding("abc", "", 10), "abc");
  EXPECT_EQ(DecodeContentEncoding(compress(15 + 16), "gzip", 1000).status().code(),
            StatusCode::kResourceExhausted);  // a zip bomb stops at the limit
  EXPECT_EQ(DecodeContentEncoding("junk", "gzip", 1000).status().message(),
            "request body: not valid gzip data");
  EXPECT_EQ(DecodeContentEncoding("abc", "br", 1000).status().message(),
            "Content-Encoding 'br': expected gzip, deflate or identity");
}

}  // namespace
}  // namespace plinth::tracking
