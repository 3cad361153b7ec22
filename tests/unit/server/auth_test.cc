// plinth server --auth: MLflow's basic-auth semantics on every store engine. MLflow's
// own auth tests (e2e.mlflow_upstream_auth) drive the API through its clients; these
// cover what they leave: hostile credentials and tokens, the artifact proxy, graphql,
// spoofed registry users, filtered pages, and the grants that follow renames and deletes.
#include "server/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/hash.h"
#include "core/json.h"
#include "server/mlflow_api.h"
#include "testutil/test_databases.h"
#include "testutil/testutil.h"

namespace plinth::server {
namespace {

using core::Json;

std::string WriteFile(const testutil::TempDir& dir, const std::string& name,
                      const std::string& text) {
  std::ofstream(dir.File(name)) << text;
  return dir.File(name);
}

TEST(AuthConfigTest, ReadsMlflowsIniAndNamesTheLineOfAnError) {
  testutil::TempDir dir;
  auto ok = ReadAuthConfig(WriteFile(dir, "ok.ini",
                                     "# MLflow's file\n[mlflow]\ndefault_permission = EDIT\n"
                                     "database_uri = sqlite:///basic_auth.db\nadmin_username: "
                                     "root\nADMIN_PASSWORD = s3cret\nauthorization_function = "
                                     "mlflow.server.auth:authenticate_request_basic_auth\n"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->default_permission, tracking::Permission::kEdit);
  EXPECT_EQ(ok->admin_username, "root");
  EXPECT_EQ(ok->admin_password, "s3cret");
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"[mlflow]\ndefault_permission = ALL\n",
                "bad.ini:2: default_permission: Invalid "
                "permission 'ALL'"},
           Case{"[mlflow]\ndefault_permission = READ\nadmin_name = x\n",
                "bad.ini:3: unknown key 'admin_name'"},
           Case{"[mlflow\n", "bad.ini:1: expected a section header"},
           Case{"[mlflow]\nnonsense\n", "bad.ini:2: expected 'key = value'"},
           Case{"[mlflow]\ndefault_permission = READ\nadmin_username = a\n",
                "needs admin_username and admin_password"},
           Case{"[other]\nx = 1\n", "needs default_permission"},
       }) {
    auto bad = ReadAuthConfig(WriteFile(dir, "bad.ini", c.text));
    ASSERT_FALSE(bad.ok()) << c.text;
    EXPECT_NE(bad.status().message().find(c.error), std::string::npos) << bad.status().message();
  }
  EXPECT_FALSE(ReadAuthConfig(dir.File("missing.ini")).ok());
  // A FIFO would block the server's start forever: refused without opening it.
  ASSERT_EQ(::mkfifo(dir.File("fifo.ini").c_str(), 0600), 0);
  auto fifo = ReadAuthConfig(dir.File("fifo.ini"));
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.status().message().find("not a readable regular file"), std::string::npos);
}

TEST(AuthConfigTest, HashesWithArgon2idAndChecksConstantTime) {
  auto hash = HashPassword("pässword");
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "pässword"));
  EXPECT_FALSE(VerifyPassword(*hash, "password"));
  EXPECT_FALSE(VerifyPassword("not a hash", "pässword"));
}

class AuthApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    AuthOptions auth;
    auth.admin_username = "admin";
    auth.admin_password = "adminpw";
    auth.jwt_secret = "jwt-key";
    ApiOptions options{testutil::FreshDatabaseUri(GetParam(), dir_.path()), dir_.File("art"),
                       "test"};
    options.auth = auth;
    auto created = MlflowApi::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    api_ = std::move(*created);
    for (const char* user : {"alice", "bob"}) {
      http::Response r = Call("admin:adminpw", "POST", "/api/2.0/mlflow/users/create",
                              Json{{"username", user}, {"password", std::string(user) + "pw"}});
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }

  static std::string Basic(const std::string& user_password) {
    return "Basic " + core::Base64Encode(user_password);
  }

  http::Response Raw(const std::string& authorization, const std::string& method,
                     const std::string& target, const std::string& body = "") {
    http::Request r;
    r.method = method;
    r.target = target;
    r.path = target.substr(0, target.find('?'));
    if (size_t q = target.find('?'); q != std::string::npos) {
      std::string query = target.substr(q + 1);
      for (size_t at = 0; at <= query.size();) {
        size_t amp = query.find('&', at);
        std::string pair = query.substr(at, amp == std::string::npos ? amp : amp - at);
        size_t eq = pair.find('=');
        r.query.emplace_back(pair.substr(0, eq),
                             eq == std::string::npos ? "" : pair.substr(eq + 1));
        at = amp == std::string::npos ? query.size() + 1 : amp + 1;
      }
    }
    if (!authorization.empty()) {
      r.headers.emplace_back("authorization", authorization);
    }
    if (!body.empty()) {
      r.headers.emplace_back("content-type", "application/json");
      r.body = body;
    }
    return api_->HandleForTesting(std::move(r));
  }

  // A request as `user:password` (HTTP Basic), with a JSON body unless GET.
  http::Response Call(const std::string& user_password, const std::string& method,
                      const std::string& target, const Json& body = Json()) {
    return Raw(Basic(user_password), method, target, body.is_null() ? "" : body.dump());
  }

  testutil::TempDir dir_;
  std::unique_ptr<MlflowApi> api_;
};

TEST_P(AuthApiTest, RefusesMissingWrongAndMalformedCredentials) {
  const std::string target = "/api/2.0/mlflow/experiments/search?max_results=5";
  http::Response none = Raw("", "GET", target);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body.find("You are not authenticated."), 0u) << none.body;
  bool challenged = false;
  for (const auto& [k, v] : none.headers) {
    challenged |= k == "WWW-Authenticate" && v == "Basic realm=\"mlflow\"";
  }
  EXPECT_TRUE(challenged);
  for (const std::string& header :
       {Basic("alice:wrong"), Basic("nobody:alicepw"), Basic("alicealicepw"),
        std::string("Basic !!!not-base64"), std::string("Basic "), std::string("Digest x"),
        Basic(std::string("alice\0:alicepw", 14)), std::string(100000, 'B')}) {
    EXPECT_EQ(Raw(header, "GET", target).status, 401) << header.substr(0, 40);
  }
  EXPECT_EQ(Raw("basic " + core::Base64Encode("alice:alicepw"), "GET", target).status, 200);
  // Bearer JWTs: signed with the secret and naming a user; nothing else.
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  EXPECT_EQ(Raw("Bearer " + MintToken("jwt-key", "alice", 60, now), "GET", target).status, 200);
  std::string good = MintToken("jwt-key", "alice", 0, now);
  for (const std::string& token :
       {MintToken("other-key", "alice", 0, now), MintToken("jwt-key", "nobody", 0, now),
        MintToken("jwt-key", "alice", 60, now - 3600),  // expired
        good.substr(0, good.size() - 2), good + ".x", std::string("a.b.c"),
        // alg "none" with the signature dropped
        core::Base64Encode(R"({"alg":"none"})") + "." +
            good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1) + "."}) {
    http::Response r = Raw("Bearer " + token, "GET", target);
    EXPECT_EQ(r.status, 401) << token;
    EXPECT_NE(r.body.find("JWT Bearer token"), std::string::npos);
  }
  // /health answers without credentials, as MLflow's; /metrics and /graphql do not.
  EXPECT_EQ(Raw("", "GET", "/health").status, 200);
  EXPECT_EQ(Raw("", "GET", "/metrics").status, 401);
  EXPECT_EQ(Raw("", "POST", "/graphql", R"({"query": "{ test { output } }"})").status, 401);
}

