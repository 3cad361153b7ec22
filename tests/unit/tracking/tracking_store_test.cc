// The tracking store's conformance suite, on every engine of testutil::TestEngines().
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "testutil/test_databases.h"
#include "testutil/testutil.h"
#include "tracking/registry_store.h"
#include "tracking/spans.h"
#include "tracking/sql_stores.h"

namespace plinth::tracking {
namespace {

class TrackingStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = testutil::FreshDatabaseUri(GetParam(), dir_.path());
    auto s = OpenTrackingStore(uri_, "/art", clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  std::string NewRunIn(const std::string& experiment, std::vector<Tag> tags = {}) {
    NewRun r;
    r.experiment_id = experiment;
    r.tags = std::move(tags);
    auto run = store_->CreateRun(r);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    clock_.Advance(1000);
    return run.ok() ? run->info.run_id : "";
  }
  testutil::TempDir dir_;
  testutil::FakeClock clock_{1'700'000'000'000'000};
  std::string uri_;
  std::unique_ptr<TrackingStore> store_;
};

TEST_P(TrackingStoreTest, LineageFromDataToModelVersion) {
  std::string run = NewRunIn("0");
  DatasetInput in{{}, {"adult", "1e6670d2", "plinth", "data/adult.csv", {}, {}}};
  ASSERT_TRUE(store_->LogInputs(run, {in}).ok());
  clock_.Advance(1000);  // edges list oldest first
  auto registry = OpenRegistryStore(uri_, clock_);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  ASSERT_TRUE((*registry)->CreateRegisteredModel("adult", {}, "").ok());
  NewModelVersion v;
  v.name = "adult";
  v.source = "mlflow-artifacts:/0/" + run + "/artifacts/model";
  v.run_id = run;
  ASSERT_TRUE((*registry)->CreateModelVersion(v).ok());
  ASSERT_TRUE(
      store_->AddLineage({"model_version", "adult/1", "deployment", "prod-eu", "served", 0}).ok());
  ASSERT_TRUE(store_->AddLineage({"model_version", "adult/1", "deployment", "prod-eu", "served", 0})
                  .ok());  // again: kept once
  auto edges = store_->LineageOf(run);
  ASSERT_TRUE(edges.ok()) << edges.status().ToString();
  ASSERT_EQ(edges->size(), 2u);
  EXPECT_EQ((*edges)[0].src_kind, "data");
  EXPECT_EQ((*edges)[0].src_id, "1e6670d2");
  EXPECT_EQ((*edges)[0].relation, "input");
  EXPECT_EQ((*edges)[1].dst_kind, "model_version");
  EXPECT_EQ((*edges)[1].dst_id, "adult/1");
  EXPECT_EQ(store_->LineageOf("adult/1")->size(), 2u);
  EXPECT_EQ(store_->AddLineage({"", "x", "run", "y", "", 0}).code(), StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreTest, DefaultExperimentAndExperimentLifecycle) {
  auto def = store_->GetExperiment("0");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->name, "Default");
  EXPECT_EQ(def->artifact_location, "/art/0");
  EXPECT_EQ(def->lifecycle_stage, "active");

  auto id = store_->CreateExperiment("churn", "", {{"team", "ml"}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1");
  auto dup = store_->CreateExperiment("churn", "", {});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "Experiment(name=churn) already exists.");
  EXPECT_EQ(store_->CreateExperiment("", "", {}).status().code(), StatusCode::kInvalidArgument);

  auto e = store_->GetExperimentByName("churn");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->experiment_id, "1");
  EXPECT_EQ(e->artifact_location, "/art/1");
  EXPECT_EQ(e->creation_time, 1'700'000'000'000);
  ASSERT_EQ(e->tags.size(), 1u);
  EXPECT_EQ(e->tags[0], (Tag{"team", "ml"}));
  EXPECT_EQ(store_->GetExperimentByName("nope").status().message(),
            "Could not find experiment with name 'nope'");
  EXPECT_EQ(store_->GetExperiment("42").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetExperiment("x").status().message(), "No Experiment with id=x exists");

  ASSERT_TRUE(store_->SetExperimentTag("1", {"team", "data"}).ok());
  ASSERT_TRUE(store_->SetExperimentTag("1", {"stage", "dev"}).ok());
  EXPECT_EQ(store_->GetExperiment("1")->tags.size(), 2u);
  EXPECT_EQ(store_->GetExperiment("1")->tags[1].value, "data");
  ASSERT_TRUE(store_->DeleteExperimentTag("1", "stage").ok());
  EXPECT_EQ(store_->DeleteExperimentTag("1", "stage").code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->CreateExperiment("other", "s3://bucket/x", {}).ok());
  EXPECT_EQ(store_->RenameExperiment("1", "other").code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->RenameExperiment("1", "churn-v2").ok());
  EXPECT_EQ(store_->GetExperiment("1")->name, "churn-v2");
  EXPECT_EQ(store_->GetExperimentByName("other")->artifact_location, "s3://bucket/x");

  std::string run = NewRunIn("1");
  EXPECT_EQ(store_->DeleteExperiment("0").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->DeleteExperiment("1").ok());
  EXPECT_EQ(store_->GetExperiment("1")->lifecycle_stage, "deleted");
  EXPECT_EQ(store_->GetRun(run)->info.lifecycle_stage, "deleted");
  EXPECT_EQ(store_->RenameExperiment("1", "x").code(), StatusCode::kFailedPrecondition);
  NewRun r;
  r.experiment_id = "1";
  EXPECT_EQ(store_->CreateRun(r).status().message(),
            "The experiment 1 must be in the 'active' state. Current state is deleted.");
  ASSERT_TRUE(store_->RestoreExperiment("1").ok());
  EXPECT_EQ(store_->GetRun(run)->info.lifecycle_stage, "active");
  EXPECT_EQ(store_->RestoreExperiment("1").code(), StatusCode::kFailedPrecondition);
}

TEST_P(TrackingStoreTest, RunsNamesAndUpdates) {
  NewRun r;
  r.user_id = "ana";
  r.start_time = 123;
  auto run = store_->CreateRun(r);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->info.run_id.size(), 32u);
  EXPECT_EQ(run->info.experiment_id, "0");
  EXPECT_EQ(run->info.status, RunStatus::kRunning);
  EXPECT_EQ(run->info.start_time, 123);
  EXPECT_FALSE(run->info.end_time.has_value());
  EXPECT_EQ(run->info.artifact_uri, "/art/0/" + run->info.run_id + "/artifacts");
  EXPECT_FALSE(run->info.run_name.empty());  // generated, and recorded as the tag
  ASSERT_EQ(run->tags.size(), 1u);
  EXPECT_EQ(run->tags[0], (Tag{"mlflow.runName", run->info.run_name}));

  r.run_name = "a";
  r.tags = {{"mlflow.runName", "b"}};
  EXPECT_EQ(store_->CreateRun(r).status().code(), StatusCode::kInvalidArgument);
  r.tags = {{"mlflow.runName", "a"}};
  EXPECT_EQ(store_->CreateRun(r)->info.run_name, "a");

  const std::string id = run->info.run_id;
  auto info = store_->UpdateRun(id, RunStatus::kFinished, 456, "renamed");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->status, RunStatus::kFinished);
  EXPECT_EQ(info->end_time, 456);
  EXPECT_EQ(info->run_name, "renamed");
  ASSERT_TRUE(store_->SetTag(id, {"mlflow.runName", "by-tag"}).ok());
  EXPECT_EQ(store_->GetRun(id)->info.run_name, "by-tag");

