// plinth features apply|ls|show|diff|historical|materialize|materialize-incremental|get: the
// feature store (docs/FEATURES.md). Definitions come from features.yaml into the registry in
// the metadata store (the tracking store's database); everything else reads the registry.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>

#include "commands.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/progress.h"
#include "core/text_table.h"
#include "data/objects.h"
#include "features/historical.h"
#include "features/online.h"
#include "features/registry.h"
#include "features_context.h"
#include "store/database.h"
#include "table/value_parse.h"
#include "tracking/client.h"
#include "tracking_context.h"

namespace plinth::cli {
namespace {

using core::Json;

std::vector<std::string> SplitCommas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      const size_t comma = item.find(',', start);
      const std::string part =
          item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) {
        out.push_back(part);
      }
      if (comma == std::string::npos) {
        break;
      }
      start = comma + 1;
    }
  }
  return out;
}

int Fail(const Status& s) { return ReportError(s); }

// ---------------------------------------------------------------------------

struct ApplyFlags {
  TrackingFlags tracking;
  std::string file = "features.yaml";
  bool dry_run = false;
};

// Edges data version -> feature group version ("source") for the groups `changes` created or
// versioned, from the pointer files of their tracked sources.
Status RecordSourceLineage(const features::Definitions& defs,
                           const std::vector<features::Change>& changes,
                           const TrackingFlags& flags) {
  std::optional<TrackingContext> ctx;
  for (const features::Change& c : changes) {
    if (c.kind != "feature group" || (c.what != "created" && c.what != "new version")) {
      continue;
    }
    const features::FeatureGroup* g = defs.FindGroup(c.name);
    std::vector<std::string> paths = {g->source.path};
    for (const auto& [table, path] : g->source.tables) {
      paths.push_back(path);
    }
    for (const std::string& path : paths) {
      if (path.empty() || !std::filesystem::exists(path + ".plinth")) {
        continue;
      }
      PLINTH_ASSIGN_OR_RETURN(data::Pointer p, data::ReadPointer(path + ".plinth"));
      if (!ctx) {
        PLINTH_ASSIGN_OR_RETURN(TrackingContext opened, OpenTracking(flags, true));
        ctx = std::move(opened);
      }
      PLINTH_RETURN_IF_ERROR(
          ctx->tracking->AddLineage({"data", p.hash.substr(0, 32), "feature_group",
                                     c.name + "@" + std::to_string(c.version), "source", 0}));
    }
  }
  return Status::Ok();
}

int RunApply(const ApplyFlags& f) {
  Result<features::Definitions> defs = features::ReadDefinitions(f.file);
  if (!defs.ok()) {
    return Fail(defs.status());
  }
  if (Status s = features::CheckSources(*defs); !s.ok()) {
    return Fail(s);
  }
  Result<RegistryHandle> h = OpenRegistry(f.tracking);
  if (!h.ok()) {
    return Fail(h.status());
  }
  Result<std::vector<features::Change>> changes =
      h->registry->Apply(*defs, f.dry_run, core::SystemClock().NowMicros() / 1000);
  if (!changes.ok()) {
    return Fail(changes.status());
  }
  if (!f.dry_run) {
    // Lineage: each new group version from the data versions of its sources that `plinth add`
    // tracks (PATH.plinth beside them).
    if (Status s = RecordSourceLineage(*defs, *changes, f.tracking); !s.ok()) {
      std::fprintf(stderr, "plinth: warning: cannot record the sources' lineage: %s\n",
                   EscapeControl(s.message()).c_str());
    }
  }
  if (f.tracking.json) {
    Json out = Json::array();
    for (const features::Change& c : *changes) {
      out.push_back(
          {{"kind", c.kind}, {"name", c.name}, {"version", c.version}, {"change", c.what}});
    }
    std::cout << core::DumpJson(out) << "\n";
    return kExitOk;
  }
  core::TextTable t({"kind", "name", "version", "change"}, {false, false, true, false});
  for (const features::Change& c : *changes) {
    t.AddRow({c.kind, c.name, std::to_string(c.version),
              c.what + (c.previous != 0 ? " (was " + std::to_string(c.previous) + ")" : "")});
  }
  std::cout << t.Render(40);
  std::cout << (f.dry_run ? "dry run: nothing recorded\n"
                          : "recorded in the feature registry; online store " + defs->online_store +
                                "\n");
  return kExitOk;
}

