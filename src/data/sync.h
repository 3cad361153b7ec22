// Moving and pruning data: remotes, push/pull, gc and diff against git.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "data/project.h"
#include "data/workspace.h"

namespace plinth::data {

// Records remote `name` at `url` in the config (checked by opening it);
// `make_default` also makes it the default remote.
Status AddRemote(Project& project, const std::string& name, const std::string& url,
                 bool make_default);

struct TransferResult {
  int64_t transferred = 0;           // objects copied
  int64_t present = 0;               // already there
  int64_t bytes = 0;                 // bytes copied
  std::vector<std::string> missing;  // hashes that could not be found at the source
};

// Copies every object the workspace's pointers use (with `all_commits`, also
// those of every commit in git history) from the cache to the remote (`remote`
// names one; empty: the default), only those it lacks, in parallel, each
// verified on arrival. Objects not in the local cache are listed in `missing`.
Result<TransferResult> Push(Project& project, const std::string& remote, bool all_commits,
                            const WorkOptions& options);

// Fetches the objects the workspace's pointers use that the cache lacks, then
// checks out (as Checkout, which refuses to discard unsaved files unless
// `force`). Objects missing on the remote are listed and make it kNotFound.
Result<TransferResult> Pull(Project& project, const std::string& remote, const WorkOptions& options,
                            bool force = false);

struct GcResult {
  int64_t kept = 0;
  int64_t removed = 0;
  int64_t bytes_freed = 0;
  int64_t temporaries_removed = 0;  // left by writers that were killed
};

// Removes cache objects that no pointer uses: the workspace's pointers, and
// with `all_commits` every pointer file in any commit of the git history.
// With `dry_run` only counts.
Result<GcResult> Gc(Project& project, bool all_commits, bool dry_run);

enum class DiffKind { kAdded, kRemoved, kModified };

struct DiffEntry {
  std::string path;  // relative to the root; files inside tracked directories included
  DiffKind kind;
  int64_t old_size = 0;
  int64_t new_size = 0;
};

// What changed in the tracked data between the pointer files at git revision
// `rev` and those in the working tree. kInvalidArgument for an unknown revision.
Result<std::vector<DiffEntry>> Diff(Project& project, const std::string& rev);

// The content of `path` (relative to the project root) at git revision `rev`.
// kNotFound when the file is not in that revision, kInvalidArgument for a bad revision.
Result<std::string> GitShow(const Project& project, const std::string& rev,
                            const std::string& path);

}  // namespace plinth::data
