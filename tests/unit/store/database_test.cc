#include "store/database.h"

#include <gtest/gtest.h>

#include <thread>

#include "testutil/testutil.h"

namespace plinth::store {
namespace {

TEST(DatabaseTest, ExecQueryAndBoundParameters) {
  auto db = OpenDatabase("sqlite::memory:");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, x REAL)").ok());
  Value row[] = {std::string("it's; DROP TABLE t"), 2.5};
  ASSERT_TRUE((*db)->Exec("INSERT INTO t (name, x) VALUES (?, ?)", row).ok());
  EXPECT_EQ((*db)->LastInsertId(), 1);
  Value q[] = {int64_t{1}};
  auto rows = (*db)->Query("SELECT id, name, x, NULL FROM t WHERE id = ?", q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Int(0), 1);
  EXPECT_EQ((*rows)[0].Text(1), "it's; DROP TABLE t");
  EXPECT_DOUBLE_EQ((*rows)[0].Double(2), 2.5);
  EXPECT_TRUE((*rows)[0].IsNull(3));
}

TEST(DatabaseTest, ErrorsMapToCodes) {
  auto db = *OpenDatabase("sqlite::memory:");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
  Value k[] = {std::string("a")};
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (?)", k).ok());
  EXPECT_EQ(db->Exec("INSERT INTO t VALUES (?)", k).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->Exec("SELEKT 1").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Exec("INSERT INTO t VALUES (?)").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenDatabase("mysql://x").status().code(), StatusCode::kInvalidArgument);
}

TEST(DatabaseTest, TransactionRollsBackOnError) {
  auto db = *OpenDatabase("sqlite::memory:");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (v INTEGER)").ok());
  Status s = db->Transaction([&]() -> Status {
    PLINTH_RETURN_IF_ERROR(db->Exec("INSERT INTO t VALUES (1)"));
    return Internal("boom");
  });
  EXPECT_EQ(s.message(), "boom");
  EXPECT_TRUE(db->Query("SELECT * FROM t")->empty());
  ASSERT_TRUE(db->Transaction([&] { return db->Exec("INSERT INTO t VALUES (2)"); }).ok());
  EXPECT_EQ(db->Query("SELECT * FROM t")->size(), 1u);
}

TEST(DatabaseTest, MigrationsApplyOnceAcrossConnections) {
  testutil::TempDir dir;
  std::string uri = "sqlite:///" + dir.File("m.db");
  static constexpr Migration kSteps[] = {
      {1, "create", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1)"},
      {2, "add", "ALTER TABLE a ADD COLUMN y TEXT"},
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto db = OpenDatabase(uri);
      if (db.ok() && Migrate(**db, "test", kSteps).ok()) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 4);
  auto db = *OpenDatabase(uri);
  EXPECT_EQ(db->Query("SELECT * FROM a")->size(), 1u);  // the INSERT ran once
  EXPECT_EQ(db->Query("SELECT * FROM schema_migrations WHERE component = 'test'")->size(), 2u);
  static constexpr Migration kBad[] = {{3, "bad", "ALTER TABLE nope ADD COLUMN z"}};
  Status s = Migrate(*db, "test", kBad);
  EXPECT_NE(s.message().find("migration test/3 (bad)"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace plinth::store
