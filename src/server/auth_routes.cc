// MLflow's auth API (mlflow/server/auth/routes.py): users and their permissions on
// experiments and registered models, served with `plinth server --auth`. Who may call
// which route is Authorize's (auth.cc); these only read, check and write.
#include "core/url.h"
#include "server/auth.h"
#include "server/routes.h"

namespace plinth::server {
namespace {

using tracking::Grant;
using tracking::Resource;
using F = FieldType;

Json GrantJson(Resource kind, const Grant& g) {
  Json j = Json::object();
  j[kind == Resource::kExperiment ? "experiment_id" : "name"] = g.resource;
  j["user_id"] = g.user_id;
  j["permission"] = std::string(tracking::PermissionName(g.permission));
  return j;
}

Json UserJson(const tracking::User& u) {
  Json experiments = Json::array();
  for (const Grant& g : u.experiment_permissions) {
    experiments.push_back(GrantJson(Resource::kExperiment, g));
  }
  Json models = Json::array();
  for (const Grant& g : u.registered_model_permissions) {
    models.push_back(GrantJson(Resource::kRegisteredModel, g));
  }
  return Json{{"id", u.id},
              {"username", u.username},
              {"is_admin", u.is_admin},
              {"experiment_permissions", std::move(experiments)},
              {"registered_model_permissions", std::move(models)}};
}

// The signup form's answer: MLflow's page, an alert and a redirect.
std::string SignupAnswer(const std::string& message, const std::string& to) {
  // The message as a JSON string with "<" escaped: a user name cannot close the script.
  std::string text;
  for (char c : core::DumpJson(Json(message), false)) {
    text += c == '<' ? std::string("\\u003c") : std::string(1, c);
  }
  return "<script type=\"text/javascript\">\n  alert(" + text + ");\n  window.location.href = \"" +
         to + "\";\n</script>";
}

Result<std::string> CreateUser(tracking::Service::Lease& s, const http::Request& r) {
  PLINTH_ASSIGN_OR_RETURN(
      Json m, ReadMessage(r, {{"username", F::kString, true}, {"password", F::kString, true}}));
  if (Str(m, "password").empty()) {
    return InvalidArgument("Password cannot be empty.");
  }
  PLINTH_ASSIGN_OR_RETURN(std::string hash, HashPassword(Str(m, "password")));
  PLINTH_ASSIGN_OR_RETURN(tracking::User u, s.auth().CreateUser(Str(m, "username"), hash, false));
  return core::DumpJson(Json{{"user", UserJson(u)}}, false);
}

// The four routes of one kind of permission: create, get, update, delete.
// The resource a grant request names: an experiment id as the store reads it.
std::string ResourceOf(Resource kind, const Json& m, const char* key) {
  std::string id = Str(m, key);
  return kind == Resource::kExperiment ? CanonicalExperimentId(id) : id;
}

void AddGrantRoutes(RouteTable& routes, const std::string& base, Resource kind) {
  const char* key = kind == Resource::kExperiment ? "experiment_id" : "name";
  const char* member =
      kind == Resource::kExperiment ? "experiment_permission" : "registered_model_permission";
  const Field resource = {key, F::kString, true};
  const Field username = {"username", F::kString, true};
  const Field permission = {"permission", F::kString, true};
  routes.AddService(
      base + "create", "POST",
      [=](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {resource, username, permission}));
        PLINTH_ASSIGN_OR_RETURN(tracking::Permission p,
                                tracking::ParsePermission(Str(m, "permission")));
        PLINTH_ASSIGN_OR_RETURN(
            Grant g, s.auth().CreateGrant(kind, ResourceOf(kind, m, key), Str(m, "username"), p));
        return Json{{member, GrantJson(kind, g)}};
      });
  routes.AddService(base + "get", "GET",
                    [=](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
                      PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {resource, username}));
                      PLINTH_ASSIGN_OR_RETURN(
                          Grant g,
                          s.auth().GetGrant(kind, ResourceOf(kind, m, key), Str(m, "username")));
                      return Json{{member, GrantJson(kind, g)}};
                    });
  routes.AddService(
      base + "update", "PATCH",
      [=](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {resource, username, permission}));
        PLINTH_ASSIGN_OR_RETURN(tracking::Permission p,
                                tracking::ParsePermission(Str(m, "permission")));
        PLINTH_RETURN_IF_ERROR(
            s.auth().UpdateGrant(kind, ResourceOf(kind, m, key), Str(m, "username"), p));
        return Json::object();
      });
  routes.AddService(base + "delete", "DELETE",
                    [=](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
                      PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {resource, username}));
                      PLINTH_RETURN_IF_ERROR(
                          s.auth().DeleteGrant(kind, ResourceOf(kind, m, key), Str(m, "username")));
                      return Json::object();
                    });
}

}  // namespace

