// A Plinth project: a directory holding `.plinth/` (like a git work tree holds
// `.git/`). The project owns its configuration, its content-addressed cache
// and its metadata store.
//
//   .plinth/config.yaml   store URI, cache directory, link order, remotes
//   .plinth/plinth.db     the SQLite metadata store (data versions, state, ...)
//   .plinth/cache/sha256/ab/cdef...   objects, named by the SHA-256 of their bytes
//
// A Project is a value; it opens its store lazily and is not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/database.h"

namespace plinth::data {

// How workspace files are made from cache objects, tried in the configured order.
enum class LinkKind { kReflink, kHardlink, kCopy };

std::string_view LinkKindName(LinkKind k);

// True when `order` may hardlink workspace files to cache objects.
bool SharesInodes(const std::vector<LinkKind>& order);

struct Config {
  std::string store_uri;  // default: sqlite:///<root>/.plinth/plinth.db
  std::string cache_dir;  // default: <root>/.plinth/cache
  // The default never shares a workspace file's bytes with the cache: a reflink
  // is copy-on-write and a copy is private, so no write to a workspace file,
  // in place or not, by root or not, can reach a cached version. `hardlink` is
  // opt-in: the workspace file then *is* the read-only object, and a write into
  // it (root ignores read-only) destroys that version (`plinth add` warns).
  // Configs listing exactly `[reflink, hardlink, copy]` were written by `plinth
  // init` when that was the default, and are read as this default.
  std::vector<LinkKind> link_order = {LinkKind::kReflink, LinkKind::kCopy};
  std::map<std::string, std::string> remotes;  // name -> URL
  std::string default_remote;
};

class Project {
 public:
  // Creates `.plinth/` in `dir` with a default config and an initialized store.
  // Returns kAlreadyExists when `dir` already is a project.
  static Result<Project> Init(const std::string& dir);

  // Finds the project containing `start` (a directory), walking up like git.
  // Returns kNotFound ("not inside a Plinth project; run plinth init") otherwise.
  static Result<Project> Find(const std::string& start);

  const std::string& root() const { return root_; }
  std::string plinth_dir() const { return root_ + "/.plinth"; }
  const Config& config() const { return config_; }
  Config& mutable_config() { return config_; }

  // Writes the config atomically.
  Status SaveConfig() const;

  // The metadata store, opened and migrated on first use.
  Result<store::Database*> Store();

  // `path` (absolute, or relative to the current directory) relative to the
  // root, normalized ("data/raw.csv"). kInvalidArgument if outside the project.
  Result<std::string> Relative(const std::string& path) const;
  // The absolute path of `rel` (relative to the root).
  std::string Absolute(const std::string& rel) const { return root_ + "/" + rel; }

 private:
  Project(std::string root, Config config) : root_(std::move(root)), config_(std::move(config)) {}
  static Result<Config> LoadConfig(const std::string& root);

  std::string root_;
  Config config_;
  std::shared_ptr<store::Database> db_;
};

// The migrations of the data module's tables.
Status MigrateDataTables(store::Database& db);

}  // namespace plinth::data
