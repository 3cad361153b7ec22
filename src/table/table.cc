#include "table/table.h"

#include <cassert>

namespace plinth::table {

Table::Table(Schema schema, std::vector<Column> columns)
    : schema_(std::move(schema)), columns_(std::move(columns)) {
  assert(schema_.size() == columns_.size());
}

const Column* Table::ColumnByName(std::string_view name) const {
  auto i = schema_.IndexOf(name);
  return i ? &columns_[*i] : nullptr;
}

Status Table::Append(const Table& other) {
  if (columns_.empty() && schema_.size() == 0) {
    *this = other;
    return Status::Ok();
  }
  if (!(schema_ == other.schema_)) {
    return InvalidArgument("cannot append a table with a different schema");
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    columns_[i].AppendColumn(other.columns_[i]);
  }
  return Status::Ok();
}

}  // namespace plinth::table
