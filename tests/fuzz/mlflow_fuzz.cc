// libFuzzer target for the MLflow REST API of `plinth server` (server/mlflow_api.h):
// the handlers' reading of JSON bodies and query strings, on a SQLite store in a
// temporary directory. The first byte picks one of the real routes (with its
// method), the rest is the body (or, for GET, the query string; for /graphql, the
// document); "@run" in it stands for a run that exists, so that handlers get past
// the lookup. Whatever the bytes, the answer is a 2xx or a 4xx with MLflow's error JSON: no
// exception, no crash, no 5xx.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/url.h"
#include "server/mlflow_api.h"

namespace {

using plinth::http::Request;
using plinth::http::Response;

struct Route {
  const char* method;
  const char* path;
};

// Every JSON route of the API, by the method it answers.
constexpr Route kRoutes[] = {
    {"POST", "/mlflow/experiments/create"},
    {"GET", "/mlflow/experiments/get"},
    {"GET", "/mlflow/experiments/get-by-name"},
    {"GET", "/mlflow/experiments/search"},
    {"POST", "/mlflow/experiments/search"},
    {"POST", "/mlflow/experiments/delete"},
    {"POST", "/mlflow/experiments/restore"},
    {"POST", "/mlflow/experiments/update"},
    {"POST", "/mlflow/experiments/set-experiment-tag"},
    {"POST", "/mlflow/experiments/delete-experiment-tag"},
    {"POST", "/mlflow/runs/create"},
    {"POST", "/mlflow/runs/update"},
    {"POST", "/mlflow/runs/delete"},
    {"POST", "/mlflow/runs/restore"},
    {"GET", "/mlflow/runs/get"},
    {"POST", "/mlflow/runs/log-metric"},
    {"POST", "/mlflow/runs/log-parameter"},
    {"POST", "/mlflow/runs/set-tag"},
    {"POST", "/mlflow/runs/delete-tag"},
    {"POST", "/mlflow/runs/log-batch"},
    {"POST", "/mlflow/runs/log-inputs"},
    {"POST", "/mlflow/runs/search"},
    {"POST", "/mlflow/runs/log-model"},
    {"GET", "/mlflow/metrics/get-history-bulk-interval"},
    {"GET", "/mlflow/metrics/get-history"},
    {"GET", "/mlflow/artifacts/list"},
    {"POST", "/mlflow/registered-models/create"},
    {"GET", "/mlflow/registered-models/get"},
    {"POST", "/mlflow/registered-models/rename"},
    {"PATCH", "/mlflow/registered-models/update"},
    {"DELETE", "/mlflow/registered-models/delete"},
    {"GET", "/mlflow/registered-models/search"},
    {"GET", "/mlflow/registered-models/get-latest-versions"},
    {"POST", "/mlflow/registered-models/get-latest-versions"},
    {"POST", "/mlflow/registered-models/set-tag"},
    {"DELETE", "/mlflow/registered-models/delete-tag"},
    {"POST", "/mlflow/registered-models/alias"},
    {"DELETE", "/mlflow/registered-models/alias"},
    {"GET", "/mlflow/registered-models/alias"},
    {"POST", "/mlflow/model-versions/create"},
    {"GET", "/mlflow/model-versions/get"},
    {"PATCH", "/mlflow/model-versions/update"},
    {"POST", "/mlflow/model-versions/transition-stage"},
    {"DELETE", "/mlflow/model-versions/delete"},
    {"GET", "/mlflow/model-versions/search"},
    {"GET", "/mlflow/model-versions/get-download-uri"},
    {"POST", "/mlflow/model-versions/set-tag"},
    {"DELETE", "/mlflow/model-versions/delete-tag"},
    {"POST", "/mlflow/runs/outputs"},
    {"POST", "/mlflow/logged-models"},
    {"POST", "/mlflow/logged-models/search"},
    {"GET", "/mlflow/logged-models/@model"},
    {"PATCH", "/mlflow/logged-models/@model"},
    {"DELETE", "/mlflow/logged-models/@model"},
    {"PATCH", "/mlflow/logged-models/@model/tags"},
    {"DELETE", "/mlflow/logged-models/@model/tags/k"},
    {"POST", "/mlflow/logged-models/@model/params"},
    {"GET", "/mlflow/logged-models/@model/artifacts/directories"},
    {"POST", "/mlflow/traces"},
    {"GET", "/mlflow/traces"},
    {"POST", "/mlflow/traces/delete-traces"},
    {"PATCH", "/mlflow/traces/@trace"},
    {"GET", "/mlflow/traces/@trace/info"},
    {"PATCH", "/mlflow/traces/@trace/tags"},
    {"DELETE", "/mlflow/traces/@trace/tags"},
    {"POST", "/mlflow/runs/create-promptlab-run"},
    {"POST", "/mlflow/traces/link-to-run"},
    {"GET", "/mlflow/logged-models/@model/artifacts/files"},
    {"POST", "/3.0/mlflow/traces"},
    {"GET", "/3.0/mlflow/traces/@trace"},
    {"POST", "/3.0/mlflow/traces/search"},
    {"GET", "/plinth/v1/lineage"},
    {"POST", "/plinth/v1/lineage"},
    {"GET", "/plinth/v1/registered-models/history"},
    // MLflow's GraphQL endpoint: the bytes are the document (server/graphql.h).
    {"POST", "/graphql"},
};
constexpr size_t kRouteCount = sizeof(kRoutes) / sizeof(kRoutes[0]);

Request MakeRequest(std::string method, std::string path, std::string text) {
  Request r;
  if (path == "/graphql") {
    r.path = r.target = path;
    r.method = std::move(method);
    r.headers.emplace_back("content-type", "application/json");
    plinth::core::Json body = {{"query", std::move(text)}};
    r.body = body.dump(-1, ' ', false, plinth::core::Json::error_handler_t::replace);
    return r;
  }
  r.method = std::move(method);
  r.path = (path.starts_with("/3.0/") ? "/api" : "/api/2.0") + path;
  if (r.method == "GET") {
    r.target = r.path + "?" + text;
    r.query = plinth::core::ParseQuery(text);
  } else {
    r.target = r.path;
    r.body = std::move(text);
    r.headers.emplace_back("content-type", "application/json");
  }
  return r;
}

// The API on a store in a temporary directory, with one run and one model
// version to act on; removed when the process exits.
struct Fixture {
  Fixture() {
    char dir_template[] = "/tmp/plinth-mlflow-fuzz-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
      std::abort();
    }
    dir = dir_template;
    auto created = plinth::server::MlflowApi::Create(
        {"sqlite:///" + dir + "/mlflow.db", dir + "/artifacts", "fuzz"});
    if (!created.ok()) {
      std::abort();
    }
    api = std::move(*created);
    Response run = api->HandleForTesting(
        MakeRequest("POST", "/mlflow/runs/create", R"({"experiment_id": "0"})"));
    auto parsed = plinth::core::ParseJson(run.body, "runs/create");
    if (run.status != 200 || !parsed.ok()) {
      std::abort();
    }
    run_id = (*parsed)["run"]["info"]["run_id"].get<std::string>();
    Response model = api->HandleForTesting(
        MakeRequest("POST", "/mlflow/logged-models", R"({"experiment_id": "0", "name": "lm"})"));
    auto logged = plinth::core::ParseJson(model.body, "logged-models");
    if (model.status != 200 || !logged.ok()) {
      std::abort();
    }
    model_id = (*logged)["model"]["info"]["model_id"].get<std::string>();
    Response trace = api->HandleForTesting(
        MakeRequest("POST", "/mlflow/traces", R"({"experiment_id": "0", "timestamp_ms": 1})"));
    auto started = plinth::core::ParseJson(trace.body, "traces");
    if (trace.status != 200 || !started.ok()) {
      std::abort();
    }
    trace_id = (*started)["trace_info"]["request_id"].get<std::string>();
    api->HandleForTesting(
        MakeRequest("POST", "/mlflow/registered-models/create", R"({"name": "m"})"));
    api->HandleForTesting(MakeRequest("POST", "/mlflow/model-versions/create",
                                      R"({"name": "m", "source": "mlflow-artifacts:/0/x"})"));
  }
  ~Fixture() {
    api.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string dir;
  std::string run_id;
  std::string model_id;
  std::string trace_id;
  std::unique_ptr<plinth::server::MlflowApi> api;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  static Fixture fixture;
  const Route& route = kRoutes[data[0] % kRouteCount];
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (size_t at = text.find("@run"); at != std::string::npos; at = text.find("@run", at)) {
    text.replace(at, 4, fixture.run_id);
    at += fixture.run_id.size();
  }
  for (size_t at = text.find("@model"); at != std::string::npos; at = text.find("@model", at)) {
    text.replace(at, 6, fixture.model_id);
    at += fixture.model_id.size();
  }
  std::string path = route.path;
  if (size_t at = path.find("@model"); at != std::string::npos) {
    path.replace(at, 6, fixture.model_id);
  }
  if (size_t at = path.find("@trace"); at != std::string::npos) {
    path.replace(at, 6, fixture.trace_id);
  }
  const Response r = fixture.api->HandleForTesting(MakeRequest(route.method, path, text));
  if (r.status >= 500 || r.status < 200) {
    std::abort();
  }
  auto body = plinth::core::ParseJson(r.body, "answer");
  if (!body.ok() || (r.status >= 400 && (!body->is_object() || !body->contains("error_code")))) {
    std::abort();
  }
  return 0;
}
