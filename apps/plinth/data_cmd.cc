// plinth init | add | status | checkout: versioning data next to git.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "data/sync.h"
#include "data/workspace.h"

namespace plinth::cli {
namespace {

std::string Cwd() { return std::filesystem::current_path().string(); }

Result<data::Project> FindProject() { return data::Project::Find(Cwd()); }

std::string HumanSize(int64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

struct WorkFlags {
  size_t threads = 0;
  bool quiet = false;
  bool force = false;  // checkout and pull: discard unsaved files
};

void AddForceFlag(CLI::App& cmd, WorkFlags& f) {
  cmd.add_flag("-f,--force", f.force,
               "overwrite or delete files whose content is in no cached version (unsaved edits, "
               "new files in tracked directories); without it such a checkout is refused");
}

void AddWorkFlags(CLI::App& cmd, WorkFlags& f) {
  cmd.add_option("-j,--jobs", f.threads, "parallel jobs (default: one per core)")
      ->check(ThreadCount(0));
  cmd.add_flag("-q,--quiet", f.quiet, "print nothing but errors");
}

data::WorkOptions ToOptions(const WorkFlags& f) {
  data::WorkOptions o;
  o.threads = f.threads;
  o.progress = !f.quiet;
  return o;
}

int RunInit(const std::string& dir) {
  auto p = data::Project::Init(dir.empty() ? Cwd() : dir);
  if (!p.ok()) {
    return ReportError(p.status());
  }
  std::printf("Initialized a Plinth project in %s/.plinth\n", p->root().c_str());
  return kExitOk;
}

int RunAdd(const std::vector<std::string>& paths, const WorkFlags& f) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  if (data::SharesInodes(project->config().link_order)) {
    std::fprintf(stderr,
                 "plinth: warning: cache.link in .plinth/config.yaml allows hardlinks: a tracked "
                 "file is then its cached version, and writing into it in place (as root, or "
                 "through a tool that truncates and rewrites) destroys that version; [reflink, "
                 "copy] is safe (docs/FORMATS.md)\n");
  }
  auto r = data::Add(*project, paths, ToOptions(f));
  if (!r.ok()) {
    return ReportError(r.status());
  }
  if (!f.quiet) {
    for (const auto& a : r->added) {
      std::printf("added %s  %s  %s%s  (version %lld)\n", a.pointer_file.c_str(),
                  a.pointer.hash.substr(0, 12).c_str(), HumanSize(a.pointer.size).c_str(),
                  a.pointer.kind == data::PointerKind::kDir
                      ? (", " + std::to_string(a.pointer.nfiles) + " files").c_str()
                      : "",
                  static_cast<long long>(a.version_id));
    }
    std::printf("%lld files hashed (%s); commit the .plinth files with git\n",
                static_cast<long long>(r->files_hashed), HumanSize(r->bytes_hashed).c_str());
  }
  return kExitOk;
}

int RunStatus(const WorkFlags& f) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  auto r = data::WorkspaceStatus(*project, ToOptions(f));
  if (!r.ok()) {
    return ReportError(r.status());
  }
  int changed = 0;
  for (const auto& e : r->entries) {
    const char* what = nullptr;
    switch (e.state) {
      case data::PathState::kUnchanged:
        break;
      case data::PathState::kModified:
        what = "modified";
        break;
      case data::PathState::kMissing:
        what = "missing";
        break;
      case data::PathState::kNotInCache:
        what = "not in cache";
        break;
    }
    if (what == nullptr) {
      continue;
    }
    ++changed;
    std::printf("%-13s %s\n", what, e.path.c_str());
    for (const auto& x : e.added) {
      std::printf("    added     %s\n", x.c_str());
    }
    for (const auto& x : e.modified) {
      std::printf("    modified  %s\n", x.c_str());
    }
    for (const auto& x : e.removed) {
      std::printf("    removed   %s\n", x.c_str());
    }
    for (const auto& x : e.edited_in_place) {
      std::fprintf(stderr,
                   "warning: %s was written in place while hardlinked to the cache: its cached "
                   "previous version is damaged (pull it again from a remote; run plinth "
                   "unprotect before editing tracked files in place)\n",
                   x.c_str());
    }
  }
  if (changed == 0 && !f.quiet) {
    std::printf("data and pointers are in sync (%zu tracked paths)\n", r->entries.size());
  }
  return kExitOk;
}

int RunUnprotect(const std::vector<std::string>& paths, const WorkFlags& f) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  auto n = data::Unprotect(*project, paths, ToOptions(f));
  if (!n.ok()) {
    return ReportError(n.status());
  }
  if (!f.quiet) {
    std::printf("%lld files made private and writable\n", static_cast<long long>(*n));
  }
  return kExitOk;
}

