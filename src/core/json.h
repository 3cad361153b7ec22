// JSON adapter over nlohmann::json: parse errors become Status with a line and
// column, never exceptions.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace plinth::core {

using Json = nlohmann::ordered_json;

// The deepest nesting of arrays and objects ParseJson accepts by default: far
// more than any document Plinth or MLflow writes, and little enough that code
// walking a parsed value recursively (serializing it, say) cannot run out of stack.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`. On a syntax error returns kInvalidArgument
// "`source`:LINE:COL: invalid JSON: ..."; on arrays and objects nested deeper
// than `max_depth`, kInvalidArgument "`source`: invalid JSON: nested deeper than
// N levels", found before the value is built any deeper.
// With `max_values`, a document of more values (scalars, arrays and objects), or with
// an object of more than kMaxJsonMembers members, is kResourceExhausted "`source`: more
// than N JSON values" (or "... an object of more than M members"), found before the
// value that passes the limit is built: a
// small request cannot make a large tree, nor cost time quadratic in its size (a member
// is found by a linear scan).
inline constexpr size_t kMaxJsonMembers = 10000;
Result<Json> ParseJson(std::string_view text, std::string_view source,
                       int max_depth = kMaxJsonDepth, size_t max_values = SIZE_MAX);

// Parses UBJSON `bytes` (strict: nothing may follow the value), with the same
// nesting limit; kInvalidArgument "`source`: invalid UBJSON: ..." otherwise.
Result<Json> ParseUbjson(std::string_view bytes, std::string_view source,
                         int max_depth = kMaxJsonDepth);

// `value` as compact JSON text cut to about `max_chars` characters (then "..."):
// for quoting a client's value in an error message without repeating all of it.
// Costs time in `max_chars`, not in the size of `value`.
std::string JsonPreview(const Json& value, size_t max_chars = 80);

// Reads and parses the file at `path` (errors as ReadFile and ParseJson).
Result<Json> ReadJsonFile(const std::string& path);

// A JSON object's members read with their types checked, for documents and
// bodies from outside (bundle files, lock and pointer files, request bodies):
// each accessor returns kInvalidArgument "`where`: key 'format': expected a
// string, got 1" where nlohmann would throw. Borrows the object: it must
// outlive the reader.
class JsonFields {
 public:
  // kInvalidArgument "`where`: expected a JSON object, got ..." unless `value` is one.
  static Result<JsonFields> Of(const Json& value, std::string where);

  // True when `key` is present and not null.
  bool Has(std::string_view key) const;
  // Required members: kInvalidArgument "`where`: key 'k': missing" when absent or null.
  Result<std::string> String(std::string_view key) const;
  Result<int64_t> Int(std::string_view key) const;
  Result<double> Number(std::string_view key) const;
  Result<const Json*> Array(std::string_view key) const;
  Result<const Json*> Object(std::string_view key) const;
  // Optional members: `fallback` when absent or null, an error when of another type.
  Result<std::string> String(std::string_view key, std::string_view fallback) const;
  Result<int64_t> Int(std::string_view key, int64_t fallback) const;
  Result<double> Number(std::string_view key, double fallback) const;
  Result<bool> Bool(std::string_view key, bool fallback) const;
  // An optional array member: an empty array when absent or null.
  Result<const Json*> Items(std::string_view key) const;

  const std::string& where() const { return where_; }
  // "`where`: key 'k'", for messages about a member's value.
  std::string At(std::string_view key) const;

 private:
  JsonFields(const Json* object, std::string where) : object_(object), where_(std::move(where)) {}
  // The member, or nullptr when absent or null.
  const Json* Find(std::string_view key) const;
  Status Wrong(std::string_view key, std::string_view expected, const Json& got) const;

  const Json* object_;
  std::string where_;
};

// Serializes `value` (pretty-printed with 2 spaces when `pretty`); invalid UTF-8 in
// strings is replaced rather than thrown on.
std::string DumpJson(const Json& value, bool pretty = true);

// Writes `value` to `path` atomically (see AtomicWriteFile).
Status WriteJsonFile(const std::string& path, const Json& value);

// True when DumpJson writes `value` as it is between quotes: no control
// characters, '"', '\\' or non-ASCII bytes (a scan, 8 bytes at a time).
bool IsPlainJsonString(std::string_view value);
// Appends `value` to `out` as a JSON string, exactly as DumpJson writes it: as
// it is when plain (the common case), else through nlohmann's serializer
// (escapes, invalid UTF-8 replaced).
void AppendJsonString(std::string* out, std::string_view value);

// The most characters WriteJsonDouble writes ("-2.2250738585072014e-308").
inline constexpr size_t kMaxJsonDoubleChars = 32;
// Writes `value` at `out` (room for kMaxJsonDoubleChars) in the shortest form
// that reads back the same, laid out as DumpJson lays out numbers ("1.0" for
// integral values, "0.001", "1e-07"; DumpJson's digits are now and then one
// longer); NaN and infinities become null. Returns the end of what it wrote.
char* WriteJsonDouble(char* out, double value);
// WriteJsonDouble for a float: the shortest text that reads back as the same
// float (fewer digits than the double of the same value needs).
char* WriteJsonFloat(char* out, float value);
// WriteJsonDouble, appended to `out`.
void AppendJsonDouble(std::string* out, double value);

