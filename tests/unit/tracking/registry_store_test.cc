// The model registry's conformance suite, on every engine of testutil::TestEngines().
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "testutil/test_databases.h"
#include "testutil/testutil.h"
#include "tracking/sql_stores.h"

namespace plinth::tracking {
namespace {

class RegistryStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = testutil::FreshDatabaseUri(GetParam(), dir_.path());
    auto s = OpenRegistryStore(uri_, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  ModelVersion NewVersion(const std::string& name, const std::string& source = "s3://b/model") {
    NewModelVersion v;
    v.name = name;
    v.source = source;
    v.run_id = "abc";
    auto mv = store_->CreateModelVersion(v);
    EXPECT_TRUE(mv.ok()) << mv.status().ToString();
    clock_.Advance(1000);
    return mv.ok() ? *mv : ModelVersion();
  }
  testutil::TempDir dir_;
  std::string uri_;
  testutil::FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<RegistryStore> store_;
};

TEST_P(RegistryStoreTest, ModelsAndVersions) {
  auto m = store_->CreateRegisteredModel("churn", {{"team", "ml"}}, "predicts churn");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->creation_timestamp, 1'700'000'000'000);
  EXPECT_EQ(m->description, "predicts churn");
  EXPECT_EQ(store_->CreateRegisteredModel("churn", {}, "").status().message(),
            "Registered Model (name=churn) already exists.");
  EXPECT_EQ(store_->CreateRegisteredModel("", {}, "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetRegisteredModel("nope").status().message(),
            "Registered Model with name=nope not found");

  ModelVersion v1 = NewVersion("churn");
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v1.current_stage, "None");
  EXPECT_EQ(v1.status, "READY");
  EXPECT_EQ(v1.run_id, "abc");
  EXPECT_EQ(NewVersion("churn").version, 2);
  NewModelVersion orphan;
  orphan.name = "nope";
  orphan.source = "s3://bucket/x";
  EXPECT_EQ(store_->CreateModelVersion(orphan).status().code(), StatusCode::kNotFound);
  orphan.name = "churn";
  orphan.source = "mlflow-artifacts:/1/abc/artifacts/../../../etc";
  EXPECT_NE(
      store_->CreateModelVersion(orphan).status().message().find("Invalid model version source"),
      std::string::npos);
  // '..' after the query mark: decoded, then cut at '?', it used to pass.
  orphan.source = "dbfs:/abc/artifacts/a%3f/../../..";
  EXPECT_NE(
      store_->CreateModelVersion(orphan).status().message().find("Invalid model version source"),
      std::string::npos);
  orphan.source = "s3://x";  // no path: not an absolute one (MLflow refuses it too)
  EXPECT_NE(
      store_->CreateModelVersion(orphan).status().message().find("Invalid model version source"),
      std::string::npos);
  orphan.source = "s3://b/x%2F..%2F..%2Fy";
  EXPECT_EQ(store_->CreateModelVersion(orphan).status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(store_->GetModelVersion("churn", "x").status().message(),
            "Model version must be an integer, got 'x'");
  EXPECT_EQ(store_->GetModelVersion("churn", "9").status().message(),
            "Model Version (name=churn, version=9) not found");
  ASSERT_TRUE(store_->UpdateModelVersion("churn", "1", "first").ok());
  EXPECT_EQ(store_->GetModelVersion("churn", "1")->description, "first");
  ASSERT_TRUE(store_->SetModelVersionTag("churn", "1", {"validated", "yes"}).ok());
  EXPECT_EQ(store_->GetModelVersion("churn", "1")->tags[0], (Tag{"validated", "yes"}));
  ASSERT_TRUE(store_->DeleteModelVersionTag("churn", "1", "validated").ok());
  EXPECT_TRUE(store_->GetModelVersion("churn", "1")->tags.empty());

  // Renaming carries versions, tags and aliases along.
  ASSERT_TRUE(store_->SetAlias("churn", "champion", "2", "ana").ok());
  auto renamed = store_->RenameRegisteredModel("churn", "churn-v2");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->tags.size(), 1u);
  EXPECT_EQ(store_->GetModelVersionByAlias("churn-v2", "champion")->version, 2);
  EXPECT_EQ(store_->GetModelVersion("churn-v2", "1")->name, "churn-v2");
  ASSERT_TRUE(store_->DeleteModelVersion("churn-v2", "2").ok());
  EXPECT_EQ(store_->GetModelVersionByAlias("churn-v2", "champion").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteRegisteredModel("churn-v2").ok());
  EXPECT_EQ(store_->GetModelVersion("churn-v2", "1").status().code(), StatusCode::kNotFound);
}

// A copy (source models:/NAME/VERSION, as MlflowClient.copy_model_version makes it) keeps
// its source and stores where the original's files are; a copy of a copy too.
TEST_P(RegistryStoreTest, CopiedVersionsPointAtTheOriginalsFiles) {
  ASSERT_TRUE(store_->CreateRegisteredModel("churn", {}, "").ok());
  ASSERT_TRUE(store_->CreateRegisteredModel("churn-prod", {}, "").ok());
  ModelVersion original = NewVersion("churn", "mlflow-artifacts:/1/abc/artifacts/model");
  EXPECT_EQ(original.storage_location, "mlflow-artifacts:/1/abc/artifacts/model");
  ModelVersion copy = NewVersion("churn-prod", "models:/churn/1");
  EXPECT_EQ(copy.source, "models:/churn/1");
  EXPECT_EQ(copy.storage_location, "mlflow-artifacts:/1/abc/artifacts/model");
  ModelVersion again = NewVersion("churn", "models:/churn-prod/1");
  EXPECT_EQ(again.storage_location, "mlflow-artifacts:/1/abc/artifacts/model");
  auto read = store_->GetModelVersion("churn-prod", "1");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->storage_location, "mlflow-artifacts:/1/abc/artifacts/model");
  NewModelVersion missing;
  missing.name = "churn";
  missing.source = "models:/churn/9";
  auto bad = store_->CreateModelVersion(missing);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(
                "Unable to fetch model from model URI source artifact location 'models:/churn/9'"),
            std::string::npos)
      << bad.status().message();
}

