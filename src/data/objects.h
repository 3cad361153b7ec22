// The content-addressed cache and the small formats around it.
//
// ObjectCache stores each distinct content once, at
// <cache>/sha256/<first 2 hex>/<remaining 62 hex>, read-only. Objects appear
// only by rename of a complete temporary file, so a crash never leaves a partial
// object under a real name. Workspace files are made from objects by reflink,
// hardlink or copy, in the configured order (a hardlinked workspace file shares
// the object's read-only inode: edit by replacing the file, not in place; by
// default hardlinks are not in the order, and Unshare undoes old ones).
//
// StateCache remembers what each file hashed to, keyed by (device, inode) and
// stamped with (mtime, size), so unchanged files are never hashed twice. It is
// loaded from and saved to the store's data_state table. Thread-safe.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "data/project.h"
#include "store/database.h"

namespace plinth::core {
class Sha256;
}  // namespace plinth::core

namespace plinth::data {

// True for 64 lowercase hex digits.
bool IsHash(std::string_view s);

// A temporary name in `dest`'s directory (".NAME.plinth-tmp-RANDOM") for
// writing before the rename: hidden, never mistaken for an object, and removed
// by plinth gc once stale.
std::string TempPathBeside(const std::string& dest);

// Creates `root`/sha256/00 ... ff once, so writing an object never needs to
// create its directory. Cheap when they exist.
Status EnsureObjectDirs(const std::string& root);

// Reads `in` to its end in 1 MiB blocks, feeding each block to `sha` (when not
// null) and writing it to `out` (when >= 0). Errors name `in_name` or
// `out_name`; a full disk is kResourceExhausted. Returns the bytes read;
// `on_bytes` hears of each block. With `expected` >= 0 it stops after that many
// bytes, saving the read that would find the end (callers compare the size
// after). The one read/hash/write loop of the module.
Result<int64_t> PumpHashing(int in, const std::string& in_name, int out,
                            const std::string& out_name, core::Sha256* sha,
                            const std::function<void(int64_t)>& on_bytes = nullptr,
                            int64_t expected = -1);

// Flushes the filesystem holding `dir` to disk (syncfs): one call at the end
// of a transfer instead of an fsync per object.
Status SyncFilesystem(const std::string& dir);
// How many times SyncFilesystem was called in this process (for tests).
int64_t SyncFilesystemCalls();

class StateCache {
 public:
  // Loads every remembered stamp from `db`.
  static Result<std::unique_ptr<StateCache>> Load(store::Database& db);

  // The SHA-256 of the regular file at `path`: remembered when its stamp is
  // unchanged, else read and hashed (and remembered). `on_bytes` is told of
  // bytes as they are hashed. Errors name the path.
  // `known`, when given, is a fresh stat of `path` (saves one system call).
  Result<std::string> Hash(const std::string& path,
                           const std::function<void(int64_t)>& on_bytes = nullptr,
                           const struct stat* known = nullptr);

  // The remembered hash of `path` when its stamp is unchanged, without reading it.
  std::optional<std::string> Lookup(const std::string& path, const struct stat* known = nullptr);

  // Records that the file at `path` holds `hash` (after writing it ourselves).
  // `known`, when given, is a fresh stat of `path`.
  Status Remember(const std::string& path, const std::string& hash,
                  const struct stat* known = nullptr);

  // Counts a file read and hashed outside Hash() (by ObjectCache::AddFile).
  void CountHashed(int64_t bytes) {
    ++files_hashed_;
    bytes_hashed_ += bytes;
  }

  // Writes what changed since Load() to `db`, in one transaction.
  Status Save(store::Database& db);

  // Files actually read and hashed since Load() (not answered from the state).
  int64_t files_hashed() const { return files_hashed_.load(); }
  int64_t bytes_hashed() const { return bytes_hashed_.load(); }

 private:
  struct Key {
    uint64_t dev, inode;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.inode * 31 + k.dev); }
  };
  struct Entry {
    int64_t mtime_ns = 0, size = 0;
    std::string hash;
    bool dirty = false;  // changed since Load() or the last Save()
  };
  void SetLocked(const Key& key, Entry entry) PLINTH_REQUIRES(mu_);
  core::Mutex mu_;
  std::unordered_map<Key, Entry, KeyHash> entries_ PLINTH_GUARDED_BY(mu_);
  std::vector<Key> dirty_ PLINTH_GUARDED_BY(mu_);
  std::atomic<int64_t> files_hashed_{0};
  std::atomic<int64_t> bytes_hashed_{0};
};

class ObjectCache {
 public:
  ObjectCache(std::string dir, std::vector<LinkKind> link_order)
      : dir_(std::move(dir)), link_order_(std::move(link_order)) {}

