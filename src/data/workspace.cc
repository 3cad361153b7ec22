#include "data/workspace.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>

#include "core/clock.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/logging.h"
#include "core/process.h"
#include "core/progress.h"
#include "core/thread_pool.h"

namespace plinth::data {
namespace fs = std::filesystem;

namespace {

struct FileItem {
  std::string rel;  // relative to the scanned directory
  std::string abs;
  int64_t size = 0;
  struct stat st {};  // taken by the scan, reused by the state lookup
};

// What one directory holds: its files (stat taken), subdirectories and temporaries.
struct DirListing {
  std::vector<FileItem> files;
  std::vector<std::string> subdirs;  // relative to the scanned root
  std::vector<std::string> temps;    // absolute
};

// Lists one directory with readdir and fstatat relative to its descriptor
// (no path walk per file; d_type saves a stat for subdirectories).
Status ListOneDir(const std::string& root, const std::string& rel, DirListing& out) {
  std::string path = rel.empty() ? root : root + "/" + rel;
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return IoError(path + ": " + std::strerror(errno));
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    Status s = IoError(path + ": " + std::strerror(errno));
    ::close(fd);
    return s;
  }
  struct Closer {
    DIR* d;
    ~Closer() { ::closedir(d); }
  } closer{d};
  while (true) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) {
        return IoError(path + ": " + std::strerror(errno));
      }
      return Status::Ok();
    }
    std::string_view name(e->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    std::string child_rel = rel.empty() ? std::string(name) : rel + "/" + std::string(name);
    std::string child_abs = root + "/" + child_rel;
    if (name.find(".plinth-tmp-") != std::string_view::npos) {
      out.temps.push_back(std::move(child_abs));
      continue;
    }
    unsigned char type = e->d_type;
    struct stat st {};
    if (type == DT_UNKNOWN) {
      if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return IoError(child_abs + ": " + std::strerror(errno));
      }
      type = S_ISDIR(st.st_mode)   ? DT_DIR
             : S_ISLNK(st.st_mode) ? DT_LNK
             : S_ISREG(st.st_mode) ? DT_REG
                                   : DT_FIFO;
    }
    if (type == DT_DIR) {
      out.subdirs.push_back(std::move(child_rel));
      continue;
    }
    bool is_link = type == DT_LNK;
    if (::fstatat(fd, e->d_name, &st, 0) != 0) {
      if (is_link && errno == ENOENT) {
        return InvalidArgument(child_abs + ": not a regular file (a broken symlink)");
      }
      return IoError(child_abs + ": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
      return InvalidArgument(child_abs +
                             ": a symlink to a directory; Plinth versions symlinks to files "
                             "only (a linked directory could loop)");
    }
    if (!S_ISREG(st.st_mode)) {
      return InvalidArgument(child_abs + ": not a regular file (a device, socket or pipe)");
    }
    FileItem item;
    item.rel = std::move(child_rel);
    item.abs = std::move(child_abs);
    item.size = static_cast<int64_t>(st.st_size);
    item.st = st;
    out.files.push_back(std::move(item));
  }
}

// Every regular file below `dir`, sorted by relative path, listed level by
// level with the directories of a level spread over `pool`. Symlinks to files
// count as files; a symlink to a directory is an error naming it. Temporary
// files of an interrupted run are not data: they are left out, and listed in
// `temps` when given (a checkout removes them).
Result<std::vector<FileItem>> ScanDir(const std::string& dir, core::ThreadPool& pool,
                                      std::vector<std::string>* temps = nullptr) {
  core::PhaseTimer timer("scan " + dir);
  std::vector<FileItem> out;
  std::vector<std::string> level = {""};
  while (!level.empty()) {
    std::vector<DirListing> listings(level.size());
    PLINTH_RETURN_IF_ERROR(core::ParallelFor(
        pool, level.size(), [&](size_t i) { return ListOneDir(dir, level[i], listings[i]); }));
    std::vector<std::string> next;
    for (auto& l : listings) {
      std::move(l.files.begin(), l.files.end(), std::back_inserter(out));
      std::move(l.subdirs.begin(), l.subdirs.end(), std::back_inserter(next));
      if (temps != nullptr) {
        std::move(l.temps.begin(), l.temps.end(), std::back_inserter(*temps));
      }
    }
    level = std::move(next);
  }
  std::sort(out.begin(), out.end(),
            [](const FileItem& a, const FileItem& b) { return a.rel < b.rel; });
  return out;
}