TEST_P(RegistryStoreTest, NamesMustBeFileNames) {
  // Serving names the prediction log's directory after the model.
  for (const std::string& bad : std::vector<std::string>{"../evil", "a/b", "a\\b", "..", ".",
                                                         "x\ny", std::string(257, 'm')}) {
    EXPECT_EQ(store_->CreateRegisteredModel(bad, {}, "").status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  for (const char* good : {"churn", "Churn model v2.1", "churn_v-2", "..churn"}) {
    EXPECT_TRUE(store_->CreateRegisteredModel(good, {}, "").ok()) << good;
  }
  EXPECT_EQ(store_->RenameRegisteredModel("churn", "../../evil").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->GetRegisteredModel("churn").ok());
}

TEST_P(RegistryStoreTest, StagesAliasesAndTheirHistory) {
  ASSERT_TRUE(store_->CreateRegisteredModel("fraud", {}, "").ok());
  for (int i = 0; i < 3; ++i) {
    NewVersion("fraud");
  }
  ASSERT_TRUE(store_->TransitionStage("fraud", "1", "production", false, "ana").ok());
  auto v2 = store_->TransitionStage("fraud", "2", "Production", true, "bo");
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->current_stage, "Production");
  EXPECT_EQ(store_->GetModelVersion("fraud", "1")->current_stage, "Archived");
  EXPECT_NE(store_->TransitionStage("fraud", "3", "Archived", true, "")
                .status()
                .message()
                .find("is not an Active stage"),
            std::string::npos);
  EXPECT_EQ(store_->TransitionStage("fraud", "3", "Live", false, "").status().message(),
            "Invalid Model Version stage: Live. Value must be one of None, Staging, Production, "
            "Archived.");
  ASSERT_TRUE(store_->TransitionStage("fraud", "3", "Staging", false, "").ok());

  auto latest = store_->GetLatestVersions("fraud", {});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 3u);  // Staging 3, Production 2, Archived 1 (no None left)
  EXPECT_EQ((*latest)[0].current_stage, "Staging");
  EXPECT_EQ((*latest)[1].version, 2);
  EXPECT_EQ((*latest)[2].current_stage, "Archived");
  auto prod = store_->GetLatestVersions("fraud", {"production"});
  ASSERT_EQ(prod->size(), 1u);
  EXPECT_EQ((*prod)[0].version, 2);

  for (const char* bad : {"latest", "v3", "V12", "has space", ""}) {
    EXPECT_EQ(store_->SetAlias("fraud", bad, "1", "").code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store_->SetAlias("fraud", "prod", "9", "").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->SetAlias("fraud", "production", "1", "ana").ok());
  ASSERT_TRUE(store_->SetAlias("fraud", "production", "2", "bo").ok());
  ASSERT_TRUE(store_->SetAlias("fraud", "shadow", "3", "cy").ok());
  auto by_alias = store_->GetModelVersionByAlias("fraud", "production");
  ASSERT_TRUE(by_alias.ok());
  EXPECT_EQ(by_alias->version, 2);
  EXPECT_EQ(by_alias->aliases, std::vector<std::string>{"production"});
  auto model = store_->GetRegisteredModel("fraud");
  ASSERT_EQ(model->aliases.size(), 2u);
  EXPECT_EQ(model->aliases[0], (std::pair<std::string, int64_t>{"production", 2}));
  ASSERT_TRUE(store_->DeleteAlias("fraud", "shadow", "cy").ok());
  EXPECT_EQ(store_->GetModelVersionByAlias("fraud", "shadow").status().message(),
            "Registered model alias shadow not found.");

  auto history = store_->History("fraud");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 8u);
  EXPECT_EQ((*history)[0].kind, "stage");
  EXPECT_EQ((*history)[0].from, "None");
  EXPECT_EQ((*history)[0].to, "Production");
  EXPECT_EQ((*history)[0].user_id, "ana");
  EXPECT_EQ((*history)[1].to, "Archived");  // version 1 archived by version 2's move
  EXPECT_EQ((*history)[1].version, 1);
  EXPECT_EQ((*history)[5].kind, "alias");
  EXPECT_EQ((*history)[5].key, "production");
  EXPECT_EQ((*history)[5].from, "1");
  EXPECT_EQ((*history)[5].to, "2");
  EXPECT_EQ((*history)[5].user_id, "bo");
  EXPECT_EQ((*history)[7].to, "");  // shadow deleted
  EXPECT_EQ((*history)[7].from, "3");
}

