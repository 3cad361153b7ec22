#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "core/json.h"
#include "data/objects.h"
#include "data/workspace.h"
#include "testutil/testutil.h"

namespace plinth::data {
namespace {
namespace fs = std::filesystem;

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  if (fs::exists(path)) {
    fs::remove(path);  // never write through to a linked object
  }
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadText(const std::string& path) { return *core::ReadFile(path); }

TEST(PointerTest, RoundTripAndErrors) {
  testutil::TempDir dir;
  Pointer p{"raw data: v1.csv", std::string(64, 'a'), 10, 1, PointerKind::kFile};
  ASSERT_TRUE(WritePointer(dir.File("x.plinth"), p).ok());
  auto back = ReadPointer(dir.File("x.plinth"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
  EXPECT_EQ(ParsePointer("path: a\nhash: xyz\n", "p").status().message(),
            "p:2: key 'hash': expected 64 lowercase hex digits (SHA-256)");
  EXPECT_EQ(ParsePointer("path: a\nhash: " + std::string(64, 'b') + "\nsize: big\n", "p")
                .status()
                .message(),
            "p:3: key 'size': expected bytes, got \"big\"");
  EXPECT_EQ(ParsePointer("path: a\nhsh: x\n", "p").status().message(),
            "p:2: unknown key 'hsh' (expected path, hash, size, nfiles, kind)");
  EXPECT_EQ(ParsePointer("path: a\n", "p").status().message(), "p: missing key 'hash'");
  EXPECT_EQ(
      ParsePointer("path: ../a\nhash: " + std::string(64, 'b') + "\n", "p").status().message(),
      "p: key 'path': expected a name in the pointer's directory");
}

TEST(ManifestTest, CanonicalAndParsed) {
  std::vector<ManifestEntry> m = {{"a.txt", std::string(64, '1'), 3},
                                  {"sub/b.txt", std::string(64, '2'), 0}};
  std::string bytes = SerializeManifest(m);
  EXPECT_EQ(bytes, SerializeManifest(m));
  auto back = ParseManifest(bytes, "m");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, m);
  EXPECT_EQ(ParseManifest("{}", "m").status().code(), StatusCode::kCorruption);
  // The hand-written serializer is byte-identical to a compact JSON dump.
  std::vector<ManifestEntry> odd = {{"quote\"back\\slash", std::string(64, 'a'), 1},
                                    {"tab\tnl\nctl\x01\x1f", std::string(64, 'b'), 2},
                                    {"café ☕/ünï.csv", std::string(64, 'c'), 1234567890123}};
  core::Json arr = core::Json::array();
  for (const auto& e : odd) {
    arr.push_back({{"path", e.path}, {"hash", e.hash}, {"size", e.size}});
  }
  EXPECT_EQ(SerializeManifest(odd), arr.dump());
  EXPECT_EQ(*ParseManifest(SerializeManifest(odd), "m"), odd);
  for (const char* bad : {"../x", "/etc/passwd", "a/../../x", "a//b", "./a"}) {
    std::string text = SerializeManifest({{bad, std::string(64, '1'), 1}});
    EXPECT_EQ(ParseManifest(text, "m").status().code(), StatusCode::kCorruption) << bad;
  }
}

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = Project::Init(dir_.path());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    project_ = std::make_unique<Project>(std::move(*p));
  }
  std::string Abs(const std::string& rel) { return dir_.File(rel); }

  testutil::TempDir dir_;
  std::unique_ptr<Project> project_;
};

TEST_F(WorkspaceTest, InitTwiceAndFindFromBelow) {
  EXPECT_EQ(Project::Init(dir_.path()).status().code(), StatusCode::kAlreadyExists);
  fs::create_directories(Abs("a/b"));
  auto found = Project::Find(Abs("a/b"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->root(), project_->root());
  testutil::TempDir other;
  EXPECT_EQ(Project::Find(other.path()).status().code(), StatusCode::kNotFound);
}

TEST_F(WorkspaceTest, AddStatusCheckoutCycle) {
  WriteText(Abs("data/raw.csv"), "a,b\n1,2\n");
  WriteText(Abs("data/dir/x.txt"), "x");
  WriteText(Abs("data/dir/deep/y.txt"), "y");
  WriteText(Abs("data/dir/empty.txt"), "");
  auto added = Add(*project_, {Abs("data/raw.csv"), Abs("data/dir")});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_EQ(added->added.size(), 2u);
  EXPECT_EQ(added->added[1].pointer.nfiles, 3);
  EXPECT_EQ(ReadText(Abs("data/.gitignore")), "/raw.csv\n/dir\n");
  EXPECT_TRUE(fs::exists(Abs("data/raw.csv.plinth")));
  auto pointers = FindPointerFiles(*project_);
  EXPECT_EQ(*pointers, (std::vector<std::string>{"data/dir.plinth", "data/raw.csv.plinth"}));

  auto st = WorkspaceStatus(*project_);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->files_hashed, 0);  // everything known from the state table
  for (const auto& e : st->entries) {
    EXPECT_EQ(e.state, PathState::kUnchanged) << e.path;
  }

  WriteText(Abs("data/dir/x.txt"), "x2");
  fs::remove(Abs("data/raw.csv"));
  st = WorkspaceStatus(*project_);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->files_hashed, 1);  // only the changed file
  EXPECT_EQ(st->entries[0].state, PathState::kModified);
  EXPECT_EQ(st->entries[0].modified, (std::vector<std::string>{"x.txt"}));
  EXPECT_EQ(st->entries[1].state, PathState::kMissing);

