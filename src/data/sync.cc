#include "data/sync.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "core/clock.h"
#include "core/process.h"
#include "core/stale.h"
#include "core/thread_pool.h"
#include "data/objects.h"
#include "data/remote.h"

namespace plinth::data {
namespace fs = std::filesystem;

namespace {

Result<std::string> Git(const Project& project, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  PLINTH_ASSIGN_OR_RETURN(core::ProcessResult r, core::RunProcess(argv, project.root()));
  if (r.exit_code != 0) {
    std::string err = r.err.substr(0, r.err.find('\n'));
    std::string cmd;
    for (const auto& a : argv) {
      cmd += (cmd.empty() ? "" : " ") + a;
    }
    return InvalidArgument(cmd + ": " + (err.empty() ? "failed" : err));
  }
  return r.out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty()) {
      out.push_back(line);
    }
    if (nl == std::string::npos) {
      break;
    }
    start = nl + 1;
  }
  return out;
}

// data path -> pointer, for the pointer files of the working tree.
Result<std::map<std::string, Pointer>> WorkingPointers(const Project& project) {
  std::map<std::string, Pointer> out;
  PLINTH_ASSIGN_OR_RETURN(auto files, FindPointerFiles(project));
  for (const auto& f : files) {
    PLINTH_ASSIGN_OR_RETURN(Pointer p, ReadPointer(project.Absolute(f)));
    out[DataPathOf(f, p)] = p;
  }
  return out;
}

