// plinth serve: the data plane (one model bundle behind /predict and friends).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "commands.h"
#include "core/file.h"
#include "core/mutex.h"
#include "data/project.h"
#include "features/feature_server.h"
#include "features_context.h"
#include "http/server.h"
#include "monitor/alerts.h"
#include "monitor_reference.h"
#include "serving/live_monitor.h"
#include "serving/model_server.h"
#include "serving/model_source.h"
#include "serving/prediction_log.h"
#include "table/csv_reader.h"
#include "table/value_parse.h"
#include "tracking_context.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth::cli {
namespace {

struct ServeFlags {
  std::string model;
  TrackingFlags tracking;
  ListenFlags listen{.port = 8080};
  int64_t max_rows = 10000;    // signed, so that -1 is refused rather than wrapped
  int64_t poll_interval = -1;  // seconds; -1: 30 for models:/NAME@ALIAS, else off
  std::string prediction_log;  // a directory, "off", or "": .plinth/monitoring/<model>
  int64_t max_batch_size = 0;  // rows; 0: no dynamic batching
  int64_t max_queue_delay_us = 500;
  int64_t feedback_memory = 100000;  // requests /feedback can refer to
  std::string auth_token_file;       // "": no tokens asked
  std::string public_routes = "health";
  std::string monitor;        // monitoring.yaml; "": no live monitoring
  std::string advertise_url;  // "": scheme://host:port as listened on
  std::string shadow;         // a model scoring every request unseen; "": none
  std::string canary;         // MODEL=PERCENT: a model answering a share of requests; "": none
  std::string canary_header;  // the header that keeps a client on its model; "": X-Request-Id
  bool features = false;      // look the model's features up in the feature store
};

// --features: each model loaded (at start and on reloads) gets its feature service's features
// looked up in the online store, at the group versions its bundle records.
class FeatureAttacher {
 public:
  static Result<std::unique_ptr<FeatureAttacher>> Open(const TrackingFlags& flags) {
    auto a = std::unique_ptr<FeatureAttacher>(new FeatureAttacher());
    PLINTH_ASSIGN_OR_RETURN(a->handle_, OpenLatest(flags, Online::kRead));
    a->online_ = std::shared_ptr<features::OnlineStore>(std::move(a->handle_.online));
    PLINTH_ASSIGN_OR_RETURN(a->server_, features::OnlineFeatureServer::Open(a->handle_.uri));
    return a;
  }

  Result<std::shared_ptr<const serving::ServedModel>> Attach(
      std::shared_ptr<const serving::ServedModel> m) {
    const ml::BundleMeta& meta = m->predictor->meta();
    if (!meta.trained || !meta.trained->feature_service) {
      return InvalidArgument("--features: " + m->name + " version " + m->version +
                             " was not trained on a feature service (data.features in "
                             "train.yaml), so there is nothing to look up for it");
    }
    const ml::FeatureServiceRecord& record = *meta.trained->feature_service;
    std::lock_guard<std::mutex> lock(mu_);  // the registry's connection: one caller at a time
    PLINTH_ASSIGN_OR_RETURN(features::Definitions latest, handle_.registry->Latest());
    // The on-demand features as the model was trained with them.
    for (const auto& [name, expression] : record.on_demand) {
      const features::OnDemandFeature* od = latest.FindOnDemand(name);
      if (od == nullptr || od->expression != expression) {
        return FailedPrecondition("--features: " + m->name + " version " + m->version +
                                  " was trained with the "
                                  "on-demand feature " +
                                  name + " = " + expression + ", which the feature registry " +
                                  (od == nullptr ? std::string("no longer defines")
                                                 : "now defines as " + od->expression));
      }
    }
    // Every group version it reads must have been materialized (else every value would be
    // missing, and the model would answer from imputed values alone).
    for (const std::string& text : record.features) {
      PLINTH_ASSIGN_OR_RETURN(features::FeatureRef r, features::ParseFeatureRef(text));
      if (r.group.empty()) {
        continue;
      }
      const std::string table = r.group + "@" + std::to_string(r.version);
      PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> mark, online_->Watermark(table));
      if (!mark) {
        return FailedPrecondition("--features: feature group " + table + ", which " + m->name +
                                  " version " + m->version +
                                  " reads, was never materialized (plinth features materialize)");
      }
    }
    PLINTH_ASSIGN_OR_RETURN(
        std::shared_ptr<const features::ServingFeatures> looked_up,
        features::ServingFeatures::Create(latest, GroupsOf(latest, *handle_.registry), online_,
                                          record.features, m->predictor->input_schema()));
    auto with = std::make_shared<serving::ServedModel>(*m);
    with->features = std::move(looked_up);
    return std::shared_ptr<const serving::ServedModel>(std::move(with));
  }

