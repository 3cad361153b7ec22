// plinth deploy NAME --env ENV [VERSION] [--gates FILE [--data F]] [--endpoint URL]...
// plinth deploy rollback NAME --env ENV [--to VERSION]
// plinth deploy status NAME [--json]
// An environment is the alias of its name (production, staging); its endpoints are the
// plinth serve processes serving models:/NAME@ENV, which register themselves where the
// registry is. docs/DEPLOYMENT.md.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "commands.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "core/text_table.h"
#include "http/client.h"
#include "tracking/registry_store.h"
#include "tracking_context.h"

namespace plinth::cli {
namespace {

using core::Json;

struct DeployFlags {
  TrackingFlags tracking;
  std::string name;
  std::string version;  // deploy: "" = see DefaultVersion; rollback --to
  std::string env;
  std::string gates;
  std::string data;
  std::vector<std::string> endpoints;
  std::string admin_token_file;
  std::string reason;
  int64_t timeout = 120;
  bool no_wait = false;
  bool approve = false;
  bool json = false;
};

std::string Time(int64_t ms) {
  return ms <= 0 ? std::string() : core::FormatIsoMicros(ms * 1000).substr(0, 19);
}

int64_t NowMs() { return core::SystemClock().NowMicros() / 1000; }

// The alias's version, 0 when unset.
Result<int64_t> AliasVersion(tracking::RegistryStore& registry, const std::string& name,
                             const std::string& alias) {
  Result<tracking::ModelVersion> at = registry.GetModelVersionByAlias(name, alias);
  if (!at.ok() && at.status().code() == StatusCode::kNotFound) {
    PLINTH_RETURN_IF_ERROR(registry.GetRegisteredModel(name).status());
    return 0;
  }
  PLINTH_RETURN_IF_ERROR(at.status());
  return at->version;
}

// The version plinth deploy deploys when none is named: for production, the one at staging
// (promotion); otherwise, and when staging is unset, the newest.
Result<int64_t> DefaultVersion(tracking::RegistryStore& registry, const DeployFlags& f) {
  if (f.env == "production") {
    PLINTH_ASSIGN_OR_RETURN(int64_t staged, AliasVersion(registry, f.name, "staging"));
    if (staged > 0) {
      return staged;
    }
  }
  PLINTH_ASSIGN_OR_RETURN(auto latest, registry.GetLatestVersions(f.name, {}));
  int64_t newest = 0;
  for (const tracking::ModelVersion& v : latest) {
    newest = std::max(newest, v.version);
  }
  if (newest == 0) {
    return NotFound("registered model " + f.name + " has no versions to deploy");
  }
  return newest;
}

// The most an endpoint's answer may hold (its model metadata is a few hundred bytes).
constexpr size_t kMaxAnswerBytes = 64 * 1024;

using Headers = std::vector<std::pair<std::string, std::string>>;

// A model version as an endpoint reports it: at most 64 letters, digits, '.', '_' or '-'
// (it is printed and recorded), else "".
std::string CleanVersion(const std::string& v) {
  if (v.empty() || v.size() > 64) {
    return "";
  }
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return "";
    }
  }
  return v;
}

// What an endpoint serves now: the version in its KServe v2 model metadata
// (GET /v2/models/NAME), "" when it cannot say; `error` gets why.
std::string LiveVersion(const std::string& url, const std::string& name, int timeout_seconds,
                        const Headers& headers, std::string& error) {
  http::Client client(url, timeout_seconds);
  client.LimitResponse(kMaxAnswerBytes);
  Result<http::ClientResponse> r =
      client.Send("GET", "/v2/models/" + http::UrlEncode(name), "", "", headers);
  if (!r.ok()) {
    error = "unreachable";
    return "";
  }
  if (r->status != 200) {
    error = "answered HTTP " + std::to_string(r->status);
    return "";
  }
  Result<Json> j = core::ParseJson(r->body, url, 8, 10000);
  std::string v;
  if (j.ok() && j->is_object() && j->contains("versions") && (*j)["versions"].is_array() &&
      !(*j)["versions"].empty() && (*j)["versions"][0].is_string()) {
    v = CleanVersion((*j)["versions"][0].get<std::string>());
  }
  error = v.empty() ? "answered no model version" : "";
  return v;
}

