#include "core/json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "core/file.h"

namespace plinth::core {

namespace {

// nlohmann's DOM builder behind a depth count: refuses to open an array or
// object deeper than the limit, which stops the parse there (its text parser
// is iterative, its binary readers recurse once per level).
class DepthLimitedSax {
 public:
  DepthLimitedSax(Json& root, int max_depth, size_t max_values = SIZE_MAX)
      : dom_(root, /*allow_exceptions=*/true), max_depth_(max_depth), max_values_(max_values) {}

  bool null() { return Count() && dom_.null(); }
  bool boolean(bool v) { return Count() && dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return Count() && dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return Count() && dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const std::string& s) {
    return Count() && dom_.number_float(v, s);
  }
  bool string(std::string& v) { return Count() && dom_.string(v); }
  bool binary(Json::binary_t& v) { return Count() && dom_.binary(v); }
  bool start_object(std::size_t n) {
    if (!Open()) {
      return false;
    }
    members_[static_cast<size_t>(depth_)] = 0;
    return dom_.start_object(n);
  }
  // A member is found by a linear scan (ordered_json): with a value limit, objects are
  // capped too, so that a request cannot cost time quadratic in its size.
  bool key(std::string& v) {
    if (max_values_ != SIZE_MAX && ++members_[static_cast<size_t>(depth_)] > kMaxJsonMembers) {
      too_wide_ = true;
      return false;
    }
    return dom_.key(v);
  }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return Open() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  template <typename Exception>
  bool parse_error(std::size_t position, const std::string& last_token, const Exception& e) {
    return dom_.parse_error(position, last_token, e);
  }

  bool too_deep() const { return too_deep_; }
  bool too_many() const { return too_many_; }
  bool too_wide() const { return too_wide_; }

 private:
  bool Open() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return Count();
  }
  // Stops before the value that would pass the limit is built.
  bool Count() {
    if (++values_ > max_values_) {
      too_many_ = true;
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  int max_depth_;
  size_t max_values_;
  std::vector<size_t> members_ = std::vector<size_t>(static_cast<size_t>(max_depth_) + 2, 0);
  size_t values_ = 0;
  int depth_ = 0;
  bool too_deep_ = false;
  bool too_many_ = false;
  bool too_wide_ = false;
};

std::string TooDeep(std::string_view source, std::string_view format, int max_depth) {
  return std::string(source) + ": invalid " + std::string(format) + ": nested deeper than " +
         std::to_string(max_depth) + " levels";
}

// nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 2: X"
// (or "at byte 7: X"); keeps only X, which the caller places itself.
std::string Detail(const std::exception& e) {
  std::string what = e.what();
  if (size_t tag = what.find("] ");
      what.rfind("[json.exception.", 0) == 0 && tag != std::string::npos) {
    what.erase(0, tag + 2);
  }
  if (what.rfind("parse error", 0) == 0) {
    if (size_t colon = what.find(": "); colon != std::string::npos) {
      what.erase(0, colon + 2);
    }
  }
  return what;
}

}  // namespace

Result<Json> ParseJson(std::string_view text, std::string_view source, int max_depth,
                       size_t max_values) {
  try {
    Json out;
    DepthLimitedSax sax(out, max_depth, max_values);
    if (!Json::sax_parse(text.begin(), text.end(), &sax)) {
      if (sax.too_deep()) {
        return InvalidArgument(TooDeep(source, "JSON", max_depth));
      }
      if (sax.too_many()) {
        return ResourceExhausted(std::string(source) + ": more than " + std::to_string(max_values) +
                                 " JSON values");
      }
      if (sax.too_wide()) {
        return ResourceExhausted(std::string(source) + ": an object of more than " +
                                 std::to_string(kMaxJsonMembers) + " members");
      }
    }
    return out;
  } catch (const Json::parse_error& e) {
    size_t pos = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
    size_t line_start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
    size_t col = line_start == std::string_view::npos ? pos + 1 : pos - line_start;
    return InvalidArgument(std::string(source) + ":" + std::to_string(line) + ":" +
                           std::to_string(col) + ": invalid JSON: " + Detail(e));
  } catch (const Json::out_of_range&) {
    // nlohmann's text quotes the whole number, however long.
    return InvalidArgument(std::string(source) +
                           ": invalid JSON: a number out of range (beyond +-1.8e308)");
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(source) + ": invalid JSON: " + Detail(e));
  }
}

Result<Json> ParseUbjson(std::string_view bytes, std::string_view source, int max_depth) {
  try {
    Json out;
    DepthLimitedSax sax(out, max_depth);
    if (!Json::sax_parse(bytes.begin(), bytes.end(), &sax, nlohmann::detail::input_format_t::ubjson,
                         /*strict=*/true)) {
      return InvalidArgument(sax.too_deep() ? TooDeep(source, "UBJSON", max_depth)
                                            : std::string(source) + ": invalid UBJSON");
    }
    return out;
  } catch (const std::exception& e) {
    // bad_alloc included: a length field can claim more than memory holds.
    return InvalidArgument(std::string(source) + ": invalid UBJSON: " + Detail(e));
  }
}

namespace {

// Appends `value` to `out` until `out` holds `limit` characters; false once cut.
bool AppendPreview(const Json& value, size_t limit, std::string* out) {
  if (out->size() >= limit) {
    return false;
  }
  if (value.is_array() || value.is_object()) {
    out->push_back(value.is_array() ? '[' : '{');
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!first) {
        out->push_back(',');
      }
      first = false;
      if (value.is_object()) {
        AppendJsonString(out, it.key());
        out->push_back(':');
      }
      if (!AppendPreview(*it, limit, out)) {
        return false;
      }
    }
    out->push_back(value.is_array() ? ']' : '}');
  } else if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    // A long string is cut before it is quoted: quoting costs its whole length.
    AppendJsonString(out, std::string_view(s).substr(0, limit - out->size() + 1));
  } else {
    out->append(DumpJson(value, false));
  }
  return out->size() <= limit;
}

}  // namespace

