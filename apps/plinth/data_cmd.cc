// plinth init | add | status | checkout: versioning data next to git.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
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
};

void AddWorkFlags(CLI::App& cmd, WorkFlags& f) {
  cmd.add_option("-j,--jobs", f.threads, "parallel jobs (default: one per core)");
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
      case data::PathState::kUnchanged: break;
      case data::PathState::kModified: what = "modified"; break;
      case data::PathState::kMissing: what = "missing"; break;
      case data::PathState::kNotInCache: what = "not in cache"; break;
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
  }
  if (changed == 0 && !f.quiet) {
    std::printf("data and pointers are in sync (%zu tracked paths)\n", r->entries.size());
  }
  return kExitOk;
}

int RunCheckout(const std::vector<std::string>& paths, const WorkFlags& f) {
  auto project = FindProject();
  if (!project.ok()) {
    return ReportError(project.status());
  }
  auto r = data::Checkout(*project, paths, ToOptions(f));
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
  CLI::App* status = app.add_subcommand(
      "status", "Tracked data that is modified, missing or not in the cache");
  AddWorkFlags(*status, *status_flags);
  status->callback([status_flags, &run] { run = [status_flags] { return RunStatus(*status_flags); }; });

  auto co_paths = std::make_shared<std::vector<std::string>>();
  auto co_flags = std::make_shared<WorkFlags>();
  CLI::App* co = app.add_subcommand(
      "checkout", "Make the data match the pointer files (all, or the PATHs given)");
  co->add_option("PATH", *co_paths, "data paths or pointer files (default: all)");
  AddWorkFlags(*co, *co_flags);
  co->callback([co_paths, co_flags, &run] {
    run = [co_paths, co_flags] { return RunCheckout(*co_paths, *co_flags); };
  });
}

}  // namespace plinth::cli