  EXPECT_EQ(store_->GetRun("0123456789abcdef0123456789abcdef").status().message(),
            "Run with id=0123456789abcdef0123456789abcdef not found");
  EXPECT_EQ(store_->GetRun("../etc").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->DeleteRun(id).ok());
  EXPECT_EQ(store_->LogParam(id, {"a", "1"}).message(),
            "The run " + id + " must be in the 'active' state. Current state is deleted.");
  ASSERT_TRUE(store_->RestoreRun(id).ok());
  EXPECT_TRUE(store_->LogParam(id, {"a", "1"}).ok());
}

TEST_P(TrackingStoreTest, ParamsAreImmutableAndBatchesAllOrNothing) {
  std::string id = NewRunIn("0");
  ASSERT_TRUE(store_->LogParam(id, {"depth", "3"}).ok());
  EXPECT_TRUE(store_->LogParam(id, {"depth", "3"}).ok());  // the same value again is fine
  Status s = store_->LogParam(id, {"depth", "5"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "Changing param values is not allowed. Param with key='depth' was "
            "already logged with value='3' for run ID='" +
                id + "'. Attempted logging new value '5'.");

  // A batch whose param conflicts writes none of its metrics or tags.
  s = store_->LogBatch(id, {{"loss", 0.5, 1, 0}}, {{"lr", "0.1"}, {"depth", "4"}}, {{"team", "x"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  auto run = store_->GetRun(id);
  EXPECT_TRUE(run->metrics.empty());
  EXPECT_EQ(run->params.size(), 1u);
  EXPECT_EQ(run->tags.size(), 1u);  // only mlflow.runName

  EXPECT_EQ(store_->LogBatch(id, {}, {{"a", "1"}, {"a", "2"}}, {}).message(),
            "Duplicate parameter keys have been submitted: ['a']. Please ensure the request "
            "contains only one param value per param key.");
  std::vector<Metric> many(1001, Metric{"m", 1, 1, 0});
  EXPECT_NE(store_->LogBatch(id, many, {}, {}).message().find("at most 1000 metrics"),
            std::string::npos);
  std::vector<Param> params(101);
  EXPECT_NE(store_->LogBatch(id, {}, params, {}).message().find("at most 100 params"),
            std::string::npos);
  EXPECT_NE(store_->LogParam(id, {"../x", "1"}).message().find("must not resolve"),
            std::string::npos);
  EXPECT_NE(store_->LogParam(id, {"a*b", "1"}).message().find("Names may only contain"),
            std::string::npos);
  EXPECT_NE(store_->LogParam(id, {"long", std::string(6001, 'x')})
                .message()
                .find("which exceeded length limit of 6000"),
            std::string::npos);
  EXPECT_TRUE(store_->LogParam(id, {"ok/name with.dots-1", std::string(6000, 'x')}).ok());
  EXPECT_EQ(store_->DeleteTag(id, "nope").code(), StatusCode::kNotFound);
}

TEST_P(TrackingStoreTest, LogBatchesAnswersEachRequestAsIfAlone) {
  const std::string a = NewRunIn("0");
  const std::string c = NewRunIn("0");
  const std::string deleted = NewRunIn("0");
  ASSERT_TRUE(store_->DeleteRun(deleted).ok());
  std::vector<LogRequest> batch = {
      {a, {{"loss", 0.9, 10, 1}, {"loss", 0.8, 20, 2}}, {}, {}},
      {deleted, {{"loss", 1.0, 10, 1}}, {}, {}},
      {"0123456789abcdef0123456789abcdef", {{"loss", 1.0, 10, 1}}, {}, {}},
      {"no such run", {{"loss", 1.0, 10, 1}}, {}, {}},
      {a, {}, {{"lr", "0.1"}}, {}},
      {c, {{"acc", 0.5, 5, 0}}, {}, {{"mlflow.runName", "renamed"}}},
      {a, {{"a*b", 1.0, 1, 0}}, {}, {}},
      {a, {{"loss", 0.7, 30, 3}, {"loss", 0.75, 25, 3}}, {}, {}},
  };
  std::vector<Status> out = store_->LogBatches(batch);
  ASSERT_EQ(out.size(), batch.size());
  EXPECT_TRUE(out[0].ok()) << out[0].ToString();
  EXPECT_EQ(out[1].code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out[1].message(), store_->LogBatch(deleted, {{"x", 1, 1, 0}}, {}, {}).message());
  EXPECT_EQ(out[2].code(), StatusCode::kNotFound);
  EXPECT_EQ(out[3].code(), StatusCode::kNotFound);
  EXPECT_TRUE(out[4].ok());
  EXPECT_TRUE(out[5].ok());
  EXPECT_EQ(out[6].code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out[6].message().find("Names may only contain"), std::string::npos);
  EXPECT_TRUE(out[7].ok());

  // A param logged again with another value fails alone; the rest of the
  // batch is written (the merged write is rolled back and redone one by one).
  out = store_->LogBatches({{c, {{"acc", 0.6, 6, 1}}, {}, {}},
                            {a, {}, {{"lr", "0.2"}}, {}},
                            {a, {{"loss", 0.6, 40, 4}}, {{"lr", "0.1"}}, {}}});
  EXPECT_TRUE(out[0].ok());
  EXPECT_EQ(out[1].code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out[1].message().find("Changing param values is not allowed"), std::string::npos);
  EXPECT_TRUE(out[2].ok());

  auto run_a = store_->GetRun(a);
  ASSERT_TRUE(run_a.ok());
  ASSERT_EQ(run_a->metrics.size(), 1u);
  EXPECT_EQ(run_a->metrics[0], (Metric{"loss", 0.6, 40, 4}));
  EXPECT_EQ(store_->GetMetricHistory(a, "loss", 0, "")->items.size(), 5u);
  ASSERT_EQ(run_a->params.size(), 1u);
  EXPECT_EQ(run_a->params[0].value, "0.1");
  auto run_c = store_->GetRun(c);
  EXPECT_EQ(run_c->info.run_name, "renamed");
  EXPECT_EQ(run_c->metrics[0], (Metric{"acc", 0.6, 6, 1}));
  EXPECT_TRUE(store_->GetMetricHistory(deleted, "loss", 0, "")->items.empty());
}

TEST_P(TrackingStoreTest, MetricHistoryAndLatestValues) {
  std::string id = NewRunIn("0");
  // Logged out of order; the latest is the largest step, then timestamp, then value.
  ASSERT_TRUE(store_
                  ->LogBatch(id,
                             {{"loss", 0.9, 100, 0},
                              {"loss", 0.5, 300, 2},
                              {"loss", 0.7, 200, 1},
                              {"loss", 0.4, 250, 2},
                              {"loss", 0.7, 200, 1},  // a duplicate is ignored
                              {"acc", std::nan(""), 5, 0},
                              {"big", INFINITY, 5, 0}},
                             {}, {})
                  .ok());
  auto run = store_->GetRun(id);
  ASSERT_EQ(run->metrics.size(), 3u);
  EXPECT_EQ(run->metrics[0].key, "acc");
  EXPECT_TRUE(std::isnan(run->metrics[0].value));
  EXPECT_EQ(run->metrics[1].value, INFINITY);
  EXPECT_EQ(run->metrics[2], (Metric{"loss", 0.5, 300, 2}));

  auto all = store_->GetMetricHistory(id, "loss", 0, "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->items.size(), 4u);
  EXPECT_EQ(all->items[0], (Metric{"loss", 0.9, 100, 0}));
  EXPECT_EQ(all->items[3], (Metric{"loss", 0.5, 300, 2}));
  EXPECT_TRUE(all->next_page_token.empty());
  // Paged, two at a time.
  auto p1 = store_->GetMetricHistory(id, "loss", 2, "");
  ASSERT_EQ(p1->items.size(), 2u);
  ASSERT_FALSE(p1->next_page_token.empty());
  auto p2 = store_->GetMetricHistory(id, "loss", 2, p1->next_page_token);
  ASSERT_EQ(p2->items.size(), 2u);
  EXPECT_TRUE(p2->next_page_token.empty());
  EXPECT_EQ(p2->items[1], all->items[3]);
  EXPECT_EQ(store_->GetMetricHistory(id, "loss", 2, "garbage!").status().message(),
            "Invalid page token, could not base64-decode");
  EXPECT_TRUE(store_->GetMetricHistory(id, "none", 0, "")->items.empty());
  EXPECT_EQ(store_->LogMetric(id, {"t", 1, -1, 0}).code(), StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreTest, DatasetInputs) {
  std::string id = NewRunIn("0");
  DatasetInput in{{{"mlflow.data.context", "training"}},
                  {"adult", "1e6670d2", "plinth", "data/adult.csv", "{\"cols\":1}", std::nullopt}};
  ASSERT_TRUE(store_->LogInputs(id, {in}).ok());
  ASSERT_TRUE(store_->LogInputs(id, {in}).ok());  // logged twice, kept once
  std::string other = NewRunIn("0");
  ASSERT_TRUE(store_->LogInputs(other, {in}).ok());
  auto run = store_->GetRun(id);
  ASSERT_EQ(run->inputs.size(), 1u);
  EXPECT_EQ(run->inputs[0].dataset.digest, "1e6670d2");
  EXPECT_EQ(run->inputs[0].dataset.schema, "{\"cols\":1}");
  EXPECT_FALSE(run->inputs[0].dataset.profile.has_value());
  EXPECT_EQ(run->inputs[0].tags[0], (Tag{"mlflow.data.context", "training"}));
  DatasetInput bad = in;
  bad.dataset.digest = std::string(37, 'a');
  EXPECT_EQ(store_->LogInputs(id, {bad}).code(), StatusCode::kInvalidArgument);
  bad.dataset.digest = "";
  EXPECT_EQ(store_->LogInputs(id, {bad}).code(), StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreTest, SearchRunsFiltersOrdersAndPages) {
  ASSERT_TRUE(store_->CreateExperiment("e1", "", {}).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    std::string id = NewRunIn(i % 2 ? "1" : "0", {{"team", i < 6 ? "Vision" : "nlp"}});
    ids.push_back(id);
    ASSERT_TRUE(store_
                    ->LogBatch(id, {{"acc", 0.5 + i / 100.0, 1, 0}},
                               {{"model", i % 3 ? "gbdt" : "linear"}}, {})
                    .ok());
  }
  ASSERT_TRUE(store_->UpdateRun(ids[4], RunStatus::kFinished, 1, "").ok());
  DatasetInput in{{{"mlflow.data.context", "training"}},
                  {"adult", "d1", "plinth", "x.csv", {}, {}}};
  ASSERT_TRUE(store_->LogInputs(ids[2], {in}).ok());
  std::string no_metrics = NewRunIn("0");

  auto search = [&](const std::string& filter, std::vector<std::string> order = {},
                    int64_t max = 1000) {
    RunQuery q;
    q.experiment_ids = {"0", "1"};
    q.filter = filter;
    q.order_by = std::move(order);
    q.max_results = max;
    auto page = store_->SearchRuns(q);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const tracking::Run& r : page->items) {
        out.push_back(r.info.run_id);
      }
    }
    return out;
  };
  EXPECT_EQ(search("").size(), 13u);
  EXPECT_EQ(search("")[0], no_metrics);  // newest first by default
  EXPECT_EQ(search("metrics.acc >= 0.555").size(), 6u);
  EXPECT_EQ(search("metrics.acc > 0.555 and params.model = 'gbdt'").size(), 4u);
  EXPECT_EQ(search("params.model != 'gbdt'").size(), 4u);
  EXPECT_EQ(search("tags.team LIKE 'V%'").size(), 6u);
  EXPECT_EQ(search("tags.team LIKE 'v%'").size(), 0u);
  EXPECT_EQ(search("tags.team ILIKE 'v%'").size(), 6u);
  EXPECT_EQ(search("tags.`team` IN ('nlp', 'x')").size(), 6u);
  EXPECT_EQ(search("tags.team IS NULL"), std::vector<std::string>{no_metrics});
  EXPECT_EQ(search("params.model IS NULL"), std::vector<std::string>{no_metrics});
  EXPECT_EQ(search("attributes.status = 'FINISHED'"), std::vector<std::string>{ids[4]});
  EXPECT_EQ(search("status != 'RUNNING'"), std::vector<std::string>{ids[4]});
  EXPECT_EQ(search("attributes.run_id IN ('" + ids[1] + "','" + ids[3] + "')").size(), 2u);
  EXPECT_EQ(search("datasets.name = 'adult'"), std::vector<std::string>{ids[2]});
  EXPECT_EQ(search("datasets.context = 'training'"), std::vector<std::string>{ids[2]});
  EXPECT_EQ(search("metrics.\"acc\" < 0.5").size(), 0u);

  auto by_acc = search("", {"metrics.acc DESC"});
  EXPECT_EQ(by_acc.front(), ids[11]);
  EXPECT_EQ(by_acc.back(), no_metrics);  // no value sorts last either way
  EXPECT_EQ(search("", {"metrics.acc ASC"}).back(), no_metrics);
  EXPECT_EQ(search("", {"metrics.acc"}).front(), ids[0]);
  // "linear" sorts after "gbdt"; among the linear runs (0, 3, 6, 9) the earliest first.
  EXPECT_EQ(search("", {"params.model DESC", "attributes.start_time ASC"}).front(), ids[0]);
  EXPECT_EQ(search("", {"params.model ASC", "attributes.start_time DESC"}).front(), ids[11]);
  // Tags order too, runs without the tag last; two joined keys at once.
  EXPECT_EQ(search("", {"tags.team ASC"}).back(), no_metrics);
  EXPECT_EQ(search("", {"tags.team DESC"}).back(), no_metrics);
  EXPECT_EQ(search("tags.team = 'nlp'", {"tags.team ASC", "metrics.acc DESC"}),
            (std::vector<std::string>{ids[11], ids[10], ids[9], ids[8], ids[7], ids[6]}));

  // Pages of 5 cover every run once.
  std::set<std::string> seen;
  RunQuery q;
  q.experiment_ids = {"0", "1"};
  q.max_results = 5;
  int pages = 0;
  do {
    auto page = store_->SearchRuns(q);
    ASSERT_TRUE(page.ok());
    for (const tracking::Run& r : page->items) {
      EXPECT_TRUE(seen.insert(r.info.run_id).second);
      EXPECT_EQ(r.params.size(), r.info.run_id == no_metrics ? 0u : 1u);
    }
    q.page_token = page->next_page_token;
    ++pages;
  } while (!q.page_token.empty());
  EXPECT_EQ(seen.size(), 13u);
  EXPECT_EQ(pages, 3);

  ASSERT_TRUE(store_->DeleteRun(ids[0]).ok());
  RunQuery d;
  d.experiment_ids = {"0"};
  d.view_type = ViewType::kDeletedOnly;
  EXPECT_EQ(store_->SearchRuns(d)->items.size(), 1u);
  d.view_type = ViewType::kAll;
  EXPECT_EQ(store_->SearchRuns(d)->items.size(), 7u);
  d.max_results = 50001;
  EXPECT_EQ(store_->SearchRuns(d).status().code(), StatusCode::kInvalidArgument);
  d.max_results = 10;
  d.filter = "metrics.acc > 1 or metrics.acc < 0";
  EXPECT_EQ(store_->SearchRuns(d).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreTest, SearchExperiments) {
  for (const char* name : {"fraud-a", "fraud-b", "churn"}) {
    ASSERT_TRUE(store_->CreateExperiment(name, "", {{"owner", name[0] == 'f' ? "x" : "y"}}).ok());
    clock_.Advance(1000);
  }
  auto names = [&](ExperimentQuery q) {
    std::vector<std::string> out;
    auto page = store_->SearchExperiments(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    for (const Experiment& e : page->items) {
      out.push_back(e.name);
    }
    return out;
  };
  ExperimentQuery q;
  EXPECT_EQ(names(q), (std::vector<std::string>{"churn", "fraud-b", "fraud-a", "Default"}));
  q.filter = "name LIKE 'fraud%'";
  q.order_by = {"name DESC"};
  EXPECT_EQ(names(q), (std::vector<std::string>{"fraud-b", "fraud-a"}));
  q.filter = "tags.owner = 'y'";
  EXPECT_EQ(names(q), std::vector<std::string>{"churn"});
  ASSERT_TRUE(store_->DeleteExperiment("3").ok());
  q.filter = "";
  q.view_type = ViewType::kDeletedOnly;
  EXPECT_EQ(names(q), std::vector<std::string>{"churn"});
  q.filter = "metrics.acc > 1";
  EXPECT_EQ(store_->SearchExperiments(q).status().code(), StatusCode::kInvalidArgument);
}

// MLflow 3's logged models: create, finalize, tags, params, metrics logged with a
// model id, a run's model inputs and outputs, search, soft delete.
TEST_P(TrackingStoreTest, LoggedModels) {
  std::string run = NewRunIn("0");
  NewLoggedModel n;
  n.experiment_id = "0";
  n.name = "model";
  n.source_run_id = run;
  n.params = {{"alpha", "0.5"}};
  n.tags = {{"team", "ml"}};
  auto m = store_->CreateLoggedModel(n);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->model_id.starts_with("m-"));
  EXPECT_EQ(m->model_id.size(), 34u);
  EXPECT_EQ(m->artifact_uri, "/art/0/models/" + m->model_id + "/artifacts");
  EXPECT_EQ(m->status, LoggedModelStatus::kPending);
  EXPECT_EQ(m->params, (std::vector<Param>{{"alpha", "0.5"}}));
  clock_.Advance(1000);

  // Names MLflow refuses, unknown and deleted experiments.
  n.name = "a/b";
  auto bad = store_->CreateLoggedModel(n);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("Invalid model name ('a/b')"), std::string::npos);
  n.name = "";
  n.experiment_id = "42";
  EXPECT_EQ(store_->CreateLoggedModel(n).status().code(), StatusCode::kNotFound);
  n.experiment_id = "0";
  auto unnamed = store_->CreateLoggedModel(n);  // a generated name
  ASSERT_TRUE(unnamed.ok());
  EXPECT_FALSE(unnamed->name.empty());
  clock_.Advance(1000);

  auto ready = store_->FinalizeLoggedModel(m->model_id, LoggedModelStatus::kReady);
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, LoggedModelStatus::kReady);
  EXPECT_GT(ready->last_updated_timestamp_ms, m->creation_timestamp_ms);
  EXPECT_EQ(store_->FinalizeLoggedModel("m-nope", LoggedModelStatus::kReady).status().message(),
            "Logged model with ID 'm-nope' not found.");

  ASSERT_TRUE(store_->SetLoggedModelTags(m->model_id, {{"team", "data"}, {"k", "v"}}).ok());
  ASSERT_TRUE(store_->DeleteLoggedModelTag(m->model_id, "k").ok());
  EXPECT_EQ(store_->DeleteLoggedModelTag(m->model_id, "k").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->LogLoggedModelParams(m->model_id, {{"beta", "1"}}).ok());
  EXPECT_EQ(store_->LogLoggedModelParams(m->model_id, {{"beta", "2"}}).code(),
            StatusCode::kInvalidArgument);

  // A metric with a model id is the run's (without the model fields) and the model's.
  Metric acc{"acc", 0.9, 5, 1};
  acc.model_id = m->model_id;
  acc.dataset_name = "test";
  acc.dataset_digest = "d1";
  ASSERT_TRUE(store_->LogBatch(run, {acc}, {}, {}).ok());
  ASSERT_TRUE(store_->LogOutputs(run, {{m->model_id, 3}}).ok());
  EXPECT_EQ(store_->LogOutputs(run, {{m->model_id, 3}}).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->LogModelInputs(run, {unnamed->model_id}).ok());
  ASSERT_TRUE(store_->LogModelInputs(run, {unnamed->model_id}).ok());  // again: kept once

  auto got = store_->GetLoggedModel(m->model_id, false);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags, (std::vector<Tag>{{"team", "data"}}));
  EXPECT_EQ(got->params, (std::vector<Param>{{"alpha", "0.5"}, {"beta", "1"}}));
  ASSERT_EQ(got->metrics.size(), 1u);
  EXPECT_EQ(got->metrics[0].run_id, run);
  EXPECT_EQ(got->metrics[0].dataset_digest, "d1");
  auto r = store_->GetRun(run);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->metrics.size(), 1u);
  EXPECT_TRUE(r->metrics[0].model_id.empty());
  EXPECT_EQ(r->model_outputs, (std::vector<ModelOutput>{{m->model_id, 3}}));
  EXPECT_EQ(r->model_inputs, (std::vector<std::string>{unnamed->model_id}));
  auto edges = store_->LineageOf(m->model_id);
  ASSERT_TRUE(edges.ok());
  ASSERT_EQ(edges->size(), 1u);
  EXPECT_EQ((*edges)[0].relation, "produced");

  // Search: newest first; filters on attributes, params, tags, metrics (on a dataset).
  auto ids = [&](LoggedModelQuery q) {
    q.experiment_ids = {"0"};
    std::vector<std::string> out;
    auto page = store_->SearchLoggedModels(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const LoggedModel& x : page->items) {
        out.push_back(x.model_id);
      }
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}), (V{unnamed->model_id, m->model_id}));
  LoggedModelQuery q;
  q.filter = "name = 'model' AND params.beta = '1' AND tags.team = 'data' AND status = 2";
  EXPECT_EQ(ids(q), V{m->model_id});
  q.filter = "metrics.acc > 0.8";
  EXPECT_EQ(ids(q), V{m->model_id});
  q.datasets = {{"train", ""}};
  EXPECT_EQ(ids(q), V{});
  q.datasets = {{"test", "d1"}};
  EXPECT_EQ(ids(q), V{m->model_id});
  q = {};
  q.order_by = {{"creation_timestamp", true, "", ""}};
  EXPECT_EQ(ids(q), (V{m->model_id, unnamed->model_id}));
  q.order_by = {{"params.alpha", true, "", ""}};
  q.experiment_ids = {"0"};
  EXPECT_EQ(store_->SearchLoggedModels(q).status().code(), StatusCode::kInvalidArgument);
  q = {};
  q.max_results = 1;
  q.experiment_ids = {"0"};
  auto first = store_->SearchLoggedModels(q);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_page_token.empty());
  q.page_token = first->next_page_token;
  auto second = store_->SearchLoggedModels(q);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].model_id, m->model_id);
  q = {};
  q.filter = "status = 'READY'";
  q.experiment_ids = {"0"};
  EXPECT_EQ(store_->SearchLoggedModels(q).status().code(), StatusCode::kInvalidArgument);

  // Soft delete: gone for get and search, there with allow_deleted.
  ASSERT_TRUE(store_->DeleteLoggedModel(unnamed->model_id).ok());
  EXPECT_EQ(store_->GetLoggedModel(unnamed->model_id, false).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetLoggedModel(unnamed->model_id, true).ok());
  EXPECT_EQ(ids({}), V{m->model_id});
}

