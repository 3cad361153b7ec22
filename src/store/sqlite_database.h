// The SQLite driver (internal to the store module).
#pragma once

#include <memory>
#include <string_view>

#include "store/database.h"

namespace plinth::store {

// Opens (creating if needed) the SQLite file at `path` in WAL mode with foreign
// keys on and a 30 s busy timeout. ":memory:" gives a private in-memory database.
Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path);

}  // namespace plinth::store
