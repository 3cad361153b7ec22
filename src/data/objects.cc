#include "data/objects.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "core/file.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/yaml.h"

namespace plinth::data {
namespace fs = std::filesystem;

namespace {

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

std::string TempPathBeside(const std::string& dest) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  fs::path p(dest);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  return (p.parent_path() / ("." + p.filename().string() + ".plinth-tmp-" + suffix)).string();
}

namespace {

Status ErrnoStatus(const std::string& what) {
  int e = errno;
  std::string msg = what + ": " + std::strerror(e);
  if (e == ENOSPC || e == EDQUOT) {
    return ResourceExhausted(msg + " (disk full)");
  }
  if (e == EACCES || e == EPERM || e == EROFS) {
    return PermissionDenied(msg);
  }
  if (e == ENOENT) {
    return NotFound(msg);
  }
  return IoError(msg);
}

// Opens `path` read-only without updating its access time where allowed
// (O_NOATIME needs ownership; root or the owner, as in a workspace).
int OpenForReading(const std::string& path, int extra_flags = 0) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME | extra_flags);
  if (fd < 0 && errno == EPERM) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | extra_flags);
  }
  return fd;
}

// Opens `src` for reading and creates `dst` (which must not exist) for writing.
// On success both descriptors are open and the caller closes them.
Status OpenPair(const std::string& src, const std::string& dst, int& in, int& out) {
  in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return ErrnoStatus(src);
  }
  out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    Status s = ErrnoStatus(dst);
    ::close(in);
    return s;
  }
  return Status::Ok();
}

Status Reflink(const std::string& src, const std::string& dst) {
  int in = -1, out = -1;
  PLINTH_RETURN_IF_ERROR(OpenPair(src, dst, in, out));
  int rc = ::ioctl(out, FICLONE, in);
  int e = errno;
  ::close(in);
  ::close(out);
  if (rc != 0) {
    ::unlink(dst.c_str());
    errno = e;
    return ErrnoStatus("reflink " + dst);
  }
  return Status::Ok();
}

Status CopyFile(const std::string& src, const std::string& dst) {
  int in = -1, out = -1;
  PLINTH_RETURN_IF_ERROR(OpenPair(src, dst, in, out));
  Status s;
  while (true) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0) {
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL) {
        // Fall back to read/write.
        s = PumpHashing(in, src, out, dst, nullptr).status();
        break;
      }
      s = ErrnoStatus(dst);
      break;
    }
  }
  // No fsync here: callers that need durability sync the filesystem once
  // (SyncFilesystem), not once per file.
  ::close(in);
  ::close(out);
  if (!s.ok()) {
    ::unlink(dst.c_str());
  }
  return s;
}

}  // namespace

Status EnsureObjectDirs(const std::string& root) {
  struct stat st {};
  if (::stat((root + "/sha256/ff").c_str(), &st) == 0) {
    return Status::Ok();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    std::string dir = root + "/sha256/" + kHex[i >> 4] + kHex[i & 15];
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return IoError(dir + ": " + ec.message());
    }
  }
  return Status::Ok();
}