TEST_P(AuthApiTest, ChecksEachRouteAgainstTheSendersGrants) {
  const std::string alice = "alice:alicepw";
  const std::string bob = "bob:bobpw";
  http::Response e = Call(alice, "POST", "/api/2.0/mlflow/experiments/create", {{"name", "a"}});
  ASSERT_EQ(e.status, 200) << e.body;
  std::string exp = Json::parse(e.body)["experiment_id"];
  http::Response run = Call(alice, "POST", "/api/2.0/mlflow/runs/create", {{"experiment_id", exp}});
  ASSERT_EQ(run.status, 200) << run.body;
  std::string run_id = Json::parse(run.body)["run"]["info"]["run_id"];
  // Bob reads by default (READ), cannot write or delete.
  EXPECT_EQ(Call(bob, "GET", "/api/2.0/mlflow/runs/get?run_id=" + run_id).status, 200);
  http::Response denied = Call(bob, "POST", "/api/2.0/mlflow/runs/log-metric",
                               {{"run_id", run_id}, {"key", "m"}, {"value", 1}, {"timestamp", 1}});
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body, "Permission denied");
  EXPECT_EQ(
      Call(bob, "POST", "/api/2.0/mlflow/experiments/delete", {{"experiment_id", exp}}).status,
      403);
  // An unknown run is the lookup's 404; a missing parameter MLflow's 400.
  EXPECT_EQ(Call(bob, "GET", "/api/2.0/mlflow/runs/get?run_id=nope").status, 404);
  http::Response missing = Call(bob, "POST", "/api/2.0/mlflow/runs/update", Json::object());
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("Missing value for required parameter 'run_id'"), std::string::npos);
  // Alice manages what she made: she can shut Bob out, and the searches follow.
  ASSERT_EQ(Call(alice, "POST", "/api/2.0/mlflow/experiments/permissions/create",
                 {{"experiment_id", exp}, {"username", "bob"}, {"permission", "NO_PERMISSIONS"}})
                .status,
            200);
  EXPECT_EQ(Call(bob, "GET", "/api/2.0/mlflow/runs/get?run_id=" + run_id).status, 403);
  EXPECT_EQ(
      Call(bob, "POST", "/api/2.0/mlflow/runs/search", {{"experiment_ids", Json::array({exp})}})
          .status,
      403);
  EXPECT_EQ(Call(bob, "GET",
                 "/api/2.0/mlflow/metrics/get-history-bulk-interval?metric_key=m&run_ids=" + run_id)
                .status,
            403);
  // GraphQL fields are checked as their routes: the field is null with the refusal.
  http::Response g = Call(bob, "POST", "/graphql",
                          {{"query", "{ mlflowGetRun(input: {runId: \"" + run_id +
                                         "\"}) { run { info { runId } } } }"}});
  ASSERT_EQ(g.status, 200) << g.body;
  Json gj = Json::parse(g.body);
  EXPECT_TRUE(gj["data"]["mlflowGetRun"].is_null()) << g.body;
  EXPECT_NE(gj["errors"][0].get<std::string>().find("Permission denied"), std::string::npos);
  // Bob cannot grant himself anything, or act as another user.
  EXPECT_EQ(Call(bob, "PATCH", "/api/2.0/mlflow/experiments/permissions/update",
                 {{"experiment_id", exp}, {"username", "bob"}, {"permission", "MANAGE"}})
                .status,
            403);
  EXPECT_EQ(Call(bob, "GET", "/api/2.0/mlflow/users/get?username=alice").status, 403);
  EXPECT_EQ(Call(bob, "POST", "/api/2.0/mlflow/users/create",
                 {{"username", "mallory"}, {"password", "x"}})
                .status,
            403);
  EXPECT_EQ(Call(bob, "GET", "/signup").status, 403);
  EXPECT_EQ(Call("admin:adminpw", "GET", "/signup").status, 200);
}

