#include "data/workspace.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <set>

#include "core/clock.h"
#include "core/file.h"
#include "core/hash.h"
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
};

// Every regular file below `dir`, sorted by relative path. Symlinks to files
// count as files; a symlink to a directory is an error naming it.
Result<std::vector<FileItem>> ScanDir(const std::string& dir) {
  std::vector<FileItem> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) {
    return IoError(dir + ": " + ec.message());
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      return IoError(dir + ": " + ec.message());
    }
    const fs::directory_entry& e = *it;
    std::string name = e.path().filename().string();
    if (name.find(".plinth-tmp-") != std::string::npos) {
      continue;  // a temporary file of an interrupted run
    }
    bool is_link = e.is_symlink(ec);
    if (e.is_directory(ec)) {
      if (is_link) {
        return InvalidArgument(e.path().string() +
                               ": a symlink to a directory; Plinth versions symlinks to files "
                               "only (a linked directory could loop)");
      }
      continue;
    }
    if (!e.is_regular_file(ec)) {
      return InvalidArgument(e.path().string() + ": not a regular file (" +
                             (is_link ? "a broken symlink" : "a device, socket or pipe") + ")");
    }
    struct stat st {};
    ::stat(e.path().c_str(), &st);
    out.push_back({e.path().lexically_relative(dir).generic_string(), e.path().string(),
                   static_cast<int64_t>(st.st_size)});
  }
  std::sort(out.begin(), out.end(),
            [](const FileItem& a, const FileItem& b) { return a.rel < b.rel; });
  return out;
}