// MLflow's v2 traces: start, end (merged metadata and tags), search with MLflow's
// aliases and order, delete by time, count and id, tags.
TEST_P(TrackingStoreTest, Traces) {
  auto t1 = store_->StartTrace("0", 1000, {{"m1", "a"}}, {{"mlflow.traceName", "predict"}});
  ASSERT_TRUE(t1.ok()) << t1.status().ToString();
  EXPECT_EQ(t1->request_id.size(), 32u);
  EXPECT_EQ(t1->status, "IN_PROGRESS");
  EXPECT_FALSE(t1->execution_time_ms.has_value());
  const Tag location{"mlflow.artifactLocation", "/art/0/traces/" + t1->request_id + "/artifacts"};
  EXPECT_NE(std::find(t1->tags.begin(), t1->tags.end(), location), t1->tags.end());
  EXPECT_EQ(store_->StartTrace("7", 1, {}, {}).status().code(), StatusCode::kNotFound);

  auto ended =
      store_->EndTrace(t1->request_id, 3500, "OK", {{"m1", "b"}, {"m2", "c"}}, {{"t", "x"}});
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->execution_time_ms, 2500);
  EXPECT_EQ(ended->request_metadata, (std::vector<Tag>{{"m1", "b"}, {"m2", "c"}}));
  EXPECT_EQ(store_->EndTrace(t1->request_id, 1, "DONE", {}, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetTraceInfo("nope").status().message(),
            "Trace with request_id 'nope' not found.");

  auto t2 = store_->StartTrace("0", 2000, {{"mlflow.sourceRun", "r1"}}, {});
  auto t3 = store_->StartTrace("0", 3000, {}, {});
  ASSERT_TRUE(t2.ok() && t3.ok());
  ASSERT_TRUE(store_->EndTrace(t3->request_id, 3100, "ERROR", {}, {}).ok());
  auto ids = [&](TraceQuery q) {
    q.experiment_ids = {"0"};
    std::vector<std::string> out;
    auto page = store_->SearchTraces(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const TraceInfo& t : page->items) {
        out.push_back(t.request_id);
      }
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}), (V{t3->request_id, t2->request_id, t1->request_id}));
  TraceQuery q;
  q.filter = "status = 'OK'";
  EXPECT_EQ(ids(q), V{t1->request_id});
  q.filter = "name = 'predict' AND timestamp < 1500 AND request_metadata.m2 = 'c'";
  EXPECT_EQ(ids(q), V{t1->request_id});
  q.filter = "run_id = 'r1'";
  EXPECT_EQ(ids(q), V{t2->request_id});
  // link-to-run: run_id also finds the traces linked to the run.
  ASSERT_TRUE(store_->LinkTracesToRun({t3->request_id, "no-such-trace"}, "r1").ok());
  ASSERT_TRUE(store_->LinkTracesToRun({t3->request_id}, "r1").ok());  // again: kept once
  EXPECT_EQ(ids(q), (V{t3->request_id, t2->request_id}));
  EXPECT_EQ(store_->LinkTracesToRun(std::vector<std::string>(101, "x"), "r1").code(),
            StatusCode::kInvalidArgument);
  q.filter = "";
  q.order_by = {"timestamp ASC"};
  EXPECT_EQ(ids(q), (V{t1->request_id, t2->request_id, t3->request_id}));
  q.filter = "params.x = '1'";
  q.experiment_ids = {"0"};
  EXPECT_EQ(store_->SearchTraces(q).status().code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(store_->SetTraceTag(t2->request_id, {"k", "v"}).ok());
  ASSERT_TRUE(store_->DeleteTraceTag(t2->request_id, "k").ok());
  EXPECT_EQ(store_->DeleteTraceTag(t2->request_id, "k").code(), StatusCode::kNotFound);

  TraceDeletion d;
  d.experiment_id = "0";
  EXPECT_EQ(store_->DeleteTraces(d).status().code(), StatusCode::kInvalidArgument);
  d.max_timestamp_millis = 1'000'000;
  d.max_traces = 1;  // the oldest one
  EXPECT_EQ(*store_->DeleteTraces(d), 1);
  EXPECT_EQ(store_->GetTraceInfo(t1->request_id).status().code(), StatusCode::kNotFound);
  d = {};
  d.experiment_id = "0";
  d.request_ids = {t3->request_id};
  EXPECT_EQ(*store_->DeleteTraces(d), 1);
  EXPECT_EQ(ids({}), V{t2->request_id});
}