TEST_P(AuthApiTest, ArtifactProxyNeedsReadToGetEditToPutManageToDelete) {
  http::Response e =
      Call("alice:alicepw", "POST", "/api/2.0/mlflow/experiments/create", {{"name", "a"}});
  std::string exp = Json::parse(e.body)["experiment_id"];
  const std::string file = "/api/2.0/mlflow-artifacts/artifacts/" + exp + "/r/artifacts/f.txt";
  EXPECT_EQ(Raw(Basic("alice:alicepw"), "PUT", file, "hello").status, 200);
  EXPECT_EQ(Raw(Basic("bob:bobpw"), "PUT", file, "evil").status, 403);  // READ by default
  EXPECT_EQ(Raw(Basic("bob:bobpw"), "GET", file).status, 200);
  // The UI's prefix is checked too (MLflow's auth app looks at /api/2.0 only).
  EXPECT_EQ(Raw(Basic("bob:bobpw"), "PUT",
                "/ajax-api/2.0/mlflow-artifacts/artifacts/" + exp + "/r/artifacts/f.txt", "evil")
                .status,
            403);
  ASSERT_EQ(Call("alice:alicepw", "POST", "/api/2.0/mlflow/experiments/permissions/create",
                 {{"experiment_id", exp}, {"username", "bob"}, {"permission", "EDIT"}})
                .status,
            200);
  EXPECT_EQ(Raw(Basic("bob:bobpw"), "DELETE", file).status, 403);
  EXPECT_EQ(Raw(Basic("alice:alicepw"), "DELETE", file).status, 200);
  // A path without an experiment falls to the default permission (READ: no writes).
  EXPECT_EQ(
      Raw(Basic("bob:bobpw"), "PUT", "/api/2.0/mlflow-artifacts/artifacts/x/f.txt", "e").status,
      403);
}

TEST_P(AuthApiTest, RegistryMovesRecordTheSignedInUserAndGrantsFollowTheModel) {
  const std::string alice = "alice:alicepw";
  ASSERT_EQ(Call(alice, "POST", "/api/2.0/mlflow/registered-models/create", {{"name", "m"}}).status,
            200);
  ASSERT_EQ(Call(alice, "POST", "/api/2.0/mlflow/model-versions/create",
                 {{"name", "m"}, {"source", "s3://b/m"}})
                .status,
            200);
  http::Request spoof;
  spoof.method = "POST";
  spoof.path = spoof.target = "/api/2.0/mlflow/registered-models/alias";
  spoof.headers = {{"authorization", Basic(alice)},
                   {"content-type", "application/json"},
                   {"x-plinth-user", "admin"}};
  spoof.body = R"({"name": "m", "alias": "champion", "version": "1"})";
  ASSERT_EQ(api_->HandleForTesting(std::move(spoof)).status, 200);
  http::Response history = Call(alice, "GET", "/api/plinth/v1/registered-models/history?name=m");
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_EQ(Json::parse(history.body)["events"][0]["user"], "alice") << history.body;
  // A rename carries the grants; a delete drops them, so a new model of that name
  // starts with none of the old grants.
  ASSERT_EQ(Call(alice, "POST", "/api/2.0/mlflow/registered-models/permissions/create",
                 {{"name", "m"}, {"username", "bob"}, {"permission", "EDIT"}})
                .status,
            200);
  ASSERT_EQ(Call(alice, "POST", "/api/2.0/mlflow/registered-models/rename",
                 {{"name", "m"}, {"new_name", "m2"}})
                .status,
            200);
  http::Response moved =
      Call(alice, "GET", "/api/2.0/mlflow/registered-models/permissions/get?name=m2&username=bob");
  EXPECT_EQ(moved.status, 200) << moved.body;
  ASSERT_EQ(
      Call(alice, "DELETE", "/api/2.0/mlflow/registered-models/delete", {{"name", "m2"}}).status,
      200);
  http::Response gone =
      Call("admin:adminpw", "GET",
           "/api/2.0/mlflow/registered-models/permissions/get?name=m2&username=bob");
  EXPECT_EQ(gone.status, 404);
  EXPECT_NE(gone.body.find("Registered model permission with name=m2 and username=bob not found"),
            std::string::npos)
      << gone.body;
  // Deleting a user deletes their grants with them (MLflow refuses with a 400).
  EXPECT_EQ(
      Call("admin:adminpw", "DELETE", "/api/2.0/mlflow/users/delete", {{"username", "bob"}}).status,
      200);
  EXPECT_EQ(Call("bob:bobpw", "GET", "/api/2.0/mlflow/experiments/search").status, 401);
}

