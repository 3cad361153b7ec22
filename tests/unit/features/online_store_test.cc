// The online stores' conformance suite (every store the same), then materialization and
// lookups in Feast's shape over the embedded store.
#include "features/online_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <thread>

#include "core/json.h"
#include "features/feature_server.h"
#include "features/online.h"
#include "features/registry.h"
#include "features/serving_features.h"
#include "table/csv_writer.h"
#include "table/parquet.h"
#include "testutil/testutil.h"

namespace plinth::features {
namespace {

using table::Column;
using table::DataType;
using table::Schema;
using table::Table;

// The stores under test: the embedded one always, Redis when PLINTH_TEST_REDIS_URI names a
// server (tests/scripts/with_redis.sh starts one; CMake registers the suite under it too).
std::vector<std::string> Stores() {
  std::vector<std::string> out = {"sqlite"};
  if (const char* r = std::getenv("PLINTH_TEST_REDIS_URI"); r != nullptr && *r != '\0') {
    out.push_back("redis");
  }
  return out;
}

class OnlineStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<OnlineStore> Open() {
    Result<std::unique_ptr<OnlineStore>> s = OpenOnlineStore(Uri());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::string Uri() const {
    return GetParam() == "redis" ? std::string(std::getenv("PLINTH_TEST_REDIS_URI"))
                                 : "sqlite://" + dir_.File("sub/online.db");
  }
  // `name` made unique to this test (one Redis serves every test of a run).
  std::string T(const std::string& name) const { return dir_.path() + "/" + name; }
  testutil::TempDir dir_;
};

OnlineRow Row(const std::string& key, double v, int64_t event, int64_t created = kNoCreated) {
  Column c(DataType::kFloat64);
  c.AppendDouble(v);
  return {key, EncodeValues({&c}, 0, event, created), event, created};
}

double ValueOf(const std::optional<std::string>& stored) {
  Column c(DataType::kFloat64);
  int64_t event = 0;
  EXPECT_TRUE(DecodeValues(stored, {&c}, &event, "t").ok());
  return c.IsNull(0) ? -1 : c.doubles()[0];
}

TEST_P(OnlineStoreTest, KeepsTheNewestRowPerKeyAcrossTablesAndRestarts) {
  {
    std::unique_ptr<OnlineStore> s = Open();
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->Write(T("g@1"), {Row("a", 1, 100), Row("b", 2, 100)}).ok());
    ASSERT_TRUE(s->Write(T("h@1"), {Row("a", 9, 100)}).ok());
    // Older event: kept out; same event, later created: in; same event, no created: in (>=).
    ASSERT_TRUE(s->Write(T("g@1"), {Row("a", 5, 50), Row("b", 3, 100, 7)}).ok());
    ASSERT_TRUE(s->Write(T("g@1"), {Row("b", 4, 100, 6)}).ok());  // created earlier: out
    // Negative times (before 1970) order below positive ones.
    ASSERT_TRUE(s->Write(T("g@1"), {Row("n", 1, 5), Row("n", 2, -5)}).ok());
    ASSERT_TRUE(s->SetWatermark(T("g@1"), 12345).ok());
  }
  std::unique_ptr<OnlineStore> s = Open();  // the same store, again
  std::vector<std::optional<std::string>> got;
  const std::string g1 = T("g@1");
  const std::string h1 = T("h@1");
  const std::string g2 = T("g@2");
  ASSERT_TRUE(
      s->Get({{g1, "a"}, {g1, "b"}, {h1, "a"}, {g1, "zz"}, {g2, "a"}, {g1, "n"}}, &got).ok());
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(ValueOf(got[0]), 1);
  EXPECT_EQ(ValueOf(got[1]), 3);
  EXPECT_EQ(ValueOf(got[2]), 9);
  EXPECT_FALSE(got[3].has_value());
  EXPECT_FALSE(got[4].has_value());
  EXPECT_EQ(ValueOf(got[5]), 1);
  EXPECT_EQ(**s->Watermark(g1), 12345);
  EXPECT_FALSE(s->Watermark(h1)->has_value());
  std::vector<std::optional<std::string>> none;
  EXPECT_TRUE(s->Get({}, &none).ok());
  EXPECT_TRUE(none.empty());
}

// Of rows of one key with equal event and created times in one write, the one given last wins
// (as it would written one by one), however many there are and however keys interleave.
TEST_P(OnlineStoreTest, OfEqualRowsInOneWriteTheLastGivenWins) {
  std::unique_ptr<OnlineStore> s = Open();
  ASSERT_NE(s, nullptr);
  std::vector<OnlineRow> rows;
  for (int i = 0; i < 3000; ++i) {
    rows.push_back(Row(std::string(1, static_cast<char>('a' + i % 3)), i, 100));
  }
  ASSERT_TRUE(s->Write(T("g@1"), rows).ok());
  std::vector<std::optional<std::string>> found;
  const std::string t = T("g@1");
  ASSERT_TRUE(s->Get({{t, "a"}, {t, "b"}, {t, "c"}}, &found).ok());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(ValueOf(found[0]), 2997);
  EXPECT_EQ(ValueOf(found[1]), 2998);
  EXPECT_EQ(ValueOf(found[2]), 2999);
}
// Writes of several chunks (Redis: 1,000 rows each) mixing stored keys, older and newer,
// with new ones in one chunk: each key ends with its newest row.
TEST_P(OnlineStoreTest, MixesStoredAndNewKeysAcrossChunks) {
  std::unique_ptr<OnlineStore> s = Open();
  ASSERT_NE(s, nullptr);
  const std::string g = T("big@1");
  const auto key = [](int i) { return "k" + std::to_string(i); };
  std::vector<OnlineRow> first;
  for (int i = 0; i < 2500; ++i) {
    first.push_back(Row(key(i), 1, 10));
  }
  ASSERT_TRUE(s->Write(g, first).ok());
  std::vector<OnlineRow> second;
  for (int i = 0; i < 3000; ++i) {
    // Below 1,000: older (kept out); 1,000 to 2,499: newer; 2,500 and up: new keys, some of
    // them in the same chunk as stored ones.
    second.push_back(Row(key(i), i < 1000 ? 2 : 3, i < 1000 ? 5 : 20));
  }
  ASSERT_TRUE(s->Write(g, second).ok());
  std::vector<std::pair<std::string_view, std::string_view>> keys;
  std::vector<std::string> names;
  for (int i = 0; i < 3000; i += 7) {
    names.push_back(key(i));
  }
  for (const std::string& n : names) {
    keys.emplace_back(g, n);
  }
  std::vector<std::optional<std::string>> got;
  ASSERT_TRUE(s->Get(keys, &got).ok());
  for (size_t j = 0; j < names.size(); ++j) {
    EXPECT_EQ(ValueOf(got[j]), std::stoi(names[j].substr(1)) < 1000 ? 1 : 3) << names[j];
  }
}

TEST_P(OnlineStoreTest, AnswersManyThreadsAtOnce) {
  std::unique_ptr<OnlineStore> s = Open();
  std::vector<OnlineRow> rows;
  for (int i = 0; i < 100; ++i) {
    rows.push_back(Row("k" + std::to_string(i), i, 1));
  }
  const std::string g1 = T("g@1");
  ASSERT_TRUE(s->Write(g1, rows).ok());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  // A writer meanwhile, rewriting the same rows (the same values, newer times).
  threads.emplace_back([&] {
    for (int round = 0; round < 20; ++round) {
      std::vector<OnlineRow> again;
      for (int i = 0; i < 100; ++i) {
        again.push_back(Row("k" + std::to_string(i), i, 2 + round));
      }
      if (!s->Write(g1, again).ok()) {
        ++wrong;
      }
    }
  });
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string key = "k" + std::to_string((i + t) % 100);
        std::vector<std::optional<std::string>> got;
        if (!s->Get({{g1, key}}, &got).ok() || ValueOf(got[0]) != (i + t) % 100) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(wrong.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Stores, OnlineStoreTest, ::testing::ValuesIn(Stores()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// Keys compare as bytes in their values' order (the embedded store writes rows in key order).
TEST(OnlineKeys, CompareAsBytesInTheOrderOfTheirValues) {
  Column ints(DataType::kInt64);
  for (const int64_t v : {INT64_MIN, int64_t{-300}, int64_t{-5}, int64_t{0}, int64_t{3},
                          int64_t{255}, int64_t{256}, int64_t{300}, INT64_MAX}) {
    ints.AppendInt(v);
  }
  Column strings(DataType::kString);
  for (const std::string& v : {std::string(""), std::string("a"), std::string("a\0", 2),
                               std::string("a\0b", 3), std::string("ab"), std::string("b")}) {
    strings.AppendString(v);
  }
  for (const Column* c : {&ints, &strings}) {
    for (int64_t i = 1; i < c->size(); ++i) {
      EXPECT_LT(*EncodeKey({c}, i - 1), *EncodeKey({c}, i)) << i;
    }
  }
  // Two columns: the first decides, then the second; no key a prefix of another's start.
  Column a(DataType::kString);
  Column b(DataType::kInt64);
  for (const auto& [s, n] :
       std::vector<std::pair<std::string, int64_t>>{{"a", 9}, {"a", 10}, {"ab", -1}, {"b", 0}}) {
    a.AppendString(s);
    b.AppendInt(n);
  }
  for (int64_t i = 1; i < a.size(); ++i) {
    EXPECT_LT(*EncodeKey({&a, &b}, i - 1), *EncodeKey({&a, &b}, i)) << i;
  }
}

// An embedded store written in another format (keys encoded in another order before
// 2026-12-07, or by a later Plinth) is refused with one line, never read as this one.
TEST(OnlineKeys, AStoreOfAnotherFormatIsRefused) {
  testutil::TempDir dir;
  for (const int version : {0, 3}) {
    const std::string path = dir.File("old" + std::to_string(version) + ".db");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "CREATE TABLE online_values (tbl TEXT NOT NULL, key BLOB NOT NULL, event_us INTEGER NOT "
        "NULL, created_us INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT "
        "ROWID; CREATE TABLE online_watermarks (tbl TEXT PRIMARY KEY, end_us INTEGER NOT NULL); "
        "INSERT INTO online_watermarks VALUES ('g@1', 5); PRAGMA user_version = " +
        std::to_string(version) + ";";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    Result<std::unique_ptr<OnlineStore>> s = OpenOnlineStore("sqlite://" + path);
    ASSERT_FALSE(s.ok()) << version;
    const std::string& m = s.status().message();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find(version == 0 ? "an earlier version of Plinth" : "a later version of Plinth"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("materialize again"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  // A new file is this format, and opens again.
  const std::string fresh = "sqlite://" + dir.File("new.db");
  ASSERT_TRUE(OpenOnlineStore(fresh).ok());
  Result<std::unique_ptr<OnlineStore>> again = OpenOnlineStore(fresh);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE((*again)->SetWatermark("g@1", 7).ok());
  EXPECT_TRUE(OpenOnlineStore(fresh).ok());
}

TEST(OnlineValues, RefuseARowWrittenForOtherFeatures) {
  Column a(DataType::kFloat64);
  a.AppendDouble(1);
  const std::string v = EncodeValues({&a}, 0, 5, kNoCreated);
  Column as_text(DataType::kString);
  int64_t event = 0;
  Status s = DecodeValues(v, {&as_text}, &event, "g@1");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  Column x(DataType::kFloat64);
  Column y(DataType::kFloat64);
  EXPECT_FALSE(DecodeValues(v, {&x, &y}, &event, "g@1").ok());
  EXPECT_FALSE(DecodeValues(v.substr(0, v.size() - 1), {&x}, &event, "g@1").ok());
  EXPECT_FALSE(OpenOnlineStore("memcached://x").ok());
  EXPECT_FALSE(OpenOnlineStore("sqlite://relative.db").ok());
  for (const char* bad : {"redis://", "redis://h:0", "redis://h:99999", "redis://h/x"}) {
    Result<std::unique_ptr<OnlineStore>> r = OpenOnlineStore(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // Nothing listens on port 1: an error naming the store, one line, the password hidden.
  Result<std::unique_ptr<OnlineStore>> down = OpenOnlineStore("redis://:hunter2@127.0.0.1:1/2");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(down.status().message().find("redis://:***@127.0.0.1:1/2"), std::string::npos)
      << down.status().message();
  EXPECT_EQ(down.status().message().find("hunter2"), std::string::npos);
}

// Materialize a small group, then look features up as Feast's server would answer.
class OnlineLookup : public ::testing::Test {
 protected:
  static constexpr int64_t kHour = int64_t{3600} * 1000000;
  void SetUp() override {
    // driver 1: rows at 1h (3.0) and 2h (4.0); driver 2: one at 1h (null rate); driver 3 at 0h.
    std::vector<Column> cols = {Column(DataType::kInt64), Column(DataType::kTimestamp),
                                Column(DataType::kFloat64)};
    const struct {
      int64_t d;
      int64_t at;
      std::optional<double> rate;
    } rows[] = {{1, kHour, 3.0}, {1, 2 * kHour, 4.0}, {2, kHour, std::nullopt}, {3, 0, 7.0}};
    for (const auto& r : rows) {
      cols[0].AppendInt(r.d);
      cols[1].AppendInt(r.at);
      r.rate ? cols[2].AppendDouble(*r.rate) : cols[2].AppendNull();
    }
    path_ = dir_.File("stats.parquet");
    ASSERT_TRUE(table::WriteParquet(Table(Schema({{"driver_id", DataType::kInt64},
                                                  {"event", DataType::kTimestamp},
                                                  {"rate", DataType::kFloat64}}),
                                          std::move(cols)),
                                    path_)
                    .ok());
    defs_.online_store = "sqlite://" + dir_.File("online.db");
    defs_.entities.push_back({"driver", {{"driver_id", DataType::kInt64}}, ""});
    FeatureGroup g;
    g.name = "stats";
    g.version = 1;
    g.entities = {"driver"};
    g.join_keys = {{"driver_id", DataType::kInt64}};
    g.source.path = path_;
    g.event_timestamp = "event";
    g.ttl_us = 3 * kHour;
    g.features = {{"rate", DataType::kFloat64}};
    defs_.groups.push_back(g);
    defs_.on_demand.push_back({"rate_pct",
                               "rate * 100 + bonus",
                               DataType::kFloat64,
                               {{"bonus", DataType::kFloat64}},
                               ""});
    defs_.services.push_back({"svc", 1, {{"stats", 1, "rate"}, {"", 0, "rate_pct"}}, ""});
    Result<std::unique_ptr<OnlineStore>> s = OpenOnlineStore(defs_.online_store);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  Result<OnlineAnswer> Lookup(const std::string& body, int64_t now) {
    PLINTH_ASSIGN_OR_RETURN(FeastRequest req, ParseFeastRequest(body, defs_));
    return LookupOnline(
        defs_, [&](const FeatureRef&) -> Result<FeatureGroup> { return defs_.groups[0]; }, *store_,
        req.query, now);
  }
  testutil::TempDir dir_;
  std::string path_;
  Definitions defs_;
  std::unique_ptr<OnlineStore> store_;
};

TEST_F(OnlineLookup, MaterializesTheLatestRowInTheWindowThenAnswersInFeastsShape) {
  // A window up to 1.5h: driver 1's 1h row; driver 3's 0h row only when the window starts at 0.
  MaterializeOptions o;
  o.start_us = kHour;
  o.end_us = kHour + kHour / 2;
  Result<std::vector<Materialized>> m = Materialize(defs_, *store_, o, nullptr);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)[0].rows, 2);  // drivers 1 and 2
  Result<OnlineAnswer> a = Lookup(
      R"({"feature_service": "svc", "entities": {"driver_id": [1, 2, 3, null], "bonus": [1, 1, 1, 1]}})",
      2 * kHour);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  Result<core::Json> j = core::ParseJson(FeastResponseJson(*a), "answer");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["metadata"]["feature_names"],
            core::Json::parse(R"(["driver_id","rate","rate_pct"])"));
  EXPECT_EQ((*j)["results"][1]["values"], core::Json::parse("[3.0, null, null, null]"));
  EXPECT_EQ((*j)["results"][1]["statuses"],
            core::Json::parse(R"(["PRESENT","NULL_VALUE","NOT_FOUND","NOT_FOUND"])"));
  EXPECT_EQ((*j)["results"][1]["event_timestamps"][0], "1970-01-01T01:00:00Z");
  EXPECT_EQ((*j)["results"][2]["values"], core::Json::parse("[301.0, null, null, null]"));
  EXPECT_EQ((*j)["results"][0]["statuses"][0], "PRESENT");

  // Incremental from the watermark: driver 1's 2h row comes in; at 5h it is 3h old (inside the
  // ttl, inclusive), at 5h + 1us it is outside, and null.
  o.incremental = true;
  o.end_us = 10 * kHour;
  m = Materialize(defs_, *store_, o, nullptr);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*(*m)[0].start_us, kHour + kHour / 2);
  EXPECT_EQ((*m)[0].rows, 1);
  a = Lookup(R"({"features": ["stats:rate"], "entities": {"driver_id": [1]}})", 5 * kHour);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->values[1].doubles()[0], 4.0);
  a = Lookup(R"({"features": ["stats:rate"], "entities": {"driver_id": [1]}})", 5 * kHour + 1);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->statuses[1][0], FeatureStatus::kOutsideMaxAge);
  EXPECT_TRUE(a->values[1].IsNull(0));
  // Full names.
  a = Lookup(R"({"features": ["stats:rate"], "entities": {"driver_id": [1]},
                 "full_feature_names": true})",
             5 * kHour);
  EXPECT_EQ(a->names[1], "stats__rate");
}

// A served model's rows completed from the store: each feature in the model's column, whatever
// order the service lists them in (an on-demand feature first), and counted.
TEST_F(OnlineLookup, CompletesServedRowsInTheModelsColumns) {
  MaterializeOptions o;
  o.end_us = 10 * kHour;
  ASSERT_TRUE(Materialize(defs_, *store_, o, nullptr).ok());
  const table::Schema inputs({{"rate_pct", DataType::kFloat64},
                              {"bonus", DataType::kFloat64},
                              {"rate", DataType::kFloat64}});
  testutil::FakeClock clock(5 * kHour);
  Result<std::shared_ptr<const ServingFeatures>> sf = ServingFeatures::Create(
      defs_, [&](const FeatureRef&) -> Result<FeatureGroup> { return defs_.groups[0]; },
      std::shared_ptr<OnlineStore>(std::move(store_)), {"rate_pct", "stats@1:rate"}, inputs, clock);
  ASSERT_TRUE(sf.ok()) << sf.status().ToString();
  EXPECT_EQ((*sf)->request_schema(),
            table::Schema({{"bonus", DataType::kFloat64}, {"driver_id", DataType::kInt64}}));
  std::vector<Column> cols = {Column(DataType::kFloat64), Column(DataType::kInt64)};
  cols[0].AppendDouble(1);
  cols[1].AppendInt(1);
  cols[0].AppendDouble(2);
  cols[1].AppendInt(9);  // unknown: rate null, and so rate_pct
  Result<Table> done = (*sf)->Complete(Table((*sf)->request_schema(), std::move(cols)));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->schema(), inputs);
  EXPECT_EQ(done->column(0).doubles()[0], 401.0);  // 4.0 (the 2h row) * 100 + 1
  EXPECT_EQ(done->column(2).doubles()[0], 4.0);
  EXPECT_TRUE(done->column(2).IsNull(1));
  EXPECT_TRUE(done->column(0).IsNull(1));
  const std::vector<ServingFeatures::Count> counts = (*sf)->Counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[1].feature, "stats@1:rate");
  EXPECT_EQ(counts[1].by_status[static_cast<size_t>(FeatureStatus::kPresent)], 1);
  EXPECT_EQ(counts[1].by_status[static_cast<size_t>(FeatureStatus::kNotFound)], 1);
  // A model input that is a feature of another type is refused.
  Result<std::shared_ptr<const ServingFeatures>> wrong = ServingFeatures::Create(
      defs_, [&](const FeatureRef&) -> Result<FeatureGroup> { return defs_.groups[0]; }, nullptr,
      {"stats@1:rate"}, table::Schema({{"rate", DataType::kString}}), clock);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("the model reads 'rate' as string"), std::string::npos)
      << wrong.status().message();
}