Result<int64_t> PumpHashing(int in, const std::string& in_name, int out,
                            const std::string& out_name, core::Sha256* sha,
                            const std::function<void(int64_t)>& on_bytes, int64_t expected) {
  // One uninitialised 1 MiB buffer per thread: no allocation or clearing per
  // file (which dominated adding many small files).
  static constexpr size_t kBlock = 1 << 20;
  static thread_local std::unique_ptr<char[]> block(new char[kBlock]);
  std::string_view buf(block.get(), kBlock);
  int64_t total = 0;
  while (expected < 0 || total < expected) {
    ssize_t n = ::read(in, block.get(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoStatus(in_name);
    }
    if (n == 0) {
      return total;
    }
    if (sha != nullptr) {
      sha->Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    for (ssize_t off = 0; out >= 0 && off < n;) {
      ssize_t w = ::write(out, block.get() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w < 0) {
        return ErrnoStatus(out_name);
      }
      off += w;
    }
    total += n;
    if (on_bytes) {
      on_bytes(n);
    }
  }
  return total;
}

namespace {

// `known` when given, else a stat of `path`; false when `path` cannot be stat'ed.
bool StatOf(const std::string& path, const struct stat* known, struct stat& st) {
  if (known != nullptr) {
    st = *known;
    return true;
  }
  return ::stat(path.c_str(), &st) == 0;
}

// Reads `in` (opened from `path`, whose stat was `before`) to its end, hashing
// it and copying it to `out` when >= 0. Fails if the file changed meanwhile
// ("changed while it was being <doing>"). `after` receives the final fstat,
// `bytes` the bytes read.
Result<std::string> HashUnchanged(int in, const std::string& path, const struct stat& before,
                                  int out, const std::string& out_name,
                                  const std::function<void(int64_t)>& on_bytes,
                                  std::string_view doing, struct stat& after, int64_t& bytes) {
  core::Sha256 sha;
  PLINTH_ASSIGN_OR_RETURN(bytes, PumpHashing(in, path, out, out_name, &sha, on_bytes,
                                             static_cast<int64_t>(before.st_size)));
  ::fstat(in, &after);
  if (MtimeNs(after) != MtimeNs(before) || after.st_size != before.st_size ||
      after.st_ino != before.st_ino) {
    return FailedPrecondition(path + ": changed while it was being " + std::string(doing) +
                              "; try again");
  }
  return sha.HexDigest();
}

// Files from this size up are copied by CopyHashing; smaller ones by one
// read/hash/write pass (for them a thread and a second descriptor cost more).
constexpr int64_t kCopyHashingMin = 8 << 20;

// Copies `in` (the file `path`, whose stat was `before`) into the new, private
// file `out` (`out_name` in errors; `reopen` opens it again) in the kernel
// (copy_file_range, a reflink where the filesystem shares extents) on this
// thread, while a second thread
// hashes the bytes already in `out`. So copying and hashing overlap, the bytes
// are read once, and the hash is that of the object's own bytes. Where the
// kernel cannot copy between the two files it falls back to HashUnchanged's
// loop. Fails as HashUnchanged does when `path` changed meanwhile.
Result<std::string> CopyHashing(int in, const std::string& path, const struct stat& before, int out,
                                const std::string& out_name, const std::string& reopen,
                                const std::function<void(int64_t)>& on_bytes, struct stat& after,
                                int64_t& bytes) {
  const int64_t size = before.st_size;
  int reader = ::open(reopen.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader < 0) {
    return ErrnoStatus(out_name);
  }
  std::mutex mu;
  std::condition_variable cv;
  int64_t copied = 0;  // guarded by mu: bytes of `out` that are final
  bool done = false;   // guarded by mu: no more will come
  core::Sha256 sha;
  Status hash_status;
  std::thread hasher([&] {
    static constexpr int64_t kBlock = 1 << 20;
    std::unique_ptr<char[]> buf(new char[kBlock]);
    int64_t at = 0;
    while (true) {
      int64_t limit = 0;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return copied > at || done; });
        limit = copied;
        if (at >= limit) {
          return;  // done, and everything hashed
        }
      }
      while (at < limit) {
        ssize_t n =
            ::pread(reader, buf.get(), static_cast<size_t>(std::min(kBlock, limit - at)), at);
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n <= 0) {
          hash_status = n < 0 ? ErrnoStatus(out_name)
                              : IoError(out_name + ": shorter than what was copied into it");
          return;
        }
        sha.Update(std::string_view(buf.get(), static_cast<size_t>(n)));
        at += n;
        if (on_bytes) {
          on_bytes(n);
        }
      }
    }
  });
  static constexpr int64_t kChunk = 32 << 20;  // what the hasher waits for at most
  Status copy_status;
  int64_t total = 0;
  bool fallback = false;
  while (total < size) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr,
                                  static_cast<size_t>(std::min(kChunk, size - total)), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && total == 0 &&
        (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
      fallback = true;
      break;
    }
    if (n < 0) {
      copy_status = ErrnoStatus(out_name);
      break;
    }
    if (n == 0) {
      break;  // the file shrank: the stamp check below says so
    }
    total += n;
    {
      std::lock_guard<std::mutex> lock(mu);
      copied = total;
    }
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_one();
  hasher.join();
  ::close(reader);
  if (fallback) {  // nothing copied, both offsets still at 0
    return HashUnchanged(in, path, before, out, out_name, on_bytes, "added", after, bytes);
  }
  PLINTH_RETURN_IF_ERROR(copy_status);
  PLINTH_RETURN_IF_ERROR(hash_status);
  bytes = total;
  ::fstat(in, &after);
  if (total != size || MtimeNs(after) != MtimeNs(before) || after.st_size != before.st_size ||
      after.st_ino != before.st_ino) {
    return FailedPrecondition(path + ": changed while it was being added; try again");
  }
  return sha.HexDigest();
}

}  // namespace

