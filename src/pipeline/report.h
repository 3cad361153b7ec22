// What a pipeline shows: its graph, its metrics and parameters, and how they
// changed since a git revision.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/project.h"
#include "pipeline/spec.h"

namespace plinth::pipeline {

// The DAG as text (one line per stage: "name <- upstream, ...", in
// topological order) or as Graphviz dot.
std::string FormatDag(const Pipeline& pipeline, bool dot);

struct MetricValue {
  std::string file;   // relative to the root
  std::string key;    // dotted path inside the JSON
  std::string value;  // as JSON text
  std::optional<double> number;
};

// The metrics files of every stage, flattened. `rev` empty: the working tree;
// else the files at that git revision (absent files are skipped).
Result<std::vector<MetricValue>> ReadMetrics(const data::Project& project, const Pipeline& pipeline,
                                             const std::string& rev);

struct Change {
  std::string file, key;
  std::string before, after;    // "" when absent
  std::optional<double> delta;  // after - before, when both are numbers
};

// Metrics that differ between `rev` and the working tree.
Result<std::vector<Change>> DiffMetrics(const data::Project& project, const Pipeline& pipeline,
                                        const std::string& rev);
// Parameters the stages use that differ between `rev` and the working tree.
Result<std::vector<Change>> DiffParams(const data::Project& project, const Pipeline& pipeline,
                                       const std::string& rev);

}  // namespace plinth::pipeline
