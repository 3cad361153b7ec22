// Hashing of column values and rows, and exact grouping of rows by key.
// Nulls hash alike and compare equal to each other (as pandas' duplicated()).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "table/table.h"

namespace plinth::table {

inline constexpr uint64_t kNullHash = 0x9e3779b97f4a7c15ull;

// Mixes a 64-bit value into a well-distributed hash (splitmix64 finalizer).
inline uint64_t MixHash(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// The seed of a row hash, and how each column's value hash folds into it.
inline constexpr uint64_t kRowHashSeed = 0x243f6a8885a308d3ull;
inline uint64_t CombineHash(uint64_t row, uint64_t value, size_t column_index) {
  return MixHash(row ^ (value + 0x9e3779b97f4a7c15ull * (column_index + 1)));
}

// One 64-bit hash per row of `col` (kNullHash for nulls; 0.0 and -0.0 alike).
std::vector<uint64_t> HashColumn(const Column& col);

// One hash per row over the columns `cols` of `t`.
std::vector<uint64_t> HashRows(const Table& t, std::span<const size_t> cols);

// For each row, the index of the first row whose values in `cols` are equal to
// its own (itself when it is the first). Exact: equal hashes are confirmed by
// comparing the values.
std::vector<int64_t> FirstOccurrence(const Table& t, std::span<const size_t> cols);

}  // namespace plinth::table
