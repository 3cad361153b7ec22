#include "pipeline/runner.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/mutex.h"
#include "core/process.h"
#include "core/yaml.h"
#include "data/workspace.h"
#include "store/database.h"

namespace plinth::pipeline {
namespace fs = std::filesystem;

namespace {

// The exit code of a stage refused before it ran: the CLI's code for bad input.
constexpr int kExitBadOutput = 2;

constexpr store::Migration kMigrations[] = {
    {1, "pipeline runs",
     "CREATE TABLE pipeline_runs ("
     "  id INTEGER PRIMARY KEY,"
     "  started TEXT NOT NULL,"
     "  finished TEXT,"
     "  status TEXT NOT NULL,"
     "  targets TEXT NOT NULL,"
     "  git_commit TEXT);"
     "CREATE TABLE pipeline_stage_runs ("
     "  run_id INTEGER NOT NULL REFERENCES pipeline_runs(id),"
     "  stage TEXT NOT NULL,"
     "  fingerprint TEXT,"
     "  outcome TEXT NOT NULL,"
     "  reason TEXT,"
     "  exit_code INTEGER,"
     "  duration_ms INTEGER,"
     "  PRIMARY KEY (run_id, stage));"},
};

// What a stage last ran with, as plinth.lock records it.
struct LockEntry {
  std::string fingerprint;
  std::string cmd;
  std::map<std::string, std::string> deps;                  // path -> hash
  std::map<std::string, std::string> params;                // file:key -> value (canonical)
  std::vector<std::pair<std::string, data::Pointer>> outs;  // path -> pointer
};

struct Lock {
  std::map<std::string, LockEntry> stages;
};

std::string LockPath(const data::Project& project) { return project.root() + "/plinth.lock"; }

using Outs = std::vector<std::pair<std::string, data::Pointer>>;

// An output list as plinth.lock and the run cache write it ({path, hash, size,
// nfiles, kind} each), read from `source`.
Result<Outs> ParseOuts(const YAML::Node& list, const std::string& source) {
  if (!list.IsSequence()) {
    return InvalidArgument(core::YamlWhere(list, source) + ": key 'outs': expected a list");
  }
  Outs outs;
  for (const auto& o : list) {
    data::Pointer p;
    PLINTH_ASSIGN_OR_RETURN(std::string path,
                            core::YamlMember<std::string>(o, "path", source, "a path"));
    p.path = fs::path(path).filename().string();
    PLINTH_ASSIGN_OR_RETURN(p.hash, core::YamlMember<std::string>(o, "hash", source, "a hash"));
    if (!data::IsHash(p.hash)) {
      return InvalidArgument(core::YamlWhere(o, source) +
                             ": key 'hash': expected 64 lowercase hex digits (SHA-256)");
    }
    PLINTH_ASSIGN_OR_RETURN(p.size, core::YamlMember<int64_t>(o, "size", source, "bytes"));
    PLINTH_ASSIGN_OR_RETURN(p.nfiles, core::YamlMember<int64_t>(o, "nfiles", source, "a count"));
    PLINTH_ASSIGN_OR_RETURN(std::string kind,
                            core::YamlMember<std::string>(o, "kind", source, "file or dir"));
    if (kind != "file" && kind != "dir") {
      return InvalidArgument(core::YamlWhere(o, source) +
                             ": key 'kind': expected file or dir, got \"" + kind + "\"");
    }
    p.kind = kind == "dir" ? data::PointerKind::kDir : data::PointerKind::kFile;
    outs.emplace_back(path, p);
  }
  return outs;
}

// One stage's entry of plinth.lock (`n`, from `path`).
Result<LockEntry> ParseLockEntry(const YAML::Node& n, const std::string& path) {
  LockEntry e;
  PLINTH_ASSIGN_OR_RETURN(e.fingerprint,
                          core::YamlMember<std::string>(n, "fingerprint", path, "a string"));
  if (n["cmd"] && !n["cmd"].IsNull()) {
    PLINTH_ASSIGN_OR_RETURN(e.cmd, core::YamlMember<std::string>(n, "cmd", path, "a command"));
  }
  if (const YAML::Node deps = n["deps"]; deps && !deps.IsNull()) {
    if (!deps.IsSequence()) {
      return InvalidArgument(core::YamlWhere(deps, path) + ": key 'deps': expected a list");
    }
    for (const auto& d : deps) {
      PLINTH_ASSIGN_OR_RETURN(std::string dep,
                              core::YamlMember<std::string>(d, "path", path, "a path"));
      PLINTH_ASSIGN_OR_RETURN(e.deps[dep],
                              core::YamlMember<std::string>(d, "hash", path, "a hash"));
    }
  }
  if (const YAML::Node params = n["params"]; params && !params.IsNull()) {
    if (!params.IsMap()) {
      return InvalidArgument(core::YamlWhere(params, path) + ": key 'params': expected a mapping");
    }
    for (const auto& p : params) {
      PLINTH_ASSIGN_OR_RETURN(e.params[p.first.Scalar()],
                              core::YamlAs<std::string>(p.second, core::YamlWhere(p.second, path),
                                                        p.first.Scalar(), "a value"));
    }
  }
  if (const YAML::Node outs = n["outs"]; outs && !outs.IsNull()) {
    PLINTH_ASSIGN_OR_RETURN(e.outs, ParseOuts(outs, path));
  }
  return e;
}

Result<Lock> ReadLock(const data::Project& project) {
  Lock lock;
  std::string path = LockPath(project);
  auto text = core::ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return lock;
    }
    return text.status();
  }
  PLINTH_ASSIGN_OR_RETURN(YAML::Node doc, core::ParseYaml(*text, path));
  if (!doc.IsMap() || !doc["stages"] || !doc["stages"].IsMap()) {
    return InvalidArgument(path + ": expected 'schema' and 'stages' (written by plinth run)");
  }
  for (const auto& kv : doc["stages"]) {
    if (!kv.second.IsMap()) {
      return InvalidArgument(core::YamlWhere(kv.first, path) + ": stage '" + kv.first.Scalar() +
                             "': expected a mapping; delete plinth.lock to rebuild");
    }
    Result<LockEntry> e = ParseLockEntry(kv.second, path);
    if (!e.ok()) {
      // "plinth.lock:4: key ..." -> "plinth.lock:4: stage 'a': key ..."
      std::string message = e.status().message();
      size_t at =
          message.starts_with(path + ":") ? message.find(": ", path.size() + 1) : std::string::npos;
      at = at == std::string::npos ? 0 : at + 2;
      message.insert(at, "stage '" + kv.first.Scalar() + "': ");
      return InvalidArgument(message + "; delete plinth.lock to rebuild");
    }
    lock.stages[kv.first.Scalar()] = *std::move(e);
  }
  return lock;
}

