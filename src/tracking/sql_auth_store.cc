// AuthStore over store::Database (SQLite and PostgreSQL alike): the tables
// auth_users and auth_grants, in the metadata store beside the runs and models
// they protect (MLflow keeps them in a database of their own).
#include <array>

#include "tracking/auth_store.h"
#include "tracking/sql_stores.h"

namespace plinth::tracking {

Result<Permission> ParsePermission(std::string_view name) {
  for (Permission p :
       {Permission::kRead, Permission::kEdit, Permission::kManage, Permission::kNoPermissions}) {
    if (name == PermissionName(p)) {
      return p;
    }
  }
  return InvalidArgument("Invalid permission '" + std::string(name) +
                         "'. Valid permissions are: ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')");
}

std::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kRead:
      return "READ";
    case Permission::kEdit:
      return "EDIT";
    case Permission::kManage:
      return "MANAGE";
    case Permission::kNoPermissions:
      return "NO_PERMISSIONS";
  }
  return "NO_PERMISSIONS";
}

namespace {

using store::Row;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "users and their grants on experiments and registered models",
     R"sql(
CREATE TABLE auth_users (
  id BIGINT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL);
CREATE TABLE auth_grants (
  kind TEXT NOT NULL,
  resource TEXT NOT NULL,
  user_id BIGINT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
  permission TEXT NOT NULL,
  PRIMARY KEY (kind, resource, user_id));
CREATE INDEX auth_grants_by_user ON auth_grants (user_id);
)sql"},
};

std::string KindName(Resource kind) {
  return kind == Resource::kExperiment ? "experiment" : "registered_model";
}

class SqlAuthStore : public AuthStore {
 public:
  explicit SqlAuthStore(std::unique_ptr<store::Database> db) : db_(std::move(db)) {}

  Status Init() { return store::Migrate(*db_, "auth", kMigrations); }

  Result<User> CreateUser(const std::string& username, const std::string& password_hash,
                          bool is_admin) override {
    if (username.empty()) {
      return InvalidArgument("Username cannot be empty.");
    }
    Status s = db_->Transaction([&]() -> Status {
      PLINTH_ASSIGN_OR_RETURN(auto rows,
                              db_->Query("SELECT COALESCE(MAX(id), 0) + 1 FROM auth_users"));
      Value row[] = {rows.at(0).Int(0), username, password_hash, int64_t{is_admin ? 1 : 0}};
      return db_->Exec(
          "INSERT INTO auth_users (id, username, password_hash, is_admin) VALUES (?, ?, ?, ?)",
          row);
    });
    if (s.code() == StatusCode::kFailedPrecondition) {
      return AlreadyExists("User (username=" + username + ") already exists.");
    }
    PLINTH_RETURN_IF_ERROR(s);
    return GetUser(username);
  }