Result<std::vector<std::string>> HashAll(const std::vector<FileItem>& items, StateCache& state,
                                         core::ThreadPool& pool, core::Progress* progress) {
  std::vector<std::string> hashes(items.size());
  std::atomic<int64_t> done_bytes{0};
  auto on_bytes = [&](int64_t n) {
    int64_t total = done_bytes += n;
    if (progress) {
      progress->Update(total);
    }
  };
  PLINTH_RETURN_IF_ERROR(core::ParallelFor(pool, items.size(), [&](size_t i) -> Status {
    PLINTH_ASSIGN_OR_RETURN(hashes[i], state.Hash(items[i].abs, on_bytes, &items[i].st));
    return Status::Ok();
  }));
  return hashes;
}

std::vector<ManifestEntry> BuildManifest(const std::vector<FileItem>& items,
                                         const std::vector<std::string>& hashes) {
  std::vector<ManifestEntry> m;
  m.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    m.push_back({items[i].rel, hashes[i], items[i].size});
  }
  return m;
}

Status AddToGitignore(const std::string& dir, const std::string& name) {
  std::string path = dir + "/.gitignore";
  std::string text;
  auto existing = core::ReadFile(path);
  if (existing.ok()) {
    text = *existing;
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }
  std::string line = "/" + name;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view l(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    if (l == line) {
      return Status::Ok();
    }
    if (nl == std::string::npos) {
      break;
    }
    pos = nl + 1;
  }
  if (!text.empty() && text.back() != '\n') {
    text.push_back('\n');
  }
  text += line + "\n";
  return core::AtomicWriteFile(path, text);
}

// True when both paths name one inode (a workspace file hardlinked to an object).
bool SharesInode(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

std::string Parent(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

std::string Base(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

}  // namespace

std::string DataPathOf(const std::string& pointer_rel, const Pointer& p) {
  std::string parent = Parent(pointer_rel);
  return parent.empty() ? p.path : parent + "/" + p.path;
}

std::string GitLine(const Project& project, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = core::RunProcess(argv, project.root());
  if (!r.ok() || r->exit_code != 0) {
    return "";
  }
  return r->out.substr(0, r->out.find_first_of("\r\n"));
}

struct DataSession::Impl {
  store::Database* db;
  std::unique_ptr<StateCache> state;
  ObjectCache cache;
  core::ThreadPool pool;
  bool progress;
  int64_t objects_synced = 0;  // cache.objects_written() at the last sync
};

DataSession::DataSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DataSession::~DataSession() = default;
ObjectCache& DataSession::cache() { return impl_->cache; }
StateCache& DataSession::state() { return *impl_->state; }
store::Database& DataSession::db() { return *impl_->db; }
core::ThreadPool& DataSession::pool() { return impl_->pool; }
Status DataSession::Save() {
  core::PhaseTimer timer("save state");
  return impl_->state->Save(*impl_->db);
}

Result<std::unique_ptr<DataSession>> DataSession::Open(Project& project,
                                                       const WorkOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(store::Database * db, project.Store());
  core::PhaseTimer timer("open data session");
  PLINTH_ASSIGN_OR_RETURN(auto state, StateCache::Load(*db));
  PLINTH_RETURN_IF_ERROR(EnsureObjectDirs(project.config().cache_dir));
  auto impl = std::unique_ptr<Impl>(new Impl{
      db, std::move(state), ObjectCache(project.config().cache_dir, project.config().link_order),
      core::ThreadPool(options.threads), options.progress});
  return std::unique_ptr<DataSession>(new DataSession(std::move(impl)));
}

Result<Pointer> DataSession::Hash(const std::string& abs, std::vector<ManifestEntry>* manifest) {
  std::error_code ec;
  fs::file_status st = fs::status(abs, ec);
  if (!fs::exists(st)) {
    return NotFound(abs + ": no such file or directory");
  }
  Pointer p;
  p.path = Base(abs);
  if (!fs::is_directory(st)) {
    struct stat sb {};
    if (::stat(abs.c_str(), &sb) != 0) {
      return IoError(abs + ": " + std::strerror(errno));
    }
    PLINTH_ASSIGN_OR_RETURN(p.hash, impl_->state->Hash(abs, nullptr, &sb));
    p.size = sb.st_size;
    return p;
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<ManifestEntry> files, ListFiles(abs));
  for (const auto& f : files) {
    p.size += f.size;
  }
  p.kind = PointerKind::kDir;
  p.nfiles = static_cast<int64_t>(files.size());
  p.hash = core::Sha256Hex(SerializeManifest(files));
  if (manifest != nullptr) {
    *manifest = std::move(files);
  }
  return p;
}

Result<std::vector<ManifestEntry>> DataSession::ListFiles(const std::string& abs) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<FileItem> items, ScanDir(abs, impl_->pool));
  PLINTH_ASSIGN_OR_RETURN(auto hashes, HashAll(items, *impl_->state, impl_->pool, nullptr));
  return BuildManifest(items, hashes);
}

