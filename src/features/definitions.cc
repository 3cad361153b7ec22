#include "features/definitions.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>
#include <system_error>

#include "core/file.h"
#include "core/hash.h"
#include "core/yaml.h"
#include "quality/expr.h"
#include "table/duckdb.h"
#include "table/parquet.h"
#include "table/reader.h"

namespace plinth::features {
namespace {

namespace fs = std::filesystem;
using core::Json;
using table::DataType;
using table::Field;

constexpr uint64_t kMaxFileBytes = 4 << 20;
constexpr size_t kMaxObjects = 10000;  // of each kind
constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxColumns = 2000;      // in one mapping of columns, or one service's list
constexpr size_t kMaxYamlNodes = 100000;  // in the whole file, aliases counted where used
constexpr size_t kMaxExpressionBytes = 10000;
constexpr int64_t kMaxDurationUs = int64_t{100} * 366 * 86400 * 1000000;

// Object names: a letter or '_', then letters, digits, '_', '-' and '.' (they appear in
// "group@2:feature", keys and file names).
bool IsObjectName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameBytes ||
      !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// Column names: 1 to 256 bytes without control characters.
bool IsColumnName(std::string_view s) {
  return !s.empty() && s.size() <= 256 && std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 32;
  });
}

class Parser {
 public:
  Parser(std::string_view source, std::string dir) : source_(source), dir_(std::move(dir)) {}

  Status Error(const YAML::Node& at, const std::string& what) const {
    return InvalidArgument(core::YamlWhere(at, source_) + ": " + what);
  }

