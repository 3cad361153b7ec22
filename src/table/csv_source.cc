#include "table/csv_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/file.h"

namespace plinth::table {
namespace {

class FileSource : public Source {
 public:
  FileSource(int fd, std::string path, int64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~FileSource() override { ::close(fd_); }

  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) {
        pos_ += got;
        return static_cast<size_t>(got);
      }
      if (errno != EINTR) {
        return IoError(core::ErrnoMessage(path_));
      }
    }
  }
  Status Rewind() override {
    if (::lseek(fd_, 0, SEEK_SET) != 0) {
      return IoError(core::ErrnoMessage(path_));
    }
    pos_ = 0;
    return Status::Ok();
  }
  int64_t Position() const override { return pos_; }
  int64_t TotalSize() const override { return size_; }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string path_;
  int64_t size_;
  int64_t pos_ = 0;
};

// The header line of a plain file, then the records that start in a byte range.
class RangeSource : public Source {
 public:
  RangeSource(std::unique_ptr<FileSource> file, int fd, std::string path)
      : file_(std::move(file)), fd_(fd), path_(std::move(path)) {}

  // Finds the header's end and the line starts that bound [begin, end).
  Status Bound(int64_t begin, int64_t end, int64_t size) {
    PLINTH_ASSIGN_OR_RETURN(header_end_, LineStartFrom(0, size));
    if (end < 0 || end > size) {
      end = size;
    }
    PLINTH_ASSIGN_OR_RETURN(start_,
                            begin <= header_end_ ? header_end_ : LineStartFrom(begin - 1, size));
    PLINTH_ASSIGN_OR_RETURN(stop_, end <= header_end_ ? header_end_ : LineStartFrom(end - 1, size));
    stop_ = std::max(stop_, start_);
    return Status::Ok();
  }

  Result<size_t> Read(char* buf, size_t n) override {
    int64_t at = pos_ < header_end_ ? pos_ : start_ + (pos_ - header_end_);
    int64_t limit = pos_ < header_end_ ? header_end_ : stop_;
    n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), limit - at));
    if (n == 0) {
      return size_t{0};
    }
    PLINTH_ASSIGN_OR_RETURN(size_t got, PRead(buf, n, at));
    pos_ += static_cast<int64_t>(got);
    return got;
  }
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }
  int64_t Position() const override { return pos_; }
  int64_t TotalSize() const override { return header_end_ + (stop_ - start_); }

 private:
  Result<size_t> PRead(char* buf, size_t n, int64_t at) {
    while (true) {
      ssize_t got = ::pread(fd_, buf, n, at);
      if (got >= 0) {
        return static_cast<size_t>(got);
      }
      if (errno != EINTR) {
        return IoError(core::ErrnoMessage(path_));
      }
    }
  }

  // The position just after the first '\n' at or after `from` (or `size`).
  Result<int64_t> LineStartFrom(int64_t from, int64_t size) {
    char buf[65536];
    while (from < size) {
      PLINTH_ASSIGN_OR_RETURN(size_t got, PRead(buf, sizeof buf, from));
      if (got == 0) {
        break;
      }
      if (const void* nl = std::memchr(buf, '\n', got)) {
        return from + (static_cast<const char*>(nl) - buf) + 1;
      }
      from += static_cast<int64_t>(got);
    }
    return size;
  }

  std::unique_ptr<FileSource> file_;  // owns the descriptor
  int fd_;
  std::string path_;
  int64_t header_end_ = 0;
  int64_t start_ = 0;
  int64_t stop_ = 0;
  int64_t pos_ = 0;
};

class GzipSource : public Source {
 public:
  GzipSource(gzFile gz, std::string path, int64_t size)
      : gz_(gz), path_(std::move(path)), size_(size) {
    gzbuffer(gz_, 1 << 17);
  }
  ~GzipSource() override { gzclose(gz_); }

  Result<size_t> Read(char* buf, size_t n) override {
    int got = gzread(gz_, buf, static_cast<unsigned>(std::min<size_t>(n, 1u << 30)));
    if (got > 0) {
      return static_cast<size_t>(got);
    }
    // zlib hands out what it could decompress of a cut-off stream, then ends
    // with Z_BUF_ERROR set (and gzeof true): that is a truncated file, not
    // the end of the data.
    int errnum = Z_OK;
    const char* msg = gzerror(gz_, &errnum);
    if (errnum == Z_BUF_ERROR || (got == 0 && errnum == Z_OK && !gzeof(gz_))) {
      return Corruption(path_ + ": gzip: the compressed data ends early (the file is truncated)");
    }
    if (got < 0 || errnum != Z_OK) {
      return Corruption(path_ + ": gzip: " + (msg != nullptr ? msg : "read error"));
    }
    return size_t{0};
  }
  Status Rewind() override {
    if (gzrewind(gz_) != 0) {
      return IoError(path_ + ": gzip: cannot rewind");
    }
    return Status::Ok();
  }
  int64_t Position() const override { return gzoffset(gz_); }
  int64_t TotalSize() const override { return size_; }
  bool gzip() const override { return true; }

 private:
  gzFile gz_;
  std::string path_;
  int64_t size_;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::string_view text) : text_(text) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, text_.size() - pos_);
    std::memcpy(buf, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }
  int64_t Position() const override { return static_cast<int64_t>(pos_); }
  int64_t TotalSize() const override { return static_cast<int64_t>(text_.size()); }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::unique_ptr<Source>> OpenSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return NotFound(path + ": no such file");
    }
    return IoError(core::ErrnoMessage(path));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(path + ": not a readable file");
  }
  unsigned char magic[2] = {0, 0};
  ssize_t got = ::pread(fd, magic, 2, 0);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    gzFile gz = gzdopen(fd, "rb");
    if (gz == nullptr) {
      ::close(fd);
      return IoError(path + ": cannot open gzip stream");
    }
    return std::unique_ptr<Source>(new GzipSource(gz, path, st.st_size));
  }
  return std::unique_ptr<Source>(new FileSource(fd, path, st.st_size));
}

Result<std::unique_ptr<Source>> OpenSourceRange(const std::string& path, int64_t begin,
                                                int64_t end) {
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Source> src, OpenSource(path));
  if (src->gzip()) {
    return InvalidArgument(path +
                           ": a gzip file cannot be read by byte ranges (decompress it "
                           "first to shard it)");
  }
  auto* file = static_cast<FileSource*>(src.release());
  const int64_t size = file->TotalSize();
  const int fd = file->fd();
  auto range = std::make_unique<RangeSource>(std::unique_ptr<FileSource>(file), fd, path);
  PLINTH_RETURN_IF_ERROR(range->Bound(begin, end, size));
  return std::unique_ptr<Source>(std::move(range));
}

std::unique_ptr<Source> TextSource(std::string_view text) {
  return std::make_unique<MemorySource>(text);
}

}  // namespace plinth::table
