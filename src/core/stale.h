// What a killed process (kill -9, a crash, the OOM killer) leaves behind, and
// how a later process tells it from the work of one still running.
//
// Temporaries: a writer holds an advisory lock (flock) on each temporary file
// or directory it writes, from its creation until it is renamed into place or
// removed (core::AtomicFileWriter, LockedTempDir). The kernel drops the lock
// when the process dies, so a temporary that can be locked is one whose writer
// is gone: RemoveStaleTemporaries removes exactly those, never the temporaries
// of a concurrent run.
//
// Processes: ProcessToken names this process so that another process can ask
// (ProcessLiveness) whether it still runs; the token holds the host, the boot,
// the pid and the process's start time, so a reused pid or a reboot is told
// apart from the process itself.
//
// Thread-safe: nothing here keeps state besides the objects' own descriptors.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/unique_fd.h"

namespace plinth::core {

// A directory created for writing into, locked for the object's lifetime (so
// that RemoveStaleTemporaries leaves it alone). Destroying the object unlocks
// it and leaves the directory where it is: rename it into place or remove it
// first.
class LockedTempDir {
 public:
  // Creates the directory `path`, which must not exist, and locks it. Returns
  // kAlreadyExists if it does, kIoError naming it otherwise.
  static Result<LockedTempDir> Create(const std::string& path);

  const std::string& path() const { return path_; }

 private:
  LockedTempDir(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

// Locks the open file or directory `fd` (flock, exclusive) for as long as it
// stays open, and checks it is still linked: false when a RemoveStaleTemporaries
// removed it between its creation and this lock (create another then).
// kIoError naming `path` when it cannot be locked.
Result<bool> LockNewTemporary(int fd, const std::string& path);

// Removes the files and directories directly in `dir` whose names start with
// `prefix` and that no process holds locked: the temporaries of writers that
// were killed. Returns how many it removed. A missing `dir` has none; an entry
// that cannot be removed is left (kIoError only if `dir` cannot be read).
Result<int> RemoveStaleTemporaries(const std::string& dir, std::string_view prefix);

// RemoveStaleTemporaries for the temporaries that killed AtomicFileWriters
// of `path` left beside it (".NAME.tmp.*").
Result<int> RemoveStaleAtomicWrites(const std::string& path);

// This process: "HOST:PID:START:BOOT" (START in clock ticks after boot, from
// /proc/self/stat; BOOT the kernel's boot id).
std::string ProcessToken();

enum class Liveness { kAlive, kGone, kUnknown };

// Whether the process that `token` (from ProcessToken) names still runs:
// kUnknown when it ran on another host or the token is not one.
Liveness ProcessLiveness(std::string_view token);

}  // namespace plinth::core