Result<Pointer> DataSession::Store(const std::string& abs, bool show_progress) {
  PLINTH_ASSIGN_OR_RETURN(Pointer p, StoreUnsynced(abs, show_progress));
  if (impl_->cache.objects_written() > impl_->objects_synced) {
    // The new objects reach the disk before anything (a pointer file, a lock
    // entry) names them: after a power loss a pointer never names an object
    // whose bytes were lost, while the workspace file may be edited already.
    impl_->objects_synced = impl_->cache.objects_written();
    PLINTH_RETURN_IF_ERROR(SyncFilesystem(impl_->cache.dir()));
  }
  return p;
}

Result<Pointer> DataSession::StoreUnsynced(const std::string& abs, bool show_progress) {
  std::error_code ec;
  fs::file_status st = fs::status(abs, ec);
  if (!fs::exists(st)) {
    return NotFound(abs + ": no such file or directory");
  }
  bool is_dir = fs::is_directory(st);
  if (is_dir && fs::is_symlink(fs::symlink_status(abs, ec))) {
    return InvalidArgument(abs + ": a symlink to a directory; add the directory itself");
  }
  if (!is_dir && !fs::is_regular_file(st)) {
    return InvalidArgument(abs + ": not a regular file or directory");
  }
  Pointer p;
  p.path = Base(abs);
  std::atomic<int64_t> done{0};
  if (is_dir) {
    PLINTH_ASSIGN_OR_RETURN(std::vector<FileItem> items, ScanDir(abs, impl_->pool));
    for (const auto& it : items) {
      p.size += it.size;
    }
    core::Progress progress("adding " + p.path, p.size, show_progress && impl_->progress);
    core::PhaseTimer timer("store files of " + abs);
    std::vector<std::string> hashes(items.size());
    PLINTH_RETURN_IF_ERROR(core::ParallelFor(impl_->pool, items.size(), [&](size_t i) -> Status {
      PLINTH_ASSIGN_OR_RETURN(hashes[i],
                              impl_->cache.AddFile(
                                  items[i].abs, *impl_->state,
                                  [&](int64_t n) { progress.Update(done += n); }, &items[i].st));
      return Status::Ok();
    }));
    progress.Finish();
    PLINTH_ASSIGN_OR_RETURN(
        p.hash, impl_->cache.InsertBytes(SerializeManifest(BuildManifest(items, hashes))));
    p.kind = PointerKind::kDir;
    p.nfiles = static_cast<int64_t>(items.size());
    return p;
  }
  struct stat sb {};
  ::stat(abs.c_str(), &sb);
  p.size = sb.st_size;
  core::Progress progress("adding " + p.path, p.size, show_progress && impl_->progress);
  PLINTH_ASSIGN_OR_RETURN(p.hash, impl_->cache.AddFile(abs, *impl_->state, [&](int64_t n) {
    progress.Update(done += n);
  }));
  progress.Finish();
  return p;
}

bool DataSession::Cached(const Pointer& p) {
  if (!impl_->cache.Has(p.hash)) {
    return false;
  }
  if (p.kind == PointerKind::kFile) {
    return true;
  }
  auto bytes = impl_->cache.ReadBytes(p.hash);
  if (!bytes.ok()) {
    return false;
  }
  auto entries = ParseManifest(*bytes, p.hash);
  if (!entries.ok()) {
    return false;
  }
  for (const auto& e : *entries) {
    if (!impl_->cache.Has(e.hash)) {
      return false;
    }
  }
  return true;
}

