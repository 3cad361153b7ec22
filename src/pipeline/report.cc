#include "pipeline/report.h"

#include <cstdlib>
#include <map>
#include <set>

#include "core/file.h"
#include "core/json.h"
#include "core/yaml.h"
#include "data/sync.h"
#include "data/workspace.h"

namespace plinth::pipeline {
namespace {

void Flatten(const core::Json& j, const std::string& prefix, const std::string& file,
             std::vector<MetricValue>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), file, out);
    }
    return;
  }
  if (j.is_array()) {
    return;  // lists (per-check results, ...) are details, not metrics
  }
  MetricValue m{file, prefix, core::DumpJson(j, false), std::nullopt};
  if (j.is_number()) {
    m.number = j.get<double>();
  }
  out.push_back(std::move(m));
}

Result<std::string> ReadAt(const data::Project& project, const std::string& rev,
                           const std::string& path) {
  if (rev.empty()) {
    return core::ReadFile(project.Absolute(path));
  }
  return data::GitShow(project, rev, path);
}

// kInvalidArgument unless `rev` names a commit; checked up front, since a
// pipeline without metrics or parameters reads nothing at `rev`.
Status CheckRevision(const data::Project& project, const std::string& rev) {
  if (data::GitLine(project, {"rev-parse", "--verify", "--quiet", rev + "^{commit}"}).empty()) {
    return InvalidArgument("unknown git revision \"" + rev + "\"");
  }
  return Status::Ok();
}

bool ParseNumber(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

std::vector<Change> Compare(const std::map<std::pair<std::string, std::string>,
                                           std::pair<std::string, std::optional<double>>>& before,
                            const std::map<std::pair<std::string, std::string>,
                                           std::pair<std::string, std::optional<double>>>& after) {
  std::vector<Change> out;
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto& [k, v] : before) {
    keys.insert(k);
  }
  for (const auto& [k, v] : after) {
    keys.insert(k);
  }
  for (const auto& k : keys) {
    auto b = before.find(k);
    auto a = after.find(k);
    std::string bv = b == before.end() ? "" : b->second.first;
    std::string av = a == after.end() ? "" : a->second.first;
    if (bv == av) {
      continue;
    }
    Change c{k.first, k.second, bv, av, std::nullopt};
    if (b != before.end() && a != after.end() && b->second.second && a->second.second) {
      c.delta = *a->second.second - *b->second.second;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::string FormatDag(const Pipeline& pipeline, bool dot) {
  auto order = pipeline.Plan({});
  std::string out;
  if (dot) {
    out = "digraph pipeline {\n  rankdir=LR;\n";
    for (const auto& st : pipeline.stages) {
      out += "  \"" + st.name + "\"" + (st.manual ? " [shape=box, style=dashed]" : " [shape=box]") +
             ";\n";
    }
    for (size_t i = 0; i < pipeline.stages.size(); ++i) {
      for (size_t u : pipeline.upstream[i]) {
        out += "  \"" + pipeline.stages[u].name + "\" -> \"" + pipeline.stages[i].name + "\";\n";
      }
    }
    return out + "}\n";
  }
  for (size_t i : *order) {
    const Stage& st = pipeline.stages[i];
    out += st.name;
    if (!pipeline.upstream[i].empty()) {
      out += " <- ";
      for (size_t k = 0; k < pipeline.upstream[i].size(); ++k) {
        out += (k ? ", " : "") + pipeline.stages[pipeline.upstream[i][k]].name;
      }
    }
    if (st.manual) {
      out += "  (manual)";
    }
    if (!st.only.empty()) {
      out += "  (only: " + st.only[0] + (st.only.size() > 1 ? ", ..." : "") + ")";
    }
    out += "\n";
  }
  return out;
}

Result<std::vector<MetricValue>> ReadMetrics(const data::Project& project, const Pipeline& pipeline,
                                             const std::string& rev) {
  std::vector<MetricValue> out;
  for (const auto& st : pipeline.stages) {
    for (const auto& o : st.outs) {
      if (!o.metric) {
        continue;
      }
      auto text = ReadAt(project, rev, o.path);
      if (!text.ok()) {
        if (text.status().code() == StatusCode::kNotFound) {
          continue;
        }
        return text.status();
      }
      PLINTH_ASSIGN_OR_RETURN(core::Json j,
                              core::ParseJson(*text, (rev.empty() ? "" : rev + ":") + o.path));
      Flatten(j, "", o.path, out);
    }
  }
  return out;
}

Result<std::vector<Change>> DiffMetrics(const data::Project& project, const Pipeline& pipeline,
                                        const std::string& rev) {
  PLINTH_RETURN_IF_ERROR(CheckRevision(project, rev));
  PLINTH_ASSIGN_OR_RETURN(auto before_list, ReadMetrics(project, pipeline, rev));
  PLINTH_ASSIGN_OR_RETURN(auto after_list, ReadMetrics(project, pipeline, ""));
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::optional<double>>>
      before, after;
  for (const auto& m : before_list) {
    before[{m.file, m.key}] = {m.value, m.number};
  }
  for (const auto& m : after_list) {
    after[{m.file, m.key}] = {m.value, m.number};
  }
  return Compare(before, after);
}

Result<std::vector<Change>> DiffParams(const data::Project& project, const Pipeline& pipeline,
                                       const std::string& rev) {
  PLINTH_RETURN_IF_ERROR(CheckRevision(project, rev));
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::optional<double>>>
      sides[2];
  for (int side = 0; side < 2; ++side) {
    std::map<std::string, std::optional<YAML::Node>> docs;
    for (const auto& st : pipeline.stages) {
      for (const auto& ref : st.params) {
        if (docs.count(ref.file) == 0) {
          auto text = ReadAt(project, side == 0 ? rev : "", ref.file);
          if (!text.ok() && text.status().code() != StatusCode::kNotFound) {
            return text.status();  // e.g. an unknown revision
          }
          std::optional<YAML::Node> doc;
          if (text.ok()) {
            PLINTH_ASSIGN_OR_RETURN(YAML::Node d, core::ParseYaml(*text, ref.file));
            doc = d;
          }
          docs[ref.file] = doc;
        }
        const auto& doc = docs[ref.file];
        if (!doc) {
          continue;
        }
        auto value = LookupParam(*doc, ref.key);
        if (!value.ok()) {
          continue;
        }
        std::optional<double> num;
        double d;
        if (ParseNumber(*value, d)) {
          num = d;
        }
        sides[side][{ref.file, ref.key}] = {*value, num};
      }
    }
  }
  return Compare(sides[0], sides[1]);
}

}  // namespace plinth::pipeline
