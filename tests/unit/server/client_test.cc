// The public tracking client over HTTP (against plinth server's API on a real
// socket) and on the embedded store answer the same, errors included.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "core/file.h"
#include "http/server.h"
#include "plinth/tracking.h"
#include "server/mlflow_api.h"
#include "testutil/testutil.h"
#include "tracking/mlflow_json.h"

namespace plinth::server {
namespace {

TEST(TrackingClientTest, HttpAndEmbeddedAgree) {
  testutil::TempDir dir;
  const std::string db = "sqlite:///" + dir.File("m.db");
  auto api = MlflowApi::Create({db, dir.File("art"), "test"});
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  http::Server srv(
      {},
      [&](http::Request r, http::Responder respond) {
        (*api)->Handle(std::move(r), std::move(respond));
      },
      MlflowHttpError);
  ASSERT_TRUE(srv.Listen().ok());
  std::thread t([&] { srv.Run(false); });

  auto remote = tracking::OpenTrackingClient("http://127.0.0.1:" + std::to_string(srv.port()),
                                             dir.File("cache"), "ana");
  auto local = tracking::OpenTrackingClient(db, dir.File("art"), "bo");
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  tracking::TrackingStore& rt = *remote->tracking;

  auto exp = rt.CreateExperiment("churn", "", {{"team", "ml"}});
  ASSERT_TRUE(exp.ok()) << exp.status().ToString();
  tracking::NewRun nr;
  nr.experiment_id = *exp;
  nr.tags = {{"mlflow.user", "ana"}};
  auto run = rt.CreateRun(nr);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::string id = run->info.run_id;
  ASSERT_TRUE(rt.LogBatch(id, {{"loss", 0.5, 10, 1}, {"loss", 0.25, 20, 2}, {"nan", NAN, 1, 0}},
                          {{"lr", "0.1"}}, {{"stage", "dev"}})
                  .ok());
  ASSERT_TRUE(
      rt.LogInputs(id, {{{}, {"adult", "abc123", "local", "a.csv", "{}", std::nullopt}}}).ok());
  ASSERT_TRUE(rt.UpdateRun(id, tracking::RunStatus::kFinished, 99, "").ok());
  ASSERT_TRUE(remote->artifacts->Put("1/" + id + "/artifacts/model/MLmodel", "flavors: {}\n").ok());

  // The same run, read both ways.
  auto via_http = rt.GetRun(id);
  auto via_db = local->tracking->GetRun(id);
  ASSERT_TRUE(via_http.ok() && via_db.ok());
  EXPECT_EQ(core::DumpJson(tracking::ToJson(*via_http)), core::DumpJson(tracking::ToJson(*via_db)));
  EXPECT_TRUE(std::isnan(via_http->metrics[1].value));
  tracking::RunQuery q;
  q.experiment_ids = {*exp};
  q.filter = "metrics.loss < 0.3 and params.lr = '0.1'";
  EXPECT_EQ(rt.SearchRuns(q)->items.size(), 1u);
  EXPECT_EQ(rt.GetMetricHistory(id, "loss", 1, "")->next_page_token.empty(), false);
  // The logged dataset, searched both ways (search-datasets), and a copied model version's
  // files found through its source over HTTP.
  auto datasets_http = rt.SearchDatasets({*exp, "no-such-id"});
  auto datasets_db = local->tracking->SearchDatasets({*exp});
  ASSERT_TRUE(datasets_http.ok()) << datasets_http.status().ToString();
  ASSERT_TRUE(datasets_db.ok());
  ASSERT_EQ(datasets_http->size(), 1u);
  EXPECT_EQ(core::DumpJson(tracking::ToJson(datasets_http->front())),
            core::DumpJson(tracking::ToJson(datasets_db->front())));
  EXPECT_EQ((*datasets_http)[0].name, "adult");
  EXPECT_FALSE((*datasets_http)[0].context.has_value());  // logged without a context tag

  // Registry, aliases and their history (the user travels as X-Plinth-User).
  tracking::RegistryStore& rr = *remote->registry;
  ASSERT_TRUE(rr.CreateRegisteredModel("churn", {}, "").ok());
  tracking::NewModelVersion v;
  v.name = "churn";
  v.source = "mlflow-artifacts:/1/" + id + "/artifacts/model";
  v.run_id = id;
  auto mv = rr.CreateModelVersion(v);
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  ASSERT_TRUE(rr.SetAlias("churn", "production", "1", "ignored").ok());
  ASSERT_TRUE(rr.CreateRegisteredModel("churn-copy", {}, "").ok());
  tracking::NewModelVersion copy;
  copy.name = "churn-copy";
  copy.source = "models:/churn/1";
  ASSERT_TRUE(rr.CreateModelVersion(copy).ok());
  auto history = local->registry->History("churn");
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].user_id, "ana");
  EXPECT_EQ(rr.History("churn")->at(0).to, "1");
  EXPECT_EQ(rt.LineageOf(id)->size(), 2u);  // data -> run -> churn/1