// Appends JSON text to a string through a raw pointer, checking room once per
// piece instead of going through std::string::append: for the per-row loops of
// the serving answers and the prediction log. Values come out as
// AppendJsonString and AppendJsonDouble write them. The string holds spare
// bytes while the appender lives and is cut to what was written by Finish (or
// the destructor); nothing else may touch it meanwhile.
class JsonAppender {
 public:
  explicit JsonAppender(std::string* out) : out_(out), size_(out->size()) {}
  // Writes over `*out` from its start, keeping what it has allocated (and
  // zeroed) for reuse: see Release.
  struct Overwrite {};
  JsonAppender(std::string* out, Overwrite) : out_(out), size_(0) {}
  ~JsonAppender() {
    if (out_ != nullptr) {
      Finish();
    }
  }
  JsonAppender(const JsonAppender&) = delete;
  JsonAppender& operator=(const JsonAppender&) = delete;

  // Makes room for `n` more bytes at once (a hint; every write checks anyway).
  void Reserve(size_t n) { Room(n); }
  void Raw(std::string_view text) {
    if (text.empty()) {  // memcpy takes no null pointer, even for 0 bytes
      return;
    }
    Room(text.size());
    std::memcpy(out_->data() + size_, text.data(), text.size());
    size_ += text.size();
  }
  void Char(char c) {
    Room(1);
    (*out_)[size_++] = c;
  }
  void Int(int64_t v) {
    Room(24);
    char* p = out_->data() + size_;
    size_ = static_cast<size_t>(std::to_chars(p, p + 24, v).ptr - out_->data());
  }
  void Double(double v) {
    Room(kMaxJsonDoubleChars);
    size_ = static_cast<size_t>(WriteJsonDouble(out_->data() + size_, v) - out_->data());
  }
  void Float(float v) {
    Room(kMaxJsonDoubleChars);
    size_ = static_cast<size_t>(WriteJsonFloat(out_->data() + size_, v) - out_->data());
  }
  void String(std::string_view v) {
    if (!IsPlainJsonString(v)) {
      std::string escaped;
      AppendJsonString(&escaped, v);
      return Raw(escaped);
    }
    PlainString(v);
  }
  // `v` between quotes, as it is: for a string known to be plain
  // (IsPlainJsonString), such as any piece of text that was checked whole.
  void PlainString(std::string_view v) {
    Room(v.size() + 2);
    char* p = out_->data() + size_;
    *p = '"';
    if (!v.empty()) {
      std::memcpy(p + 1, v.data(), v.size());
    }
    p[v.size() + 1] = '"';
    size_ += v.size() + 2;
  }
  // Room for `n` bytes at once, for a loop that writes through the pointer
  // returned (a local pointer, which the compiler keeps in a register, where
  // each Char would load and store the appender's fields again); then
  // Commit(end) with where the loop stopped, at most `n` bytes on.
  char* Claim(size_t n) {
    Room(n);
    return out_->data() + size_;
  }
  void Commit(const char* end) { size_ = static_cast<size_t>(end - out_->data()); }
  // Cuts the string to what was written.
  void Finish() { out_->resize(size_); }
  // Returns how many bytes were written and leaves the string at its allocated
  // size (the bytes past them are left over): a buffer that is written again
  // and again then is not zeroed each time it grows back. Writes nothing more.
  size_t Release() {
    out_ = nullptr;
    return size_;
  }

 private:
  void Room(size_t n) {
    if (size_ + n > out_->size()) [[unlikely]] {
      Grow(n);
    }
  }
  [[gnu::noinline]] void Grow(size_t n) {
    out_->resize(std::max(out_->size() * 2, size_ + n + 256));
  }

  std::string* out_;
  size_t size_;  // bytes written; out_->size() is what is allocated
};

// Writes compact JSON straight into a string, without building a Json tree:
// for large responses (a page of 1,000 runs, 100k metric points), where the
// tree's allocations, copies and frees cost more than the text. Strings and
// numbers come out as DumpJson writes them (strings exactly, invalid UTF-8
// replaced; doubles as AppendJsonDouble). The caller keeps the nesting well formed:
//
//   JsonWriter w(&out);
//   w.BeginObject().Key("runs").BeginArray() ... .EndArray().EndObject();
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out);

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  // An object member's name; the next call writes its value.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  // As DumpJson: shortest round-trip form; NaN and infinities become null.
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // `json`, a complete JSON value already written (by a JsonAppender, say).
  JsonWriter& Raw(std::string_view json);
  // Any Json value (a small tree inside a large streamed one).
  JsonWriter& Value(const Json& value);

  // Key(key) and the value, the common case.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const std::string& value) {
    return Key(key).String(value);
  }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) = delete;  // would write 0 or 1

 private:
  // A comma before every element but the first of its object or array.
  void Separate();
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);

  std::string* out_;
  std::vector<bool> has_element_;  // one per open object or array
  bool after_key_ = false;
  // For Value: made on its first call (it allocates its output adapter).
  std::optional<nlohmann::detail::serializer<Json>> serializer_;
};

}  // namespace plinth::core
