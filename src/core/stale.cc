#include "core/stale.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <vector>

#include "core/file.h"

namespace plinth::core {
namespace {

// The first line of the file at `path`, or "".
std::string FirstLine(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return "";
  }
  return text->substr(0, text->find('\n'));
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return "localhost";
  }
  return buf;
}

// Field `field` (3 = state, 22 = start time in clock ticks after boot) of
// /proc/PID/stat, or "" when it cannot be read (no such process).
std::string StatField(const std::string& pid, int field) {
  const std::string stat = FirstLine("/proc/" + pid + "/stat");
  // The command name (field 2) is in parentheses and may hold spaces: count after it.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) {
    return "";
  }
  size_t at = paren + 1;
  for (int f = 3; f <= field; ++f) {
    at = stat.find_first_not_of(' ', at);
    if (at == std::string::npos) {
      return "";
    }
    const size_t end = std::min(stat.find(' ', at), stat.size());
    if (f == field) {
      return stat.substr(at, end - at);
    }
    at = end;
  }
  return "";
}

std::string BootId() { return FirstLine("/proc/sys/kernel/random/boot_id"); }

}  // namespace

Result<bool> LockNewTemporary(int fd, const std::string& path) {
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      return IoError(ErrnoMessage(path));
    }
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return IoError(ErrnoMessage(path));
  }
  return st.st_nlink > 0;
}

Result<LockedTempDir> LockedTempDir::Create(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return AlreadyExists(path + ": exists");
    }
    return IoError(ErrnoMessage(path));
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return IoError(ErrnoMessage(path));
  }
  PLINTH_ASSIGN_OR_RETURN(bool linked, LockNewTemporary(fd.get(), path));
  if (!linked) {
    return Unavailable(path + ": removed by a concurrent clean-up as soon as created; try again");
  }
  return LockedTempDir(path, std::move(fd));
}

Result<int> RemoveStaleTemporaries(const std::string& dir, std::string_view prefix) {
  UniqueFd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) {
    if (errno == ENOENT) {
      return 0;
    }
    return IoError(ErrnoMessage(dir));
  }
  DIR* d = ::fdopendir(::dup(dfd.get()));
  if (d == nullptr) {
    return IoError(ErrnoMessage(dir));
  }
  std::vector<std::string> candidates;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.starts_with(prefix) && name != "." && name != "..") {
      candidates.emplace_back(name);
    }
  }
  ::closedir(d);
  int removed = 0;
  for (const std::string& name : candidates) {
    struct stat st {};
    if (::fstatat(dfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    const bool is_dir = S_ISDIR(st.st_mode);
    if (!is_dir && !S_ISREG(st.st_mode)) {
      continue;  // not something a writer of ours makes
    }
    UniqueFd fd(::openat(
        dfd.get(), name.c_str(),
        (is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK) | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      continue;  // its writer still runs (or it went meanwhile)
    }
    struct stat locked {};
    if (::fstat(fd.get(), &locked) != 0 || locked.st_ino != st.st_ino ||
        locked.st_dev != st.st_dev) {
      continue;
    }
    std::error_code ec;
    const std::filesystem::path full = std::filesystem::path(dir.empty() ? "." : dir) / name;
    if (is_dir) {
      std::filesystem::remove_all(full, ec);  // links inside are removed, never followed
    } else if (::unlinkat(dfd.get(), name.c_str(), 0) != 0) {
      ec = std::error_code(errno, std::generic_category());
    }
    if (!ec) {
      ++removed;
    }
  }
  return removed;
}

Result<int> RemoveStaleAtomicWrites(const std::string& path) {
  const std::filesystem::path target(path);
  return RemoveStaleTemporaries(target.parent_path().string(),
                                "." + target.filename().string() + ".tmp.");
}

std::string ProcessToken() {
  const std::string pid = std::to_string(::getpid());
  return HostName() + ":" + pid + ":" + StatField(pid, 22) + ":" + BootId();
}

Liveness ProcessLiveness(std::string_view token) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= token.size()) {
    const size_t j = std::min(token.find(':', i), token.size());
    parts.emplace_back(token.substr(i, j - i));
    i = j + 1;
  }
  if (parts.size() != 4 || parts[1].empty() ||
      parts[1].find_first_not_of("0123456789") != std::string::npos || parts[1].size() > 9) {
    return Liveness::kUnknown;
  }
  if (parts[0] != HostName()) {
    return Liveness::kUnknown;
  }
  if (!parts[3].empty() && parts[3] != BootId()) {
    return Liveness::kGone;  // the host rebooted since
  }
  const pid_t pid = static_cast<pid_t>(std::stol(parts[1]));
  if (::kill(pid, 0) != 0 && errno == ESRCH) {
    return Liveness::kGone;
  }
  const std::string start = StatField(parts[1], 22);
  const std::string state = StatField(parts[1], 3);
  if (start.empty() || state == "Z" || state == "X") {
    return Liveness::kGone;  // exited (a zombie has no work left either)
  }
  return parts[2].empty() || start == parts[2] ? Liveness::kAlive : Liveness::kGone;
}

}  // namespace plinth::core
