// libFuzzer target for the JSON and UBJSON readers every document and request
// body goes through (core/json.h): whatever the bytes, a value or an error; a
// value parsed is written back as text and quoted in a preview without
// running out of stack (the nesting limit holds).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto parsed = data[0] % 2 == 0 ? plinth::core::ParseJson(bytes, "body")
                                 : plinth::core::ParseUbjson(bytes, "body");
  if (!parsed.ok()) {
    return 0;
  }
  const std::string text = plinth::core::DumpJson(*parsed, false);
  if (plinth::core::JsonPreview(*parsed, 40).size() > 43) {
    std::abort();
  }
  // What Plinth writes, it reads back as the same value.
  auto again = plinth::core::ParseJson(text, "dumped");
  if (!again.ok()) {
    std::abort();
  }
  return 0;
}