std::string JsonPreview(const Json& value, size_t max_chars) {
  std::string out;
  if (!AppendPreview(value, max_chars, &out) || out.size() > max_chars) {
    // Back to a whole UTF-8 character, so the message stays valid text.
    size_t cut = std::min(out.size(), max_chars);
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    out.resize(cut);
    out += "...";
  }
  return out;
}

Result<Json> ReadJsonFile(const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseJson(text, path);
}

Result<JsonFields> JsonFields::Of(const Json& value, std::string where) {
  if (!value.is_object()) {
    return InvalidArgument(where + ": expected a JSON object, got " + JsonPreview(value, 40));
  }
  return JsonFields(&value, std::move(where));
}

const Json* JsonFields::Find(std::string_view key) const {
  auto it = object_->find(std::string(key));
  return it == object_->end() || it->is_null() ? nullptr : &*it;
}

bool JsonFields::Has(std::string_view key) const { return Find(key) != nullptr; }

std::string JsonFields::At(std::string_view key) const {
  return where_ + ": key '" + std::string(key) + "'";
}

Status JsonFields::Wrong(std::string_view key, std::string_view expected, const Json& got) const {
  return InvalidArgument(At(key) + ": expected " + std::string(expected) + ", got " +
                         JsonPreview(got, 40));
}

namespace {

// Members of one type, required or with a fallback.
template <typename T, typename Check, typename Get>
Result<T> Member(const JsonFields& fields, const Json* v, std::string_view key,
                 std::string_view expected, const std::optional<T>& fallback, Check check,
                 Get get) {
  if (v == nullptr) {
    if (fallback) {
      return *fallback;
    }
    return InvalidArgument(fields.At(key) + ": missing (expected " + std::string(expected) + ")");
  }
  if (!check(*v)) {
    return InvalidArgument(fields.At(key) + ": expected " + std::string(expected) + ", got " +
                           JsonPreview(*v, 40));
  }
  return get(*v);
}

bool IsString(const Json& v) { return v.is_string(); }
std::string GetString(const Json& v) { return v.get<std::string>(); }
// An integer, or a double that holds one exactly (1.0), within int64.
bool IsInt(const Json& v) {
  if (v.is_number_integer()) {
    return !v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t{INT64_MAX};
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return std::trunc(d) == d && d >= -9.2233720368547758e18 && d < 9.2233720368547758e18;
  }
  return false;
}
int64_t GetInt(const Json& v) {
  return v.is_number_float() ? static_cast<int64_t>(v.get<double>()) : v.get<int64_t>();
}
bool IsNumber(const Json& v) { return v.is_number(); }
double GetNumber(const Json& v) { return v.get<double>(); }
bool IsBool(const Json& v) { return v.is_boolean(); }
bool GetBool(const Json& v) { return v.get<bool>(); }

}  // namespace

Result<std::string> JsonFields::String(std::string_view key) const {
  return Member<std::string>(*this, Find(key), key, "a string", std::nullopt, IsString, GetString);
}
Result<std::string> JsonFields::String(std::string_view key, std::string_view fallback) const {
  return Member<std::string>(*this, Find(key), key, "a string", std::string(fallback), IsString,
                             GetString);
}
Result<int64_t> JsonFields::Int(std::string_view key) const {
  return Member<int64_t>(*this, Find(key), key, "an integer", std::nullopt, IsInt, GetInt);
}
Result<int64_t> JsonFields::Int(std::string_view key, int64_t fallback) const {
  return Member<int64_t>(*this, Find(key), key, "an integer", fallback, IsInt, GetInt);
}
Result<double> JsonFields::Number(std::string_view key) const {
  return Member<double>(*this, Find(key), key, "a number", std::nullopt, IsNumber, GetNumber);
}
Result<double> JsonFields::Number(std::string_view key, double fallback) const {
  return Member<double>(*this, Find(key), key, "a number", fallback, IsNumber, GetNumber);
}
Result<bool> JsonFields::Bool(std::string_view key, bool fallback) const {
  return Member<bool>(*this, Find(key), key, "true or false", fallback, IsBool, GetBool);
}
Result<const Json*> JsonFields::Array(std::string_view key) const {
  const Json* v = Find(key);
  if (v == nullptr) {
    return InvalidArgument(At(key) + ": missing (expected an array)");
  }
  if (!v->is_array()) {
    return Wrong(key, "an array", *v);
  }
  return v;
}
Result<const Json*> JsonFields::Items(std::string_view key) const {
  static const Json kEmpty = Json::array();
  const Json* v = Find(key);
  if (v == nullptr) {
    return &kEmpty;
  }
  if (!v->is_array()) {
    return Wrong(key, "an array", *v);
  }
  return v;
}
Result<const Json*> JsonFields::Object(std::string_view key) const {
  const Json* v = Find(key);
  if (v == nullptr) {
    return InvalidArgument(At(key) + ": missing (expected an object)");
  }
  if (!v->is_object()) {
    return Wrong(key, "an object", *v);
  }
  return v;
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
  // Plain appends, not a JsonAppender: an appender on a long string grows it
  // by half again, zero-filled, then cuts it back, so one per string made a
  // 100,000-point metric history quadratic (13.7 s instead of 0.1 s).
  out->push_back('"');
  out->append(value);
  out->push_back('"');
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
