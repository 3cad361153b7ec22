// The PostgreSQL driver (internal to the store module), over libpq.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/database.h"

namespace plinth::store {

// Connects to the server named by a libpq URI ("postgresql://user:pass@host:port/db?...").
// A connect timeout of 10 s applies unless the URI sets one.
Result<std::unique_ptr<Database>> OpenPostgres(std::string_view uri);

// `sql` with each `?` placeholder outside quotes and comments replaced by $1, $2, ...;
// `count`, when given, receives how many there were.
std::string PostgresPlaceholders(std::string_view sql, int* count = nullptr);

// `uri` with any password replaced by "***", for messages.
std::string RedactUri(std::string_view uri);

}  // namespace plinth::store