// A span of trace tr-<32 x 'a'> (MLflow's server makes them from OTLP: tracking/spans.h).
Span SpanAt(const std::string& id, const std::string& parent, int64_t start_ms, int64_t end_ms,
            const std::string& status = "STATUS_CODE_OK") {
  SpanFields f;
  f.trace_hex = std::string(32, 'a');
  f.span_hex = id;
  f.parent_hex = parent;
  f.name = "span-" + id.substr(15);
  f.start_ns = start_ms * 1'000'000;
  f.end_ns = end_ms * 1'000'000;
  f.status_code = status;
  if (parent.empty()) {
    f.attributes = {{"mlflow.spanInputs", {{"x", 1}}}, {"mlflow.spanOutputs", 2}};
  }
  return SpanOf(f);
}

TEST_P(TrackingStoreTest, SpansLoggedOverOtlpMakeAndWidenTheirTrace) {
  const std::string root =
                        "000000000000000"
                        "1",
                    child =
                        "000000000000000"
                        "2",
                    late =
                        "000000000000000"
                        "3";
  const std::string id = "tr-" + std::string(32, 'a');
  // The child ends first: the trace is created IN_PROGRESS around it.
  ASSERT_TRUE(store_->LogSpans("0", {SpanAt(child, root, 2000, 2500)}).ok());
  auto info = store_->GetTraceInfo(id);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->status, "IN_PROGRESS");
  EXPECT_EQ(info->timestamp_ms, 2000);
  EXPECT_EQ(info->execution_time_ms, 500);
  // Not all stored yet (the size stats count 3), so only a partial read answers.
  ASSERT_TRUE(store_
                  ->PutTrace([&] {
                    TraceInfo t = *info;
                    t.request_metadata = {{"mlflow.trace.sizeStats", R"({"num_spans": 3})"}};
                    t.tags = {{"mlflow.trace.spansLocation", "ARTIFACT_REPO"}};  // ignored
                    return t;
                  }())
                  .ok());
  EXPECT_EQ(store_->GetTrace(id, false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTrace(id, true)->spans.size(), 1u);
  // The root widens the trace to 1000..3000 and finishes it; a span logged again replaces.
  ASSERT_TRUE(
      store_->LogSpans("0", {SpanAt(root, "", 1000, 3000), SpanAt(child, root, 2000, 2600)}).ok());
  ASSERT_TRUE(store_->LogSpans("0", {SpanAt(late, root, 2900, 3000, "STATUS_CODE_ERROR")}).ok());
  auto trace = store_->GetTrace(id, false);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->info.status, "OK");  // from the root, not the failed child
  EXPECT_EQ(trace->info.timestamp_ms, 1000);
  EXPECT_EQ(trace->info.execution_time_ms, 2000);
  EXPECT_EQ(trace->info.request_preview, R"({"x":1})");
  EXPECT_EQ(trace->info.response_preview, "2");
  ASSERT_EQ(trace->spans.size(), 3u);
  EXPECT_EQ(trace->spans[0].span_id, root);  // root first, then by start time
  EXPECT_EQ(trace->spans[1].span_id, child);
  EXPECT_EQ(trace->spans[1].end_time_ns, 2600 * 1'000'000LL);
  EXPECT_EQ(trace->spans[2].status, "ERROR");
  auto has = [&](const TraceInfo& t, const std::string& key, const std::string& value) {
    return std::any_of(t.tags.begin(), t.tags.end(),
                       [&](const Tag& g) { return g.key == key && g.value == value; });
  };
  EXPECT_TRUE(has(trace->info, "mlflow.trace.spansLocation", "TRACKING_STORE"));
  EXPECT_TRUE(has(trace->info, "mlflow.artifactLocation", "/art/0/traces/" + id + "/artifacts"));

  // batchGet: in the order asked, unknown ids and traces without stored spans left out.
  auto v2 = store_->StartTrace("0", 5000, {}, {});
  auto batch = store_->BatchGetTraces({"tr-nope", v2->request_id, id, id});
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 1u);  // each trace once
  EXPECT_EQ((*batch)[0].info.request_id, id);
  EXPECT_EQ(store_->GetTrace(v2->request_id, true).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetTrace("tr-nope", true).status().message(),
            "Trace with ID tr-nope is not found.");

  // Refused: spans of two traces at once, a trace of another experiment, a deleted one.
  Span other = SpanAt(root, "", 1, 2);
  other.trace_id = "tr-" + std::string(32, 'b');
  EXPECT_EQ(store_->LogSpans("0", {SpanAt(late, root, 1, 2), other}).code(),
            StatusCode::kInvalidArgument);
  auto e = store_->CreateExperiment("spans", "", {});
  ASSERT_TRUE(e.ok());
  // Which experiment has the trace is not said (the caller may not see it).
  EXPECT_EQ(store_->LogSpans(*e, {SpanAt(late, root, 1, 2)}).message(),
            "Trace ID '" + id + "' is already used by a trace of another experiment than " + *e);
  TraceInfo moved = trace->info;
  moved.experiment_id = *e;
  EXPECT_EQ(store_->PutTrace(moved).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetTraceInfo(id)->experiment_id, "0");
  EXPECT_EQ(store_->LogSpans("12345", {other}).code(), StatusCode::kNotFound);
  Span bad = other;
  bad.span_id = "xyz";
  EXPECT_EQ(store_->LogSpans("0", {bad}).code(), StatusCode::kInvalidArgument);

  // Deleting the trace deletes its spans.
  TraceDeletion d;
  d.experiment_id = "0";
  d.request_ids = {id};
  EXPECT_EQ(*store_->DeleteTraces(d), 1);
  ASSERT_TRUE(store_->LogSpans("0", {SpanAt(late, root, 1, 2)}).ok());
  EXPECT_EQ(store_->GetTrace(id, true)->spans.size(), 1u);
}

