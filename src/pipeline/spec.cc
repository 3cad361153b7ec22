#include "pipeline/spec.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>

#include "core/file.h"
#include "core/yaml.h"

namespace plinth::pipeline {
namespace fs = std::filesystem;

namespace {

const std::set<std::string>& StageKeys() {
  static const std::set<std::string> kKeys = {
      "cmd", "deps", "params", "outs",  "metrics",        "needs", "wdir",
      "env", "when", "only",   "cache", "always_changed", "desc"};
  return kKeys;
}

std::string JoinKeys(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    out += (out.empty() ? "" : ", ") + k;
  }
  return out;
}

// `p` (relative to `wdir`) as a normalized path relative to the root; error if
// it leaves the project.
Result<std::string> RootRelative(const std::string& wdir, const std::string& p,
                                 const std::string& where) {
  fs::path joined = fs::path(wdir.empty() ? "." : wdir) / p;
  std::string norm = joined.lexically_normal().generic_string();
  while (norm.size() > 1 && norm.back() == '/') {
    norm.pop_back();
  }
  if (fs::path(p).is_absolute() || norm == ".." || norm.rfind("../", 0) == 0) {
    return InvalidArgument(where + ": path \"" + p + "\" is outside the project");
  }
  return norm == "." ? std::string() : norm;
}

// Either a scalar or a list of scalars. `where` names the stage ("plinth.yaml:3:
// stage 'a'"), `source` the file, for the line of a bad item.
Result<std::vector<std::string>> Strings(const YAML::Node& node, const std::string& where,
                                         const std::string& source, const std::string& stage,
                                         const std::string& key) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) {
    return InvalidArgument(where + ": key '" + key + "': expected a string or a list of strings");
  }
  for (const auto& n : node) {
    if (!n.IsScalar()) {
      return InvalidArgument(core::YamlWhere(n, source) + ": stage '" + stage + "': key '" + key +
                             "': expected a list of strings");
    }
    out.push_back(n.Scalar());
  }
  return out;
}

}  // namespace

bool PathWithin(const std::string& inner, const std::string& outer) {
  return inner == outer ||
         (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
          inner[outer.size()] == '/');
}