// Runs `fn(i)` for i in [0, n) on `pool`, returning the first error.
template <typename F>
Status ParallelFor(core::ThreadPool& pool, size_t n, F fn) {
  if (n == 0) {
    return Status::Ok();
  }
  size_t workers = std::min(pool.size(), n);
  std::atomic<size_t> next{0};
  std::vector<std::future<Status>> done;
  for (size_t w = 0; w < workers; ++w) {
    done.push_back(pool.Submit([&]() -> Status {
      while (true) {
        size_t i = next.fetch_add(1);
        if (i >= n) {
          return Status::Ok();
        }
        Status s = fn(i);
        if (!s.ok()) {
          next = n;  // stop the others early
          return s;
        }
      }
    }));
  }
  Status first;
  for (auto& f : done) {
    Status s = f.get();
    if (first.ok() && !s.ok()) {
      first = s;
    }
  }
  return first;
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
  PLINTH_RETURN_IF_ERROR(ParallelFor(pool, items.size(), [&](size_t i) -> Status {
    PLINTH_ASSIGN_OR_RETURN(hashes[i], state.Hash(items[i].abs, on_bytes));
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

std::string Parent(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

std::string Base(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

// The data path (relative to the root) of the pointer file `pointer_rel`.
std::string DataPath(const std::string& pointer_rel, const Pointer& p) {
  std::string parent = Parent(pointer_rel);
  return parent.empty() ? p.path : parent + "/" + p.path;
}

struct Context {
  store::Database* db;
  std::unique_ptr<StateCache> state;
  ObjectCache cache;
  core::ThreadPool pool;
};

Result<std::unique_ptr<Context>> OpenContext(Project& project, const WorkOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(store::Database * db, project.Store());
  PLINTH_ASSIGN_OR_RETURN(auto state, StateCache::Load(*db));
  return std::unique_ptr<Context>(new Context{
      db, std::move(state), ObjectCache(project.config().cache_dir, project.config().link_order),
      core::ThreadPool(options.threads)});
}

// The current content of data path `abs` as (hash, items, hashes) for a
// directory, or hash alone for a file.
struct Current {
  std::string hash;
  std::vector<FileItem> items;
  std::vector<std::string> hashes;
  int64_t size = 0;
};

Result<Current> HashDataPath(const std::string& abs, bool is_dir, Context& ctx,
                             core::Progress* progress) {
  Current cur;
  if (!is_dir) {
    PLINTH_ASSIGN_OR_RETURN(cur.hash, ctx.state->Hash(abs, [&](int64_t) {}));
    struct stat st {};
    ::stat(abs.c_str(), &st);
    cur.size = st.st_size;
    return cur;
  }
  PLINTH_ASSIGN_OR_RETURN(cur.items, ScanDir(abs));
  PLINTH_ASSIGN_OR_RETURN(cur.hashes, HashAll(cur.items, *ctx.state, ctx.pool, progress));
  for (const auto& it : cur.items) {
    cur.size += it.size;
  }
  cur.hash = core::Sha256Hex(SerializeManifest(BuildManifest(cur.items, cur.hashes)));
  return cur;
}

}  // namespace

std::string GitHead(const Project& project) {
  auto r = core::RunProcess({"git", "rev-parse", "HEAD"}, project.root());
  if (!r.ok() || r->exit_code != 0) {
    return "";
  }
  std::string out = r->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
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
  PLINTH_ASSIGN_OR_RETURN(auto ctx, OpenContext(project, options));
  AddResult result;
  std::string git_commit = GitHead(project);
  for (const auto& path : paths) {
    PLINTH_ASSIGN_OR_RETURN(std::string rel, project.Relative(path));
    if (rel.size() > 7 && rel.compare(rel.size() - 7, 7, ".plinth") == 0) {
      return InvalidArgument(path + ": is a pointer file; add the data it points to");
    }
    std::string abs = project.Absolute(rel);
    std::error_code ec;
    fs::file_status st = fs::status(abs, ec);
    if (!fs::exists(st)) {
      return NotFound(path + ": no such file or directory");
    }
    bool is_dir = fs::is_directory(st);
    if (is_dir && fs::is_symlink(fs::symlink_status(abs, ec))) {
      return InvalidArgument(path + ": a symlink to a directory; add the directory itself");
    }
    if (!is_dir && !fs::is_regular_file(st)) {
      return InvalidArgument(path + ": not a regular file or directory");
    }
    Pointer p;
    p.path = Base(rel);
    if (is_dir) {
      PLINTH_ASSIGN_OR_RETURN(std::vector<FileItem> items, ScanDir(abs));
      int64_t total = 0;
      for (const auto& it : items) {
        total += it.size;
      }
      core::Progress progress("adding " + rel, total, options.progress);
      std::vector<std::string> hashes(items.size());
      std::atomic<int64_t> done{0};
      PLINTH_RETURN_IF_ERROR(ParallelFor(ctx->pool, items.size(), [&](size_t i) -> Status {
        PLINTH_ASSIGN_OR_RETURN(hashes[i],
                                ctx->cache.AddFile(items[i].abs, *ctx->state,
                                                   [&](int64_t n) { progress.Update(done += n); }));
        return Status::Ok();
      }));
      progress.Finish();
      PLINTH_ASSIGN_OR_RETURN(
          p.hash, ctx->cache.InsertBytes(SerializeManifest(BuildManifest(items, hashes))));
      p.kind = PointerKind::kDir;
      p.size = total;
      p.nfiles = static_cast<int64_t>(items.size());
    } else {
      struct stat sb {};
      ::stat(abs.c_str(), &sb);
      core::Progress progress("adding " + rel, sb.st_size, options.progress);
      std::atomic<int64_t> done{0};
      PLINTH_ASSIGN_OR_RETURN(p.hash, ctx->cache.AddFile(abs, *ctx->state, [&](int64_t n) {
        progress.Update(done += n);
      }));
      progress.Finish();
      p.kind = PointerKind::kFile;
      p.size = sb.st_size;
      p.nfiles = 1;
    }
    std::string pointer_file = abs + ".plinth";
    PLINTH_RETURN_IF_ERROR(WritePointer(pointer_file, p));
    PLINTH_RETURN_IF_ERROR(AddToGitignore(fs::path(abs).parent_path().string(), p.path));
    store::Value args[] = {p.hash,
                           rel,
                           std::string(p.kind == PointerKind::kDir ? "dir" : "file"),
                           p.size,
                           p.nfiles,
                           core::FormatIsoMicros(core::SystemClock().NowMicros()),
                           git_commit.empty() ? store::Value() : store::Value(git_commit)};
    PLINTH_RETURN_IF_ERROR(ctx->db->Exec(
        "INSERT INTO data_versions (hash, path, kind, size, nfiles, created, git_commit) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        args));
    result.added.push_back({rel + ".plinth", p, ctx->db->LastInsertId()});
  }
  PLINTH_RETURN_IF_ERROR(ctx->state->Save(*ctx->db));
  result.files_hashed = ctx->state->files_hashed();
  result.bytes_hashed = ctx->state->bytes_hashed();
  return result;
}

Result<StatusResult> WorkspaceStatus(Project& project, const WorkOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(auto ctx, OpenContext(project, options));
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> pointer_files, FindPointerFiles(project));
  StatusResult result;
  for (const auto& pf : pointer_files) {
    PLINTH_ASSIGN_OR_RETURN(Pointer p, ReadPointer(project.Absolute(pf)));
    StatusEntry e;
    e.path = DataPath(pf, p);
    std::string abs = project.Absolute(e.path);
    std::error_code ec;
    bool is_dir = p.kind == PointerKind::kDir;
    if (!fs::exists(abs, ec) || fs::is_directory(abs, ec) != is_dir) {
      e.state = PathState::kMissing;
      result.entries.push_back(std::move(e));
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(Current cur, HashDataPath(abs, is_dir, *ctx, nullptr));
    if (cur.hash != p.hash) {
      e.state = PathState::kModified;
      if (is_dir) {
        auto old = ctx->cache.ReadBytes(p.hash);
        if (old.ok()) {
          PLINTH_ASSIGN_OR_RETURN(auto entries, ParseManifest(*old, ctx->cache.ObjectPath(p.hash)));
          std::map<std::string, std::string> before, after;
          for (const auto& m : entries) {
            before[m.path] = m.hash;
          }
          for (size_t i = 0; i < cur.items.size(); ++i) {
            after[cur.items[i].rel] = cur.hashes[i];
          }
          for (const auto& [path, hash] : after) {
            auto it = before.find(path);
            if (it == before.end()) {
              e.added.push_back(path);
            } else if (it->second != hash) {
              e.modified.push_back(path);
            }
          }
          for (const auto& [path, hash] : before) {
            if (after.count(path) == 0) {
              e.removed.push_back(path);
            }
          }
        }
      }
    } else {
      e.state = ctx->cache.Has(p.hash) ? PathState::kUnchanged : PathState::kNotInCache;
    }
    result.entries.push_back(std::move(e));
  }
  PLINTH_RETURN_IF_ERROR(ctx->state->Save(*ctx->db));
  result.files_hashed = ctx->state->files_hashed();
  return result;
}

Result<CheckoutResult> Checkout(Project& project, const std::vector<std::string>& paths,
                                const WorkOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(auto ctx, OpenContext(project, options));
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
  CheckoutResult result;
  std::atomic<int64_t> written{0};
  for (const auto& pf : pointer_files) {
    PLINTH_ASSIGN_OR_RETURN(Pointer p, ReadPointer(project.Absolute(pf)));
    std::string data = DataPath(pf, p);
    std::string abs = project.Absolute(data);
    std::error_code ec;
    int64_t before = written.load();
    if (p.kind == PointerKind::kFile) {
      if (fs::is_regular_file(abs, ec)) {
        auto cur = ctx->state->Hash(abs);
        if (cur.ok() && *cur == p.hash) {
          continue;
        }
      }
      fs::create_directories(fs::path(abs).parent_path(), ec);
      PLINTH_RETURN_IF_ERROR(ctx->cache.Materialize(p.hash, abs, *ctx->state));
      ++written;
    } else {
      PLINTH_ASSIGN_OR_RETURN(std::string bytes, ctx->cache.ReadBytes(p.hash));
      PLINTH_ASSIGN_OR_RETURN(auto manifest, ParseManifest(bytes, ctx->cache.ObjectPath(p.hash)));
      if (fs::exists(abs, ec) && !fs::is_directory(abs, ec)) {
        fs::remove(abs, ec);
      }
      fs::create_directories(abs, ec);
      PLINTH_ASSIGN_OR_RETURN(std::vector<FileItem> existing, ScanDir(abs));
      std::set<std::string> wanted;
      for (const auto& m : manifest) {
        wanted.insert(m.path);
      }
      for (const auto& it : existing) {
        if (wanted.count(it.rel) == 0) {
          fs::remove(it.abs, ec);
          ++result.files_removed;
        }
      }
      PLINTH_RETURN_IF_ERROR(ParallelFor(ctx->pool, manifest.size(), [&](size_t i) -> Status {
        std::string target = abs + "/" + manifest[i].path;
        std::error_code e2;
        if (fs::is_regular_file(target, e2)) {
          auto cur = ctx->state->Hash(target);
          if (cur.ok() && *cur == manifest[i].hash) {
            return Status::Ok();
          }
        }
        fs::create_directories(fs::path(target).parent_path(), e2);
        PLINTH_RETURN_IF_ERROR(ctx->cache.Materialize(manifest[i].hash, target, *ctx->state));
        ++written;
        return Status::Ok();
      }));
    }
    if (written.load() != before) {
      result.paths.push_back(data);
    }
  }
  result.files_written = written.load();
  PLINTH_RETURN_IF_ERROR(ctx->state->Save(*ctx->db));
  return result;
}

}  // namespace plinth::data
