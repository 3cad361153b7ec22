#include "core/confined_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/file.h"

namespace plinth::core {
namespace {

constexpr size_t kMaxComponentBytes = 256;

// Set once openat2 answered ENOSYS (a kernel before 5.6) or EPERM (a seccomp
// filter that does not know it): every later open walks with O_NOFOLLOW.
std::atomic<bool> no_openat2{false};

// The components of `rel`: "." and empty ones dropped. kInvalidArgument for
// "..", NUL or an absolute path.
Result<std::vector<std::string>> Components(std::string_view rel) {
  if (rel.find('\0') != std::string_view::npos) {
    return InvalidArgument("Invalid path: '" + std::string(rel) + "' contains NUL");
  }
  if (rel.starts_with("/")) {
    return InvalidArgument("Invalid path: '" + std::string(rel) + "' must be relative");
  }
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = std::min(rel.find('/', i), rel.size());
    std::string_view part = rel.substr(i, j - i);
    if (part == "..") {
      return InvalidArgument("Invalid path: '" + std::string(rel) +
                             "' must not refer to a parent directory");
    }
    if (!part.empty() && part != ".") {
      out.emplace_back(part);
    }
    i = j + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < parts.size(); ++i) {
    out += (i == 0 ? "" : "/") + parts[i];
  }
  return out.empty() ? "." : out;
}

// openat(2) of `parts` beneath `dir_fd`, one component at a time with
// O_NOFOLLOW: no symbolic link is followed anywhere.
int WalkNoFollow(int dir_fd, const std::vector<std::string>& parts, int flags, mode_t mode) {
  if (parts.empty()) {
    return ::openat(dir_fd, ".", flags | O_CLOEXEC, mode);
  }
  UniqueFd hold;
  int cur = dir_fd;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int fd = ::openat(cur, parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return -1;
    }
    hold.Reset(fd);
    cur = fd;
  }
  return ::openat(cur, parts.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

// Opens the first `n` of `parts` beneath `dir_fd` (errno set on failure).
int OpenBeneath(int dir_fd, const std::vector<std::string>& parts, size_t n, int flags,
                mode_t mode = 0) {
  if (!no_openat2.load(std::memory_order_relaxed)) {
    const std::string rel = Join(parts, n);
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    while (true) {
      long fd = ::syscall(SYS_openat2, dir_fd, rel.c_str(), &how, sizeof(how));
      if (fd >= 0) {
        return static_cast<int>(fd);
      }
      if (errno == EAGAIN || errno == EINTR) {
        continue;  // a concurrent rename raced the lookup: try again
      }
      if (errno != ENOSYS && errno != EPERM) {
        return -1;
      }
      no_openat2.store(true, std::memory_order_relaxed);
      break;
    }
  }
  std::vector<std::string> first(parts.begin(), parts.begin() + static_cast<ptrdiff_t>(n));
  return WalkNoFollow(dir_fd, first, flags, mode);
}

// The Status for a failed open of `rel` (errno as the open left it).
Status OpenError(std::string_view rel) {
  const int e = errno;
  const std::string what = "'" + std::string(rel) + "'";
  if (e == EXDEV || e == ELOOP) {
    return InvalidArgument("Invalid path: " + what +
                           " leads outside the root directory (through a symbolic link)");
  }
  if (e == ENOENT) {
    return NotFound("No such file or directory: " + what);
  }
  if (e == ENOTDIR) {
    return InvalidArgument("Invalid path: " + what + " goes through a file, expected a directory");
  }
  return IoError(what + ": " + std::strerror(e));
}

bool IsSpecial(mode_t mode) { return !S_ISREG(mode) && !S_ISDIR(mode) && !S_ISLNK(mode); }

Status NotRegular(std::string_view rel) {
  return InvalidArgument("Invalid path: '" + std::string(rel) +
                         "' is a special file (FIFO, device or socket), expected a regular file");
}

Result<UniqueFd> OpenRoot(const std::string& root, bool create) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) {
      return IoError(root + ": " + ec.message());
    }
    fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0) {
    if (errno == ENOENT) {
      return NotFound(root + ": no such directory");
    }
    return IoError(ErrnoMessage(root));
  }
  return UniqueFd(fd);
}