struct Target {
  std::string url;
  bool registered = false;
  bool stale = false;     // registered, but its heartbeat is old
  std::string elsewhere;  // registered at a loopback URL by another host: that host's name
  std::string live;       // the version last seen
  std::string error;
  bool ok = false;
  // Not waited for: another host's loopback URL, or a stale registration that cannot be
  // reached (a process gone).
  bool Gone() const { return !elsewhere.empty() || (stale && error == "unreachable"); }
};

// The host part of an http(s) URL ("" when there is none).
std::string UrlHost(const std::string& url) {
  const size_t start = url.find("://");
  if (start == std::string::npos) {
    return "";
  }
  std::string rest = url.substr(start + 3);
  rest = rest.substr(0, rest.find('/'));
  rest = rest.substr(rest.find('@') == std::string::npos ? 0 : rest.find('@') + 1);
  if (rest.starts_with("[")) {
    return rest.substr(1, rest.find(']') - 1);
  }
  return rest.substr(0, rest.find(':'));
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// The endpoints of `env`: those registered, one per URL (replicas behind one URL are one
// target; stale when no registration of the URL renewed in three poll intervals and half a
// minute), then --endpoint URLs.
Result<std::vector<Target>> TargetsOf(tracking::RegistryStore& registry, const DeployFlags& f) {
  std::vector<Target> out;
  std::map<std::string, size_t> index;
  Result<std::vector<tracking::ServingEndpoint>> registered = registry.Endpoints(f.name);
  if (!registered.ok() && registered.status().code() != StatusCode::kUnimplemented) {
    return registered.status();
  }
  const int64_t now = NowMs();
  const std::string here = HostName();
  for (const tracking::ServingEndpoint& e :
       registered.ok() ? *registered : std::vector<tracking::ServingEndpoint>()) {
    if (e.env != f.env) {
      continue;
    }
    const bool stale = now - e.heartbeat > (e.poll_seconds * 3 + 30) * 1000;
    const std::string elsewhere = IsLoopback(UrlHost(e.url)) && e.host != here ? e.host : "";
    auto [it, added] = index.emplace(e.url, out.size());
    if (added) {
      out.push_back({e.url, true, stale, elsewhere, "", "", false});
    } else {
      out[it->second].stale = out[it->second].stale && stale;
      out[it->second].elsewhere = out[it->second].elsewhere.empty() ? "" : elsewhere;
    }
  }
  for (std::string url : f.endpoints) {
    while (url.ends_with('/')) {
      url.pop_back();
    }
    if (index.emplace(url, out.size()).second) {
      out.push_back({url, false, false, "", "", "", false});
    }
  }
  return out;
}

// The admin token in `path`: its first line, either the token or "admin TOKEN" as plinth
// serve's --auth-token-file writes it.
Result<std::string> ReadToken(const std::string& path) {
  if (path.empty()) {
    return std::string();
  }
  // A regular file of at most 64 KiB (not a device, a FIFO, a directory).
  Result<std::string> text = core::ReadConfigFile(path, "a token file", 64 * 1024);
  if (!text.ok()) {
    return text.status().WithPrefix("--admin-token-file");
  }
  std::istringstream in(*text);
  std::string first;
  std::string second;
  if (!(in >> first)) {
    return InvalidArgument("--admin-token-file " + path + ": expected a token on its first line");
  }
  if (first == "admin" || first == "score") {
    if (!(in >> second) || first != "admin") {
      return InvalidArgument("--admin-token-file " + path +
                             ": expected an admin token on its first line ('admin TOKEN')");
    }
    return second;
  }
  return first;
}

// The token goes only where it cannot be read on the way: https, or this machine.
Headers HeadersFor(const std::string& url, const std::string& token) {
  if (token.empty() || !(url.starts_with("https://") || IsLoopback(UrlHost(url)))) {
    return {};
  }
  return {{"Authorization", "Bearer " + token}};
}

// Asks each endpoint to reload now (POST /admin/reload; one that refuses still reloads at its
// next poll), then waits until each serves `version`, all within `--timeout` seconds (each call
// bounded by what is left, at most 5 s). Returns the deployment's status: "live", "timeout", or
// "moved" (no endpoint to wait for).
std::string WaitForEndpoints(std::vector<Target>& targets, const DeployFlags& f,
                             const std::string& token, int64_t version) {
  const std::string want = std::to_string(version);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(f.timeout);
  auto call_seconds = [&] {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    return static_cast<int>(std::clamp<int64_t>(left, 1, 5));
  };
  for (Target& t : targets) {
    if (!t.elsewhere.empty()) {
      continue;
    }
    http::Client client(t.url, call_seconds());
    client.LimitResponse(kMaxAnswerBytes);
    Result<http::ClientResponse> r =
        client.Send("POST", "/admin/reload", "", "", HeadersFor(t.url, token));
    if (r.ok() && (r->status == 401 || r->status == 403)) {
      std::fprintf(stderr,
                   "plinth deploy: %s refused to reload now (HTTP %d%s); waiting for its next "
                   "poll\n",
                   t.url.c_str(), r->status,
                   token.empty() ? ": no --admin-token-file"
                   : HeadersFor(t.url, token).empty()
                       ? ": the token goes only over https or to this machine"
                       : "");
    }
  }
  const bool terminal = ::isatty(::fileno(stderr)) != 0;
  size_t waiting = 0;
  while (true) {
    waiting = 0;
    size_t live = 0;
    for (Target& t : targets) {
      if (t.ok || !t.elsewhere.empty()) {
        live += t.ok ? 1 : 0;
        continue;
      }
      t.live = LiveVersion(t.url, f.name, call_seconds(), HeadersFor(t.url, token), t.error);
      t.ok = t.live == want;
      if (t.ok) {
        ++live;
      } else if (!t.Gone()) {
        ++waiting;
      }
    }
    if (terminal) {
      std::fprintf(stderr, "\rplinth deploy: %zu of %zu endpoints serve version %s", live,
                   targets.size(), want.c_str());
      std::fflush(stderr);
    }
    if (waiting == 0 || std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (terminal) {
    std::fprintf(stderr, "\r%-70s\r", "");
  }
  size_t counted = 0;
  for (const Target& t : targets) {
    counted += t.ok || !t.Gone() ? 1 : 0;
  }
  if (counted == 0) {
    return "moved";
  }
  return waiting == 0 ? "live" : "timeout";
}

Json TargetsJson(const std::vector<Target>& targets) {
  Json out = Json::array();
  for (const Target& t : targets) {
    Json e = {{"url", t.url}, {"version", t.live}, {"ok", t.ok}, {"registered", t.registered}};
    if (!t.ok && !t.error.empty()) {
      e["error"] = t.error;
    }
    if (t.stale) {
      e["stale"] = true;
    }
    if (!t.elsewhere.empty()) {
      e["elsewhere"] = t.elsewhere;
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Moves the alias (one transaction in the store), records lineage, waits for the endpoints
// and records what they did. The exit code.
int Move(TrackingContext& ctx, const DeployFlags& f, tracking::NewDeployment d) {
  Result<std::string> token = ReadToken(f.admin_token_file);
  if (!token.ok()) {
    return ReportError(token.status());
  }
  Result<std::vector<Target>> targets = TargetsOf(*ctx.registry, f);
  if (!targets.ok()) {
    return ReportError(targets.status());
  }
  Result<tracking::Deployment> done = ctx.registry->Deploy(d);
  if (!done.ok()) {
    // Refused (a protection, a conflict): the deployment's check failed, exit 1.
    const int code = ReportError(done.status());
    return done.status().code() == StatusCode::kFailedPrecondition ? kExitCheckFailed : code;
  }
  const std::string v = std::to_string(done->version);
  // Not NAME/N, which names model versions in lineage.
  const std::string id = f.name + "@" + f.env + "/" + std::to_string(done->id);
  // After the move's commit: a failure here is reported, and the deployment goes on.
  if (Status s = ctx.tracking->AddLineage(
          {"model_version", f.name + "/" + v, "deployment", id, "deployed", 0});
      !s.ok()) {
    std::fprintf(stderr, "plinth deploy: warning: the lineage edge was not recorded: %s\n",
                 s.message().c_str());
  }
  std::printf(
      "%s: %s version %s to %s (was %s); deployment %lld\n",
      d.kind == "rollback" ? "rolled back" : "deployed", f.name.c_str(), v.c_str(), f.env.c_str(),
      done->previous_version == 0 ? "unset" : std::to_string(done->previous_version).c_str(),
      static_cast<long long>(done->id));
  if (f.no_wait) {
    return kExitOk;
  }
  const std::string status = WaitForEndpoints(*targets, f, *token, done->version);
  if (Status s = ctx.registry->FinishDeployment(f.name, done->id, status,
                                                core::DumpJson(TargetsJson(*targets), false));
      !s.ok()) {
    return ReportError(s.WithPrefix("recording the deployment"));
  }
  for (const Target& t : *targets) {
    std::string what = "serves version " + v;
    if (!t.elsewhere.empty()) {
      what = "registered by " + t.elsewhere +
             " at a loopback URL, not reachable from here: not waited for (plinth serve "
             "--advertise-url)";
    } else if (t.Gone()) {
      what = "gone (registration stale, unreachable): not waited for";
    } else if (!t.ok) {
      what = "not serving version " + v + " after " + std::to_string(f.timeout) + " s (" +
             (t.live.empty() ? t.error : "serves " + t.live) + ")";
    }
    std::printf("  %-40s %s\n", t.url.c_str(), what.c_str());
  }
  if (status == "moved") {
    std::printf("no endpoints of %s to wait for (plinth serve models:/%s@%s registers itself)\n",
                f.env.c_str(), f.name.c_str(), f.env.c_str());
  }
  if (status == "timeout") {
    std::fprintf(stderr,
                 "plinth: error: the alias moved, but not every endpoint of %s serves version "
                 "%s within %lld s (plinth deploy status %s)\n",
                 f.env.c_str(), v.c_str(), static_cast<long long>(f.timeout), f.name.c_str());
    return kExitCheckFailed;
  }
  return kExitOk;
}

// The store, once the flags deploy and rollback share are checked.
Result<TrackingContext> OpenChecked(const DeployFlags& f) {
  if (f.timeout < 0 || f.timeout > 86400) {
    return InvalidArgument("--timeout " + std::to_string(f.timeout) +
                           ": expected 0 to 86400 seconds");
  }
  for (const std::string& url : f.endpoints) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      return InvalidArgument("--endpoint " + url + ": expected a URL starting with http://");
    }
  }
  if (!f.data.empty() && f.gates.empty()) {
    return InvalidArgument("--data: only with --gates (the gates' evaluation data)");
  }
  PLINTH_RETURN_IF_ERROR(tracking::ValidateAliasName(f.env).WithPrefix("--env"));
  return OpenTracking(f.tracking, true);
}

int RunDeploy(const DeployFlags& f) {
  Result<TrackingContext> ctx = OpenChecked(f);
  if (!ctx.ok()) {
    return ReportError(ctx.status());
  }
  Result<int64_t> previous = AliasVersion(*ctx->registry, f.name, f.env);
  if (!previous.ok()) {
    return ReportError(previous.status());
  }
  int64_t version = 0;
  if (f.version.empty()) {
    Result<int64_t> v = DefaultVersion(*ctx->registry, f);
    if (!v.ok()) {
      return ReportError(v.status());
    }
    version = *v;
  } else {
    Result<tracking::ModelVersion> mv = ctx->registry->GetModelVersion(f.name, f.version);
    if (!mv.ok()) {
      return ReportError(mv.status().WithPrefix("VERSION"));
    }
    version = mv->version;
  }
  if (version == *previous) {
    std::printf("%s version %lld is already at %s: nothing to deploy\n", f.name.c_str(),
                static_cast<long long>(version), f.env.c_str());
    return kExitOk;
  }
  std::string gate_run;
  if (!f.gates.empty()) {
    ModelTestFlags test;
    test.model = "models:/" + f.name + "/" + std::to_string(version);
    test.gates = f.gates;
    test.data = f.data;
    const int code = RunModelTest(test, f.tracking, &gate_run);
    if (code == kExitCheckFailed) {
      std::fprintf(stderr, "plinth deploy: version %lld did not pass its gates; %s stays at %s\n",
                   static_cast<long long>(version), f.env.c_str(),
                   *previous == 0 ? "nothing" : ("version " + std::to_string(*previous)).c_str());
    }
    if (code != kExitOk) {
      return code;
    }
  }
  if (f.approve) {
    if (Status s = ctx->registry->Approve(f.name, std::to_string(version), AccountName());
        !s.ok()) {
      return ReportError(s.WithPrefix("--approve"));
    }
  }
  return Move(*ctx, f,
              {f.name, f.env, version, *previous, "deploy", gate_run, MoverName(), f.reason});
}

// Where a rollback of `env` goes: the alias's moves replayed as a stack (a move pushes its
// version; a rollback pops back to the version it went to; deleting the alias empties it),
// so that rolling back twice goes two versions back, not back and forth. 0: nowhere.
int64_t RollbackTarget(const std::vector<tracking::RegistryEvent>& history, const std::string& env,
                       int64_t current) {
  std::vector<int64_t> held;
  for (const tracking::RegistryEvent& e : history) {
    if (e.kind != "alias" || e.key != env) {
      continue;
    }
    if (e.to.empty()) {
      held.clear();
      continue;
    }
    int64_t v = 0;
    std::from_chars(e.to.data(), e.to.data() + e.to.size(), v);
    auto was = std::find(held.rbegin(), held.rend(), v);
    if (e.reason.starts_with("rollback ") && was != held.rend()) {
      held.erase(was.base(), held.end());
    } else {
      held.push_back(v);
    }
  }
  if (held.size() < 2 || held.back() != current) {
    return 0;
  }
  return held[held.size() - 2];
}

int RunRollback(const DeployFlags& f) {
  Result<TrackingContext> ctx = OpenChecked(f);
  if (!ctx.ok()) {
    return ReportError(ctx.status());
  }
  Result<int64_t> current = AliasVersion(*ctx->registry, f.name, f.env);
  if (!current.ok()) {
    return ReportError(current.status());
  }
  if (*current == 0) {
    return ReportError(FailedPrecondition("nothing is deployed to " + f.env + " of " + f.name +
                                          " (alias '" + f.env + "' is unset)"));
  }
  int64_t target = 0;
  if (!f.version.empty()) {
    Result<tracking::ModelVersion> mv = ctx->registry->GetModelVersion(f.name, f.version);
    if (!mv.ok()) {
      return ReportError(mv.status().WithPrefix("--to"));
    }
    target = mv->version;
    if (target == *current) {
      return ReportError(
          InvalidArgument("--to " + f.version + ": " + f.env + " is at that version already"));
    }
  } else {
    Result<std::vector<tracking::RegistryEvent>> history = ctx->registry->History(f.name);
    if (!history.ok()) {
      return ReportError(history.status());
    }
    target = RollbackTarget(*history, f.env, *current);
    if (target == 0) {
      return ReportError(FailedPrecondition(
          "alias '" + f.env + "' of " + f.name + " named no version before version " +
          std::to_string(*current) + ": nothing to roll back to"));
    }
  }
  return Move(*ctx, f, {f.name, f.env, target, *current, "rollback", "", MoverName(), f.reason});
}

int RunStatus(const DeployFlags& f) {
  Result<std::string> token = ReadToken(f.admin_token_file);
  if (!token.ok()) {
    return ReportError(token.status());
  }
  Result<TrackingContext> ctx = OpenTracking(f.tracking, true);
  if (!ctx.ok()) {
    return ReportError(ctx.status());
  }
  tracking::RegistryStore& registry = *ctx->registry;
  Result<tracking::RegisteredModel> model = registry.GetRegisteredModel(f.name);
  if (!model.ok()) {
    return ReportError(model.status());
  }
  Result<std::vector<tracking::Deployment>> deployments = registry.Deployments(f.name);
  Result<std::vector<tracking::ServingEndpoint>> endpoints = registry.Endpoints(f.name);
  Result<std::vector<tracking::RegistryEvent>> history = registry.History(f.name);
  for (const Status& s : {deployments.status(), endpoints.status(), history.status()}) {
    if (!s.ok()) {
      return ReportError(s);
    }
  }
  // Environments: the aliases deployed to or served, and staging and production when set.
  std::set<std::string> envs;
  for (const auto& d : *deployments) {
    envs.insert(d.env);
  }
  for (const auto& e : *endpoints) {
    envs.insert(e.env);
  }
  for (const auto& [alias, v] : model->aliases) {
    if (alias == "staging" || alias == "production") {
      envs.insert(alias);
    }
  }
  if (!f.env.empty()) {
    envs = {f.env};
  }
  Json json = Json::array();
  const int64_t now = NowMs();
  for (const std::string& env : envs) {
    int64_t version = 0;
    for (const auto& [alias, v] : model->aliases) {
      version = alias == env ? v : version;
    }
    int64_t since = 0;
    for (const auto& e : *history) {
      since = e.kind == "alias" && e.key == env ? e.time : since;
    }
    Json j = {{"env", env}, {"version", version}, {"since", since}};
    for (const auto& d : *deployments) {
      if (d.env == env) {
        j["last_deployment"] = {{"id", d.id},           {"kind", d.kind},
                                {"version", d.version}, {"previous_version", d.previous_version},
                                {"status", d.status},   {"gate_run", d.gate_run_id},
                                {"user", d.user_id},    {"time", d.time}};
        Result<Json> seen = core::ParseJson(d.endpoints, "deployment", 8, 100000);
        j["last_deployment"]["endpoints"] = seen.ok() ? *seen : Json::array();
        break;
      }
    }
    Json eps = Json::array();
    for (const auto& e : *endpoints) {
      if (e.env != env) {
        continue;
      }
      std::string error;
      const std::string live = LiveVersion(e.url, f.name, 2, HeadersFor(e.url, *token), error);
      Json ep = {{"url", e.url},
                 {"live_version", live},
                 {"registered_version", e.version},
                 {"heartbeat_age_seconds", (now - e.heartbeat) / 1000},
                 {"host", e.host},
                 {"pid", e.pid}};
      if (!error.empty()) {
        ep["error"] = error;
      }
      eps.push_back(std::move(ep));
    }
    j["endpoints"] = std::move(eps);
    json.push_back(std::move(j));
  }
  if (f.json) {
    std::printf("%s\n", core::DumpJson(json).c_str());
    return kExitOk;
  }
  if (json.empty()) {
    std::printf("%s has not been deployed (plinth deploy %s --env production)\n", f.name.c_str(),
                f.name.c_str());
    return kExitOk;
  }
  core::TextTable t({"env", "version", "since", "last deployment", "endpoint", "live", "heartbeat"},
                    {false, true, false, false, false, true, true});
  for (const Json& j : json) {
    std::string last;
    if (j.contains("last_deployment")) {
      const Json& d = j["last_deployment"];
      last = "#" + std::to_string(d["id"].get<int64_t>()) + " " + d["kind"].get<std::string>() +
             " " + d["status"].get<std::string>() + " by " + d["user"].get<std::string>();
    }
    const int64_t v = j["version"].get<int64_t>();
    std::vector<std::string> row = {
        j["env"], v == 0 ? "-" : std::to_string(v), Time(j["since"].get<int64_t>()), last, "", "",
        ""};
    if (j["endpoints"].empty()) {
      t.AddRow(row);
    }
    for (const Json& e : j["endpoints"]) {
      row[4] = e["url"];
      row[5] = e["live_version"].get<std::string>().empty() ? e.value("error", "?")
                                                            : e["live_version"].get<std::string>();
      row[6] = std::to_string(e["heartbeat_age_seconds"].get<int64_t>()) + " s ago";
      t.AddRow(row);
      row = {"", "", "", "", "", "", ""};
    }
  }
  std::printf("%s", t.Render(44).c_str());
  return kExitOk;
}

// --env is checked by the callback on plinth deploy itself (plinth deploy status has none).
void AddWaitFlags(CLI::App& c, DeployFlags& f, bool env_required) {
  CLI::Option* env =
      c.add_option("--env", f.env, "the environment: the alias it moves (production, staging)");
  if (env_required) {
    env->required();
  }
  c.add_option("--endpoint", f.endpoints,
               "also wait for this endpoint (a URL; repeatable), besides those registered");
  c.add_option("--timeout", f.timeout, "seconds to wait for the endpoints")->capture_default_str();
  c.add_flag("--no-wait", f.no_wait, "move the alias, do not wait for the endpoints");
  c.add_option("--admin-token-file", f.admin_token_file,
               "a file whose first line is an admin token of the endpoints (the token, or "
               "'admin TOKEN' as in plinth serve's --auth-token-file): they are asked to reload "
               "at once rather than at their next poll, and their versions with it; sent only "
               "over https or to this machine");
  c.add_option("--reason", f.reason, "why (kept in the history and the deployment)");
  AddTrackingUriFlag(c, f.tracking);
}

}  // namespace

void RegisterDeploy(CLI::App& app, Runner& run) {
  auto f = std::make_shared<DeployFlags>();
  CLI::App* cmd = app.add_subcommand(
      "deploy",
      "Deploy a registered model version to an environment: run its gates, move the "
      "environment's alias, wait until its endpoints serve it (also: rollback, status)");
  cmd->add_option("NAME", f->name, "the registered model");
  cmd->add_option("VERSION", f->version,
                  "the version (default: for production the one at staging, else the newest)");
  AddWaitFlags(*cmd, *f, false);
  cmd->add_option("--gates", f->gates, "run these gates (plinth models test) first");
  cmd->add_option("--data", f->data, "with --gates: the gates' evaluation data");
  cmd->add_flag("--approve", f->approve,
                "record your approval of the version (plinth models approve) once its gates "
                "pass, before the move");
  cmd->callback([f, cmd, &run] {
    if (!cmd->get_subcommands().empty()) {
      return;
    }
    if (f->name.empty()) {
      throw CLI::RequiredError("NAME");
    }
    if (f->env.empty()) {
      throw CLI::RequiredError("--env");
    }
    run = [f] { return RunDeploy(*f); };
  });

  auto r = std::make_shared<DeployFlags>();
  CLI::App* rb = cmd->add_subcommand(
      "rollback", "Move an environment back to the version it served before this one");
  rb->add_option("NAME", r->name, "the registered model")->required();
  rb->add_option("--to", r->version, "this version instead (one the environment served before)");
  AddWaitFlags(*rb, *r, true);
  rb->callback([r, &run] { run = [r] { return RunRollback(*r); }; });

  auto s = std::make_shared<DeployFlags>();
  CLI::App* st = cmd->add_subcommand(
      "status", "Per environment: the version, since when, the last deployment, each endpoint");
  st->add_option("NAME", s->name, "the registered model")->required();
  st->add_option("--env", s->env, "only this environment");
  st->add_flag("--json", s->json, "JSON on stdout");
  st->add_option("--admin-token-file", s->admin_token_file,
                 "a token the endpoints take (as plinth deploy's), to ask their versions");
  AddTrackingUriFlag(*st, s->tracking);
  st->callback([s, &run] { run = [s] { return RunStatus(*s); }; });
}

}  // namespace plinth::cli