  // models:/ over HTTP downloads the bundle's files.
  auto dir_http = tracking::ResolveModelUri("models:/churn@production", rt, rr, *remote->artifacts);
  ASSERT_TRUE(dir_http.ok()) << dir_http.status().ToString();
  EXPECT_EQ(*core::ReadFile(*dir_http + "/MLmodel"), "flavors: {}\n");
  auto copy_http = tracking::ResolveModelUri("models:/churn-copy/1", rt, rr, *remote->artifacts);
  ASSERT_TRUE(copy_http.ok()) << copy_http.status().ToString();
  EXPECT_EQ(*core::ReadFile(*copy_http + "/MLmodel"), "flavors: {}\n");

  // MLflow 3's logged models and traces over HTTP, read back both ways.
  tracking::NewLoggedModel lm;
  lm.experiment_id = *exp;
  lm.name = "churn-model";
  lm.source_run_id = id;
  lm.params = {{"depth", "3"}};
  auto logged = rt.CreateLoggedModel(lm);
  ASSERT_TRUE(logged.ok()) << logged.status().ToString();
  ASSERT_TRUE(rt.LogOutputs(id, {{logged->model_id, 2}}).ok());
  tracking::Metric auc{"auc", 0.8, 30, 2};
  auc.model_id = logged->model_id;
  ASSERT_TRUE(rt.LogMetric(id, auc).ok());
  ASSERT_TRUE(rt.SetLoggedModelTags(logged->model_id, {{"k", "v"}}).ok());
  ASSERT_TRUE(rt.LogLoggedModelParams(logged->model_id, {{"eta", "0.1"}}).ok());
  ASSERT_TRUE(rt.FinalizeLoggedModel(logged->model_id, tracking::LoggedModelStatus::kReady).ok());
  auto lm_http = rt.GetLoggedModel(logged->model_id, false);
  auto lm_db = local->tracking->GetLoggedModel(logged->model_id, false);
  ASSERT_TRUE(lm_http.ok() && lm_db.ok()) << lm_http.status().ToString();
  EXPECT_EQ(core::DumpJson(tracking::ToJson(*lm_http)), core::DumpJson(tracking::ToJson(*lm_db)));
  EXPECT_EQ(lm_http->metrics.at(0).model_id, logged->model_id);
  tracking::LoggedModelQuery lq;
  lq.experiment_ids = {*exp};
  lq.filter = "params.eta = '0.1'";
  EXPECT_EQ(rt.SearchLoggedModels(lq)->items.size(), 1u);
  EXPECT_EQ(rt.GetRun(id)->model_outputs.at(0).step, 2);
  ASSERT_TRUE(rt.DeleteLoggedModelTag(logged->model_id, "k").ok());
  ASSERT_TRUE(rt.DeleteLoggedModel(logged->model_id).ok());
  EXPECT_EQ(rt.GetLoggedModel(logged->model_id, false).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(rt.GetLoggedModel(logged->model_id, true).ok());
  auto trace = rt.StartTrace(*exp, 100, {{"m", "1"}}, {{"t", "1"}});
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_TRUE(rt.EndTrace(trace->request_id, 150, "OK", {}, {}).ok());
  ASSERT_TRUE(rt.SetTraceTag(trace->request_id, {"k", "v"}).ok());
  ASSERT_TRUE(rt.DeleteTraceTag(trace->request_id, "k").ok());
  auto tr_http = rt.GetTraceInfo(trace->request_id);
  auto tr_db = local->tracking->GetTraceInfo(trace->request_id);
  ASSERT_TRUE(tr_http.ok() && tr_db.ok());
  EXPECT_EQ(core::DumpJson(tracking::ToJson(*tr_http)), core::DumpJson(tracking::ToJson(*tr_db)));
  EXPECT_EQ(tr_http->execution_time_ms, 50);
  tracking::TraceQuery tq;
  tq.experiment_ids = {*exp};
  EXPECT_EQ(rt.SearchTraces(tq)->items.size(), 1u);
  ASSERT_TRUE(rt.LinkTracesToRun({trace->request_id}, id).ok());
  tq.filter = "run_id = '" + id + "'";
  EXPECT_EQ(rt.SearchTraces(tq)->items.size(), 1u);
  tracking::TraceDeletion td;
  td.experiment_id = *exp;
  td.request_ids = {trace->request_id};
  EXPECT_EQ(*rt.DeleteTraces(td), 1);

  // Errors keep their kind and MLflow's message across the wire.
  auto missing_http = rt.GetRun("0123456789abcdef0123456789abcdef");
  auto missing_db = local->tracking->GetRun("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(missing_http.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing_http.status().message(), missing_db.status().message());
  EXPECT_EQ(rt.LogParam(id, {"lr", "0.2"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rr.CreateRegisteredModel("churn", {}, "").status().code(), StatusCode::kAlreadyExists);

  srv.Stop();
  t.join();
  auto down = tracking::OpenTrackingClient("http://127.0.0.1:" + std::to_string(srv.port()),
                                           dir.File("cache"));
  EXPECT_EQ(down->tracking->GetExperiment("0").status().code(), StatusCode::kUnavailable);
}

// HandleForTesting answers without a connection, logging writes after their
// group commit; a wrong-typed member nested in a body is a 400 naming it.
TEST(MlflowApiTest, HandleForTestingAnswersWritesAndNestedTypeErrors) {
  testutil::TempDir dir;
  auto api = MlflowApi::Create({"sqlite:///" + dir.File("m.db"), dir.File("art"), "test"});
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  auto post = [&](const std::string& path, const std::string& body) {
    http::Request r;
    r.method = "POST";
    r.path = r.target = "/api/2.0/mlflow" + path;
    r.headers.emplace_back("content-type", "application/json");
    r.body = body;
    return (*api)->HandleForTesting(std::move(r));
  };
  http::Response run = post("/runs/create", R"({"experiment_id": "0"})");
  ASSERT_EQ(run.status, 200) << run.body;
  const std::string id = (*core::ParseJson(run.body, "run"))["run"]["info"]["run_id"];
  EXPECT_EQ(post("/runs/log-metric",
                 R"({"run_id": ")" + id + R"(", "key": "m", "value": 1, "timestamp": 1})")
                .status,
            200);
  http::Response bad = post(
      "/runs/log-inputs", R"({"run_id": ")" + id + R"(", "datasets": [{"dataset": {"name": 5}}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("INVALID_PARAMETER_VALUE"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("Invalid value 5 for parameter 'name'"), std::string::npos) << bad.body;
}

// With a local --default-artifact-root the server reads and writes the artifacts of runs
// under it (upload-artifact, get-artifact, artifacts/list), and no other local directory:
// a run whose experiment chose a location outside it, by any spelling, is refused.
TEST(MlflowApiTest, LocalArtifactRootIsTheOnlyLocalDirectoryServed) {
  testutil::TempDir dir;
  ApiOptions options{"sqlite:///" + dir.File("m.db"), dir.File("art"), "test",
                     "file://" + dir.File("local")};
  auto api = MlflowApi::Create(options);
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  auto call = [&](const std::string& method, const std::string& target, const std::string& body) {
    http::Request r;
    r.method = method;
    r.target = target;
    r.path = target.substr(0, target.find('?'));
    if (size_t q = target.find('?'); q != std::string::npos) {  // plain names and values here
      std::string rest = target.substr(q + 1);
      for (size_t at = 0; at <= rest.size();) {
        const size_t end = std::min(rest.find('&', at), rest.size());
        const std::string pair = rest.substr(at, end - at);
        r.query.emplace_back(pair.substr(0, pair.find('=')), pair.substr(pair.find('=') + 1));
        at = end + 1;
      }
    }
    r.headers.emplace_back("content-type", "application/json");
    r.body = body;
    return (*api)->HandleForTesting(std::move(r));
  };
  auto new_run = [&](const std::string& experiment) {
    http::Response e = call("POST", "/api/2.0/mlflow/experiments/create", experiment);
    EXPECT_EQ(e.status, 200) << e.body;
    const std::string id = (*core::ParseJson(e.body, "e"))["experiment_id"];
    http::Response run =
        call("POST", "/api/2.0/mlflow/runs/create", R"({"experiment_id": ")" + id + R"("})");
    EXPECT_EQ(run.status, 200) << run.body;
    return (*core::ParseJson(run.body, "run"))["run"]["info"]["run_id"].get<std::string>();
  };
  const std::string inside = new_run(R"({"name": "inside"})");
  http::Response up = call(
      "POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=" + inside + "&path=d/f.txt", "hello");
  EXPECT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(*core::ReadFile(dir.File("local/1/" + inside + "/artifacts/d/f.txt")), "hello");
  http::Response got = call("GET", "/get-artifact?run_uuid=" + inside + "&path=d/f.txt", "");
  EXPECT_EQ(got.status, 200);
  http::Response listed =
      call("GET", "/api/2.0/mlflow/artifacts/list?run_id=" + inside + "&path=d", "");
  EXPECT_NE(listed.body.find("\"d/f.txt\""), std::string::npos) << listed.body;

  for (const std::string& location :
       {dir.File("elsewhere"), "file://" + dir.File("local") + "/../elsewhere"}) {
    const std::string outside =
        new_run(R"({"name": ")" + location + R"(", "artifact_location": ")" + location + R"("})");
    http::Response refused = call(
        "POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=" + outside + "&path=f.txt", "x");
    EXPECT_EQ(refused.status, 501) << location << ": " << refused.body;
    EXPECT_NE(refused.body.find("are not kept by this server's artifact store"), std::string::npos)
        << refused.body;
    EXPECT_FALSE(std::filesystem::exists(dir.File("elsewhere")));
  }
}

}  // namespace
// Multipart uploads are answered as MLflow answers them for a local artifact root: its
// client (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true) falls back to a plain upload only on
// this message; a 404 made log_artifact fail.
TEST(MlflowApiTest, MultipartUploadIsMlflowsNotImplemented) {
  testutil::TempDir dir;
  auto api = MlflowApi::Create({"sqlite:///" + dir.File("m.db"), dir.File("art"), "test"});
  ASSERT_TRUE(api.ok());
  for (const char* what : {"create", "complete", "abort"}) {
    http::Request r;
    r.method = "POST";
    r.path = r.target = std::string("/api/2.0/mlflow-artifacts/mpu/") + what + "/0/run/big.bin";
    r.headers.emplace_back("content-type", "application/json");
    r.body = R"({"path": "big.bin", "num_parts": 3})";
    http::Response out = (*api)->HandleForTesting(std::move(r));
    EXPECT_EQ(out.status, 501) << out.body;
    EXPECT_NE(out.body.find("\"message\":\"Multipart upload is not supported for the current "
                            "artifact repository\""),
              std::string::npos)
        << out.body;
  }
}

// Hostile requests to the MLflow 3, trace and PromptLab routes: each a clear 4xx, and
// nothing half-written (each of these failed before its fix).
TEST(MlflowApiTest, NewRoutesRefuseHostileInputCleanly) {
  testutil::TempDir dir;
  auto api = MlflowApi::Create({"sqlite:///" + dir.File("m.db"), dir.File("art"), "test"});
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    http::Request r;
    r.method = method;
    r.path = r.target = path;
    if (!body.empty()) {
      r.headers.emplace_back("content-type", "application/json");
      r.body = body;
    }
    return (*api)->HandleForTesting(std::move(r));
  };
  // A template's own text as the path: 404, not a 500 from a missing path parameter.
  for (const char* path :
       {"/api/2.0/mlflow/logged-models/{model_id}", "/api/3.0/mlflow/traces/{trace_id}",
        "/api/2.0/mlflow/traces/{request_id}/info"}) {
    http::Response r = call("GET", path, "");
    EXPECT_EQ(r.status, 404) << path << " " << r.body;
  }
  // A version for an unknown logged model is refused before it is made.
  ASSERT_EQ(call("POST", "/api/2.0/mlflow/registered-models/create", R"({"name": "m"})").status,
            200);
  http::Response v = call("POST", "/api/2.0/mlflow/model-versions/create",
                          R"({"name": "m", "source": "s3://b/p", "model_id": "m-nope"})");
  EXPECT_EQ(v.status, 404) << v.body;
  EXPECT_EQ(call("GET", "/api/2.0/mlflow/model-versions/get?name=m&version=1", "").status, 404);
  // A v3 trace id reused in another experiment; times out of range.
  ASSERT_EQ(call("POST", "/api/2.0/mlflow/experiments/create", R"({"name": "e"})").status, 200);
  auto trace = [](const char* exp, const char* time) {
    return std::string(R"({"trace": {"trace_info": {"trace_id": "tr-1", "trace_location": )") +
           R"({"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": ")" + exp +
           R"("}}, "request_time": ")" + time + R"(", "state": "OK"}}})";
  };
  EXPECT_EQ(call("POST", "/api/3.0/mlflow/traces", trace("0", "2025-01-02T03:04:05Z")).status, 200);
  http::Response moved = call("POST", "/api/3.0/mlflow/traces", trace("1", "2025-01-02T03:04:05Z"));
  EXPECT_EQ(moved.status, 400) << moved.body;
  EXPECT_NE(moved.body.find("already used by a trace of another experiment than 1"),
            std::string::npos)
      << moved.body;
  EXPECT_EQ(call("POST", "/api/3.0/mlflow/traces", trace("0", "2025-02-31T00:00:00Z")).status, 400);
  http::Response huge = call("POST", "/api/2.0/mlflow/traces",
                             R"({"experiment_id": "0", "timestamp_ms": 9223372036854775807})");
  EXPECT_EQ(huge.status, 400) << huge.body;
  std::string ids;
  for (int i = 0; i < 1001; ++i) {
    ids += (i ? ", \"" : "\"") + std::to_string(i) + "\"";
  }
  http::Response many = call("POST", "/api/2.0/mlflow/traces/delete-traces",
                             R"({"experiment_id": "0", "request_ids": [)" + ids + "]}");
  EXPECT_EQ(many.status, 400) << many.body.substr(0, 200);
  // PromptLab with a number for the experiment: refused, no run made in "0".
  http::Response lab = call(
      "POST", "/api/2.0/mlflow/runs/create-promptlab-run",
      R"({"experiment_id": 12, "prompt_template": "t", "prompt_parameters": [{"key": "k", "value": "v"}],)"
      R"( "model_route": "r", "model_input": "i", "mlflow_version": "2"})");
  EXPECT_EQ(lab.status, 400) << lab.body;
  http::Response runs = call("POST", "/api/2.0/mlflow/runs/search", R"({"experiment_ids": ["0"]})");
  EXPECT_EQ(runs.body, "{}");
}

}  // namespace plinth::server
