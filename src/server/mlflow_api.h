// The control plane's HTTP API: MLflow's REST API 2.0 (tracking, model
// registry, proxied artifacts) served under /api/2.0 and /ajax-api/2.0, over a
// pool of store connections. Thread-safe: `plinth server` calls Handle from
// every I/O thread.
//
// The logging writes (log-metric, log-batch, log-parameter, set-tag) are
// answered later: a group commit on one writer connection (core::Batcher and
// TrackingStore::LogBatches) writes the requests queued meanwhile in one
// transaction, and each is answered once that has committed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "http/server.h"
#include "server/auth.h"

namespace plinth::tracking {
struct LogRequest;
}  // namespace plinth::tracking

namespace plinth::server {

// What GET /version answers: the MLflow release whose REST API Plinth follows. MLflow 3
// clients read it as the server's version (3.4 and later: spans go over OTLP); Plinth's
// own version is in the X-Plinth-Version header.
inline constexpr std::string_view kMlflowApiVersion = "3.10.1";

struct ApiOptions {
  std::string store_uri;  // sqlite:///... or postgresql://...
  // The directory behind MLflow's proxied artifact URIs: experiments keep their
  // artifacts at mlflow-artifacts:/<experiment id>, which is DIR/<experiment id>.
  std::string artifacts_destination;
  std::string version;  // Plinth's, in /version's X-Plinth-Version header
  // The artifact location root of new experiments (MLflow's --default-artifact-root):
  // the proxied mlflow-artifacts: by default; a file:// URI or local path (clients then
  // write there themselves), or any other URI a client can reach.
  std::string default_artifact_root = "mlflow-artifacts:";
  // With a value: MLflow's basic-auth (server/auth.h); every request but /health must
  // name a user, and routes check the user's permissions.
  std::optional<AuthOptions> auth = std::nullopt;
  // The server's largest request body: also the largest OTLP export once decompressed.
  uint64_t max_body_bytes = uint64_t{64} << 20;
};

// The --default-artifact-root value as the store keeps it: a URI as given (trailing
// slashes dropped), a local path made absolute. kInvalidArgument for an empty value, a
// relative file: URI, or a runs:/ or models:/ URI.
Result<std::string> DefaultArtifactRoot(const std::string& flag);

class MlflowApi {
 public:
  // Opens the store (running its migrations) and checks it answers.
  static Result<std::unique_ptr<MlflowApi>> Create(const ApiOptions& options);
  ~MlflowApi();

  // Answers `request` through `respond` (at once, or from the writer thread for
  // a logging write) and records it in /metrics (requests by route, method and
  // status; a latency histogram by route).
  void Handle(http::Request request, http::Responder respond);

  // Handle without a connection: returns the answer, after the group commit
  // for a logging write. For tests and the fuzz target (tests/fuzz/mlflow_fuzz.cc).
  http::Response HandleForTesting(http::Request request);

 private:
  // Handle's work, answering through `answer` (called once, maybe from the writer thread).
  // A request whose password must be checked is answered from a sign-in thread.
  void Answer(http::Request request, std::function<void(http::Response)> answer);
  void AnswerNow(http::Request request, std::function<void(http::Response)> answer);
  // The answer, or none when the request became a write for the group commit
  // (then in `write`). `route` gets the route's label for /metrics.
  // `who` is the signed-in sender with --auth, else null.
  std::optional<http::Response> Dispatch(const http::Request& request, std::string* route,
                                         tracking::LogRequest* write, const Identity* who);
  // /graphql: MLflow's GraphQL schema over the REST routes (server/graphql.h), each
  // field checked as its route would be for `who`.
  http::Response AnswerGraphql(const http::Request& request, const Identity* who);
  // With --auth, before dispatch: the sender (into `who`) and whether the route lets
  // them through; else the 401, 403 or lookup error to answer. Sets x-plinth-user.
  std::optional<http::Response> Admit(http::Request& request, std::optional<Identity>* who);
  // After a successful answer: the creator's MANAGE grant on a new experiment or
  // registered model; a deleted or renamed model's grants. An error answer if that fails.
  std::optional<http::Response> AfterAuth(const http::Request& request, const Identity& who,
                                          const http::Response& response);
  // experiments/search and registered-models/search for a user who is not an admin:
  // only what they may read, pages refilled from the next ones (MLflow's filter).
  http::Response FilteredSearch(const http::Request& request, std::string_view rest,
                                const Identity& who);
  struct Impl;
  explicit MlflowApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// MLflow's error shape for errors the HTTP layer answers itself (malformed
// requests, bodies over the limit).
http::Response MlflowHttpError(int status, const std::string& message);

}  // namespace plinth::server