namespace {

Result<Stage> ParseStage(const std::string& name, const YAML::Node& node,
                         const std::string& source) {
  Stage st;
  st.name = name;
  st.where = core::YamlWhere(node, source);
  std::string where = st.where + ": stage '" + name + "'";
  if (!node.IsMap()) {
    return InvalidArgument(where + ": expected a mapping with at least 'cmd'");
  }
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (StageKeys().count(key) == 0) {
      return InvalidArgument(core::YamlWhere(kv.first, source) + ": stage '" + name +
                             "': unknown key '" + key + "' (expected " + JoinKeys(StageKeys()) +
                             ")");
    }
  }
  if (!node["cmd"]) {
    return InvalidArgument(where + ": missing key 'cmd'");
  }
  if (node["wdir"]) {
    PLINTH_ASSIGN_OR_RETURN(std::string wdir,
                            core::YamlAs<std::string>(node["wdir"], where, "wdir", "a directory"));
    PLINTH_ASSIGN_OR_RETURN(st.wdir, RootRelative("", wdir, where));
  }
  PLINTH_ASSIGN_OR_RETURN(st.cmd, Strings(node["cmd"], where, source, name, "cmd"));
  if (st.cmd.empty()) {
    return InvalidArgument(where + ": key 'cmd': expected a command");
  }
  if (node["deps"]) {
    PLINTH_ASSIGN_OR_RETURN(auto deps, Strings(node["deps"], where, source, name, "deps"));
    for (const auto& d : deps) {
      PLINTH_ASSIGN_OR_RETURN(std::string rel, RootRelative(st.wdir, d, where));
      st.deps.push_back(rel);
    }
  }
  bool stage_cache = true;
  if (node["cache"]) {
    PLINTH_ASSIGN_OR_RETURN(stage_cache,
                            core::YamlAs<bool>(node["cache"], where, "cache", "true or false"));
  }
  for (const char* key : {"outs", "metrics"}) {
    const YAML::Node list = node[key];
    if (!list) {
      continue;
    }
    if (!list.IsSequence()) {
      return InvalidArgument(where + ": key '" + key + "': expected a list");
    }
    for (const auto& item : list) {
      Out out;
      out.metric = std::string(key) == "metrics";
      out.cache = stage_cache;
      std::string path;
      if (item.IsScalar()) {
        path = item.Scalar();
      } else if (item.IsMap() && item["path"]) {
        std::string w = core::YamlWhere(item, source);
        PLINTH_ASSIGN_OR_RETURN(path, core::YamlAs<std::string>(item["path"], w, "path", "a path"));
        if (item["cache"]) {
          PLINTH_ASSIGN_OR_RETURN(out.cache,
                                  core::YamlAs<bool>(item["cache"], w, "cache", "true or false"));
        }
      } else {
        return InvalidArgument(core::YamlWhere(item, source) + ": key '" + key +
                               "': expected a path or {path: P, cache: false}");
      }
      PLINTH_ASSIGN_OR_RETURN(out.path, RootRelative(st.wdir, path, where));
      if (out.path.empty()) {
        return InvalidArgument(where + ": key '" + key + "': the project root cannot be an output");
      }
      st.outs.push_back(out);
    }
  }
  if (const YAML::Node params = node["params"]) {
    if (!params.IsSequence()) {
      return InvalidArgument(where + ": key 'params': expected a list of keys or {FILE: [keys]}");
    }
    for (const auto& p : params) {
      if (p.IsScalar()) {
        st.params.push_back({"params.yaml", p.Scalar()});
      } else if (p.IsMap()) {
        for (const auto& kv : p) {
          PLINTH_ASSIGN_OR_RETURN(auto keys, Strings(kv.second, where, source, name, "params"));
          PLINTH_ASSIGN_OR_RETURN(std::string file,
                                  RootRelative(st.wdir, kv.first.Scalar(), where));
          for (const auto& k : keys) {
            st.params.push_back({file, k});
          }
        }
      } else {
        return InvalidArgument(core::YamlWhere(p, source) +
                               ": key 'params': expected a key or {FILE: [keys]}");
      }
    }
  }
  if (node["needs"]) {
    PLINTH_ASSIGN_OR_RETURN(st.needs, Strings(node["needs"], where, source, name, "needs"));
  }
  if (const YAML::Node env = node["env"]) {
    if (!env.IsMap()) {
      return InvalidArgument(where + ": key 'env': expected a mapping NAME: value");
    }
    for (const auto& kv : env) {
      st.env[kv.first.Scalar()] = kv.second.IsScalar() ? kv.second.Scalar() : "";
    }
  }
  if (node["when"]) {
    PLINTH_ASSIGN_OR_RETURN(std::string when,
                            core::YamlAs<std::string>(node["when"], where, "when", "manual"));
    if (when != "manual" && when != "always") {
      return InvalidArgument(where + ": key 'when': expected manual or always, got \"" + when +
                             "\"");
    }
    st.manual = when == "manual";
  }
  if (node["only"]) {
    PLINTH_ASSIGN_OR_RETURN(st.only, Strings(node["only"], where, source, name, "only"));
  }
  if (node["always_changed"]) {
    PLINTH_ASSIGN_OR_RETURN(
        st.always_changed,
        core::YamlAs<bool>(node["always_changed"], where, "always_changed", "true or false"));
  }
  return st;
}

// What `rel` (relative to the project root) names that Plinth or git own, or ""
// when nothing: .git and .plinth with everything below them, plinth.yaml,
// plinth.lock, params.yaml and pointer files (*.plinth). A stage's outputs are
// removed before it runs, so none may be one.
std::string_view ReservedPart(const std::string& rel) {
  std::string_view first(rel.data(), std::min(rel.find('/'), rel.size()));
  if (first == ".git" || first == ".plinth") {
    return first;
  }
  if (rel == "plinth.yaml" || rel == "plinth.lock" || rel == "params.yaml" ||
      rel.ends_with(".plinth")) {
    return rel;
  }
  return "";
}

