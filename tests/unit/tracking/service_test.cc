// The tracking service: the connection pool and the group commit, on every engine.
#include "tracking/service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "testutil/test_databases.h"
#include "testutil/testutil.h"

namespace plinth::tracking {
namespace {

class ServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ServiceOptions options;
    options.store_uri = testutil::FreshDatabaseUri(GetParam(), dir_.path());
    auto s = Service::Open(options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
  }
  std::string NewRun() {
    auto lease = service_->Acquire();
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    auto run = lease->tracking().CreateRun({});
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? run->info.run_id : "";
  }
  // Log's outcome, waited for.
  Status LogAndWait(LogRequest write) {
    std::promise<Status> outcome;
    service_->Log(std::move(write), [&outcome](Status s) { outcome.set_value(s); });
    return outcome.get_future().get();
  }
  testutil::TempDir dir_;
  std::unique_ptr<Service> service_;
};

TEST_P(ServiceTest, LeasesReuseAFreeConnectionAndOpenOneWhenNoneIsFree) {
  TrackingStore* first = nullptr;
  {
    auto a = service_->Acquire();
    ASSERT_TRUE(a.ok());
    first = &a->tracking();
    auto b = service_->Acquire();  // the first is in use: a second connection
    ASSERT_TRUE(b.ok());
    EXPECT_NE(&b->tracking(), first);
    // Both see the same database.
    auto id = a->tracking().CreateExperiment("e", "", {});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_EQ(b->tracking().GetExperimentByName("e")->experiment_id, *id);
    EXPECT_TRUE(b->registry().CreateRegisteredModel("m", {}, "").ok());
  }
  auto c = service_->Acquire();  // given back (the last one first): reused, not opened again
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(&c->tracking(), first);
  Service::Lease moved = std::move(*c);
  EXPECT_EQ(&moved.tracking(), first);
  EXPECT_TRUE(moved.registry().GetRegisteredModel("m").ok());
}

TEST_P(ServiceTest, GroupCommitReportsEachWritesOwnOutcome) {
  const std::string run = NewRun();
  EXPECT_TRUE(LogAndWait({run, {{"loss", 0.5, 1000, 1}}, {{"lr", "0.1"}}, {}}).ok());
  // A param cannot change: this write fails alone, the next one lands.
  Status changed = LogAndWait({run, {}, {{"lr", "0.2"}}, {}});
  EXPECT_EQ(changed.code(), StatusCode::kInvalidArgument) << changed.ToString();
  Status missing = LogAndWait({"no-such-run", {{"loss", 1, 1, 0}}, {}, {}});
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
  EXPECT_TRUE(LogAndWait({run, {{"loss", 0.25, 2000, 2}}, {}, {{"t", "v"}}}).ok());

  auto lease = service_->Acquire();
  ASSERT_TRUE(lease.ok());
  auto got = lease->tracking().GetRun(run);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->metrics.size(), 1u);
  EXPECT_EQ(got->metrics[0].value, 0.25);
  ASSERT_EQ(got->params.size(), 1u);
  EXPECT_EQ(got->params[0].value, "0.1");
  EXPECT_EQ(service_->writes_committed(), 4u);
  EXPECT_GE(service_->commits(), 1u);
  EXPECT_LE(service_->commits(), 4u);
}

TEST_P(ServiceTest, ConcurrentWritesAreAllCommittedAndMerged) {
  const std::string run = NewRun();
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (LogAndWait({run, {{"m" + std::to_string(t), double(i), 1000 + i, i}}, {}, {}}).ok()) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(service_->writes_committed(), uint64_t{kThreads * kEach});
  auto lease = service_->Acquire();
  ASSERT_TRUE(lease.ok());
  auto history = lease->tracking().GetMetricHistory(run, "m3", 0, "");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->items.size(), size_t{kEach});
}

TEST_P(ServiceTest, DestroyingTheServiceCommitsWhatIsQueued) {
  const std::string run = NewRun();
  std::atomic<int> reported{0};
  for (int i = 0; i < 20; ++i) {
    service_->Log({run, {{"x", double(i), 1000 + i, i}}, {}, {}}, [&reported](Status s) {
      if (s.ok()) {
        ++reported;
      }
    });
  }
  service_.reset();
  EXPECT_EQ(reported.load(), 20);
}

TEST(ServiceOpen, AnUnreachableStoreIsAnError) {
  ServiceOptions options;
  options.store_uri = "sqlite:///no/such/dir/x.db";
  auto s = Service::Open(options);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no/such/dir"), std::string::npos) << s.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Engines, ServiceTest, ::testing::ValuesIn(testutil::TestEngines()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace plinth::tracking