  std::pair<int, std::string> GetOnlineFeatures(std::string_view body) {
    features::FeatureAnswer a = server_->GetOnlineFeatures(body);
    return {a.status, std::move(a.body)};
  }

 private:
  FeatureAttacher() = default;
  std::mutex mu_;
  RegistryHandle handle_;
  std::shared_ptr<features::OnlineStore> online_;
  std::unique_ptr<features::OnlineFeatureServer> server_;
};

// Where `model` is now: a models:/ URI through the registry (its version), else
// the bundle path (the bundle's own version).
Result<serving::ModelLocation> LocateModel(const std::string& model, const TrackingFlags& flags) {
  tracking::ModelVersion registered;
  serving::ModelLocation at;
  PLINTH_ASSIGN_OR_RETURN(at.dir, ResolveModel(model, flags, &registered));
  if (model.starts_with("models:/")) {
    at.version = std::to_string(registered.version);
    at.registered_name = registered.name;
    return at;
  }
  PLINTH_ASSIGN_OR_RETURN(at.version, serving::BundleVersion(at.dir));
  return at;
}

Result<serving::ModelLocation> Locate(const ServeFlags& f) {
  return LocateModel(f.model, f.tracking);
}

// --canary MODEL=PERCENT (split at the last '='): the model and its share in hundredths of a
// percent. PERCENT is digits with at most two decimals, 0.01 to 100.
Result<std::pair<std::string, int>> ParseCanary(const std::string& flag) {
  const size_t eq = flag.rfind('=');
  const std::string_view percent =
      eq == std::string::npos ? std::string_view() : std::string_view(flag).substr(eq + 1);
  int64_t basis_points = -1;
  const size_t dot = percent.find('.');
  const std::string_view whole = percent.substr(0, dot);
  const std::string_view decimals =
      dot == std::string_view::npos ? std::string_view() : percent.substr(dot + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (eq != std::string::npos && eq > 0 && !whole.empty() && whole.size() <= 3 && digits(whole) &&
      decimals.size() <= 2 && digits(decimals) &&
      (dot == std::string_view::npos || !decimals.empty())) {
    basis_points = std::stoll(std::string(whole)) * 100;
    if (!decimals.empty()) {
      basis_points += std::stoll(std::string(decimals)) * (decimals.size() == 1 ? 10 : 1);
    }
  }
  if (basis_points < 1 || basis_points > 10000) {
    return InvalidArgument("--canary " + flag.substr(0, 200) +
                           ": expected MODEL=PERCENT with PERCENT from 0.01 to 100, at most two "
                           "decimals (e.g. models:/NAME@challenger=10)");
  }
  return std::pair{flag.substr(0, eq), static_cast<int>(basis_points)};
}

// A header name as HTTP allows one (a token), lowercase as requests carry them.
Result<std::string> HeaderName(const std::string& flag) {
  std::string name;
  for (char c : flag) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr))) {
      return InvalidArgument("--canary-header '" + flag.substr(0, 200) +
                             "': expected a header name such as X-User-Id");
    }
    name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (name.empty() || name.size() > 128) {
    return InvalidArgument("--canary-header: expected a header name of 1 to 128 characters");
  }
  return name;
}

