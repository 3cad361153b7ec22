#include "pipeline/runner.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "data/project.h"
#include "pipeline/report.h"
#include "testutil/testutil.h"

namespace plinth::pipeline {
namespace {
namespace fs = std::filesystem;

// a -> b (a's output is b's dependency), c beside them; b reads a parameter.
constexpr char kPipeline[] =
    "stages:\n"
    "  a:\n"
    "    cmd: cat raw.txt > a.txt\n"
    "    deps: [raw.txt]\n"
    "    outs: [a.txt]\n"
    "  b:\n"
    "    cmd: |-\n"
    "      cat a.txt > b.txt && echo '{\"acc\": 0.5, \"by\": {\"x\": \"s\"}, \"l\": [1]}' > "
    "m.json\n"
    "    deps: [a.txt]\n"
    "    params: [train.lr]\n"
    "    outs: [b.txt]\n"
    "    metrics: [m.json]\n"
    "  c:\n"
    "    cmd: echo c > c.txt\n"
    "    outs: [c.txt]\n";

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = data::Project::Init(dir_.path());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    project_ = std::make_unique<data::Project>(std::move(*p));
    Write("raw.txt", "1\n");
    Write("params.yaml", "train:\n  lr: 0.1\n");
    SetPipeline(kPipeline);
    sink_ = std::fopen("/dev/null", "w");
  }
  void TearDown() override {
    if (sink_ != nullptr) {
      std::fclose(sink_);
    }
  }

  void Write(const std::string& name, const std::string& text) {
    fs::remove(dir_.File(name));
    std::ofstream(dir_.File(name), std::ios::binary) << text;
  }
  std::string Read(const std::string& name) {
    auto t = core::ReadFile(dir_.File(name));
    return t.ok() ? *t : "<absent>";
  }
  void SetPipeline(const std::string& text) {
    auto p = ParsePipeline(text, dir_.File("plinth.yaml"), dir_.path());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pipeline_ = *p;
  }

