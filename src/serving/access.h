// Who may call `plinth serve`: bearer tokens from --auth-token-file, one role each.
// Scoring routes (/predict, /invocations, KServe v2 infer, /feedback) take a score or
// an admin token; /admin/reload an admin token; the health, metrics and metadata
// routes are public when --public-routes says so (health alone by default).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "http/server.h"

namespace plinth::serving {

enum class Role { kScore, kAdmin };

// Route groups --public-routes can open.
enum PublicRoute : unsigned {
  kPublicHealth = 1,    // /ping, /health, /v2/health/live, /v2/health/ready
  kPublicMetrics = 2,   // /metrics
  kPublicMetadata = 4,  // /version, /v2, /v2/models/NAME[/versions/V][/ready]
};

// "health,metrics" -> bits; "none" -> 0. kInvalidArgument naming the unknown word.
Result<unsigned> ParsePublicRoutes(std::string_view list);

class AccessTokens {
 public:
  // The token file: lines "score TOKEN" or "admin TOKEN" ('#' comments, blank lines).
  // Refused: a file others may read or write (chmod 600), a token shorter than 16
  // characters or with spaces, a token listed twice; errors name the file and line.
  static Result<AccessTokens> Load(const std::string& path);

  // The role of the request's "Authorization: Bearer TOKEN", or none.
  std::optional<Role> RoleOf(const http::Request& r) const;

  size_t size() const { return tokens_.size(); }

 private:
  std::unordered_map<std::string, Role> tokens_;  // by SHA-256 of the token
};

// What the route at `path` needs: none (public), a score token, or an admin token.
enum class Need { kNone, kScore, kAdmin };
Need RouteNeed(std::string_view path, unsigned public_routes);

}  // namespace plinth::serving