TEST_P(AuthApiTest, SearchesShowOnlyWhatTheUserMayReadPageByPage) {
  const std::string alice = "alice:alicepw";
  std::vector<std::string> readable;
  for (int i = 0; i < 7; ++i) {
    http::Response e = Call(alice, "POST", "/api/2.0/mlflow/experiments/create",
                            {{"name", "e" + std::to_string(i)}});
    std::string id = Json::parse(e.body)["experiment_id"];
    bool hidden = i % 2 == 1;
    ASSERT_EQ(Call(alice, "POST", "/api/2.0/mlflow/experiments/permissions/create",
                   {{"experiment_id", id},
                    {"username", "bob"},
                    {"permission", hidden ? "NO_PERMISSIONS" : "READ"}})
                  .status,
              200);
    if (!hidden) {
      readable.push_back("e" + std::to_string(i));
    }
  }
  std::vector<std::string> seen;
  std::string token;
  for (int pages = 0; pages < 10; ++pages) {
    Json body = {{"max_results", 2}, {"filter", "name LIKE 'e%'"}, {"order_by", {"name ASC"}}};
    if (!token.empty()) {
      body["page_token"] = token;
    }
    http::Response r = Call("bob:bobpw", "POST", "/api/2.0/mlflow/experiments/search", body);
    ASSERT_EQ(r.status, 200) << r.body;
    Json page = Json::parse(r.body);
    EXPECT_LE(page.value("experiments", Json::array()).size(), 2u);
    for (const Json& e : page.value("experiments", Json::array())) {
      seen.push_back(e["name"]);
    }
    token = page.value("next_page_token", std::string());
    if (token.empty()) {
      break;
    }
  }
  EXPECT_EQ(seen, readable);
  // A bad page token is the route's own 400.
  EXPECT_EQ(
      Call("bob:bobpw", "GET", "/api/2.0/mlflow/registered-models/search?page_token=!!").status,
      400);
}