int RunCheckout(const std::vector<std::string>& paths, const WorkFlags& f) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  auto r = data::Checkout(*project, paths, ToOptions(f), f.force);
  if (!r.ok()) {
    return ReportError(r.status());
  }
  if (!f.quiet) {
    for (const auto& p : r->paths) {
      std::printf("restored %s\n", p.c_str());
    }
    std::printf("%lld files written, %lld removed\n", static_cast<long long>(r->files_written),
                static_cast<long long>(r->files_removed));
  }
  return kExitOk;
}

int RunRemoteAdd(const std::string& name, const std::string& url, bool make_default) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  Status s = data::AddRemote(*project, name, url, make_default);
  if (!s.ok()) {
    return ReportError(s);
  }
  std::printf("remote %s -> %s%s\n", name.c_str(), url.c_str(),
              project->config().default_remote == name ? " (default)" : "");
  return kExitOk;
}

int RunRemoteList() {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  for (const auto& [name, url] : project->config().remotes) {
    std::printf("%s\t%s%s\n", name.c_str(), url.c_str(),
                project->config().default_remote == name ? "\t(default)" : "");
  }
  return kExitOk;
}

int RunTransfer(bool push, const std::string& remote, bool all_commits, const WorkFlags& f) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  auto r = push ? data::Push(*project, remote, all_commits, ToOptions(f))
                : data::Pull(*project, remote, ToOptions(f), f.force);
  if (!r.ok()) {
    return ReportError(r.status());
  }
  if (!f.quiet) {
    std::printf("%s %lld objects (%s), %lld already there\n", push ? "pushed" : "pulled",
                static_cast<long long>(r->transferred), HumanSize(r->bytes).c_str(),
                static_cast<long long>(r->present));
    if (!r->missing.empty()) {
      std::printf("%zu objects are not in the local cache and were not pushed (first: %s)\n",
                  r->missing.size(), r->missing[0].c_str());
    }
  }
  return kExitOk;
}

int RunGc(bool all_commits, bool dry_run, bool quiet) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  auto r = data::Gc(*project, all_commits, dry_run);
  if (!r.ok()) {
    return ReportError(r.status());
  }
  if (!quiet) {
    std::printf("%s %lld objects (%s), kept %lld\n", dry_run ? "would remove" : "removed",
                static_cast<long long>(r->removed), HumanSize(r->bytes_freed).c_str(),
                static_cast<long long>(r->kept));
    if (r->temporaries_removed > 0) {
      std::printf("removed %lld temporaries of interrupted writes\n",
                  static_cast<long long>(r->temporaries_removed));
    }
  }
  return kExitOk;
}

