// The feature registry, kept in the metadata store (SQLite or PostgreSQL, store/database.h):
// every version of every entity, feature group, on-demand feature and feature service that
// `plinth features apply` recorded, and where the online store is.
//
// A definition that changes what a feature's values are (source, keys, timestamps, ttl,
// features and their types) is a new version (weather@2); the earlier versions stay readable.
// A change of description, owner or tags updates the latest version in place. A service
// records the versions of the groups it names, so it changes version when they do. Nothing is
// ever deleted: an object left out of features.yaml is retired (its versions stay readable,
// but it is no longer among the latest definitions that commands and servers use).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "features/definitions.h"
#include "store/database.h"

namespace plinth::features {

// What Apply did (or, dry, would do) to one object.
struct Change {
  std::string kind;  // "entity", "feature group", "on-demand feature", "feature service"
  std::string name;
  int64_t version = 0;
  std::string what;      // "created", "new version", "metadata updated", "unchanged"
  int64_t previous = 0;  // the version it replaced (new version only)
};

// One recorded version of an object.
struct Recorded {
  std::string kind;
  std::string name;
  int64_t version = 0;
  core::Json definition;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  bool retired = false;  // no longer defined by features.yaml (latest version only)
};

class Registry {
 public:
  // Migrates `db` (which must outlive the registry) to the registry's tables.
  static Result<Registry> Open(store::Database& db);

  // Records `defs` (checked by the caller: ParseDefinitions, CheckSources) in one transaction;
  // with `dry_run` only says what would change. The groups and services of `defs` get their
  // versions.
  Result<std::vector<Change>> Apply(Definitions& defs, bool dry_run, int64_t now_ms);

  // The latest version of every object, with the online store: what commands and servers use.
  // kNotFound "no feature definitions recorded; run plinth features apply" when empty.
  Result<Definitions> Latest();

  // Every version of every object (kind, name, version order), for ls and show.
  Result<std::vector<Recorded>> All();

  // A group or service at `version` (0: the latest); kNotFound naming what exists.
  Result<FeatureGroup> Group(const std::string& name, int64_t version);
  Result<FeatureService> Service(const std::string& name, int64_t version);

 private:
  explicit Registry(store::Database* db) : db_(db) {}
  Result<std::string> Setting(const std::string& key);
  store::Database* db_;
};

// The lines that differ between two definitions as JSON: "~ key: old -> new", "+ key: new",
// "- key: old", keys as paths ("features.temp"), in order.
std::vector<std::string> DiffDefinitions(const core::Json& before, const core::Json& after);

}  // namespace plinth::features
