// A typed, nullable column: values in one contiguous vector (int64 for int64
// and timestamp, double, uint8 for bool, offsets + bytes for strings) and a
// validity bitmap (bit set = value present). A null slot holds a zero value.
// Columns are values: move them, copy them deliberately; not thread-safe to
// mutate, safe to read from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "table/types.h"

namespace plinth::table {

class Column {
 public:
  explicit Column(DataType type = DataType::kFloat64) : type_(type) {
    if (type == DataType::kString) {
      offsets_.push_back(0);  // only string columns have offsets: no allocation for the others
    }
  }

  DataType type() const { return type_; }
  int64_t size() const { return size_; }
  int64_t null_count() const { return null_count_; }
  bool IsValid(int64_t i) const { return (validity_[i >> 6] >> (i & 63)) & 1; }
  bool IsNull(int64_t i) const { return !IsValid(i); }

  // Typed access; calling the accessor of another type is a bug.
  const std::vector<int64_t>& ints() const { return ints_; }  // kInt64, kTimestamp
  const std::vector<double>& doubles() const { return doubles_; }
  const std::vector<uint8_t>& bools() const { return bools_; }
  std::string_view GetString(int64_t i) const {
    return std::string_view(chars_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  // Every value's bytes end to end (kString; nulls hold none).
  std::string_view chars() const { return chars_; }
  // The value of a numeric column as double (int64 converted).
  double GetDouble(int64_t i) const {
    return type_ == DataType::kFloat64 ? doubles_[i] : static_cast<double>(ints_[i]);
  }

  void Reserve(int64_t n);
  void AppendNull();
  void AppendInt(int64_t v) {
    PushValid();
    ints_.push_back(v);
  }
  void AppendDouble(double v) {
    PushValid();
    doubles_.push_back(v);
  }
  void AppendBool(bool v) {
    PushValid();
    bools_.push_back(v ? 1 : 0);
  }
  void AppendString(std::string_view v) {
    PushValid();
    chars_.append(v);
    offsets_.push_back(chars_.size());
  }
  // Appends every row of `other`, which must have the same type.
  void AppendColumn(const Column& other);
  // Appends rows [begin, begin + count) of `other` (same type), in bulk.
  void AppendRange(const Column& other, int64_t begin, int64_t count);
  // Appends row `i` of `other` (same type).
  void AppendFrom(const Column& other, int64_t i);
  // Drops every row from `n` on (n <= size()).
  void Truncate(int64_t n);

  // Every row appended to `out` in a compact binary form (a null flag, the validity words
  // when there are nulls, the values' bytes as they are): one contiguous write, for
  // buffers that keep many small columns end to end (the live monitor's window).
  void EncodeTo(std::string& out) const;
  // Appends `rows` rows read from `p`, written by EncodeTo of a column of this type (or by
  // EncodeNulls); returns the position after them, or nullptr when they would pass `end`.
  const char* AppendEncoded(const char* p, const char* end, int64_t rows);
  // `rows` nulls in the form AppendEncoded reads, for a column that was not there.
  static void EncodeNulls(std::string& out);

  // Returns a copy converted to `to`: int64 -> float64, anything -> string (its
  // text form), and a column of nulls only -> any type. Other conversions return
  // kInvalidArgument.
  Result<Column> CastTo(DataType to) const;

  // The text of row `i` as the CSV writer prints it ("" for null).
  std::string FormatValue(int64_t i) const;

  bool operator==(const Column& other) const;

 private:
  [[gnu::always_inline]] void PushValid() {
    if ((size_ & 63) == 0) {
      validity_.push_back(0);
    }
    validity_.back() |= uint64_t{1} << (size_ & 63);
    ++size_;
  }
  // Rows [begin, begin + count) of `other`'s validity after this column's rows, and their
  // nulls counted (size_ is not changed).
  void AppendValidity(const Column& other, int64_t begin, int64_t count);

  DataType type_;
  int64_t size_ = 0;
  int64_t null_count_ = 0;
  std::vector<uint64_t> validity_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<uint8_t> bools_;
  std::vector<uint64_t> offsets_;  // kString: size_ + 1 entries, starting at 0
  std::string chars_;
};

// Formats `v` as the shortest text that parses back to the same double.
std::string FormatDouble(double v);
// Appends FormatDouble(v) to `out` without a temporary string.
void AppendDouble(std::string& out, double v);

}  // namespace plinth::table