// Refuses an output of `stage` that names something Plinth or git own, or that
// resolves (through symlinks in the project) outside `root` or onto such a thing.
Status CheckOutput(const std::string& root, const Stage& stage, const std::string& out) {
  std::string where = stage.where + ": stage '" + stage.name + "': output " + out;
  if (std::string_view part = ReservedPart(out); !part.empty()) {
    return InvalidArgument(where + " is " + std::string(part) +
                           ", which Plinth or git own (a stage's outputs are removed before it "
                           "runs); write somewhere else");
  }
  if (root.empty()) {
    return Status::Ok();  // a pipeline parsed without a project: nothing on disk to resolve
  }
  std::error_code ec;
  fs::path real_root = fs::weakly_canonical(root, ec);
  if (ec) {
    return IoError(root + ": " + ec.message());
  }
  // Component by component, so that a dangling symlink (which weakly_canonical
  // takes as a plain name) is followed too.
  fs::path real = real_root;
  for (const auto& part : fs::path(out)) {
    real /= part;
    for (int hops = 0; fs::is_symlink(fs::symlink_status(real, ec)); ++hops) {
      fs::path link = real;
      fs::path target = fs::read_symlink(link, ec);
      if (!ec && hops < 40) {
        real =
            fs::weakly_canonical(target.is_absolute() ? target : link.parent_path() / target, ec);
      }
      if (ec || hops == 40) {
        return InvalidArgument(where + ": cannot resolve the symlink " + link.string() + ": " +
                               (ec ? ec.message() : "too many levels of symbolic links"));
      }
    }
  }
  std::string resolved = real.lexically_relative(real_root).generic_string();
  if (resolved.empty() || resolved == ".") {
    return InvalidArgument(where + " resolves through a symlink to the project root " +
                           real_root.string() + ", which cannot be an output");
  }
  if (resolved == ".." || resolved.rfind("../", 0) == 0) {
    return InvalidArgument(where + " resolves through a symlink to " + real.string() +
                           ", outside the project at " + real_root.string() +
                           "; outputs stay inside the project");
  }
  if (std::string_view part = ReservedPart(resolved); !part.empty()) {
    return InvalidArgument(where + " resolves through a symlink to " + resolved +
                           (part == resolved ? "" : ", inside " + std::string(part)) +
                           ", which Plinth or git own; write somewhere else");
  }
  return Status::Ok();
}

}  // namespace

Status CheckOutputs(const Stage& stage, const std::string& root) {
  for (const auto& o : stage.outs) {
    PLINTH_RETURN_IF_ERROR(CheckOutput(root, stage, o.path));
  }
  return Status::Ok();
}

namespace {

// Walks `node` along the parts of `key` without assigning Nodes (assignment
// in yaml-cpp rebinds through the tree).
std::optional<YAML::Node> Walk(const YAML::Node& node, std::string_view key) {
  size_t dot = key.find('.');
  std::string part(key.substr(0, dot));
  if (!node.IsMap()) {
    return std::nullopt;
  }
  const YAML::Node child = node[part];
  if (!child) {
    return std::nullopt;
  }
  if (dot == std::string_view::npos) {
    return child;
  }
  return Walk(child, key.substr(dot + 1));
}

}  // namespace

Result<std::string> LookupParam(const YAML::Node& doc, const std::string& key) {
  std::optional<YAML::Node> v = Walk(doc, key);
  if (!v) {
    return NotFound("parameter " + key + " is not there");
  }
  YAML::Emitter e;
  e << YAML::Flow << *v;
  return std::string(e.c_str());
}

