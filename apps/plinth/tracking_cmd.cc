// plinth experiments ls|create|delete
// plinth runs ls|show|compare|search
// plinth models ls|versions|alias|stage|history|protect|unprotect|approve
// plinth lineage ID
// Tables on a terminal, --json for scripts; the store as tracking_context.h finds it.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "commands.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/text_table.h"
#include "gates/suite.h"
#include "table/reader.h"
#include "tracking/lineage.h"
#include "tracking/mlflow_json.h"
#include "tracking_context.h"

namespace plinth::cli {
namespace {

using core::Json;

std::string Time(int64_t ms) {
  if (ms <= 0) {
    return "";
  }
  std::string iso = core::FormatIsoMicros(ms * 1000);
  return iso.substr(0, 19);  // 2026-11-26T07:56:56
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

int Print(const TrackingFlags& f, const Json& json, const std::string& table) {
  std::printf("%s", f.json ? (core::DumpJson(json) + "\n").c_str() : table.c_str());
  return kExitOk;
}

// Runs `body` with the opened store, reporting errors.
int WithStore(const TrackingFlags& f, const std::function<Result<int>(TrackingContext&)>& body) {
  Result<TrackingContext> ctx = OpenTracking(f, true);
  if (!ctx.ok()) {
    return ReportError(ctx.status());
  }
  Result<int> code = body(*ctx);
  return code.ok() ? *code : ReportError(code.status());
}

// An experiment by name or id.
Result<tracking::Experiment> FindExperiment(tracking::TrackingStore& s, const std::string& key) {
  Result<tracking::Experiment> e = s.GetExperimentByName(key);
  if (e.ok() || e.status().code() != StatusCode::kNotFound) {
    return e;
  }
  Result<tracking::Experiment> by_id = s.GetExperiment(key);
  if (by_id.ok()) {
    return by_id;
  }
  return NotFound("no experiment named or numbered '" + key + "'");
}

struct ExperimentFlags : TrackingFlags {
  std::string name;
  bool all = false;
};

struct RunFlags : TrackingFlags {
  std::string experiment;
  std::string filter;
  std::vector<std::string> order_by;
  int64_t max_results = 100;
  std::vector<std::string> ids;
  bool all = false;
};

struct ModelFlags : TrackingFlags {
  std::string name;
  std::string alias;
  std::string version;
  std::string stage;
  bool remove = false;
  bool archive_existing = false;
  bool force = false;  // a protected alias, with `reason`
  std::string reason;
  std::string gates;  // protect: the gates file
  int64_t approvals = 0;
};

int ExperimentsLs(const ExperimentFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    tracking::ExperimentQuery q;
    q.view_type = f.all ? tracking::ViewType::kAll : tracking::ViewType::kActiveOnly;
    q.max_results = 50000;
    PLINTH_ASSIGN_OR_RETURN(auto page, ctx.tracking->SearchExperiments(q));
    Json json = Json::array();
    core::TextTable t({"id", "name", "stage", "created", "artifacts"},
                      {true, false, false, false, false});
    for (const auto& e : page.items) {
      json.push_back(tracking::ToJson(e));
      t.AddRow(
          {e.experiment_id, e.name, e.lifecycle_stage, Time(e.creation_time), e.artifact_location});
    }
    return Print(f, json, t.Render(40));
  });
}

int ExperimentsCreate(const ExperimentFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_ASSIGN_OR_RETURN(std::string id, ctx.tracking->CreateExperiment(f.name, "", {}));
    return Print(f, Json{{"experiment_id", id}}, "created experiment " + id + "\n");
  });
}

int ExperimentsDelete(const ExperimentFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_ASSIGN_OR_RETURN(auto e, FindExperiment(*ctx.tracking, f.name));
    PLINTH_RETURN_IF_ERROR(ctx.tracking->DeleteExperiment(e.experiment_id));
    return Print(f, Json{{"experiment_id", e.experiment_id}},
                 "deleted experiment " + e.experiment_id + " (" + e.name + ")\n");
  });
}