// The challenger beside the served model (--shadow or --canary), checked against it.
Result<serving::Challenger> LoadChallenger(const ServeFlags& f,
                                           const serving::ServedModel& served) {
  serving::Challenger c;
  if (f.shadow.empty() && f.canary.empty()) {
    if (!f.canary_header.empty()) {
      return InvalidArgument("--canary-header needs --canary");
    }
    return c;
  }
  if (!f.shadow.empty() && !f.canary.empty()) {
    return InvalidArgument(
        "--shadow and --canary: one challenger at a time (a shadow scores every request "
        "unseen, a canary answers a share of them)");
  }
  std::string model = f.shadow;
  std::string flag = "--shadow " + f.shadow;
  if (!f.canary.empty()) {
    PLINTH_ASSIGN_OR_RETURN(auto canary, ParseCanary(f.canary));
    model = canary.first;
    flag = "--canary " + model;
    c.role = serving::Challenger::Role::kCanary;
    c.canary_basis_points = canary.second;
    if (!f.canary_header.empty()) {
      PLINTH_ASSIGN_OR_RETURN(c.canary_header, HeaderName(f.canary_header));
    }
  } else if (!f.canary_header.empty()) {
    return InvalidArgument("--canary-header needs --canary");
  }
  c.source = serving::SourceOf([&f, model] { return LocateModel(model, f.tracking); });
  Result<std::shared_ptr<const serving::ServedModel>> loaded = c.source.load();
  if (!loaded.ok()) {  // the message names the model
    return loaded.status().WithPrefix(flag.substr(0, flag.find(' ')));
  }
  if (Status s = serving::CheckChallenger(*served.predictor, *(*loaded)->predictor); !s.ok()) {
    return s.WithPrefix(flag);
  }
  c.model = *std::move(loaded);
  return c;
}

// Live monitoring from monitoring.yaml against the served model's reference set; the
// alert history in the log directory `dir`.
Result<std::unique_ptr<serving::LiveMonitor>> StartMonitor(const ServeFlags& f,
                                                           const serving::ServedModel& served,
                                                           const std::string& dir) {
  PLINTH_ASSIGN_OR_RETURN(monitor::MonitoringConfig config,
                          monitor::ReadMonitoringConfig(f.monitor));
  PLINTH_ASSIGN_OR_RETURN(serving::ModelLocation at, Locate(f));
  PLINTH_ASSIGN_OR_RETURN(
      table::Table reference,
      ReadReferenceSet(at.dir, f.model, *served.predictor, table::CsvOptions()));
  PLINTH_RETURN_IF_ERROR(core::MakeParentDirs(dir + "/alerts.jsonl"));
  serving::LiveMonitor::Setup setup;
  setup.config = std::move(config);
  setup.model = served.predictor;
  setup.reference = std::move(reference);
  setup.alerts_path = dir + "/alerts.jsonl";
  setup.subject.model = served.name;
  setup.subject.model_version = served.version;
  if (served.predictor->meta().trained) {
    setup.subject.data_sha256 = served.predictor->meta().trained->data.sha256;
  }
  setup.subject.instance = f.listen.host + ":" + std::to_string(f.listen.port);
  setup.subject.external_url = f.listen.scheme() + "://" + setup.subject.instance + "/monitor";
  setup.log = [](const std::string& line) {
    std::fprintf(stderr, "plinth serve: %s\n", line.c_str());
  };
  return serving::LiveMonitor::Start(std::move(setup));
}

// An endpoint serving models:/NAME@ENV registers itself where the registry is (and renews
// the registration each poll interval, forgets it on a clean stop), so that plinth deploy
// knows whom to wait for (docs/DEPLOYMENT.md). A store that keeps no endpoints (a tracking
// server) or a failure to write is reported once, never fatal: serving goes on.
class EndpointRegistration {
 public:
  EndpointRegistration(const ServeFlags& f, int64_t poll_seconds) : f_(f), poll_(poll_seconds) {
    const std::string_view uri = f.model;
    const size_t at = uri.find('@');
    if (uri.starts_with("models:/") && at != std::string_view::npos) {
      name_ = std::string(uri.substr(8, at - 8));
      env_ = std::string(uri.substr(at + 1));
    }
  }
  ~EndpointRegistration() {
    core::MutexLock lock(mu_);
    if (!url_.empty()) {
      Result<TrackingContext> ctx = OpenTracking(f_.tracking, true);
      if (ctx.ok()) {
        (void)ctx->registry->RemoveEndpoint(Row(0));
      }
    }
  }
  EndpointRegistration(const EndpointRegistration&) = delete;
  EndpointRegistration& operator=(const EndpointRegistration&) = delete;

