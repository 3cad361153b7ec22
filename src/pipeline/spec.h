// plinth.yaml: a pipeline of stages, as DVC's dvc.yaml, plus CI/CD gates.
//
//   stages:
//     train:
//       cmd: python train.py            # or a list, run in order
//       deps: [data/features.csv, train.py]
//       params: [train.lr, train.epochs]     # keys of params.yaml; or {other.yaml: [k]}
//       outs: [models/model.bin]        # cached; {path: x, cache: false} to not cache
//       metrics: [metrics.json]         # JSON files, not cached, shown by metrics show/diff
//       needs: [validate]               # order without a file dependency
//       wdir: .                         # where cmd runs, relative to the project root
//       env: {SEED: "1"}
//       when: manual                    # runs only with plinth run --approve train
//       only: [main]                    # runs only on these git branches
//       cache: false                    # outs of this stage are not cached
//       always_changed: false           # run every time
//
// LoadPipeline validates everything it can before anything runs: unknown
// keys, unknown stages in needs, two stages writing one out, cycles, outputs
// that are Plinth's or git's own files or leave the project through a symlink. Errors
// name plinth.yaml, the line and the key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace plinth::pipeline {

struct Out {
  std::string path;  // relative to the project root
  bool cache = true;
  bool metric = false;
};

struct ParamRef {
  std::string file;  // relative to the project root
  std::string key;   // dotted
};

struct Stage {
  std::string name;
  std::vector<std::string> cmd;
  std::vector<std::string> deps;  // relative to the project root
  std::vector<ParamRef> params;
  std::vector<Out> outs;  // outs and metrics
  std::vector<std::string> needs;
  std::string wdir;  // relative to the project root; "" is the root
  std::map<std::string, std::string> env;
  bool manual = false;
  std::vector<std::string> only;
  bool always_changed = false;
  std::string where;  // plinth.yaml:LINE
};

struct Pipeline {
  std::string file;           // the plinth.yaml path
  std::vector<Stage> stages;  // in file order
  // upstream[i]: indices of the stages stage i waits for (needs + data).
  std::vector<std::vector<size_t>> upstream;

  // Index of the stage named `name`, or -1.
  int Find(const std::string& name) const;
  // `targets` and everything upstream of them, in a topological order.
  // kNotFound for an unknown stage name.
  Result<std::vector<size_t>> Plan(const std::vector<std::string>& targets) const;
};

// True when `inner` is `outer` or a path below it (both '/'-separated, normalized).
bool PathWithin(const std::string& inner, const std::string& outer);

// The value at dotted `key` (e.g. "train.lr") of a parameters document, as
// canonical flow YAML ("0.1", "[1, 2]", "{a: 1}"). kNotFound when absent.
Result<std::string> LookupParam(const YAML::Node& doc, const std::string& key);

// Refuses (kInvalidArgument naming plinth.yaml's line, the stage and the
// output) any output of `stage` that is .git, .plinth (or below them),
// plinth.yaml or plinth.lock, or that resolves through a symlink outside `root`
// or onto one of those: outputs are removed before their stage runs. Symlinks
// are resolved on disk as they are now; an empty `root` checks the names only.
// ParsePipeline calls it for every stage; the runner again just before it
// removes a stage's outputs (an earlier stage may have made a symlink).
Status CheckOutputs(const Stage& stage, const std::string& root);

// Loads `root`/plinth.yaml; paths are made relative to `root`.
Result<Pipeline> LoadPipeline(const std::string& root);
// Parses pipeline `text` (for tests); `source` names it in errors.
Result<Pipeline> ParsePipeline(std::string_view text, const std::string& source,
                               const std::string& root);

}  // namespace plinth::pipeline