TEST_P(TrackingStoreTest, Assessments) {
  auto t = store_->StartTrace("0", 1000, {}, {});
  ASSERT_TRUE(t.ok());
  Assessment a;
  a.trace_id = t->request_id;
  a.name = "relevance";
  a.source_type = "LLM_JUDGE";
  a.source_id = "judge";
  a.value_json = "0.6";
  a.metadata = {{"round", "1"}};
  auto judged = store_->CreateAssessment(a);
  ASSERT_TRUE(judged.ok()) << judged.status().ToString();
  EXPECT_TRUE(judged->assessment_id.starts_with("a-"));
  EXPECT_EQ(judged->create_time_ms, 1'700'000'000'000);
  clock_.Advance(5'000'000);  // 5 s

  Assessment human = a;
  human.source_type = "HUMAN";
  human.value_json = "0.9";
  human.overrides = judged->assessment_id;
  auto override = store_->CreateAssessment(human);
  ASSERT_TRUE(override.ok());
  EXPECT_FALSE(store_->GetAssessment(t->request_id, judged->assessment_id)->valid);
  human.overrides = "a-unknown";
  EXPECT_EQ(store_->CreateAssessment(human).status().code(), StatusCode::kNotFound);

  AssessmentUpdate u;
  u.rationale = "better";
  u.metadata = std::vector<Tag>{{"round", "2"}, {"by", "bob"}};
  Assessment value;
  value.value_json = "0.95";
  u.value = value;
  auto updated = store_->UpdateAssessment(t->request_id, override->assessment_id, u);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->value_json, "0.95");
  EXPECT_EQ(updated->rationale, "better");
  EXPECT_EQ(updated->metadata, (std::vector<Tag>{{"round", "2"}, {"by", "bob"}}));
  EXPECT_EQ(updated->source_type, "HUMAN");
  EXPECT_EQ(updated->last_update_time_ms, 1'700'000'005'000);
  value.is_expectation = true;
  u = {};
  u.value = value;
  EXPECT_EQ(store_->UpdateAssessment(t->request_id, override->assessment_id, u).status().message(),
            "Cannot update expectation value on a Feedback assessment.");

  auto info = store_->GetTraceInfo(t->request_id);
  ASSERT_EQ(info->assessments.size(), 2u);
  EXPECT_EQ(info->assessments[0].assessment_id, judged->assessment_id);  // oldest first
  EXPECT_EQ(info->assessments[1].metadata.size(), 2u);

  ASSERT_TRUE(store_->DeleteAssessment(t->request_id, override->assessment_id).ok());
  EXPECT_TRUE(store_->GetAssessment(t->request_id, judged->assessment_id)->valid);
  EXPECT_TRUE(store_->DeleteAssessment(t->request_id, override->assessment_id).ok());  // again
  EXPECT_EQ(store_->GetAssessment(t->request_id, override->assessment_id).status().code(),
            StatusCode::kNotFound);
  a.trace_id = "tr-nope";
  EXPECT_EQ(store_->CreateAssessment(a).status().code(), StatusCode::kNotFound);

  // Assessments logged while a trace ran come with its StartTraceV3, kept once.
  TraceInfo with = *info;
  Assessment during = a;
  during.assessment_id = "a-client-chosen";
  during.trace_id = "";
  with.assessments = {during};
  ASSERT_TRUE(store_->PutTrace(with).ok());
  ASSERT_TRUE(store_->PutTrace(with).ok());
  auto again = store_->GetTraceInfo(t->request_id);
  ASSERT_EQ(again->assessments.size(), 2u);
  EXPECT_EQ(again->assessments[1].assessment_id, "a-client-chosen");
  EXPECT_EQ(again->assessments[1].trace_id, t->request_id);
  // Carried assessments are kept as sent, in any order: an override listed before the
  // one it overrides, and that one's valid flag.
  Assessment newer = during, older = during;
  newer.assessment_id = "a-newer";
  newer.overrides = "a-older";
  older.assessment_id = "a-older";
  older.valid = false;
  with.assessments = {newer, older};
  ASSERT_TRUE(store_->PutTrace(with).ok());
  EXPECT_FALSE(store_->GetAssessment(t->request_id, "a-older")->valid);
  EXPECT_TRUE(store_->GetAssessment(t->request_id, "a-newer")->valid);
}