  // Registers the endpoint listening on `port`, serving `version`.
  void Start(int port, const std::string& version) {
    if (name_.empty()) {
      return;
    }
    std::string url = f_.advertise_url;
    if (url.empty()) {
      std::string host = f_.listen.host;
      if (host == "0.0.0.0" || host == "::" || host.empty()) {
        const std::string machine = HostName();
        host = machine.empty() ? "localhost" : machine;
      } else if (host.find(':') != std::string::npos) {
        host = "[" + host + "]";
      }
      url = f_.listen.scheme() + "://" + host + ":" + std::to_string(port);
    }
    while (url.ends_with('/')) {
      url.pop_back();
    }
    core::MutexLock lock(mu_);
    url_ = url;
    Write(version);
  }
  // Renews the registration (the poller's thread).
  void Renew(const std::string& version) {
    core::MutexLock lock(mu_);
    if (!url_.empty()) {
      Write(version);
    }
  }

 private:
  // This process's registration, serving `version`.
  tracking::ServingEndpoint Row(int64_t version) PLINTH_REQUIRES(mu_) {
    return {url_, name_, env_, version, HostName(), ::getpid(), poll_, 0, 0};
  }

  void Write(const std::string& version) PLINTH_REQUIRES(mu_) {
    int64_t v = 0;
    std::from_chars(version.data(), version.data() + version.size(), v);
    Result<TrackingContext> ctx = OpenTracking(f_.tracking, true);
    Status s = ctx.ok() ? ctx->registry->RegisterEndpoint(Row(v)) : ctx.status();
    if (!s.ok() && !reported_) {
      reported_ = true;
      std::fprintf(stderr,
                   "plinth serve: note: not registered as an endpoint of %s (plinth deploy will "
                   "not wait for it): %s\n",
                   env_.c_str(), s.message().c_str());
    }
  }

  const ServeFlags& f_;
  const int64_t poll_;
  std::string name_;
  std::string env_;
  core::Mutex mu_;
  std::string url_ PLINTH_GUARDED_BY(mu_);
  bool reported_ PLINTH_GUARDED_BY(mu_) = false;
};

