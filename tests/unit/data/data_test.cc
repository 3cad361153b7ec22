#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "core/json.h"
#include "core/unique_fd.h"
#include "data/objects.h"
#include "data/sync.h"
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

TEST(ManifestTest, WrongTypedMemberNamesEntryKeyAndType) {
  const std::string hash(64, '1');
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {R"([{"path": "a", "hash": ")" + hash + R"(", "size": "3"}])",
            "m: entry 0: key 'size': expected an integer, got \"3\""},
           {R"([{"path": 7, "hash": ")" + hash + R"(", "size": 3}])",
            "m: entry 0: key 'path': expected a string, got 7"},
           {R"([{"path": "a", "size": 3}])", "m: entry 0: key 'hash': missing (expected a string)"},
           {R"([{"path": "a", "hash": ")" + hash + R"(", "size": 1e300}])",
            "m: entry 0: key 'size': expected an integer, got 1e+300"},
           {"[5]", "m: entry 0: expected a JSON object, got 5"}}) {
    auto r = ParseManifest(c.text, "m");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << c.text;
    EXPECT_EQ(r.status().message(), c.message) << c.text;
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
  // x.txt's edit and extra.txt are in no cached version: refused, nothing changed.
  auto refused = Checkout(*project_, {});
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "checkout would overwrite or delete 2 file(s) whose content is in no cached version: "
            "data/dir/extra.txt, data/dir/x.txt; save them with plinth add, or pass --force to "
            "discard them");
  EXPECT_EQ(ReadText(Abs("data/dir/x.txt")), "x2");
  EXPECT_FALSE(fs::exists(Abs("data/raw.csv")));
  auto co = Checkout(*project_, {}, {}, /*force=*/true);
  ASSERT_TRUE(co.ok()) << co.status().ToString();
  EXPECT_EQ(ReadText(Abs("data/raw.csv")), "a,b\n1,2\n");
  EXPECT_EQ(ReadText(Abs("data/dir/x.txt")), "x");
  EXPECT_FALSE(fs::exists(Abs("data/dir/extra.txt")));
  EXPECT_EQ(co->files_written, 2);
  EXPECT_EQ(co->files_removed, 1);
}

TEST_F(WorkspaceTest, CheckoutKeepsWhatNoCachedVersionHolds) {
  WriteText(Abs("f.txt"), "v1");
  WriteText(Abs("d/a.txt"), "a1");
  ASSERT_TRUE(Add(*project_, {Abs("f.txt"), Abs("d")}).ok());
  std::string v1_file = ReadText(Abs("f.txt.plinth"));
  std::string v1_dir = ReadText(Abs("d.plinth"));
  WriteText(Abs("f.txt"), "v2");
  WriteText(Abs("d/a.txt"), "a2");
  ASSERT_TRUE(Add(*project_, {Abs("f.txt"), Abs("d")}).ok());
  // Back to v1 with v2 in the workspace: v2 is cached, so nothing is lost.
  WriteText(Abs("f.txt.plinth"), v1_file);
  WriteText(Abs("d.plinth"), v1_dir);
  auto co = Checkout(*project_, {});
  ASSERT_TRUE(co.ok()) << co.status().ToString();
  EXPECT_EQ(ReadText(Abs("f.txt")), "v1");
  EXPECT_EQ(ReadText(Abs("d/a.txt")), "a1");
  // A new file in the tracked directory that equals a cached object is no loss either.
  WriteText(Abs("d/copy-of-v2.txt"), "v2");
  EXPECT_TRUE(Checkout(*project_, {}).ok());
  EXPECT_FALSE(fs::exists(Abs("d/copy-of-v2.txt")));
  // An unsaved edit is refused, by path too; a file where a directory belongs as well.
  WriteText(Abs("f.txt"), "unsaved");
  auto one = Checkout(*project_, {Abs("f.txt")});
  EXPECT_EQ(one.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(one.status().message().find(": f.txt;"), std::string::npos) << one.status().message();
  fs::remove_all(Abs("d"));
  WriteText(Abs("d"), "a file where the directory was");
  auto dir = Checkout(*project_, {Abs("d")});
  EXPECT_NE(dir.status().message().find(": d;"), std::string::npos) << dir.status().message();
  EXPECT_EQ(ReadText(Abs("d")), "a file where the directory was");
  EXPECT_EQ(ReadText(Abs("f.txt")), "unsaved");
  ASSERT_TRUE(Checkout(*project_, {}, {}, /*force=*/true).ok());
  EXPECT_EQ(ReadText(Abs("f.txt")), "v1");
  EXPECT_EQ(ReadText(Abs("d/a.txt")), "a1");
}

TEST_F(WorkspaceTest, DefaultNeverSharesAnInodeWithTheCache) {
  EXPECT_FALSE(SharesInodes(project_->config().link_order));
  WriteText(Abs("f.txt"), "precious");
  auto added = Add(*project_, {Abs("f.txt")});
  ASSERT_TRUE(added.ok());
  ObjectCache cache(project_->config().cache_dir, project_->config().link_order);
  std::string obj = cache.ObjectPath(added->added[0].pointer.hash);
  struct stat ws {
  }, os{};
  ASSERT_EQ(::stat(Abs("f.txt").c_str(), &ws), 0);
  ASSERT_EQ(::stat(obj.c_str(), &os), 0);
  EXPECT_NE(ws.st_ino, os.st_ino);
  EXPECT_EQ(ws.st_nlink, 1u);
  std::ofstream(Abs("f.txt"), std::ios::app) << " and appended in place";
  EXPECT_EQ(ReadText(obj), "precious");
}

// Copies in the cache are written without an fsync each; add syncs the
// filesystem once before a pointer names them (it did not: after a power loss
// a pointer could name an object whose bytes never reached the disk).
TEST_F(WorkspaceTest, AddSyncsNewObjectsBeforeWritingPointers) {
  WriteText(Abs("f.txt"), "v1");
  std::filesystem::create_directories(Abs("d"));
  WriteText(Abs("d/a.txt"), "a");
  int64_t before = SyncFilesystemCalls();
  ASSERT_TRUE(Add(*project_, {Abs("f.txt")}).ok());
  EXPECT_EQ(SyncFilesystemCalls(), before + 1);
  ASSERT_TRUE(Add(*project_, {Abs("d")}).ok());
  EXPECT_EQ(SyncFilesystemCalls(), before + 2);
  // Nothing new to store: no sync.
  ASSERT_TRUE(Add(*project_, {Abs("f.txt"), Abs("d")}).ok());
  EXPECT_EQ(SyncFilesystemCalls(), before + 2);
}

TEST_F(WorkspaceTest, LegacyInitDefaultIsReadAsTheSafeDefault) {
  ASSERT_TRUE(core::AtomicWriteFile(Abs(".plinth/config.yaml"),
                                    "cache:\n  link: [reflink, hardlink, copy]\n")
                  .ok());
  auto p = Project::Find(dir_.path());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->config().link_order, (std::vector<LinkKind>{LinkKind::kReflink, LinkKind::kCopy}));
  ASSERT_TRUE(
      core::AtomicWriteFile(Abs(".plinth/config.yaml"), "cache:\n  link: [hardlink, copy]\n").ok());
  EXPECT_TRUE(SharesInodes(Project::Find(dir_.path())->config().link_order));
}