// Of a key's rows with the same event time, materialization keeps the one read last: the last
// file's last row in a folder of Parquet files, the last row of a CSV file.
TEST_F(OnlineLookup, MaterializesTheRowReadLastOfEqualTimes) {
  const auto ties = [](int n, double first) {
    std::vector<Column> cols = {Column(DataType::kInt64), Column(DataType::kTimestamp),
                                Column(DataType::kFloat64)};
    for (int i = 0; i < n; ++i) {
      cols[0].AppendInt(9);
      cols[1].AppendInt(kHour);
      cols[2].AppendDouble(first + i);
    }
    return Table(Schema({{"driver_id", DataType::kInt64},
                         {"event", DataType::kTimestamp},
                         {"rate", DataType::kFloat64}}),
                 std::move(cols));
  };
  ASSERT_TRUE(std::filesystem::create_directories(dir_.File("ties")));
  ASSERT_TRUE(table::WriteParquet(ties(3000, 0), dir_.File("ties/a.parquet")).ok());
  ASSERT_TRUE(table::WriteParquet(ties(2, 3000), dir_.File("ties/b.parquet")).ok());
  ASSERT_TRUE(table::WriteCsv(ties(3000, 0), dir_.File("ties.csv")).ok());
  for (const auto& [path, want] :
       {std::pair{dir_.File("ties"), 3001.0}, std::pair{dir_.File("ties.csv"), 2999.0}}) {
    defs_.groups[0].source.path = path;
    defs_.groups[0].version += 1;  // a table of its own in the store
    MaterializeOptions o;
    o.end_us = 10 * kHour;
    Result<std::vector<Materialized>> m = Materialize(defs_, *store_, o, nullptr);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    Result<OnlineAnswer> a =
        Lookup(R"({"features": ["stats:rate"], "entities": {"driver_id": [9]}})", 2 * kHour);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->values[1].doubles()[0], want) << path;
  }
}

