// JSON adapter over nlohmann::json: parse errors become Status with a line and
// column, never exceptions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

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

}  // namespace plinth::core