int RunServe(const ServeFlags& f) {
  Result<http::ServerOptions> http_options = ToServerOptions(f.listen);
  if (!http_options.ok()) {
    return ReportError(http_options.status());
  }
  if (f.max_rows < 1 || f.max_rows > (int64_t{1} << 30)) {
    return ReportError(InvalidArgument("--max-rows " + std::to_string(f.max_rows) +
                                       ": expected 1 to " + std::to_string(int64_t{1} << 30)));
  }
  if (f.poll_interval < -1 || f.poll_interval > 86400) {
    return ReportError(InvalidArgument("--poll-interval " + std::to_string(f.poll_interval) +
                                       ": expected 0 (off) to 86400 seconds"));
  }
  if (f.max_batch_size < 0 || f.max_batch_size > (int64_t{1} << 30)) {
    return ReportError(InvalidArgument("--max-batch-size " + std::to_string(f.max_batch_size) +
                                       ": expected 0 (off) to " + std::to_string(int64_t{1} << 30) +
                                       " rows"));
  }
  if (f.max_queue_delay_us < 0 || f.max_queue_delay_us > 10'000'000) {
    return ReportError(InvalidArgument("--max-queue-delay-us " +
                                       std::to_string(f.max_queue_delay_us) +
                                       ": expected 0 to 10000000 microseconds"));
  }
  if (f.feedback_memory < 1 || f.feedback_memory > 100'000'000) {
    return ReportError(InvalidArgument("--feedback-memory " + std::to_string(f.feedback_memory) +
                                       ": expected 1 to 100000000 requests"));
  }
  serving::ModelSource source = serving::SourceOf([&f] { return Locate(f); });
  std::unique_ptr<FeatureAttacher> attacher;
  if (f.features) {
    Result<std::unique_ptr<FeatureAttacher>> opened = FeatureAttacher::Open(f.tracking);
    if (!opened.ok()) {
      return ReportError(opened.status().WithPrefix("--features"));
    }
    attacher = std::move(*opened);
    source.load = [inner = source.load,
                   a = attacher.get()]() -> Result<std::shared_ptr<const serving::ServedModel>> {
      PLINTH_ASSIGN_OR_RETURN(std::shared_ptr<const serving::ServedModel> m, inner());
      return a->Attach(std::move(m));
    };
  }
  Result<std::shared_ptr<const serving::ServedModel>> served = source.load();
  if (!served.ok()) {
    return ReportError(served.status().WithPrefix("MODEL"));
  }
  std::unique_ptr<serving::PredictionLog> log;
  // The log directory: the prediction log's, and the alert history's.
  std::string dir = f.prediction_log == "off" ? std::string() : f.prediction_log;
  if (dir.empty()) {
    Result<data::Project> project = data::Project::Find(".");
    Result<std::string> default_dir =
        serving::DefaultLogDir(project.ok() ? project->root() : "", (*served)->name);
    if (!default_dir.ok()) {
      return ReportError(default_dir.status().WithPrefix("MODEL"));
    }
    dir = *std::move(default_dir);
  }
  if (f.prediction_log != "off") {
    Result<std::unique_ptr<serving::PredictionLog>> opened =
        serving::PredictionLog::Open({.dir = dir});
    if (!opened.ok()) {
      return ReportError(opened.status().WithPrefix("--prediction-log"));
    }
    log = *std::move(opened);
  }
  std::unique_ptr<serving::DynamicBatcher> batcher;
  if (f.max_batch_size > 0) {
    batcher = std::make_unique<serving::DynamicBatcher>(f.max_batch_size, f.max_queue_delay_us);
  }
  Result<unsigned> public_routes = serving::ParsePublicRoutes(f.public_routes);
  if (!public_routes.ok()) {
    return ReportError(public_routes.status().WithPrefix("--public-routes"));
  }
  std::optional<serving::AccessTokens> tokens;
  if (!f.auth_token_file.empty()) {
    Result<serving::AccessTokens> loaded = serving::AccessTokens::Load(f.auth_token_file);
    if (!loaded.ok()) {
      return ReportError(loaded.status().WithPrefix("--auth-token-file"));
    }
    tokens = std::move(*loaded);
  }
  std::unique_ptr<serving::LiveMonitor> monitor;
  if (!f.monitor.empty()) {
    Result<std::unique_ptr<serving::LiveMonitor>> started = StartMonitor(f, **served, dir);
    if (!started.ok()) {
      return ReportError(started.status().WithPrefix("--monitor"));
    }
    monitor = std::move(*started);
  }
  serving::ServeOptions options{
      PLINTH_VERSION,
      serving::InputLimits{static_cast<size_t>(f.max_rows), table::CsvOptions().null_values},
      log.get(),
      batcher.get(),
      static_cast<size_t>(f.feedback_memory),
      tokens ? &*tokens : nullptr,
      *public_routes,
      monitor.get()};
  if (attacher) {
    options.online_features = [a = attacher.get()](std::string_view body) {
      return a->GetOnlineFeatures(body);
    };
  }
  if (attacher && (!f.shadow.empty() || !f.canary.empty())) {
    // A challenger would score the rows completed for the served model, at its group versions.
    return ReportError(InvalidArgument(
        "--features with --shadow or --canary: not yet (a challenger would be scored on the "
        "served model's features)"));
  }
  Result<serving::Challenger> challenger = LoadChallenger(f, **served);
  if (!challenger.ok()) {
    return ReportError(challenger.status());
  }
  const std::string challenger_uri =
      f.shadow.empty() ? f.canary.substr(0, f.canary.rfind('=')) : f.shadow;
  serving::ModelServer model(*served, options, source, *std::move(challenger));
  // An alias moves: polled when either model is named by one.
  const int64_t poll_seconds =
      f.poll_interval >= 0
          ? f.poll_interval
          : std::max(serving::PollSeconds(f.model, -1),
                     challenger_uri.empty() ? 0 : serving::PollSeconds(challenger_uri, -1));
  EndpointRegistration registration(f, poll_seconds);
  serving::ReloadPoller poller(
      model, poll_seconds,
      [](const std::string& what) { std::fprintf(stderr, "plinth serve: %s\n", what.c_str()); },
      [&] { registration.Renew(model.current()->version); });
  http::Server srv(
      *http_options,
      [&model](http::Request r, http::Responder respond) {
        model.Handle(std::move(r), std::move(respond));
      },
      serving::ModelServer::Error);
  return ServeUntilStopped(srv, "serve", [&](int port) {
    const serving::ServedModel& m = **served;
    registration.Start(port, model.current()->version);
    return m.name + " version " + m.version + " on " + f.listen.scheme() + "://" + f.listen.host +
           ":" + std::to_string(port) + " (POST /predict; predicting with " +
           m.predictor->PredictEngine() + ")" +
           (model.challenger() == nullptr ? std::string()
            : model.challenger_role() == serving::Challenger::Role::kShadow
                ? "; shadow: " + model.challenger()->name + " version " +
                      model.challenger()->version
                : "; canary: " + model.challenger()->name + " version " +
                      model.challenger()->version + " answers " +
                      serving::PercentText(model.canary_basis_points()) + "% of requests");
  });
}

}  // namespace