  // stage -> "outcome: reason" of one run.
  std::map<std::string, std::string> RunWith(RunOptions opt) {
    opt.out = sink_;
    auto r = pipeline::Run(*project_, pipeline_, opt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::map<std::string, std::string> out;
    if (r.ok()) {
      for (const auto& s : r->stages) {
        out[s.name] =
            std::string(OutcomeName(s.outcome)) + (s.reason.empty() ? "" : ": ") + s.reason;
      }
    }
    return out;
  }
  std::map<std::string, std::string> RunAll() { return RunWith({}); }
  std::map<std::string, std::string> Dry() {
    RunOptions o;
    o.dry = true;
    return RunWith(o);
  }

  testutil::TempDir dir_;
  std::unique_ptr<data::Project> project_;
  Pipeline pipeline_;
  std::FILE* sink_ = nullptr;
};

using Outcomes = std::map<std::string, std::string>;

TEST_F(RunnerTest, RunsThenNothingWhenNothingChanged) {
  EXPECT_EQ(RunAll(), (Outcomes{{"a", "ran: new stage (not in plinth.lock)"},
                                {"b", "ran: new stage (not in plinth.lock)"},
                                {"c", "ran: new stage (not in plinth.lock)"}}));
  EXPECT_EQ(Read("b.txt"), "1\n");
  EXPECT_EQ(RunAll(), (Outcomes{{"a", "up to date"}, {"b", "up to date"}, {"c", "up to date"}}));
  RunOptions force;
  force.force = true;
  force.targets = {"c"};
  EXPECT_EQ(RunWith(force), (Outcomes{{"c", "ran: --force"}}));
}

// A stage's commit to plinth.lock on its worker thread while the scheduler reads the
// lock for the next stages' checks: `slow` is new (its commit adds an entry) and runs
// while x, y and z are found up to date. Every entry lands. The scheduler used to read
// the lock's map without the lock the commit holds (a data race this run does not
// make ThreadSanitizer report: the process spawn orders it); the Clang build of
// `make test-tsan` now refuses that read (lock_ is PLINTH_GUARDED_BY(lock_mu_)).
TEST_F(RunnerTest, CommitWhileOtherStagesAreCheckedKeepsEveryEntry) {
  const std::string others =
      "  x:\n"
      "    cmd: echo x > x.txt\n"
      "    outs: [x.txt]\n"
      "  y:\n"
      "    cmd: echo y > y.txt\n"
      "    outs: [y.txt]\n"
      "  z:\n"
      "    cmd: echo z > z.txt\n"
      "    outs: [z.txt]\n";
  SetPipeline("stages:\n" + others);
  const std::string ran = "ran: new stage (not in plinth.lock)";
  EXPECT_EQ(RunAll(), (Outcomes{{"x", ran}, {"y", ran}, {"z", ran}}));
  SetPipeline(
      "stages:\n"
      "  slow:\n"
      "    cmd: sleep 0.2\n" +
      others);
  RunOptions jobs;
  jobs.jobs = 2;
  EXPECT_EQ(
      RunWith(jobs),
      (Outcomes{{"slow", ran}, {"x", "up to date"}, {"y", "up to date"}, {"z", "up to date"}}));
  EXPECT_EQ(
      RunWith(jobs),
      (Outcomes{
          {"slow", "up to date"}, {"x", "up to date"}, {"y", "up to date"}, {"z", "up to date"}}));
}

// What makes a stage out of date, each named; downstream stages follow the
// changed data, not the changed stage.
TEST_F(RunnerTest, OutOfDateReasons) {
  RunAll();
  Write("raw.txt", "2\n");
  EXPECT_EQ(Dry(), (Outcomes{{"a", "would run: dependency changed: raw.txt"},
                             {"b", "up to date"},
                             {"c", "up to date"}}));
  EXPECT_EQ(Read("a.txt"), "1\n") << "--dry ran a stage";
  EXPECT_EQ(RunAll(), (Outcomes{{"a", "ran: dependency changed: raw.txt"},
                                {"b", "ran: dependency changed: a.txt"},
                                {"c", "up to date"}}));
  EXPECT_EQ(Read("b.txt"), "2\n");

  Write("params.yaml", "train:\n  lr: 0.2\n  unused: 1\n");
  EXPECT_EQ(RunAll(), (Outcomes{{"a", "up to date"},
                                {"b", "ran: parameter changed: train.lr"},
                                {"c", "up to date"}}));
  Write("params.yaml", "train:\n  lr: 0.2\n  unused: 2\n");
  EXPECT_EQ(RunAll()["b"], "up to date") << "a parameter the stage does not use";

  Write("c.txt", "edited\n");
  EXPECT_EQ(RunAll()["c"], "restored from run cache: output missing or changed: c.txt");
  EXPECT_EQ(Read("c.txt"), "c\n");

  std::string changed = kPipeline;
  changed.replace(changed.find("echo c"), 6, "echo C");
  SetPipeline(changed);
  EXPECT_EQ(RunAll()["c"], "ran: command changed");
  EXPECT_EQ(Read("c.txt"), "C\n");
}

// A dependency or parameter dropped from a stage is named as such.
TEST_F(RunnerTest, RemovedInputIsNamed) {
  RunAll();
  std::string text = kPipeline;
  text.replace(text.find("    params: [train.lr]\n"), 23, "");
  SetPipeline(text);
  EXPECT_EQ(Dry()["b"], "would run: parameter removed: train.lr");
  text.replace(text.find("    deps: [raw.txt]\n"), 20, "");
  SetPipeline(text);
  EXPECT_EQ(Dry()["a"], "would run: dependency removed: raw.txt");
}

// --dry changes nothing: not the workspace, not plinth.lock, even when the
// run cache could restore the stage.
TEST_F(RunnerTest, DryRunRestoresNothing) {
  RunAll();
  fs::remove(dir_.File("c.txt"));
  std::string lock = Read("plinth.lock");
  EXPECT_EQ(Dry()["c"], "would run: output missing or changed: c.txt");
  EXPECT_FALSE(fs::exists(dir_.File("c.txt")));
  EXPECT_EQ(Read("plinth.lock"), lock);
}

TEST_F(RunnerTest, TargetsRunWithTheirUpstreamOnly) {
  RunOptions o;
  o.targets = {"b"};
  EXPECT_EQ(RunWith(o), (Outcomes{{"a", "ran: new stage (not in plinth.lock)"},
                                  {"b", "ran: new stage (not in plinth.lock)"}}));
  EXPECT_FALSE(fs::exists(dir_.File("c.txt")));
  o.targets = {"ghost"};
  o.out = sink_;
  auto r = pipeline::Run(*project_, pipeline_, o);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

// plinth.lock: written in plinth.yaml order with what each stage ran with, and
// read back by the next run (which then runs nothing).
TEST_F(RunnerTest, LockRoundTrip) {
  RunOptions o;
  o.out = sink_;
  auto r = pipeline::Run(*project_, pipeline_, o);
  ASSERT_TRUE(r.ok());
  std::string lock = Read("plinth.lock");
  size_t a = lock.find("\n  a:\n"), b = lock.find("\n  b:\n"), c = lock.find("\n  c:\n");
  ASSERT_NE(a, std::string::npos) << lock;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(lock.find("schema: plinth.lock/v1"), std::string::npos);
  EXPECT_NE(lock.find("fingerprint: " + r->stages[1].fingerprint), std::string::npos) << lock;
  EXPECT_NE(lock.find("params.yaml:train.lr: 0.1"), std::string::npos) << lock;
  EXPECT_NE(lock.find("{path: raw.txt, hash: "), std::string::npos) << lock;
  EXPECT_NE(lock.find("{path: b.txt, hash: "), std::string::npos) << lock;

  // A stage no longer in plinth.yaml leaves the lock on the next write.
  std::string no_c = kPipeline;
  no_c.erase(no_c.find("  c:\n"));
  SetPipeline(no_c);
  Write("raw.txt", "3\n");
  RunAll();
  EXPECT_EQ(Read("plinth.lock").find("\n  c:\n"), std::string::npos);
  EXPECT_EQ(RunAll(), (Outcomes{{"a", "up to date"}, {"b", "up to date"}}));

  // Read back exactly: a hand-damaged entry is an error naming the file and line.
  Write("plinth.lock", "schema: plinth.lock/v1\nstages:\n  a:\n    cmd: x\n");
  r = pipeline::Run(*project_, pipeline_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            dir_.File("plinth.lock") +
                ":4: stage 'a': key 'fingerprint': missing (expected a string); delete "
                "plinth.lock to rebuild");
}

TEST_F(RunnerTest, MissingInputsRefusedBeforeAnythingRuns) {
  fs::remove(dir_.File("raw.txt"));
  RunOptions o;
  o.out = sink_;
  auto r = pipeline::Run(*project_, pipeline_, o);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), dir_.File("plinth.yaml") +
                                      ":3: stage 'a': dependency raw.txt does not exist and no "
                                      "stage produces it");
  Write("raw.txt", "1\n");
  Write("params.yaml", "train: {}\n");
  r = pipeline::Run(*project_, pipeline_, o);
  EXPECT_EQ(r.status().message(),
            dir_.File("plinth.yaml") + ":7: stage 'b': parameter train.lr is not in params.yaml");
  EXPECT_FALSE(fs::exists(dir_.File("c.txt")));
}