  WriteText(Abs("data/dir/extra.txt"), "extra");
  auto co = Checkout(*project_, {});
  ASSERT_TRUE(co.ok()) << co.status().ToString();
  EXPECT_EQ(ReadText(Abs("data/raw.csv")), "a,b\n1,2\n");
  EXPECT_EQ(ReadText(Abs("data/dir/x.txt")), "x");
  EXPECT_FALSE(fs::exists(Abs("data/dir/extra.txt")));
  EXPECT_EQ(co->files_written, 2);
  EXPECT_EQ(co->files_removed, 1);
}

TEST_F(WorkspaceTest, CheckoutRemovesTempFilesOfAnInterruptedRun) {
  WriteText(Abs("d/a.txt"), "a");
  WriteText(Abs("f.txt"), "f");
  ASSERT_TRUE(Add(*project_, {Abs("d"), Abs("f.txt")}).ok());
  WriteText(Abs("d/.a.txt.plinth-tmp-123"), "half written");
  WriteText(Abs(".f.txt.plinth-tmp-456"), "half written");
  auto st = WorkspaceStatus(*project_);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->entries[0].state, PathState::kUnchanged);  // temps are not data
  ASSERT_TRUE(Checkout(*project_, {}).ok());
  EXPECT_FALSE(fs::exists(Abs("d/.a.txt.plinth-tmp-123")));
  EXPECT_FALSE(fs::exists(Abs(".f.txt.plinth-tmp-456")));
}

TEST_F(WorkspaceTest, DamagedObjectIsReportedNotCheckedOut) {
  WriteText(Abs("f.txt"), "precious");
  auto added = Add(*project_, {Abs("f.txt")});
  ASSERT_TRUE(added.ok());
  ObjectCache cache(project_->config().cache_dir, project_->config().link_order);
  std::string obj = cache.ObjectPath(added->added[0].pointer.hash);
  ::chmod(obj.c_str(), 0644);
  WriteText(obj, "tampered");
  fs::remove(Abs("f.txt"));
  auto co = Checkout(*project_, {Abs("f.txt")});
  EXPECT_EQ(co.status().code(), StatusCode::kCorruption);
  EXPECT_NE(co.status().message().find(obj), std::string::npos);
  EXPECT_FALSE(fs::exists(Abs("f.txt")));
}

TEST_F(WorkspaceTest, BadPathsAreRejected) {
  EXPECT_EQ(Add(*project_, {Abs("nope")}).status().message(),
            Abs("nope") + ": no such file or directory");
  testutil::TempDir outside;
  WriteText(outside.File("o.txt"), "o");
  EXPECT_EQ(Add(*project_, {outside.File("o.txt")}).status().code(), StatusCode::kInvalidArgument);
  fs::create_directories(Abs("d/real"));
  fs::create_directory_symlink(Abs("d/real"), Abs("d/loop"));
  auto r = Add(*project_, {Abs("d")});
  EXPECT_NE(r.status().message().find("a symlink to a directory"), std::string::npos);
  EXPECT_EQ(Add(*project_, {Abs(".plinth/config.yaml")}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(WorkspaceTest, UnicodeNamesAndSymlinkedFiles) {
  WriteText(Abs("données/café ☕.csv"), "1");
  WriteText(Abs("target.txt"), "pointed at");
  fs::create_directories(Abs("withlink"));
  fs::create_symlink(Abs("target.txt"), Abs("withlink/link.txt"));
  auto r = Add(*project_, {Abs("données"), Abs("withlink")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  fs::remove_all(Abs("données"));
  fs::remove_all(Abs("withlink"));
  ASSERT_TRUE(Checkout(*project_, {}).ok());
  EXPECT_EQ(ReadText(Abs("données/café ☕.csv")), "1");
  EXPECT_FALSE(fs::is_symlink(Abs("withlink/link.txt")));  // versioned as its content
  EXPECT_EQ(ReadText(Abs("withlink/link.txt")), "pointed at");
}

}  // namespace
}  // namespace plinth::data
