// The lineage graph walk, and the one JSON shape of edges and registry events.
#include "tracking/lineage.h"

#include <gtest/gtest.h>

#include "testutil/testutil.h"
#include "tracking/mlflow_json.h"
#include "tracking/sql_stores.h"

namespace plinth::tracking {
namespace {

TEST(LineageGraph, WalksUpstreamAndDownstreamOnce) {
  testutil::TempDir dir;
  auto store = OpenTrackingStore("sqlite:///" + dir.path() + "/t.db", "/art");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  TrackingStore& s = **store;
  // data -> pipeline run -> run -> model version; a second data version feeds the run;
  // an unrelated edge elsewhere.
  ASSERT_TRUE(s.AddLineage({"data", "d1", "pipeline_run", "p1", "input", 0}).ok());
  ASSERT_TRUE(s.AddLineage({"pipeline_run", "p1", "run", "r1", "produced", 0}).ok());
  ASSERT_TRUE(s.AddLineage({"data", "d2", "run", "r1", "input", 0}).ok());
  ASSERT_TRUE(s.AddLineage({"run", "r1", "model_version", "m/1", "registered", 0}).ok());
  ASSERT_TRUE(s.AddLineage({"data", "x", "run", "other", "input", 0}).ok());

  auto from_model = LineageGraph(s, "m/1");
  ASSERT_TRUE(from_model.ok()) << from_model.status().ToString();
  ASSERT_EQ(from_model->size(), 4u);
  EXPECT_EQ((*from_model)[0].src_id, "r1");  // the model's own edge first
  auto from_data = LineageGraph(s, "d1");
  ASSERT_TRUE(from_data.ok());
  EXPECT_EQ(from_data->size(), 4u);
  for (const LineageEdge& e : *from_data) {
    EXPECT_NE(e.dst_id, "other");
  }

  auto none = LineageGraph(s, "nothing");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), "no lineage recorded for 'nothing'");
}

TEST(PlinthEntityJson, EdgesAndEventsRoundTrip) {
  LineageEdge e{"data", "abc", "run", "r1", "input", 1700000000000};
  auto edge = LineageEdgeFromJson(ToJson(e));
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(*edge, e);
  RegistryEvent ev{"churn", 3, "alias", "production", "2", "3", "ana", 1700000000001, "hotfix"};
  core::Json j = ToJson(ev);
  EXPECT_EQ(j["user"], "ana");
  auto back = RegistryEventFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "churn");
  EXPECT_EQ(back->version, 3);
  EXPECT_EQ(back->from, "2");
  EXPECT_EQ(back->user_id, "ana");
  EXPECT_EQ(back->time, 1700000000001);
  EXPECT_EQ(back->reason, "hotfix");  // a forced move's reason survives the round trip
  ev.reason.clear();
  EXPECT_FALSE(ToJson(ev).contains("reason"));
  EXPECT_FALSE(LineageEdgeFromJson(core::Json{{"src_id", 5}}).ok());
}

}  // namespace
}  // namespace plinth::tracking