void EmitOuts(YAML::Emitter& y, const std::vector<std::pair<std::string, data::Pointer>>& outs) {
  y << YAML::BeginSeq;
  for (const auto& [path, p] : outs) {
    y << YAML::Flow << YAML::BeginMap << YAML::Key << "path" << YAML::Value << path << YAML::Key
      << "hash" << YAML::Value << p.hash << YAML::Key << "size" << YAML::Value << p.size
      << YAML::Key << "nfiles" << YAML::Value << p.nfiles << YAML::Key << "kind" << YAML::Value
      << (p.kind == data::PointerKind::kDir ? "dir" : "file") << YAML::EndMap;
  }
  y << YAML::EndSeq;
}

Status WriteLock(const data::Project& project, const Pipeline& pipeline, const Lock& lock) {
  YAML::Emitter y;
  y << YAML::BeginMap << YAML::Key << "schema" << YAML::Value << "plinth.lock/v1" << YAML::Key
    << "stages" << YAML::Value << YAML::BeginMap;
  // Stages in plinth.yaml order; entries of stages no longer in the file are dropped.
  for (const auto& st : pipeline.stages) {
    auto it = lock.stages.find(st.name);
    if (it == lock.stages.end()) {
      continue;
    }
    const LockEntry& e = it->second;
    y << YAML::Key << st.name << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "fingerprint" << YAML::Value << e.fingerprint;
    y << YAML::Key << "cmd" << YAML::Value << e.cmd;
    if (!e.deps.empty()) {
      y << YAML::Key << "deps" << YAML::Value << YAML::BeginSeq;
      for (const auto& [path, hash] : e.deps) {
        y << YAML::Flow << YAML::BeginMap << YAML::Key << "path" << YAML::Value << path << YAML::Key
          << "hash" << YAML::Value << hash << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }
    if (!e.params.empty()) {
      y << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
      for (const auto& [k, v] : e.params) {
        y << YAML::Key << k << YAML::Value << v;
      }
      y << YAML::EndMap;
    }
    if (!e.outs.empty()) {
      y << YAML::Key << "outs" << YAML::Value;
      EmitOuts(y, e.outs);
    }
    y << YAML::EndMap;
  }
  y << YAML::EndMap << YAML::EndMap;
  return core::AtomicWriteFile(
      LockPath(project),
      "# Plinth pipeline lock: what each stage last ran with (plinth run writes it). Commit it.\n" +
          std::string(y.c_str()) + "\n");
}

std::string Branch(const data::Project& project) {
  // symbolic-ref also names the branch of a repository without commits yet.
  return data::GitLine(project, {"symbolic-ref", "--short", "-q", "HEAD"});
}

std::string JoinCmd(const Stage& st) {
  std::string out;
  for (const auto& c : st.cmd) {
    out += (out.empty() ? "" : " && ") + c;
  }
  return out;
}

std::string RunCachePath(const data::Project& project, const std::string& fp) {
  return project.plinth_dir() + "/runs/" + fp.substr(0, 2) + "/" + fp.substr(2) + ".yaml";
}

}  // namespace

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kUpToDate:
      return "up to date";
    case Outcome::kRestored:
      return "restored from run cache";
    case Outcome::kRan:
      return "ran";
    case Outcome::kWouldRun:
      return "would run";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kWaitingApproval:
      return "waiting for approval";
    case Outcome::kSkippedBranch:
      return "skipped (branch)";
    case Outcome::kBlocked:
      return "not run";
  }
  return "?";
}

