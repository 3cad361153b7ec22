// Running a pipeline: fingerprint each stage (command, dependencies' hashes,
// parameter values, declared outputs), skip a stage whose fingerprint matches
// plinth.lock and whose outputs are intact, restore outputs from the run cache
// when the same fingerprint ran before, run the rest (independent stages in
// parallel), and record everything in plinth.lock (after each successful
// stage, atomically) and in the metadata store.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/project.h"
#include "pipeline/spec.h"

namespace plinth::pipeline {

struct RunOptions {
  std::vector<std::string> targets;  // empty: every stage
  size_t jobs = 1;                   // stages at once
  bool dry = false;                  // say what would run and why; run nothing
  bool keep_going = false;           // after a failure, run what does not depend on it
  bool force = false;                // run the targets even when up to date
  std::vector<std::string> approve;  // manual stages allowed to run
  std::FILE* out = stdout;           // where stage output and progress go
};

enum class Outcome {
  kUpToDate,
  kRestored,  // outputs restored from the run cache
  kRan,
  kWouldRun,  // --dry
  kFailed,
  kWaitingApproval,  // when: manual, not approved
  kSkippedBranch,    // only: another branch
  kBlocked,          // an upstream stage did not complete
};

std::string_view OutcomeName(Outcome o);

struct StageReport {
  std::string name;
  Outcome outcome = Outcome::kBlocked;
  std::string reason;  // why it ran, or why not
  int exit_code = 0;
  double seconds = 0;
  std::string fingerprint;
};

struct RunReport {
  int64_t run_id = 0;               // the pipeline_runs row (0 for --dry)
  std::vector<StageReport> stages;  // in plan order
  // 0 when nothing failed; else the first failing stage's exit code (1 if it had none).
  int exit_code() const;
};

// Runs `pipeline` in `project`. Problems found before anything runs (a missing
// dependency no stage produces, an unknown parameter) are returned as errors;
// stage failures are reported in the RunReport.
Result<RunReport> Run(data::Project& project, const Pipeline& pipeline, const RunOptions& options);

}  // namespace plinth::pipeline
