#include "tracking/artifacts.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/url.h"

namespace plinth::tracking {
namespace {

// A file:// URI's host that is this machine (MLflow's is_local_uri).
bool IsLocalHost(const std::string& host) {
  return host.empty() || host == "." || host.starts_with("localhost") ||
         host.starts_with("127.0.0.1");
}

}  // namespace

UriParts SplitUri(std::string_view s) {
  UriParts u;
  const size_t colon = s.find(':');
  auto scheme_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  };
  if (colon != std::string_view::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(s[0])) &&
      std::all_of(s.begin(), s.begin() + static_cast<ptrdiff_t>(colon), scheme_char)) {
    for (char c : s.substr(0, colon)) {
      u.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    s.remove_prefix(colon + 1);
  }
  if (s.starts_with("//")) {
    const size_t end = s.find_first_of("/?#", 2);
    std::string_view authority = s.substr(2, end == std::string_view::npos ? s.npos : end - 2);
    if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
      authority.remove_prefix(at + 1);
    }
    u.host = std::string(authority.substr(0, authority.find(':')));
    s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  }
  u.path = std::string(s.substr(0, s.find_first_of("?#")));
  return u;
}

std::optional<std::string> LocalPathOf(std::string_view location) {
  const UriParts uri = SplitUri(location);
  if (uri.scheme.empty()) {
    return std::string(location);
  }
  if (uri.scheme != "file" || !IsLocalHost(uri.host)) {
    return std::nullopt;
  }
  return core::PercentDecode(uri.path, false);
}

std::string ResolveIfLocal(const std::string& location) {
  if (!SplitUri(location).scheme.empty() || location.starts_with("/")) {
    return location;
  }
  std::error_code ec;
  const std::filesystem::path cwd = std::filesystem::current_path(ec);
  return ec ? location : (cwd / location).lexically_normal().string();
}

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
  // The artifact service's HTTP route, as a --default-artifact-root of
  // http://HOST/api/2.0/mlflow-artifacts/artifacts writes run URIs (MLflow's
  // _get_proxied_run_artifact_destination_path).
  constexpr std::string_view kRoute = "/api/2.0/mlflow-artifacts/artifacts";
  for (std::string_view http : {"http://", "https://"}) {
    if (uri.starts_with(http)) {
      const size_t slash = uri.find('/', http.size());
      std::string_view path = slash == std::string_view::npos ? "" : uri.substr(slash);
      path = path.substr(0, path.find_first_of("?#"));
      if (!path.starts_with(kRoute) ||
          (path.size() > kRoute.size() && path[kRoute.size()] != '/')) {
        return std::nullopt;
      }
      path.remove_prefix(kRoute.size());
      while (path.starts_with("/")) {
        path.remove_prefix(1);
      }
      return std::string(path);
    }
  }
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
  // MLflow's rules (utils/mime_type_utils.py): text files by extension, or by name when
  // there is none (MLmodel, mlproject), are text/plain; then Python's mimetypes table for
  // the types a browser shows; anything else application/octet-stream.
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  const std::string_view ext =
      dot == std::string_view::npos || dot == 0 ? name : name.substr(dot + 1);
  static constexpr std::string_view kText[] = {
      "txt",  "log",   "err",  "cfg",  "conf", "cnf",     "cf",       "ini", "properties",
      "prop", "hocon", "toml", "yaml", "yml",  "xml",     "json",     "js",  "py",
      "py3",  "csv",   "tsv",  "md",   "rst",  "MLmodel", "mlproject"};
  for (std::string_view text : kText) {
    if (ext == text) {
      return "text/plain";
    }
  }
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", "text/html"},       {"htm", "text/html"},       {"png", "image/png"},
      {"jpg", "image/jpeg"},       {"jpeg", "image/jpeg"},     {"gif", "image/gif"},
      {"svg", "image/svg+xml"},    {"pdf", "application/pdf"}, {"zip", "application/zip"},
      {"tar", "application/x-tar"}};
  for (const auto& [extension, type] : kTypes) {
    if (ext == extension) {
      return std::string(type);
    }
  }
  return "application/octet-stream";
}

}  // namespace plinth::tracking
