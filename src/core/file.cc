#include "core/file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <utility>

#include "core/stale.h"

namespace plinth::core {

Status WriteAll(int fd, std::string_view data, std::string_view path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return IoError(ErrnoMessage(path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string ErrnoMessage(std::string_view path) {
  return std::string(path) + ": " + std::strerror(errno);
}

Status MakeParentDirs(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) {
    return Status::Ok();
  }
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return IoError(parent.string() + ": " + ec.message());
  }
  return Status::Ok();
}

Status ReadFileChunks(const std::string& path, const std::function<void(std::string_view)>& fn) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return NotFound(path + ": no such file");
    }
    return IoError(ErrnoMessage(path));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = IoError(ErrnoMessage(path));
    ::close(fd);
    return s;
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(path + ": is a directory, expected a file");
  }
  std::string buf(1 << 20, '\0');
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      Status s = IoError(ErrnoMessage(path));
      ::close(fd);
      return s;
    }
    if (n == 0) {
      break;
    }
    fn(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  return Status::Ok();
}

Result<std::string> ReadConfigFile(const std::string& path, std::string_view what,
                                   uint64_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return NotFound(path + ": no such file");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return InvalidArgument(path + ": expected " + std::string(what) +
                           " (a regular file), not a directory or device");
  }
  if (std::filesystem::file_size(path, ec) > max_bytes) {
    return InvalidArgument(path + ": " + std::string(what) + " of more than " +
                           std::to_string(max_bytes >> 10) + " KiB");
  }
  return ReadFile(path);
}

Status ReadFileInto(const std::string& path, std::string& out, size_t extra) {
  out.clear();
  std::error_code ec;
  if (auto size = std::filesystem::file_size(path, ec); !ec) {
    out.reserve(size + extra);  // the file may still grow, or be a pipe: appends take the rest
  }
  return ReadFileChunks(path, [&](std::string_view piece) { out += piece; });
}

Result<std::string> ReadFile(const std::string& path) {
  std::string out;
  PLINTH_RETURN_IF_ERROR(ReadFileInto(path, out));
  return out;
}

namespace {

// `path` with symlinks in its last component followed (a link to a missing
// file gives the missing file's path), so a write replaces what the link names
// and leaves the link itself in place.
Result<std::string> FollowLinks(const std::string& path) {
  std::string target = path;
  for (int hops = 0; hops < 40; ++hops) {  // the kernel's own limit (ELOOP)
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
      return target;
    }
    std::string link(static_cast<size_t>(PATH_MAX), '\0');
    const ssize_t n = ::readlink(target.c_str(), link.data(), link.size());
    if (n < 0) {
      return IoError(ErrnoMessage(target));
    }
    link.resize(static_cast<size_t>(n));
    std::filesystem::path next(link);
    if (next.is_relative()) {
      next = std::filesystem::path(target).parent_path() / next;
    }
    target = next.string();
  }
  return InvalidArgument(path + ": too many levels of symbolic links");
}

}  // namespace

Result<AtomicFileWriter> AtomicFileWriter::Open(const std::string& path) {
  AtomicFileWriter w;
  w.path_ = path;
  PLINTH_ASSIGN_OR_RETURN(std::string target, FollowLinks(path));
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) {
      return InvalidArgument(path + ": is a directory, expected a file");
    }
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
      return InvalidArgument(path +
                             ": a block device or socket; expected a regular file, a character "
                             "device or a named pipe");
    }
    // A character device or named pipe (/dev/null, /dev/stdout, a FIFO) is
    // written in place: replacing it with a regular file would break it for
    // every other program.
    w.fd_ = ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (w.fd_ < 0) {
      return IoError(ErrnoMessage(path));
    }
    w.in_place_ = true;
    return w;
  }
  std::filesystem::path file(target);
  std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  std::random_device rd;
  w.target_ = target;
  w.dir_ = dir.string();
  // The temporary stays locked while it exists, so that RemoveStaleTemporaries
  // (run by a later command) removes it only if this process is gone.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string name = ".";
    name.append(file.filename().string())
        .append(".tmp.")
        .append(std::to_string(::getpid()))
        .append(".")
        .append(std::to_string(rd()));
    w.tmp_ = (dir / name).string();
    w.fd_ = ::open(w.tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w.fd_ < 0) {
      return IoError(ErrnoMessage(path));
    }
    Result<bool> linked = LockNewTemporary(w.fd_, w.tmp_);
    if (!linked.ok()) {
      return linked.status();  // the destructor removes the temporary
    }
    if (*linked) {
      return w;
    }
    ::close(std::exchange(w.fd_, -1));  // removed by a clean-up before it was locked
  }
  return IoError(path + ": temporary files keep vanishing in " + w.dir_);
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      target_(std::move(other.target_)),
      dir_(std::move(other.dir_)),
      tmp_(std::move(other.tmp_)),
      fd_(std::exchange(other.fd_, -1)),
      in_place_(other.in_place_) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    if (!in_place_) {
      ::unlink(tmp_.c_str());
    }
  }
}

Status AtomicFileWriter::Append(std::string_view data) {
  if (fd_ < 0) {
    return FailedPrecondition(path_ + ": written after commit");
  }
  return WriteAll(fd_, data, path_);
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) {
    return FailedPrecondition(path_ + ": committed twice");
  }
  if (in_place_) {
    if (::close(std::exchange(fd_, -1)) != 0) {
      return IoError(ErrnoMessage(path_));
    }
    return Status::Ok();
  }
  Status s;
  if (::fsync(fd_) != 0) {
    s = IoError(ErrnoMessage(path_));
  }
  // Renamed while still open (and locked), so no clean-up takes it as stale
  // between the close and the rename.
  if (s.ok() && ::rename(tmp_.c_str(), target_.c_str()) != 0) {
    s = IoError(ErrnoMessage(path_));
  }
  if (::close(std::exchange(fd_, -1)) != 0 && s.ok()) {
    s = IoError(ErrnoMessage(path_));
  }
  if (!s.ok()) {
    ::unlink(tmp_.c_str());
    return s;
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: some filesystems refuse fsync on directories
    ::close(dfd);
  }
  return Status::Ok();
}

Status AtomicWriteFile(const std::string& path, std::string_view content) {
  PLINTH_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::Open(path));
  PLINTH_RETURN_IF_ERROR(w.Append(content));
  return w.Commit();
}

Result<FileLock> FileLock::Acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return IoError(ErrnoMessage(path));
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      Status s = IoError(ErrnoMessage(path));
      ::close(fd);
      return s;
    }
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::close(fd_);  // closing the descriptor releases the flock
  }
}

}  // namespace plinth::core