int RunsLs(const RunFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    tracking::RunQuery q;
    if (!f.experiment.empty()) {
      PLINTH_ASSIGN_OR_RETURN(auto e, FindExperiment(*ctx.tracking, f.experiment));
      q.experiment_ids = {e.experiment_id};
    } else {
      tracking::ExperimentQuery eq;
      eq.max_results = 50000;
      PLINTH_ASSIGN_OR_RETURN(auto exps, ctx.tracking->SearchExperiments(eq));
      for (const auto& e : exps.items) {
        q.experiment_ids.push_back(e.experiment_id);
      }
    }
    q.filter = f.filter;
    q.order_by = f.order_by;
    q.max_results = f.max_results;
    q.view_type = f.all ? tracking::ViewType::kAll : tracking::ViewType::kActiveOnly;
    PLINTH_ASSIGN_OR_RETURN(auto page, ctx.tracking->SearchRuns(q));
    Json json = Json::array();
    core::TextTable t({"run", "name", "experiment", "status", "started", "metrics"},
                      {false, false, true, false, false, false});
    for (const auto& r : page.items) {
      json.push_back(tracking::ToJson(r));
      std::string metrics;
      for (const auto& m : r.metrics) {
        if (m.key.starts_with("test_") || m.key.starts_with("validation_")) {
          if (metrics.size() < 60) {
            metrics += (metrics.empty() ? "" : " ") + m.key + "=" + Num(m.value);
          }
        }
      }
      t.AddRow({r.info.run_id, r.info.run_name, r.info.experiment_id,
                std::string(tracking::RunStatusName(r.info.status)), Time(r.info.start_time),
                metrics});
    }
    return Print(f, json, t.Render(64));
  });
}

int RunsShow(const RunFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_ASSIGN_OR_RETURN(tracking::Run r, ctx.tracking->GetRun(f.ids.at(0)));
    std::string out = "run " + r.info.run_id + " (" + r.info.run_name + ")\n" + "experiment " +
                      r.info.experiment_id + ", " +
                      std::string(tracking::RunStatusName(r.info.status)) + ", started " +
                      Time(r.info.start_time) +
                      (r.info.end_time ? ", ended " + Time(*r.info.end_time) : "") + "\n" +
                      "artifacts " + r.info.artifact_uri + "\n";
    core::TextTable metrics({"metric", "value", "step"}, {false, true, true});
    for (const auto& m : r.metrics) {
      metrics.AddRow({m.key, Num(m.value), std::to_string(m.step)});
    }
    core::TextTable params({"param", "value"}, {false, false});
    for (const auto& p : r.params) {
      params.AddRow({p.key, p.value});
    }
    core::TextTable tags({"tag", "value"}, {false, false});
    for (const auto& t : r.tags) {
      tags.AddRow({t.key, t.value});
    }
    out += "\n" + metrics.Render(48) + "\n" + params.Render(48) + "\n" + tags.Render(64);
    for (const auto& in : r.inputs) {
      out += "input " + in.dataset.name + " (" + in.dataset.digest + ") from " + in.dataset.source +
             "\n";
    }
    return Print(f, tracking::ToJson(r), out);
  });
}

int RunsCompare(const RunFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    std::vector<tracking::Run> runs;
    for (const std::string& id : f.ids) {
      PLINTH_ASSIGN_OR_RETURN(tracking::Run r, ctx.tracking->GetRun(id));
      runs.push_back(std::move(r));
    }
    // One row per param and metric; a column per run; differing params marked.
    std::vector<std::string> header = {"", ""};
    std::vector<bool> right = {false, false};
    for (const auto& r : runs) {
      header.push_back(r.info.run_name.empty() ? r.info.run_id.substr(0, 8) : r.info.run_name);
      right.push_back(true);
    }
    core::TextTable t(header, right);
    std::set<std::string> param_keys, metric_keys;
    for (const auto& r : runs) {
      for (const auto& p : r.params) {
        param_keys.insert(p.key);
      }
      for (const auto& m : r.metrics) {
        metric_keys.insert(m.key);
      }
    }
    Json json = {{"runs", Json::array()}, {"params", Json::object()}, {"metrics", Json::object()}};
    for (const auto& r : runs) {
      json["runs"].push_back(r.info.run_id);
    }
    for (const std::string& k : param_keys) {
      std::vector<std::string> row = {"param", k};
      std::set<std::string> distinct;
      for (const auto& r : runs) {
        std::string v;
        for (const auto& p : r.params) {
          if (p.key == k) {
            v = p.value;
          }
        }
        distinct.insert(v);
        row.push_back(v);
        json["params"][k].push_back(v);
      }
      if (distinct.size() > 1) {
        row[0] = "param *";
        t.AddRow(row);
      }
    }
    for (const std::string& k : metric_keys) {
      std::vector<std::string> row = {"metric", k};
      for (const auto& r : runs) {
        std::string v;
        Json jv = nullptr;
        for (const auto& m : r.metrics) {
          if (m.key == k) {
            v = Num(m.value);
            jv = tracking::DoubleJson(m.value);
          }
        }
        row.push_back(v);
        json["metrics"][k].push_back(jv);
      }
      t.AddRow(row);
    }
    return Print(f, json,
                 t.Render(32) + "(params marked * differ; equal params are left out here)\n");
  });
}

