#include "core/stale.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/file.h"
#include "testutil/testutil.h"

namespace plinth::core {
namespace {

namespace fs = std::filesystem;

TEST(StaleTest, RemovesOnlyTemporariesWhoseWriterIsGone) {
  testutil::TempDir dir;
  // A writer that was killed: its temporaries exist, unlocked.
  dir.Write(".out.csv.tmp.1.2", "partial");
  fs::create_directories(dir.File("model.tmp-dead/sub"));
  // A writer that still runs: holds its lock.
  std::string live = dir.Write(".out.csv.tmp.3.4", "in progress");
  UniqueFd held(::open(live.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_EQ(::flock(held.get(), LOCK_EX), 0);
  Result<LockedTempDir> live_dir = LockedTempDir::Create(dir.File("model.tmp-live"));
  ASSERT_TRUE(live_dir.ok());
  dir.Write("out.csv", "previous output");

  EXPECT_EQ(RemoveStaleAtomicWrites(dir.File("out.csv")).value(), 1);
  EXPECT_EQ(RemoveStaleTemporaries(dir.path(), "model.tmp-").value(), 1);
  EXPECT_FALSE(fs::exists(dir.File(".out.csv.tmp.1.2")));
  EXPECT_FALSE(fs::exists(dir.File("model.tmp-dead")));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(dir.File("model.tmp-live")));
  EXPECT_EQ(ReadFile(dir.File("out.csv")).value(), "previous output");
}

TEST(StaleTest, AnOpenAtomicWriterKeepsItsTemporary) {
  testutil::TempDir dir;
  std::string path = dir.File("out.csv");
  Result<AtomicFileWriter> w = AtomicFileWriter::Open(path);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Append("rows").ok());
  EXPECT_EQ(RemoveStaleAtomicWrites(path).value(), 0);
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(ReadFile(path).value(), "rows");
}

TEST(StaleTest, TellsALiveProcessFromAGoneOne) {
  const std::string me = ProcessToken();
  EXPECT_EQ(ProcessLiveness(me), Liveness::kAlive);
  pid_t child = ::fork();
  if (child == 0) {
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  std::string host = me.substr(0, me.find(':'));
  std::string boot = me.substr(me.rfind(':') + 1);
  EXPECT_EQ(ProcessLiveness(host + ":" + std::to_string(child) + ":1:" + boot), Liveness::kGone);
  // This pid, started at another time: a reused pid.
  EXPECT_EQ(ProcessLiveness(host + ":" + std::to_string(::getpid()) + ":1:" + boot),
            Liveness::kGone);
  EXPECT_EQ(ProcessLiveness("other-host:1:1:" + boot), Liveness::kUnknown);
  EXPECT_EQ(ProcessLiveness("garbage"), Liveness::kUnknown);
}

}  // namespace
}  // namespace plinth::core
