#include "table/string_index.h"

#include <xxhash.h>

#include <bit>

namespace plinth::table {
namespace {

constexpr size_t kInitialSlots = 16;

}  // namespace

StringIndex::StringIndex()
    : slots_(kInitialSlots), offsets_{0}, shift_(64 - std::countr_zero(kInitialSlots)) {}

uint64_t StringIndex::LongHash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

int32_t StringIndex::Insert(size_t at, const Key& k, std::string_view s) {
  const auto code = static_cast<int32_t>(size());
  slots_[at] = Slot{k, code};
  used_.push_back(static_cast<uint32_t>(at));
  chars_.append(s);
  offsets_.push_back(chars_.size());
  if (2 * used_.size() > slots_.size()) {
    Grow();
  }
  return code;
}

void StringIndex::Grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, Slot{});
  --shift_;
  const size_t mask = slots_.size() - 1;
  used_.clear();
  for (const Slot& slot : old) {
    if (slot.code < 0) {
      continue;
    }
    size_t at = SlotOf(slot.key);
    while (slots_[at].code >= 0) {
      at = (at + 1) & mask;
    }
    slots_[at] = slot;
    used_.push_back(static_cast<uint32_t>(at));
  }
}

void StringIndex::Clear() {
  for (uint32_t at : used_) {
    slots_[at].code = -1;
  }
  used_.clear();
  chars_.clear();
  offsets_.resize(1);
}

}  // namespace plinth::table
