// The store's conformance suite: every test runs on each engine of
// testutil::TestEngines() (SQLite always, PostgreSQL under with_postgres.sh).
#include "store/database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <thread>

#include "store/checkpointer.h"
#include "store/postgres_database.h"
#include "testutil/test_databases.h"
#include "testutil/testutil.h"

namespace plinth::store {
namespace {

class DatabaseTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string FreshUri() { return testutil::FreshDatabaseUri(GetParam(), dir_.path()); }
  std::unique_ptr<Database> Open() {
    auto db = OpenDatabase(FreshUri());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }
  testutil::TempDir dir_;
};

TEST_P(DatabaseTest, ExecQueryAndBoundParameters) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      db->Exec("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE PRECISION)").ok());
  Value row[] = {int64_t{1}, std::string("it's; DROP TABLE t -- ?"), 2.5};
  ASSERT_TRUE(db->Exec("INSERT INTO t (id, name, x) VALUES (?, ?, ?)", row).ok());
  Value q[] = {int64_t{1}};
  auto rows = db->Query("SELECT id, name, x, NULL, 'a?b' FROM t WHERE id = ?", q);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Int(0), 1);
  EXPECT_TRUE(std::holds_alternative<int64_t>((*rows)[0].value(0)));
  EXPECT_EQ((*rows)[0].Text(1), "it's; DROP TABLE t -- ?");
  EXPECT_DOUBLE_EQ((*rows)[0].Double(2), 2.5);
  EXPECT_TRUE(std::holds_alternative<double>((*rows)[0].value(2)));
  EXPECT_TRUE((*rows)[0].IsNull(3));
  EXPECT_EQ((*rows)[0].Text(4), "a?b");
}

TEST_P(DatabaseTest, ValuesRoundTripExactly) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      db->Exec("CREATE TABLE v (k BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, s TEXT)").ok());
  const double kValues[] = {0.1, -1e-300, 1.7976931348623157e308, 3.141592653589793,
                            std::numeric_limits<double>::infinity()};
  int64_t k = 0;
  for (double d : kValues) {
    Value row[] = {k++, std::numeric_limits<int64_t>::min() + k, d, std::string("é\t\"x\"")};
    ASSERT_TRUE(db->Exec("INSERT INTO v VALUES (?, ?, ?, ?)", row).ok());
  }
  auto rows = db->Query("SELECT i, d, s FROM v ORDER BY k");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), std::size(kValues));
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ((*rows)[i].Int(0), std::numeric_limits<int64_t>::min() + static_cast<int64_t>(i) + 1);
    EXPECT_EQ((*rows)[i].Double(1), kValues[i]);
    EXPECT_EQ((*rows)[i].Text(2), "é\t\"x\"");
  }
}

// A NUL inside a text value is kept (SQLite) or refused (PostgreSQL), never cut: libpq
// reads C strings, so "alice\0x" matched the user "alice" before the check.
TEST_P(DatabaseTest, TextWithNulIsKeptWholeOrRefused) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE u (name TEXT PRIMARY KEY)").ok());
  Value alice[] = {std::string("alice")};
  ASSERT_TRUE(db->Exec("INSERT INTO u VALUES (?)", alice).ok());
  Value nul[] = {std::string("alice\0x", 7)};
  auto rows = db->Query("SELECT name FROM u WHERE name = ?", nul);
  if (GetParam() == "postgres") {
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(rows.status().message().find("NUL byte"), std::string::npos);
  } else {
    ASSERT_TRUE(rows.ok());
    EXPECT_TRUE(rows->empty());
  }
}

TEST_P(DatabaseTest, UpsertAndReturningAreOneDialect) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE c (name TEXT PRIMARY KEY, n BIGINT NOT NULL)").ok());
  for (int i = 0; i < 3; ++i) {
    Value args[] = {std::string("runs")};
    auto r = db->Query(
        "INSERT INTO c (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = c.n + 1 "
        "RETURNING n",
        args);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].Int(0), i + 1);
  }
}

TEST_P(DatabaseTest, ErrorsMapToCodes) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
  Value k[] = {std::string("a")};
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (?)", k).ok());
  EXPECT_EQ(db->Exec("INSERT INTO t VALUES (?)", k).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->Exec("SELEKT 1").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Exec("SELECT * FROM missing_table").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Exec("INSERT INTO t VALUES (?)").code(), StatusCode::kInvalidArgument);
  // The connection is still usable after errors.
  EXPECT_EQ(db->Query("SELECT k FROM t")->size(), 1u);
}