// A stored NaN or infinity is answered as a null value (JSON has neither), not as present.
TEST_F(OnlineLookup, ANaNOrInfinityIsANullValue) {
  Column keys(DataType::kInt64);
  Column rate(DataType::kFloat64);
  for (const double v : {std::nan(""), std::numeric_limits<double>::infinity(), 2.5}) {
    keys.AppendInt(static_cast<int64_t>(keys.size()) + 50);
    rate.AppendDouble(v);
  }
  std::vector<OnlineRow> rows;
  for (int64_t i = 0; i < keys.size(); ++i) {
    rows.push_back(
        {*EncodeKey({&keys}, i), EncodeValues({&rate}, i, kHour, kNoCreated), kHour, kNoCreated});
  }
  ASSERT_TRUE(store_->Write("stats@1", rows).ok());
  Result<OnlineAnswer> a =
      Lookup(R"({"features": ["stats:rate"], "entities": {"driver_id": [50, 51, 52]}})", 2 * kHour);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  Result<core::Json> j = core::ParseJson(FeastResponseJson(*a), "answer");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["results"][1]["values"], core::Json::parse("[null, null, 2.5]"));
  EXPECT_EQ((*j)["results"][1]["statuses"],
            core::Json::parse(R"(["NULL_VALUE","NULL_VALUE","PRESENT"])"));
}