TEST_F(WorkspaceTest, OldHardlinksBecomePrivateCopiesWithoutRehashing) {
  // Made under the former default: workspace files are their objects' inodes.
  project_->mutable_config().link_order = {LinkKind::kHardlink, LinkKind::kCopy};
  WriteText(Abs("f.txt"), "file");
  WriteText(Abs("g.txt"), "other");
  WriteText(Abs("d/a.txt"), "in a directory");
  ASSERT_TRUE(Add(*project_, {Abs("f.txt"), Abs("g.txt"), Abs("d")}).ok());
  auto links = [&](const std::string& rel) {
    struct stat st {};
    ::stat(Abs(rel).c_str(), &st);
    return st.st_nlink;
  };
  ASSERT_EQ(links("f.txt"), 2u);
  ASSERT_EQ(links("d/a.txt"), 2u);
  project_->mutable_config().link_order = Config().link_order;
  // add: no byte hashed again, the file made private.
  auto added = Add(*project_, {Abs("f.txt")});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->files_hashed, 0);
  EXPECT_EQ(links("f.txt"), 1u);
  // checkout: the same for a file and a file in a directory.
  auto co = Checkout(*project_, {});
  ASSERT_TRUE(co.ok()) << co.status().ToString();
  EXPECT_EQ(co->files_written, 2);
  EXPECT_EQ(links("g.txt"), 1u);
  EXPECT_EQ(links("d/a.txt"), 1u);
  std::ofstream(Abs("g.txt"), std::ios::app) << " appended in place";
  std::ofstream(Abs("d/a.txt"), std::ios::app) << " appended in place";
  ASSERT_TRUE(Checkout(*project_, {}, {}, /*force=*/true).ok());
  EXPECT_EQ(ReadText(Abs("g.txt")), "other");
  EXPECT_EQ(ReadText(Abs("d/a.txt")), "in a directory");
  auto st = WorkspaceStatus(*project_);
  ASSERT_TRUE(st.ok());
  for (const auto& e : st->entries) {
    EXPECT_EQ(e.state, PathState::kUnchanged) << e.path;
  }
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

TEST_F(WorkspaceTest, GcRemovesManifestTemporariesOfKilledWritersOnly) {
  WriteText(Abs("data/dir/x.txt"), "x");
  auto added = Add(*project_, {Abs("data/dir")});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ObjectCache cache(project_->config().cache_dir, project_->config().link_order);
  const std::string manifest = cache.ObjectPath(added->added[0].pointer.hash);
  const fs::path dir = fs::path(manifest).parent_path();
  const std::string name = fs::path(manifest).filename().string();
  // What a killed AtomicWriteFile of the manifest leaves, and one a live writer holds.
  const std::string stale = (dir / ("." + name + ".tmp.999999.1")).string();
  const std::string live = (dir / ("." + name + ".tmp.1.2")).string();
  WriteText(stale, "[");
  WriteText(live, "[");
  core::UniqueFd held(::open(live.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(held.valid());
  ASSERT_EQ(::flock(held.get(), LOCK_EX | LOCK_NB), 0);

  auto dry = Gc(*project_, false, true);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_TRUE(fs::exists(stale));  // a dry run removes nothing
  auto gc = Gc(*project_, false, false);
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->temporaries_removed, 1);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(manifest));
}

}  // namespace

}  // namespace plinth::data