TEST_P(RegistryStoreTest, ProtectedAliasesNeedPassedGatesAndApprovals) {
  ASSERT_TRUE(store_->CreateRegisteredModel("churn", {}, "").ok());
  NewVersion("churn");
  NewVersion("churn");
  ASSERT_TRUE(store_->SetAlias("churn", "production", "1", "ana").ok());
  const std::string digest(64, 'a');
  ASSERT_TRUE(store_->ProtectAlias({"churn", "production", "release", digest, 2, "ana", 0}).ok());
  EXPECT_EQ(store_->ProtectAlias({"churn", "production", "release", "short", 0, "ana", 0}).code(),
            StatusCode::kInvalidArgument);
  auto refused = [&](const Status& s, const std::string& says) {
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
    EXPECT_NE(s.message().find(says), std::string::npos) << s.message();
  };
  const std::string what = "alias 'production' of churn is protected by the gates 'release': ";
  refused(store_->SetAlias("churn", "production", "2", "bob"), what + "version 2 has not run them");
  // The stage of the same name is guarded too; other stages are not.
  refused(store_->TransitionStage("churn", "2", "Production", false, "bob").status(),
          what + "version 2 has not run them");
  EXPECT_TRUE(store_->TransitionStage("churn", "2", "Staging", false, "bob").ok());
  // Nor is a guarded stage emptied by moving its version out (as the alias is not deleted).
  ASSERT_TRUE(store_->ForceAlias("churn", "production", "1", "ana", "setup").ok());
  ASSERT_TRUE(store_->UnprotectAlias("churn", "production", "ana").ok());
  ASSERT_TRUE(store_->TransitionStage("churn", "1", "Production", false, "ana").ok());
  ASSERT_TRUE(store_->ProtectAlias({"churn", "production", "release", digest, 2, "ana", 0}).ok());
  refused(store_->TransitionStage("churn", "1", "Archived", false, "bob").status(),
          "version 1 of churn is in the stage Production, guarded by the protected alias "
          "'production'");
  ASSERT_TRUE(store_
                  ->RecordGateRun({"churn", 2, "release", digest, false, "accuracy, outputs",
                                   "run1", "", "bob", 0})
                  .ok());
  refused(store_->SetAlias("churn", "production", "2", "bob"),
          what + "version 2 failed them (accuracy, outputs)");
  ASSERT_TRUE(store_
                  ->RecordGateRun(
                      {"churn", 2, "release", std::string(64, 'b'), true, "", "run2", "", "bob", 0})
                  .ok());
  refused(store_->SetAlias("churn", "production", "2", "bob"),
          what + "version 2 ran other gates than the protection names");
  ASSERT_TRUE(
      store_->RecordGateRun({"churn", 2, "release", digest, true, "", "run3", "", "bob", 0}).ok());
  refused(store_->SetAlias("churn", "production", "2", "bob"),
          what + "version 2 has 0 of 2 approvals (plinth models approve churn 2)");
  ASSERT_TRUE(store_->Approve("churn", "2", "ana").ok());
  ASSERT_TRUE(store_->Approve("churn", "2", "ana").ok());  // once per user
  refused(store_->SetAlias("churn", "production", "2", "bob"), "has 1 of 2 approvals");
  ASSERT_TRUE(store_->Approve("churn", "2", "carl").ok());
  EXPECT_TRUE(store_->SetAlias("churn", "production", "2", "bob").ok());
  EXPECT_EQ(store_->GetModelVersionByAlias("churn", "production")->version, 2);
  // A version that passed takes the guarded stage, archiving the one there.
  EXPECT_TRUE(store_->TransitionStage("churn", "2", "Production", true, "bob").ok());
  EXPECT_EQ(store_->GetModelVersion("churn", "1")->current_stage, "Archived");
  // The last run of each suite counts, newest first.
  auto runs = store_->GateRuns("churn", "2");
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].run_id, "run3");
  EXPECT_EQ(store_->Approvals("churn", "2")->size(), 2u);
  // A protected alias is not deleted (nor carried off by deleting its version or renaming or
  // deleting the model), and is forced only with a reason.
  refused(store_->DeleteAlias("churn", "production", "bob"), "plinth models unprotect");
  refused(store_->DeleteModelVersion("churn", "2"),
          "version 2 of churn holds the protected alias 'production'");
  refused(store_->RenameRegisteredModel("churn", "churn2").status(),
          "has the protected alias 'production': it cannot be renamed");
  refused(store_->DeleteRegisteredModel("churn"), "it cannot be deleted");
  EXPECT_EQ(store_->ForceAlias("churn", "production", "1", "bob", "").code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ForceAlias("churn", "production", "1", "bob", "rollback").ok());
  auto history = store_->History("churn");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->back().reason, "rollback");
  EXPECT_EQ(history->back().from, "2");
  EXPECT_EQ(store_->Protections("churn")->size(), 1u);
  EXPECT_TRUE(store_->UnprotectAlias("churn", "production", "ana").ok());
  EXPECT_EQ(store_->UnprotectAlias("churn", "production", "ana").code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->SetAlias("churn", "production", "2", "bob").ok());
  EXPECT_TRUE(store_->DeleteAlias("churn", "production", "bob").ok());
}

