// The users and permissions of `plinth server --auth`, as MLflow's basic-auth app
// keeps them (mlflow/server/auth): users with a password hash and an admin flag,
// and per-user permissions on experiments (by id) and registered models (by name).
// No SQL here: the store over the metadata store is sql_stores.h's OpenAuthStore.
//
// A store is one connection: not thread-safe; the tracking service leases one per
// request with the tracking and registry stores.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace plinth::tracking {

// MLflow's permissions, weakest last: READ reads; EDIT also updates; MANAGE also
// deletes and grants; NO_PERMISSIONS nothing.
enum class Permission { kRead, kEdit, kManage, kNoPermissions };

// "READ" etc.; kInvalidArgument with MLflow's message for any other name.
Result<Permission> ParsePermission(std::string_view name);
std::string_view PermissionName(Permission p);
inline bool CanRead(Permission p) { return p != Permission::kNoPermissions; }
inline bool CanUpdate(Permission p) { return p == Permission::kEdit || p == Permission::kManage; }
inline bool CanDelete(Permission p) { return p == Permission::kManage; }
inline bool CanManage(Permission p) { return p == Permission::kManage; }

// What a permission is on.
enum class Resource { kExperiment, kRegisteredModel };

struct Grant {
  std::string resource;  // the experiment id or the registered model's name
  int64_t user_id = 0;
  Permission permission = Permission::kRead;
};

struct User {
  int64_t id = 0;
  std::string username;
  std::string password_hash;  // a libsodium argon2id string; never logged
  bool is_admin = false;
  std::vector<Grant> experiment_permissions;        // by resource
  std::vector<Grant> registered_model_permissions;  // by resource
};

class AuthStore {
 public:
  virtual ~AuthStore() = default;

  // kAlreadyExists "User (username=U) already exists." for a taken name;
  // kInvalidArgument for an empty one.
  virtual Result<User> CreateUser(const std::string& username, const std::string& password_hash,
                                  bool is_admin) = 0;
  // The user with their grants. kNotFound "User with username=U not found".
  virtual Result<User> GetUser(const std::string& username) = 0;
  // The user without grants, or none (the hot path of every request).
  virtual Result<std::optional<User>> FindUser(const std::string& username) = 0;
  // kNotFound as GetUser.
  virtual Status UpdatePassword(const std::string& username, const std::string& password_hash) = 0;
  virtual Status UpdateAdmin(const std::string& username, bool is_admin) = 0;
  // Deletes the user and their grants. kNotFound as GetUser.
  virtual Status DeleteUser(const std::string& username) = 0;

  // A grant of `username` on `resource`. Create: kNotFound for an unknown user,
  // kAlreadyExists when one exists. Get, Update, Delete: kNotFound (MLflow's
  // messages) when the user or the grant does not exist.
  virtual Result<Grant> CreateGrant(Resource kind, const std::string& resource,
                                    const std::string& username, Permission p) = 0;
  virtual Result<Grant> GetGrant(Resource kind, const std::string& resource,
                                 const std::string& username) = 0;
  virtual Status UpdateGrant(Resource kind, const std::string& resource,
                             const std::string& username, Permission p) = 0;
  virtual Status DeleteGrant(Resource kind, const std::string& resource,
                             const std::string& username) = 0;
  // Sets the grant whether or not one exists (a creator's MANAGE).
  virtual Status PutGrant(Resource kind, const std::string& resource, int64_t user_id,
                          Permission p) = 0;
  // The user's permission on `resource`, or none when no grant exists.
  virtual Result<std::optional<Permission>> FindPermission(Resource kind,
                                                           const std::string& resource,
                                                           int64_t user_id) = 0;
  // Every grant on a registered model moves with a rename and goes with a delete.
  virtual Status RenameResource(Resource kind, const std::string& from, const std::string& to) = 0;
  virtual Status DeleteResource(Resource kind, const std::string& resource) = 0;
};

}  // namespace plinth::tracking