std::string VersionRow(const tracking::ModelVersion& v) {
  std::string aliases;
  for (const auto& a : v.aliases) {
    aliases += (aliases.empty() ? "@" : ", @") + a;
  }
  return aliases;
}

int ModelsLs(const ModelFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    tracking::ModelQuery q;
    q.max_results = 1000;
    PLINTH_ASSIGN_OR_RETURN(auto page, ctx.registry->SearchRegisteredModels(q));
    Json json = Json::array();
    core::TextTable t({"model", "latest", "aliases", "updated"}, {false, true, false, false});
    for (const auto& m : page.items) {
      json.push_back(tracking::ToJson(m));
      int64_t latest = 0;
      for (const auto& v : m.latest_versions) {
        latest = std::max(latest, v.version);
      }
      std::string aliases;
      for (const auto& [a, v] : m.aliases) {
        aliases += (aliases.empty() ? "@" : ", @") + a + "=" + std::to_string(v);
      }
      t.AddRow(
          {m.name, latest ? std::to_string(latest) : "", aliases, Time(m.last_updated_timestamp)});
    }
    return Print(f, json, t.Render(48));
  });
}

int ModelsVersions(const ModelFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_RETURN_IF_ERROR(ctx.registry->GetRegisteredModel(f.name).status());
    tracking::ModelQuery q;
    std::string quoted;
    for (char c : f.name) {
      quoted += c == '\'' ? std::string("''") : std::string(1, c);
    }
    q.filter = "name = '" + quoted + "'";
    q.max_results = 200000;
    q.order_by = {"version_number DESC"};
    PLINTH_ASSIGN_OR_RETURN(auto page, ctx.registry->SearchModelVersions(q));
    Json json = Json::array();
    core::TextTable t({"version", "stage", "aliases", "run", "created", "source"},
                      {true, false, false, false, false, false});
    for (const auto& v : page.items) {
      json.push_back(tracking::ToJson(v));
      t.AddRow({std::to_string(v.version), v.current_stage, VersionRow(v), v.run_id,
                Time(v.creation_timestamp), v.source});
    }
    return Print(f, json, t.Render(64));
  });
}

int ModelsAlias(const ModelFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    if (f.remove) {
      PLINTH_RETURN_IF_ERROR(ctx.registry->DeleteAlias(f.name, f.alias, MoverName()));
      return Print(f, Json{{"name", f.name}, {"alias", f.alias}, {"version", nullptr}},
                   "removed alias @" + f.alias + " of " + f.name + "\n");
    }
    if (f.version.empty()) {
      PLINTH_ASSIGN_OR_RETURN(auto v, ctx.registry->GetModelVersionByAlias(f.name, f.alias));
      return Print(f, tracking::ToJson(v),
                   f.name + "@" + f.alias + " = version " + std::to_string(v.version) + "\n");
    }
    if (f.force) {
      PLINTH_RETURN_IF_ERROR(
          ctx.registry->ForceAlias(f.name, f.alias, f.version, MoverName(), f.reason));
    } else {
      PLINTH_RETURN_IF_ERROR(ctx.registry->SetAlias(f.name, f.alias, f.version, MoverName()));
    }
    return Print(f, Json{{"name", f.name}, {"alias", f.alias}, {"version", f.version}},
                 f.name + "@" + f.alias + " -> version " + f.version +
                     (f.force ? " (forced: " + f.reason + ")" : "") + "\n");
  });
}

