#include "table/column.h"

#include <algorithm>
#include <bit>
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
  // The nulls left: those removed counted when they are fewer than those kept (undoing a
  // few rows of a large column), else the kept ones a word at a time.
  if (null_count_ > 0 && size_ - n <= n) {
    for (int64_t i = n; i < size_; ++i) {
      null_count_ -= IsNull(i) ? 1 : 0;
    }
  }
  const bool recount = null_count_ > 0 && size_ - n > n;
  size_ = n;
  validity_.resize(static_cast<size_t>((n + 63) / 64));
  if ((n & 63) != 0) {
    validity_.back() &= (uint64_t{1} << (n & 63)) - 1;
  }
  if (recount) {
    int64_t valid = 0;
    for (uint64_t w : validity_) {
      valid += std::popcount(w);
    }
    null_count_ = n - valid;
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

void Column::AppendValidity(const Column& other, int64_t begin, int64_t count) {
  validity_.resize(static_cast<size_t>((size_ + count + 63) / 64), 0);
  int64_t valid = 0;
  if ((size_ & 63) == 0 && (begin & 63) == 0) {
    // Both word-aligned: the words as they are, bits past `count` cleared.
    const auto from = static_cast<std::ptrdiff_t>(begin >> 6);
    const auto to = static_cast<std::ptrdiff_t>(size_ >> 6);
    std::copy_n(other.validity_.begin() + from, (count + 63) / 64, validity_.begin() + to);
    if ((count & 63) != 0) {
      validity_.back() &= (uint64_t{1} << (count & 63)) - 1;
    }
    for (auto w = validity_.begin() + to; w != validity_.end(); ++w) {
      valid += std::popcount(*w);
    }
  } else {
    const bool all_valid = other.null_count_ == 0;
    for (int64_t i = 0; i < count; ++i) {
      if (all_valid || other.IsValid(begin + i)) {
        const int64_t j = size_ + i;
        validity_[static_cast<size_t>(j >> 6)] |= uint64_t{1} << (j & 63);
        ++valid;
      }
    }
  }
  null_count_ += count - valid;
}

void Column::AppendColumn(const Column& other) { AppendRange(other, 0, other.size_); }

void Column::AppendRange(const Column& other, int64_t begin, int64_t count) {
  const auto b = static_cast<size_t>(begin), n = static_cast<size_t>(count);
  AppendValidity(other, begin, count);
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
      // Grown geometrically: reserving the exact size on every call made appending many
      // small columns quadratic.
      if (offsets_.capacity() < offsets_.size() + n) {
        offsets_.reserve(std::max(offsets_.size() + n, 2 * offsets_.capacity()));
      }
      for (size_t i = 1; i <= n; ++i) {
        offsets_.push_back(base + other.offsets_[b + i] - from);
      }
      break;
    }
  }
  size_ += count;
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

namespace {

enum EncodedNulls : char { kNoNulls = 0, kSomeNulls = 1, kAllNulls = 2 };

template <typename T>
void AppendBytes(std::string& out, const std::vector<T>& v, size_t n) {
  if (n > 0) {
    out.append(reinterpret_cast<const char*>(v.data()), n * sizeof(T));
  }
}

// Whether n values of T fit between p and end (no overflow of n * sizeof(T)).
template <typename T>
bool Fits(const char* p, const char* end, size_t n) {
  return n <= static_cast<size_t>(end - p) / sizeof(T);
}

// n values of T from p into v; false when they would pass `end`.
template <typename T>
bool ReadValues(const char*& p, const char* end, std::vector<T>& v, size_t n) {
  if (!Fits<T>(p, end, n)) {
    return false;
  }
  if (n == 0) {
    return true;  // (memcpy to an empty vector's null data is undefined, even of nothing)
  }
  const size_t at = v.size();
  v.resize(at + n);
  std::memcpy(v.data() + at, p, n * sizeof(T));
  p += n * sizeof(T);
  return true;
}

}  // namespace

void Column::EncodeTo(std::string& out) const {
  const auto n = static_cast<size_t>(size_);
  out.push_back(null_count_ == 0 ? kNoNulls : kSomeNulls);
  if (null_count_ > 0) {
    AppendBytes(out, validity_, (n + 63) / 64);
  }
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      AppendBytes(out, ints_, n);
      break;
    case DataType::kFloat64:
      AppendBytes(out, doubles_, n);
      break;
    case DataType::kBool:
      AppendBytes(out, bools_, n);
      break;
    case DataType::kString:
      // The offsets after the first (which is 0), then the bytes.
      out.append(reinterpret_cast<const char*>(offsets_.data() + 1), n * sizeof(uint64_t));
      out.append(chars_);
      break;
  }
}

void Column::EncodeNulls(std::string& out) { out.push_back(kAllNulls); }

const char* Column::AppendEncoded(const char* p, const char* end, int64_t rows) {
  if (p == end || rows < 0) {
    return nullptr;
  }
  const char flag = *p++;
  const auto n = static_cast<size_t>(rows);
  if (flag == kAllNulls) {
    for (int64_t i = 0; i < rows; ++i) {
      AppendNull();
    }
    return p;
  }
  if (flag != kNoNulls && flag != kSomeNulls) {
    return nullptr;
  }
  // The validity first (size_ moves only at the end); nothing is appended to a column
  // before every check passed.
  const size_t words = n / 64 + (n % 64 != 0 ? 1 : 0);
  if (flag == kSomeNulls && !Fits<uint64_t>(p, end, words)) {
    return nullptr;
  }
  const char* bits = p;
  if (flag == kSomeNulls) {
    p += words * sizeof(uint64_t);
  }
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      if (!ReadValues(p, end, ints_, n)) {
        return nullptr;
      }
      break;
    case DataType::kFloat64:
      if (!ReadValues(p, end, doubles_, n)) {
        return nullptr;
      }
      break;
    case DataType::kBool:
      if (!ReadValues(p, end, bools_, n)) {
        return nullptr;
      }
      break;
    case DataType::kString: {
      if (!Fits<uint64_t>(p, end, n)) {
        return nullptr;
      }
      // The ends must rise and stay within the bytes that follow them.
      const char* ends = p;
      p += n * sizeof(uint64_t);
      uint64_t previous = 0;
      for (size_t i = 0; i < n; ++i) {
        uint64_t e = 0;
        std::memcpy(&e, ends + i * sizeof(uint64_t), sizeof(e));
        if (e < previous || e > static_cast<uint64_t>(end - p)) {
          return nullptr;
        }
        previous = e;
      }
      const uint64_t base = chars_.size();
      chars_.append(p, previous);
      p += previous;
      for (size_t i = 0; i < n; ++i) {
        uint64_t e = 0;
        std::memcpy(&e, ends + i * sizeof(uint64_t), sizeof(e));
        offsets_.push_back(base + e);
      }
      break;
    }
  }
  validity_.resize(static_cast<size_t>((size_ + rows + 63) / 64), 0);
  for (int64_t i = 0; i < rows; ++i) {
    uint64_t word = ~uint64_t{0};
    if (flag == kSomeNulls) {
      std::memcpy(&word, bits + (i >> 6) * 8, sizeof(word));
    }
    if ((word >> (i & 63)) & 1) {
      const int64_t j = size_ + i;
      validity_[static_cast<size_t>(j >> 6)] |= uint64_t{1} << (j & 63);
    } else {
      ++null_count_;
    }
  }
  size_ += rows;
  return p;
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