TEST_P(RegistryStoreTest, DeploymentsMoveTheAliasOnlyFromWhatTheyFound) {
  ASSERT_TRUE(store_->CreateRegisteredModel("churn", {}, "").ok());
  for (int i = 0; i < 4; ++i) {
    NewVersion("churn");
  }
  auto d1 = store_->Deploy({"churn", "production", 1, 0, "deploy", "run1", "ana", ""});
  ASSERT_TRUE(d1.ok()) << d1.status().ToString();
  EXPECT_EQ(d1->previous_version, 0);
  EXPECT_EQ(d1->status, "moved");
  // Someone moved the alias since this deployment read it: nothing changes.
  auto stale = store_->Deploy({"churn", "production", 3, 0, "deploy", "", "bob", ""});
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.status().message().find("conflict: alias 'production' of churn was moved to "
                                          "version 1 by someone else"),
            std::string::npos)
      << stale.status().message();
  auto d2 = store_->Deploy({"churn", "production", 2, 1, "deploy", "", "bob", "fix"});
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  EXPECT_EQ(store_->GetModelVersionByAlias("churn", "production")->version, 2);
  ASSERT_TRUE(store_->FinishDeployment("churn", d2->id, "live", R"([{"url":"u"}])").ok());
  EXPECT_EQ(store_->FinishDeployment("churn", 999, "live", "[]").code(), StatusCode::kNotFound);
  // A rollback goes only to a version the environment served...
  const std::string digest(64, 'a');
  ASSERT_TRUE(store_->ProtectAlias({"churn", "production", "release", digest, 1, "ana", 0}).ok());
  auto refused = store_->Deploy({"churn", "production", 3, 2, "deploy", "", "bob", ""});
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("version 3 has not run them"), std::string::npos);
  auto never = store_->Deploy({"churn", "production", 4, 2, "rollback", "", "bob", ""});
  EXPECT_NE(never.status().message().find("version 4 of churn never held alias 'production'"),
            std::string::npos)
      << never.status().message();
  // ...and obeys the protection as any deployment (version 1 came in before it existed).
  auto unchecked = store_->Deploy({"churn", "production", 1, 2, "rollback", "", "bob", ""});
  EXPECT_NE(unchecked.status().message().find("version 1 has not run them"), std::string::npos)
      << unchecked.status().message();
  ASSERT_TRUE(
      store_->RecordGateRun({"churn", 1, "release", digest, true, "", "r", "", "bob", 0}).ok());
  ASSERT_TRUE(store_->Approve("churn", "1", "ana").ok());
  auto back = store_->Deploy({"churn", "production", 1, 2, "rollback", "", "bob", "bad"});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto deployments = store_->Deployments("churn");
  ASSERT_TRUE(deployments.ok());
  ASSERT_EQ(deployments->size(), 3u);  // newest first; the refused ones left nothing
  EXPECT_EQ((*deployments)[0].kind, "rollback");
  EXPECT_EQ((*deployments)[0].previous_version, 2);
  EXPECT_EQ((*deployments)[1].status, "live");
  EXPECT_EQ((*deployments)[1].endpoints, R"([{"url":"u"}])");
  EXPECT_EQ((*deployments)[1].reason, "fix");
  EXPECT_EQ((*deployments)[2].gate_run_id, "run1");
  // Each deployment is one event of the alias's history, which names it (with the protection's
  // and the approval's).
  auto history = store_->History("churn");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 5u);
  EXPECT_EQ(history->back().reason, "rollback " + std::to_string(back->id) + ": bad");
  EXPECT_EQ(history->back().to, "1");
  EXPECT_EQ(
      store_->Deploy({"churn", "production", 1, -1, "promote", "", "bob", ""}).status().code(),
      StatusCode::kInvalidArgument);
}