// What a hostile review found (each passed before its fix): the check must read every
// value the route's handler may read, and ids and paths as the store reads them.
TEST_P(AuthApiTest, ChecksWhatTheHandlerReadsNotWhatItMightHaveRead) {
  const std::string alice = "alice:alicepw";
  const std::string bob = "bob:bobpw";
  auto experiment = [&](const std::string& user, const std::string& name) {
    return Json::parse(
               Call(user, "POST", "/api/2.0/mlflow/experiments/create", {{"name", name}}).body)
        .value("experiment_id", std::string());
  };
  auto run_in = [&](const std::string& user, const std::string& exp) {
    return Json::parse(Call(user, "POST", "/api/2.0/mlflow/runs/create", {{"experiment_id", exp}})
                           .body)["run"]["info"]["run_id"]
        .get<std::string>();
  };
  std::string secret = experiment(alice, "secret");
  std::string victim = run_in(alice, secret);
  ASSERT_EQ(Call(alice, "POST", "/api/2.0/mlflow/experiments/permissions/create",
                 {{"experiment_id", secret}, {"username", "bob"}, {"permission", "NO_PERMISSIONS"}})
                .status,
            200);
  std::string own = run_in(bob, experiment(bob, "own"));
  // upload-artifact writes to ?run_uuid=, whatever the body says.
  http::Response up =
      Raw(Basic(bob), "POST",
          "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=" + victim + "&path=MLmodel",
          Json{{"run_id", own}}.dump());
  EXPECT_EQ(up.status, 403) << up.body;
  // key[] and key[N] name the same parameter as key; run_uuid as much as run_id.
  EXPECT_EQ(
      Raw(Basic(bob), "GET", "/api/2.0/mlflow/runs/get?run_uuid=" + own + "&run_id[]=" + victim)
          .status,
      403);
  EXPECT_EQ(
      Raw(Basic(bob), "GET",
          "/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id[0]=" + victim + "&metric_key=m")
          .status,
      403);
  // A single id where a list is expected, and a body that is a JSON string.
  EXPECT_EQ(Call(bob, "POST", "/api/2.0/mlflow/runs/search", {{"experiment_ids", secret}}).status,
            403);
  EXPECT_EQ(Raw(Basic(bob), "POST", "/api/2.0/mlflow/runs/search",
                Json(Json{{"experiment_ids", {secret}}}.dump()).dump())
                .status,
            403);
  // A PromptLab run is a run in that experiment.
  EXPECT_EQ(Call(bob, "POST", "/ajax-api/2.0/mlflow/runs/create-promptlab-run",
                 {{"experiment_id", secret},
                  {"prompt_template", "x"},
                  {"model_route", "r"},
                  {"model_input", "i"},
                  {"mlflow_version", "2.17.2"}})
                .status,
            403);
  // "0N" and "./N/" are experiment N to the store, so to the check.
  EXPECT_EQ(Call(bob, "GET", "/api/2.0/mlflow/experiments/get?experiment_id=0" + secret).status,
            403);
  const std::string file = secret + "/" + victim + "/artifacts/s.txt";
  ASSERT_EQ(
      Raw(Basic(alice), "PUT", "/api/2.0/mlflow-artifacts/artifacts/" + file, "secret").status,
      200);
  EXPECT_EQ(Raw(Basic(bob), "GET", "/api/2.0/mlflow-artifacts/artifacts/./" + file).status, 403);
  EXPECT_EQ(Raw(Basic(bob), "GET", "/api/2.0/mlflow-artifacts/artifacts/0" + file).status, 403);
  EXPECT_EQ(
      Raw(Basic(bob), "GET", "/api/2.0/mlflow-artifacts/artifacts?path=./" + secret + "/" + victim)
          .status,
      403);
  // A model version whose source is someone else's files would serve them through
  // the model's grants.
  ASSERT_EQ(Call(bob, "POST", "/api/2.0/mlflow/registered-models/create", {{"name", "bm"}}).status,
            200);
  for (const std::string& source : {"mlflow-artifacts:/" + secret + "/" + victim + "/artifacts",
                                    "runs:/" + victim + "/model"}) {
    EXPECT_EQ(Call(bob, "POST", "/api/2.0/mlflow/model-versions/create",
                   {{"name", "bm"}, {"source", source}})
                  .status,
              403)
        << source;
  }
  EXPECT_EQ(Call(bob, "POST", "/api/2.0/mlflow/model-versions/create",
                 {{"name", "bm"}, {"source", "s3://b/x"}, {"run_id", victim}})
                .status,
            403);
}

