// features.yaml: what a feature store holds (docs/FEATURES.md), read and checked.
//
//   online_store: sqlite                 # sqlite[:PATH] (default .plinth/online.db) or redis://...
//   entities:
//     airport: {join_keys: {origin: string}, description: ...}
//   feature_groups:
//     weather:
//       entity: airport                  # or entities: [a, b]
//       source: data/weather.parquet     # a file or folder, or {query: SELECT ..., tables: {...}}
//       event_timestamp: time_hour       # absent: a dimension joined on its keys alone
//       created_timestamp: loaded_at     # optional: breaks ties between equal event times
//       ttl: 3h                          # s, m, h, d; absent or 0: no bound
//       features: {temp: float64, humid: float64}
//       description: ...
//       owner: ...
//       tags: {team: ops}
//   on_demand_features:
//     temp_c: {expression: (temp - 32) * 5 / 9, type: float64, request: {}}
//   feature_services:
//     delays: {features: [weather:temp, weather:humid, temp_c]}
//
// Paths are relative to the file's folder and must stay inside it. Every error names the file
// and line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "features/source.h"
#include "table/table.h"
#include "table/types.h"

namespace plinth::features {

struct Entity {
  std::string name;
  std::vector<table::Field> join_keys;
  std::string description;
};

struct FeatureGroup {
  std::string name;
  int64_t version = 0;  // 0 until recorded by a registry
  std::vector<std::string> entities;
  std::vector<table::Field> join_keys;  // the entities' keys, in order
  Source source;
  std::string event_timestamp;    // "": none
  std::string created_timestamp;  // "": none
  std::optional<int64_t> ttl_us;  // none: no bound
  std::vector<table::Field> features;
  // Metadata: changing it does not make a new version.
  std::string description;
  std::string owner;
  std::map<std::string, std::string> tags;

  // "weather@2" (or the name alone before it is recorded).
  std::string Label() const;
  const table::Field* Feature(std::string_view feature) const;
};

// A feature computed at lookup time from stored features and request values.
struct OnDemandFeature {
  std::string name;
  std::string expression;  // the rule language (quality/expr.h)
  table::DataType type = table::DataType::kFloat64;
  std::vector<table::Field> request;  // values the request carries
  std::string description;
};

// One feature a service names: a group's (group@version:feature) or an on-demand one.
struct FeatureRef {
  std::string group;    // "" for an on-demand feature
  int64_t version = 0;  // 0: the group's latest
  std::string feature;
  std::string Text() const;  // "weather:temp", "weather@2:temp", "temp_c"
};

struct FeatureService {
  std::string name;
  int64_t version = 0;
  std::vector<FeatureRef> features;
  std::string description;
};

struct Definitions {
  std::string file;          // the features.yaml read, for messages
  std::string root;          // its folder (absolute): recorded paths are relative to it
  std::string online_store;  // "sqlite:///ABS" or "redis://..."
  std::vector<Entity> entities;
  std::vector<FeatureGroup> groups;
  std::vector<OnDemandFeature> on_demand;
  std::vector<FeatureService> services;

  const Entity* FindEntity(std::string_view name) const;
  const FeatureGroup* FindGroup(std::string_view name) const;
  const OnDemandFeature* FindOnDemand(std::string_view name) const;
  const FeatureService* FindService(std::string_view name) const;
};

// Parses "3h", "90m", "45s", "2d", "1d12h" or a whole number of seconds into microseconds;
// kInvalidArgument naming `what` otherwise. Up to 100 years.
Result<int64_t> ParseDuration(std::string_view text, std::string_view what);
// The same duration as ParseDuration reads it back ("3h", "1d12h", "0s").
std::string FormatDuration(int64_t micros);

// Parses a features.yaml (`text`, named `source` in errors, paths relative to `dir`). Checks
// the file alone: names, types, references between its parts, on-demand expressions; not the
// sources' columns (CheckSources).
Result<Definitions> ParseDefinitions(std::string_view text, std::string_view source,
                                     const std::string& dir);
Result<Definitions> ReadDefinitions(const std::string& path);

// Reads each group's source schema and checks that its keys, timestamps and features are there
// with the types defined (an int64 column may feed a float64 feature); kInvalidArgument naming
// the group, column and both types otherwise.
Status CheckSources(const Definitions& defs);

// A group's definition as recorded, its source paths relative to `root` (so that a project
// moved elsewhere keeps its versions), and back (relative paths resolved against `root`).
core::Json GroupToJson(const FeatureGroup& g, const std::string& root = "");
Result<FeatureGroup> GroupFromJson(const core::Json& j, const std::string& root = "");
core::Json ServiceToJson(const FeatureService& s);
Result<FeatureService> ServiceFromJson(const core::Json& j);
core::Json EntityToJson(const Entity& e);
Result<Entity> EntityFromJson(const core::Json& j);
core::Json OnDemandToJson(const OnDemandFeature& f);
Result<OnDemandFeature> OnDemandFromJson(const core::Json& j);

// Computes `f` over the rows of `input` (which must hold its request values and the stored
// features it reads; `inputs` names them in errors: "the entities", "the request"), as a
// column of its type.
Result<table::Column> ComputeOnDemand(const OnDemandFeature& f, const table::Table& input,
                                      std::string_view inputs);

// Parses "group[@N]:feature" or an on-demand feature's bare name.
Result<FeatureRef> ParseFeatureRef(std::string_view text);

}  // namespace plinth::features