int ModelsProtect(const ModelFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    if (f.alias.empty()) {  // the protections
      PLINTH_ASSIGN_OR_RETURN(auto list, ctx.registry->Protections(f.name));
      Json json = Json::array();
      core::TextTable t({"alias", "gates", "suite sha256", "approvals", "by", "since"},
                        {false, false, false, true, false, false});
      for (const auto& p : list) {
        json.push_back({{"alias", p.alias},
                        {"suite", p.suite},
                        {"suite_sha256", p.suite_sha256},
                        {"approvals", p.approvals},
                        {"user", p.user_id},
                        {"time", p.time}});
        t.AddRow({"@" + p.alias, p.suite, p.suite_sha256.substr(0, 12), std::to_string(p.approvals),
                  p.user_id, Time(p.time)});
      }
      return Print(f, json, t.Render(40));
    }
    if (f.gates.empty()) {
      return InvalidArgument(
          "--gates: protecting an alias needs the gates file its versions "
          "must pass");
    }
    PLINTH_ASSIGN_OR_RETURN(gates::Suite suite, gates::LoadSuite(f.gates));
    // What a run must have judged: this file, its quality suites, its data (plinth models
    // test --data or --url elsewhere is another run, which does not count).
    const std::string base_dir = std::filesystem::path(f.gates).parent_path().string();
    std::string data_sha256;
    if (!suite.data.empty()) {
      PLINTH_ASSIGN_OR_RETURN(data_sha256,
                              table::DataDigest(gates::PathNear(base_dir, suite.data)));
    }
    PLINTH_ASSIGN_OR_RETURN(std::string digest,
                            gates::EffectiveDigest(suite, base_dir, data_sha256, ""));
    PLINTH_RETURN_IF_ERROR(ctx.registry->ProtectAlias(
        {f.name, f.alias, suite.name, digest, f.approvals, AccountName(), 0}));
    return Print(
        f,
        Json{{"name", f.name},
             {"alias", f.alias},
             {"suite", suite.name},
             {"suite_sha256", suite.digest},
             {"approvals", f.approvals}},
        f.name + "@" + f.alias + " is protected: a version must pass the gates '" + suite.name +
            "' (" + f.gates + ")" +
            (f.approvals > 0 ? " and have " + std::to_string(f.approvals) + " approvals" : "") +
            "\n");
  });
}

int ModelsUnprotect(const ModelFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_RETURN_IF_ERROR(ctx.registry->UnprotectAlias(f.name, f.alias, AccountName()));
    return Print(f, Json{{"name", f.name}, {"alias", f.alias}, {"protected", false}},
                 f.name + "@" + f.alias + " is no longer protected\n");
  });
}

int ModelsApprove(const ModelFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_RETURN_IF_ERROR(ctx.registry->Approve(f.name, f.version, AccountName()));
    PLINTH_ASSIGN_OR_RETURN(auto all, ctx.registry->Approvals(f.name, f.version));
    Json users = Json::array();
    std::string names;
    for (const auto& a : all) {
      users.push_back(a.user_id);
      names += (names.empty() ? "" : ", ") + a.user_id;
    }
    return Print(f, Json{{"name", f.name}, {"version", f.version}, {"approved_by", users}},
                 f.name + " version " + f.version + " approved by " + names + "\n");
  });
}

int ModelsStage(const ModelFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_ASSIGN_OR_RETURN(auto v, ctx.registry->TransitionStage(f.name, f.version, f.stage,
                                                                  f.archive_existing, MoverName()));
    return Print(f, tracking::ToJson(v),
                 f.name + " version " + f.version + " -> " + v.current_stage + "\n");
  });
}

int ModelsHistory(const ModelFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_ASSIGN_OR_RETURN(auto events, ctx.registry->History(f.name));
    Json json = Json::array();
    core::TextTable t({"when", "what", "from", "to", "who", "reason"},
                      {false, false, false, false, false, false});
    for (const auto& e : events) {
      json.push_back(tracking::ToJson(e));
      std::string what = e.kind == "alias"        ? "@" + e.key
                         : e.kind == "protection" ? "protection of @" + e.key
                         : e.kind == "approval"   ? "approval of v" + std::to_string(e.version)
                                                  : "stage of v" + std::to_string(e.version);
      t.AddRow({Time(e.time), what, e.from.empty() ? "-" : e.from, e.to.empty() ? "-" : e.to,
                e.user_id, e.reason});
    }
    return Print(f, json, t.Render(40));
  });
}