int Pipeline::Find(const std::string& name) const {
  for (size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Result<std::vector<size_t>> Pipeline::Plan(const std::vector<std::string>& targets) const {
  std::vector<bool> wanted(stages.size(), targets.empty());
  std::function<void(size_t)> mark = [&](size_t i) {
    if (wanted[i] && !targets.empty()) {
      return;
    }
    wanted[i] = true;
    for (size_t u : upstream[i]) {
      mark(u);
    }
  };
  for (const auto& t : targets) {
    int i = Find(t);
    if (i < 0) {
      return NotFound(file + ": no stage named \"" + t + "\"");
    }
    mark(static_cast<size_t>(i));
  }
  // Kahn's algorithm over the wanted stages, file order among the ready ones.
  std::vector<size_t> order;
  std::vector<int> pending(stages.size(), 0);
  for (size_t i = 0; i < stages.size(); ++i) {
    for (size_t u : upstream[i]) {
      pending[i] += wanted[u] ? 1 : 0;
    }
  }
  std::vector<bool> done(stages.size(), false);
  while (true) {
    bool progressed = false;
    for (size_t i = 0; i < stages.size(); ++i) {
      if (!wanted[i] || done[i] || pending[i] != 0) {
        continue;
      }
      done[i] = true;
      order.push_back(i);
      progressed = true;
      for (size_t j = 0; j < stages.size(); ++j) {
        for (size_t u : upstream[j]) {
          if (u == i) {
            --pending[j];
          }
        }
      }
      break;
    }
    if (!progressed) {
      break;
    }
  }
  return order;
}

Result<Pipeline> ParsePipeline(std::string_view text, const std::string& source,
                               const std::string& root) {
  PLINTH_ASSIGN_OR_RETURN(YAML::Node doc, core::ParseYaml(text, source));
  Pipeline p;
  p.file = source;
  if (!doc.IsMap() || !doc["stages"]) {
    return InvalidArgument(source + ": expected a mapping with a 'stages' key");
  }
  for (const auto& kv : doc) {
    std::string key = kv.first.Scalar();
    if (key != "stages") {
      return InvalidArgument(core::YamlWhere(kv.first, source) + ": unknown key '" + key +
                             "' (expected stages)");
    }
  }
  const YAML::Node stages = doc["stages"];
  if (!stages.IsMap() || stages.size() == 0) {
    return InvalidArgument(core::YamlWhere(stages, source) +
                           ": 'stages' must map stage names to stages");
  }
  try {
    for (const auto& kv : stages) {
      std::string name = kv.first.Scalar();
      if (name.empty() || name.find_first_of(" /:@") != std::string::npos) {
        return InvalidArgument(core::YamlWhere(kv.first, source) + ": stage name \"" + name +
                               "\": use letters, digits, - and _");
      }
      PLINTH_ASSIGN_OR_RETURN(Stage st, ParseStage(name, kv.second, source));
      p.stages.push_back(std::move(st));
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  // Outputs: one writer each, and none inside another.
  std::vector<std::pair<size_t, std::string>> outs;
  for (size_t i = 0; i < p.stages.size(); ++i) {
    for (const auto& o : p.stages[i].outs) {
      outs.emplace_back(i, o.path);
    }
  }
  for (size_t k = 0; k < outs.size(); ++k) {
    for (size_t l = k + 1; l < outs.size(); ++l) {
      const auto& [i, a] = outs[k];
      const auto& [j, b] = outs[l];
      if (PathWithin(a, b) || PathWithin(b, a)) {
        return InvalidArgument(p.stages[j].where + ": stage '" + p.stages[j].name + "' writes " +
                               b + ", which overlaps " + a + " written by stage '" +
                               p.stages[i].name + "'; every output has one stage");
      }
    }
  }
  // Edges: needs, and deps on other stages' outputs.
  p.upstream.assign(p.stages.size(), {});
  for (size_t i = 0; i < p.stages.size(); ++i) {
    std::set<size_t> up;
    for (const auto& n : p.stages[i].needs) {
      int j = p.Find(n);
      if (j < 0) {
        return InvalidArgument(p.stages[i].where + ": stage '" + p.stages[i].name +
                               "': key 'needs': no stage named \"" + n + "\"");
      }
      up.insert(static_cast<size_t>(j));
    }
    for (const auto& dep : p.stages[i].deps) {
      for (size_t j = 0; j < p.stages.size(); ++j) {
        for (const auto& out : p.stages[j].outs) {
          if (PathWithin(dep, out.path) || PathWithin(out.path, dep)) {
            if (j == i) {
              return InvalidArgument(p.stages[i].where + ": stage '" + p.stages[i].name +
                                     "' depends on its own output " + out.path);
            }
            up.insert(j);
          }
        }
      }
    }
    p.upstream[i].assign(up.begin(), up.end());
  }
  // Cycles: a depth-first search that reports the loop.
  std::vector<int> color(p.stages.size(), 0);
  std::vector<size_t> path;
  std::function<Status(size_t)> visit = [&](size_t i) -> Status {
    color[i] = 1;
    path.push_back(i);
    for (size_t u : p.upstream[i]) {
      if (color[u] == 1) {
        std::string loop;
        auto it = std::find(path.begin(), path.end(), u);
        for (; it != path.end(); ++it) {
          loop += p.stages[*it].name + " -> ";
        }
        return InvalidArgument(source + ": the stages form a cycle: " + loop + p.stages[u].name);
      }
      if (color[u] == 0) {
        PLINTH_RETURN_IF_ERROR(visit(u));
      }
    }
    path.pop_back();
    color[i] = 2;
    return Status::Ok();
  };
  for (size_t i = 0; i < p.stages.size(); ++i) {
    if (color[i] == 0) {
      PLINTH_RETURN_IF_ERROR(visit(i));
    }
  }
  for (const auto& st : p.stages) {
    PLINTH_RETURN_IF_ERROR(CheckOutputs(st, root));
  }
  return p;
}

Result<Pipeline> LoadPipeline(const std::string& root) {
  std::string file = root + "/plinth.yaml";
  auto text = core::ReadFile(file);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFound(file + ": no pipeline here (write plinth.yaml; see docs/FORMATS.md)");
    }
    return text.status();
  }
  return ParsePipeline(*text, file, root);
}

}  // namespace plinth::pipeline
