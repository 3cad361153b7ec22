// A columnar table: a Schema and one Column per field, all of equal length.
// Tables are values (movable; copy deliberately). Safe to read from many threads.
#pragma once

#include <string_view>
#include <vector>

#include "table/column.h"
#include "table/types.h"

namespace plinth::table {

class Table {
 public:
  Table() = default;
  // `columns` must match `schema` in count, types and length (asserted).
  Table(Schema schema, std::vector<Column> columns);

  const Schema& schema() const { return schema_; }
  int64_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  size_t num_columns() const { return columns_.size(); }
  const Column& column(size_t i) const { return columns_[i]; }
  // The column named `name`, or nullptr.
  const Column* ColumnByName(std::string_view name) const;

  // Appends the rows of `other`, whose schema must equal this one's (or this
  // table must be empty of columns, in which case it becomes a copy).
  Status Append(const Table& other);

  // Adds `column` (of num_rows() values, or any count to a table without columns) as the
  // last one, or in place of the column of the same name.
  void SetColumn(Field field, Column column);

  // The columns, given up (the table is left empty): their buffers can be reused.
  std::vector<Column> TakeColumns() &&;

  bool operator==(const Table& other) const = default;

 private:
  Schema schema_;
  std::vector<Column> columns_;
};

// The rows `indices` of `t`, in that order (copied in bulk when they are consecutive).
Table TakeRows(const Table& t, const std::vector<int64_t>& indices);

}  // namespace plinth::table
