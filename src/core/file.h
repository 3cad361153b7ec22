// File helpers: whole-file reads, atomic writes and advisory locks.
//
// AtomicWriteFile never leaves a partial file: it writes a temporary file in the
// same directory, fsyncs it, renames it over the target and fsyncs the
// directory, so a crash leaves either the old or the new content. FileLock is an
// RAII advisory lock (flock) held for the object's lifetime; it serializes
// processes, not threads of one process.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace plinth::core {

// Reads the whole file at `path`. Returns kNotFound if it does not exist and
// kIoError (naming the path and the OS error) on any other failure.
Result<std::string> ReadFile(const std::string& path);
// Reads the config file at `path` (`what` names it in errors: "a gates file"): kNotFound
// when absent, kInvalidArgument when it is not a regular file (a directory, a device, a
// FIFO) or holds more than `max_bytes`; then as ReadFile.
Result<std::string> ReadConfigFile(const std::string& path, std::string_view what,
                                   uint64_t max_bytes = 1 << 20);
// The same into `out` (its content replaced, its capacity kept: reading many large files
// one after the other into one buffer touches new memory only once), with room reserved
// for `extra` bytes more (a parser's padding, appended without a reallocation).
Status ReadFileInto(const std::string& path, std::string& out, size_t extra = 0);

// Reads the file at `path` from start to end, handing each piece to `fn` (up to
// 1 MiB each, so memory stays flat). Errors as ReadFile, and kInvalidArgument
// for a directory.
Status ReadFileChunks(const std::string& path, const std::function<void(std::string_view)>& fn);

// Replaces the content of `path` with `content` atomically (temp + fsync + rename).
// Returns kIoError naming the path on failure; the previous content is untouched.
Status AtomicWriteFile(const std::string& path, std::string_view content);

// Writes a file piece by piece with AtomicWriteFile's guarantee: the pieces go
// to a temporary file beside `path`, which Commit fsyncs and renames over it.
// Destroyed without Commit (an error, a crash), the temporary file is removed
// and `path` is untouched.
//
// What `path` names is never replaced by something else: a symlink is followed
// (the file it names is replaced; the link stays), a character device or named
// pipe (/dev/null, /dev/stdout, a FIFO) is written in place, without the
// guarantee, and a directory, block device or socket is refused with
// kInvalidArgument naming `path`.
class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> Open(const std::string& path);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();

  Status Append(std::string_view data);
  Status Commit();
  // The temporary file, for a library that writes a file by name (it must write this file in
  // place, not replace it: the writer holds it open and locked, and Commit fsyncs and renames
  // it); "" when `path` is a device or pipe written in place (use Append).
  std::string temp_path() const { return in_place_ ? std::string() : tmp_; }

 private:
  AtomicFileWriter() = default;
  std::string path_;    // as given, for messages
  std::string target_;  // `path_` with symlinks followed: what Commit replaces
  std::string dir_, tmp_;
  int fd_ = -1;
  bool in_place_ = false;  // a device or pipe, written directly
};

// Creates the directories above `path` that do not exist. kIoError naming the
// directory when that fails (e.g. a file stands where a directory must be).
Status MakeParentDirs(const std::string& path);

// Writes all of `data` to `fd`, retrying short writes and EINTR; kIoError
// naming `path` on failure.
Status WriteAll(int fd, std::string_view data, std::string_view path);

// Formats the current errno as "path: strerror".
std::string ErrnoMessage(std::string_view path);

class FileLock {
 public:
  // Takes an exclusive advisory lock on `path` (created if missing), waiting for
  // other holders. Returns kIoError if the file cannot be opened or locked.
  static Result<FileLock> Acquire(const std::string& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace plinth::core