int RunReport::exit_code() const {
  for (const auto& s : stages) {
    if (s.outcome == Outcome::kFailed) {
      return s.exit_code > 0 && s.exit_code < 256 ? s.exit_code : 1;
    }
  }
  return 0;
}

namespace {

class Runner {
 public:
  Runner(data::Project& project, const Pipeline& pipeline, const RunOptions& opt)
      : project_(project), pipeline_(pipeline), opt_(opt) {}

  Result<RunReport> Run() {
    PLINTH_ASSIGN_OR_RETURN(plan_, pipeline_.Plan(opt_.targets));
    PLINTH_ASSIGN_OR_RETURN(session_, data::DataSession::Open(project_, {}));
    PLINTH_RETURN_IF_ERROR(Preflight());
    PLINTH_ASSIGN_OR_RETURN(Lock read, ReadLock(project_));
    {
      core::MutexLock l(lock_mu_);
      lock_ = std::move(read);
    }
    branch_ = Branch(project_);
    report_.stages.resize(plan_.size());
    for (size_t k = 0; k < plan_.size(); ++k) {
      report_.stages[k].name = pipeline_.stages[plan_[k]].name;
    }
    if (!opt_.dry) {
      PLINTH_RETURN_IF_ERROR(BeginRecord());
    }
    Schedule();
    PLINTH_RETURN_IF_ERROR(session_->Save());
    if (!opt_.dry) {
      PLINTH_RETURN_IF_ERROR(EndRecord());
    }
    return report_;
  }

 private:
  // Everything that can be known wrong before a stage runs.
  Status Preflight() {
    std::set<size_t> planned(plan_.begin(), plan_.end());
    for (size_t i : plan_) {
      const Stage& st = pipeline_.stages[i];
      for (const auto& dep : st.deps) {
        bool produced = false;
        for (size_t j = 0; j < pipeline_.stages.size() && !produced; ++j) {
          for (const auto& out : pipeline_.stages[j].outs) {
            produced = produced || PathWithin(dep, out.path) || PathWithin(out.path, dep);
          }
        }
        std::error_code ec;
        if (!produced && !fs::exists(project_.Absolute(dep), ec)) {
          return NotFound(st.where + ": stage '" + st.name + "': dependency " + dep +
                          " does not exist and no stage produces it");
        }
      }
      for (const auto& p : st.params) {
        PLINTH_RETURN_IF_ERROR(Param(p, st).status());
      }
    }
    return Status::Ok();
  }