// data path -> pointer, for the pointer files committed at `rev`.
Result<std::map<std::string, Pointer>> PointersAt(const Project& project, const std::string& rev) {
  if (!Git(project, {"rev-parse", "--verify", "--quiet", rev + "^{commit}"}).ok()) {
    return InvalidArgument("unknown git revision \"" + rev + "\"");
  }
  PLINTH_ASSIGN_OR_RETURN(std::string listing,
                          Git(project, {"ls-tree", "-r", "--name-only", rev, "--", "."}));
  std::map<std::string, Pointer> out;
  for (const auto& path : Lines(listing)) {
    if (path.size() <= 7 || path.compare(path.size() - 7, 7, ".plinth") != 0 ||
        path.rfind(".plinth/", 0) == 0) {
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(std::string text, Git(project, {"show", rev + ":./" + path}));
    PLINTH_ASSIGN_OR_RETURN(Pointer p, ParsePointer(text, rev + ":" + path));
    out[DataPathOf(path, p)] = p;
  }
  return out;
}

// Every object `pointers` use: their hashes and, for directories whose
// manifest is in `cache`, the manifest's entries. Manifests not in the cache
// are listed in `unexpanded`.
std::set<std::string> Referenced(const std::map<std::string, Pointer>& pointers,
                                 const ObjectCache& cache, std::vector<std::string>* unexpanded) {
  std::set<std::string> out;
  for (const auto& [path, p] : pointers) {
    out.insert(p.hash);
    if (p.kind != PointerKind::kDir) {
      continue;
    }
    auto bytes = cache.ReadBytes(p.hash);
    if (!bytes.ok()) {
      if (unexpanded) {
        unexpanded->push_back(p.hash);
      }
      continue;
    }
    auto entries = ParseManifest(*bytes, cache.ObjectPath(p.hash));
    if (entries.ok()) {
      for (const auto& e : *entries) {
        out.insert(e.hash);
      }
    }
  }
  return out;
}

// The objects used by the working tree's pointers and, with `all_commits`, by
// the pointer files of every commit in git history.
Result<std::set<std::string>> UsedObjects(const Project& project, const ObjectCache& cache,
                                          bool all_commits) {
  PLINTH_ASSIGN_OR_RETURN(auto pointers, WorkingPointers(project));
  std::set<std::string> used = Referenced(pointers, cache, nullptr);
  if (all_commits) {
    PLINTH_ASSIGN_OR_RETURN(std::string revs, Git(project, {"rev-list", "--all"}));
    for (const auto& rev : Lines(revs)) {
      PLINTH_ASSIGN_OR_RETURN(auto at, PointersAt(project, rev));
      std::set<std::string> more = Referenced(at, cache, nullptr);
      used.insert(more.begin(), more.end());
    }
  }
  return used;
}

Result<std::unique_ptr<Remote>> ResolveRemote(const Project& project, const std::string& name) {
  const Config& c = project.config();
  std::string chosen = name;
  if (chosen.empty()) {
    chosen = !c.default_remote.empty() ? c.default_remote
             : c.remotes.size() == 1   ? c.remotes.begin()->first
                                       : "";
  }
  if (chosen.empty()) {
    return FailedPrecondition(c.remotes.empty()
                                  ? "no remote configured; run 'plinth remote add NAME DIR'"
                                  : "several remotes and no default; name one with -r NAME");
  }
  auto it = c.remotes.find(chosen);
  if (it == c.remotes.end()) {
    return NotFound("no remote named \"" + chosen + "\" (see 'plinth remote list')");
  }
  return OpenRemote(it->second);
}

// Runs `fn(item)` for every one of `items` on a pool of `threads`.
template <typename F>
Status ForEachParallel(const std::vector<std::string>& items, size_t threads, F fn) {
  core::ThreadPool pool(threads);
  return core::ParallelFor(pool, items.size(), [&](size_t i) { return fn(items[i]); });
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

}  // namespace

Result<std::string> GitShow(const Project& project, const std::string& rev,
                            const std::string& path) {
  if (!Git(project, {"rev-parse", "--verify", "--quiet", rev + "^{commit}"}).ok()) {
    return InvalidArgument("unknown git revision \"" + rev + "\"");
  }
  auto text = Git(project, {"show", rev + ":./" + path});
  if (!text.ok()) {
    return NotFound(path + " is not in revision " + rev);
  }
  return text;
}

Status AddRemote(Project& project, const std::string& name, const std::string& url,
                 bool make_default) {
  if (name.empty() || name.find_first_of(" \t/:") != std::string::npos) {
    return InvalidArgument("remote name \"" + name + "\": use letters, digits, - and _");
  }
  PLINTH_RETURN_IF_ERROR(OpenRemote(url).status());
  Config& c = project.mutable_config();
  c.remotes[name] = url;
  if (make_default || c.remotes.size() == 1) {
    c.default_remote = name;
  }
  return project.SaveConfig();
}

Result<TransferResult> Push(Project& project, const std::string& remote_name, bool all_commits,
                            const WorkOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(auto remote, ResolveRemote(project, remote_name));
  ObjectCache cache(project.config().cache_dir, project.config().link_order);
  TransferResult result;
  PLINTH_ASSIGN_OR_RETURN(std::set<std::string> wanted, UsedObjects(project, cache, all_commits));
  std::vector<std::string> todo;
  for (const auto& h : wanted) {
    if (cache.Has(h)) {
      todo.push_back(h);
    } else {
      result.missing.push_back(h);
    }
  }
  std::atomic<int64_t> transferred{0}, present{0}, bytes{0};
  PLINTH_RETURN_IF_ERROR(
      ForEachParallel(todo, options.threads, [&](const std::string& h) -> Status {
        PLINTH_ASSIGN_OR_RETURN(bool has, remote->Has(h));
        if (has) {
          ++present;
          return Status::Ok();
        }
        PLINTH_ASSIGN_OR_RETURN(int64_t n, remote->Put(h, cache.ObjectPath(h)));
        ++transferred;
        bytes += n;
        return Status::Ok();
      }));
  if (transferred > 0) {
    PLINTH_RETURN_IF_ERROR(remote->Sync());
  }
  result.transferred = transferred;
  result.present = present;
  result.bytes = bytes;
  return result;
}

Result<TransferResult> Pull(Project& project, const std::string& remote_name,
                            const WorkOptions& options, bool force) {
  PLINTH_ASSIGN_OR_RETURN(auto remote, ResolveRemote(project, remote_name));
  // One session for fetch and checkout: objects verified on arrival are
  // remembered, so the checkout does not read them again.
  PLINTH_ASSIGN_OR_RETURN(auto session, DataSession::Open(project, options));
  ObjectCache& cache = session->cache();
  PLINTH_ASSIGN_OR_RETURN(auto pointers, WorkingPointers(project));
  TransferResult result;
  std::mutex mu;
  std::atomic<int64_t> transferred{0}, present{0}, bytes{0};
  auto fetch = [&](const std::string& h) -> Status {
    if (cache.Has(h)) {
      ++present;
      return Status::Ok();
    }
    auto got = remote->Get(h, cache.ObjectPath(h));
    if (got.status().code() == StatusCode::kNotFound) {
      std::lock_guard<std::mutex> lock(mu);
      result.missing.push_back(h);
      return Status::Ok();
    }
    PLINTH_RETURN_IF_ERROR(got.status());
    PLINTH_RETURN_IF_ERROR(session->state().Remember(cache.ObjectPath(h), h));
    ++transferred;
    bytes += *got;
    return Status::Ok();
  };
  // Pointers first (files and directory manifests), then what the manifests list.
  std::vector<std::string> first;
  for (const auto& [path, p] : pointers) {
    first.push_back(p.hash);
  }
  std::sort(first.begin(), first.end());
  first.erase(std::unique(first.begin(), first.end()), first.end());
  PLINTH_RETURN_IF_ERROR(ForEachParallel(first, options.threads, fetch));
  std::set<std::string> all = Referenced(pointers, cache, nullptr);
  std::vector<std::string> second;
  for (const auto& h : all) {
    if (!std::binary_search(first.begin(), first.end(), h)) {
      second.push_back(h);
    }
  }
  PLINTH_RETURN_IF_ERROR(ForEachParallel(second, options.threads, fetch));
  if (transferred > 0) {
    PLINTH_RETURN_IF_ERROR(SyncFilesystem(cache.dir()));
  }
  result.transferred = transferred;
  result.present = present;
  result.bytes = bytes;
  if (!result.missing.empty()) {
    return NotFound(std::to_string(result.missing.size()) + " objects are not on remote " +
                    remote->url() + " (first: " + result.missing[0] +
                    "); push them from a copy that has them");
  }
  PLINTH_RETURN_IF_ERROR(Checkout(project, *session, {}, force).status());
  PLINTH_RETURN_IF_ERROR(session->Save());
  return result;
}

Result<GcResult> Gc(Project& project, bool all_commits, bool dry_run) {
  ObjectCache cache(project.config().cache_dir, project.config().link_order);
  PLINTH_ASSIGN_OR_RETURN(std::set<std::string> keep, UsedObjects(project, cache, all_commits));
  PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> objects, cache.List());
  GcResult result;
  for (const auto& h : objects) {
    if (keep.count(h) != 0) {
      ++result.kept;
      continue;
    }
    ++result.removed;
    result.bytes_freed += FileSize(cache.ObjectPath(h));
    if (!dry_run) {
      PLINTH_RETURN_IF_ERROR(cache.Remove(h));
    }
  }
  // Temporary files of interrupted runs, once they are an hour old.
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  std::set<std::string> atomic_targets;  // objects with ".HASH.tmp.*" beside them
  constexpr size_t kRest = 62;           // digits of a hash after its directory's two
  for (auto it = fs::recursive_directory_iterator(cache.dir() + "/sha256", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.find(".plinth-tmp-") != std::string::npos &&
        now - it->last_write_time(ec) > std::chrono::hours(1) && !dry_run) {
      fs::remove(it->path(), ec);
    }
    // A killed AtomicWriteFile of an object (a directory manifest, sha256/XX/.REST.tmp.PID.N):
    // its writer held a lock on it, so RemoveStaleAtomicWrites takes only the dead ones.
    if (name.size() > kRest + 6 && name[0] == '.' && name.compare(kRest + 1, 5, ".tmp.") == 0 &&
        IsHash(it->path().parent_path().filename().string() + name.substr(1, kRest))) {
      atomic_targets.insert((it->path().parent_path() / name.substr(1, kRest)).string());
    }
  }
  for (const std::string& target : atomic_targets) {
    if (!dry_run) {
      PLINTH_ASSIGN_OR_RETURN(int removed, core::RemoveStaleAtomicWrites(target));
      result.temporaries_removed += removed;
    }
  }
  return result;
}

