#include "features/registry.h"

#include <map>
#include <optional>
#include <set>

#include "core/hash.h"

namespace plinth::features {
namespace {

using core::Json;

constexpr store::Migration kMigrations[] = {
    {1, "feature registry",
     "CREATE TABLE feature_objects ("
     "  kind TEXT NOT NULL,"
     "  name TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  fingerprint TEXT NOT NULL,"
     "  definition TEXT NOT NULL,"
     "  created_ms INTEGER NOT NULL,"
     "  updated_ms INTEGER NOT NULL,"
     // 1 on an object's latest version once features.yaml no longer defines it
     "  retired INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY (kind, name, version));"
     "CREATE TABLE feature_settings ("
     "  key TEXT PRIMARY KEY,"
     "  value TEXT NOT NULL);"},
};

constexpr const char* kEntity = "entity";
constexpr const char* kGroup = "feature group";
constexpr const char* kOnDemand = "on-demand feature";
constexpr const char* kService = "feature service";

// What identifies a version: the definition without its metadata.
std::string FingerprintOf(const Json& definition) {
  Json j = definition;
  for (const char* k : {"description", "owner", "tags"}) {
    j.erase(k);
  }
  return core::Sha256Hex(core::DumpJson(j, false));
}

struct Head {
  int64_t version = 0;
  std::string fingerprint;
  std::string definition;
  bool retired = false;
};

Result<std::optional<Head>> LatestOf(store::Database& db, const std::string& kind,
                                     const std::string& name) {
  const store::Value args[] = {kind, name};
  PLINTH_ASSIGN_OR_RETURN(
      std::vector<store::Row> rows,
      db.Query(
          "SELECT version, fingerprint, definition, retired FROM feature_objects WHERE kind = ? "
          "AND name = ? ORDER BY version DESC LIMIT 1",
          args));
  if (rows.empty()) {
    return std::optional<Head>();
  }
  return std::optional<Head>(
      Head{rows[0].Int(0), rows[0].Text(1), rows[0].Text(2), rows[0].Int(3) != 0});
}

Result<Json> ParseStored(const std::string& text, const std::string& what) {
  return core::ParseJson(text, "the feature registry's " + what);
}

}  // namespace

Result<Registry> Registry::Open(store::Database& db) {
  PLINTH_RETURN_IF_ERROR(store::Migrate(db, "features", kMigrations));
  return Registry(&db);
}

Result<std::vector<Change>> Registry::Apply(Definitions& defs, bool dry_run, int64_t now_ms) {
  std::vector<Change> changes;
  std::set<std::string> seen;  // kind/name of what `defs` defines
  // Records one object: its version number (new or kept).
  const auto record = [&](const char* kind, const std::string& name,
                          const Json& definition) -> Result<int64_t> {
    PLINTH_ASSIGN_OR_RETURN(std::optional<Head> latest, LatestOf(*db_, kind, name));
    const std::string fingerprint = FingerprintOf(definition);
    const std::string text = core::DumpJson(definition, false);
    Change c{kind, name, 1, "created", 0};
    seen.insert(std::string(kind) + "/" + name);
    if (latest && latest->fingerprint == fingerprint) {
      c.version = latest->version;
      c.what = latest->retired              ? "restored"
               : latest->definition == text ? "unchanged"
                                            : "metadata updated";
      if (!dry_run && c.what != "unchanged") {
        const store::Value args[] = {text, now_ms, std::string(kind), name, latest->version};
        PLINTH_RETURN_IF_ERROR(
            db_->Exec("UPDATE feature_objects SET definition = ?, updated_ms = ?, retired = 0 "
                      "WHERE kind = ? AND name = ? AND version = ?",
                      args));
      }
    } else {
      if (latest) {
        c.version = latest->version + 1;
        c.previous = latest->version;
        c.what = "new version";
      }
      if (!dry_run) {
        const store::Value args[] = {
            std::string(kind), name, c.version, fingerprint, text, now_ms, now_ms};
        PLINTH_RETURN_IF_ERROR(
            db_->Exec("INSERT INTO feature_objects (kind, name, version, fingerprint, definition, "
                      "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      args));
      }
    }
    changes.push_back(c);
    return c.version;
  };
  const auto body = [&]() -> Status {
    changes.clear();
    seen.clear();
    for (const Entity& e : defs.entities) {
      PLINTH_RETURN_IF_ERROR(record(kEntity, e.name, EntityToJson(e)).status());
    }
    std::map<std::string, int64_t> group_versions;
    for (FeatureGroup& g : defs.groups) {
      PLINTH_ASSIGN_OR_RETURN(g.version, record(kGroup, g.name, GroupToJson(g, defs.root)));
      group_versions[g.name] = g.version;
    }
    for (const OnDemandFeature& f : defs.on_demand) {
      PLINTH_RETURN_IF_ERROR(record(kOnDemand, f.name, OnDemandToJson(f)).status());
    }
    for (FeatureService& s : defs.services) {
      for (FeatureRef& r : s.features) {
        if (!r.group.empty()) {
          r.version = group_versions[r.group];
        }
      }
      PLINTH_ASSIGN_OR_RETURN(s.version, record(kService, s.name, ServiceToJson(s)));
    }
    // What the file no longer defines is retired: its versions stay readable, but it is no
    // longer among the latest definitions (materialized, looked up, listed).
    PLINTH_ASSIGN_OR_RETURN(
        std::vector<store::Row> heads,
        db_->Query("SELECT kind, name, MAX(version) FROM feature_objects GROUP BY kind, name "
                   "ORDER BY kind, name"));
    for (const store::Row& h : heads) {
      if (seen.count(h.Text(0) + "/" + h.Text(1)) != 0) {
        continue;
      }
      PLINTH_ASSIGN_OR_RETURN(std::optional<Head> head, LatestOf(*db_, h.Text(0), h.Text(1)));
      if (!head || head->retired) {
        continue;
      }
      changes.push_back({h.Text(0), h.Text(1), h.Int(2), "retired", 0});
      if (!dry_run) {
        const store::Value args[] = {now_ms, h.Text(0), h.Text(1), h.Int(2)};
        PLINTH_RETURN_IF_ERROR(
            db_->Exec("UPDATE feature_objects SET retired = 1, updated_ms = ? WHERE kind = ? AND "
                      "name = ? AND version = ?",
                      args));
      }
    }
    if (!dry_run) {
      for (const auto& [key, value] :
           {std::pair<std::string, std::string>{"online_store", defs.online_store},
            {"root", defs.root}}) {
        const store::Value args[] = {key, value};
        PLINTH_RETURN_IF_ERROR(db_->Exec(
            "INSERT INTO feature_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO "
            "UPDATE SET value = excluded.value",
            args));
      }
    }
    return Status::Ok();
  };
  if (dry_run) {
    PLINTH_RETURN_IF_ERROR(body());
  } else {
    PLINTH_RETURN_IF_ERROR(db_->Transaction(body));
  }
  return changes;
}

Result<std::vector<Recorded>> Registry::All() {
  PLINTH_ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                          db_->Query("SELECT kind, name, version, definition, created_ms, "
                                     "updated_ms, retired FROM feature_objects ORDER BY kind, "
                                     "name, version"));
  std::vector<Recorded> out;
  for (const store::Row& r : rows) {
    PLINTH_ASSIGN_OR_RETURN(Json j, ParseStored(r.Text(3), r.Text(1)));
    out.push_back(
        {r.Text(0), r.Text(1), r.Int(2), std::move(j), r.Int(4), r.Int(5), r.Int(6) != 0});
  }
  return out;
}

Result<Definitions> Registry::Latest() {
  PLINTH_ASSIGN_OR_RETURN(std::vector<Recorded> all, All());
  if (all.empty()) {
    return NotFound("no feature definitions recorded; run plinth features apply");
  }
  Definitions d;
  PLINTH_ASSIGN_OR_RETURN(d.root, Setting("root"));
  PLINTH_ASSIGN_OR_RETURN(d.online_store, Setting("online_store"));
  for (size_t i = 0; i < all.size(); ++i) {
    const Recorded& r = all[i];
    if (i + 1 < all.size() && all[i + 1].kind == r.kind && all[i + 1].name == r.name) {
      continue;  // an older version
    }
    if (r.retired) {
      continue;
    }
    if (r.kind == kEntity) {
      PLINTH_ASSIGN_OR_RETURN(Entity e, EntityFromJson(r.definition));
      d.entities.push_back(std::move(e));
    } else if (r.kind == kGroup) {
      PLINTH_ASSIGN_OR_RETURN(FeatureGroup g, GroupFromJson(r.definition, d.root));
      g.version = r.version;
      d.groups.push_back(std::move(g));
    } else if (r.kind == kOnDemand) {
      PLINTH_ASSIGN_OR_RETURN(OnDemandFeature f, OnDemandFromJson(r.definition));
      d.on_demand.push_back(std::move(f));
    } else if (r.kind == kService) {
      PLINTH_ASSIGN_OR_RETURN(FeatureService s, ServiceFromJson(r.definition));
      s.version = r.version;
      d.services.push_back(std::move(s));
    }
  }
  d.file = "the feature registry";
  return d;
}

namespace {

Result<Json> Version(store::Database& db, const char* kind, const std::string& name,
                     int64_t version, int64_t* found) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<Head> latest, LatestOf(db, kind, name));
  if (!latest) {
    return NotFound(std::string("no ") + kind + " '" + name + "' in the feature registry");
  }
  if (version == 0 || version == latest->version) {
    *found = latest->version;
    return ParseStored(latest->definition, name);
  }
  const store::Value args[] = {std::string(kind), name, version};
  PLINTH_ASSIGN_OR_RETURN(
      std::vector<store::Row> rows,
      db.Query("SELECT definition FROM feature_objects WHERE kind = ? AND name = ? AND version = ?",
               args));
  if (rows.empty()) {
    return NotFound(std::string(kind) + " '" + name + "' has no version " +
                    std::to_string(version) + " (versions 1 to " + std::to_string(latest->version) +
                    ")");
  }
  *found = version;
  return ParseStored(rows[0].Text(0), name);
}

}  // namespace

