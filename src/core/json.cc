#include "core/json.h"

#include <algorithm>
#include <charconv>

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

JsonWriter::JsonWriter(std::string* out)
    : out_(out),
      serializer_(nlohmann::detail::output_adapter<char, std::string>(*out), ' ',
                  Json::error_handler_t::replace) {}

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
  if (!scratch_.is_string()) {
    scratch_ = std::string();
  }
  scratch_.get_ref<std::string&>().assign(value);
  serializer_.dump(scratch_, false, false, 0);
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
  scratch_ = value;
  serializer_.dump(scratch_, false, false, 0);
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

JsonWriter& JsonWriter::Value(const Json& value) {
  Separate();
  serializer_.dump(value, false, false, 0);
  return *this;
}

}  // namespace plinth::core