Result<std::vector<DiffEntry>> Diff(Project& project, const std::string& rev) {
  ObjectCache cache(project.config().cache_dir, project.config().link_order);
  PLINTH_ASSIGN_OR_RETURN(auto before, PointersAt(project, rev));
  PLINTH_ASSIGN_OR_RETURN(auto after, WorkingPointers(project));
  // Flatten each side to file path -> (hash, size); a directory whose manifest is
  // not in the cache stays one entry.
  auto flatten = [&](const std::map<std::string, Pointer>& ps) {
    std::map<std::string, std::pair<std::string, int64_t>> files;
    for (const auto& [path, p] : ps) {
      if (p.kind == PointerKind::kDir) {
        auto bytes = cache.ReadBytes(p.hash);
        auto entries = bytes.ok() ? ParseManifest(*bytes, cache.ObjectPath(p.hash))
                                  : Result<std::vector<ManifestEntry>>(bytes.status());
        if (entries.ok()) {
          for (const auto& e : *entries) {
            files[path + "/" + e.path] = {e.hash, e.size};
          }
          continue;
        }
      }
      files[path] = {p.hash, p.size};
    }
    return files;
  };
  auto old_files = flatten(before), new_files = flatten(after);
  std::vector<DiffEntry> out;
  for (const auto& [path, v] : new_files) {
    auto it = old_files.find(path);
    if (it == old_files.end()) {
      out.push_back({path, DiffKind::kAdded, 0, v.second});
    } else if (it->second.first != v.first) {
      out.push_back({path, DiffKind::kModified, it->second.second, v.second});
    }
  }
  for (const auto& [path, v] : old_files) {
    if (new_files.count(path) == 0) {
      out.push_back({path, DiffKind::kRemoved, v.second, 0});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const DiffEntry& a, const DiffEntry& b) { return a.path < b.path; });
  return out;
}

}  // namespace plinth::data
