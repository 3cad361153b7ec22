#include "core/yaml.h"

#include <algorithm>
#include <set>

#include "core/file.h"

namespace plinth::core {

Result<YAML::Node> ParseYaml(std::string_view text, std::string_view source) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp quotes the character it could not read (a line feed, say): escaped, one line.
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) +
                           ": invalid YAML: " + EscapeControl(e.msg));
  }
}

Result<YAML::Node> ReadYamlFile(const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseYaml(text, path);
}

std::string YamlWhere(const YAML::Node& node, std::string_view source) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return std::string(source);
  }
  return std::string(source) + ":" + std::to_string(mark.line + 1);
}

Status YamlCheckKeys(const YAML::Node& map, std::string_view source, std::string_view what,
                     const std::vector<std::string_view>& known) {
  const std::string prefix = std::string(what) + ": ";
  if (!map.IsMap()) {
    return InvalidArgument(YamlWhere(map, source) + ": " + prefix + "expected a mapping");
  }
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    const std::string where = YamlWhere(kv.first, source);
    if (!seen.insert(key).second) {
      return InvalidArgument(where + ": " + prefix + "key '" + key + "' given twice");
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (std::string_view k : known) {
        list += (list.empty() ? "" : ", ") + std::string(k);
      }
      return InvalidArgument(where + ": " + prefix + "unknown key '" + key + "' (expected " + list +
                             ")");
    }
  }
  return Status::Ok();
}

}  // namespace plinth::core