  Result<std::string> Param(const ParamRef& p, const Stage& st) {
    auto it = params_files_.find(p.file);
    if (it == params_files_.end()) {
      std::string path = project_.Absolute(p.file);
      auto doc = core::ReadYamlFile(path);
      if (!doc.ok()) {
        return doc.status().WithPrefix(st.where + ": stage '" + st.name + "': params");
      }
      it = params_files_.emplace(p.file, *doc).first;
    }
    auto v = LookupParam(it->second, p.key);
    if (!v.ok()) {
      return InvalidArgument(st.where + ": stage '" + st.name + "': parameter " + p.key +
                             " is not in " + p.file);
    }
    return v;
  }

  // The fingerprint of stage `i` now, with what went into it.
  Result<LockEntry> Fingerprint(size_t i) {
    const Stage& st = pipeline_.stages[i];
    LockEntry e;
    e.cmd = JoinCmd(st);
    core::Sha256 sha;
    sha.Update("cmd\0" + e.cmd + '\0');
    sha.Update("wdir\0" + st.wdir + '\0');
    for (const auto& [k, v] : st.env) {
      sha.Update("env\0" + k + '=' + v + '\0');
    }
    for (const auto& dep : st.deps) {
      auto p = session_->Hash(project_.Absolute(dep));
      if (!p.ok()) {
        return p.status().WithPrefix(st.where + ": stage '" + st.name + "': dependency " + dep);
      }
      e.deps[dep] = p->hash;
      sha.Update("dep\0" + dep + '\0' + p->hash + '\0');
    }
    for (const auto& ref : st.params) {
      PLINTH_ASSIGN_OR_RETURN(std::string v, Param(ref, st));
      e.params[ref.file + ":" + ref.key] = v;
      sha.Update("param\0" + ref.file + ":" + ref.key + '=' + v + '\0');
    }
    for (const auto& out : st.outs) {
      sha.Update(std::string("out\0") + out.path + (out.cache ? "\0c" : "\0n") + '\0');
    }
    e.fingerprint = sha.HexDigest();
    return e;
  }

  // Why stage `i` must run, or "" when its lock entry still holds.
  std::string WhyRun(size_t i, const LockEntry& now) {
    const Stage& st = pipeline_.stages[i];
    if (opt_.force) {
      return "--force";
    }
    if (st.always_changed) {
      return "always_changed";
    }
    // A copy: a worker's Commit may change lock_ meanwhile.
    LockEntry was;
    {
      core::MutexLock l(lock_mu_);
      auto it = lock_.stages.find(st.name);
      if (it == lock_.stages.end()) {
        return "new stage (not in plinth.lock)";
      }
      was = it->second;
    }
    if (was.fingerprint != now.fingerprint) {
      if (was.cmd != now.cmd) {
        return "command changed";
      }
      for (const auto& [dep, hash] : now.deps) {
        auto d = was.deps.find(dep);
        if (d == was.deps.end() || d->second != hash) {
          return "dependency changed: " + dep;
        }
      }
      for (const auto& [key, value] : now.params) {
        auto p = was.params.find(key);
        if (p == was.params.end() || p->second != value) {
          return "parameter changed: " + key.substr(key.find(':') + 1);
        }
      }
      for (const auto& [dep, hash] : was.deps) {
        if (now.deps.count(dep) == 0) {
          return "dependency removed: " + dep;
        }
      }
      for (const auto& [key, value] : was.params) {
        if (now.params.count(key) == 0) {
          return "parameter removed: " + key.substr(key.find(':') + 1);
        }
      }
      return "definition changed (outputs, wdir or env)";
    }
    for (const auto& [path, p] : was.outs) {
      auto cur = session_->Hash(project_.Absolute(path));
      if (!cur.ok() || cur->hash != p.hash) {
        return "output missing or changed: " + path;
      }
    }
    return "";
  }