void RegisterServe(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a model bundle over HTTP (POST /predict)");
  AddModelArgument(*cmd, flags->model);
  AddTrackingUriFlag(*cmd, flags->tracking);
  AddListenFlags(*cmd, flags->listen);
  cmd->add_option("--max-rows", flags->max_rows, "most rows in one request")->capture_default_str();
  cmd->add_option("--poll-interval", flags->poll_interval,
                  "seconds between checks that MODEL still names the served version (an alias "
                  "moved, a bundle rewritten), loading and swapping in the new one; 0: off "
                  "(default: 30 for models:/NAME@ALIAS, else off)");
  cmd->add_option("--max-batch-size", flags->max_batch_size,
                  "dynamic batching: score concurrent requests together, up to this many rows "
                  "per model call; 0: off (requests that can be merged are bounded by --threads)")
      ->capture_default_str();
  cmd->add_option("--max-queue-delay-us", flags->max_queue_delay_us,
                  "dynamic batching: the longest a request waits for others to join its batch")
      ->capture_default_str();
  cmd->add_option("--feedback-memory", flags->feedback_memory,
                  "how many of the latest requests POST /feedback can refer to")
      ->capture_default_str();
  cmd->add_option("--auth-token-file", flags->auth_token_file,
                  "bearer tokens, one per line as 'score TOKEN' or 'admin TOKEN' (chmod 600): "
                  "scoring and /feedback need one, /admin/reload an admin one");
  cmd->add_option("--monitor", flags->monitor,
                  "live monitoring (monitoring.yaml: window, interval, drift rules, alert rules, "
                  "webhook; docs/MONITORING.md): Prometheus gauges on /metrics, JSON on GET "
                  "/monitor, alerts");
  cmd->add_option("--public-routes", flags->public_routes,
                  "with --auth-token-file, the routes answered without a token: a comma list "
                  "of health, metrics, metadata, or none")
      ->capture_default_str();
  cmd->add_option("--shadow", flags->shadow,
                  "a second model (models:/NAME@challenger, a bundle) that scores every scored "
                  "request too, after the answer went out, unseen by clients: its outputs join "
                  "the prediction log's lines, /metrics counts how often the two agree");
  cmd->add_option("--canary", flags->canary,
                  "MODEL=PERCENT (models:/NAME@challenger=10): a second model that answers "
                  "that share of the scoring requests, picked by a hash of the request id (or "
                  "--canary-header's value), so the same key always reaches the same model; the "
                  "X-Model-Version header, log lines and /metrics name the model that answered");
  cmd->add_option("--canary-header", flags->canary_header,
                  "with --canary, the request header whose value picks a client's model (e.g. "
                  "X-User-Id); a request without it is picked by its request id (default: "
                  "X-Request-Id)");
  cmd->add_flag("--features", flags->features,
                "look the model's features up in the feature store before predicting (a model "
                "trained on a feature service: requests carry entity keys and request values); "
                "also answers POST /get-online-features");
  cmd->add_option("--advertise-url", flags->advertise_url,
                  "for models:/NAME@ENV, the URL plinth deploy reaches this endpoint at, as "
                  "registered where the registry is (default: http://HOST:PORT as listened on)");
  cmd->add_option(
      "--prediction-log", flags->prediction_log,
      "directory of the prediction log (JSON Lines segments: a line per scored "
      "request and per /feedback row), or 'off' (default: .plinth/monitoring/<model>/ in the "
      "project, or here)");
  cmd->callback([flags, &run] { run = [flags] { return RunServe(*flags); }; });
}

}  // namespace plinth::cli