// Removes the directory `name` under `parent_fd` and everything in it, never
// following a symbolic link.
Status RemoveTree(int parent_fd, const std::string& name, std::string_view rel) {
  int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return OpenError(rel);
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    Status s = IoError(ErrnoMessage(rel));
    ::close(fd);
    return s;
  }
  std::vector<std::pair<std::string, bool>> entries;
  while (dirent* e = ::readdir(d)) {
    std::string child = e->d_name;
    if (child == "." || child == "..") {
      continue;
    }
    struct stat st {};
    if (::fstatat(fd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // gone meanwhile
    }
    entries.emplace_back(std::move(child), S_ISDIR(st.st_mode));
  }
  Status s;
  for (const auto& [child, is_dir] : entries) {
    const std::string child_rel = std::string(rel) + "/" + child;
    if (is_dir) {
      s = RemoveTree(fd, child, child_rel);
    } else if (::unlinkat(fd, child.c_str(), 0) != 0 && errno != ENOENT) {
      s = IoError(ErrnoMessage(child_rel));
    }
    if (!s.ok()) {
      break;
    }
  }
  ::closedir(d);  // closes fd
  if (s.ok() && ::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    s = IoError(ErrnoMessage(rel));
  }
  return s;
}

}  // namespace

Status CheckPathComponent(std::string_view name, std::string_view what) {
  const std::string w(what);
  if (name.empty()) {
    return InvalidArgument(w + " cannot be empty.");
  }
  const std::string quoted = "Invalid " + w + " '" + std::string(name) + "'";
  if (name.size() > kMaxComponentBytes) {
    return InvalidArgument(w + " of " + std::to_string(name.size()) + " bytes: expected at most " +
                           std::to_string(kMaxComponentBytes));
  }
  if (name == "." || name == "..") {
    return InvalidArgument(quoted + ": expected a name, not '.' or '..'");
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\') {
      return InvalidArgument(quoted + ": expected no path separator ('/' or '\\')");
    }
    if (u < 0x20 || u == 0x7f) {
      return InvalidArgument("Invalid " + w +
                             ": expected no NUL or other control character (got byte " +
                             std::to_string(u) + ")");
    }
  }
  return Status::Ok();
}

Result<UniqueFd> ConfinedDir::OpenFile(std::string_view rel) const {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> parts, Components(rel));
  if (parts.empty()) {
    return NotFound("No such file: '" + std::string(rel) + "' is the root directory");
  }
  PLINTH_ASSIGN_OR_RETURN(UniqueFd root, OpenRoot(root_, false));
  // O_PATH first: opening a FIFO for reading would block, a device could act.
  UniqueFd probe(OpenBeneath(root.get(), parts, parts.size(), O_PATH));
  if (!probe.valid()) {
    return OpenError(rel);
  }
  struct stat st {};
  if (::fstat(probe.get(), &st) != 0) {
    return IoError(ErrnoMessage(rel));
  }
  if (S_ISLNK(st.st_mode)) {  // the O_NOFOLLOW walk opened a link itself
    errno = ELOOP;
    return OpenError(rel);
  }
  if (S_ISDIR(st.st_mode)) {
    return NotFound("No such file: '" + std::string(rel) + "' is a directory");
  }
  if (!S_ISREG(st.st_mode)) {
    return NotRegular(rel);
  }
  UniqueFd fd(OpenBeneath(root.get(), parts, parts.size(), O_RDONLY | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    return OpenError(rel);
  }
  struct stat again {};
  if (::fstat(fd.get(), &again) != 0) {
    return IoError(ErrnoMessage(rel));
  }
  if (again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
    return Unavailable("'" + std::string(rel) + "' was replaced while being opened; try again");
  }
  return fd;
}

