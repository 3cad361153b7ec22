#include "data/remote.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/hash.h"
#include "data/objects.h"

namespace plinth::data {
namespace fs = std::filesystem;

Result<int64_t> CopyVerified(const std::string& src, const std::string& dest,
                             const std::string& hash) {
  // The object directories exist (EnsureObjectDirs); durability comes from one
  // SyncFilesystem at the end of the transfer, not an fsync per object.
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return errno == ENOENT ? NotFound(src + ": no such object")
                           : IoError(src + ": " + std::strerror(errno));
  }
  struct stat st {};
  ::fstat(in, &st);
  std::string dir = fs::path(dest).parent_path().string();
  std::string tmp;  // empty while the file is unnamed
  int out = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
  if (out < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    tmp = TempPathBeside(dest);
    out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  }
  if (out < 0) {
    Status s = IoError((tmp.empty() ? dir : tmp) + ": " + std::strerror(errno));
    ::close(in);
    return s;
  }
  core::Sha256 sha;
  auto pumped = PumpHashing(in, src, out, tmp.empty() ? dest : tmp, &sha, nullptr, st.st_size);
  Status s = pumped.status();
  ::close(in);
  if (s.ok()) {
    std::string got = sha.HexDigest();
    if (got != hash) {
      s = Corruption(src + ": content hashes to " + got.substr(0, 12) + "..., not to its name " +
                     hash.substr(0, 12) + "...; not transferred");
    }
  }
  if (s.ok()) {
    if (tmp.empty()) {
      std::string self = "/proc/self/fd/" + std::to_string(out);
      if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, dest.c_str(), AT_SYMLINK_FOLLOW) != 0 &&
          errno != EEXIST) {
        s = IoError(dest + ": " + std::strerror(errno));
      }
    } else if (::rename(tmp.c_str(), dest.c_str()) != 0) {
      s = IoError(dest + ": " + std::strerror(errno));
    }
  }
  ::close(out);
  if (!s.ok() && !tmp.empty()) {
    ::unlink(tmp.c_str());
  }
  if (!s.ok()) {
    return s;
  }
  return *pumped;
}

namespace {

class LocalRemote : public Remote {
 public:
  LocalRemote(std::string url, std::string dir) : url_(std::move(url)), dir_(std::move(dir)) {}

  const std::string& url() const override { return url_; }
  Status Sync() override { return SyncFilesystem(dir_); }

  Result<bool> Has(const std::string& hash) override {
    struct stat st {};
    return ::stat(Path(hash).c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  Result<int64_t> Put(const std::string& hash, const std::string& src) override {
    return CopyVerified(src, Path(hash), hash);
  }

  Result<int64_t> Get(const std::string& hash, const std::string& dest) override {
    auto got = CopyVerified(Path(hash), dest, hash);
    if (got.status().code() == StatusCode::kNotFound) {
      return NotFound("object " + hash + " is not on remote " + url_);
    }
    return got;
  }

 private:
  std::string Path(const std::string& hash) const {
    return dir_ + "/sha256/" + hash.substr(0, 2) + "/" + hash.substr(2);
  }
  std::string url_;
  std::string dir_;
};

Result<std::unique_ptr<Remote>> OpenLocal(std::string_view url, std::string_view path) {
  std::string dir(path);
  if (dir.empty() || dir[0] != '/') {
    return InvalidArgument("remote \"" + std::string(url) +
                           "\": a directory remote needs an absolute path");
  }
  Status s = EnsureObjectDirs(dir);
  if (!s.ok()) {
    return s.WithPrefix("remote " + std::string(url));
  }
  return std::unique_ptr<Remote>(new LocalRemote(std::string(url), dir));
}

}  // namespace

Result<std::unique_ptr<Remote>> OpenRemote(std::string_view url) {
  struct Scheme {
    std::string_view prefix;
    size_t strip;  // characters of the prefix that are not part of the path
  };
  // The explicit table of remote kinds.
  static const Scheme kSchemes[] = {{"file://", 7}, {"/", 0}};
  for (const auto& s : kSchemes) {
    if (url.substr(0, s.prefix.size()) == s.prefix) {
      return OpenLocal(url, url.substr(s.strip));
    }
  }
  return InvalidArgument("remote \"" + std::string(url) +
                         "\": unknown kind, expected an absolute directory or file:///DIR "
                         "(the Plinth server arrives as an HTTP remote later)");
}

}  // namespace plinth::data