  // Restores stage outputs recorded in the run cache for `fp`, if all are cached.
  bool TryRunCache(size_t i, LockEntry& entry) {
    auto text = core::ReadFile(RunCachePath(project_, entry.fingerprint));
    if (!text.ok()) {
      return false;
    }
    auto doc = core::ParseYaml(*text, RunCachePath(project_, entry.fingerprint));
    if (!doc.ok() || !doc->IsSequence()) {
      return false;
    }
    Result<Outs> outs_read = ParseOuts(*doc, RunCachePath(project_, entry.fingerprint));
    if (!outs_read.ok()) {
      return false;
    }
    const Outs& outs = *outs_read;
    const Stage& st = pipeline_.stages[i];
    if (outs.size() != st.outs.size()) {
      return false;
    }
    for (const auto& [path, p] : outs) {
      if (!session_->Cached(p)) {
        return false;
      }
    }
    for (const auto& [path, p] : outs) {
      if (!session_->Restore(p, project_.Absolute(path)).ok()) {
        return false;
      }
    }
    entry.outs = std::move(outs);
    return true;
  }

  void Print(const std::string& line) PLINTH_EXCLUDES(out_mu_) {
    core::MutexLock lock(out_mu_);
    std::fprintf(opt_.out, "%s\n", line.c_str());
    std::fflush(opt_.out);
  }

  // Runs stage `i`'s commands and records its outputs. Called on a worker thread.
  void Execute(size_t k, LockEntry entry) {
    size_t i = plan_[k];
    const Stage& st = pipeline_.stages[i];
    StageReport& r = report_.stages[k];
    int64_t start = core::SystemClock().MonotonicMicros();
    std::error_code ec;
    // Outputs are removed first, so a stage never sees (or keeps) stale ones;
    // checked again here, since a stage that ran before may have made a symlink.
    if (Status safe = CheckOutputs(st, project_.root()); !safe.ok()) {
      Finish(k, Outcome::kFailed, safe.message(), kExitBadOutput, start);
      return;
    }
    for (const auto& out : st.outs) {
      fs::remove_all(project_.Absolute(out.path), ec);
      fs::create_directories(fs::path(project_.Absolute(out.path)).parent_path(), ec);
    }
    core::ProcessOptions po;
    po.cwd = st.wdir.empty() ? project_.root() : project_.Absolute(st.wdir);
    po.env = st.env;
    po.env["PLINTH_STAGE"] = st.name;
    // Commands that record runs (plinth train) link them to this pipeline run in lineage.
    po.env["PLINTH_PIPELINE_RUN"] = std::to_string(report_.run_id);
    std::string prefix = "[" + st.name + "] ";
    po.on_line = [&](std::string_view line) { Print(prefix + std::string(line)); };
    for (const auto& cmd : st.cmd) {
      auto res = core::RunProcess({"/bin/sh", "-c", cmd}, po);
      if (!res.ok()) {
        Finish(k, Outcome::kFailed, res.status().message(), 127, start);
        return;
      }
      if (res->exit_code != 0) {
        Finish(k, Outcome::kFailed,
               "command exited with " + std::to_string(res->exit_code) + ": " + cmd, res->exit_code,
               start);
        return;
      }
    }
    for (const auto& out : st.outs) {
      std::string abs = project_.Absolute(out.path);
      auto p = out.cache ? session_->Store(abs, false) : session_->Hash(abs);
      if (!p.ok()) {
        Finish(k, Outcome::kFailed,
               p.status().code() == StatusCode::kNotFound ? "did not produce its output " + out.path
                                                          : p.status().message(),
               1, start);
        return;
      }
      entry.outs.emplace_back(out.path, *p);
    }
    Status s = Commit(i, entry);
    if (!s.ok()) {
      Finish(k, Outcome::kFailed, s.message(), 1, start);
      return;
    }
    r.fingerprint = entry.fingerprint;
    Finish(k, Outcome::kRan, r.reason, 0, start);
  }

  // Records a successful stage: the lock (atomically) and the run cache.
  Status Commit(size_t i, const LockEntry& entry) PLINTH_EXCLUDES(lock_mu_) {
    const Stage& st = pipeline_.stages[i];
    core::MutexLock lock(lock_mu_);
    lock_.stages[st.name] = entry;
    PLINTH_RETURN_IF_ERROR(WriteLock(project_, pipeline_, lock_));
    bool all_cached =
        std::all_of(st.outs.begin(), st.outs.end(), [](const Out& o) { return o.cache; });
    if (all_cached && !entry.outs.empty()) {
      YAML::Emitter y;
      EmitOuts(y, entry.outs);
      std::string path = RunCachePath(project_, entry.fingerprint);
      std::error_code ec;
      fs::create_directories(fs::path(path).parent_path(), ec);
      PLINTH_RETURN_IF_ERROR(core::AtomicWriteFile(path, std::string(y.c_str()) + "\n"));
    }
    return Status::Ok();
  }