// MLflow 3's logged models and traces follow their experiment's grants (MLflow 2.17's auth
// app checked none of them: any signed-in user read and deleted them).
TEST_P(AuthApiTest, LoggedModelsAndTracesFollowTheirExperiment) {
  const std::string alice = "alice:alicepw";
  const std::string bob = "bob:bobpw";
  std::string secret =
      Json::parse(Call(alice, "POST", "/api/2.0/mlflow/experiments/create", {{"name", "secret"}})
                      .body)["experiment_id"];
  ASSERT_EQ(Call(alice, "POST", "/api/2.0/mlflow/experiments/permissions/create",
                 {{"experiment_id", secret}, {"username", "bob"}, {"permission", "NO_PERMISSIONS"}})
                .status,
            200);
  http::Response model = Call(alice, "POST", "/api/2.0/mlflow/logged-models",
                              {{"experiment_id", secret}, {"name", "m"}});
  ASSERT_EQ(model.status, 200) << model.body;
  std::string model_id = Json::parse(model.body)["model"]["info"]["model_id"];
  http::Response trace = Call(alice, "POST", "/api/2.0/mlflow/traces",
                              {{"experiment_id", secret}, {"timestamp_ms", 1}});
  ASSERT_EQ(trace.status, 200) << trace.body;
  std::string trace_id = Json::parse(trace.body)["trace_info"]["request_id"];
  EXPECT_EQ(Call(alice, "GET", "/api/2.0/mlflow/logged-models/" + model_id).status, 200);
  for (const auto& [method, target, body] : std::vector<std::tuple<std::string, std::string, Json>>{
           {"GET", "/api/2.0/mlflow/logged-models/" + model_id, Json()},
           {"DELETE", "/api/2.0/mlflow/logged-models/" + model_id, Json()},
           {"POST", "/api/2.0/mlflow/logged-models", {{"experiment_id", secret}}},
           {"POST", "/api/2.0/mlflow/logged-models/search", {{"experiment_ids", {secret}}}},
           {"GET", "/api/2.0/mlflow/traces/" + trace_id + "/info", Json()},
           {"GET", "/api/2.0/mlflow/traces?experiment_ids=" + secret, Json()},
           {"POST", "/api/2.0/mlflow/traces", {{"experiment_id", secret}, {"timestamp_ms", 1}}},
           {"POST",
            "/api/2.0/mlflow/traces/delete-traces",
            {{"experiment_id", secret}, {"max_timestamp_millis", 5}}},
           {"GET", "/api/3.0/mlflow/traces/" + trace_id, Json()},
           {"POST",
            "/api/3.0/mlflow/traces/search",
            {{"locations", {{{"mlflow_experiment", {{"experiment_id", secret}}}}}}}},
           {"GET", "/ajax-api/2.0/mlflow/get-trace-artifact?request_id=" + trace_id, Json()},
       }) {
    http::Response r = Call(bob, method, target, body);
    EXPECT_EQ(r.status, 403) << method << " " << target << " " << r.body;
  }
}

// The signup form: an HTML answer whose user name cannot close its script, and no
// form posted from another site through an admin's browser.
TEST_P(AuthApiTest, SignupFormAnswersHtmlAndOnlyFromItsOwnPage) {
  auto form = [&](const std::string& body, const std::string& origin) {
    http::Request r;
    r.method = "POST";
    r.path = r.target = "/api/2.0/mlflow/users/create";
    r.headers = {{"authorization", Basic("admin:adminpw")},
                 {"content-type", "application/x-www-form-urlencoded"},
                 {"host", "127.0.0.1:5000"}};
    if (!origin.empty()) {
      r.headers.emplace_back("origin", origin);
    }
    r.body = body;
    return api_->HandleForTesting(std::move(r));
  };
  http::Response made = form("username=%3C%2Fscript%3Ex&password=pw", "http://127.0.0.1:5000");
  EXPECT_EQ(made.status, 200) << made.body;
  EXPECT_EQ(made.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(made.body.find("</script>x"), std::string::npos) << made.body;
  EXPECT_NE(made.body.find("\\u003c/script>x"), std::string::npos) << made.body;
  http::Response csrf = form("username=mallory&password=pw", "https://evil.example");
  EXPECT_EQ(csrf.status, 403) << csrf.body;
  EXPECT_EQ(Call("admin:adminpw", "GET", "/api/2.0/mlflow/users/get?username=mallory").status, 404);
}

INSTANTIATE_TEST_SUITE_P(Engines, AuthApiTest, ::testing::ValuesIn(testutil::TestEngines()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace plinth::server
