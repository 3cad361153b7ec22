// YAML adapter over yaml-cpp: parse errors become Status naming the file, line
// and column; typed accessors name the key path that was wrong.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace plinth::core {

// Parses `text`; `source` names it in errors ("checks.yaml:3:5: ...").
Result<YAML::Node> ParseYaml(std::string_view text, std::string_view source);

// Reads and parses the file at `path`.
Result<YAML::Node> ReadYamlFile(const std::string& path);

// "FILE:LINE" of `node` within `source` (the line is 1-based), or `source` alone
// when the node carries no position.
std::string YamlWhere(const YAML::Node& node, std::string_view source);

// Converts a scalar `node` to T. On failure returns kInvalidArgument
// "`where`: key `key`: expected `expected`, got "text"".
template <typename T>
Result<T> YamlAs(const YAML::Node& node, std::string_view where, std::string_view key,
                 std::string_view expected) {
  try {
    if (node.IsScalar()) {
      return node.as<T>();
    }
  } catch (const YAML::Exception&) {
  }
  std::string got = !node.IsDefined()   ? std::string("nothing")
                    : node.IsScalar()   ? "\"" + node.Scalar() + "\""
                    : node.IsSequence() ? std::string("a list")
                    : node.IsMap()      ? std::string("a mapping")
                                        : std::string("nothing");
  return InvalidArgument(std::string(where) + ": key '" + std::string(key) + "': expected " +
                         std::string(expected) + ", got " + got);
}

// The member `key` of the mapping `map` (from `source`) converted to T:
// kInvalidArgument "`source`:LINE: key 'k': missing (expected ...)" when absent or
// null, "...: expected a mapping" when `map` is not one, otherwise as YamlAs.
template <typename T>
Result<T> YamlMember(const YAML::Node& map, std::string_view key, std::string_view source,
                     std::string_view expected) {
  if (!map.IsDefined() || !map.IsMap()) {  // (an undefined node has no position to ask for)
    return InvalidArgument((map.IsDefined() ? YamlWhere(map, source) : std::string(source)) +
                           ": expected a mapping with key '" + std::string(key) + "'");
  }
  const YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) {
    return InvalidArgument(YamlWhere(map, source) + ": key '" + std::string(key) +
                           "': missing (expected " + std::string(expected) + ")");
  }
  return YamlAs<T>(n, YamlWhere(n, source), key, expected);
}

// Checks the keys of the mapping `map` against `known`: "FILE:LINE: <what>: unknown key
// 'k' (expected a, b)", or "...: key 'k' given twice", or "...: expected a mapping".
Status YamlCheckKeys(const YAML::Node& map, std::string_view source, std::string_view what,
                     const std::vector<std::string_view>& known);

}  // namespace plinth::core