  Result<std::string> Text(const YAML::Node& map, std::string_view key, bool required,
                           std::string_view what) const {
    const YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) {
      if (required) {
        return Error(map, std::string(what) + ": key '" + std::string(key) + "': missing");
      }
      return std::string();
    }
    return core::YamlAs<std::string>(n, core::YamlWhere(n, source_), key, "text");
  }

  Result<std::string> Name(const YAML::Node& key_node, std::string_view kind) const {
    PLINTH_ASSIGN_OR_RETURN(
        std::string name,
        core::YamlAs<std::string>(key_node, core::YamlWhere(key_node, source_), kind, "a name"));
    if (!IsObjectName(name)) {
      return Error(key_node, std::string(kind) + " '" + name +
                                 "': expected a name of letters, digits, '_', '-' and '.' "
                                 "starting with a letter or '_' (at most 128 bytes)");
    }
    return name;
  }

  // A mapping of column -> type name, in the file's order.
  Result<std::vector<Field>> Columns(const YAML::Node& map, std::string_view key,
                                     std::string_view what, bool required) const {
    const YAML::Node n = map[std::string(key)];
    std::vector<Field> out;
    if (!n.IsDefined() || n.IsNull()) {
      if (required) {
        return Error(map, std::string(what) + ": key '" + std::string(key) +
                              "': missing (expected a mapping of column: type)");
      }
      return out;
    }
    if (!n.IsMap()) {
      return Error(n, std::string(what) + ": key '" + std::string(key) +
                          "': expected a mapping of column: type");
    }
    std::set<std::string> seen;
    for (const auto& kv : n) {
      PLINTH_ASSIGN_OR_RETURN(
          std::string col, core::YamlAs<std::string>(kv.first, core::YamlWhere(kv.first, source_),
                                                     key, "a column name"));
      if (!IsColumnName(col)) {
        return Error(kv.first, std::string(what) + ": '" + col +
                                   "': expected a column name (1 to 256 bytes, no control "
                                   "characters)");
      }
      if (!seen.insert(col).second) {
        return Error(kv.first, std::string(what) + ": column '" + col + "' given twice");
      }
      PLINTH_ASSIGN_OR_RETURN(
          std::string type_name,
          core::YamlAs<std::string>(kv.second, core::YamlWhere(kv.second, source_), col, "a type"));
      Result<DataType> type = table::ParseTypeName(type_name);
      if (!type.ok()) {
        return Error(kv.second,
                     std::string(what) + ": column '" + col + "': " + type.status().message());
      }
      out.push_back({col, *type});
    }
    if (required && out.empty()) {
      return Error(n, std::string(what) + ": key '" + std::string(key) +
                          "': expected at least "
                          "one column");
    }
    return out;
  }

  // A path relative to the file's folder, resolved (symbolic links followed) and kept inside it.
  Result<std::string> Path(const YAML::Node& n, std::string_view what) const {
    PLINTH_ASSIGN_OR_RETURN(
        std::string rel, core::YamlAs<std::string>(n, core::YamlWhere(n, source_), what, "a path"));
    if (rel.empty() || rel.find('\0') != std::string::npos) {
      return Error(n, std::string(what) + ": expected a path");
    }
    std::error_code ec;
    const fs::path root = fs::weakly_canonical(dir_, ec);
    fs::path p = fs::path(rel).is_absolute() ? fs::path(rel) : fs::path(dir_) / rel;
    p = fs::weakly_canonical(p, ec);
    if (ec) {
      return Error(n, std::string(what) + ": " + rel + ": " + ec.message());
    }
    const std::string abs = p.string();
    const std::string r = root.string();
    const std::string prefix = r == "/" ? r : r + "/";
    if (abs != r && abs.compare(0, prefix.size(), prefix) != 0) {
      return Error(n, std::string(what) + ": " + rel + " leads outside " + r +
                          " (sources must be inside the folder of the features file)");
    }
    return abs;
  }

  Result<std::optional<int64_t>> Ttl(const YAML::Node& map, std::string_view what) const {
    const YAML::Node n = map["ttl"];
    if (!n.IsDefined() || n.IsNull()) {
      return std::optional<int64_t>();
    }
    PLINTH_ASSIGN_OR_RETURN(
        std::string text,
        core::YamlAs<std::string>(n, core::YamlWhere(n, source_), "ttl", "a duration"));
    Result<int64_t> us = ParseDuration(text, std::string(what) + ": ttl");
    if (!us.ok()) {
      return Error(n, us.status().message());
    }
    if (*us == 0) {
      return std::optional<int64_t>();
    }
    return std::optional<int64_t>(*us);
  }

  // A mapping of names -> mappings (entities:, feature_groups:, ...), each checked by `each`.
  Status EachNamed(const YAML::Node& root, std::string_view key, std::string_view kind,
                   const std::function<Status(const std::string&, const YAML::Node&)>& each) {
    const YAML::Node n = root[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) {
      return Status::Ok();
    }
    if (!n.IsMap()) {
      return Error(n, "key '" + std::string(key) + "': expected a mapping of " + std::string(kind) +
                          " names to definitions");
    }
    if (n.size() > kMaxObjects) {
      return Error(n, "key '" + std::string(key) + "': more than " + std::to_string(kMaxObjects) +
                          " definitions");
    }
    std::set<std::string> seen;
    for (const auto& kv : n) {
      PLINTH_ASSIGN_OR_RETURN(std::string name, Name(kv.first, kind));
      if (!seen.insert(name).second) {
        return Error(kv.first, std::string(kind) + " '" + name + "' defined twice");
      }
      if (!kv.second.IsMap()) {
        return Error(kv.second, std::string(kind) + " '" + name + "': expected a mapping");
      }
      PLINTH_RETURN_IF_ERROR(each(name, kv.second));
    }
    return Status::Ok();
  }

  Result<Definitions> Parse(const YAML::Node& root) {
    Definitions d;
    if (!root.IsMap()) {
      return InvalidArgument(std::string(source_) +
                             ": expected a mapping with entities, feature_groups, "
                             "on_demand_features and feature_services");
    }
    PLINTH_RETURN_IF_ERROR(core::YamlCheckKeys(
        root, source_, "features file",
        {"online_store", "entities", "feature_groups", "on_demand_features", "feature_services"}));
    PLINTH_RETURN_IF_ERROR(OnlineStore(root, d));
    std::set<std::string> names;  // groups and on-demand features share the services' namespace
    PLINTH_RETURN_IF_ERROR(
        EachNamed(root, "entities", "entity", [&](const std::string& name, const YAML::Node& m) {
          const std::string what = "entity " + name;
          PLINTH_RETURN_IF_ERROR(
              core::YamlCheckKeys(m, source_, what, {"join_keys", "description"}));
          Entity e{name, {}, {}};
          PLINTH_ASSIGN_OR_RETURN(e.join_keys, Columns(m, "join_keys", what, true));
          PLINTH_ASSIGN_OR_RETURN(e.description, Text(m, "description", false, what));
          entities_[name] = d.entities.size();
          d.entities.push_back(std::move(e));
          return Status::Ok();
        }));
    PLINTH_RETURN_IF_ERROR(EachNamed(root, "feature_groups", "feature group",
                                     [&](const std::string& name, const YAML::Node& m) {
                                       PLINTH_ASSIGN_OR_RETURN(FeatureGroup g, Group(name, m, d));
                                       names.insert(name);
                                       groups_[name] = d.groups.size();
                                       d.groups.push_back(std::move(g));
                                       return Status::Ok();
                                     }));
    PLINTH_RETURN_IF_ERROR(EachNamed(
        root, "on_demand_features", "on-demand feature",
        [&](const std::string& name, const YAML::Node& m) {
          if (names.count(name) != 0) {
            return Error(m, "on-demand feature '" + name + "': a feature group has that name");
          }
          PLINTH_ASSIGN_OR_RETURN(OnDemandFeature f, OnDemand(name, m));
          on_demand_[name] = d.on_demand.size();
          d.on_demand.push_back(std::move(f));
          return Status::Ok();
        }));
    PLINTH_RETURN_IF_ERROR(EachNamed(
        root, "feature_services", "feature service",
        [&](const std::string& name, const YAML::Node& m) {
          if (names.count(name) != 0) {
            // (lineage names both name@version)
            return Error(m, "feature service '" + name + "': a feature group has that name");
          }
          PLINTH_ASSIGN_OR_RETURN(FeatureService s, Service(name, m, d));
          d.services.push_back(std::move(s));
          return Status::Ok();
        }));
    PLINTH_RETURN_IF_ERROR(CheckOnDemandInputs(root, d));
    return d;
  }

 private:
  Status OnlineStore(const YAML::Node& root, Definitions& d) const {
    const YAML::Node n = root["online_store"];
    std::string text = "sqlite";
    if (n.IsDefined() && !n.IsNull()) {
      PLINTH_ASSIGN_OR_RETURN(text, core::YamlAs<std::string>(n, core::YamlWhere(n, source_),
                                                              "online_store", "a store URI"));
    }
    if (text == "sqlite" || text.rfind("sqlite:", 0) == 0) {
      std::string rel = text == "sqlite" ? ".plinth/online.db" : text.substr(7);
      if (rel.rfind("///", 0) == 0) {
        rel = rel.substr(2);
      }
      YAML::Node path_node = n.IsDefined() ? n : root;
      YAML::Node synthetic(rel);
      PLINTH_ASSIGN_OR_RETURN(std::string abs, Path(synthetic, "online_store"));
      (void)path_node;
      d.online_store = "sqlite://" + abs;
      return Status::Ok();
    }
    if (text.rfind("redis://", 0) == 0) {
      d.online_store = text;
      return Status::Ok();
    }
    return Error(n, "online_store: expected sqlite, sqlite:PATH or redis://HOST:PORT[/DB], got \"" +
                        text + "\"");
  }

  Result<FeatureGroup> Group(const std::string& name, const YAML::Node& m, const Definitions& d) {
    const std::string what = "feature group " + name;
    PLINTH_RETURN_IF_ERROR(
        core::YamlCheckKeys(m, source_, what,
                            {"entity", "entities", "source", "event_timestamp", "created_timestamp",
                             "ttl", "features", "description", "owner", "tags"}));
    FeatureGroup g;
    g.name = name;
    const YAML::Node one = m["entity"];
    const YAML::Node many = m["entities"];
    if (one.IsDefined() == many.IsDefined()) {
      return Error(m, what + ": expected one of 'entity' or 'entities'");
    }
    if (one.IsDefined()) {
      PLINTH_ASSIGN_OR_RETURN(
          std::string e, core::YamlAs<std::string>(one, core::YamlWhere(one, source_), "entity",
                                                   "an entity name"));
      g.entities.push_back(e);
    } else {
      if (!many.IsSequence() || many.size() == 0) {
        return Error(many, what + ": key 'entities': expected a list of entity names");
      }
      for (const YAML::Node& e : many) {
        PLINTH_ASSIGN_OR_RETURN(
            std::string s, core::YamlAs<std::string>(e, core::YamlWhere(e, source_), "entities",
                                                     "an entity name"));
        g.entities.push_back(s);
      }
    }
    std::set<std::string> key_names;
    for (const std::string& e : g.entities) {
      const auto found = entities_.find(e);
      const Entity* entity = found == entities_.end() ? nullptr : &d.entities[found->second];
      if (entity == nullptr) {
        return Error(one.IsDefined() ? one : many,
                     what + ": unknown entity '" + e + "' (define it under entities:)");
      }
      for (const Field& k : entity->join_keys) {
        if (!key_names.insert(k.name).second) {
          return Error(m, what + ": join key '" + k.name + "' comes from two entities");
        }
        g.join_keys.push_back(k);
      }
    }
    PLINTH_RETURN_IF_ERROR(GroupSource(m, what, g.source));
    PLINTH_ASSIGN_OR_RETURN(g.event_timestamp, Text(m, "event_timestamp", false, what));
    PLINTH_ASSIGN_OR_RETURN(g.created_timestamp, Text(m, "created_timestamp", false, what));
    if (g.event_timestamp.empty() && !g.created_timestamp.empty()) {
      return Error(m["created_timestamp"], what + ": a created_timestamp needs an event_timestamp");
    }
    PLINTH_ASSIGN_OR_RETURN(g.ttl_us, Ttl(m, what));
    if (g.ttl_us && g.event_timestamp.empty()) {
      return Error(m["ttl"], what + ": a ttl needs an event_timestamp");
    }
    PLINTH_ASSIGN_OR_RETURN(g.features, Columns(m, "features", what, true));
    std::set<std::string> used = key_names;
    for (const std::string& t : {g.event_timestamp, g.created_timestamp}) {
      if (!t.empty() && !used.insert(t).second) {
        return Error(m, what + ": column '" + t + "' is used twice (keys and timestamps)");
      }
    }
    for (const Field& f : g.features) {
      if (used.count(f.name) != 0) {
        return Error(m["features"],
                     what + ": feature '" + f.name + "' is also a join key or timestamp column");
      }
    }
    PLINTH_ASSIGN_OR_RETURN(g.description, Text(m, "description", false, what));
    PLINTH_ASSIGN_OR_RETURN(g.owner, Text(m, "owner", false, what));
    const YAML::Node tags = m["tags"];
    if (tags.IsDefined() && !tags.IsNull()) {
      if (!tags.IsMap()) {
        return Error(tags, what + ": key 'tags': expected a mapping of names to text");
      }
      for (const auto& kv : tags) {
        PLINTH_ASSIGN_OR_RETURN(
            std::string k, core::YamlAs<std::string>(kv.first, core::YamlWhere(kv.first, source_),
                                                     "tags", "a tag name"));
        PLINTH_ASSIGN_OR_RETURN(
            std::string v,
            core::YamlAs<std::string>(kv.second, core::YamlWhere(kv.second, source_), k, "text"));
        if (!g.tags.emplace(k, v).second) {
          return Error(kv.first, what + ": tag '" + k + "' given twice");
        }
      }
    }
    return g;
  }

  Status GroupSource(const YAML::Node& m, const std::string& what, Source& s) const {
    const YAML::Node n = m["source"];
    if (!n.IsDefined() || n.IsNull()) {
      return Error(m, what + ": key 'source': missing (expected a path or {query, tables})");
    }
    if (n.IsScalar()) {
      PLINTH_ASSIGN_OR_RETURN(s.path, Path(n, what + ": source"));
      return Status::Ok();
    }
    PLINTH_RETURN_IF_ERROR(
        core::YamlCheckKeys(n, source_, what + ": source", {"path", "query", "tables"}));
    if (n["path"].IsDefined() == n["query"].IsDefined()) {
      return Error(n, what + ": source: expected one of 'path' or 'query'");
    }
    if (n["path"].IsDefined()) {
      if (n["tables"].IsDefined()) {
        return Error(n["tables"], what + ": source: 'tables' goes with 'query'");
      }
      PLINTH_ASSIGN_OR_RETURN(s.path, Path(n["path"], what + ": source"));
      return Status::Ok();
    }
    PLINTH_ASSIGN_OR_RETURN(s.query, Text(n, "query", true, what + ": source"));
    const YAML::Node tables = n["tables"];
    if (!tables.IsMap() || tables.size() == 0) {
      return Error(tables.IsDefined() ? tables : n,
                   what + ": source: key 'tables': expected a mapping of table names to paths");
    }
    std::set<std::string> lower;
    for (const auto& kv : tables) {
      PLINTH_ASSIGN_OR_RETURN(std::string t, Name(kv.first, "table"));
      std::string folded = t;
      std::transform(folded.begin(), folded.end(), folded.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!lower.insert(folded).second) {
        // SQL names are the same but for case: DuckDB would read both as one.
        return Error(kv.first, what + ": source: table '" + t + "' given twice");
      }
      PLINTH_ASSIGN_OR_RETURN(s.tables[t], Path(kv.second, what + ": table " + t));
    }
    return Status::Ok();
  }

  Result<OnDemandFeature> OnDemand(const std::string& name, const YAML::Node& m) const {
    const std::string what = "on-demand feature " + name;
    PLINTH_RETURN_IF_ERROR(
        core::YamlCheckKeys(m, source_, what, {"expression", "type", "request", "description"}));
    OnDemandFeature f;
    f.name = name;
    PLINTH_ASSIGN_OR_RETURN(f.expression, Text(m, "expression", true, what));
    if (f.expression.size() > kMaxExpressionBytes) {
      return Error(m["expression"], what + ": expression longer than " +
                                        std::to_string(kMaxExpressionBytes) + " bytes");
    }
    Status syntax = quality::CompiledExpr::CheckSyntax(f.expression);
    if (!syntax.ok()) {
      return Error(m["expression"], what + ": " + syntax.message());
    }
    PLINTH_ASSIGN_OR_RETURN(std::string type, Text(m, "type", false, what));
    if (!type.empty()) {
      Result<DataType> t = table::ParseTypeName(type);
      if (!t.ok()) {
        return Error(m["type"], what + ": " + t.status().message());
      }
      f.type = *t;
    }
    if (f.type == DataType::kTimestamp || f.type == DataType::kInt64) {
      return Error(m["type"], what +
                                  ": type: expected float64, bool or string (the rule "
                                  "language computes numbers as float64)");
    }
    PLINTH_ASSIGN_OR_RETURN(f.request, Columns(m, "request", what + ": request", false));
    PLINTH_ASSIGN_OR_RETURN(f.description, Text(m, "description", false, what));
    return f;
  }

  Result<FeatureService> Service(const std::string& name, const YAML::Node& m,
                                 const Definitions& d) const {
    const std::string what = "feature service " + name;
    PLINTH_RETURN_IF_ERROR(core::YamlCheckKeys(m, source_, what, {"features", "description"}));
    FeatureService s;
    s.name = name;
    const YAML::Node list = m["features"];
    if (!list.IsSequence() || list.size() == 0) {
      return Error(list.IsDefined() ? list : m,
                   what + ": key 'features': expected a list of group:feature or on-demand names");
    }
    if (list.size() > kMaxColumns) {
      return Error(list, what + ": more than " + std::to_string(kMaxColumns) + " features");
    }
    std::set<std::string> outputs;
    for (const YAML::Node& item : list) {
      PLINTH_ASSIGN_OR_RETURN(std::string text,
                              core::YamlAs<std::string>(item, core::YamlWhere(item, source_),
                                                        "features", "group:feature"));
      Result<FeatureRef> ref = ParseFeatureRef(text);
      if (!ref.ok()) {
        return Error(item, what + ": " + ref.status().message());
      }
      if (ref->version != 0) {
        return Error(item, what + ": '" + text +
                               "': a service names the groups of this file, without versions");
      }
      if (ref->group.empty()) {
        if (on_demand_.count(ref->feature) == 0) {
          return Error(item, what + ": '" + text +
                                 "' is neither group:feature nor an on-demand feature defined "
                                 "above");
        }
      } else {
        const auto at = groups_.find(ref->group);
        if (at == groups_.end()) {
          return Error(item, what + ": unknown feature group '" + ref->group + "'");
        }
        const FeatureGroup* g = &d.groups[at->second];
        if (g->Feature(ref->feature) == nullptr) {
          return Error(item, what + ": feature group " + ref->group + " has no feature '" +
                                 ref->feature + "'");
        }
      }
      if (!outputs.insert(ref->feature).second) {
        return Error(item, what + ": feature name '" + ref->feature + "' appears twice");
      }
      s.features.push_back(*ref);
    }
    PLINTH_ASSIGN_OR_RETURN(s.description, Text(m, "description", false, what));
    return s;
  }

  // Each on-demand feature a service names must compile against its request values and the
  // stored features of that service (what a lookup or a training set of the service gives it).
  // Features no service names are checked for syntax only.
  Status CheckOnDemandInputs(const YAML::Node& root, const Definitions& d) const {
    for (const FeatureService& s : d.services) {
      std::vector<Field> stored;
      for (const FeatureRef& r : s.features) {
        if (!r.group.empty()) {
          stored.push_back(*d.groups[groups_.at(r.group)].Feature(r.feature));
        }
      }
      for (const FeatureRef& r : s.features) {
        if (!r.group.empty()) {
          continue;
        }
        const OnDemandFeature& f = d.on_demand[on_demand_.at(r.feature)];
        std::vector<Field> fields = f.request;
        for (const Field& x : stored) {
          if (std::none_of(f.request.begin(), f.request.end(),
                           [&](const Field& q) { return q.name == x.name; })) {
            fields.push_back(x);
          }
        }
        Result<quality::CompiledExpr> e =
            quality::CompiledExpr::Compile(f.expression, table::Schema(fields));
        const YAML::Node at = root["on_demand_features"][f.name]["expression"];
        if (!e.ok()) {
          return Error(at, "on-demand feature " + f.name + " in feature service " + s.name + ": " +
                               e.status().message() +
                               " (the service must name the stored features it reads)");
        }
        if (e->is_boolean() != (f.type == DataType::kBool)) {
          return Error(at, "on-demand feature " + f.name + ": the expression yields " +
                               (e->is_boolean() ? "true/false" : "a value") + ", the type is " +
                               std::string(table::TypeName(f.type)));
        }
      }
    }
    return Status::Ok();
  }

  std::map<std::string, size_t> entities_;   // name -> index in Definitions::entities
  std::map<std::string, size_t> groups_;     // name -> index in Definitions::groups
  std::map<std::string, size_t> on_demand_;  // name -> index in Definitions::on_demand
  std::string_view source_;
  std::string dir_;
};