// Metrics files flattened to dotted keys; lists are left out.
TEST_F(RunnerTest, MetricsOfTheWorkingTree) {
  RunAll();
  auto m = ReadMetrics(*project_, pipeline_, "");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].file, "m.json");
  EXPECT_EQ((*m)[0].key, "acc");
  EXPECT_EQ((*m)[0].value, "0.5");
  EXPECT_EQ((*m)[0].number, 0.5);
  EXPECT_EQ((*m)[1].key, "by.x");
  EXPECT_EQ((*m)[1].value, "\"s\"");
  EXPECT_FALSE((*m)[1].number.has_value());
  // Outside a git repository a revision cannot be read: an error, not "no change".
  EXPECT_FALSE(DiffMetrics(*project_, pipeline_, "HEAD").ok());
  EXPECT_FALSE(DiffParams(*project_, pipeline_, "HEAD").ok());
}

// An unknown revision is an error even when no stage has metrics or parameters
// (not "nothing changed since no-such-rev").
TEST_F(RunnerTest, DiffOfAnUnknownRevisionFails) {
  ASSERT_EQ(std::system(("git init -q " + dir_.path() + " && git -C " + dir_.path() +
                         " -c user.email=t@t -c user.name=t commit -q --allow-empty -m x")
                            .c_str()),
            0);
  SetPipeline("stages:\n  a:\n    cmd: x\n");
  auto m = DiffMetrics(*project_, pipeline_, "no-such-rev");
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(), "unknown git revision \"no-such-rev\"");
  auto p = DiffParams(*project_, pipeline_, "no-such-rev");
  EXPECT_EQ(p.status().message(), "unknown git revision \"no-such-rev\"");
  auto head = DiffMetrics(*project_, pipeline_, "HEAD");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_TRUE(head->empty());
}

}  // namespace
}  // namespace plinth::pipeline
