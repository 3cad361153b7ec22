// The control plane's HTTP API: MLflow's REST API 2.0 (tracking, model
// registry, proxied artifacts) served under /api/2.0 and /ajax-api/2.0, over a
// pool of store connections. Thread-safe:
// `plinth server` calls Handle from every I/O thread.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "http/server.h"

namespace plinth::server {

struct ApiOptions {
  std::string store_uri;  // sqlite:///... or postgresql://...
  // The directory behind MLflow's proxied artifact URIs: experiments keep their
  // artifacts at mlflow-artifacts:/<experiment id>, which is DIR/<experiment id>.
  std::string artifacts_destination;
  std::string version;  // answered at /version
};

// The artifact location root of new experiments in Plinth's store.
inline constexpr const char* kProxiedArtifactRoot = "mlflow-artifacts:";

class MlflowApi {
 public:
  // Opens the store (running its migrations) and checks it answers.
  static Result<std::unique_ptr<MlflowApi>> Create(const ApiOptions& options);
  ~MlflowApi();

  // Answers `request` and records it in /metrics (requests by route, method and
  // status; a latency histogram by route).
  http::Response Handle(const http::Request& request);

 private:
  http::Response Dispatch(const http::Request& request, std::string* route);
  struct Impl;
  explicit MlflowApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// MLflow's error shape for errors the HTTP layer answers itself (malformed
// requests, bodies over the limit).
http::Response MlflowHttpError(int status, const std::string& message);

}  // namespace plinth::server