// Columns as {name: type}, in order.
Json FieldsToJson(const std::vector<Field>& fields) {
  Json out = Json::object();
  for (const Field& f : fields) {
    out[f.name] = std::string(table::TypeName(f.type));
  }
  return out;
}

Result<std::vector<Field>> FieldsFromJson(const Json& j, const std::string& where) {
  if (!j.is_object()) {
    return InvalidArgument(where + ": expected an object of column: type");
  }
  std::vector<Field> out;
  for (const auto& [name, type] : j.items()) {
    if (!type.is_string()) {
      return InvalidArgument(where + ": column '" + name + "': expected a type name");
    }
    PLINTH_ASSIGN_OR_RETURN(DataType t, table::ParseTypeName(type.get<std::string>()));
    out.push_back({name, t});
  }
  return out;
}

std::vector<std::string> StringsFromJson(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const Json& s : j) {
      if (s.is_string()) {
        out.push_back(s.get<std::string>());
      }
    }
  }
  return out;
}

}  // namespace

std::string FeatureGroup::Label() const {
  return version == 0 ? name : name + "@" + std::to_string(version);
}

const Field* FeatureGroup::Feature(std::string_view feature) const {
  for (const Field& f : features) {
    if (f.name == feature) {
      return &f;
    }
  }
  return nullptr;
}

