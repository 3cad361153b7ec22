#include "table/hashing.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace plinth::table {
namespace {

bool SameValue(const Column& c, int64_t a, int64_t b) {
  bool va = c.IsValid(a), vb = c.IsValid(b);
  if (!va || !vb) {
    return va == vb;
  }
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      return c.ints()[a] == c.ints()[b];
    case DataType::kFloat64:
      return c.doubles()[a] == c.doubles()[b];
    case DataType::kBool:
      return c.bools()[a] == c.bools()[b];
    case DataType::kString:
      return c.GetString(a) == c.GetString(b);
  }
  return false;
}

}  // namespace

std::vector<uint64_t> HashColumn(const Column& col) {
  const int64_t n = col.size();
  std::vector<uint64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (col.IsNull(i)) {
      out[i] = kNullHash;
      continue;
    }
    switch (col.type()) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        out[i] = MixHash(static_cast<uint64_t>(col.ints()[i]));
        break;
      case DataType::kFloat64: {
        double v = col.doubles()[i];
        if (v == 0) {
          v = 0;
        }
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        out[i] = MixHash(bits);
        break;
      }
      case DataType::kBool:
        out[i] = MixHash(col.bools()[i] ? 0x51 : 0x50);
        break;
      case DataType::kString: {
        std::string_view s = col.GetString(i);
        out[i] = XXH3_64bits(s.data(), s.size());
        break;
      }
    }
  }
  return out;
}

std::vector<uint64_t> HashRows(const Table& t, std::span<const size_t> cols) {
  std::vector<uint64_t> rows(static_cast<size_t>(t.num_rows()), kRowHashSeed);
  for (size_t k = 0; k < cols.size(); ++k) {
    std::vector<uint64_t> h = HashColumn(t.column(cols[k]));
    for (size_t r = 0; r < rows.size(); ++r) {
      rows[r] = CombineHash(rows[r], h[r], k);
    }
  }
  return rows;
}

std::vector<int64_t> FirstOccurrence(const Table& t, std::span<const size_t> cols) {
  std::vector<uint64_t> h = HashRows(t, cols);
  auto equal_rows = [&](int64_t a, int64_t b) {
    for (size_t c : cols) {
      if (!SameValue(t.column(c), a, b)) {
        return false;
      }
    }
    return true;
  };
  // One pass in row order over an open-addressing table of the first row of
  // each distinct value (linear probing; a slot per distinct row, so rows that
  // share a hash but differ each keep their own). O(rows), unlike sorting.
  size_t capacity = 16;
  while (capacity < 2 * h.size()) {
    capacity <<= 1;
  }
  std::vector<int64_t> slots(capacity, -1);
  std::vector<int64_t> first(h.size());
  for (size_t r = 0; r < h.size(); ++r) {
    const int64_t row = static_cast<int64_t>(r);
    for (size_t i = h[r] & (capacity - 1);; i = (i + 1) & (capacity - 1)) {
      const int64_t s = slots[i];
      if (s < 0) {
        slots[i] = row;
        first[r] = row;
        break;
      }
      if (h[static_cast<size_t>(s)] == h[r] && equal_rows(s, row)) {
        first[r] = s;
        break;
      }
    }
  }
  return first;
}

}  // namespace plinth::table