  Result<std::optional<User>> FindUser(const std::string& username) override {
    Value k[] = {username};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows,
        db_->Query(
            "SELECT id, username, password_hash, is_admin FROM auth_users WHERE username = ?", k));
    if (rows.empty()) {
      return std::optional<User>();
    }
    User u;
    u.id = rows[0].Int(0);
    u.username = rows[0].Text(1);
    u.password_hash = rows[0].Text(2);
    u.is_admin = rows[0].Int(3) != 0;
    return std::optional<User>(std::move(u));
  }

  Result<User> GetUser(const std::string& username) override {
    PLINTH_ASSIGN_OR_RETURN(User u, Existing(username));
    Value k[] = {u.id};
    PLINTH_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT kind, resource, permission FROM "
                                                  "auth_grants WHERE user_id = ? ORDER BY "
                                                  "kind, resource",
                                                  k));
    for (const Row& r : rows) {
      Grant g{r.Text(1), u.id, Permission::kNoPermissions};
      if (Result<Permission> p = ParsePermission(r.Text(2)); p.ok()) {
        g.permission = *p;
      }
      (r.Text(0) == "experiment" ? u.experiment_permissions : u.registered_model_permissions)
          .push_back(std::move(g));
    }
    return u;
  }

  Status UpdatePassword(const std::string& username, const std::string& password_hash) override {
    PLINTH_ASSIGN_OR_RETURN(User u, Existing(username));
    Value row[] = {password_hash, u.id};
    return db_->Exec("UPDATE auth_users SET password_hash = ? WHERE id = ?", row);
  }

  Status UpdateAdmin(const std::string& username, bool is_admin) override {
    PLINTH_ASSIGN_OR_RETURN(User u, Existing(username));
    Value row[] = {int64_t{is_admin ? 1 : 0}, u.id};
    return db_->Exec("UPDATE auth_users SET is_admin = ? WHERE id = ?", row);
  }

  Status DeleteUser(const std::string& username) override {
    PLINTH_ASSIGN_OR_RETURN(User u, Existing(username));
    return db_->Transaction([&]() -> Status {
      Value k[] = {u.id};
      PLINTH_RETURN_IF_ERROR(db_->Exec("DELETE FROM auth_grants WHERE user_id = ?", k));
      return db_->Exec("DELETE FROM auth_users WHERE id = ?", k);
    });
  }

  Result<Grant> CreateGrant(Resource kind, const std::string& resource, const std::string& username,
                            Permission p) override {
    PLINTH_ASSIGN_OR_RETURN(User u, Existing(username));
    Value row[] = {KindName(kind), resource, u.id, std::string(PermissionName(p))};
    Status s = db_->Exec(
        "INSERT INTO auth_grants (kind, resource, user_id, permission) VALUES (?, ?, ?, ?)", row);
    if (s.code() == StatusCode::kFailedPrecondition) {
      return AlreadyExists(Describe(kind, resource, username, true) + " already exists.");
    }
    PLINTH_RETURN_IF_ERROR(s);
    return Grant{resource, u.id, p};
  }

  Result<Grant> GetGrant(Resource kind, const std::string& resource,
                         const std::string& username) override {
    PLINTH_ASSIGN_OR_RETURN(User u, Existing(username));
    PLINTH_ASSIGN_OR_RETURN(std::optional<Permission> p, FindPermission(kind, resource, u.id));
    if (!p) {
      return NotFound(Describe(kind, resource, username, false) + " not found");
    }
    return Grant{resource, u.id, *p};
  }

  Status UpdateGrant(Resource kind, const std::string& resource, const std::string& username,
                     Permission p) override {
    PLINTH_ASSIGN_OR_RETURN(Grant g, GetGrant(kind, resource, username));
    Value row[] = {std::string(PermissionName(p)), KindName(kind), resource, g.user_id};
    return db_->Exec(
        "UPDATE auth_grants SET permission = ? WHERE kind = ? AND resource = ? AND user_id = ?",
        row);
  }

  Status DeleteGrant(Resource kind, const std::string& resource,
                     const std::string& username) override {
    PLINTH_ASSIGN_OR_RETURN(Grant g, GetGrant(kind, resource, username));
    Value row[] = {KindName(kind), resource, g.user_id};
    return db_->Exec("DELETE FROM auth_grants WHERE kind = ? AND resource = ? AND user_id = ?",
                     row);
  }

  Status PutGrant(Resource kind, const std::string& resource, int64_t user_id,
                  Permission p) override {
    Value row[] = {KindName(kind), resource, user_id, std::string(PermissionName(p))};
    return db_->Exec(
        "INSERT INTO auth_grants (kind, resource, user_id, permission) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (kind, resource, user_id) DO UPDATE SET permission = excluded.permission",
        row);
  }

  Result<std::optional<Permission>> FindPermission(Resource kind, const std::string& resource,
                                                   int64_t user_id) override {
    Value k[] = {KindName(kind), resource, user_id};
    PLINTH_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT permission FROM auth_grants WHERE kind "
                                                  "= ? AND resource = ? AND user_id = ?",
                                                  k));
    if (rows.empty()) {
      return std::optional<Permission>();
    }
    PLINTH_ASSIGN_OR_RETURN(Permission p, ParsePermission(rows[0].Text(0)));
    return std::optional<Permission>(p);
  }

  Status RenameResource(Resource kind, const std::string& from, const std::string& to) override {
    Value row[] = {to, KindName(kind), from};
    return db_->Exec("UPDATE auth_grants SET resource = ? WHERE kind = ? AND resource = ?", row);
  }

  Status DeleteResource(Resource kind, const std::string& resource) override {
    Value row[] = {KindName(kind), resource};
    return db_->Exec("DELETE FROM auth_grants WHERE kind = ? AND resource = ?", row);
  }

 private:
  Result<User> Existing(const std::string& username) {
    PLINTH_ASSIGN_OR_RETURN(std::optional<User> u, FindUser(username));
    if (!u) {
      return NotFound("User with username=" + username + " not found");
    }
    return std::move(*u);
  }

  // MLflow's wording: "Experiment permission (experiment_id=E, username=U)" when
  // it exists, "... with experiment_id=E and username=U" when not found.
  static std::string Describe(Resource kind, const std::string& resource,
                              const std::string& username, bool exists) {
    std::string what =
        kind == Resource::kExperiment ? "Experiment permission" : "Registered model permission";
    std::string key = kind == Resource::kExperiment ? "experiment_id=" : "name=";
    return exists ? what + " (" + key + resource + ", username=" + username + ")"
                  : what + " with " + key + resource + " and username=" + username;
  }

  std::unique_ptr<store::Database> db_;
};

}  // namespace

Result<std::unique_ptr<AuthStore>> OpenAuthStore(const std::string& store_uri) {
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, store::OpenDatabase(store_uri));
  auto s = std::make_unique<SqlAuthStore>(std::move(db));
  PLINTH_RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<AuthStore>(std::move(s));
}

}  // namespace plinth::tracking