namespace {
std::atomic<int64_t> sync_filesystem_calls{0};
}  // namespace

int64_t SyncFilesystemCalls() { return sync_filesystem_calls.load(); }

Status SyncFilesystem(const std::string& dir) {
  ++sync_filesystem_calls;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(dir);
  }
  int rc = ::syncfs(fd);
  Status s = rc == 0 ? Status::Ok() : ErrnoStatus(dir);
  ::close(fd);
  return s;
}

bool IsHash(std::string_view s) {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// StateCache

Result<std::unique_ptr<StateCache>> StateCache::Load(store::Database& db) {
  auto state = std::make_unique<StateCache>();
  PLINTH_ASSIGN_OR_RETURN(auto rows,
                          db.Query("SELECT dev, inode, mtime_ns, size, hash FROM data_state"));
  core::MutexLock lock(state->mu_);  // not shared yet: for the analysis
  state->entries_.reserve(rows.size());
  for (const auto& r : rows) {
    state->entries_[Key{static_cast<uint64_t>(r.Int(0)), static_cast<uint64_t>(r.Int(1))}] =
        Entry{r.Int(2), r.Int(3), r.Text(4)};
  }
  return state;
}

Result<std::string> StateCache::Hash(const std::string& path,
                                     const std::function<void(int64_t)>& on_bytes,
                                     const struct stat* known) {
  struct stat st {};
  if (!StatOf(path, known, st)) {
    return ErrnoStatus(path);
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument(path + ": not a regular file");
  }
  if (auto remembered = Lookup(path, &st)) {
    return *remembered;
  }
  int fd = OpenForReading(path);
  if (fd < 0) {
    return ErrnoStatus(path);
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  struct stat after {};
  int64_t bytes = 0;
  auto hash = HashUnchanged(fd, path, st, -1, "", on_bytes, "hashed", after, bytes);
  ::close(fd);
  PLINTH_RETURN_IF_ERROR(hash.status());
  CountHashed(bytes);
  core::MutexLock lock(mu_);
  SetLocked(Key{st.st_dev, st.st_ino}, Entry{MtimeNs(st), st.st_size, *hash});
  return hash;
}

std::optional<std::string> StateCache::Lookup(const std::string& path, const struct stat* known) {
  struct stat st {};
  if (!StatOf(path, known, st)) {
    return std::nullopt;
  }
  core::MutexLock lock(mu_);
  auto it = entries_.find(Key{st.st_dev, st.st_ino});
  if (it != entries_.end() && it->second.mtime_ns == MtimeNs(st) && it->second.size == st.st_size) {
    return it->second.hash;
  }
  return std::nullopt;
}

Status StateCache::Remember(const std::string& path, const std::string& hash,
                            const struct stat* known) {
  struct stat st {};
  if (!StatOf(path, known, st)) {
    return ErrnoStatus(path);
  }
  core::MutexLock lock(mu_);
  SetLocked(Key{st.st_dev, st.st_ino}, Entry{MtimeNs(st), st.st_size, hash});
  return Status::Ok();
}

void StateCache::SetLocked(const Key& key, Entry entry) {
  Entry& e = entries_[key];
  bool was_dirty = e.dirty;
  e = std::move(entry);
  e.dirty = true;
  if (!was_dirty) {
    dirty_.push_back(key);  // each key once, however often it is set
  }
}

Status StateCache::Save(store::Database& db) {
  core::MutexLock lock(mu_);
  if (dirty_.empty()) {
    return Status::Ok();
  }
  std::vector<std::pair<Key, Entry>> changed;  // read here: the lambda is not seen as locked
  changed.reserve(dirty_.size());
  for (const Key& k : dirty_) {
    changed.emplace_back(k, entries_[k]);
  }
  Status s = db.Transaction([&]() -> Status {
    for (const auto& [k, e] : changed) {
      store::Value args[] = {static_cast<int64_t>(k.dev), static_cast<int64_t>(k.inode), e.mtime_ns,
                             e.size, e.hash};
      PLINTH_RETURN_IF_ERROR(db.Exec(
          "INSERT INTO data_state (dev, inode, mtime_ns, size, hash) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT (dev, inode) DO UPDATE SET mtime_ns = excluded.mtime_ns, "
          "size = excluded.size, hash = excluded.hash",
          args));
    }
    return Status::Ok();
  });
  if (s.ok()) {
    for (const Key& k : dirty_) {
      entries_[k].dirty = false;
    }
    dirty_.clear();
  }
  return s;
}

// ---------------------------------------------------------------------------
// ObjectCache

std::string ObjectCache::ObjectPath(const std::string& hash) const {
  return dir_ + "/sha256/" + hash.substr(0, 2) + "/" + hash.substr(2);
}

bool ObjectCache::Has(const std::string& hash) const {
  struct stat st {};
  return ::stat(ObjectPath(hash).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<LinkKind> ObjectCache::Place(const std::string& src, const std::string& dest,
                                    bool dest_absent) const {
  std::string tmp = TempPathBeside(dest);
  Status last = Unimplemented("no link kind configured");
  LinkKind used = LinkKind::kCopy;
  for (LinkKind kind : link_order_) {
    std::atomic<bool>* broken = kind == LinkKind::kReflink    ? &reflink_broken_
                                : kind == LinkKind::kHardlink ? &hardlink_broken_
                                                              : nullptr;
    if (broken != nullptr && broken->load()) {
      continue;  // failed on this filesystem before: do not pay for it per file
    }
    used = kind;
    switch (kind) {
      case LinkKind::kReflink:
        last = Reflink(src, tmp);
        break;
      case LinkKind::kHardlink:
        // A new name for a complete inode is atomic by itself: straight to
        // `dest` when nothing is there, else a temporary and a rename over it.
        if (dest_absent && ::link(src.c_str(), dest.c_str()) == 0) {
          return LinkKind::kHardlink;
        }
        last = ::link(src.c_str(), tmp.c_str()) == 0 ? Status::Ok() : ErrnoStatus("link " + tmp);
        break;
      case LinkKind::kCopy:
        last = CopyFile(src, tmp);
        break;
    }
    if (last.ok()) {
      break;
    }
    if (last.code() == StatusCode::kResourceExhausted) {
      return last;  // a full disk will not get better with the next kind
    }
    if (broken != nullptr) {
      *broken = true;
    }
  }
  PLINTH_RETURN_IF_ERROR(last);
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    Status s = ErrnoStatus(dest);
    ::unlink(tmp.c_str());
    return s;
  }
  return used;
}

Result<std::string> ObjectCache::HardlinkFile(const std::string& path, StateCache& state,
                                              const std::function<void(int64_t)>& on_bytes,
                                              const struct stat* known) {
  // Hash through one descriptor, then link the very inode under its hash: no
  // temporary name, no rename, and link() fails rather than overwrite, so an
  // object is either absent or complete. A symlink is not followed: its
  // target's inode is not ours to share (or to make read-only), so it is copied.
  int fd = OpenForReading(path, O_NOFOLLOW);
  if (fd < 0 && errno == ELOOP) {
    return Unimplemented(path + ": a symlink");
  }
  if (fd < 0) {
    return ErrnoStatus(path);
  }
  struct stat before {};
  if (known != nullptr) {
    before = *known;
  } else {
    ::fstat(fd, &before);
  }
  struct stat after {};
  int64_t bytes = 0;
  auto hashed = HashUnchanged(fd, path, before, -1, "", on_bytes, "added", after, bytes);
  if (!hashed.ok()) {
    ::close(fd);
    return hashed.status();
  }
  state.CountHashed(bytes);
  std::string hash = *hashed;
  std::string obj = ObjectPath(hash);
  // Read-only before it gets its second name: objects are never writable.
  mode_t mode = before.st_mode & 07777;
  bool chmodded = mode != 0444 && ::fchmod(fd, 0444) == 0;
  ::close(fd);
  if (::link(path.c_str(), obj.c_str()) != 0) {
    int e = errno;
    if (chmodded) {
      ::chmod(path.c_str(), mode);  // not linked: the workspace file stays as it was
    }
    if (e == EEXIST) {
      // Stored before (an identical file): nothing to do.
    } else if (e == ENOSPC || e == EDQUOT) {
      errno = e;
      return ErrnoStatus("link " + obj);
    } else if (e == EMLINK) {
      return Unimplemented(path + ": too many links");  // a copy will do for this one
    } else {
      hardlink_broken_ = true;  // EXDEV, EPERM, ENOTSUP...: not on this filesystem
      return Unimplemented("link " + obj + ": " + std::strerror(e));
    }
  }
  PLINTH_RETURN_IF_ERROR(state.Remember(path, hash, &after));
  return hash;
}

Result<std::string> ObjectCache::AddFile(const std::string& path, StateCache& state,
                                         const std::function<void(int64_t)>& on_bytes,
                                         const struct stat* known_stat) {
  struct stat st {};
  if (!StatOf(path, known_stat, st)) {
    return ErrnoStatus(path);
  }
  PLINTH_ASSIGN_OR_RETURN(std::string hash, StoreFile(path, state, on_bytes, &st));
  if (st.st_nlink > 1 && !SharesInodes(link_order_)) {
    // Storing never adds a link in this mode: only an old hardlink has two.
    PLINTH_RETURN_IF_ERROR(Unshare(path, hash, st, state).status());
  }
  return hash;
}

Result<bool> ObjectCache::Unshare(const std::string& path, const std::string& hash,
                                  const struct stat& st, StateCache& state) const {
  if (st.st_nlink < 2 || SharesInodes(link_order_)) {
    return false;
  }
  struct stat obj {};
  if (::stat(ObjectPath(hash).c_str(), &obj) != 0 || obj.st_dev != st.st_dev ||
      obj.st_ino != st.st_ino) {
    return false;
  }
  PLINTH_RETURN_IF_ERROR(Place(ObjectPath(hash), path, /*dest_absent=*/false).status());
  PLINTH_RETURN_IF_ERROR(state.Remember(path, hash));
  return true;
}

Result<std::string> ObjectCache::StoreFile(const std::string& path, StateCache& state,
                                           const std::function<void(int64_t)>& on_bytes,
                                           const struct stat* known_stat) {
  if (auto known = state.Lookup(path, known_stat); known && Has(*known)) {
    return *known;
  }
  for (LinkKind kind : link_order_) {
    if (kind == LinkKind::kCopy) {
      break;  // below: one pass that hashes while it copies
    }
    std::atomic<bool>& broken = kind == LinkKind::kReflink ? reflink_broken_ : hardlink_broken_;
    if (broken.load()) {
      continue;
    }
    if (kind == LinkKind::kHardlink) {
      auto linked = HardlinkFile(path, state, on_bytes, known_stat);
      if (linked.ok() || linked.status().code() != StatusCode::kUnimplemented) {
        return linked;
      }
      continue;  // hardlinks do not work here: the next kind
    }
    // Reflink first (instant when it works), hash after: a failed reflink costs no read.
    std::string tmp = TempPathBeside(dir_ + "/sha256/incoming");
    Status s = Reflink(path, tmp);
    if (!s.ok()) {
      if (s.code() == StatusCode::kResourceExhausted) {
        return s;
      }
      broken = true;  // this filesystem does not do it; do not ask again
      continue;
    }
    auto hashed = state.Hash(path, on_bytes, known_stat);
    if (!hashed.ok()) {
      ::unlink(tmp.c_str());
      return hashed.status();
    }
    std::string hash = *hashed;
    std::string obj = ObjectPath(hash);
    if (Has(hash)) {
      ::unlink(tmp.c_str());
      return hash;
    }
    if (::chmod(tmp.c_str(), 0444) != 0 || ::rename(tmp.c_str(), obj.c_str()) != 0) {
      Status err = ErrnoStatus(obj);
      ::unlink(tmp.c_str());
      return err;
    }
    ++objects_written_;
    PLINTH_RETURN_IF_ERROR(state.Remember(obj, hash));
    return hash;
  }
  if (std::find(link_order_.begin(), link_order_.end(), LinkKind::kCopy) == link_order_.end()) {
    return Unimplemented(path +
                         ": no configured link kind works on this filesystem (cache.link "
                         "in .plinth/config.yaml; add copy)");
  }
  // Copy: read once, hash and write a new object, then name it by its hash. The
  // object is unnamed until then (O_TMPFILE, linked under its name: one
  // directory operation, and a crash leaves nothing behind), or where the
  // filesystem cannot, a temporary name renamed.
  struct stat before {};
  if (!StatOf(path, known_stat, before)) {
    return ErrnoStatus(path);
  }
  int in = OpenForReading(path);
  if (in < 0) {
    return ErrnoStatus(path);
  }
  std::string objects = dir_ + "/sha256";
  std::string tmp;  // empty while the object is unnamed
  int out = ::open(objects.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
  if (out < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    tmp = TempPathBeside(objects + "/incoming");
    out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  }
  if (out < 0) {
    Status err = ErrnoStatus(tmp.empty() ? objects : tmp);
    ::close(in);
    return err;
  }
  std::string self = "/proc/self/fd/" + std::to_string(out);  // the unnamed object
  const std::string& name = tmp.empty() ? objects : tmp;      // in errors
  ::posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
  struct stat after {};
  int64_t bytes = 0;
  auto hashed = before.st_size >= kCopyHashingMin
                    ? CopyHashing(in, path, before, out, name, tmp.empty() ? self : tmp, on_bytes,
                                  after, bytes)
                    : HashUnchanged(in, path, before, out, name, on_bytes, "added", after, bytes);
  ::close(in);
  bool stored = false;
  if (hashed.ok()) {
    std::string obj = ObjectPath(*hashed);
    if (tmp.empty()) {
      // EEXIST: already stored (or a race lost to an identical file).
      stored = ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, obj.c_str(), AT_SYMLINK_FOLLOW) == 0;
      if (!stored && errno != EEXIST) {
        hashed = ErrnoStatus(obj);
      }
    } else {
      stored = !Has(*hashed) && ::rename(tmp.c_str(), obj.c_str()) == 0;
    }
  }
  ::close(out);
  if (!tmp.empty() && !stored) {
    ::unlink(tmp.c_str());
  }
  PLINTH_RETURN_IF_ERROR(hashed.status());
  state.CountHashed(bytes);
  std::string hash = *hashed;
  if (stored) {
    ++objects_written_;
    PLINTH_RETURN_IF_ERROR(state.Remember(ObjectPath(hash), hash));
  }
  PLINTH_RETURN_IF_ERROR(state.Remember(path, hash, &after));
  return hash;
}

Result<std::string> ObjectCache::InsertBytes(std::string_view bytes) {
  std::string hash = core::Sha256Hex(bytes);
  if (Has(hash)) {
    return hash;
  }
  std::string obj = ObjectPath(hash);
  PLINTH_RETURN_IF_ERROR(core::AtomicWriteFile(obj, bytes));
  ::chmod(obj.c_str(), 0444);
  return hash;
}

Result<std::string> ObjectCache::ReadBytes(const std::string& hash) const {
  auto bytes = core::ReadFile(ObjectPath(hash));
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return NotFound("object " + hash + " is not in the cache (" + ObjectPath(hash) +
                      "); run plinth pull");
    }
    return bytes.status();
  }
  if (core::Sha256Hex(*bytes) != hash) {
    return Corruption(ObjectPath(hash) +
                      ": cache object is damaged (its content no longer "
                      "hashes to its name); remove it and pull it again");
  }
  return bytes;
}

Status ObjectCache::Verify(const std::string& hash, StateCache& state) const {
  std::string obj = ObjectPath(hash);
  auto got = state.Hash(obj);
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kNotFound) {
      return NotFound("object " + hash + " is not in the cache (" + obj + "); run plinth pull");
    }
    return got.status();
  }
  if (*got != hash) {
    return Corruption(obj + ": cache object is damaged (its content hashes to " +
                      got->substr(0, 12) + "..., not to its name); remove it and pull it again");
  }
  return Status::Ok();
}

