#include "core/json.h"

#include <algorithm>

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

}  // namespace plinth::core
