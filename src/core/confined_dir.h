// Paths that cannot leave a directory, and names that are safe to use as one
// path component.
//
// ConfinedDir resolves every relative path beneath its root directory's
// descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): a symbolic
// link inside the root that points outside it (or to /proc magic links), and
// any ".." component, are refused with kInvalidArgument instead of being
// followed. Where the kernel has no openat2 (Linux before 5.6), each component
// is opened with O_NOFOLLOW instead, so that every symbolic link is refused.
// Special files (FIFOs, devices, sockets) are refused too: reading one could
// block or have effects.
//
// A ConfinedDir holds only the root's path; each call opens the root afresh,
// so the root may be created or replaced between calls. Thread-safe: calls do
// not share state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/unique_fd.h"

namespace plinth::core {

// Checks that `name` can be one path component of a file name built from it:
// 1 to 256 bytes, no '/', '\\', NUL or other control characters, and not "."
// or "..". Letters, digits, spaces, '-', '_', '.' and any other printable or
// UTF-8 characters are fine. Returns kInvalidArgument naming `what` (e.g.
// "Registered model name") and what is expected otherwise.
Status CheckPathComponent(std::string_view name, std::string_view what);

// One entry of ConfinedDir::List.
struct ConfinedEntry {
  std::string name;  // the entry's file name
  bool is_dir = false;
  int64_t size = 0;  // bytes, for regular files
};

class ConfinedDir {
 public:
  explicit ConfinedDir(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  // Opens the regular file at `rel` for reading. Returns kNotFound when it does
  // not exist or is a directory, kInvalidArgument when `rel` leads outside the
  // root or names a special file, kIoError otherwise. The descriptor is the
  // caller's.
  Result<UniqueFd> OpenFile(std::string_view rel) const;

  // Replaces the file at `rel` with `bytes` atomically (a temporary file in the
  // same directory, fsync, rename, fsync of the directory), creating the root
  // and the directories above `rel` that are missing. Errors as OpenFile;
  // kInvalidArgument also for an empty `rel`.
  Status WriteFile(std::string_view rel, std::string_view bytes) const;

  // The entries directly under the directory `rel` ("" = the root), unsorted,
  // without "." and "..". Entries whose symbolic links lead outside the root or
  // nowhere, and special files, are left out. A missing directory lists as
  // empty. kInvalidArgument when `rel` leads outside the root.
  Result<std::vector<ConfinedEntry>> List(std::string_view rel) const;

  // Removes `rel`: a file, a symbolic link itself (never its target) or a
  // directory tree (whose links are removed, never followed). A missing `rel`
  // is not an error. kInvalidArgument when `rel` is empty or its directory
  // leads outside the root.
  Status Remove(std::string_view rel) const;

 private:
  std::string root_;
};

}  // namespace plinth::core