  const std::string& dir() const { return dir_; }
  // Objects written by copy or reflink so far: their bytes are not synced to
  // disk until the caller calls SyncFilesystem (once, for many).
  int64_t objects_written() const { return objects_written_.load(); }
  // Where the object `hash` lives (whether or not it exists).
  std::string ObjectPath(const std::string& hash) const;
  bool Has(const std::string& hash) const;

  // Stores the workspace file at `path` and returns its hash. A file whose stamp
  // the state knows and whose object exists costs no I/O. Otherwise the object
  // is made by the first link kind that works; for a copy, the file is read
  // once: hashed while it is written, or, from 8 MiB up, copied by the kernel
  // while a second thread hashes the copy. `on_bytes` is told of progress. A
  // file still hardlinked to its object under an order without hardlinks is
  // then given a private copy (Unshare).
  Result<std::string> AddFile(const std::string& path, StateCache& state,
                              const std::function<void(int64_t)>& on_bytes = nullptr,
                              const struct stat* known = nullptr);

  // Stores `bytes` as an object; returns its hash.
  Result<std::string> InsertBytes(std::string_view bytes);
  // The bytes of object `hash`, verified. kNotFound if absent, kCorruption if damaged.
  Result<std::string> ReadBytes(const std::string& hash) const;

  // Makes `dest` hold object `hash` (link or copy, atomically replacing `dest`).
  // The object is verified first (through `state`): a damaged object is
  // kCorruption naming its path, never checked out. `dest`'s directory exists;
  // `dest_absent` says nothing is at `dest` (saves checks and a rename).
  Status Materialize(const std::string& hash, const std::string& dest, StateCache& state,
                     bool dest_absent = false) const;

  // When the link order does not share inodes and the file at `path` (`st`, a
  // fresh stat of it) is the very inode of object `hash` (a hardlink made when
  // that was the default), replaces it by a private writable copy (reflink or
  // copy, then a rename) and tells `state` that the copy holds `hash`. Reads no
  // byte to hash: the caller knows that `path` holds `hash` (from the state's
  // stamp or a hash), and one inode has one content. Returns whether it did.
  Result<bool> Unshare(const std::string& path, const std::string& hash, const struct stat& st,
                       StateCache& state) const;

  // Re-hashes object `hash` (through `state`); kCorruption naming the path if it differs.
  Status Verify(const std::string& hash, StateCache& state) const;

  // Every object hash in the cache.
  Result<std::vector<std::string>> List() const;
  // Deletes object `hash` (and is quiet if it is already gone).
  Status Remove(const std::string& hash) const;

 private:
  // Creates `dest` from `src` with the first link kind that works (a temporary
  // name and a rename, or a direct hardlink when `dest_absent`); returns the kind.
  Result<LinkKind> Place(const std::string& src, const std::string& dest, bool dest_absent) const;
  // AddFile without Unshare.
  Result<std::string> StoreFile(const std::string& path, StateCache& state,
                                const std::function<void(int64_t)>& on_bytes,
                                const struct stat* known);
  // AddFile by hardlink: kUnimplemented when this file cannot be hardlinked.
  Result<std::string> HardlinkFile(const std::string& path, StateCache& state,
                                   const std::function<void(int64_t)>& on_bytes,
                                   const struct stat* known);

  std::string dir_;
  std::vector<LinkKind> link_order_;
  // Objects this cache wrote (copies and reflinks, not yet synced to disk).
  std::atomic<int64_t> objects_written_{0};
  // Set when a link kind failed on this filesystem, so it is not tried per file.
  mutable std::atomic<bool> reflink_broken_{false};
  mutable std::atomic<bool> hardlink_broken_{false};
};

// A directory's content: one entry per regular file, sorted by path.
struct ManifestEntry {
  std::string path;  // relative to the directory, '/'-separated
  std::string hash;
  int64_t size = 0;
  bool operator==(const ManifestEntry&) const = default;
};

// Canonical JSON (sorted, compact) so equal directories give equal hashes.
std::string SerializeManifest(const std::vector<ManifestEntry>& entries);
Result<std::vector<ManifestEntry>> ParseManifest(std::string_view bytes, std::string_view source);

enum class PointerKind { kFile, kDir };

// PATH.plinth: what a tracked file or directory should hold.
struct Pointer {
  std::string path;  // the data's name, relative to the pointer's directory
  std::string hash;  // the file's hash, or the directory manifest's hash
  int64_t size = 0;
  int64_t nfiles = 1;
  PointerKind kind = PointerKind::kFile;
  bool operator==(const Pointer&) const = default;
};

// Reads a pointer file; errors name the file, line and key.
Result<Pointer> ReadPointer(const std::string& file);
Result<Pointer> ParsePointer(std::string_view text, const std::string& source);
// Writes a pointer file atomically.
Status WritePointer(const std::string& file, const Pointer& p);

}  // namespace plinth::data
