// The online half of the feature store: materialization (offline sources -> online store) and
// lookups (entity keys -> the latest feature values), in the request and response shape of
// Feast's feature server (POST /get-online-features), so Feast's HTTP clients work.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "features/definitions.h"
#include "features/online_store.h"
#include "table/table.h"

namespace plinth::features {

// The online store's name for a group version's rows ("weather@2").
std::string OnlineTable(const FeatureGroup& g);

struct MaterializeOptions {
  std::vector<std::string> groups;  // empty: every group
  // The window of event times loaded, both ends inclusive. Incremental: from each group's
  // watermark (else its ttl before `end_us`, else the beginning); otherwise from `start_us`
  // (nullopt: the beginning). The watermark moves to `end_us` when that is later and the window
  // joins what was loaded before (starts at or before the watermark).
  std::optional<int64_t> start_us;
  int64_t end_us = 0;
  bool incremental = false;
};

struct Materialized {
  std::string group;  // weather@2
  std::optional<int64_t> start_us;
  int64_t end_us = 0;
  int64_t rows = 0;  // entities written
};

// Loads, for each group, the latest row per entity with an event time in the window (ties: the
// latest created, then the last read) into `store`, then moves the group's watermark to the
// window's end. A group without an event timestamp loads its last row per key whatever the
// window. Stopped part way (an error, a crash), a group keeps its old watermark and every row
// already written is a whole row; running again writes the rest (a written row never replaces
// a newer one). `progress` hears each group's rows as they are written.
Result<std::vector<Materialized>> Materialize(
    const Definitions& defs, OnlineStore& store, const MaterializeOptions& options,
    const std::function<void(const std::string& group, int64_t rows)>& progress);

// The features a request names: a service's (with the group versions it recorded), or refs
// (group[@N]:feature, or an on-demand feature's name) against the latest groups. kNotFound
// naming an unknown service, group or feature.
Result<std::vector<FeatureRef>> ResolveFeatures(const Definitions& defs, const std::string& service,
                                                const std::vector<std::string>& refs);

// Refuses two features that would come out under one name ("temp" from two groups, or two
// versions of one): Feast's rule, unless full names ("weather__temp") tell them apart.
Status CheckOutputNames(const std::vector<FeatureRef>& features, bool full_feature_names);

// The type of each value a request may carry: join keys (from their entities), then the
// request values of on-demand features.
std::map<std::string, table::DataType> RequestColumnTypes(const Definitions& defs);

enum class FeatureStatus : uint8_t { kPresent, kNotFound, kNullValue, kOutsideMaxAge };
std::string_view FeatureStatusName(FeatureStatus s);  // "PRESENT", "NOT_FOUND", ...

struct OnlineQuery {
  std::vector<FeatureRef> features;
  // One column per join key (and per request value an on-demand feature reads), one row per
  // entity; join keys in the order the client gave them.
  table::Table entities;
  bool full_feature_names = false;  // "weather__temp" instead of "temp"
};

struct OnlineAnswer {
  std::vector<std::string> names;     // join keys, then the features
  std::vector<table::Column> values;  // per name, one row per entity
  std::vector<std::vector<FeatureStatus>> statuses;
  std::vector<std::vector<int64_t>> event_us;  // 0 where there is none
};

// Looks every feature up for every entity, in one call to the store. A value older than its
// group's ttl at `now_us` is OUTSIDE_MAX_AGE and null (the offline join's rule, so training
// and serving agree); a key the store does not hold is NOT_FOUND and null. On-demand features
// are computed from the looked-up values and the request's values.
// `groups` resolves a ref's group version (the registry's, or the latest of `defs`).
Result<OnlineAnswer> LookupOnline(
    const Definitions& defs, const std::function<Result<FeatureGroup>(const FeatureRef&)>& groups,
    OnlineStore& store, const OnlineQuery& query, int64_t now_us);

// A Feast get-online-features body: {"features": [...]} or {"feature_service": "..."},
// {"entities": {key: [values]}}, "full_feature_names". kInvalidArgument for a malformed body,
// kNotFound for unknown names (Feast answers 422 and 404).
struct FeastRequest {
  std::string service;
  std::vector<std::string> features;
  OnlineQuery query;
};
Result<FeastRequest> ParseFeastRequest(std::string_view body, const Definitions& defs);

// The answer in Feast's shape: {"metadata": {"feature_names": [...]}, "results": [{"values",
// "statuses", "event_timestamps"}, ...]} (one result per name, entities in request order).
std::string FeastResponseJson(const OnlineAnswer& answer);

}  // namespace plinth::features
