#include "table/column.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "table/value_parse.h"

namespace plinth::table {

void AppendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "inf" : "-inf";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  const std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  out += s;
  // Integral doubles print as "3"; keep a ".0" so the text reads back as a float.
  if (s.find_first_of(".eE") == std::string_view::npos) {
    out += ".0";
  }
}

std::string FormatDouble(double v) {
  std::string s;
  AppendDouble(s, v);
  return s;
}

void Column::Reserve(int64_t n) {
  auto un = static_cast<size_t>(n);
  validity_.reserve((un + 63) / 64);
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.reserve(un);
      break;
    case DataType::kFloat64:
      doubles_.reserve(un);
      break;
    case DataType::kBool:
      bools_.reserve(un);
      break;
    case DataType::kString:
      offsets_.reserve(un + 1);
      break;
  }
}

void Column::Truncate(int64_t n) {
  for (int64_t i = n; i < size_; ++i) {
    null_count_ -= IsNull(i) ? 1 : 0;
  }
  size_ = n;
  validity_.resize(static_cast<size_t>((n + 63) / 64));
  if ((n & 63) != 0) {
    validity_.back() &= (uint64_t{1} << (n & 63)) - 1;
  }
  const auto rows = static_cast<size_t>(n);
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.resize(rows);
      break;
    case DataType::kFloat64:
      doubles_.resize(rows);
      break;
    case DataType::kBool:
      bools_.resize(rows);
      break;
    case DataType::kString:
      offsets_.resize(rows + 1);
      chars_.resize(offsets_.back());
      break;
  }
}

void Column::AppendNull() {
  if ((size_ & 63) == 0) {
    validity_.push_back(0);
  }
  ++size_;
  ++null_count_;
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.push_back(0);
      break;
    case DataType::kFloat64:
      doubles_.push_back(0);
      break;
    case DataType::kBool:
      bools_.push_back(0);
      break;
    case DataType::kString:
      offsets_.push_back(chars_.size());
      break;
  }
}

void Column::AppendColumn(const Column& other) {
  if ((size_ & 63) == 0) {
    // Word-aligned: the bitmap words can be copied as they are.
    validity_.insert(validity_.end(), other.validity_.begin(), other.validity_.end());
  } else {
    validity_.resize(static_cast<size_t>((size_ + other.size_ + 63) / 64), 0);
    for (int64_t i = 0; i < other.size_; ++i) {
      if (other.IsValid(i)) {
        int64_t j = size_ + i;
        validity_[static_cast<size_t>(j >> 6)] |= uint64_t{1} << (j & 63);
      }
    }
  }
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.insert(ints_.end(), other.ints_.begin(), other.ints_.end());
      break;
    case DataType::kFloat64:
      doubles_.insert(doubles_.end(), other.doubles_.begin(), other.doubles_.end());
      break;
    case DataType::kBool:
      bools_.insert(bools_.end(), other.bools_.begin(), other.bools_.end());
      break;
    case DataType::kString: {
      uint64_t base = chars_.size();
      chars_.append(other.chars_);
      offsets_.reserve(offsets_.size() + other.offsets_.size() - 1);
      for (size_t i = 1; i < other.offsets_.size(); ++i) {
        offsets_.push_back(base + other.offsets_[i]);
      }
      break;
    }
  }
  size_ += other.size_;
  null_count_ += other.null_count_;
}

void Column::AppendRange(const Column& other, int64_t begin, int64_t count) {
  const auto b = static_cast<size_t>(begin), n = static_cast<size_t>(count);
  validity_.resize(static_cast<size_t>((size_ + count + 63) / 64), 0);
  int64_t nulls = 0;
  for (int64_t i = 0; i < count; ++i) {
    if (other.IsValid(begin + i)) {
      const int64_t j = size_ + i;
      validity_[static_cast<size_t>(j >> 6)] |= uint64_t{1} << (j & 63);
    } else {
      ++nulls;
    }
  }
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.insert(ints_.end(), other.ints_.begin() + b, other.ints_.begin() + b + n);
      break;
    case DataType::kFloat64:
      doubles_.insert(doubles_.end(), other.doubles_.begin() + b, other.doubles_.begin() + b + n);
      break;
    case DataType::kBool:
      bools_.insert(bools_.end(), other.bools_.begin() + b, other.bools_.begin() + b + n);
      break;
    case DataType::kString: {
      const uint64_t from = other.offsets_[b];
      const uint64_t base = chars_.size();
      chars_.append(other.chars_, from, other.offsets_[b + n] - from);
      offsets_.reserve(offsets_.size() + n);
      for (size_t i = 1; i <= n; ++i) {
        offsets_.push_back(base + other.offsets_[b + i] - from);
      }
      break;
    }
  }
  size_ += count;
  null_count_ += nulls;
}

void Column::AppendFrom(const Column& other, int64_t i) {
  if (other.IsNull(i)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      AppendInt(other.ints_[i]);
      break;
    case DataType::kFloat64:
      AppendDouble(other.doubles_[i]);
      break;
    case DataType::kBool:
      AppendBool(other.bools_[i] != 0);
      break;
    case DataType::kString:
      AppendString(other.GetString(i));
      break;
  }
}

Result<Column> Column::CastTo(DataType to) const {
  if (to == type_) {
    return *this;
  }
  Column out(to);
  out.Reserve(size_);
  if (null_count_ == size_) {
    for (int64_t i = 0; i < size_; ++i) {
      out.AppendNull();
    }
    return out;
  }
  if (type_ == DataType::kInt64 && to == DataType::kFloat64) {
    for (int64_t i = 0; i < size_; ++i) {
      if (IsNull(i)) {
        out.AppendNull();
      } else {
        out.AppendDouble(static_cast<double>(ints_[i]));
      }
    }
    return out;
  }
  if (to == DataType::kString) {
    for (int64_t i = 0; i < size_; ++i) {
      if (IsNull(i)) {
        out.AppendNull();
      } else {
        out.AppendString(FormatValue(i));
      }
    }
    return out;
  }
  return InvalidArgument("cannot convert a " + std::string(TypeName(type_)) + " column to " +
                         std::string(TypeName(to)));
}

std::string Column::FormatValue(int64_t i) const {
  if (IsNull(i)) {
    return "";
  }
  switch (type_) {
    case DataType::kInt64:
      return std::to_string(ints_[i]);
    case DataType::kFloat64:
      return FormatDouble(doubles_[i]);
    case DataType::kBool:
      return bools_[i] ? "true" : "false";
    case DataType::kString:
      return std::string(GetString(i));
    case DataType::kTimestamp:
      return FormatTimestamp(ints_[i], ints_[i] % 86400000000 == 0);
  }
  return "";
}

bool Column::operator==(const Column& other) const {
  if (type_ != other.type_ || size_ != other.size_ || null_count_ != other.null_count_) {
    return false;
  }
  for (int64_t i = 0; i < size_; ++i) {
    if (IsValid(i) != other.IsValid(i)) {
      return false;
    }
    if (IsNull(i)) {
      continue;
    }
    switch (type_) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        if (ints_[i] != other.ints_[i]) {
          return false;
        }
        break;
      case DataType::kFloat64:
        // Bitwise, so that the round-trip test means "exactly".
        if (std::memcmp(&doubles_[i], &other.doubles_[i], sizeof(double)) != 0) {
          return false;
        }
        break;
      case DataType::kBool:
        if (bools_[i] != other.bools_[i]) {
          return false;
        }
        break;
      case DataType::kString:
        if (GetString(i) != other.GetString(i)) {
          return false;
        }
        break;
    }
  }
  return true;
}

}  // namespace plinth::table
