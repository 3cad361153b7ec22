// StringIndex: distinct strings numbered in the order they were first added,
// for the hot paths that look up a short categorical value per row (one-hot
// encoding, the prediction log's dictionaries). An open-addressing table with
// linear probing whose slots hold a string of up to 16 bytes as its length and
// two machine words: finding such a string hashes and compares those words,
// without a call to a hash function or memcmp and without touching the string
// stored. Longer strings are hashed with XXH3 and compared in full. Clear
// costs the number of strings added, not the table's size, so one index can be
// reused per request.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::table {

class StringIndex {
 public:
  StringIndex();

  // The code of `s` (0, 1, ... in the order strings were first added), adding
  // it when it is new; `*added` says whether it was.
  int32_t Add(std::string_view s, bool* added = nullptr) {
    const Key k = KeyOf(s);
    const size_t at = Probe(k, s);
    const bool is_new = slots_[at].code < 0;
    if (added != nullptr) {
      *added = is_new;
    }
    return is_new ? Insert(at, k, s) : slots_[at].code;
  }
  // The code of `s`, or -1 when it was never added.
  int32_t Find(std::string_view s) const {
    const Key k = KeyOf(s);
    return slots_[Probe(k, s)].code;  // an empty slot's code is -1
  }
  // The string of `code`.
  std::string_view Get(int32_t code) const {
    return {chars_.data() + offsets_[static_cast<size_t>(code)],
            offsets_[static_cast<size_t>(code) + 1] - offsets_[static_cast<size_t>(code)]};
  }
  size_t size() const { return offsets_.size() - 1; }
  // Forgets every string, keeping the memory.
  void Clear();

 private:
  struct Key {
    uint64_t lo = 0;
    uint64_t hi = 0;  // 0 for a long string, whose `lo` is its XXH3 hash
    uint32_t len = 0;
  };
  struct Slot {
    Key key;
    int32_t code = -1;  // -1: empty
  };
  // Up to 16 bytes go into two words that, with the length, determine the
  // string: 8 to 16 bytes as its first and last 8 (overlapping), 4 to 7 as its
  // first and last 4, 1 to 3 as its first, middle and last byte.
  static Key KeyOf(std::string_view s) {
    Key k;
    k.len = static_cast<uint32_t>(s.size());
    const char* p = s.data();
    const size_t n = s.size();
    if (n > 16) {
      k.lo = LongHash(s);
    } else if (n >= 8) {
      std::memcpy(&k.lo, p, 8);
      std::memcpy(&k.hi, p + n - 8, 8);
    } else if (n >= 4) {
      uint32_t a = 0;
      uint32_t b = 0;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      k.lo = a;
      k.hi = b;
    } else if (n > 0) {
      k.lo = static_cast<uint64_t>(static_cast<unsigned char>(p[0])) |
             static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
             static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16;
    }
    return k;
  }
  static uint64_t LongHash(std::string_view s);
  // The top bits of one multiplication, which depend on every bit of the key.
  size_t SlotOf(const Key& k) const {
    const uint64_t x = (k.lo ^ (k.hi << 29 | k.hi >> 35)) + k.len;
    return static_cast<size_t>((x * 0x9e3779b97f4a7c15ull) >> shift_);
  }
  // The slot holding `s` (key `k`), or the empty slot where its search ended.
  size_t Probe(const Key& k, std::string_view s) const {
    const size_t mask = slots_.size() - 1;
    size_t at = SlotOf(k);
    while (slots_[at].code >= 0 && !Matches(slots_[at], k, s)) {
      at = (at + 1) & mask;
    }
    return at;
  }
  bool Matches(const Slot& slot, const Key& k, std::string_view s) const {
    if (slot.key.lo != k.lo || slot.key.hi != k.hi || slot.key.len != k.len) {
      return false;
    }
    return k.len <= 16 || Get(slot.code) == s;
  }
  // Puts `s` in the empty slot `at` (where Probe ended).
  int32_t Insert(size_t at, const Key& k, std::string_view s);
  void Grow();

  std::vector<Slot> slots_;      // a power of two, at most half full
  std::vector<uint32_t> used_;   // the slots holding a string, for Clear
  std::string chars_;            // the strings, one after another
  std::vector<size_t> offsets_;  // string i is chars_[offsets_[i], offsets_[i + 1])
  int shift_ = 0;                // 64 - log2(slots_.size())
};

}  // namespace plinth::table