TEST_P(RegistryStoreTest, ConcurrentDeploymentsFromTheSameStateOneWins) {
  ASSERT_TRUE(store_->CreateRegisteredModel("churn", {}, "").ok());
  NewVersion("churn");
  NewVersion("churn");
  NewVersion("churn");
  ASSERT_TRUE(store_->SetAlias("churn", "production", "1", "ana").ok());
  for (int round = 0; round < 5; ++round) {
    const int64_t from = store_->GetModelVersionByAlias("churn", "production")->version;
    std::atomic<int> won{0};
    std::atomic<int> conflicts{0};
    std::vector<std::thread> clients;
    for (int64_t to : {2, 3}) {
      clients.emplace_back([&, to] {
        auto mine = OpenRegistryStore(uri_, clock_);
        ASSERT_TRUE(mine.ok()) << mine.status().ToString();
        auto d = (*mine)->Deploy({"churn", "production", to == from ? 1 : to, from, "deploy", "",
                                  "client" + std::to_string(to), ""});
        if (d.ok()) {
          ++won;
        } else if (d.status().message().starts_with("conflict: ")) {
          ++conflicts;
        } else {
          ADD_FAILURE() << d.status().ToString();
        }
      });
    }
    for (std::thread& t : clients) {
      t.join();
    }
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(conflicts.load(), 1) << "round " << round;
  }
  EXPECT_EQ(store_->Deployments("churn")->size(), 5u);
}