  void Finish(size_t k, Outcome o, const std::string& reason, int code, int64_t start_us)
      PLINTH_EXCLUDES(state_mu_) {
    core::MutexLock lock(state_mu_);
    StageReport& r = report_.stages[k];
    r.outcome = o;
    r.reason = reason;
    r.exit_code = code;
    r.seconds = start_us > 0
                    ? static_cast<double>(core::SystemClock().MonotonicMicros() - start_us) / 1e6
                    : 0;
    done_[k] = true;
    if (o == Outcome::kFailed) {
      failed_ = true;
    }
    char line[64];
    std::snprintf(line, sizeof line, " (%.1f s)", r.seconds);
    Print("stage " + r.name + ": " + std::string(OutcomeName(o)) +
          (reason.empty() ? "" : ": " + reason) +
          (o == Outcome::kRan || o == Outcome::kFailed ? line : ""));
    cv_.NotifyAll();
  }

  static bool Completed(Outcome o) {
    return o == Outcome::kUpToDate || o == Outcome::kRestored || o == Outcome::kRan ||
           o == Outcome::kWouldRun;
  }

  // Starts each stage when its upstream stages are done, up to opt_.jobs at once, and
  // returns when every stage finished. state_mu_ is held except around each stage's
  // checks (Finish and the fingerprint take their own locks).
  void Schedule() PLINTH_EXCLUDES(state_mu_) {
    std::map<size_t, size_t> index;  // stage -> position in plan
    for (size_t k = 0; k < plan_.size(); ++k) {
      index[plan_[k]] = k;
    }
    std::vector<bool> started(plan_.size(), false);
    std::vector<std::thread> workers;
    size_t running = 0;  // guarded by state_mu_
    state_mu_.Lock();
    done_.assign(plan_.size(), false);
    while (true) {
      bool launched = false;
      for (size_t k = 0; k < plan_.size(); ++k) {
        if (started[k]) {
          continue;
        }
        size_t i = plan_[k];
        const Stage& st = pipeline_.stages[i];
        bool ready = true;
        std::string blocker;
        for (size_t u : pipeline_.upstream[i]) {
          auto it = index.find(u);
          if (it == index.end()) {
            continue;
          }
          size_t uk = it->second;
          if (!done_[uk]) {
            ready = false;
          } else if (!Completed(report_.stages[uk].outcome)) {
            blocker = report_.stages[uk].name;
          }
        }
        if (!blocker.empty() || (failed_ && !opt_.keep_going)) {
          started[k] = true;
          state_mu_.Unlock();
          Finish(k, Outcome::kBlocked,
                 blocker.empty() ? "an earlier stage failed" : "waits for stage " + blocker, 0, 0);
          state_mu_.Lock();
          launched = true;
          continue;
        }
        if (!ready || running >= std::max<size_t>(opt_.jobs, 1)) {
          continue;
        }
        started[k] = true;
        launched = true;
        state_mu_.Unlock();
        // Gates, then the fingerprint decides.
        if (st.manual &&
            std::find(opt_.approve.begin(), opt_.approve.end(), st.name) == opt_.approve.end()) {
          Finish(k, Outcome::kWaitingApproval, "run with --approve " + st.name, 0, 0);
        } else if (!st.only.empty() &&
                   std::find(st.only.begin(), st.only.end(), branch_) == st.only.end()) {
          Finish(k, Outcome::kSkippedBranch,
                 "runs only on " + st.only[0] + (st.only.size() > 1 ? ", ..." : "") + "; this is " +
                     (branch_.empty() ? "not a git branch" : branch_),
                 0, 0);
        } else {
          auto fp = Fingerprint(i);
          if (!fp.ok()) {
            Finish(k, Outcome::kFailed, fp.status().message(), 1, 0);
          } else {
            report_.stages[k].fingerprint = fp->fingerprint;
            std::string why = WhyRun(i, *fp);
            if (why.empty()) {
              Finish(k, Outcome::kUpToDate, "", 0, 0);
            } else if (opt_.dry) {
              // Before the run cache: restoring outputs and writing the lock are changes.
              Finish(k, Outcome::kWouldRun, why, 0, 0);
            } else if (!opt_.force && !st.always_changed && TryRunCache(i, *fp)) {
              Status s = Commit(i, *fp);
              Finish(k, s.ok() ? Outcome::kRestored : Outcome::kFailed, s.ok() ? why : s.message(),
                     0, 0);
            } else {
              report_.stages[k].reason = why;
              Print("stage " + st.name + ": running (" + why + ")");
              {
                core::MutexLock l(state_mu_);
                ++running;
              }
              workers.emplace_back([this, k, entry = std::move(*fp), &running]() mutable {
                Execute(k, std::move(entry));
                core::MutexLock l(state_mu_);
                --running;
                cv_.NotifyAll();
              });
            }
          }
        }
        state_mu_.Lock();
      }
      if (std::all_of(done_.begin(), done_.end(), [](bool d) { return d; })) {
        break;
      }
      if (!launched) {
        cv_.Wait(state_mu_);
      }
    }
    state_mu_.Unlock();
    for (auto& w : workers) {
      w.join();
    }
  }

