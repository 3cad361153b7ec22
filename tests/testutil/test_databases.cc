#include "testutil/test_databases.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "core/hash.h"
#include "store/database.h"

namespace plinth::testutil {

std::vector<std::string> TestEngines() {
  std::vector<std::string> out = {"sqlite"};
  const char* pg = std::getenv("PLINTH_TEST_POSTGRES_URI");
  if (pg != nullptr && *pg != '\0') {
    out.push_back("postgres");
  }
  return out;
}

std::string FreshDatabaseUri(const std::string& engine, const std::string& dir) {
  static std::atomic<int> counter{0};
  if (engine == "sqlite") {
    return "sqlite:///" + dir + "/store" + std::to_string(counter++) + ".db";
  }
  std::string base = std::getenv("PLINTH_TEST_POSTGRES_URI");
  std::string schema = "t_" + core::NewUuidHex();
  auto db = store::OpenDatabase(base);
  if (!db.ok()) {
    ADD_FAILURE() << db.status().ToString();
    return base;
  }
  Status s = (*db)->ExecScript("CREATE SCHEMA " + schema);
  if (!s.ok()) {
    ADD_FAILURE() << s.ToString();
  }
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

}  // namespace plinth::testutil