// MLflow 3's trace search grammar: span.*, feedback.*, expectation.*, trace.text,
// prompt, end_time and RLIKE, as MLflow's SQL store answers them.
TEST_P(TrackingStoreTest, TraceSearchOverSpansAssessmentsAndPrompts) {
  auto span = [](char trace, const std::string& id, const std::string& parent,
                 const std::string& name, int64_t start_ms, int64_t end_ms,
                 const std::string& status, core::Json attributes) {
    SpanFields f;
    f.trace_hex = std::string(32, trace);
    f.span_hex = std::string(15, '0') + id;
    f.parent_hex = parent.empty() ? "" : std::string(15, '0') + parent;
    f.name = name;
    f.start_ns = start_ms * 1'000'000;
    f.end_ns = end_ms * 1'000'000;
    f.status_code = status;
    f.attributes = std::move(attributes);
    return SpanOf(f);
  };
  const std::string a = "tr-" + std::string(32, 'a'), b = "tr-" + std::string(32, 'b');
  ASSERT_TRUE(store_
                  ->LogSpans("0", {span('a', "1", "", "agent", 1000, 3000, "STATUS_CODE_OK",
                                        {{"mlflow.spanType", "AGENT"},
                                         {"model", "gpt-x"},
                                         {"tokens", 42},
                                         {"mlflow.spanInputs", {{"q", "What is café?"}}}}),
                                   span('a', "2", "1", "search_web", 1500, 2000,
                                        "STATUS_CODE_ERROR", {{"mlflow.spanType", "RETRIEVER"}})})
                  .ok());
  ASSERT_TRUE(store_
                  ->LogSpans("0", {span('b', "1", "", "search_web", 5000, 5500, "STATUS_CODE_OK",
                                        {{"mlflow.spanType", "RETRIEVER"}, {"model", "gpt-y"}})})
                  .ok());
  auto ids = [&](const std::string& filter, std::vector<std::string> order_by = {}) {
    TraceQuery q;
    q.experiment_ids = {"0"};
    q.filter = filter;
    q.order_by = std::move(order_by);
    std::vector<std::string> out;
    auto page = store_->SearchTraces(q);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    if (page.ok()) {
      for (const TraceInfo& t : page->items) {
        out.push_back(t.request_id);
      }
    }
    return out;
  };
  using V = std::vector<std::string>;
  const V both = {b, a}, only_a = {a}, only_b = {b}, none = {};
  EXPECT_EQ(ids("span.name = 'search_web'"), both);
  // Every span clause holds for one same span: A's search_web failed.
  EXPECT_EQ(ids("span.name = 'search_web' AND span.status = 'OK'"), only_b);
  EXPECT_EQ(ids("span.status = 'ERROR'"), only_a);
  EXPECT_EQ(ids("span.type IN ('AGENT', 'LLM')"), only_a);
  EXPECT_EQ(ids("span.type NOT IN ('AGENT')"), both);
  EXPECT_EQ(ids("span.name RLIKE '^search'"), both);
  EXPECT_EQ(ids("span.name RLIKE 'web$' AND span.type = 'AGENT'"), none);
  EXPECT_EQ(ids("span.name ILIKE 'AGE%'"), only_a);
  // Attributes: LIKE and RLIKE as MLflow rewrites them; = compares the value itself.
  EXPECT_EQ(ids("span.attributes.model LIKE '%gpt-y%'"), only_b);
  EXPECT_EQ(ids("span.attributes.model RLIKE '^gpt-.$'"), both);
  EXPECT_EQ(ids("span.attributes.model RLIKE '^gpt-x$'"), only_a);
  EXPECT_EQ(ids("span.attributes.model = 'gpt-x'"), only_a);
  EXPECT_EQ(ids("span.attributes.model = 'gpt'"), none);
  EXPECT_EQ(ids("span.attributes.tokens = '42'"), only_a);
  EXPECT_EQ(ids("span.attributes.`model` IN ('gpt-y', 'gpt-z')"), only_b);
  // Only attributes are compared: the span's name and status are not attributes.
  EXPECT_EQ(ids("span.attributes.name = 'search_web'"), none);
  EXPECT_EQ(ids("span.attributes.code = 'STATUS_CODE_OK'"), none);
  // != holds for a span with the attribute and another value (A's child has no model).
  EXPECT_EQ(ids("span.attributes.model != 'gpt-x'"), only_b);
  EXPECT_EQ(ids("span.attributes.tokens NOT IN ('42')"), none);
  // An alternation stays inside the attribute's value; leading flags apply to it.
  EXPECT_EQ(ids("span.attributes.model RLIKE 'nomatch|search'"), none);
  EXPECT_EQ(ids("span.attributes.model RLIKE '(?i)^GPT-X$'"), only_a);
  EXPECT_EQ(ids("span.attributes.model = 'gpt-x' AND span.name = 'search_web'"), none);
  // The spans' text.
  EXPECT_EQ(ids("trace.text LIKE '%café%'"), only_a);
  EXPECT_EQ(ids("text ILIKE '%WHAT IS%'"), only_a);
  EXPECT_EQ(ids("span.content LIKE '%search_web%'"), both);
  // end_time = timestamp + duration.
  EXPECT_EQ(ids("end_time > 4000"), only_b);
  EXPECT_EQ(ids("end_time_ms <= 3000 AND trace.status = 'OK'"), only_a);
  EXPECT_EQ(ids("", {"end_time ASC"}), (V{a, b}));

  // Feedback and expectations: the valid ones, their JSON value as a string or as written.
  Assessment fa;
  fa.trace_id = a;
  fa.name = "correct";
  fa.source_type = "HUMAN";
  fa.source_id = "ann";
  fa.value_json = R"("yes")";
  ASSERT_TRUE(store_->CreateAssessment(fa).ok());
  Assessment fb = fa;
  fb.trace_id = b;
  fb.value_json = R"("no")";
  auto overridden = store_->CreateAssessment(fb);
  ASSERT_TRUE(overridden.ok());
  fb.value_json = R"("yes")";
  fb.overrides = overridden->assessment_id;
  ASSERT_TRUE(store_->CreateAssessment(fb).ok());
  Assessment score = fa;
  score.trace_id = b;
  score.name = "score";
  score.value_json = "5";
  ASSERT_TRUE(store_->CreateAssessment(score).ok());
  Assessment expected = fa;
  expected.name = "answer";
  expected.is_expectation = true;
  expected.value_json = R"("42 is the answer")";
  ASSERT_TRUE(store_->CreateAssessment(expected).ok());
  EXPECT_EQ(ids("feedback.correct = 'yes'"), both);
  EXPECT_EQ(ids("feedback.correct = 'no'"), none);  // overridden
  EXPECT_EQ(ids("feedback.correct != 'yes'"), none);
  EXPECT_EQ(ids("feedback.score = '5'"), only_b);
  EXPECT_EQ(ids("feedback.score IS NULL"), only_a);
  EXPECT_EQ(ids("feedback.score IS NOT NULL"), only_b);
  EXPECT_EQ(ids("feedback.`correct` RLIKE 'y.s' AND span.type = 'AGENT'"), only_a);
  EXPECT_EQ(ids("expectation.answer LIKE '%42%'"), only_a);
  EXPECT_EQ(ids("expectation.correct = 'yes'"), none);  // a feedback, not an expectation

  // Prompts linked to a trace (MLflow 3's link-prompts).
  ASSERT_TRUE(store_->LinkPromptsToTrace(a, {{"qa", "2"}, {"qa", "2"}, {"summary", "10"}}).ok());
  EXPECT_EQ(ids("prompt = 'qa/2'"), only_a);
  EXPECT_EQ(ids("prompt = 'qa/1'"), none);
  EXPECT_EQ(store_->LinkPromptsToTrace(a, {{"qa", "two"}}).message(),
            "Invalid version 'two' of prompt 'qa': expected a positive integer");
  EXPECT_EQ(store_->LinkPromptsToTrace(a, {{"", "1"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LinkPromptsToTrace("tr-nope", {{"qa", "1"}}).code(), StatusCode::kNotFound);

  // What MLflow refuses, refused with the clause named.
  auto error = [&](const std::string& filter, std::vector<std::string> order_by = {}) {
    TraceQuery q;
    q.experiment_ids = {"0"};
    q.filter = filter;
    q.order_by = std::move(order_by);
    Status s = store_->SearchTraces(q).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << filter;
    return s.message();
  };
  EXPECT_EQ(error("span.kind = 'x'"),
            "invalid filter \"span.kind = 'x'\": invalid span key 'kind': expected name, type, "
            "status, content or attributes.<name>");
  EXPECT_EQ(error("span.content = 'x'"),
            "invalid filter \"span.content = 'x'\": invalid comparator '=' for span.content: "
            "the spans' text is searched with LIKE or ILIKE");
  EXPECT_EQ(error("span.attributes. = 'x'"),
            "invalid filter \"span.attributes. = 'x'\": invalid span key 'attributes.': expected "
            "name, type, status, content or attributes.<name>");
  EXPECT_EQ(error("feedback.x IN ('a')"),
            "invalid filter \"feedback.x IN ('a')\": IN does not apply to feedback.x: expected "
            "one of =, !=, LIKE, ILIKE, RLIKE, IS NULL, IS NOT NULL");
  EXPECT_EQ(error("span.name RLIKE '(a'"),
            "invalid filter \"span.name RLIKE '(a'\": invalid regular expression '(a' after "
            "span.name RLIKE: missing ): (a");
  // A pattern of a few characters that compiles to megabytes, and too many patterns.
  EXPECT_EQ(error("span.name RLIKE '\\pL{0,300}'"),
            "invalid filter \"span.name RLIKE '\\pL{0,300}'\": invalid regular expression "
            "'\\pL{0,300}' after span.name RLIKE: pattern too large - compile failed");
  // RE2 syntax PostgreSQL's ~ refuses: a 400 with its reason, not the connection's name.
  {
    TraceQuery q;
    q.experiment_ids = {"0"};
    q.filter = "span.name RLIKE '(?P<n>web)'";
    auto page = store_->SearchTraces(q);
    if (GetParam() == "postgres") {
      ASSERT_EQ(page.status().code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(page.status().message().starts_with(
          "invalid filter \"span.name RLIKE '(?P<n>web)'\": invalid regular expression"))
          << page.status().message();
      EXPECT_EQ(page.status().message().find("127.0.0.1"), std::string::npos);
    } else {
      ASSERT_TRUE(page.ok());
      EXPECT_EQ(page->items.size(), 2u);
    }
  }
  std::string many = "span.name RLIKE 'a'";
  for (int i = 0; i < 20; ++i) {
    many += " AND span.name RLIKE 'a'";
  }
  EXPECT_NE(error(many).find("more than 20 RLIKE clauses"), std::string::npos);
  EXPECT_EQ(error("prompt LIKE 'qa%'"),
            "invalid filter \"prompt LIKE 'qa%'\": invalid comparator 'LIKE' for prompt: only = "
            "is supported, as prompt = 'name/version'");
  EXPECT_EQ(error("prompt = 'qa'"),
            "invalid filter \"prompt = 'qa'\": invalid prompt 'qa': expected prompt = "
            "'name/version'");
  EXPECT_EQ(error("span.name IS NULL"),
            "invalid filter \"span.name IS NULL\": IS NULL applies to tags, metadata, feedback "
            "and expectations only, not span.name");
  EXPECT_EQ(error("spans.name = 'x'"),
            "invalid filter \"spans.name = 'x'\": invalid entity type 'spans': expected tags, "
            "metadata, attributes, trace, span, feedback or expectation");
  EXPECT_EQ(error("", {"span.name"}),
            "invalid order_by clause \"span.name\": results cannot be ordered by span");
  EXPECT_EQ(error("", {"text DESC"}),
            "invalid order_by clause \"text DESC\": results cannot be ordered by text");

  // Deleting a trace deletes its prompt links.
  TraceDeletion d;
  d.experiment_id = "0";
  d.request_ids = {a};
  EXPECT_EQ(*store_->DeleteTraces(d), 1);
  EXPECT_EQ(ids("prompt = 'qa/2'"), none);
}

TEST_P(TrackingStoreTest, PreviewsOfSpansAreMlflows) {
  SpanFields f;
  f.trace_hex = std::string(32, 'c');
  f.span_hex = "0000000000000001";
  f.start_ns = 1'000'000'000;
  f.end_ns = 2'000'000'000;
  f.attributes = {
      {"mlflow.spanInputs",
       {{"messages",
         {{{"role", "system"}, {"content", "be brief"}}, {{"role", "user"}, {"content", "hi?"}}}}}},
      {"mlflow.spanOutputs", std::string(1200, 'x')}};
  ASSERT_TRUE(store_->LogSpans("0", {SpanOf(f)}).ok());
  auto info = store_->GetTraceInfo("tr-" + f.trace_hex);
  EXPECT_EQ(info->request_preview, "hi?");  // the last user message, as MLflow shows it
  // A content part whose type or text is no string is no text: the JSON text, no failure.
  f.trace_hex = std::string(32, 'd');
  f.attributes = {
      {"mlflow.spanInputs", {{"messages", {{{"role", "user"}, {"content", {{{"type", 5}}}}}}}}}};
  ASSERT_TRUE(store_->LogSpans("0", {SpanOf(f)}).ok());
  EXPECT_EQ(store_->GetTraceInfo("tr-" + f.trace_hex)->request_preview,
            R"({"messages":[{"role":"user","content":[{"type":5}]}]})");
  // The JSON text of a long string: its first 997 characters and "...".
  EXPECT_EQ(info->response_preview, "\"" + std::string(996, 'x') + "...");
}

INSTANTIATE_TEST_SUITE_P(Engines, TrackingStoreTest, ::testing::ValuesIn(testutil::TestEngines()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace plinth::tracking
