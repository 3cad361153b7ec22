// Versioning a project's data: add, status, checkout.
//
// `Add` hashes files (in parallel, skipping unchanged ones through the state
// table), stores them in the cache, writes PATH.plinth beside each path, adds
// the path to the .gitignore of its directory and records a data version in
// the store. Every step writes atomically and in an order that makes a re-run
// after a crash finish the job: objects first, then the pointer, then
// .gitignore, then the record.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/objects.h"
#include "data/project.h"

namespace plinth::data {

struct WorkOptions {
  size_t threads = 0;     // 0: one per hardware thread
  bool progress = false;  // progress on stderr
};

// One command's view of the project's cache and state: loads the state table
// once, hashes and stores paths (files or directories), restores them, and
// saves the state at the end. Used by add/status/checkout and the pipeline
// runner. Hash/Store/Restore are thread-safe.
class DataSession {
 public:
  static Result<std::unique_ptr<DataSession>> Open(Project& project, const WorkOptions& options);
  ~DataSession();

  // What the file or directory at `abs` holds now (path = its name), without
  // storing anything. kNotFound if it does not exist.
  // For a directory, `files` (when given) receives its manifest.
  Result<Pointer> Hash(const std::string& abs, std::vector<ManifestEntry>* files = nullptr);
  // The files below directory `abs` with their hashes (a manifest of it as it is).
  Result<std::vector<ManifestEntry>> ListFiles(const std::string& abs);
  // Stores the file or directory at `abs` in the cache; returns its pointer
  // once the objects it wrote are on disk (one syncfs).
  Result<Pointer> Store(const std::string& abs, bool show_progress);
  // Makes `abs` hold what `p` describes, from the cache (directories: extra files
  // removed). Returns the number of files written and removed.
  Result<std::pair<int64_t, int64_t>> Restore(const Pointer& p, const std::string& abs);
  // Whether every object `p` needs is in the cache.
  bool Cached(const Pointer& p);
  // Writes the state table back to the store.
  Status Save();

  ObjectCache& cache();
  StateCache& state();
  store::Database& db();
  core::ThreadPool& pool();

 private:
  Result<Pointer> StoreUnsynced(const std::string& abs, bool show_progress);
  struct Impl;
  explicit DataSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct AddedPath {
  std::string pointer_file;  // relative to the root
  Pointer pointer;
  int64_t version_id = 0;  // the data_versions row
};

struct AddResult {
  std::vector<AddedPath> added;
  int64_t files_hashed = 0;  // files read and hashed (the rest came from the state)
  int64_t bytes_hashed = 0;
};

// Versions each of `paths` (files or directories, relative to the current
// directory or absolute). Directories are walked recursively; a symlink to a
// file is versioned as the file it points to; a symlink to a directory is an
// error naming it (it could loop).
Result<AddResult> Add(Project& project, const std::vector<std::string>& paths,
                      const WorkOptions& options = {});

enum class PathState { kUnchanged, kModified, kMissing, kNotInCache };

struct StatusEntry {
  std::string path;  // the data path, relative to the root
  PathState state;
  std::vector<std::string> added, removed, modified;  // files inside a directory
  // Modified files that were written in place while hardlinked to their cache
  // object: that object is damaged and the previous content is gone from this
  // cache (data paths, relative to the root).
  std::vector<std::string> edited_in_place;
};

struct StatusResult {
  std::vector<StatusEntry> entries;  // one per pointer, sorted by path
  int64_t files_hashed = 0;
};

// Replaces each tracked file at or below `paths` that shares its inode with a
// cache object (a hardlink) by a private writable copy, so it can be edited in
// place. Returns the number of files unprotected.
Result<int64_t> Unprotect(Project& project, const std::vector<std::string>& paths,
                          const WorkOptions& options = {});

// Compares the workspace with every pointer file of the project.
Result<StatusResult> WorkspaceStatus(Project& project, const WorkOptions& options = {});

struct CheckoutResult {
  int64_t files_written = 0;
  int64_t files_removed = 0;
  std::vector<std::string> paths;  // data paths that changed
};

// Makes the workspace match the pointer files (all, or those of `paths`):
// files are linked or copied from the cache, extra files in tracked
// directories removed; files still hardlinked to their object under a link
// order without hardlinks get private copies (ObjectCache::Unshare). A missing
// object is kNotFound; a damaged one kCorruption. Unless `force`, nothing is
// changed when a file it would overwrite or delete holds content that no cache
// object has (an unsaved edit, a new file in a tracked directory):
// kFailedPrecondition naming them (the first ten, and how many).
Result<CheckoutResult> Checkout(Project& project, const std::vector<std::string>& paths,
                                const WorkOptions& options = {}, bool force = false);
// The same within an open session (whose state already knows verified objects).
Result<CheckoutResult> Checkout(Project& project, DataSession& session,
                                const std::vector<std::string>& paths, bool force = false);

// The data path (relative to the root) that the pointer file `pointer_rel`
// (relative to the root) with content `p` describes.
std::string DataPathOf(const std::string& pointer_rel, const Pointer& p);

// The pointer files of the project (relative to the root), sorted. Tracked
// directories, .git and .plinth are not searched.
Result<std::vector<std::string>> FindPointerFiles(const Project& project);

// The first line git prints for `args` at the project root, or "" when git
// fails (not a repository, no commits, ...).
std::string GitLine(const Project& project, const std::vector<std::string>& args);

// The git commit checked out at the project root, or "" outside git.
inline std::string GitHead(const Project& project) {
  return GitLine(project, {"rev-parse", "HEAD"});
}

}  // namespace plinth::data
