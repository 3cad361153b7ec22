#include "tracking/artifacts.h"

#include <algorithm>

namespace plinth::tracking {

Result<std::string> SafeRelativePath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("Invalid path: '" + std::string(path) + "' (" + std::string(why) + ")");
  };
  if (path.find('\0') != std::string_view::npos) {
    return bad("contains NUL");
  }
  if (path.starts_with("/") || path.find('\\') != std::string_view::npos ||
      (path.size() > 1 && path[1] == ':')) {
    return bad("must be relative");
  }
  std::string out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = std::min(path.find('/', i), path.size());
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      return bad("must not refer to a parent directory");
    }
    if (!part.empty() && part != ".") {
      out += (out.empty() ? "" : "/") + std::string(part);
    }
    i = j + 1;
  }
  return out;
}

std::optional<std::string> ProxiedPath(std::string_view uri) {
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  if (!uri.starts_with(kScheme)) {
    return std::nullopt;
  }
  std::string_view rest = uri.substr(kScheme.size());
  if (rest.starts_with("//")) {  // an authority: mlflow-artifacts://host:port/path
    size_t slash = rest.find('/', 2);
    rest = slash == std::string_view::npos ? "" : rest.substr(slash);
  }
  while (rest.starts_with("/")) {
    rest.remove_prefix(1);
  }
  return std::string(rest);
}

Status ArtifactRoot::Put(std::string_view path, std::string_view bytes) const {
  PLINTH_ASSIGN_OR_RETURN(std::string rel, SafeRelativePath(path));
  if (rel.empty()) {
    return InvalidArgument("Invalid path: an artifact needs a file name");
  }
  return dir_.WriteFile(rel, bytes);
}

Result<std::string> ArtifactRoot::Fetch(std::string_view dir) const {
  PLINTH_ASSIGN_OR_RETURN(std::string rel, SafeRelativePath(dir));
  return rel.empty() ? root_ : root_ + "/" + rel;
}

Result<core::UniqueFd> ArtifactRoot::Open(std::string_view path) const {
  PLINTH_ASSIGN_OR_RETURN(std::string rel, SafeRelativePath(path));
  Result<core::UniqueFd> fd = dir_.OpenFile(rel);
  if (!fd.ok() && fd.status().code() == StatusCode::kNotFound) {
    return NotFound("No artifact at '" + std::string(path) + "'");
  }
  return fd;
}

Result<std::vector<FileInfo>> ArtifactRoot::List(std::string_view dir) const {
  PLINTH_ASSIGN_OR_RETURN(std::string rel, SafeRelativePath(dir));
  PLINTH_ASSIGN_OR_RETURN(std::vector<core::ConfinedEntry> entries, dir_.List(rel));
  std::vector<FileInfo> out;
  for (core::ConfinedEntry& e : entries) {
    if (e.name.starts_with(".") && e.name.find(".tmp.") != std::string::npos) {
      continue;  // an upload in progress (an atomic write's temp file)
    }
    FileInfo f;
    f.path = std::move(e.name);
    f.is_dir = e.is_dir;
    if (!f.is_dir) {
      f.file_size = e.size;
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return out;
}

Status ArtifactRoot::Delete(std::string_view path) const {
  PLINTH_ASSIGN_OR_RETURN(std::string rel, SafeRelativePath(path));
  if (rel.empty()) {
    return InvalidArgument("Invalid path: refusing to delete the artifact root");
  }
  return dir_.Remove(rel);
}

std::string GuessMimeType(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".json", "application/json"}, {".txt", "text/plain"},    {".log", "text/plain"},
      {".csv", "text/csv"},          {".html", "text/html"},    {".yaml", "text/yaml"},
      {".yml", "text/yaml"},         {".png", "image/png"},     {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},       {".svg", "image/svg+xml"}, {".gif", "image/gif"},
      {".pdf", "application/pdf"},   {".md", "text/markdown"},  {".gz", "application/gzip"},
      {".zip", "application/zip"},   {".py", "text/x-python"}};
  for (const auto& [ext, type] : kTypes) {
    if (path.ends_with(ext)) {
      return std::string(type);
    }
  }
  return "application/octet-stream";
}

}  // namespace plinth::tracking
