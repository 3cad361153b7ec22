// Access control for `plinth server --auth`: MLflow's basic-auth app
// (mlflow/server/auth, 2.17.2) with its semantics and REST API, so MLflow's client
// and its AuthServiceClient work unchanged.
//
// - Who: HTTP Basic (MLFLOW_TRACKING_USERNAME/PASSWORD) checked against argon2id
//   hashes (libsodium), or a bearer JWT (MLFLOW_TRACKING_TOKEN) signed HS256 with
//   the configured secret, naming its user in the `username` claim.
// - What: per-experiment and per-registered-model permissions (READ, EDIT, MANAGE,
//   NO_PERMISSIONS), a default permission for resources without a grant, admins
//   unrestricted; each route needs what MLflow's auth app asks of it
//   (docs/HTTP.md, "Access control").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "core/json.h"
#include "core/status.h"
#include "http/server.h"
#include "tracking/auth_store.h"
#include "tracking/service.h"

namespace plinth::server {

struct AuthOptions {
  tracking::Permission default_permission = tracking::Permission::kRead;
  // The admin created at start when no user of that name exists.
  std::string admin_username;
  std::string admin_password;
  // HS256 key of bearer JWTs; none accepted when empty.
  std::string jwt_secret;
};

// Reads MLflow's basic_auth.ini: section [mlflow], keys default_permission,
// admin_username, admin_password (required), database_uri and
// authorization_function (accepted: Plinth keeps users in the metadata store and
// reads JWTs itself), jwt_secret (Plinth's; or the PLINTH_AUTH_JWT_SECRET
// environment variable). Errors name the file, line and key.
Result<AuthOptions> ReadAuthConfig(const std::string& path);

// An argon2id hash of `password` (libsodium's string form) and its check.
Result<std::string> HashPassword(const std::string& password);
bool VerifyPassword(const std::string& hash, const std::string& password);

// HMAC-SHA256 of `data` under `key` (libsodium): raw bytes.
std::string HmacSha256(const std::string& key, std::string_view data);

// A JWT signed HS256 with `secret` carrying {"username": user} (and "exp" when
// `ttl_seconds` > 0): what MLFLOW_TRACKING_TOKEN holds.
std::string MintToken(const std::string& secret, const std::string& username, int64_t ttl_seconds,
                      int64_t now_seconds);

// Who sent a request.
struct Identity {
  int64_t id = 0;
  std::string username;
  bool is_admin = false;
};

class Authenticator {
 public:
  explicit Authenticator(AuthOptions options);
  ~Authenticator();

  // Creates the configured admin when no user of that name exists.
  Status Bootstrap(tracking::AuthStore& store) const;

  // The sender, or the 401 to answer. A verified password is remembered for a
  // minute (keyed by a keyed hash, never the password), so a client does not pay
  // argon2id on every request; a changed hash in the store forgets it.
  std::variant<Identity, http::Response> Authenticate(const http::Request& r,
                                                      tracking::AuthStore& store) const;

  // Whether Authenticate answers `r` without checking a password (argon2id): no
  // Basic credentials, or ones verified in the last minute.
  bool Remembered(const http::Request& r) const;

  const AuthOptions& options() const { return options_; }

 private:
  struct Cache;
  AuthOptions options_;
  // Checked when the user does not exist, so that an answer takes as long for an
  // unknown name as for a wrong password.
  std::string decoy_hash_;
  std::unique_ptr<Cache> cache_;
};

// What a request needs, checked against the sender's grants: OK, a 403
// (kPermissionDenied), or the error a lookup met (an unknown run: 404; a missing
// parameter: 400). `path` is the route under /api/2.0 ("/mlflow/runs/get").
Status Authorize(const Identity& who, const AuthOptions& options, const std::string& method,
                 std::string_view path, const http::Request& r, tracking::Service::Lease& stores);

// The sender's effective permission on a resource: their grant, else the default.
Result<tracking::Permission> EffectivePermission(const Identity& who, const AuthOptions& options,
                                                 tracking::Resource kind,
                                                 const std::string& resource,
                                                 tracking::AuthStore& store);

// An experiment id as the store reads it ("01", "-0" and "1" are one experiment): the
// number's plain text, or the id unchanged when it is not a number. Grants are kept
// and checked under it.
std::string CanonicalExperimentId(const std::string& id);

// MLflow's plain-text answers: 401 with WWW-Authenticate, 403 "Permission denied".
http::Response Unauthenticated(bool bearer);
http::Response PermissionDeniedResponse();

}  // namespace plinth::server
