// Databases for tests that run on every store engine: SQLite always, PostgreSQL
// when PLINTH_TEST_POSTGRES_URI names a server (tests/scripts/with_postgres.sh
// starts one and sets it; CMake registers each such suite under that script too).
#pragma once

#include <string>
#include <vector>

namespace plinth::testutil {

// "sqlite", plus "postgres" when PLINTH_TEST_POSTGRES_URI is set.
std::vector<std::string> TestEngines();

// A store URI for an empty database on `engine`: a new file under `dir` for
// SQLite, a new schema (selected through the URI's search_path) for PostgreSQL.
std::string FreshDatabaseUri(const std::string& engine, const std::string& dir);

}  // namespace plinth::testutil