// ---------------------------------------------------------------------------

int RunLs(const TrackingFlags& f) {
  Result<RegistryHandle> h = OpenRegistry(f);
  if (!h.ok()) {
    return Fail(h.status());
  }
  Result<std::vector<features::Recorded>> all = h->registry->All();
  if (!all.ok()) {
    return Fail(all.status());
  }
  Json out = Json::array();
  core::TextTable t({"kind", "name", "version", "updated", "description"},
                    {false, false, true, false, false});
  for (size_t i = 0; i < all->size(); ++i) {
    const features::Recorded& r = (*all)[i];
    if (i + 1 < all->size() && (*all)[i + 1].kind == r.kind && (*all)[i + 1].name == r.name) {
      continue;
    }
    const std::string updated = core::FormatIsoMicros(r.updated_ms * 1000);
    const std::string description = r.definition.value("description", "");
    out.push_back({{"kind", r.kind},
                   {"name", r.name},
                   {"version", r.version},
                   {"retired", r.retired},
                   {"updated", updated},
                   {"description", description}});
    t.AddRow({r.kind, r.name, std::to_string(r.version) + (r.retired ? " (retired)" : ""),
              updated.substr(0, 19), description});
  }
  std::cout << (f.json ? core::DumpJson(out) + "\n" : t.Render(40));
  return kExitOk;
}

// ---------------------------------------------------------------------------

struct ShowFlags {
  TrackingFlags tracking;
  std::string name;
  std::string kind;
};

// "name" or "name@N".
Status SplitVersion(const std::string& text, std::string& name, int64_t& version) {
  const size_t at = text.find('@');
  name = text.substr(0, at);
  version = 0;
  if (at != std::string::npos) {
    const std::string v = text.substr(at + 1);
    if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(v) < 1) {
      return InvalidArgument("'" + text + "': expected NAME or NAME@VERSION");
    }
    version = std::stoll(v);
  }
  return Status::Ok();
}

// --kind's words for the registry's kinds.
constexpr std::pair<std::string_view, std::string_view> kKinds[] = {
    {"entity", "entity"},
    {"group", "feature group"},
    {"on-demand", "on-demand feature"},
    {"service", "feature service"}};

// Every recorded version of the object named `name`, oldest first; `kind` ("group", ...) picks
// one when two kinds share the name.
Result<std::vector<features::Recorded>> VersionsOf(features::Registry& r, const std::string& name,
                                                   const std::string& kind) {
  std::string want;
  for (const auto& [word, k] : kKinds) {
    if (kind == word) {
      want = k;
    }
  }
  if (!kind.empty() && want.empty()) {
    return InvalidArgument("--kind \"" + kind + "\": expected entity, group, on-demand or service");
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<features::Recorded> all, r.All());
  std::vector<features::Recorded> out;
  std::set<std::string> kinds;
  for (features::Recorded& x : all) {
    if (x.name == name && (want.empty() || x.kind == want)) {
      kinds.insert(x.kind);
      out.push_back(std::move(x));
    }
  }
  if (out.empty()) {
    return NotFound("nothing named '" + name + "' in the feature registry (plinth features ls)");
  }
  if (kinds.size() > 1) {
    return InvalidArgument("'" + name + "' names a " + *kinds.begin() + " and a " +
                           *kinds.rbegin() + "; say which with --kind");
  }
  return out;
}

