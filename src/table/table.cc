#include "table/table.h"

#include <algorithm>
#include <cassert>

namespace plinth::table {

Table::Table(Schema schema, std::vector<Column> columns)
    : schema_(std::move(schema)), columns_(std::move(columns)) {
  assert(schema_.size() == columns_.size());
}

std::vector<Column> Table::TakeColumns() && {
  schema_ = Schema();
  return std::move(columns_);
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
  const auto n = static_cast<int64_t>(indices.size());
  const bool consecutive =
      n > 0 && indices.back() - indices.front() == n - 1 &&
      std::adjacent_find(indices.begin(), indices.end(),
                         [](int64_t a, int64_t b) { return b != a + 1; }) == indices.end();
  std::vector<Column> cols;
  cols.reserve(t.num_columns());
  for (size_t c = 0; c < t.num_columns(); ++c) {
    const Column& src = t.column(c);
    Column dst(src.type());
    dst.Reserve(n);
    if (consecutive) {
      dst.AppendRange(src, indices.front(), n);
    } else {
      for (int64_t i : indices) {
        dst.AppendFrom(src, i);
      }
    }
    cols.push_back(std::move(dst));
  }
  return Table(t.schema(), std::move(cols));
}

void Table::SetColumn(Field field, Column column) {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (schema_.field(i).name == field.name) {
      std::vector<Field> fields = schema_.fields();
      fields[i] = std::move(field);
      schema_ = Schema(std::move(fields));
      columns_[i] = std::move(column);
      return;
    }
  }
  std::vector<Field> fields = schema_.fields();
  fields.push_back(std::move(field));
  schema_ = Schema(std::move(fields));
  columns_.push_back(std::move(column));
}

}  // namespace plinth::table