// The watermark says everything up to it is loaded: an earlier window leaves it, and so does a
// later window that leaves a gap after it (materialize-incremental would never fill the gap).
TEST_F(OnlineLookup, TheWatermarkMovesOnlyForwardAndNeverOverAGap) {
  const auto materialize = [&](std::optional<int64_t> start, int64_t end) {
    MaterializeOptions o;
    o.start_us = start;
    o.end_us = end;
    Result<std::vector<Materialized>> m = Materialize(defs_, *store_, o, nullptr);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
  };
  const auto mark = [&]() -> int64_t {
    Result<std::optional<int64_t>> w = store_->Watermark("stats@1");
    EXPECT_TRUE(w.ok() && w->has_value());
    return w.ok() && w->has_value() ? **w : -1;
  };
  materialize(std::nullopt, 10 * kHour);
  EXPECT_EQ(mark(), 10 * kHour);
  materialize(0, 2 * kHour);  // earlier
  EXPECT_EQ(mark(), 10 * kHour);
  materialize(20 * kHour, 30 * kHour);  // a gap from 10h to 20h
  EXPECT_EQ(mark(), 10 * kHour);
  materialize(10 * kHour, 40 * kHour);  // joins at the mark
  EXPECT_EQ(mark(), 40 * kHour);
  // The earlier window did not bring older values back: driver 1 still has its 2h row.
  Result<OnlineAnswer> a =
      Lookup(R"({"features": ["stats:rate"], "entities": {"driver_id": [1]}})", 3 * kHour);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->values[1].doubles()[0], 4.0);
}