  Status BeginRecord() {
    PLINTH_ASSIGN_OR_RETURN(store::Database * db, project_.Store());
    PLINTH_RETURN_IF_ERROR(store::Migrate(*db, "pipeline", kMigrations));
    std::string targets;
    for (const auto& t : opt_.targets) {
      targets += (targets.empty() ? "" : " ") + t;
    }
    std::string commit = data::GitHead(project_);
    store::Value args[] = {core::FormatIsoMicros(core::SystemClock().NowMicros()),
                           std::string("running"), targets.empty() ? std::string("all") : targets,
                           commit.empty() ? store::Value() : store::Value(commit)};
    PLINTH_RETURN_IF_ERROR(db->Exec(
        "INSERT INTO pipeline_runs (started, status, targets, git_commit) VALUES (?, ?, ?, ?)",
        args));
    report_.run_id = db->LastInsertId();
    return Status::Ok();
  }

  Status EndRecord() {
    PLINTH_ASSIGN_OR_RETURN(store::Database * db, project_.Store());
    return db->Transaction([&]() -> Status {
      for (const auto& s : report_.stages) {
        store::Value args[] = {report_.run_id,
                               s.name,
                               s.fingerprint,
                               std::string(OutcomeName(s.outcome)),
                               s.reason,
                               int64_t{s.exit_code},
                               static_cast<int64_t>(s.seconds * 1000)};
        PLINTH_RETURN_IF_ERROR(db->Exec(
            "INSERT INTO pipeline_stage_runs (run_id, stage, fingerprint, outcome, reason, "
            "exit_code, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            args));
      }
      store::Value args[] = {core::FormatIsoMicros(core::SystemClock().NowMicros()),
                             std::string(report_.exit_code() == 0 ? "succeeded" : "failed"),
                             report_.run_id};
      return db->Exec("UPDATE pipeline_runs SET finished = ?, status = ? WHERE id = ?", args);
    });
  }

  data::Project& project_;
  const Pipeline& pipeline_;
  const RunOptions& opt_;
  std::vector<size_t> plan_;
  std::unique_ptr<data::DataSession> session_;
  std::map<std::string, YAML::Node> params_files_;
  std::string branch_;
  RunReport report_;
  core::Mutex lock_mu_;
  Lock lock_ PLINTH_GUARDED_BY(lock_mu_);  // plinth.lock as the run has it so far
  core::Mutex out_mu_;                     // one line at a time on opt_.out
  core::Mutex state_mu_;
  core::CondVar cv_;  // a stage finished
  std::vector<bool> done_ PLINTH_GUARDED_BY(state_mu_);
  bool failed_ PLINTH_GUARDED_BY(state_mu_) = false;
};

}  // namespace

Result<RunReport> Run(data::Project& project, const Pipeline& pipeline, const RunOptions& options) {
  Runner runner(project, pipeline, options);
  return runner.Run();
}

}  // namespace plinth::pipeline
