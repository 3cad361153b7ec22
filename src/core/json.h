// JSON adapter over nlohmann::json: parse errors become Status with a line and
// column, never exceptions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace plinth::core {

using Json = nlohmann::ordered_json;

// Parses `text`. On a syntax error returns kInvalidArgument
// "`source`:LINE:COL: invalid JSON: ...".
Result<Json> ParseJson(std::string_view text, std::string_view source);

// Reads and parses the file at `path` (errors as ReadFile and ParseJson).
Result<Json> ReadJsonFile(const std::string& path);

// Serializes `value` (pretty-printed with 2 spaces when `pretty`); invalid UTF-8 in
// strings is replaced rather than thrown on.
std::string DumpJson(const Json& value, bool pretty = true);

// Writes `value` to `path` atomically (see AtomicWriteFile).
Status WriteJsonFile(const std::string& path, const Json& value);

// Writes compact JSON straight into a string, without building a Json tree:
// for large responses (a page of 1,000 runs, 100k metric points), where the
// tree's allocations, copies and frees cost more than the text. Strings and
// numbers come out exactly as DumpJson writes them (nlohmann's serializer,
// invalid UTF-8 replaced). The caller keeps the nesting well formed:
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
  Json scratch_;  // holds one string or number for the serializer
  nlohmann::detail::serializer<Json> serializer_;
};

}  // namespace plinth::core
