#include "core/confined_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/file.h"
#include "testutil/testutil.h"

namespace plinth::core {
namespace {

namespace fs = std::filesystem;

// A root with a link to a directory outside it and one to a file outside it.
struct Escape {
  testutil::TempDir dir;
  std::string root = dir.File("root");
  std::string outside = dir.File("outside");
  ConfinedDir confined{root};
  Escape() {
    fs::create_directories(root + "/inner");
    fs::create_directories(outside);
    dir.Write("outside/secret.txt", "secret");
    fs::create_directory_symlink(outside, root + "/out");
    fs::create_symlink(outside + "/secret.txt", root + "/secret-link");
    fs::create_symlink("../outside", root + "/relative-out");
  }
  std::string Outside() const { return ReadFile(outside + "/secret.txt").value(); }
};

TEST(ConfinedDirTest, ReadsWritesListsAndRemovesInsideTheRoot) {
  Escape e;
  ASSERT_TRUE(e.confined.WriteFile("inner/deep/a.txt", "hello").ok());
  EXPECT_EQ(ReadFile(e.root + "/inner/deep/a.txt").value(), "hello");
  Result<UniqueFd> fd = e.confined.OpenFile("inner/deep/a.txt");
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  char buf[8] = {};
  EXPECT_EQ(::read(fd->get(), buf, sizeof(buf)), 5);
  Result<std::vector<ConfinedEntry>> list = e.confined.List("inner/deep");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "a.txt");
  EXPECT_EQ((*list)[0].size, 5);
  // A link that stays inside the root is followed.
  fs::create_directory_symlink("inner", e.root + "/alias");
  EXPECT_TRUE(e.confined.OpenFile("alias/deep/a.txt").ok());
  EXPECT_TRUE(e.confined.Remove("inner/deep").ok());
  EXPECT_FALSE(fs::exists(e.root + "/inner/deep"));
}

TEST(ConfinedDirTest, RefusesEveryPathThroughALinkOutOfTheRoot) {
  Escape e;
  for (const char* rel : {"out/secret.txt", "secret-link", "relative-out/secret.txt"}) {
    Result<UniqueFd> fd = e.confined.OpenFile(rel);
    EXPECT_EQ(fd.status().code(), StatusCode::kInvalidArgument) << rel;
  }
  EXPECT_EQ(e.confined.WriteFile("out/secret.txt", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e.confined.WriteFile("out/new/file.txt", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e.confined.List("out").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e.confined.Remove("out/secret.txt").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e.confined.OpenFile("inner/../../outside/secret.txt").status().code(),
            StatusCode::kInvalidArgument);
  // The root's listing leaves the escaping links out.
  Result<std::vector<ConfinedEntry>> list = e.confined.List("");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "inner");
  // Removing a link removes the link, never what it points at.
  EXPECT_TRUE(e.confined.Remove("secret-link").ok());
  EXPECT_TRUE(e.confined.Remove("out").ok());
  EXPECT_FALSE(fs::exists(fs::symlink_status(e.root + "/out")));
  EXPECT_EQ(e.Outside(), "secret");
  EXPECT_FALSE(fs::exists(e.outside + "/new"));
}

TEST(ConfinedDirTest, RefusesSpecialFilesWithoutOpeningThem) {
  Escape e;
  ASSERT_EQ(::mkfifo((e.root + "/pipe").c_str(), 0644), 0);
  // Opening a FIFO for reading would block until a writer comes: this must not.
  EXPECT_EQ(e.confined.OpenFile("pipe").status().code(), StatusCode::kInvalidArgument);
  Result<std::vector<ConfinedEntry>> list = e.confined.List("");
  ASSERT_TRUE(list.ok());
  for (const ConfinedEntry& entry : *list) {
    EXPECT_NE(entry.name, "pipe");
  }
  EXPECT_EQ(e.confined.OpenFile("inner").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(e.confined.OpenFile("missing").status().code(), StatusCode::kNotFound);
}

TEST(PathComponentTest, TakesOrdinaryNamesAndRefusesPathsAndControls) {
  for (const char* ok : {"churn", "Churn model v2", "a.b-c_d", "..x", "x..", "café", "50%"}) {
    EXPECT_TRUE(CheckPathComponent(ok, "name").ok()) << ok;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "../x", "a/b", "a\\b", "x\ny",
                                std::string("a\0b", 3), std::string(257, 'a'), "tab\there"}) {
    Status s = CheckPathComponent(bad, "model name");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("model name"), std::string::npos) << s.message();
  }
  EXPECT_TRUE(CheckPathComponent(std::string(256, 'a'), "name").ok());
}

}  // namespace
}  // namespace plinth::core