int Lineage(const RunFlags& f) {
  return WithStore(f, [&](TrackingContext& ctx) -> Result<int> {
    PLINTH_ASSIGN_OR_RETURN(auto edges, tracking::LineageGraph(*ctx.tracking, f.ids.at(0)));
    Json json = Json::array();
    core::TextTable t({"from", "", "to", "relation", "when"}, {false, false, false, false, false});
    for (const auto& e : edges) {
      json.push_back(tracking::ToJson(e));
      t.AddRow({e.src_kind + " " + e.src_id, "->", e.dst_kind + " " + e.dst_id, e.relation,
                Time(e.created)});
    }
    return Print(f, json, t.Render(48));
  });
}

template <typename Flags>
void Common(CLI::App* cmd, Flags& f) {
  AddTrackingUriFlag(*cmd, f);
  cmd->add_flag("--json", f.json, "print JSON (MLflow's entity shapes) instead of a table");
}

}  // namespace

void RegisterTracking(CLI::App& app, Runner& run) {
  CLI::App* exps = app.add_subcommand("experiments", "Experiments in the tracking store");
  exps->require_subcommand(1);
  {
    auto f = std::make_shared<ExperimentFlags>();
    CLI::App* c = exps->add_subcommand("ls", "List experiments");
    Common(c, *f);
    c->add_flag("--all", f->all, "deleted experiments too");
    c->callback([f, &run] { run = [f] { return ExperimentsLs(*f); }; });
  }
  using ExperimentFn = int (*)(const ExperimentFlags&);
  for (auto [name, help, fn] :
       {std::tuple<const char*, const char*, ExperimentFn>{"create", "Create an experiment",
                                                           ExperimentsCreate},
        std::tuple<const char*, const char*, ExperimentFn>{
            "delete", "Delete an experiment (and its runs)", ExperimentsDelete}}) {
    auto f = std::make_shared<ExperimentFlags>();
    CLI::App* c = exps->add_subcommand(name, help);
    Common(c, *f);
    c->add_option("NAME", f->name, "experiment name (or id, to delete)")->required();
    c->callback([f, run_fn = fn, &run] { run = [f, run_fn] { return run_fn(*f); }; });
  }

  CLI::App* runs = app.add_subcommand("runs", "Runs in the tracking store");
  runs->require_subcommand(1);
  for (auto [name, help] : {std::pair{"ls", "List runs, newest first"},
                            std::pair{"search", "Search runs with MLflow's filter syntax"}}) {
    auto f = std::make_shared<RunFlags>();
    CLI::App* c = runs->add_subcommand(name, help);
    Common(c, *f);
    c->add_option("-e,--experiment", f->experiment, "experiment name or id (default: all)");
    if (std::string_view(name) == "search") {
      c->add_option("FILTER", f->filter,
                    "e.g. \"metrics.test_accuracy > 0.85 and params.model.type = 'gbdt'\"")
          ->required();
    } else {
      c->add_option("--filter", f->filter, "MLflow filter syntax (docs/HTTP.md)");
    }
    c->add_option("--order-by", f->order_by, "e.g. \"metrics.test_accuracy DESC\" (repeatable)");
    c->add_option("--max", f->max_results, "most runs to list")->capture_default_str();
    c->add_flag("--all", f->all, "deleted runs too");
    c->callback([f, &run] { run = [f] { return RunsLs(*f); }; });
  }
  {
    auto f = std::make_shared<RunFlags>();
    CLI::App* c = runs->add_subcommand("show", "A run's metrics, params, tags and inputs");
    Common(c, *f);
    c->add_option("RUN_ID", f->ids, "the run")->required()->expected(1);
    c->callback([f, &run] { run = [f] { return RunsShow(*f); }; });
  }
  {
    auto f = std::make_shared<RunFlags>();
    CLI::App* c = runs->add_subcommand("compare", "Params and metrics of runs side by side");
    Common(c, *f);
    c->add_option("RUN_ID", f->ids, "two or more runs")->required()->expected(2, 100);
    c->callback([f, &run] { run = [f] { return RunsCompare(*f); }; });
  }
  {
    auto f = std::make_shared<RunFlags>();
    CLI::App* c = app.add_subcommand(
        "lineage", "What an id came from and what came of it: data -> run -> model version");
    Common(c, *f);
    c->add_option("ID", f->ids, "a data digest, run id or model version (NAME/VERSION)")
        ->required()
        ->expected(1);
    c->callback([f, &run] { run = [f] { return Lineage(*f); }; });
  }
}