int RunShow(const ShowFlags& f) {
  std::string name;
  int64_t version = 0;
  if (Status s = SplitVersion(f.name, name, version); !s.ok()) {
    return Fail(s);
  }
  Result<RegistryHandle> h = OpenRegistry(f.tracking);
  if (!h.ok()) {
    return Fail(h.status());
  }
  Result<std::vector<features::Recorded>> versions = VersionsOf(*h->registry, name, f.kind);
  if (!versions.ok()) {
    return Fail(versions.status());
  }
  const features::Recorded* chosen = &versions->back();
  if (version != 0) {
    chosen = nullptr;
    for (const features::Recorded& r : *versions) {
      if (r.version == version) {
        chosen = &r;
      }
    }
    if (chosen == nullptr) {
      return Fail(NotFound("'" + name + "' has no version " + std::to_string(version) +
                           " (versions 1 to " + std::to_string(versions->back().version) + ")"));
    }
  }
  Json out = {{"kind", chosen->kind},
              {"name", chosen->name},
              {"version", chosen->version},
              {"latest_version", versions->back().version},
              {"created", core::FormatIsoMicros(chosen->created_ms * 1000)},
              {"updated", core::FormatIsoMicros(chosen->updated_ms * 1000)},
              {"retired", versions->back().retired},
              {"definition", chosen->definition}};
  if (chosen->kind == "feature group") {
    Result<features::Definitions> latest = h->registry->Latest();
    if (latest.ok() && !latest->online_store.empty()) {
      Result<std::unique_ptr<features::OnlineStore>> store =
          features::OpenOnlineStore(latest->online_store, false);
      if (store.ok()) {
        Result<std::optional<int64_t>> mark =
            (*store)->Watermark(name + "@" + std::to_string(chosen->version));
        if (mark.ok() && mark->has_value()) {
          out["materialized_until"] = core::FormatIsoMicros(**mark);
        }
      }
    }
  }
  std::cout << core::DumpJson(out) << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------

struct DiffFlags {
  TrackingFlags tracking;
  std::vector<std::string> args;
  std::string kind;
};

// plinth features diff NAME@A NAME@B: two recorded versions; plinth features diff [FILE]: what
// apply would record.
int RunDiff(const DiffFlags& f) {
  Result<RegistryHandle> h = OpenRegistry(f.tracking);
  if (!h.ok()) {
    return Fail(h.status());
  }
  if (f.args.size() == 2) {
    Json sides[2];
    for (int i = 0; i < 2; ++i) {
      std::string name;
      int64_t version = 0;
      if (Status s = SplitVersion(f.args[i], name, version); !s.ok()) {
        return Fail(s);
      }
      Result<std::vector<features::Recorded>> versions = VersionsOf(*h->registry, name, f.kind);
      if (!versions.ok()) {
        return Fail(versions.status());
      }
      const features::Recorded* chosen = version == 0 ? &versions->back() : nullptr;
      for (const features::Recorded& r : *versions) {
        if (r.version == version) {
          chosen = &r;
        }
      }
      if (chosen == nullptr) {
        return Fail(NotFound("'" + name + "' has no version " + std::to_string(version)));
      }
      sides[i] = chosen->definition;
    }
    const std::vector<std::string> lines = features::DiffDefinitions(sides[0], sides[1]);
    for (const std::string& l : lines) {
      std::cout << l << "\n";
    }
    if (lines.empty()) {
      std::cout << "no differences\n";
    }
    return kExitOk;
  }
  if (f.args.size() > 2) {
    return Fail(InvalidArgument("diff: expected NAME@A NAME@B, or a features file"));
  }
  const std::string file = f.args.empty() ? "features.yaml" : f.args[0];
  Result<features::Definitions> defs = features::ReadDefinitions(file);
  if (!defs.ok()) {
    return Fail(defs.status());
  }
  Result<std::vector<features::Change>> changes = h->registry->Apply(*defs, true, 0);
  if (!changes.ok()) {
    return Fail(changes.status());
  }
  Result<std::vector<features::Recorded>> all = h->registry->All();
  if (!all.ok()) {
    return Fail(all.status());
  }
  bool any = false;
  for (const features::Change& c : *changes) {
    if (c.what == "unchanged") {
      continue;
    }
    any = true;
    std::cout << c.kind << " " << c.name << ": " << c.what << " (version " << c.version << ")\n";
    Json before = Json::object();
    for (const features::Recorded& r : *all) {
      if (r.kind == c.kind && r.name == c.name) {
        before = r.definition;  // the latest, as All is in version order
      }
    }
    Json after;
    if (c.kind == "feature group") {
      after = features::GroupToJson(*defs->FindGroup(c.name));
    } else if (c.kind == "feature service") {
      after = features::ServiceToJson(*defs->FindService(c.name));
    } else if (c.kind == "entity") {
      after = features::EntityToJson(*defs->FindEntity(c.name));
    } else {
      after = features::OnDemandToJson(*defs->FindOnDemand(c.name));
    }
    for (const std::string& l : features::DiffDefinitions(before, after)) {
      std::cout << "  " << l << "\n";
    }
  }
  if (!any) {
    std::cout << "no differences: the registry holds " << file << " as it is\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------

struct HistoricalFlags {
  TrackingFlags tracking;
  features::HistoricalOptions options;
  std::string service;
  std::vector<std::string> features;
  int64_t threads = 0;
  bool quiet = false;
};

int RunHistorical(HistoricalFlags f) {
  if (f.service.empty() == f.features.empty()) {
    return Fail(InvalidArgument("historical: expected one of --service or --features"));
  }
  Result<RegistryHandle> h = OpenLatest(f.tracking, Online::kNone);
  if (!h.ok()) {
    return Fail(h.status());
  }
  const features::Definitions* defs = &h->latest;
  Result<std::vector<features::FeatureRef>> refs =
      features::ResolveFeatures(*defs, f.service, SplitCommas(f.features));
  if (!refs.ok()) {
    return Fail(refs.status());
  }
  f.options.threads = static_cast<int>(f.threads);
  core::Progress progress("historical", 0, !f.quiet);
  progress.set_items_name("rows");
  Result<features::HistoricalResult> r =
      features::HistoricalFeatures(*defs, *refs, GroupsOf(*defs, *h->registry), f.options,
                                   [&](int64_t rows) { progress.Update(0, rows); });
  progress.Finish();
  if (!r.ok()) {
    return Fail(r.status());
  }
  std::string groups;
  for (const std::string& g : r->groups) {
    groups += (groups.empty() ? "" : ", ") + g;
  }
  std::fprintf(stderr, "plinth features historical: %lld rows, %zu columns (%s) -> %s\n",
               static_cast<long long>(r->rows), r->columns.size(), groups.c_str(),
               f.options.out.c_str());
  return kExitOk;
}

// ---------------------------------------------------------------------------

struct MaterializeFlags {
  TrackingFlags tracking;
  std::string start;
  std::string end;
  std::vector<std::string> groups;
  bool incremental = false;
  bool quiet = false;
};

Result<int64_t> ParseInstant(const std::string& text, const std::string& what) {
  if (text == "now") {
    return core::SystemClock().NowMicros();
  }
  int64_t us = 0;
  if (!table::ParseTimestamp(text, us)) {
    return InvalidArgument(what +
                           ": expected an ISO-8601 time (2024-01-31T12:00:00Z) or now, "
                           "got \"" +
                           text.substr(0, 60) + "\"");
  }
  return us;
}

int RunMaterialize(const MaterializeFlags& f) {
  features::MaterializeOptions options;
  options.incremental = f.incremental;
  options.groups = SplitCommas(f.groups);
  if (!f.incremental) {
    Result<int64_t> start = ParseInstant(f.start, "START");
    if (!start.ok()) {
      return Fail(start.status());
    }
    options.start_us = *start;
  }
  Result<int64_t> end = ParseInstant(f.end, "END");
  if (!end.ok()) {
    return Fail(end.status());
  }
  options.end_us = *end;
  if (options.start_us && *options.start_us > options.end_us) {
    return Fail(InvalidArgument("START (" + f.start + ") is after END (" + f.end + ")"));
  }
  Result<RegistryHandle> h = OpenLatest(f.tracking, Online::kWrite);
  if (!h.ok()) {
    return Fail(h.status());
  }
  std::unique_ptr<core::Progress> progress;
  std::string current;
  Result<std::vector<features::Materialized>> done = features::Materialize(
      h->latest, *h->online, options, [&](const std::string& group, int64_t rows) {
        if (group != current) {
          if (progress) {
            progress->Finish();
          }
          current = group;
          progress = std::make_unique<core::Progress>("materialize " + group, 0, !f.quiet);
          progress->set_items_name("entities");
        }
        progress->Update(0, rows);
      });
  if (progress) {
    progress->Finish();
  }
  if (!done.ok()) {
    return Fail(done.status());
  }
  core::TextTable t({"group", "from", "until", "entities"}, {false, false, false, true});
  for (const features::Materialized& m : *done) {
    t.AddRow({m.group, m.start_us ? core::FormatIsoMicros(*m.start_us) : "the beginning",
              core::FormatIsoMicros(m.end_us), std::to_string(m.rows)});
  }
  std::cout << t.Render(40);
  return kExitOk;
}

// ---------------------------------------------------------------------------

struct GetFlags {
  TrackingFlags tracking;
  std::string service;
  std::vector<std::string> features;
  std::vector<std::string> entities;  // KEY=V1,V2
  bool full_feature_names = false;
};

int RunGet(const GetFlags& f) {
  Result<RegistryHandle> h = OpenLatest(f.tracking, Online::kRead);
  if (!h.ok()) {
    return Fail(h.status());
  }
  const features::Definitions* defs = &h->latest;
  // The flags as a Feast request body, read by the server's own parser: values are typed by
  // the join key's definition.
  Json body = {{"full_feature_names", f.full_feature_names}};
  if (!f.service.empty()) {
    body["feature_service"] = f.service;
  }
  if (!f.features.empty()) {
    body["features"] = SplitCommas(f.features);
  }
  Json entities = Json::object();
  const std::map<std::string, table::DataType> types = features::RequestColumnTypes(*defs);
  for (const std::string& e : f.entities) {
    const size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(InvalidArgument("--entity \"" + e + "\": expected KEY=VALUE[,VALUE...]"));
    }
    const std::string key = e.substr(0, eq);
    const auto known = types.find(key);
    const table::DataType type = known == types.end() ? table::DataType::kString : known->second;
    Json values = Json::array();
    for (const std::string& v : SplitCommas({e.substr(eq + 1)})) {
      int64_t i = 0;
      double d = 0;
      bool b = false;
      if (type == table::DataType::kInt64 && table::ParseInt64(v, i)) {
        values.push_back(i);
      } else if (type == table::DataType::kFloat64 && table::ParseFloat64(v, d)) {
        values.push_back(d);
      } else if (type == table::DataType::kBool && table::ParseBool(v, b)) {
        values.push_back(b);
      } else {
        values.push_back(v);
      }
    }
    entities[key] = values;
  }
  body["entities"] = entities;
  Result<features::FeastRequest> req = features::ParseFeastRequest(core::DumpJson(body), *defs);
  if (!req.ok()) {
    return Fail(req.status());
  }
  Result<features::OnlineAnswer> a =
      features::LookupOnline(*defs, GroupsOf(*defs, *h->registry), *h->online, req->query,
                             core::SystemClock().NowMicros());
  if (!a.ok()) {
    return Fail(a.status());
  }
  if (f.tracking.json) {
    std::cout << features::FeastResponseJson(*a) << "\n";
    return kExitOk;
  }
  std::vector<bool> right;
  for (const table::Column& c : a->values) {
    right.push_back(table::IsNumeric(c.type()));
  }
  core::TextTable t(a->names, right);
  const int64_t n = a->values.empty() ? 0 : a->values[0].size();
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < a->values.size(); ++c) {
      const features::FeatureStatus s = a->statuses[c][static_cast<size_t>(i)];
      cells.push_back(s == features::FeatureStatus::kPresent
                          ? a->values[c].FormatValue(i)
                          : "(" + std::string(features::FeatureStatusName(s)) + ")");
    }
    t.AddRow(std::move(cells));
  }
  std::cout << t.Render(40);
  return kExitOk;
}

}  // namespace

