// libFuzzer target for OTLP span ingestion (POST /v1/traces, tracking/spans.h): the
// first byte picks protobuf, JSON, or either behind gzip; whatever the bytes, spans or
// an error. Spans accepted survive the forms they travel in unchanged: the OTel JSON
// traces/get answers, and the protobuf request Plinth's own client sends.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tracking/spans.h"

using plinth::tracking::OtlpEncoding;
using plinth::tracking::Span;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const OtlpEncoding encoding = data[0] % 2 == 0 ? OtlpEncoding::kProtobuf : OtlpEncoding::kJson;
  if (data[0] % 4 >= 2) {
    auto inflated = plinth::tracking::DecodeContentEncoding(body, "gzip", 1 << 20);
    if (!inflated.ok()) {
      return 0;
    }
    body = std::move(*inflated);
  }
  auto spans = plinth::tracking::SpansFromOtlp(body, encoding);
  if (!spans.ok()) {
    return 0;
  }
  auto wire = plinth::tracking::SpansFromOtlp(plinth::tracking::OtlpProtobufRequest(*spans),
                                              OtlpEncoding::kProtobuf);
  plinth::core::Json otel = plinth::core::Json::array();
  for (const Span& s : *spans) {
    otel.push_back(plinth::tracking::OtelSpanJson(s));
  }
  auto answered = plinth::tracking::SpansFromOtelJson(otel);
  if (!wire.ok() || !answered.ok() || wire->size() != spans->size() ||
      answered->size() != spans->size()) {
    std::abort();
  }
  for (size_t i = 0; i < spans->size(); ++i) {
    if ((*wire)[i].content != (*spans)[i].content ||
        (*answered)[i].content != (*spans)[i].content) {
      std::abort();
    }
  }
  return 0;
}
