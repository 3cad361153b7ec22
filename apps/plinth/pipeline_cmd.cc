// plinth run | repro | dag | metrics | params: the pipeline in plinth.yaml.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "core/text_table.h"
#include "data/project.h"
#include "pipeline/report.h"
#include "pipeline/runner.h"

namespace plinth::cli {
namespace {

struct Loaded {
  data::Project project;
  pipeline::Pipeline pipeline;
};

Result<Loaded> Load() {
  PLINTH_ASSIGN_OR_RETURN(data::Project project,
                          data::Project::Find(std::filesystem::current_path().string()));
  PLINTH_ASSIGN_OR_RETURN(pipeline::Pipeline p, pipeline::LoadPipeline(project.root()));
  return Loaded{std::move(project), std::move(p)};
}

int RunPipeline(const pipeline::RunOptions& opt) {
  auto l = Load();
  if (!l.ok()) {
    return ReportError(l.status());
  }
  auto r = pipeline::Run(l->project, l->pipeline, opt);
  if (!r.ok()) {
    return ReportError(r.status());
  }
  core::TextTable t({"stage", "outcome", "reason", "seconds"}, {false, false, false, true});
  for (const auto& s : r->stages) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", s.seconds);
    t.AddRow({s.name, std::string(pipeline::OutcomeName(s.outcome)), s.reason,
              s.outcome == pipeline::Outcome::kRan || s.outcome == pipeline::Outcome::kFailed
                  ? secs
                  : ""});
  }
  std::printf("\n%s", t.Render(60).c_str());
  if (r->run_id > 0) {
    std::printf("pipeline run %lld recorded\n", static_cast<long long>(r->run_id));
  }
  return r->exit_code();
}

void PrintChanges(const std::vector<pipeline::Change>& changes, const std::string& rev,
                  const char* what) {
  if (changes.empty()) {
    std::printf("no %s changed since %s\n", what, rev.c_str());
    return;
  }
  core::TextTable t({"file", "key", rev, "now", "change"}, {false, false, true, true, true});
  for (const auto& c : changes) {
    char delta[48] = "";
    if (c.delta) {
      std::snprintf(delta, sizeof delta, "%+g", *c.delta);
    }
    t.AddRow(
        {c.file, c.key, c.before.empty() ? "-" : c.before, c.after.empty() ? "-" : c.after, delta});
  }
  std::fputs(t.Render(40).c_str(), stdout);
}

}  // namespace

void RegisterPipeline(CLI::App& app, Runner& run) {
  for (const char* name : {"run", "repro"}) {
    auto opt = std::make_shared<pipeline::RunOptions>();
    CLI::App* cmd = app.add_subcommand(
        name,
        std::string(name) == "run"
            ? "Run the pipeline in plinth.yaml: stages whose inputs changed, in dependency order"
            : "Same as run (DVC's name)");
    cmd->add_option("STAGE", opt->targets, "stages to bring up to date (with what they need)");
    cmd->add_option("-j,--jobs", opt->jobs, "independent stages at once")
        ->check(ThreadCount(1))
        ->capture_default_str();
    cmd->add_flag("--dry", opt->dry, "print what would run and why; run nothing");
    cmd->add_flag("-k,--keep-going", opt->keep_going,
                  "after a failure, still run the stages that do not depend on it");
    cmd->add_flag("-f,--force", opt->force, "run the stages even if up to date");
    cmd->add_option("--approve", opt->approve, "manual stages (when: manual) allowed to run");
    cmd->callback([opt, &run] { run = [opt] { return RunPipeline(*opt); }; });
  }

  auto dot = std::make_shared<bool>(false);
  CLI::App* dag = app.add_subcommand("dag", "The pipeline's stages and what each waits for");
  dag->add_flag("--dot", *dot, "Graphviz dot instead of text");
  dag->callback([dot, &run] {
    run = [dot] {
      auto l = Load();
      if (!l.ok()) {
        return ReportError(l.status());
      }
      std::fputs(pipeline::FormatDag(l->pipeline, *dot).c_str(), stdout);
      return kExitOk;
    };
  });

  CLI::App* metrics = app.add_subcommand("metrics", "Metrics the stages write (JSON files)");
  metrics->require_subcommand(1);
  CLI::App* show = metrics->add_subcommand("show", "Every metric of the working tree");
  show->callback([&run] {
    run = [] {
      auto l = Load();
      if (!l.ok()) {
        return ReportError(l.status());
      }
      auto m = pipeline::ReadMetrics(l->project, l->pipeline, "");
      if (!m.ok()) {
        return ReportError(m.status());
      }
      if (m->empty()) {
        std::puts("no metrics: no file a stage lists under 'metrics' in plinth.yaml exists yet");
        return kExitOk;
      }
      core::TextTable t({"file", "key", "value"}, {false, false, true});
      for (const auto& v : *m) {
        t.AddRow({v.file, v.key, v.value});
      }
      std::fputs(t.Render(60).c_str(), stdout);
      return kExitOk;
    };
  });
  auto mrev = std::make_shared<std::string>("HEAD");
  CLI::App* mdiff = metrics->add_subcommand("diff", "Metrics that changed since a git revision");
  mdiff->add_option("REV", *mrev, "git revision")->capture_default_str();
  mdiff->callback([mrev, &run] {
    run = [mrev] {
      auto l = Load();
      if (!l.ok()) {
        return ReportError(l.status());
      }
      auto c = pipeline::DiffMetrics(l->project, l->pipeline, *mrev);
      if (!c.ok()) {
        return ReportError(c.status());
      }
      PrintChanges(*c, *mrev, "metric");
      return kExitOk;
    };
  });

  CLI::App* params = app.add_subcommand("params", "Parameters the stages use");
  params->require_subcommand(1);
  auto prev = std::make_shared<std::string>("HEAD");
  CLI::App* pdiff = params->add_subcommand("diff", "Parameters that changed since a git revision");
  pdiff->add_option("REV", *prev, "git revision")->capture_default_str();
  pdiff->callback([prev, &run] {
    run = [prev] {
      auto l = Load();
      if (!l.ok()) {
        return ReportError(l.status());
      }
      auto c = pipeline::DiffParams(l->project, l->pipeline, *prev);
      if (!c.ok()) {
        return ReportError(c.status());
      }
      PrintChanges(*c, *prev, "parameter");
      return kExitOk;
    };
  });
}

}  // namespace plinth::cli
