#include "core/json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/file.h"

namespace plinth::core {

Result<Json> ParseJson(std::string_view text, std::string_view source) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    size_t pos = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
    size_t line_start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
    size_t col = line_start == std::string_view::npos ? pos + 1 : pos - line_start;
    std::string what = e.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 2: X";
    // keep only X.
    size_t colon = what.rfind(": ");
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    return InvalidArgument(std::string(source) + ":" + std::to_string(line) + ":" +
                           std::to_string(col) + ": invalid JSON: " + detail);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(source) + ": invalid JSON: " + e.what());
  }
}

Result<Json> ReadJsonFile(const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseJson(text, path);
}

std::string DumpJson(const Json& value, bool pretty) {
  return value.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

Status WriteJsonFile(const std::string& path, const Json& value) {
  return AtomicWriteFile(path, DumpJson(value) + "\n");
}

namespace {

// The bytes nlohmann's serializer writes as they are (ensure_ascii off): all but
// control characters, '"', '\\' and bytes of multi-byte UTF-8, which it checks.
constexpr std::array<bool, 256> kPlainJsonBytes = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) {
    plain[static_cast<size_t>(c)] = c != '"' && c != '\\';
  }
  return plain;
}();

// True when one of the 8 bytes in `w` is a control character, '"', '\\' or not
// ASCII (bit tricks exact for presence; see "haszero" in Bit Twiddling Hacks).
bool HasSpecialByte(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t control = ~((w | kHigh) - 0x20 * kOnes) & kHigh;  // a byte below 0x20
  return ((w & kHigh) | control | has_zero(w ^ (0x22 * kOnes)) | has_zero(w ^ (0x5C * kOnes))) != 0;
}

}  // namespace

bool IsPlainJsonString(std::string_view value) {
  size_t i = 0;
  for (; i + 8 <= value.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, value.data() + i, 8);
    if (HasSpecialByte(w)) {
      break;
    }
  }
  for (; i < value.size(); ++i) {
    if (!kPlainJsonBytes[static_cast<unsigned char>(value[i])]) {
      return false;
    }
  }
  return true;
}

void AppendJsonString(std::string* out, std::string_view value) {
  if (!IsPlainJsonString(value)) {
    out->append(DumpJson(Json(std::string(value)), false));
    return;
  }
  JsonAppender(out).PlainString(value);
}

namespace {

template <typename T>
char* WriteJsonNumber(char* out, T value) {
  if (!std::isfinite(value)) {
    std::memcpy(out, "null", 4);
    return out + 4;
  }
  // The shortest digits that read back the same (std::to_chars, Ryu), laid
  // out as nlohmann's serializer lays out its own: "100.0", "0.001", "1e-07",
  // "-2.5e+300". (Its Grisu2 digits are sometimes a digit longer, and twice as
  // slow to find.)
  char sci[32];
  const char* end = std::to_chars(sci, sci + sizeof(sci), value, std::chars_format::scientific).ptr;
  const char* p = sci;
  if (*p == '-') {
    *out++ = '-';
    ++p;
  }
  if (value == 0) {
    std::memcpy(out, "0.0", 3);
    return out + 3;
  }
  // sci is "d[.ddd]e[+-]XX[X]": the digits, then the exponent.
  char digits[24];
  int k = 0;
  while (*p != 'e') {
    if (*p != '.') {
      digits[k++] = *p;
    }
    ++p;
  }
  const bool negative = p[1] == '-';
  int a = 0;
  for (const char* d = p + 2; d < end; ++d) {
    a = a * 10 + (*d - '0');
  }
  const int exponent = negative ? -a : a;
  const int n = exponent + 1;  // where the decimal point goes, counted from the first digit
  constexpr int kMinExp = -4;  // nlohmann's bounds for plain decimal notation
  constexpr int kMaxExp = 15;
  const auto uk = static_cast<size_t>(k);
  if (k <= n && n <= kMaxExp) {
    std::memcpy(out, digits, uk);
    out += k;
    std::memset(out, '0', static_cast<size_t>(n - k));
    out += n - k;
    std::memcpy(out, ".0", 2);
    return out + 2;
  }
  if (0 < n && n <= kMaxExp) {
    const auto un = static_cast<size_t>(n);
    std::memcpy(out, digits, un);
    out[n] = '.';
    std::memcpy(out + n + 1, digits + n, uk - un);
    return out + k + 1;
  }
  if (kMinExp < n && n <= 0) {
    std::memcpy(out, "0.", 2);
    out += 2;
    std::memset(out, '0', static_cast<size_t>(-n));
    out += -n;
    std::memcpy(out, digits, uk);
    return out + k;
  }
  *out++ = digits[0];
  if (k > 1) {
    *out++ = '.';
    std::memcpy(out, digits + 1, uk - 1);
    out += k - 1;
  }
  *out++ = 'e';
  *out++ = negative ? '-' : '+';
  if (a < 10) {
    *out++ = '0';
  }
  return std::to_chars(out, out + 4, a).ptr;
}

}  // namespace

char* WriteJsonDouble(char* out, double value) { return WriteJsonNumber(out, value); }
char* WriteJsonFloat(char* out, float value) { return WriteJsonNumber(out, value); }

void AppendJsonDouble(std::string* out, double value) {
  char buf[kMaxJsonDoubleChars];
  out->append(buf, WriteJsonDouble(buf, value));
}

JsonWriter::JsonWriter(std::string* out) : out_(out) {}

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) {
      out_->push_back(',');
    }
    has_element_.back() = true;
  }
}

JsonWriter& JsonWriter::Open(char bracket) {
  Separate();
  out_->push_back(bracket);
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::Close(char bracket) {
  out_->push_back(bracket);
  has_element_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  String(key);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  Separate();
  AppendJsonString(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out_->append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  Separate();
  AppendJsonDouble(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_->append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_->append("null");
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_->append(json);
  return *this;
}

JsonWriter& JsonWriter::Value(const Json& value) {
  Separate();
  if (!serializer_) {
    serializer_.emplace(nlohmann::detail::output_adapter<char, std::string>(*out_), ' ',
                        Json::error_handler_t::replace);
  }
  serializer_->dump(value, false, false, 0);
  return *this;
}

}  // namespace plinth::core
