#include "core/yaml.h"

#include "core/file.h"

namespace plinth::core {

Result<YAML::Node> ParseYaml(std::string_view text, std::string_view source) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
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

}  // namespace plinth::core
