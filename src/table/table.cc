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

Table TakeRows(const Table& t, const std::vector<int64_t>& indices) {
  std::vector<Column> cols;
  cols.reserve(t.num_columns());
  for (size_t c = 0; c < t.num_columns(); ++c) {
    const Column& src = t.column(c);
    Column dst(src.type());
    dst.Reserve(static_cast<int64_t>(indices.size()));
    for (int64_t i : indices) {
      dst.AppendFrom(src, i);
    }
    cols.push_back(std::move(dst));
  }
  return Table(t.schema(), std::move(cols));
}

}  // namespace plinth::table