TEST_P(RegistryStoreTest, ServingEndpointsRegisterRenewAndLeave) {
  ASSERT_TRUE(store_->CreateRegisteredModel("churn", {}, "").ok());
  NewVersion("churn");
  ServingEndpoint e{"http://10.0.0.5:8080", "churn", "production", 1, "web1", 42, 30, 0, 0};
  ASSERT_TRUE(store_->RegisterEndpoint(e).ok());
  clock_.Advance(30'000'000);
  e.version = 2;
  ASSERT_TRUE(store_->RegisterEndpoint(e).ok());  // a heartbeat: started stays
  ASSERT_TRUE(
      store_->RegisterEndpoint({"https://b:1", "churn", "staging", 1, "web2", 7, 0, 0, 0}).ok());
  auto all = store_->Endpoints("churn");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].env, "production");
  EXPECT_EQ((*all)[0].version, 2);
  EXPECT_EQ((*all)[0].heartbeat - (*all)[0].started, 30'000);
  ASSERT_TRUE(store_->RemoveEndpoint(e).ok());
  e.pid = 43;  // restarted: a new start
  ASSERT_TRUE(store_->RegisterEndpoint(e).ok());
  EXPECT_EQ((*store_->Endpoints("churn"))[0].heartbeat, (*store_->Endpoints("churn"))[0].started);
  EXPECT_EQ(store_->RegisterEndpoint({"ftp://x", "churn", "production", 1, "", 1, 0, 0, 0}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->RegisterEndpoint({"http://x", "nope", "production", 1, "", 1, 0, 0, 0}).code(),
            StatusCode::kNotFound);
  // Two replicas behind one URL are two registrations; each stop forgets its own.
  ServingEndpoint twin = e;
  twin.host = "web9";
  ASSERT_TRUE(store_->RegisterEndpoint(twin).ok());
  EXPECT_EQ(store_->Endpoints("churn")->size(), 3u);
  ASSERT_TRUE(store_->RemoveEndpoint(twin).ok());
  ASSERT_TRUE(store_->RemoveEndpoint({"https://b:1", "", "", 0, "web2", 7, 0, 0, 0}).ok());
  EXPECT_EQ(store_->Endpoints("churn")->size(), 1u);
  // A registration a day without a heartbeat (a killed process) is forgotten.
  clock_.Advance(int64_t{25} * 3600 * 1'000'000);
  ASSERT_TRUE(store_->RegisterEndpoint(twin).ok());
  auto left = store_->Endpoints("churn");
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].host, "web9");
}

TEST_P(RegistryStoreTest, Search) {
  for (const char* name : {"fraud-a", "fraud-b", "churn"}) {
    ASSERT_TRUE(
        store_->CreateRegisteredModel(name, {{"team", name[0] == 'f' ? "risk" : "growth"}}, "")
            .ok());
    NewVersion(name, std::string("s3://bucket/") + name);
  }
  ASSERT_TRUE(store_->SetModelVersionTag("churn", "1", {"approved", "true"}).ok());
  auto names = [](const auto& page) {
    std::vector<std::string> out;
    for (const auto& m : page.items) {
      out.push_back(m.name);
    }
    return out;
  };
  ModelQuery q;
  EXPECT_EQ(names(*store_->SearchRegisteredModels(q)),
            (std::vector<std::string>{"churn", "fraud-a", "fraud-b"}));
  q.filter = "name LIKE 'fraud%'";
  q.order_by = {"name DESC"};
  EXPECT_EQ(names(*store_->SearchRegisteredModels(q)),
            (std::vector<std::string>{"fraud-b", "fraud-a"}));
  q = {};
  q.filter = "tags.team = 'growth'";
  EXPECT_EQ(names(*store_->SearchRegisteredModels(q)), std::vector<std::string>{"churn"});
  q = {};
  q.max_results = 2;
  auto p1 = store_->SearchRegisteredModels(q);
  ASSERT_FALSE(p1->next_page_token.empty());
  q.page_token = p1->next_page_token;
  EXPECT_EQ(names(*store_->SearchRegisteredModels(q)), std::vector<std::string>{"fraud-b"});
  q = {};
  q.max_results = 1001;
  EXPECT_EQ(store_->SearchRegisteredModels(q).status().code(), StatusCode::kInvalidArgument);

  ModelQuery v;
  v.max_results = 1000;
  v.filter = "name = 'churn'";
  EXPECT_EQ(names(*store_->SearchModelVersions(v)), std::vector<std::string>{"churn"});
  v.filter = "tags.approved = 'true'";
  EXPECT_EQ(names(*store_->SearchModelVersions(v)), std::vector<std::string>{"churn"});
  v.filter = "source_path LIKE 's3://bucket/fraud%' and version_number = 1";
  EXPECT_EQ(store_->SearchModelVersions(v)->items.size(), 2u);
  v.filter = "run_id = 'abc'";
  EXPECT_EQ(store_->SearchModelVersions(v)->items.size(), 3u);
  v.filter = "metrics.x > 1";
  EXPECT_EQ(store_->SearchModelVersions(v).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Engines, RegistryStoreTest, ::testing::ValuesIn(testutil::TestEngines()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace plinth::tracking