std::string FeatureRef::Text() const {
  if (group.empty()) {
    return feature;
  }
  return group + (version == 0 ? "" : "@" + std::to_string(version)) + ":" + feature;
}

const Entity* Definitions::FindEntity(std::string_view name) const {
  for (const Entity& e : entities) {
    if (e.name == name) {
      return &e;
    }
  }
  return nullptr;
}
const FeatureGroup* Definitions::FindGroup(std::string_view name) const {
  for (const FeatureGroup& g : groups) {
    if (g.name == name) {
      return &g;
    }
  }
  return nullptr;
}
const OnDemandFeature* Definitions::FindOnDemand(std::string_view name) const {
  for (const OnDemandFeature& f : on_demand) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}
const FeatureService* Definitions::FindService(std::string_view name) const {
  for (const FeatureService& s : services) {
    if (s.name == name) {
      return &s;
    }
  }
  return nullptr;
}

Result<int64_t> ParseDuration(std::string_view text, std::string_view what) {
  const auto bad = [&] {
    return InvalidArgument(std::string(what) +
                           ": expected a duration such as 45s, 90m, 3h, 2d or 1d12h (up to 100 "
                           "years), got \"" +
                           std::string(text.substr(0, 40)) + "\"");
  };
  if (text.empty() || text.size() > 40) {
    return bad();
  }
  int64_t total = 0;
  size_t i = 0;
  bool any_unit = false;
  int64_t last_unit = INT64_MAX;  // units must go down: 1d12h, not 1h1h or 30m1h
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) {
      ++j;
    }
    if (j == i || j - i > 12) {
      return bad();
    }
    int64_t n = 0;
    std::from_chars(text.data() + i, text.data() + j, n);
    int64_t unit = 1000000;
    if (j < text.size()) {
      switch (text[j]) {
        case 's':
          break;
        case 'm':
          unit *= 60;
          break;
        case 'h':
          unit *= 3600;
          break;
        case 'd':
          unit *= 86400;
          break;
        default:
          return bad();
      }
      ++j;
      any_unit = true;
      if (unit >= last_unit) {
        return bad();
      }
      last_unit = unit;
    } else if (any_unit) {
      return bad();  // "1h30": a number without a unit after a unit
    }
    if (n > kMaxDurationUs / unit) {
      return bad();
    }
    total += n * unit;
    if (total > kMaxDurationUs) {
      return bad();
    }
    i = j;
  }
  return total;
}