void RegisterFeatures(CLI::App& app, Runner& run) {
  CLI::App* cmd = app.add_subcommand("features", "The feature store (docs/FEATURES.md)");
  cmd->require_subcommand(1);

  auto apply = std::make_shared<ApplyFlags>();
  CLI::App* a = cmd->add_subcommand("apply", "Check features.yaml and record it in the registry");
  a->add_option("FILE", apply->file, "the definitions (default features.yaml)");
  a->add_flag("--dry-run", apply->dry_run, "say what would change, record nothing");
  AddTrackingUriFlag(*a, apply->tracking);
  a->add_flag("--json", apply->tracking.json, "print the changes as JSON");
  a->callback([apply, &run] { run = [apply] { return RunApply(*apply); }; });

  auto ls = std::make_shared<TrackingFlags>();
  CLI::App* l = cmd->add_subcommand("ls", "List what the registry holds, latest versions");
  AddTrackingUriFlag(*l, *ls);
  l->add_flag("--json", ls->json, "print JSON");
  l->callback([ls, &run] { run = [ls] { return RunLs(*ls); }; });

  auto show = std::make_shared<ShowFlags>();
  CLI::App* s = cmd->add_subcommand("show", "Print one object's recorded definition as JSON");
  s->add_option("NAME", show->name, "NAME or NAME@VERSION")->required();
  s->add_option("--kind", show->kind, "entity, group, on-demand or service (when two share NAME)");
  AddTrackingUriFlag(*s, show->tracking);
  s->callback([show, &run] { run = [show] { return RunShow(*show); }; });

  auto diff = std::make_shared<DiffFlags>();
  CLI::App* d =
      cmd->add_subcommand("diff", "NAME@A NAME@B: two versions; [FILE]: what apply would change");
  d->add_option("ARGS", diff->args, "NAME@A NAME@B, or a features file");
  d->add_option("--kind", diff->kind, "entity, group, on-demand or service (when two share NAME)");
  AddTrackingUriFlag(*d, diff->tracking);
  d->callback([diff, &run] { run = [diff] { return RunDiff(*diff); }; });

  auto hist = std::make_shared<HistoricalFlags>();
  CLI::App* h = cmd->add_subcommand(
      "historical", "A training set: features as of each entity row's time (point in time)");
  h->add_option("--entities", hist->options.entities,
                "entity rows: keys and a timestamp (CSV "
                "or Parquet)")
      ->required();
  h->add_option("--service", hist->service, "a feature service");
  h->add_option("--features", hist->features, "group[@N]:feature or on-demand names, commas");
  h->add_option("--out", hist->options.out, "the output: .parquet, else CSV")->required();
  h->add_option("--timestamp-column", hist->options.timestamp_column,
                "the entities' time column (default: their only timestamp column)");
  h->add_flag("--full-feature-names", hist->options.full_feature_names,
              "name columns group__feature");
  h->add_option("--memory-limit", hist->options.memory_limit,
                "the join's memory before it spills to disk, e.g. 4GB (default: 80% of RAM)");
  h->add_option("--threads", hist->threads, "threads (default: one per core)")
      ->check(ThreadCount(0));
  h->add_flag("-q,--quiet", hist->quiet, "no progress");
  AddTrackingUriFlag(*h, hist->tracking);
  h->callback([hist, &run] { run = [hist] { return RunHistorical(*hist); }; });

  for (const bool incremental : {false, true}) {
    auto m = std::make_shared<MaterializeFlags>();
    m->incremental = incremental;
    CLI::App* c = cmd->add_subcommand(
        incremental ? "materialize-incremental" : "materialize",
        incremental ? "Load the online store from each group's watermark to END"
                    : "Load the online store with the latest values between START and END");
    if (!incremental) {
      c->add_option("START", m->start, "ISO-8601 time (event times from here, inclusive)")
          ->required();
    }
    c->add_option("END", m->end, "ISO-8601 time or now (inclusive)")->required();
    c->add_option("--groups", m->groups, "only these feature groups (commas)");
    c->add_flag("-q,--quiet", m->quiet, "no progress");
    AddTrackingUriFlag(*c, m->tracking);
    c->callback([m, &run] { run = [m] { return RunMaterialize(*m); }; });
  }

  auto get = std::make_shared<GetFlags>();
  CLI::App* g = cmd->add_subcommand("get", "Look features up in the online store");
  g->add_option("--service", get->service, "a feature service");
  g->add_option("--features", get->features, "group[@N]:feature or on-demand names, commas");
  g->add_option("--entity", get->entities, "KEY=VALUE[,VALUE...] (repeat for more keys)")
      ->required();
  g->add_flag("--full-feature-names", get->full_feature_names, "name columns group__feature");
  g->add_flag("--json", get->tracking.json, "print Feast's response JSON");
  AddTrackingUriFlag(*g, get->tracking);
  g->callback([get, &run] { run = [get] { return RunGet(*get); }; });
}

}  // namespace plinth::cli