Result<std::string> Registry::Setting(const std::string& key) {
  const store::Value args[] = {key};
  PLINTH_ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                          db_->Query("SELECT value FROM feature_settings WHERE key = ?", args));
  return rows.empty() ? std::string() : rows[0].Text(0);
}

Result<FeatureGroup> Registry::Group(const std::string& name, int64_t version) {
  int64_t found = 0;
  PLINTH_ASSIGN_OR_RETURN(Json j, Version(*db_, kGroup, name, version, &found));
  PLINTH_ASSIGN_OR_RETURN(std::string root, Setting("root"));
  PLINTH_ASSIGN_OR_RETURN(FeatureGroup g, GroupFromJson(j, root));
  g.version = found;
  return g;
}

Result<FeatureService> Registry::Service(const std::string& name, int64_t version) {
  int64_t found = 0;
  PLINTH_ASSIGN_OR_RETURN(Json j, Version(*db_, kService, name, version, &found));
  PLINTH_ASSIGN_OR_RETURN(FeatureService s, ServiceFromJson(j));
  s.version = found;
  return s;
}

namespace {

void Flatten(const Json& j, const std::string& prefix, std::map<std::string, std::string>& out,
             std::vector<std::string>& order) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) {
      Flatten(v, prefix.empty() ? k : prefix + "." + k, out, order);
    }
    return;
  }
  if (out.emplace(prefix, j.is_string() ? j.get<std::string>() : core::DumpJson(j, false)).second) {
    order.push_back(prefix);
  }
}

}  // namespace

std::vector<std::string> DiffDefinitions(const Json& before, const Json& after) {
  std::map<std::string, std::string> a;
  std::map<std::string, std::string> b;
  std::vector<std::string> a_order;
  std::vector<std::string> b_order;
  Flatten(before, "", a, a_order);
  Flatten(after, "", b, b_order);
  std::vector<std::string> out;
  for (const std::string& k : a_order) {
    auto it = b.find(k);
    if (it == b.end()) {
      out.push_back("- " + k + ": " + a[k]);
    } else if (it->second != a[k]) {
      out.push_back("~ " + k + ": " + a[k] + " -> " + it->second);
    }
  }
  for (const std::string& k : b_order) {
    if (a.count(k) == 0) {
      out.push_back("+ " + k + ": " + b[k]);
    }
  }
  return out;
}

}  // namespace plinth::features