Status ObjectCache::Materialize(const std::string& hash, const std::string& dest, StateCache& state,
                                bool dest_absent) const {
  PLINTH_RETURN_IF_ERROR(Verify(hash, state));
  std::error_code ec;
  if (!dest_absent && fs::is_directory(fs::symlink_status(dest, ec))) {
    fs::remove_all(dest, ec);  // a directory where the file belongs
  }
  auto placed = Place(ObjectPath(hash), dest, dest_absent);
  if (!placed.ok() && dest_absent && fs::is_directory(fs::symlink_status(dest, ec))) {
    fs::remove_all(dest, ec);  // not absent after all: a directory where the file belongs
    placed = Place(ObjectPath(hash), dest, false);
  }
  PLINTH_ASSIGN_OR_RETURN(LinkKind kind, std::move(placed));
  if (kind == LinkKind::kHardlink) {
    return Status::Ok();  // the object's own inode: Verify remembered it
  }
  return state.Remember(dest, hash);
}

Result<std::vector<std::string>> ObjectCache::List() const {
  std::vector<std::string> out;
  std::error_code ec;
  fs::path root = fs::path(dir_) / "sha256";
  if (!fs::exists(root, ec)) {
    return out;
  }
  for (const auto& sub : fs::directory_iterator(root, ec)) {
    std::string prefix = sub.path().filename().string();
    if (prefix.size() != 2 || !sub.is_directory()) {
      continue;
    }
    for (const auto& f : fs::directory_iterator(sub.path(), ec)) {
      std::string h = prefix + f.path().filename().string();
      if (IsHash(h)) {
        out.push_back(h);
      }
    }
  }
  if (ec) {
    return IoError(root.string() + ": " + ec.message());
  }
  return out;
}