void AddAuthRoutes(RouteTable& routes) {
  const Field username = {"username", F::kString, true};
  routes.AddService("/mlflow/users/create", "POST", CreateUser);
  routes.AddService("/mlflow/users/get", "GET",
                    [=](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
                      PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {username}));
                      PLINTH_ASSIGN_OR_RETURN(tracking::User u,
                                              s.auth().GetUser(Str(m, "username")));
                      return Json{{"user", UserJson(u)}};
                    });
  routes.AddService(
      "/mlflow/users/update-password", "PATCH",
      [=](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {username, {"password", F::kString, true}}));
        if (Str(m, "password").empty()) {
          return InvalidArgument("Password cannot be empty.");
        }
        PLINTH_ASSIGN_OR_RETURN(std::string hash, HashPassword(Str(m, "password")));
        PLINTH_RETURN_IF_ERROR(s.auth().UpdatePassword(Str(m, "username"), hash));
        return Json::object();
      });
  routes.AddService(
      "/mlflow/users/update-admin", "PATCH",
      [=](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
        PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {username, {"is_admin", F::kBool, true}}));
        PLINTH_RETURN_IF_ERROR(s.auth().UpdateAdmin(Str(m, "username"), m["is_admin"].get<bool>()));
        return Json::object();
      });
  routes.AddService("/mlflow/users/delete", "DELETE",
                    [=](tracking::Service::Lease& s, const http::Request& r) -> Result<Json> {
                      PLINTH_ASSIGN_OR_RETURN(Json m, ReadMessage(r, {username}));
                      PLINTH_RETURN_IF_ERROR(s.auth().DeleteUser(Str(m, "username")));
                      return Json::object();
                    });
  AddGrantRoutes(routes, "/mlflow/experiments/permissions/", Resource::kExperiment);
  AddGrantRoutes(routes, "/mlflow/registered-models/permissions/", Resource::kRegisteredModel);
}

std::optional<http::Response> SignupForm(tracking::Service::Lease& s, const http::Request& r) {
  std::string_view type = r.Header("content-type");
  type = type.substr(0, type.find(';'));
  if (r.method != "POST" || type != "application/x-www-form-urlencoded") {
    return std::nullopt;
  }
  auto refuse = [](int status, const std::string& message) {
    http::Response out;
    out.status = status;
    out.content_type = "text/plain; charset=utf-8";
    out.body = message;
    return out;
  };
  // A form another site's page posts through an admin's browser (which sends the
  // admin's saved Basic credentials) is refused: its Origin is not this server.
  std::string_view origin = r.Header("origin");
  if (!origin.empty()) {
    size_t scheme = origin.find("://");
    std::string_view host = scheme == std::string_view::npos ? origin : origin.substr(scheme + 3);
    if (host != r.Header("host")) {
      return refuse(403, "The signup form must be posted from this server's own page.");
    }
  }
  if (r.Header("sec-fetch-site") == "cross-site") {
    return refuse(403, "The signup form must be posted from this server's own page.");
  }
  std::string username;
  std::string password;
  for (const auto& [k, v] : core::ParseQuery(r.body)) {
    if (k == "username") {
      username = v;
    } else if (k == "password") {
      password = v;
    }
  }
  if (username.empty() || password.empty()) {
    return refuse(400, "The signup form needs a username and a password.");
  }
  Result<std::string> hash = HashPassword(password);
  if (!hash.ok()) {
    return refuse(500, hash.status().message());
  }
  Result<tracking::User> made = s.auth().CreateUser(username, *hash, false);
  if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) {
    return refuse(400, made.status().message());
  }
  http::Response out;
  out.content_type = "text/html; charset=utf-8";
  out.body = SignupAnswer(made.ok() ? "Successfully signed up user: " + username
                                    : "Username has already been taken: " + username,
                          made.ok() ? "/" : "/signup");
  return out;
}

http::Response SignupPage() {
  http::Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body =
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Plinth: sign up a "
      "user</title></head>\n<body>\n<h1>Create a user</h1>\n<form "
      "action=\"api/2.0/mlflow/users/create\" method=\"post\">\n<p><label>Username <input "
      "type=\"text\" name=\"username\" required></label></p>\n<p><label>Password <input "
      "type=\"password\" name=\"password\" required></label></p>\n<p><input type=\"submit\" "
      "value=\"Sign up\"></p>\n</form>\n</body></html>\n";
  return r;
}

}  // namespace plinth::server