TEST_P(DatabaseTest, TransactionRollsBackOnError) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (v BIGINT)").ok());
  Status s = db->Transaction([&]() -> Status {
    PLINTH_RETURN_IF_ERROR(db->Exec("INSERT INTO t VALUES (1)"));
    return Internal("boom");
  });
  EXPECT_EQ(s.message(), "boom");
  EXPECT_TRUE(db->Query("SELECT * FROM t")->empty());
  // A failing statement inside the transaction rolls back the earlier ones too.
  s = db->Transaction([&]() -> Status {
    PLINTH_RETURN_IF_ERROR(db->Exec("INSERT INTO t VALUES (1)"));
    return db->Exec("INSERT INTO nope VALUES (1)");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(db->Query("SELECT * FROM t")->empty());
  ASSERT_TRUE(db->Transaction([&] { return db->Exec("INSERT INTO t VALUES (2)"); }).ok());
  EXPECT_EQ(db->Query("SELECT * FROM t")->size(), 1u);
}

TEST_P(DatabaseTest, NestedTransactionsAreSavepoints) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (v BIGINT)").ok());
  Status outer = db->Transaction([&]() -> Status {
    PLINTH_RETURN_IF_ERROR(db->Exec("INSERT INTO t VALUES (1)"));
    // A failing inner transaction undoes its own writes only, and the outer
    // one goes on (on PostgreSQL too, where an error aborts the transaction).
    Status inner = db->Transaction([&]() -> Status {
      PLINTH_RETURN_IF_ERROR(db->Exec("INSERT INTO t VALUES (2)"));
      return db->Exec("INSERT INTO nope VALUES (1)");
    });
    EXPECT_FALSE(inner.ok());
    PLINTH_RETURN_IF_ERROR(db->Transaction([&] { return db->Exec("INSERT INTO t VALUES (3)"); }));
    return db->Exec("INSERT INTO t VALUES (4)");
  });
  ASSERT_TRUE(outer.ok()) << outer.ToString();
  auto rows = db->Query("SELECT v FROM t ORDER BY v");
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].Int(0), 1);
  EXPECT_EQ((*rows)[1].Int(0), 3);
  EXPECT_EQ((*rows)[2].Int(0), 4);
  // An inner transaction that succeeded is undone with the outer one.
  outer = db->Transaction([&]() -> Status {
    PLINTH_RETURN_IF_ERROR(db->Transaction([&] { return db->Exec("INSERT INTO t VALUES (5)"); }));
    return Internal("boom");
  });
  EXPECT_EQ(outer.message(), "boom");
  EXPECT_EQ(db->Query("SELECT v FROM t")->size(), 3u);
  // All or nothing: a failing inner transaction rolls everything back, even
  // when the body goes on and returns OK.
  outer = db->Transaction(
      [&]() -> Status {
        PLINTH_RETURN_IF_ERROR(db->Exec("INSERT INTO t VALUES (6)"));
        (void)db->Transaction([&] { return Internal("inner"); });
        return Status::Ok();
      },
      Database::Nesting::kAllOrNothing);
  EXPECT_FALSE(outer.ok());
  EXPECT_EQ(db->Query("SELECT v FROM t")->size(), 3u);
  ASSERT_TRUE(
      db->Transaction(
            [&] { return db->Transaction([&] { return db->Exec("INSERT INTO t VALUES (7)"); }); },
            Database::Nesting::kAllOrNothing)
          .ok());
  EXPECT_EQ(db->Query("SELECT v FROM t")->size(), 4u);
}