std::string FormatDuration(int64_t micros) {
  int64_t s = micros / 1000000;
  if (s == 0) {
    return "0s";
  }
  std::string out;
  const std::pair<int64_t, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& [size, unit] : units) {
    if (s >= size) {
      out += std::to_string(s / size) + unit;
      s %= size;
    }
  }
  return out;
}

namespace {

// Refuses a document of more than kMaxYamlNodes nodes as a reader walks it: an alias counts
// each place it is used, so a small file of nested aliases cannot make the parser build, or
// walk, billions of fields.
Status CheckSize(const YAML::Node& root, std::string_view source) {
  std::vector<YAML::Node> stack = {root};
  size_t seen = 1;
  while (!stack.empty()) {
    const YAML::Node n = stack.back();
    stack.pop_back();
    if (n.IsSequence() || n.IsMap()) {
      seen += n.IsMap() ? 2 * n.size() : n.size();
      if (seen > kMaxYamlNodes) {
        return InvalidArgument(std::string(source) + ": more than " +
                               std::to_string(kMaxYamlNodes) +
                               " YAML values (an alias counts each place it is used)");
      }
      for (const auto& c : n) {
        if (n.IsMap()) {
          stack.push_back(c.first);
          stack.push_back(c.second);
        } else {
          stack.push_back(c);
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Definitions> ParseDefinitions(std::string_view text, std::string_view source,
                                     const std::string& dir) {
  PLINTH_ASSIGN_OR_RETURN(YAML::Node root, core::ParseYaml(text, source));
  PLINTH_RETURN_IF_ERROR(CheckSize(root, source));
  Parser p(source, dir);
  Result<Definitions> d = p.Parse(root);
  if (!d.ok()) {
    return OneLine(d.status());  // names quoted from the file may hold line feeds
  }
  d->file = std::string(source);
  std::error_code ec;
  d->root = fs::weakly_canonical(dir, ec).string();
  return d;
}

Result<Definitions> ReadDefinitions(const std::string& path) {
  PLINTH_ASSIGN_OR_RETURN(std::string text,
                          core::ReadConfigFile(path, "a features file", kMaxFileBytes));
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  return ParseDefinitions(text, path, abs.parent_path().string());
}

namespace {

// The columns and types a group's source gives, read from its schema (Parquet), its header and
// inferred types (CSV) or DuckDB's description of the query.
Result<table::Schema> SourceSchema(const FeatureGroup& g) {
  if (!g.source.query.empty()) {
    PLINTH_ASSIGN_OR_RETURN(table::DuckDb db, table::DuckDb::Open());
    PLINTH_ASSIGN_OR_RETURN(PlannedSource planned, PlanSource(db, g.source, g.name, {}, "0"));
    PLINTH_RETURN_IF_ERROR(ConfineToSources(db, {&planned}));
    PLINTH_RETURN_IF_ERROR(DescribeSource(db, planned));
    return planned.schema;
  }
  if (table::IsParquetPath(g.source.path)) {
    return table::ReadParquetSchema(g.source.path);
  }
  PLINTH_ASSIGN_OR_RETURN(table::CsvTable read, table::ReadTable(g.source.path));
  return read.table.schema();
}

}  // namespace

namespace {

Status CheckEachSource(const Definitions& defs) {
  for (const FeatureGroup& g : defs.groups) {
    const std::string what = "feature group " + g.name;
    const std::string from = g.source.query.empty() ? g.source.path : "its source query";
    PLINTH_ASSIGN_OR_RETURN(table::Schema schema, SourceSchema(g));
    const auto check = [&](const std::string& col, std::optional<DataType> want,
                           bool widen) -> Status {
      const std::optional<size_t> at = schema.IndexOf(col);
      if (!at) {
        return InvalidArgument(what + ": " + from + " has no column '" + col + "'");
      }
      const DataType got = schema.field(*at).type;
      if (want && got != *want &&
          !(widen && got == DataType::kInt64 && *want == DataType::kFloat64)) {
        return InvalidArgument(what + ": column '" + col + "' is " +
                               std::string(table::TypeName(got)) + " in " + from + ", defined as " +
                               std::string(table::TypeName(*want)));
      }
      return Status::Ok();
    };
    // Keys and times exactly as defined (keys are looked up by their encoded values); an int64
    // column may feed a float64 feature.
    for (const Field& k : g.join_keys) {
      PLINTH_RETURN_IF_ERROR(check(k.name, k.type, false));
    }
    for (const std::string& t : {g.event_timestamp, g.created_timestamp}) {
      if (!t.empty()) {
        PLINTH_RETURN_IF_ERROR(check(t, DataType::kTimestamp, false));
      }
    }
    for (const Field& f : g.features) {
      PLINTH_RETURN_IF_ERROR(check(f.name, f.type, true));
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckSources(const Definitions& defs) {
  Status s = CheckEachSource(defs);
  return s.ok() ? s : OneLine(s);  // paths and DuckDB's text may hold control characters
}

namespace {

// `path` relative to `root` when inside it, else as it is.
std::string RelativeTo(const std::string& path, const std::string& root) {
  if (root.empty()) {
    return path;
  }
  const std::string prefix = root == "/" ? root : root + "/";
  return path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : path;
}

std::string ResolveFrom(const std::string& path, const std::string& root) {
  if (path.empty() || path[0] == '/' || root.empty()) {
    return path;
  }
  return (root == "/" ? root : root + "/") + path;
}

}  // namespace

Json GroupToJson(const FeatureGroup& g, const std::string& root) {
  Json j = {{"name", g.name}, {"entities", g.entities}, {"join_keys", FieldsToJson(g.join_keys)}};
  Json source = Json::object();
  if (g.source.query.empty()) {
    source["path"] = RelativeTo(g.source.path, root);
  } else {
    source["query"] = g.source.query;
    Json tables = Json::object();
    for (const auto& [t, p] : g.source.tables) {
      tables[t] = RelativeTo(p, root);
    }
    source["tables"] = tables;
  }
  j["source"] = source;
  j["event_timestamp"] = g.event_timestamp;
  j["created_timestamp"] = g.created_timestamp;
  j["ttl_seconds"] = g.ttl_us ? Json(*g.ttl_us / 1000000) : Json();
  j["features"] = FieldsToJson(g.features);
  j["description"] = g.description;
  j["owner"] = g.owner;
  Json tags = Json::object();
  for (const auto& [k, v] : g.tags) {
    tags[k] = v;
  }
  j["tags"] = tags;
  return j;
}

Result<FeatureGroup> GroupFromJson(const Json& j, const std::string& root) {
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields r, core::JsonFields::Of(j, "feature group"));
  FeatureGroup g;
  PLINTH_ASSIGN_OR_RETURN(g.name, r.String("name"));
  g.entities = StringsFromJson(j.value("entities", Json::array()));
  PLINTH_ASSIGN_OR_RETURN(g.join_keys, FieldsFromJson(j.value("join_keys", Json()), g.name));
  const Json source = j.value("source", Json::object());
  g.source.path = ResolveFrom(source.value("path", ""), root);
  g.source.query = source.value("query", "");
  if (source.contains("tables") && source["tables"].is_object()) {
    for (const auto& [t, p] : source["tables"].items()) {
      g.source.tables[t] = ResolveFrom(p.is_string() ? p.get<std::string>() : "", root);
    }
  }
  PLINTH_ASSIGN_OR_RETURN(g.event_timestamp, r.String("event_timestamp", ""));
  PLINTH_ASSIGN_OR_RETURN(g.created_timestamp, r.String("created_timestamp", ""));
  if (r.Has("ttl_seconds")) {
    PLINTH_ASSIGN_OR_RETURN(int64_t ttl, r.Int("ttl_seconds"));
    g.ttl_us = ttl * 1000000;
  }
  PLINTH_ASSIGN_OR_RETURN(g.features, FieldsFromJson(j.value("features", Json()), g.name));
  PLINTH_ASSIGN_OR_RETURN(g.description, r.String("description", ""));
  PLINTH_ASSIGN_OR_RETURN(g.owner, r.String("owner", ""));
  if (j.contains("tags") && j["tags"].is_object()) {
    for (const auto& [k, v] : j["tags"].items()) {
      g.tags[k] = v.is_string() ? v.get<std::string>() : "";
    }
  }
  return g;
}

Json ServiceToJson(const FeatureService& s) {
  Json features = Json::array();
  for (const FeatureRef& f : s.features) {
    features.push_back(f.Text());
  }
  return {{"name", s.name}, {"features", features}, {"description", s.description}};
}

Result<FeatureService> ServiceFromJson(const Json& j) {
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields r, core::JsonFields::Of(j, "feature service"));
  FeatureService s;
  PLINTH_ASSIGN_OR_RETURN(s.name, r.String("name"));
  for (const std::string& f : StringsFromJson(j.value("features", Json::array()))) {
    PLINTH_ASSIGN_OR_RETURN(FeatureRef ref, ParseFeatureRef(f));
    s.features.push_back(ref);
  }
  PLINTH_ASSIGN_OR_RETURN(s.description, r.String("description", ""));
  return s;
}

Json EntityToJson(const Entity& e) {
  return {
      {"name", e.name}, {"join_keys", FieldsToJson(e.join_keys)}, {"description", e.description}};
}

Result<Entity> EntityFromJson(const Json& j) {
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields r, core::JsonFields::Of(j, "entity"));
  Entity e;
  PLINTH_ASSIGN_OR_RETURN(e.name, r.String("name"));
  PLINTH_ASSIGN_OR_RETURN(e.join_keys, FieldsFromJson(j.value("join_keys", Json()), e.name));
  PLINTH_ASSIGN_OR_RETURN(e.description, r.String("description", ""));
  return e;
}

Json OnDemandToJson(const OnDemandFeature& f) {
  return {{"name", f.name},
          {"expression", f.expression},
          {"type", std::string(table::TypeName(f.type))},
          {"request", FieldsToJson(f.request)},
          {"description", f.description}};
}

Result<OnDemandFeature> OnDemandFromJson(const Json& j) {
  PLINTH_ASSIGN_OR_RETURN(core::JsonFields r, core::JsonFields::Of(j, "on-demand feature"));
  OnDemandFeature f;
  PLINTH_ASSIGN_OR_RETURN(f.name, r.String("name"));
  PLINTH_ASSIGN_OR_RETURN(f.expression, r.String("expression"));
  PLINTH_ASSIGN_OR_RETURN(std::string type, r.String("type"));
  PLINTH_ASSIGN_OR_RETURN(f.type, table::ParseTypeName(type));
  PLINTH_ASSIGN_OR_RETURN(f.request, FieldsFromJson(j.value("request", Json::object()), f.name));
  PLINTH_ASSIGN_OR_RETURN(f.description, r.String("description", ""));
  return f;
}

Result<table::Column> ComputeOnDemand(const OnDemandFeature& f, const table::Table& input,
                                      std::string_view inputs) {
  for (const Field& req : f.request) {
    if (input.ColumnByName(req.name) == nullptr) {
      return InvalidArgument("on-demand feature " + f.name + ": " + std::string(inputs) +
                             " have no values for '" + req.name + "'");
    }
  }
  Result<quality::CompiledExpr> e = quality::CompiledExpr::Compile(f.expression, input.schema());
  if (!e.ok()) {
    return InvalidArgument("on-demand feature " + f.name + ": " + e.status().message() +
                           " (name the features it reads too)");
  }
  table::Column c = e->EvaluateColumn(input);
  if (c.type() == f.type) {
    return c;
  }
  Result<table::Column> cast = c.CastTo(f.type);
  if (!cast.ok()) {
    return InvalidArgument("on-demand feature " + f.name + ": yields " +
                           std::string(table::TypeName(c.type())) + ", defined as " +
                           std::string(table::TypeName(f.type)));
  }
  return cast;
}

Result<FeatureRef> ParseFeatureRef(std::string_view text) {
  FeatureRef ref;
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    if (!IsObjectName(text)) {
      return InvalidArgument("'" + std::string(text.substr(0, 200)) +
                             "': expected group:feature, group@N:feature or an on-demand "
                             "feature's name");
    }
    ref.feature = std::string(text);
    return ref;
  }
  std::string_view group = text.substr(0, colon);
  ref.feature = std::string(text.substr(colon + 1));
  const size_t at = group.find('@');
  if (at != std::string_view::npos) {
    std::string_view v = group.substr(at + 1);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1) {
      return InvalidArgument("'" + std::string(text.substr(0, 200)) +
                             "': expected a version number after '@'");
    }
    ref.version = n;
    group = group.substr(0, at);
  }
  if (!IsObjectName(group) || !IsColumnName(ref.feature)) {
    return InvalidArgument("'" + std::string(text.substr(0, 200)) +
                           "': expected group:feature or group@N:feature");
  }
  ref.group = std::string(group);
  return ref;
}

}  // namespace plinth::features
