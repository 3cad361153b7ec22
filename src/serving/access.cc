#include "serving/access.h"

#include <sys/stat.h>

#include <fstream>

#include "core/hash.h"

namespace plinth::serving {

Result<unsigned> ParsePublicRoutes(std::string_view list) {
  unsigned out = 0;
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = list.find(',', at);
    std::string_view word =
        list.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    if (word == "health") {
      out |= kPublicHealth;
    } else if (word == "metrics") {
      out |= kPublicMetrics;
    } else if (word == "metadata") {
      out |= kPublicMetadata;
    } else if (word != "none") {
      return InvalidArgument("unknown route group '" + std::string(word) +
                             "' (expected a comma list of health, metrics, metadata, or none)");
    }
    if (comma == std::string_view::npos) {
      break;
    }
    at = comma + 1;
  }
  return out;
}

Result<AccessTokens> AccessTokens::Load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return InvalidArgument(path + ": not a readable regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return InvalidArgument(path + ": other users may read or write it; chmod 600 " + path);
  }
  std::ifstream in(path);
  if (!in) {
    return InvalidArgument(path + ": cannot read it");
  }
  AccessTokens out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string where = path + ":" + std::to_string(number) + ": ";
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') {
      continue;
    }
    size_t e = line.find_last_not_of(" \t\r");
    std::string text = line.substr(b, e - b + 1);
    size_t space = text.find_first_of(" \t");
    if (space == std::string::npos) {
      return InvalidArgument(where + "expected 'score TOKEN' or 'admin TOKEN'");
    }
    std::string role = text.substr(0, space);
    std::string token = text.substr(text.find_first_not_of(" \t", space));
    if (role != "score" && role != "admin") {
      return InvalidArgument(where + "unknown role '" + role + "' (expected score or admin)");
    }
    if (token.size() < 16 || token.find_first_of(" \t") != std::string::npos) {
      return InvalidArgument(where + "a token is at least 16 characters with no spaces");
    }
    if (!out.tokens_.emplace(core::Sha256Hex(token), role == "admin" ? Role::kAdmin : Role::kScore)
             .second) {
      return InvalidArgument(where + "this token is already listed");
    }
  }
  if (out.tokens_.empty()) {
    return InvalidArgument(path + ": no token in it (lines 'score TOKEN' or 'admin TOKEN')");
  }
  return out;
}

std::optional<Role> AccessTokens::RoleOf(const http::Request& r) const {
  std::string_view header = r.Header("authorization");
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() || header.size() > 4096) {
    return std::nullopt;
  }
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kBearer[i]) {
      return std::nullopt;
    }
  }
  // Looked up by hash: the time taken says nothing about how much of a token matched.
  auto it = tokens_.find(core::Sha256Hex(header.substr(kBearer.size())));
  if (it == tokens_.end()) {
    return std::nullopt;
  }
  return it->second;
}

Need RouteNeed(std::string_view p, unsigned public_routes) {
  if (p == "/admin/reload") {
    return Need::kAdmin;
  }
  if (p == "/ping" || p == "/health" || p == "/v2/health/live" || p == "/v2/health/ready") {
    return (public_routes & kPublicHealth) != 0 ? Need::kNone : Need::kScore;
  }
  if (p == "/metrics" || p == "/monitor") {
    return (public_routes & kPublicMetrics) != 0 ? Need::kNone : Need::kScore;
  }
  bool metadata =
      p == "/version" || p == "/v2" || (p.starts_with("/v2/models/") && !p.ends_with("/infer"));
  if (metadata) {
    return (public_routes & kPublicMetadata) != 0 ? Need::kNone : Need::kScore;
  }
  return Need::kScore;
}

}  // namespace plinth::serving