TEST_P(DatabaseTest, MigrationsApplyOnceAcrossConnections) {
  std::string uri = FreshUri();
  static constexpr Migration kSteps[] = {
      {1, "create", "CREATE TABLE a (x BIGINT); INSERT INTO a VALUES (1)"},
      {2, "add", "ALTER TABLE a ADD COLUMN y TEXT"},
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto db = OpenDatabase(uri);
      Status s = db.ok() ? Migrate(**db, "test", kSteps) : db.status();
      if (s.ok()) {
        ++ok;
      } else {
        errors[static_cast<size_t>(i)] = s.ToString();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 4) << errors[0] << " | " << errors[1] << " | " << errors[2] << " | "
                          << errors[3];
  auto db = *OpenDatabase(uri);
  EXPECT_EQ(db->Query("SELECT * FROM a")->size(), 1u);  // the INSERT ran once
  EXPECT_EQ(db->Query("SELECT * FROM schema_migrations WHERE component = 'test'")->size(), 2u);
  static constexpr Migration kBad[] = {{3, "bad", "ALTER TABLE nope ADD COLUMN z TEXT"}};
  Status s = Migrate(*db, "test", kBad);
  EXPECT_NE(s.message().find("migration test/3 (bad)"), std::string::npos) << s.message();
  EXPECT_EQ(db->Query("SELECT * FROM schema_migrations WHERE component = 'test'")->size(), 2u);
}

TEST_P(DatabaseTest, ReadSettingsPerEngine) {
  const std::string uri = FreshUri();
  auto db = OpenDatabase(uri);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  if ((*db)->engine() == Engine::kSqlite) {
    EXPECT_EQ((*(*db)->Query("PRAGMA mmap_size"))[0].Int(0), 268435456);
    EXPECT_EQ((*(*db)->Query("PRAGMA cache_size"))[0].Int(0), -16384);
    return;
  }
  // The SSD cost unless the server or the URI chose one.
  EXPECT_EQ((*(*db)->Query("SHOW random_page_cost"))[0].Text(0), "1.1");
  auto chosen = OpenDatabase(uri + "%20-crandom_page_cost%3D3");
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ((*(*chosen)->Query("SHOW random_page_cost"))[0].Text(0), "3");
}

INSTANTIATE_TEST_SUITE_P(Engines, DatabaseTest, ::testing::ValuesIn(testutil::TestEngines()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(CheckpointerTest, TheWriterNeverCheckpointsAndTheLogStillRestarts) {
  testutil::TempDir dir;
  const std::string path = dir.File("c.db");
  auto writer = OpenDatabase("sqlite:///" + path);
  ASSERT_TRUE(writer.ok());
  Database& db = **writer;
  ASSERT_TRUE(db.Exec("CREATE TABLE t (k BIGINT PRIMARY KEY, v TEXT)").ok());
  auto checkpointer = Checkpointer::Start("sqlite:///" + path, 5);
  ASSERT_TRUE(checkpointer.ok());
  ASSERT_NE(*checkpointer, nullptr);
  ASSERT_TRUE(Checkpointer::DisableAutoCheckpoint(db).ok());
  // Write well past the restart threshold (64 MiB of log), checkpointing
  // between transactions when asked, as the server's writer does.
  const std::string value(3000, 'x');
  bool asked = false;
  for (int64_t k = 0; k < 40000; ++k) {
    Value row[] = {k, value};
    ASSERT_TRUE(db.Transaction([&] { return db.Exec("INSERT INTO t VALUES (?, ?)", row); }).ok());
    if ((*checkpointer)->WriterShouldCheckpoint()) {
      asked = true;
      ASSERT_TRUE((*checkpointer)->CheckpointWriter(db).ok());
    }
  }
  EXPECT_TRUE(asked);
  // The log was restarted rather than grown: each transaction logs about 17 KB
  // (4 pages), 650 MiB in all. How far past 64 MiB it gets before a restart
  // depends on how quickly the background checkpoints keep up: 75-120 MiB
  // here, more when other tests load the machine.
  EXPECT_LT(std::filesystem::file_size(path + "-wal"), 250u << 20);
  EXPECT_EQ((*db.Query("SELECT COUNT(*) FROM t"))[0].Int(0), 40000);
}

TEST(StoreUriTest, UnknownSchemesAndUnreachableServers) {
  auto s = OpenDatabase("mysql://x");
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("postgresql://"), std::string::npos);
  // Port 1 on loopback refuses at once; the password never appears in the message.
  auto pg = OpenDatabase("postgresql://u:hunter2@127.0.0.1:1/db");
  EXPECT_EQ(pg.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pg.status().message().find("hunter2"), std::string::npos) << pg.status().message();
  EXPECT_NE(pg.status().message().find("postgresql://u:***@127.0.0.1:1/db"), std::string::npos);
}

TEST(StoreUriTest, PostgresPlaceholdersSkipQuotesAndComments) {
  EXPECT_EQ(PostgresPlaceholders("SELECT ? , '?', \"a?\" FROM t WHERE x = ? -- ?\nAND y = ?"),
            "SELECT $1 , '?', \"a?\" FROM t WHERE x = $2 -- ?\nAND y = $3");
  EXPECT_EQ(PostgresPlaceholders("VALUES ('it''s ?', ?)"), "VALUES ('it''s ?', $1)");
  EXPECT_EQ(RedactUri("postgresql://user@host/db"), "postgresql://user@host/db");
  EXPECT_EQ(RedactUri("postgres://a:b@h:5/d"), "postgres://a:***@h:5/d");
}

}  // namespace
}  // namespace plinth::store