void RegisterRegistry(CLI::App& models, Runner& run) {
  {
    auto f = std::make_shared<ModelFlags>();
    CLI::App* c = models.add_subcommand("ls", "Registered models");
    Common(c, *f);
    c->callback([f, &run] { run = [f] { return ModelsLs(*f); }; });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    CLI::App* c = models.add_subcommand("versions", "A registered model's versions");
    Common(c, *f);
    c->add_option("NAME", f->name, "registered model")->required();
    c->callback([f, &run] { run = [f] { return ModelsVersions(*f); }; });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    CLI::App* c =
        models.add_subcommand("alias", "Point an alias at a version (or show it, or --delete it)");
    Common(c, *f);
    c->add_option("NAME", f->name, "registered model")->required();
    c->add_option("ALIAS", f->alias, "alias, e.g. production")->required();
    c->add_option("VERSION", f->version, "version to point at (omit to show)");
    c->add_flag("--delete", f->remove, "remove the alias");
    c->add_flag("--force", f->force, "move a protected alias without its gates and approvals");
    c->add_option("--reason", f->reason, "why (with --force; kept in the history)");
    c->callback([f, &run] {
      if (f->force && (f->reason.empty() || f->version.empty() || f->remove)) {
        throw CLI::ValidationError("--force", "needs VERSION and --reason TEXT");
      }
      run = [f] { return ModelsAlias(*f); };
    });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    CLI::App* c = models.add_subcommand(
        "protect", "Protect an alias: a version must pass gates (and approvals) to take it");
    Common(c, *f);
    c->add_option("NAME", f->name, "registered model")->required();
    c->add_option("ALIAS", f->alias, "alias, e.g. production (omit to list the protections)");
    c->add_option("--gates", f->gates, "the gates file a version must pass (plinth models test)");
    c->add_option("--approvals", f->approvals, "approvals a version needs (plinth models approve)")
        ->check(CLI::Range(0, 100));
    c->callback([f, &run] { run = [f] { return ModelsProtect(*f); }; });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    CLI::App* c = models.add_subcommand("unprotect", "Remove an alias's protection");
    Common(c, *f);
    c->add_option("NAME", f->name, "registered model")->required();
    c->add_option("ALIAS", f->alias, "alias")->required();
    c->callback([f, &run] { run = [f] { return ModelsUnprotect(*f); }; });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    CLI::App* c =
        models.add_subcommand("approve", "Approve a version for protected aliases ($USER)");
    Common(c, *f);
    c->add_option("NAME", f->name, "registered model")->required();
    c->add_option("VERSION", f->version, "version")->required();
    c->callback([f, &run] { run = [f] { return ModelsApprove(*f); }; });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    CLI::App* c = models.add_subcommand("stage", "Move a version to a stage");
    Common(c, *f);
    c->add_option("NAME", f->name, "registered model")->required();
    c->add_option("VERSION", f->version, "version")->required();
    c->add_option("STAGE", f->stage, "None, Staging, Production or Archived")->required();
    c->add_flag("--archive-existing", f->archive_existing,
                "archive the versions already in that stage");
    c->callback([f, &run] { run = [f] { return ModelsStage(*f); }; });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    CLI::App* c = models.add_subcommand("history", "Every alias and stage move: who, when");
    Common(c, *f);
    c->add_option("NAME", f->name, "registered model")->required();
    c->callback([f, &run] { run = [f] { return ModelsHistory(*f); }; });
  }
}

}  // namespace plinth::cli