int RunDiff(const std::string& rev) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  auto r = data::Diff(*project, rev);
  if (!r.ok()) {
    return ReportError(r.status());
  }
  for (const auto& e : *r) {
    switch (e.kind) {
      case data::DiffKind::kAdded:
        std::printf("added     %s  (%s)\n", e.path.c_str(), HumanSize(e.new_size).c_str());
        break;
      case data::DiffKind::kRemoved:
        std::printf("removed   %s  (%s)\n", e.path.c_str(), HumanSize(e.old_size).c_str());
        break;
      case data::DiffKind::kModified:
        std::printf("modified  %s  (%s -> %s)\n", e.path.c_str(), HumanSize(e.old_size).c_str(),
                    HumanSize(e.new_size).c_str());
        break;
    }
  }
  if (r->empty()) {
    std::printf("no data changes since %s\n", rev.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterData(CLI::App& app, Runner& run) {
  auto dir = std::make_shared<std::string>();
  CLI::App* init = app.add_subcommand("init", "Make this directory a Plinth project (.plinth/)");
  init->add_option("DIR", *dir, "the directory (default: the current one)");
  init->callback([dir, &run] { run = [dir] { return RunInit(*dir); }; });

  auto add_paths = std::make_shared<std::vector<std::string>>();
  auto add_flags = std::make_shared<WorkFlags>();
  CLI::App* add = app.add_subcommand(
      "add", "Version files or directories: cache them, write PATH.plinth, git-ignore PATH");
  add->add_option("PATH", *add_paths, "files or directories")->required();
  AddWorkFlags(*add, *add_flags);
  add->callback([add_paths, add_flags, &run] {
    run = [add_paths, add_flags] { return RunAdd(*add_paths, *add_flags); };
  });

  auto status_flags = std::make_shared<WorkFlags>();
  CLI::App* status =
      app.add_subcommand("status", "Tracked data that is modified, missing or not in the cache");
  AddWorkFlags(*status, *status_flags);
  status->callback(
      [status_flags, &run] { run = [status_flags] { return RunStatus(*status_flags); }; });

  auto co_paths = std::make_shared<std::vector<std::string>>();
  auto co_flags = std::make_shared<WorkFlags>();
  CLI::App* co = app.add_subcommand(
      "checkout", "Make the data match the pointer files (all, or the PATHs given)");
  co->add_option("PATH", *co_paths, "data paths or pointer files (default: all)");
  AddWorkFlags(*co, *co_flags);
  AddForceFlag(*co, *co_flags);
  co->callback([co_paths, co_flags, &run] {
    run = [co_paths, co_flags] { return RunCheckout(*co_paths, *co_flags); };
  });

  auto up_paths = std::make_shared<std::vector<std::string>>();
  auto up_flags = std::make_shared<WorkFlags>();
  CLI::App* up = app.add_subcommand(
      "unprotect",
      "Give tracked files a private writable copy (instead of a hardlink to the cache), to "
      "edit them in place");
  up->add_option("PATH", *up_paths, "files or directories")->required();
  AddWorkFlags(*up, *up_flags);
  up->callback([up_paths, up_flags, &run] {
    run = [up_paths, up_flags] { return RunUnprotect(*up_paths, *up_flags); };
  });

  CLI::App* remote = app.add_subcommand("remote", "Data remotes (where push and pull go)");
  remote->require_subcommand(1);
  struct RemoteArgs {
    std::string name, url;
    bool make_default = false;
  };
  auto ra = std::make_shared<RemoteArgs>();
  CLI::App* radd =
      remote->add_subcommand("add", "Add a remote: an absolute directory or file:///DIR");
  radd->add_option("NAME", ra->name, "a short name")->required();
  radd->add_option("URL", ra->url, "the remote's location")->required();
  radd->add_flag("-d,--default", ra->make_default, "make it the default remote");
  radd->callback(
      [ra, &run] { run = [ra] { return RunRemoteAdd(ra->name, ra->url, ra->make_default); }; });
  CLI::App* rlist = remote->add_subcommand("list", "List remotes");
  rlist->callback([&run] { run = [] { return RunRemoteList(); }; });

  for (bool push : {true, false}) {
    auto name = std::make_shared<std::string>();
    auto flags = std::make_shared<WorkFlags>();
    auto all_commits = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand(
        push ? "push" : "pull",
        push ? "Copy the objects the pointers use to a remote (only what it lacks)"
             : "Fetch the objects the pointers use from a remote, then check out");
    cmd->add_option("-r,--remote", *name, "remote name (default: the default remote)");
    if (push) {
      cmd->add_flag("--all-commits", *all_commits,
                    "also push what pointer files anywhere in git history use");
    }
    AddWorkFlags(*cmd, *flags);
    if (!push) {
      AddForceFlag(*cmd, *flags);
    }
    cmd->callback([push, name, flags, all_commits, &run] {
      run = [push, name, flags, all_commits] {
        return RunTransfer(push, *name, *all_commits, *flags);
      };
    });
  }

  struct GcArgs {
    bool all_commits = false, dry = false, quiet = false;
  };
  auto ga = std::make_shared<GcArgs>();
  CLI::App* gc = app.add_subcommand(
      "gc", "Remove cache objects no pointer in the workspace uses (see --all-commits)");
  gc->add_flag("--all-commits", ga->all_commits,
               "also keep objects used by pointer files anywhere in git history");
  gc->add_flag("--dry", ga->dry, "only count what would be removed");
  gc->add_flag("-q,--quiet", ga->quiet, "print nothing but errors");
  gc->callback([ga, &run] { run = [ga] { return RunGc(ga->all_commits, ga->dry, ga->quiet); }; });

  auto rev = std::make_shared<std::string>("HEAD");
  CLI::App* diff = app.add_subcommand(
      "diff", "Data added, removed or modified since a git revision (pointer files)");
  diff->add_option("REV", *rev, "git revision")->capture_default_str();
  diff->callback([rev, &run] { run = [rev] { return RunDiff(*rev); }; });
}

}  // namespace plinth::cli