TEST_F(OnlineLookup, RefusesBadRequestsNamingWhatIsWrong) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"entities": {"driver_id": [1]}})", "expected 'features' or 'feature_service'"},
      {R"({"features": ["stats:speed"], "entities": {"driver_id": [1]}})", "no feature 'speed'"},
      {R"({"features": ["cars:rate"], "entities": {"driver_id": [1]}})", "no feature group 'cars'"},
      {R"({"feature_service": "nope", "entities": {"driver_id": [1]}})",
       "no feature service 'nope'"},
      {R"({"features": ["stats:rate"], "entities": {"driver_id": ["x"]}})",
       "expected int64 values"},
      {R"({"features": ["stats:rate"], "entities": {"car": [1]}})", "not a join key"},
      {R"({"features": ["stats:rate"], "entities": {"driver_id": [1, 2], "bonus": [1]}})",
       "1 values, 'driver_id' has 2"},
      {R"({"features": ["stats:rate"], "entities": {"driver_id": 1}})", "expected a list"},
      {R"({"features": ["rate_pct"], "entities": {"driver_id": [1]}})", "no values for 'bonus'"},
      {R"([1, 2])", "expected a JSON object"},
      {R"({"features": ["stats:rate"], "entities": {"driver_id": [18446744073709551615]}})",
       "expected int64"},
      {R"({"features": ["stats:rate"], "entities": {"a\nb": [1]}})", "'a\\x0ab': not a join key"},
      {R"({"features": ["stats:rate", "stats@1:rate"], "entities": {"driver_id": [1]}})",
       "named twice"},
  };
  for (const auto& [body, says] : cases) {
    Result<OnlineAnswer> a = Lookup(body, 0);
    ASSERT_FALSE(a.ok()) << body;
    EXPECT_NE(a.status().message().find(says), std::string::npos)
        << "wanted: " << says << "\ngot: " << a.status().message();
    EXPECT_EQ(a.status().message().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace plinth::features

namespace plinth::features {
namespace {

// The servers' endpoint: Feast's status codes and error detail, and a registry read again only
// after the refresh period.
TEST(OnlineFeatureServer, AnswersInFeastsShapeAndSeesNewDefinitionsAfterTheRefresh) {
  testutil::TempDir dir;
  const std::string uri = "sqlite://" + dir.File("plinth.db");
  testutil::FakeClock clock(int64_t{1000} * 1000000);
  Result<std::unique_ptr<OnlineFeatureServer>> server = OnlineFeatureServer::Open(uri, 5, clock);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string body = R"({"features": ["stats:rate"], "entities": {"driver_id": [1]}})";
  FeatureAnswer a = (*server)->GetOnlineFeatures(body);
  EXPECT_EQ(a.status, 404);  // nothing applied yet
  Result<core::Json> detail = core::ParseJson(a.body, "answer");
  ASSERT_TRUE(detail.ok() && detail->is_string()) << a.body;
  EXPECT_NE(detail->get<std::string>().find("FeastObjectNotFoundException"), std::string::npos);

  // Apply a group; the server sees it at once (it had no snapshot), then a second group only
  // after the refresh period.
  Result<std::unique_ptr<store::Database>> db = store::OpenDatabase(uri);
  ASSERT_TRUE(db.ok());
  Result<Registry> registry = Registry::Open(**db);
  ASSERT_TRUE(registry.ok());
  Definitions d;
  d.online_store = "sqlite://" + dir.File("online.db");
  d.entities.push_back({"driver", {{"driver_id", DataType::kInt64}}, ""});
  FeatureGroup g;
  g.name = "stats";
  g.entities = {"driver"};
  g.join_keys = {{"driver_id", DataType::kInt64}};
  g.source.path = "/nonexistent.parquet";
  g.features = {{"rate", DataType::kFloat64}};
  d.groups.push_back(g);
  ASSERT_TRUE(registry->Apply(d, false, 1).ok());
  a = (*server)->GetOnlineFeatures(body);
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("statuses":["NOT_FOUND"])"), std::string::npos) << a.body;
  g.name = "trips";
  d.groups.push_back(g);
  ASSERT_TRUE(registry->Apply(d, false, 2).ok());
  const std::string trips = R"({"features": ["trips:rate"], "entities": {"driver_id": [1]}})";
  a = (*server)->GetOnlineFeatures(trips);
  EXPECT_EQ(a.status, 404) << a.body;
  EXPECT_NE(a.body.find("FeatureViewNotFoundException"), std::string::npos) << a.body;
  clock.Advance(int64_t{5} * 1000000);
  a = (*server)->GetOnlineFeatures(trips);
  EXPECT_EQ(a.status, 200) << a.body;
  // A malformed body: 422 with FastAPI's {"detail": ...}.
  a = (*server)->GetOnlineFeatures("{");
  EXPECT_EQ(a.status, 422);
  EXPECT_NE(a.body.find("\"detail\""), std::string::npos) << a.body;
}

}  // namespace
}  // namespace plinth::features

namespace plinth::features {
namespace {

TEST(CheckOutputNames, RefusesTwoFeaturesUnderOneNameUnlessFullNamesTellThemApart) {
  const std::vector<FeatureRef> refs = {{"weather", 1, "temp"}, {"forecast", 2, "temp"}};
  Status s = CheckOutputNames(refs, false);
  EXPECT_NE(s.message().find("features weather@1:temp and forecast@2:temp would both be named "
                             "'temp' (ask for full feature names)"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(CheckOutputNames(refs, true).ok());
  EXPECT_FALSE(CheckOutputNames({{"weather", 1, "temp"}, {"weather", 2, "temp"}}, true).ok());
}

}  // namespace
}  // namespace plinth::features