Status ObjectCache::Remove(const std::string& hash) const {
  std::string obj = ObjectPath(hash);
  if (::unlink(obj.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(obj);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Manifests and pointers

std::string SerializeManifest(const std::vector<ManifestEntry>& entries) {
  // By hand (a manifest can list millions of files), in the exact form of a
  // compact JSON dump: [{"path":"...","hash":"...","size":N},...].
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "[";
  out.reserve(entries.size() * 120 + 2);
  for (size_t i = 0; i < entries.size(); ++i) {
    const ManifestEntry& e = entries[i];
    out += i ? ",{\"path\":\"" : "{\"path\":\"";
    for (unsigned char c : e.path) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    out += "\",\"hash\":\"";
    out += e.hash;
    out += "\",\"size\":";
    out += std::to_string(e.size);
    out += "}";
  }
  out += "]";
  return out;
}

namespace {

// One entry of a directory manifest, its members typed; `where` names it.
Result<ManifestEntry> ReadManifestEntry(const core::Json& e, std::string where) {
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields f, core::JsonFields::Of(e, std::move(where)));
  ManifestEntry out;
  PLINTH_ASSIGN_OR_RETURN(out.path, f.String("path"));
  PLINTH_ASSIGN_OR_RETURN(out.hash, f.String("hash"));
  PLINTH_ASSIGN_OR_RETURN(out.size, f.Int("size"));
  return out;
}

}  // namespace

Result<std::vector<ManifestEntry>> ParseManifest(std::string_view bytes, std::string_view source) {
  PLINTH_ASSIGN_OR_RETURN(core::Json j, core::ParseJson(bytes, source));
  if (!j.is_array()) {
    return Corruption(std::string(source) + ": a directory manifest must be a JSON array");
  }
  std::vector<ManifestEntry> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    Result<ManifestEntry> entry =
        ReadManifestEntry(j[i], std::string(source) + ": entry " + std::to_string(i));
    if (!entry.ok()) {
      return Corruption(entry.status().message());
    }
    out.push_back(*std::move(entry));
    if (!IsHash(out.back().hash)) {
      return Corruption(std::string(source) + ": entry " + out.back().path + ": bad hash");
    }
    // A checkout writes each path below the tracked directory: nothing may escape it.
    const std::string& path = out.back().path;
    bool escapes = path.empty() || path[0] == '/';
    for (size_t start = 0; !escapes && start <= path.size();) {
      size_t slash = path.find('/', start);
      std::string_view part(path.data() + start,
                            (slash == std::string::npos ? path.size() : slash) - start);
      escapes = part.empty() || part == "." || part == "..";
      if (slash == std::string::npos) {
        break;
      }
      start = slash + 1;
    }
    if (escapes) {
      return Corruption(std::string(source) + ": entry \"" + path +
                        "\" leaves its directory; the manifest is not Plinth's");
    }
  }
  return out;
}

Result<Pointer> ParsePointer(std::string_view text, const std::string& source) {
  PLINTH_ASSIGN_OR_RETURN(YAML::Node node, core::ParseYaml(text, source));
  if (!node.IsMap()) {
    return InvalidArgument(source + ": expected a Plinth pointer (path, hash, size, nfiles, kind)");
  }
  Pointer p;
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    std::string where = core::YamlWhere(kv.first, source);
    if (key == "path") {
      PLINTH_ASSIGN_OR_RETURN(p.path, core::YamlAs<std::string>(kv.second, where, key, "a path"));
    } else if (key == "hash") {
      PLINTH_ASSIGN_OR_RETURN(p.hash, core::YamlAs<std::string>(kv.second, where, key, "a hash"));
      if (!IsHash(p.hash)) {
        return InvalidArgument(where + ": key 'hash': expected 64 lowercase hex digits (SHA-256)");
      }
    } else if (key == "size") {
      PLINTH_ASSIGN_OR_RETURN(p.size, core::YamlAs<int64_t>(kv.second, where, key, "bytes"));
    } else if (key == "nfiles") {
      PLINTH_ASSIGN_OR_RETURN(p.nfiles, core::YamlAs<int64_t>(kv.second, where, key, "a count"));
    } else if (key == "kind") {
      PLINTH_ASSIGN_OR_RETURN(std::string k,
                              core::YamlAs<std::string>(kv.second, where, key, "file or dir"));
      if (k != "file" && k != "dir") {
        return InvalidArgument(where + ": key 'kind': expected file or dir, got \"" + k + "\"");
      }
      p.kind = k == "dir" ? PointerKind::kDir : PointerKind::kFile;
    } else {
      return InvalidArgument(where + ": unknown key '" + key +
                             "' (expected path, hash, size, nfiles, kind)");
    }
  }
  for (const char* key : {"path", "hash"}) {
    if (!node[key]) {
      return InvalidArgument(source + ": missing key '" + key + "'");
    }
  }
  if (p.path.empty() || p.path.find('/') != std::string::npos || p.path == "." || p.path == "..") {
    return InvalidArgument(source + ": key 'path': expected a name in the pointer's directory");
  }
  return p;
}

Result<Pointer> ReadPointer(const std::string& file) {
  PLINTH_ASSIGN_OR_RETURN(std::string text, core::ReadFile(file));
  return ParsePointer(text, file);
}

Status WritePointer(const std::string& file, const Pointer& p) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "path" << YAML::Value << p.path << YAML::Key << "hash"
      << YAML::Value << p.hash << YAML::Key << "size" << YAML::Value << p.size << YAML::Key
      << "nfiles" << YAML::Value << p.nfiles << YAML::Key << "kind" << YAML::Value
      << (p.kind == PointerKind::kDir ? "dir" : "file") << YAML::EndMap;
  return core::AtomicWriteFile(
      file,
      "# Plinth data pointer: commit this file to git. The data itself is git-ignored;\n"
      "# 'plinth checkout' restores it from the cache, 'plinth pull' from a remote.\n" +
          std::string(out.c_str()) + "\n");
}

}  // namespace plinth::data
