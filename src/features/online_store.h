// The online store: the latest value of each feature group's features per entity, for lookups
// at inference. One interface, two stores (and one conformance suite,
// tests/unit/features/online_store_test.cc):
//   sqlite:///ABS/PATH  embedded (the default, .plinth/online.db beside features.yaml): a
//                       SQLite file, so it survives restarts; lookups from many threads;
//   redis://[:PASSWORD@]HOST[:PORT][/DB]  Redis (hiredis; redis_store.cc): for many servers
//                       sharing one store; one pipelined round trip per lookup.
//
// A row is one entity of one group version ("weather@2"): its key (the join keys' values,
// EncodeKey) and its values with their event time (EncodeValues), written whole, so a reader
// sees a row entirely old or entirely new. A write never replaces a newer row: the stored
// one stays when its event time is later, or equal with a later created time. Each group
// version also has a watermark: the end of the last materialization that finished.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "table/table.h"

namespace plinth::features {

inline constexpr int64_t kNoCreated = INT64_MIN;

struct OnlineRow {
  std::string key;    // EncodeKey
  std::string value;  // EncodeValues
  int64_t event_us = 0;
  int64_t created_us = kNoCreated;
};

class OnlineStore {
 public:
  virtual ~OnlineStore() = default;

  // Writes `rows` of `table` (newer rows win, see above), each row whole. SQLite: all or
  // nothing per call. Redis: in scripts of at most 1,000 rows sent in one pipeline; a failure
  // may leave some of the rows written (each whole, never older than what it replaced).
  virtual Status Write(const std::string& table, const std::vector<OnlineRow>& rows) = 0;

  // Looks up each (table, key) at once; `values` gets, per key, the stored value or nothing.
  // Thread-safe.
  virtual Status Get(const std::vector<std::pair<std::string_view, std::string_view>>& keys,
                     std::vector<std::optional<std::string>>* values) = 0;

  virtual Result<std::optional<int64_t>> Watermark(const std::string& table) = 0;
  virtual Status SetWatermark(const std::string& table, int64_t end_us) = 0;

  // Whether writes are much faster with rows in key order (a B-tree on disk).
  virtual bool WantsKeyOrder() const { return false; }
};

// Opens the store `uri` names. An embedded store's file is created when `create`, else its
// absence is kNotFound ("nothing materialized yet"); anything but a regular file there is
// refused.
Result<std::unique_ptr<OnlineStore>> OpenOnlineStore(const std::string& uri, bool create = true);

// The key of row `row` of `keys` (the join key columns, in the group's order); nullopt when
// any is null. Keys compare as bytes in the order of their values (integers and times as
// numbers, strings as bytes), so rows in key order are written in key order.
std::optional<std::string> EncodeKey(const std::vector<const table::Column*>& keys, int64_t row);

// Row `row` of `features` with its event and created times, as stored.
std::string EncodeValues(const std::vector<const table::Column*>& features, int64_t row,
                         int64_t event_us, int64_t created_us);

// Appends the values of `value` (nullopt: a missing row, all null) to `out` (one column per
// feature, of the feature's type) and gives its event time. kCorruption when the value was not
// written for these features (another count or type: the group changed without a new
// materialization), naming `what`.
Status DecodeValues(const std::optional<std::string>& value, const std::vector<table::Column*>& out,
                    int64_t* event_us, std::string_view what);

}  // namespace plinth::features