Result<std::pair<int64_t, int64_t>> DataSession::Restore(const Pointer& p, const std::string& abs) {
  std::error_code ec;
  std::atomic<int64_t> written{0};
  int64_t removed = 0;
  if (p.kind == PointerKind::kFile) {
    // A temporary beside the file, left by an interrupted checkout, goes first.
    std::string stale = "." + Base(abs) + ".plinth-tmp-";
    for (const auto& e : fs::directory_iterator(fs::path(abs).parent_path(), ec)) {
      if (e.path().filename().string().rfind(stale, 0) == 0) {
        fs::remove(e.path(), ec);
      }
    }
    struct stat st {};
    if (::stat(abs.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      auto cur = impl_->state->Hash(abs, nullptr, &st);
      if (cur.ok() && *cur == p.hash) {
        PLINTH_ASSIGN_OR_RETURN(bool unshared,
                                impl_->cache.Unshare(abs, p.hash, st, *impl_->state));
        return std::make_pair(int64_t{unshared ? 1 : 0}, int64_t{0});
      }
    }
    fs::create_directories(fs::path(abs).parent_path(), ec);
    PLINTH_RETURN_IF_ERROR(impl_->cache.Materialize(p.hash, abs, *impl_->state));
    return std::make_pair(int64_t{1}, int64_t{0});
  }
  PLINTH_ASSIGN_OR_RETURN(std::string bytes, impl_->cache.ReadBytes(p.hash));
  PLINTH_ASSIGN_OR_RETURN(auto manifest, ParseManifest(bytes, impl_->cache.ObjectPath(p.hash)));
  if (fs::exists(abs, ec) && !fs::is_directory(abs, ec)) {
    fs::remove(abs, ec);
  }
  fs::create_directories(abs, ec);
  std::vector<std::string> temps;
  PLINTH_ASSIGN_OR_RETURN(std::vector<FileItem> existing, ScanDir(abs, impl_->pool, &temps));
  for (const auto& t : temps) {
    fs::remove(t, ec);  // left by an interrupted checkout or pull
  }
  std::set<std::string> wanted;
  std::set<std::string> parents;
  for (const auto& m : manifest) {
    wanted.insert(m.path);
    parents.insert(Parent(m.path));
  }
  std::unordered_map<std::string, const FileItem*> present;
  for (const auto& it : existing) {
    if (wanted.count(it.rel) == 0) {
      fs::remove(it.abs, ec);
      ++removed;
    } else {
      present[it.rel] = &it;
    }
  }
  for (const auto& dir : parents) {  // once per directory, not per file
    if (!dir.empty()) {
      fs::create_directories(abs + "/" + dir, ec);
    }
  }
  // Threads creating names in one directory queue on its lock; so the work is
  // cut into runs of one directory's files, handed out round-robin across
  // directories, so that the two threads mostly write to different ones.
  std::vector<std::vector<std::pair<size_t, size_t>>> by_dir;  // runs [begin, end) per directory
  constexpr size_t kRun = 64;
  for (size_t i = 0; i < manifest.size(); ++i) {  // sorted: a directory's files are adjacent
    bool new_dir = i == 0 || Parent(manifest[i].path) != Parent(manifest[i - 1].path);
    if (new_dir) {
      by_dir.emplace_back();
    }
    auto& dir_runs = by_dir.back();
    if (new_dir || i - dir_runs.back().first == kRun) {
      dir_runs.emplace_back(i, i);
    }
    dir_runs.back().second = i + 1;
  }
  std::vector<std::pair<size_t, size_t>> runs;  // round-robin over the directories
  for (size_t k = 0;; ++k) {
    size_t before = runs.size();
    for (const auto& d : by_dir) {
      if (k < d.size()) {
        runs.push_back(d[k]);
      }
    }
    if (runs.size() == before) {
      break;
    }
  }
  auto one = [&](size_t i) -> Status {
    std::string target = abs + "/" + manifest[i].path;
    auto have = present.find(manifest[i].path);
    if (have != present.end()) {
      auto cur = impl_->state->Hash(target, nullptr, &have->second->st);
      if (cur.ok() && *cur == manifest[i].hash) {
        PLINTH_ASSIGN_OR_RETURN(
            bool unshared,
            impl_->cache.Unshare(target, manifest[i].hash, have->second->st, *impl_->state));
        written += unshared ? 1 : 0;
        return Status::Ok();
      }
    }
    PLINTH_RETURN_IF_ERROR(impl_->cache.Materialize(manifest[i].hash, target, *impl_->state,
                                                    /*dest_absent=*/have == present.end()));
    ++written;
    return Status::Ok();
  };
  PLINTH_RETURN_IF_ERROR(core::ParallelFor(impl_->pool, runs.size(), [&](size_t r) -> Status {
    for (size_t i = runs[r].first; i < runs[r].second; ++i) {
      PLINTH_RETURN_IF_ERROR(one(i));
    }
    return Status::Ok();
  }));
  return std::make_pair(written.load(), removed);
}

Result<std::vector<std::string>> FindPointerFiles(const Project& project) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(project.root(), fs::directory_options::none, ec), end;
  if (ec) {
    return IoError(project.root() + ": " + ec.message());
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      return IoError(project.root() + ": " + ec.message());
    }
    const auto& e = *it;
    std::string name = e.path().filename().string();
    if (e.is_directory(ec)) {
      // Not into .git, .plinth, or tracked directories (their pointer sits beside them).
      if (name == ".git" || name == ".plinth" || e.is_symlink(ec) ||
          fs::exists(e.path().string() + ".plinth", ec)) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".plinth") == 0 &&
        e.is_regular_file(ec)) {
      out.push_back(e.path().lexically_relative(project.root()).generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<AddResult> Add(Project& project, const std::vector<std::string>& paths,
                      const WorkOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(auto session, DataSession::Open(project, options));
  AddResult result;
  std::string git_commit = GitHead(project);
  for (const auto& path : paths) {
    PLINTH_ASSIGN_OR_RETURN(std::string rel, project.Relative(path));
    if (rel.size() > 7 && rel.compare(rel.size() - 7, 7, ".plinth") == 0) {
      return InvalidArgument(path + ": is a pointer file; add the data it points to");
    }
    std::string abs = project.Absolute(rel);
    std::error_code ec;
    if (!fs::exists(abs, ec)) {
      return NotFound(path + ": no such file or directory");
    }
    auto stored = session->Store(abs, true);
    if (!stored.ok()) {
      return stored.status();
    }
    const Pointer& p = *stored;
    PLINTH_RETURN_IF_ERROR(WritePointer(abs + ".plinth", p));
    PLINTH_RETURN_IF_ERROR(AddToGitignore(fs::path(abs).parent_path().string(), p.path));
    store::Value args[] = {p.hash,
                           rel,
                           std::string(p.kind == PointerKind::kDir ? "dir" : "file"),
                           p.size,
                           p.nfiles,
                           core::FormatIsoMicros(core::SystemClock().NowMicros()),
                           git_commit.empty() ? store::Value() : store::Value(git_commit)};
    PLINTH_RETURN_IF_ERROR(session->db().Exec(
        "INSERT INTO data_versions (hash, path, kind, size, nfiles, created, git_commit) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        args));
    result.added.push_back({rel + ".plinth", p, session->db().LastInsertId()});
  }
  PLINTH_RETURN_IF_ERROR(session->Save());
  result.files_hashed = session->state().files_hashed();
  result.bytes_hashed = session->state().bytes_hashed();
  return result;
}

Result<int64_t> Unprotect(Project& project, const std::vector<std::string>& paths,
                          const WorkOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(auto session, DataSession::Open(project, options));
  std::atomic<int64_t> count{0};
  mode_t mask = ::umask(0);  // read once, before any thread creates files
  ::umask(mask);
  for (const auto& path : paths) {
    PLINTH_ASSIGN_OR_RETURN(std::string rel, project.Relative(path));
    std::string abs = project.Absolute(rel);
    struct stat st {};
    if (::lstat(abs.c_str(), &st) != 0) {
      return NotFound(path + ": no such file or directory");
    }
    std::vector<FileItem> items;
    if (S_ISDIR(st.st_mode)) {
      PLINTH_ASSIGN_OR_RETURN(items, ScanDir(abs, session->pool()));
    } else {
      FileItem one;
      one.abs = abs;
      one.st = st;
      items.push_back(std::move(one));
    }
    PLINTH_RETURN_IF_ERROR(
        core::ParallelFor(session->pool(), items.size(), [&](size_t i) -> Status {
          const FileItem& it = items[i];
          if (!S_ISREG(it.st.st_mode) || it.st.st_nlink < 2) {
            return Status::Ok();  // not shared with the cache: already private
          }
          auto known = session->state().Lookup(it.abs, &it.st);
          std::string tmp = TempPathBeside(it.abs);
          std::error_code ec;
          fs::copy_file(it.abs, tmp, ec);
          if (ec) {
            fs::remove(tmp, ec);
            return IoError(tmp + ": " + ec.message());
          }
          if (::chmod(tmp.c_str(), 0666 & ~mask) != 0 ||
              ::rename(tmp.c_str(), it.abs.c_str()) != 0) {
            Status s = IoError(it.abs + ": " + std::strerror(errno));
            ::unlink(tmp.c_str());
            return s;
          }
          if (known) {
            PLINTH_RETURN_IF_ERROR(session->state().Remember(it.abs, *known));
          }
          ++count;
          return Status::Ok();
        }));
  }
  PLINTH_RETURN_IF_ERROR(session->Save());
  return count.load();
}

Result<StatusResult> WorkspaceStatus(Project& project, const WorkOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(auto session, DataSession::Open(project, options));
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> pointer_files, FindPointerFiles(project));
  StatusResult result;
  for (const auto& pf : pointer_files) {
    PLINTH_ASSIGN_OR_RETURN(Pointer p, ReadPointer(project.Absolute(pf)));
    StatusEntry e;
    e.path = DataPathOf(pf, p);
    std::string abs = project.Absolute(e.path);
    std::error_code ec;
    bool is_dir = p.kind == PointerKind::kDir;
    if (!fs::exists(abs, ec) || fs::is_directory(abs, ec) != is_dir) {
      e.state = PathState::kMissing;
      result.entries.push_back(std::move(e));
      continue;
    }
    std::vector<ManifestEntry> now;
    PLINTH_ASSIGN_OR_RETURN(Pointer cur, session->Hash(abs, &now));
    if (cur.hash == p.hash) {
      e.state = session->cache().Has(p.hash) ? PathState::kUnchanged : PathState::kNotInCache;
      result.entries.push_back(std::move(e));
      continue;
    }
    e.state = PathState::kModified;
    if (!is_dir && SharesInode(abs, session->cache().ObjectPath(p.hash))) {
      e.edited_in_place.push_back(e.path);
    }
    if (is_dir) {
      // Name the files: the old manifest against the current one (its entries
      // come from the state table, so this reads nothing again).
      auto old = session->cache().ReadBytes(p.hash);
      if (old.ok()) {
        PLINTH_ASSIGN_OR_RETURN(auto before_list,
                                ParseManifest(*old, session->cache().ObjectPath(p.hash)));
        std::map<std::string, std::string> before, after;
        for (const auto& m : before_list) {
          before[m.path] = m.hash;
        }
        for (const auto& m : now) {
          after[m.path] = m.hash;
        }
        for (const auto& [path, hash] : after) {
          auto it = before.find(path);
          if (it == before.end()) {
            e.added.push_back(path);
          } else if (it->second != hash) {
            e.modified.push_back(path);
            if (SharesInode(abs + "/" + path, session->cache().ObjectPath(it->second))) {
              e.edited_in_place.push_back(e.path + "/" + path);
            }
          }
        }
        for (const auto& [path, hash] : before) {
          if (after.count(path) == 0) {
            e.removed.push_back(path);
          }
        }
      }
    }
    result.entries.push_back(std::move(e));
  }
  PLINTH_RETURN_IF_ERROR(session->Save());
  result.files_hashed = session->state().files_hashed();
  return result;
}

namespace {

// Appends to `lost` each file at or below `abs` (data path `rel`) that checking
// out `p` would overwrite or delete while its content is in no cache object:
// files that differ from what `p` wants, and files `p` does not list.
Status FindUnsaved(DataSession& session, const Pointer& p, const std::string& abs,
                   const std::string& rel, std::vector<std::string>& lost) {
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0) {
    return Status::Ok();  // nothing there (or a broken symlink, which holds no data)
  }
  std::unordered_map<std::string, std::string> wanted;  // relative path -> hash
  if (p.kind == PointerKind::kDir && S_ISDIR(st.st_mode)) {
    PLINTH_ASSIGN_OR_RETURN(std::string bytes, session.cache().ReadBytes(p.hash));
    PLINTH_ASSIGN_OR_RETURN(auto manifest,
                            ParseManifest(bytes, session.cache().ObjectPath(p.hash)));
    for (auto& m : manifest) {
      wanted.emplace(std::move(m.path), std::move(m.hash));
    }
  }
  std::vector<FileItem> items;
  if (S_ISDIR(st.st_mode)) {
    PLINTH_ASSIGN_OR_RETURN(items, ScanDir(abs, session.pool()));
    for (auto& it : items) {
      it.rel = rel + "/" + it.rel;
    }
  } else if (S_ISREG(st.st_mode)) {
    FileItem one;
    one.rel = rel;
    one.abs = abs;
    one.st = st;
    items.push_back(std::move(one));
  }
  PLINTH_ASSIGN_OR_RETURN(auto hashes, HashAll(items, session.state(), session.pool(), nullptr));
  for (size_t i = 0; i < items.size(); ++i) {
    std::string_view want = p.hash;
    if (p.kind == PointerKind::kDir) {
      auto w = wanted.find(items[i].rel.substr(std::min(rel.size() + 1, items[i].rel.size())));
      want = w == wanted.end() ? std::string_view() : std::string_view(w->second);
    }
    if (hashes[i] != want && !session.cache().Has(hashes[i])) {
      lost.push_back(items[i].rel);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CheckoutResult> Checkout(Project& project, const std::vector<std::string>& paths,
                                const WorkOptions& options, bool force) {
  PLINTH_ASSIGN_OR_RETURN(auto session, DataSession::Open(project, options));
  PLINTH_ASSIGN_OR_RETURN(CheckoutResult result, Checkout(project, *session, paths, force));
  PLINTH_RETURN_IF_ERROR(session->Save());
  return result;
}

Result<CheckoutResult> Checkout(Project& project, DataSession& session_ref,
                                const std::vector<std::string>& paths, bool force) {
  DataSession* session = &session_ref;
  std::vector<std::string> pointer_files;
  if (paths.empty()) {
    PLINTH_ASSIGN_OR_RETURN(pointer_files, FindPointerFiles(project));
  } else {
    for (const auto& path : paths) {
      PLINTH_ASSIGN_OR_RETURN(std::string rel, project.Relative(path));
      if (rel.size() <= 7 || rel.compare(rel.size() - 7, 7, ".plinth") != 0) {
        rel += ".plinth";
      }
      std::error_code ec;
      if (!fs::exists(project.Absolute(rel), ec)) {
        return NotFound(path + ": no pointer file " + rel);
      }
      pointer_files.push_back(rel);
    }
  }
  std::vector<std::pair<Pointer, std::string>> todo;  // pointer, data path
  for (const auto& pf : pointer_files) {
    PLINTH_ASSIGN_OR_RETURN(Pointer p, ReadPointer(project.Absolute(pf)));
    std::string data = DataPathOf(pf, p);
    todo.emplace_back(std::move(p), std::move(data));
  }
  if (!force) {
    // Nothing is touched until every path is known to lose nothing.
    std::vector<std::string> lost;
    for (const auto& [p, data] : todo) {
      PLINTH_RETURN_IF_ERROR(FindUnsaved(*session, p, project.Absolute(data), data, lost));
    }
    if (!lost.empty()) {
      constexpr size_t kShown = 10;
      std::string list;
      for (size_t i = 0; i < lost.size() && i < kShown; ++i) {
        list += (i ? ", " : "") + lost[i];
      }
      if (lost.size() > kShown) {
        list += " and " + std::to_string(lost.size() - kShown) + " more (plinth status lists them)";
      }
      return FailedPrecondition("checkout would overwrite or delete " +
                                std::to_string(lost.size()) +
                                " file(s) whose content is in no cached version: " + list +
                                "; save them with plinth add, or pass --force to discard them");
    }
  }
  CheckoutResult result;
  for (const auto& [p, data] : todo) {
    PLINTH_ASSIGN_OR_RETURN(auto counts, session->Restore(p, project.Absolute(data)));
    result.files_written += counts.first;
    result.files_removed += counts.second;
    if (counts.first + counts.second > 0) {
      result.paths.push_back(data);
    }
  }
  if (result.files_written > 0) {
    PLINTH_RETURN_IF_ERROR(SyncFilesystem(project.root()));
  }
  return result;
}

}  // namespace plinth::data