Status ConfinedDir::WriteFile(std::string_view rel, std::string_view bytes) const {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> parts, Components(rel));
  if (parts.empty()) {
    return InvalidArgument("Invalid path: '" + std::string(rel) + "': expected a file name");
  }
  PLINTH_ASSIGN_OR_RETURN(UniqueFd root, OpenRoot(root_, true));
  // The directories above the file, each created where missing and reopened
  // beneath the root (so a link swapped in meanwhile is still refused).
  UniqueFd dir(OpenBeneath(root.get(), parts, 0, O_RDONLY | O_DIRECTORY));
  for (size_t i = 0; dir.valid() && i + 1 < parts.size(); ++i) {
    UniqueFd next(OpenBeneath(root.get(), parts, i + 1, O_RDONLY | O_DIRECTORY));
    if (!next.valid() && errno == ENOENT) {
      if (::mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        return IoError(ErrnoMessage(Join(parts, i + 1)));
      }
      next.Reset(OpenBeneath(root.get(), parts, i + 1, O_RDONLY | O_DIRECTORY));
    }
    if (!next.valid()) {
      return OpenError(Join(parts, i + 1));
    }
    dir = std::move(next);
  }
  if (!dir.valid()) {
    return OpenError(".");
  }
  const std::string& name = parts.back();
  std::random_device rd;
  const std::string tmp =
      "." + name + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  UniqueFd out(
      ::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!out.valid()) {
    return IoError(ErrnoMessage(rel));
  }
  Status s = WriteAll(out.get(), bytes, rel);
  if (s.ok() && ::fsync(out.get()) != 0) {
    s = IoError(ErrnoMessage(rel));
  }
  if (s.ok() && ::close(out.Release()) != 0) {
    s = IoError(ErrnoMessage(rel));
  }
  // renameat replaces a link named `name` itself: nothing outside is written.
  if (s.ok() && ::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0) {
    s = errno == EISDIR ? InvalidArgument("Invalid path: '" + std::string(rel) +
                                          "' is a directory, expected a file")
                        : IoError(ErrnoMessage(rel));
  }
  if (!s.ok()) {
    out.Reset();
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    return s;
  }
  ::fsync(dir.get());  // best effort: some filesystems refuse fsync on directories
  return Status::Ok();
}

Result<std::vector<ConfinedEntry>> ConfinedDir::List(std::string_view rel) const {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> parts, Components(rel));
  std::vector<ConfinedEntry> out;
  Result<UniqueFd> root = OpenRoot(root_, false);
  if (!root.ok()) {
    if (root.status().code() == StatusCode::kNotFound) {
      return out;
    }
    return root.status();
  }
  UniqueFd dir(OpenBeneath(root->get(), parts, parts.size(), O_RDONLY | O_DIRECTORY));
  if (!dir.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return out;  // as MLflow's local repository: nothing there
    }
    return OpenError(rel);
  }
  DIR* d = ::fdopendir(::dup(dir.get()));
  if (d == nullptr) {
    return IoError(ErrnoMessage(rel));
  }
  std::vector<std::string> child_parts = parts;
  child_parts.emplace_back();
  while (dirent* e = ::readdir(d)) {
    ConfinedEntry entry;
    entry.name = e->d_name;
    if (entry.name == "." || entry.name == "..") {
      continue;
    }
    struct stat st {};
    if (::fstatat(dir.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // gone meanwhile
    }
    if (S_ISLNK(st.st_mode)) {
      // A link counts as what it leads to, if that is beneath the root.
      child_parts.back() = entry.name;
      UniqueFd target(OpenBeneath(root->get(), child_parts, child_parts.size(), O_PATH));
      if (!target.valid() || ::fstat(target.get(), &st) != 0 || S_ISLNK(st.st_mode)) {
        continue;
      }
    }
    if (IsSpecial(st.st_mode)) {
      continue;
    }
    entry.is_dir = S_ISDIR(st.st_mode);
    entry.size = entry.is_dir ? 0 : static_cast<int64_t>(st.st_size);
    out.push_back(std::move(entry));
  }
  ::closedir(d);
  return out;
}

Status ConfinedDir::Remove(std::string_view rel) const {
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> parts, Components(rel));
  if (parts.empty()) {
    return InvalidArgument("Invalid path: refusing to delete the root directory");
  }
  Result<UniqueFd> root = OpenRoot(root_, false);
  if (!root.ok()) {
    return root.status().code() == StatusCode::kNotFound ? Status::Ok() : root.status();
  }
  UniqueFd parent(OpenBeneath(root->get(), parts, parts.size() - 1, O_RDONLY | O_DIRECTORY));
  if (!parent.valid()) {
    return errno == ENOENT ? Status::Ok() : OpenError(rel);
  }
  const std::string& name = parts.back();
  struct stat st {};
  if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::Ok() : IoError(ErrnoMessage(rel));
  }
  if (S_ISDIR(st.st_mode)) {
    return RemoveTree(parent.get(), name, rel);
  }
  if (::unlinkat(parent.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
    return IoError(ErrnoMessage(rel));
  }
  return Status::Ok();
}

}  // namespace plinth::core
