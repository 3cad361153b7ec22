// RegistryStore over store::Database (SQLite and PostgreSQL alike).
#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <regex>
#include <set>

#include "core/confined_dir.h"
#include "core/hash.h"
#include "core/url.h"
#include "tracking/model_uri.h"
#include "tracking/search.h"
#include "tracking/sql_stores.h"
#include "tracking/sql_util.h"

namespace plinth::tracking {
namespace {

using store::Row;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "registered models, versions, tags, aliases, alias and stage history",
     R"sql(
CREATE TABLE registered_models (
  name TEXT PRIMARY KEY,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT,
  last_version BIGINT NOT NULL,
  event_seq BIGINT NOT NULL);
CREATE TABLE registered_model_tags (
  name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, key));
CREATE TABLE model_versions (
  name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
  version BIGINT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT,
  user_id TEXT,
  current_stage TEXT NOT NULL,
  source TEXT NOT NULL,
  run_id TEXT,
  run_link TEXT,
  status TEXT NOT NULL,
  status_message TEXT,
  PRIMARY KEY (name, version));
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE TABLE model_version_tags (
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
    ON UPDATE CASCADE ON DELETE CASCADE);
CREATE TABLE registered_model_aliases (
  name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (name, alias));
CREATE TABLE registry_events (
  name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  version BIGINT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  from_value TEXT NOT NULL,
  to_value TEXT NOT NULL,
  user_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  PRIMARY KEY (name, seq));
CREATE TABLE IF NOT EXISTS lineage_edges (
  src_kind TEXT NOT NULL,
  src_id TEXT NOT NULL,
  dst_kind TEXT NOT NULL,
  dst_id TEXT NOT NULL,
  relation TEXT NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (src_kind, src_id, dst_kind, dst_id));
CREATE INDEX IF NOT EXISTS lineage_by_dst ON lineage_edges (dst_id);
CREATE INDEX IF NOT EXISTS lineage_by_src ON lineage_edges (src_id);
)sql"},
    {2, "model version storage location (a copy's files are the original's)",
     R"sql(
ALTER TABLE model_versions ADD COLUMN storage_location TEXT;
)sql"},
    {3, "protected aliases, gate runs, approvals; the reason of a forced alias move",
     R"sql(
CREATE TABLE alias_protections (
  name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
  alias TEXT NOT NULL,
  suite TEXT NOT NULL,
  suite_sha256 TEXT NOT NULL,
  approvals BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  PRIMARY KEY (name, alias));
CREATE TABLE gate_runs (
  name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  version BIGINT NOT NULL,
  suite TEXT NOT NULL,
  suite_sha256 TEXT NOT NULL,
  passed BIGINT NOT NULL,
  failed TEXT NOT NULL,
  run_id TEXT NOT NULL,
  data_sha256 TEXT NOT NULL,
  user_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  PRIMARY KEY (name, seq));
CREATE INDEX gate_runs_by_version ON gate_runs (name, version, suite);
CREATE TABLE model_version_approvals (
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  PRIMARY KEY (name, version, user_id),
  FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
    ON UPDATE CASCADE ON DELETE CASCADE);
ALTER TABLE registry_events ADD COLUMN reason TEXT;
)sql"},
    {4, "deployments, serving endpoints",
     R"sql(
CREATE TABLE deployments (
  name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
  id BIGINT NOT NULL,
  env TEXT NOT NULL,
  version BIGINT NOT NULL,
  previous_version BIGINT NOT NULL,
  kind TEXT NOT NULL,
  gate_run_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  status TEXT NOT NULL,
  endpoints TEXT NOT NULL,
  finished BIGINT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (name, id));
CREATE TABLE serving_endpoints (
  url TEXT NOT NULL,
  host TEXT NOT NULL,
  pid BIGINT NOT NULL,
  name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
  env TEXT NOT NULL,
  version BIGINT NOT NULL,
  poll_seconds BIGINT NOT NULL,
  started BIGINT NOT NULL,
  heartbeat BIGINT NOT NULL,
  PRIMARY KEY (url, host, pid));
CREATE INDEX serving_endpoints_by_model ON serving_endpoints (name, env);
)sql"},
};

constexpr std::array<std::string_view, 4> kStages = {"None", "Staging", "Production", "Archived"};
constexpr size_t kMaxTagKey = 250;
constexpr size_t kMaxTagValue = 5000;
constexpr size_t kMaxAlias = 255;
constexpr int64_t kMaxModelsPerPage = 1000;
constexpr int64_t kMaxVersionsPerPage = 200000;
constexpr int64_t kEndpointForgottenMs = 24 * 3600 * 1000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<std::string> CanonicalStage(const std::string& stage) {
  for (std::string_view s : kStages) {
    if (Lower(s) == Lower(stage)) {
      return std::string(s);
    }
  }
  return InvalidArgument("Invalid Model Version stage: " + stage +
                         ". Value must be one of None, Staging, Production, Archived.");
}

Result<int64_t> ParseVersion(const std::string& version) {
  int64_t v = 0;
  auto r = std::from_chars(version.data(), version.data() + version.size(), v);
  if (version.empty() || r.ec != std::errc() || r.ptr != version.data() + version.size()) {
    return InvalidArgument("Model version must be an integer, got '" + version + "'");
  }
  return v;
}

Status ModelNotFound(const std::string& name) {
  return NotFound("Registered Model with name=" + name + " not found");
}

Status ValidateModelName(const std::string& name) {
  if (name.empty()) {
    return InvalidArgument("Registered model name cannot be empty.");
  }
  return Status::Ok();
}

// A new name (create, rename) must also be safe as a file name: serving keeps a
// model's prediction log in a directory named after it. Names from before this
// rule still work (ValidateModelName).
Status ValidateNewModelName(const std::string& name) {
  return core::CheckPathComponent(name, "Registered model name");
}

Status ValidateRegistryTag(std::string_view what, const Tag& t) {
  PLINTH_RETURN_IF_ERROR(ValidateKeyName("tag", t.key));
  PLINTH_RETURN_IF_ERROR(ValidateLength(std::string(what) + " key", kMaxTagKey, t.key));
  return ValidateLength(std::string(what) + " value", kMaxTagValue, t.value);
}

Status ValidateAlias(const std::string& alias) {
  static const std::regex kValid(R"(^[\w\-]*$)");
  static const std::regex kVersionLike(R"(^[vV]\d+$)");
  if (alias.empty()) {
    return InvalidArgument("Registered model alias name cannot be empty.");
  }
  if (!std::regex_match(alias, kValid)) {
    return InvalidArgument("Invalid alias name: '" + alias +
                           "'. Names may only contain alphanumerics, underscores (_), and "
                           "dashes (-).");
  }
  PLINTH_RETURN_IF_ERROR(ValidateLength("Registered model alias name", kMaxAlias, alias));
  if (Lower(alias) == "latest") {
    return InvalidArgument("'latest' alias name (case insensitive) is reserved.");
  }
  if (std::regex_match(alias, kVersionLike)) {
    return InvalidArgument("Version alias name '" + alias + "' is reserved.");
  }
  return Status::Ok();
}

SqlNames ModelNames() {
  return {"m", "name", "registered_model_tags", "name", [](std::string_view a) {
            return std::string(a == "last_updated_timestamp" ? "last_updated_time" : a);
          }};
}

SqlNames VersionNames() {
  SqlNames n = {"v", "name", "model_version_tags", "name", [](std::string_view a) {
                  if (a == "version_number") {
                    return std::string("version");
                  }
                  if (a == "source_path") {
                    return std::string("source");
                  }
                  if (a == "last_updated_timestamp") {
                    return std::string("last_updated_time");
                  }
                  return std::string(a);
                }};
  n.tag_id2 = "version";
  return n;
}

constexpr std::string_view kVersionColumns =
    "v.name, v.version, v.creation_time, v.last_updated_time, v.description, v.user_id, "
    "v.current_stage, v.source, v.run_id, v.run_link, v.status, v.status_message, "
    "v.storage_location";

class SqlRegistryStore : public RegistryStore {
 public:
  SqlRegistryStore(std::unique_ptr<store::Database> db, const core::Clock& clock)
      : db_(std::move(db)), clock_(clock) {}

  Status Init() { return store::Migrate(*db_, "registry", kMigrations); }

  Result<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                const std::vector<Tag>& tags,
                                                const std::string& description) override {
    PLINTH_RETURN_IF_ERROR(ValidateNewModelName(name));
    for (const Tag& t : tags) {
      PLINTH_RETURN_IF_ERROR(ValidateRegistryTag("Registered model", t));
    }
    Status s = db_->Transaction([&]() -> Status {
      int64_t now = NowMs();
      Value row[] = {name, now, now, description.empty() ? Value() : Value(description)};
      PLINTH_RETURN_IF_ERROR(db_->Exec(
          "INSERT INTO registered_models (name, creation_time, last_updated_time, description, "
          "last_version, event_seq) VALUES (?, ?, ?, ?, 0, 0)",
          row));
      for (const Tag& t : tags) {
        PLINTH_RETURN_IF_ERROR(UpsertModelTag(name, t));
      }
      return Status::Ok();
    });
    if (s.code() == StatusCode::kFailedPrecondition) {
      return AlreadyExists("Registered Model (name=" + name + ") already exists.");
    }
    PLINTH_RETURN_IF_ERROR(s);
    return GetRegisteredModel(name);
  }

  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override {
    Value k[] = {name};
    PLINTH_ASSIGN_OR_RETURN(auto rows,
                            db_->Query(std::string(kModelSelect) + " WHERE m.name = ?", k));
    if (rows.empty()) {
      return ModelNotFound(name);
    }
    PLINTH_ASSIGN_OR_RETURN(auto models, LoadModels(rows));
    return models.front();
  }

  Result<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                const std::string& new_name) override {
    PLINTH_RETURN_IF_ERROR(ValidateNewModelName(new_name));
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    PLINTH_RETURN_IF_ERROR(Unprotected(name, "renamed"));
    Value a[] = {new_name, NowMs(), name};
    Status s =
        db_->Exec("UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?", a);
    if (s.code() == StatusCode::kFailedPrecondition) {
      return AlreadyExists("Registered Model (name=" + new_name + ") already exists.");
    }
    PLINTH_RETURN_IF_ERROR(s);
    return GetRegisteredModel(new_name);
  }

  Result<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                const std::string& description) override {
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    Value a[] = {description, NowMs(), name};
    PLINTH_RETURN_IF_ERROR(db_->Exec(
        "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?", a));
    return GetRegisteredModel(name);
  }

  Status DeleteRegisteredModel(const std::string& name) override {
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    PLINTH_RETURN_IF_ERROR(Unprotected(name, "deleted"));
    Value a[] = {name};
    return db_->Exec("DELETE FROM registered_models WHERE name = ?", a);
  }

  Result<Page<RegisteredModel>> SearchRegisteredModels(const ModelQuery& q) override {
    PLINTH_RETURN_IF_ERROR(CheckMaxResults(q.max_results, kMaxModelsPerPage));
    PLINTH_ASSIGN_OR_RETURN(auto comparisons, ParseFilter(q.filter, RegisteredModelSearch()));
    static const SqlNames kNames = ModelNames();
    PLINTH_ASSIGN_OR_RETURN(
        SqlFragment sql,
        SearchStatement(kModelSelect, CompileFilter(comparisons, kNames), q.order_by,
                        RegisteredModelSearch(), kNames, "m.name ASC"));
    return FetchPage<RegisteredModel>(
        *db_, std::move(sql), q.max_results, q.page_token,
        [this](const std::vector<Row>& rows) { return LoadModels(rows); });
  }

  Result<std::vector<ModelVersion>> GetLatestVersions(
      const std::string& name, const std::vector<std::string>& stages) override {
    PLINTH_ASSIGN_OR_RETURN(RegisteredModel m, GetRegisteredModel(name));
    if (stages.empty()) {
      return m.latest_versions;
    }
    std::vector<ModelVersion> out;
    for (const std::string& s : stages) {
      PLINTH_ASSIGN_OR_RETURN(std::string stage, CanonicalStage(s));
      for (const ModelVersion& v : m.latest_versions) {
        if (v.current_stage == stage) {
          out.push_back(v);
        }
      }
    }
    return out;
  }

  Status SetRegisteredModelTag(const std::string& name, const Tag& tag) override {
    PLINTH_RETURN_IF_ERROR(ValidateRegistryTag("Registered model", tag));
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    return UpsertModelTag(name, tag);
  }

  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override {
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    Value a[] = {name, key};
    return db_->Exec("DELETE FROM registered_model_tags WHERE name = ? AND key = ?", a);
  }

  Result<ModelVersion> CreateModelVersion(const NewModelVersion& v) override {
    PLINTH_RETURN_IF_ERROR(ValidateModelName(v.name));
    if (v.source.empty()) {
      return InvalidArgument("Missing value for required parameter 'source'.");
    }
    // Every source, local ones too: absolute, no '.' or '..' parts (the server checks a
    // local one against its run's directory besides); a prompt's placeholder as MLflow 3
    // checks it.
    PLINTH_RETURN_IF_ERROR(IsPromptVersion(v.tags) ? ValidatePromptSource(v.source)
                                                   : ValidateNonLocalSource(v.source));
    for (const Tag& t : v.tags) {
      PLINTH_RETURN_IF_ERROR(ValidateRegistryTag("Model version", t));
    }
    PLINTH_ASSIGN_OR_RETURN(const std::string storage,
                            v.storage_location.empty() ? StorageLocation(v.source)
                                                       : Result<std::string>(v.storage_location));
    int64_t version = 0;
    PLINTH_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
      int64_t now = NowMs();
      Value a[] = {now, v.name};
      PLINTH_ASSIGN_OR_RETURN(
          auto next, db_->Query("UPDATE registered_models SET last_version = last_version + 1, "
                                "last_updated_time = ? WHERE name = ? RETURNING last_version",
                                a));
      if (next.empty()) {
        return ModelNotFound(v.name);
      }
      version = next[0].Int(0);
      auto opt = [](const std::string& s) { return s.empty() ? Value() : Value(s); };
      Value row[] = {v.name,         version,  now,     now,           opt(v.description),
                     opt(v.user_id), v.source, storage, opt(v.run_id), opt(v.run_link)};
      PLINTH_RETURN_IF_ERROR(db_->Exec(
          "INSERT INTO model_versions (name, version, creation_time, last_updated_time, "
          "description, user_id, current_stage, source, storage_location, run_id, run_link, "
          "status) VALUES (?, ?, ?, ?, ?, ?, 'None', ?, ?, ?, ?, 'READY')",
          row));
      for (const Tag& t : v.tags) {
        PLINTH_RETURN_IF_ERROR(UpsertVersionTag(v.name, version, t));
      }
      if (v.run_id.empty()) {
        return Status::Ok();
      }
      Value edge[] = {v.run_id, v.name + "/" + std::to_string(version), now};
      return db_->Exec(
          "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id, relation, created) "
          "VALUES ('run', ?, 'model_version', ?, 'registered', ?) ON CONFLICT (src_kind, src_id, "
          "dst_kind, dst_id) DO NOTHING",
          edge);
    }));
    return GetModelVersion(v.name, std::to_string(version));
  }

  // Where a new version's files are: its source, or for a copy (source models:/NAME/VERSION,
  // what MlflowClient.copy_model_version writes) the original's storage location.
  Result<std::string> StorageLocation(const std::string& source) {
    if (!source.starts_with("models:/")) {
      return source;
    }
    const std::string_view rest = std::string_view(source).substr(8);
    const size_t slash = rest.find('/');
    Result<ModelVersion> original =
        slash == std::string_view::npos
            ? Result<ModelVersion>(InvalidArgument("expected models:/NAME/VERSION"))
            : GetModelVersion(std::string(rest.substr(0, slash)),
                              std::string(rest.substr(slash + 1)));
    if (!original.ok()) {
      return InvalidArgument("Unable to fetch model from model URI source artifact location '" +
                             source + "'. Error: " + original.status().message());
    }
    return original->storage_location;
  }

  Result<ModelVersion> GetModelVersion(const std::string& name,
                                       const std::string& version) override {
    PLINTH_ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
    Value k[] = {name, v};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("SELECT " + std::string(kVersionColumns) +
                                  " FROM model_versions v WHERE v.name = ? AND v.version = ?",
                              k));
    if (rows.empty()) {
      return NotFound("Model Version (name=" + name + ", version=" + version + ") not found");
    }
    PLINTH_ASSIGN_OR_RETURN(auto versions, LoadVersions(rows));
    return versions.front();
  }

  Result<ModelVersion> UpdateModelVersion(const std::string& name, const std::string& version,
                                          const std::string& description) override {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    Value a[] = {description, NowMs(), name, mv.version};
    PLINTH_RETURN_IF_ERROR(db_->Exec(
        "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND "
        "version = ?",
        a));
    return GetModelVersion(name, version);
  }

  Result<ModelVersion> TransitionStage(const std::string& name, const std::string& version,
                                       const std::string& stage, bool archive_existing,
                                       const std::string& user_id) override {
    PLINTH_ASSIGN_OR_RETURN(std::string to, CanonicalStage(stage));
    if (archive_existing && to != "Staging" && to != "Production") {
      return InvalidArgument(
          "Model version transition cannot archive existing model versions "
          "because '" +
          to + "' is not an Active stage. Valid stages are Staging, Production");
    }
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    PLINTH_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
      int64_t now = NowMs();
      if (archive_existing) {
        Value k[] = {name, to, mv.version};
        PLINTH_ASSIGN_OR_RETURN(auto others,
                                db_->Query("SELECT version FROM model_versions WHERE name = ? AND "
                                           "current_stage = ? AND version != ?",
                                           k));
        for (const Row& o : others) {
          PLINTH_RETURN_IF_ERROR(MoveStage(name, o.Int(0), to, "Archived", user_id, now));
        }
      }
      if (to == "Staging" || to == "Production") {
        PLINTH_RETURN_IF_ERROR(LockModel(name));
        PLINTH_RETURN_IF_ERROR(CheckProtection(name, Lower(to), mv.version));
      }
      // Out of a guarded stage only by a version that passed taking its place (archive
      // existing), as a protected alias is never deleted.
      if (to != mv.current_stage &&
          (mv.current_stage == "Staging" || mv.current_stage == "Production")) {
        Value p[] = {name, Lower(mv.current_stage)};
        PLINTH_ASSIGN_OR_RETURN(auto guarded,
                                db_->Query("SELECT 1 FROM alias_protections WHERE name = ? AND "
                                           "alias = ?",
                                           p));
        if (!guarded.empty()) {
          return FailedPrecondition(
              "version " + std::to_string(mv.version) + " of " + name + " is in the stage " +
              mv.current_stage + ", guarded by the protected alias '" + Lower(mv.current_stage) +
              "': it leaves it only when a version that passed the gates takes its place "
              "(archive_existing), or after plinth models unprotect");
        }
      }
      PLINTH_RETURN_IF_ERROR(MoveStage(name, mv.version, mv.current_stage, to, user_id, now));
      // A stage move updates the registered model too (MLflow's SqlAlchemyStore does).
      Value m[] = {now, name};
      return db_->Exec("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", m);
    }));
    return GetModelVersion(name, version);
  }

  Status DeleteModelVersion(const std::string& name, const std::string& version) override {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    return db_->Transaction([&]() -> Status {
      Value a[] = {name, mv.version};
      PLINTH_ASSIGN_OR_RETURN(
          auto guarded,
          db_->Query("SELECT a.alias FROM registered_model_aliases a JOIN alias_protections p ON "
                     "p.name = a.name AND p.alias = a.alias WHERE a.name = ? AND a.version = ?",
                     a));
      if (!guarded.empty()) {
        return FailedPrecondition("version " + std::to_string(mv.version) + " of " + name +
                                  " holds the protected alias '" + guarded[0].Text(0) +
                                  "': move the alias or unprotect it first");
      }
      PLINTH_RETURN_IF_ERROR(
          db_->Exec("DELETE FROM registered_model_aliases WHERE name = ? AND version = ?", a));
      PLINTH_RETURN_IF_ERROR(
          db_->Exec("DELETE FROM model_versions WHERE name = ? AND version = ?", a));
      Value b[] = {NowMs(), name};
      return db_->Exec("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", b);
    });
  }

  Result<Page<ModelVersion>> SearchModelVersions(const ModelQuery& q) override {
    PLINTH_RETURN_IF_ERROR(CheckMaxResults(q.max_results, kMaxVersionsPerPage));
    PLINTH_ASSIGN_OR_RETURN(auto comparisons, ParseFilter(q.filter, ModelVersionSearch()));
    static const SqlNames kNames = VersionNames();
    PLINTH_ASSIGN_OR_RETURN(
        SqlFragment sql,
        SearchStatement("SELECT " + std::string(kVersionColumns) + " FROM model_versions v",
                        CompileFilter(comparisons, kNames), q.order_by, ModelVersionSearch(),
                        kNames,
                        // MLflow's order: the default, or the caller's then name and version.
                        q.order_by.empty() ? "v.last_updated_time DESC, v.name ASC, v.version DESC"
                                           : "v.name ASC, v.version DESC"));
    return FetchPage<ModelVersion>(
        *db_, std::move(sql), q.max_results, q.page_token,
        [this](const std::vector<Row>& rows) { return LoadVersions(rows); });
  }

  Status SetModelVersionTag(const std::string& name, const std::string& version,
                            const Tag& tag) override {
    PLINTH_RETURN_IF_ERROR(ValidateRegistryTag("Model version", tag));
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    return UpsertVersionTag(name, mv.version, tag);
  }

  Status DeleteModelVersionTag(const std::string& name, const std::string& version,
                               const std::string& key) override {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    Value a[] = {name, mv.version, key};
    return db_->Exec("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
                     a);
  }

  Status SetAlias(const std::string& name, const std::string& alias, const std::string& version,
                  const std::string& user_id) override {
    return MoveAlias(name, alias, version, user_id, false, "");
  }

  Status ForceAlias(const std::string& name, const std::string& alias, const std::string& version,
                    const std::string& user_id, const std::string& reason) override {
    if (reason.empty()) {
      return InvalidArgument("forcing a protected alias needs a reason (--reason TEXT)");
    }
    return MoveAlias(name, alias, version, user_id, true, reason);
  }

  Status DeleteAlias(const std::string& name, const std::string& alias,
                     const std::string& user_id) override {
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    return db_->Transaction([&]() -> Status {
      Value k[] = {name, alias};
      PLINTH_ASSIGN_OR_RETURN(
          auto guarded,
          db_->Query("SELECT 1 FROM alias_protections WHERE name = ? AND alias = ?", k));
      if (!guarded.empty()) {
        return FailedPrecondition("alias '" + alias + "' of " + name +
                                  " is protected: plinth models unprotect " + name + " " + alias +
                                  " first");
      }
      PLINTH_ASSIGN_OR_RETURN(
          auto old, db_->Query("DELETE FROM registered_model_aliases WHERE name = ? AND alias = ? "
                               "RETURNING version",
                               k));
      if (old.empty()) {
        return Status::Ok();  // MLflow answers success for an alias that is not set
      }
      return Record(name, 0, "alias", alias, std::to_string(old[0].Int(0)), "", user_id, NowMs());
    });
  }

  Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                              const std::string& alias) override {
    Value k[] = {name, alias};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows,
        db_->Query("SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?", k));
    if (rows.empty()) {
      return NotFound("Registered model alias " + alias + " not found.");
    }
    return GetModelVersion(name, std::to_string(rows[0].Int(0)));
  }

  Result<std::vector<RegistryEvent>> History(const std::string& name) override {
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    Value k[] = {name};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("SELECT name, version, kind, key, from_value, to_value, user_id, "
                              "time, COALESCE(reason, '') FROM registry_events WHERE name = ? "
                              "ORDER BY seq",
                              k));
    std::vector<RegistryEvent> out;
    for (const Row& r : rows) {
      out.push_back({r.Text(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6),
                     r.Int(7), r.Text(8)});
    }
    return out;
  }

  Status ProtectAlias(const AliasProtection& p) override {
    PLINTH_RETURN_IF_ERROR(ValidateAlias(p.alias));
    PLINTH_RETURN_IF_ERROR(CheckModel(p.name));
    if (p.suite.empty() || p.suite_sha256.size() != 64) {
      return InvalidArgument("a protection names a gates suite and its file's SHA-256");
    }
    if (p.approvals < 0 || p.approvals > 100) {
      return InvalidArgument("approvals: expected 0 to 100, got " + std::to_string(p.approvals));
    }
    return db_->Transaction([&]() -> Status {
      const int64_t now = NowMs();
      Value a[] = {p.name, p.alias, p.suite, p.suite_sha256, p.approvals, p.user_id, now};
      PLINTH_RETURN_IF_ERROR(db_->Exec(
          "INSERT INTO alias_protections (name, alias, suite, suite_sha256, approvals, user_id, "
          "time) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET suite = "
          "excluded.suite, suite_sha256 = excluded.suite_sha256, approvals = excluded.approvals, "
          "user_id = excluded.user_id, time = excluded.time",
          a));
      return Record(p.name, 0, "protection", p.alias, "",
                    p.suite + " (" + std::to_string(p.approvals) + " approvals)", p.user_id, now);
    });
  }

  Status UnprotectAlias(const std::string& name, const std::string& alias,
                        const std::string& user_id) override {
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    return db_->Transaction([&]() -> Status {
      Value k[] = {name, alias};
      PLINTH_ASSIGN_OR_RETURN(
          auto old, db_->Query("DELETE FROM alias_protections WHERE name = ? AND alias = ? "
                               "RETURNING suite",
                               k));
      if (old.empty()) {
        return NotFound("alias '" + alias + "' of " + name + " is not protected");
      }
      return Record(name, 0, "protection", alias, old[0].Text(0), "", user_id, NowMs());
    });
  }

  Result<std::vector<AliasProtection>> Protections(const std::string& name) override {
    return RowsOf<AliasProtection>(name,
                                   "SELECT name, alias, suite, suite_sha256, approvals, user_id, "
                                   "time FROM alias_protections WHERE name = ? ORDER BY alias",
                                   [](const Row& r) -> AliasProtection {
                                     return {r.Text(0), r.Text(1), r.Text(2), r.Text(3),
                                             r.Int(4),  r.Text(5), r.Int(6)};
                                   });
  }

  Status RecordGateRun(const GateRun& g) override {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(g.name, std::to_string(g.version)));
    if (g.suite.empty() || g.suite_sha256.size() != 64) {
      return InvalidArgument("a gate run names its suite and the suite file's SHA-256");
    }
    return db_->Transaction([&]() -> Status {
      PLINTH_ASSIGN_OR_RETURN(int64_t seq, NextSeq(g.name));
      Value row[] = {g.name,   seq,      mv.version,    g.suite,   g.suite_sha256, g.passed ? 1 : 0,
                     g.failed, g.run_id, g.data_sha256, g.user_id, NowMs()};
      return db_->Exec(
          "INSERT INTO gate_runs (name, seq, version, suite, suite_sha256, passed, failed, "
          "run_id, data_sha256, user_id, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          row);
    });
  }

  Result<std::vector<GateRun>> GateRuns(const std::string& name,
                                        const std::string& version) override {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    Value k[] = {name, mv.version};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows,
        db_->Query("SELECT name, version, suite, suite_sha256, passed, failed, run_id, "
                   "data_sha256, user_id, time FROM gate_runs WHERE name = ? AND version = ? "
                   "ORDER BY seq DESC",
                   k));
    std::vector<GateRun> out;
    std::set<std::string> seen;
    for (const Row& r : rows) {
      if (seen.insert(r.Text(2)).second) {
        out.push_back({r.Text(0), r.Int(1), r.Text(2), r.Text(3), r.Int(4) != 0, r.Text(5),
                       r.Text(6), r.Text(7), r.Text(8), r.Int(9)});
      }
    }
    return out;
  }

  Status Approve(const std::string& name, const std::string& version,
                 const std::string& user_id) override {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    if (user_id.empty()) {
      return InvalidArgument("an approval needs a user (USER is not set)");
    }
    return db_->Transaction([&]() -> Status {
      const int64_t now = NowMs();
      Value a[] = {name, mv.version, user_id, now};
      PLINTH_ASSIGN_OR_RETURN(
          auto added, db_->Query("INSERT INTO model_version_approvals (name, version, user_id, "
                                 "time) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
                                 a));
      if (added.empty()) {
        return Status::Ok();  // approved before: once per user
      }
      return Record(name, mv.version, "approval", "", "", user_id, user_id, now);
    });
  }

  Result<std::vector<Approval>> Approvals(const std::string& name,
                                          const std::string& version) override {
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    Value k[] = {name, mv.version};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("SELECT name, version, user_id, time FROM model_version_approvals "
                              "WHERE name = ? AND version = ? ORDER BY time, user_id",
                              k));
    std::vector<Approval> out;
    for (const Row& r : rows) {
      out.push_back({r.Text(0), r.Int(1), r.Text(2), r.Int(3)});
    }
    return out;
  }

  Result<Deployment> Deploy(const NewDeployment& d) override {
    PLINTH_RETURN_IF_ERROR(ValidateAlias(d.env));
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(d.name, std::to_string(d.version)));
    if (d.kind != "deploy" && d.kind != "rollback") {
      return InvalidArgument("a deployment is a deploy or a rollback, not '" + d.kind + "'");
    }
    Deployment out;
    PLINTH_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
      PLINTH_RETURN_IF_ERROR(LockModel(d.name));
      Value k[] = {d.name, d.env};
      PLINTH_ASSIGN_OR_RETURN(
          auto old, db_->Query("SELECT version FROM registered_model_aliases WHERE name = ? AND "
                               "alias = ?",
                               k));
      const int64_t previous = old.empty() ? 0 : old[0].Int(0);
      if (d.expected_previous >= 0 && previous != d.expected_previous) {
        return FailedPrecondition(
            "conflict: alias '" + d.env + "' of " + d.name + " was moved to " +
            (previous == 0 ? std::string("nothing") : "version " + std::to_string(previous)) +
            " by someone else while this deployment ran (it found " +
            (d.expected_previous == 0 ? std::string("it unset")
                                      : "version " + std::to_string(d.expected_previous)) +
            "); nothing changed: look at plinth models history " + d.name + " and deploy again");
      }
      if (d.kind == "rollback") {
        // Back to a version this environment served before (and, below, that its protection
        // lets in now, as any other: an emergency that cannot wait forces the alias).
        Value h[] = {d.name, d.env, std::to_string(mv.version)};
        PLINTH_ASSIGN_OR_RETURN(
            auto held, db_->Query("SELECT 1 FROM registry_events WHERE name = ? AND kind = "
                                  "'alias' AND key = ? AND to_value = ? LIMIT 1",
                                  h));
        if (held.empty()) {
          return FailedPrecondition("version " + std::to_string(mv.version) + " of " + d.name +
                                    " never held alias '" + d.env +
                                    "': a rollback only goes back to a version that did");
        }
      }
      PLINTH_RETURN_IF_ERROR(CheckProtection(d.name, d.env, mv.version));
      Value a[] = {d.name, d.env, mv.version};
      PLINTH_RETURN_IF_ERROR(db_->Exec(
          "INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?) ON "
          "CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
          a));
      const int64_t now = NowMs();
      PLINTH_ASSIGN_OR_RETURN(int64_t id, NextSeq(d.name));
      const std::string why =
          d.kind + " " + std::to_string(id) + (d.reason.empty() ? std::string() : ": " + d.reason);
      PLINTH_RETURN_IF_ERROR(Record(d.name, mv.version, "alias", d.env,
                                    previous == 0 ? "" : std::to_string(previous),
                                    std::to_string(mv.version), d.user_id, now, why));
      out = {d.name,    id,  d.env,   mv.version, previous, d.kind,  d.gate_run_id,
             d.user_id, now, "moved", "[]",       0,        d.reason};
      Value row[] = {out.name,      out.id,          out.env,     out.version, out.previous_version,
                     out.kind,      out.gate_run_id, out.user_id, out.time,    out.status,
                     out.endpoints, out.finished,    out.reason};
      return db_->Exec(
          "INSERT INTO deployments (name, id, env, version, previous_version, kind, gate_run_id, "
          "user_id, time, status, endpoints, finished, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?, ?, ?, ?)",
          row);
    }));
    return out;
  }

  Status FinishDeployment(const std::string& name, int64_t id, const std::string& status,
                          const std::string& endpoints_json) override {
    Value a[] = {status, endpoints_json, NowMs(), name, id};
    PLINTH_ASSIGN_OR_RETURN(
        auto done, db_->Query("UPDATE deployments SET status = ?, endpoints = ?, finished = ? "
                              "WHERE name = ? AND id = ? RETURNING 1",
                              a));
    if (done.empty()) {
      return NotFound("no deployment " + std::to_string(id) + " of " + name);
    }
    return Status::Ok();
  }

  Result<std::vector<Deployment>> Deployments(const std::string& name) override {
    return RowsOf<Deployment>(
        name,
        "SELECT name, id, env, version, previous_version, kind, gate_run_id, user_id, time, "
        "status, endpoints, finished, reason FROM deployments WHERE name = ? ORDER BY id DESC",
        [](const Row& r) -> Deployment {
          return {r.Text(0), r.Int(1), r.Text(2), r.Int(3),   r.Int(4),  r.Text(5), r.Text(6),
                  r.Text(7), r.Int(8), r.Text(9), r.Text(10), r.Int(11), r.Text(12)};
        });
  }

  Status RegisterEndpoint(const ServingEndpoint& e) override {
    PLINTH_RETURN_IF_ERROR(ValidateAlias(e.env));
    PLINTH_RETURN_IF_ERROR(CheckModel(e.name));
    if (!e.url.starts_with("http://") && !e.url.starts_with("https://")) {
      return InvalidArgument("an endpoint's URL starts with http:// or https://, not '" + e.url +
                             "'");
    }
    const int64_t now = NowMs();
    return db_->Transaction([&]() -> Status {
      // Registrations a day without a heartbeat are of processes long gone (killed).
      Value old[] = {now - kEndpointForgottenMs};
      PLINTH_RETURN_IF_ERROR(db_->Exec("DELETE FROM serving_endpoints WHERE heartbeat < ?", old));
      Value a[] = {e.url, e.host, e.pid, e.name, e.env, e.version, e.poll_seconds, now, now};
      return db_->Exec(
          "INSERT INTO serving_endpoints (url, host, pid, name, env, version, poll_seconds, "
          "started, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url, host, pid) "
          "DO UPDATE SET name = excluded.name, env = excluded.env, version = excluded.version, "
          "poll_seconds = excluded.poll_seconds, heartbeat = excluded.heartbeat",
          a);
    });
  }

  Status RemoveEndpoint(const ServingEndpoint& e) override {
    Value k[] = {e.url, e.host, e.pid};
    return db_->Exec("DELETE FROM serving_endpoints WHERE url = ? AND host = ? AND pid = ?", k);
  }

  Result<std::vector<ServingEndpoint>> Endpoints(const std::string& name) override {
    return RowsOf<ServingEndpoint>(
        name,
        "SELECT url, name, env, version, host, pid, poll_seconds, started, heartbeat FROM "
        "serving_endpoints WHERE name = ? ORDER BY env, url, host, pid",
        [](const Row& r) -> ServingEndpoint {
          return {r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Text(4),
                  r.Int(5),  r.Int(6),  r.Int(7),  r.Int(8)};
        });
  }

 private:
  static constexpr std::string_view kModelSelect =
      "SELECT m.name, m.creation_time, m.last_updated_time, m.description FROM "
      "registered_models m";

  int64_t NowMs() const { return clock_.NowMicros() / 1000; }

  // The rows `sql` (one ? for the model's name) selects, each made into a T; kNotFound for a
  // model not registered.
  template <class T, class Make>
  Result<std::vector<T>> RowsOf(const std::string& name, std::string_view sql, Make make) {
    PLINTH_RETURN_IF_ERROR(CheckModel(name));
    Value k[] = {name};
    PLINTH_ASSIGN_OR_RETURN(auto rows, db_->Query(sql, k));
    std::vector<T> out;
    out.reserve(rows.size());
    for (const Row& r : rows) {
      out.push_back(make(r));
    }
    return out;
  }

  // NotFound unless `name` is registered (one indexed lookup, not the whole model).
  Status CheckModel(const std::string& name) {
    Value k[] = {name};
    PLINTH_ASSIGN_OR_RETURN(auto rows,
                            db_->Query("SELECT 1 FROM registered_models WHERE name = ?", k));
    if (rows.empty()) {
      return ModelNotFound(name);
    }
    return Status::Ok();
  }

  Status MoveStage(const std::string& name, int64_t version, const std::string& from,
                   const std::string& to, const std::string& user_id, int64_t now) {
    Value a[] = {to, now, name, version};
    PLINTH_RETURN_IF_ERROR(db_->Exec(
        "UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND "
        "version = ?",
        a));
    return Record(name, version, "stage", "", from, to, user_id, now);
  }

  // Takes the model's row lock for the rest of the caller's transaction (PostgreSQL: a
  // protection, gate run or approval written meanwhile waits, as they all bump the row's
  // event number; SQLite's transactions are serialized already).
  Status LockModel(const std::string& name) {
    Value k[] = {name};
    return db_->Exec("UPDATE registered_models SET event_seq = event_seq WHERE name = ?", k);
  }

  // Ok unless `name` has protected aliases (which renaming or deleting would carry off).
  Status Unprotected(const std::string& name, const std::string& what) {
    Value k[] = {name};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows,
        db_->Query("SELECT alias FROM alias_protections WHERE name = ? ORDER BY alias", k));
    if (!rows.empty()) {
      return FailedPrecondition("registered model " + name + " has the protected alias '" +
                                rows[0].Text(0) + "': it cannot be " + what +
                                " until it is unprotected (plinth models unprotect)");
    }
    return Status::Ok();
  }

  // The model's next event number (within the caller's transaction).
  Result<int64_t> NextSeq(const std::string& name) {
    Value k[] = {name};
    PLINTH_ASSIGN_OR_RETURN(
        auto seq, db_->Query("UPDATE registered_models SET event_seq = event_seq + 1 WHERE name = "
                             "? RETURNING event_seq",
                             k));
    if (seq.empty()) {
      return ModelNotFound(name);
    }
    return seq[0].Int(0);
  }

  // Appends one alias or stage move to the history (within the caller's transaction).
  Status Record(const std::string& name, int64_t version, const std::string& kind,
                const std::string& key, const std::string& from, const std::string& to,
                const std::string& user_id, int64_t now, const std::string& reason = "") {
    PLINTH_ASSIGN_OR_RETURN(int64_t seq, NextSeq(name));
    Value row[] = {name, seq, version, kind, key, from, to, user_id, now, reason};
    return db_->Exec(
        "INSERT INTO registry_events (name, seq, version, kind, key, from_value, to_value, "
        "user_id, time, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row);
  }

  Status MoveAlias(const std::string& name, const std::string& alias, const std::string& version,
                   const std::string& user_id, bool force, const std::string& reason) {
    PLINTH_RETURN_IF_ERROR(ValidateAlias(alias));
    PLINTH_ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
    return db_->Transaction([&]() -> Status {
      if (!force) {
        PLINTH_RETURN_IF_ERROR(LockModel(name));
        PLINTH_RETURN_IF_ERROR(CheckProtection(name, alias, mv.version));
      }
      Value k[] = {name, alias};
      PLINTH_ASSIGN_OR_RETURN(
          auto old, db_->Query("SELECT version FROM registered_model_aliases WHERE name = ? AND "
                               "alias = ?",
                               k));
      std::string from = old.empty() ? "" : std::to_string(old[0].Int(0));
      Value a[] = {name, alias, mv.version};
      PLINTH_RETURN_IF_ERROR(db_->Exec(
          "INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?) ON "
          "CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
          a));
      return Record(name, mv.version, "alias", alias, from, std::to_string(mv.version), user_id,
                    NowMs(), reason);
    });
  }

  // Ok unless `alias` of `name` is protected and `version` lacks what the protection asks
  // (within the caller's transaction): kFailedPrecondition saying what is missing.
  Status CheckProtection(const std::string& name, const std::string& alias, int64_t version) {
    Value k[] = {name, alias};
    PLINTH_ASSIGN_OR_RETURN(
        auto rows, db_->Query("SELECT suite, suite_sha256, approvals FROM alias_protections "
                              "WHERE name = ? AND alias = ?",
                              k));
    if (rows.empty()) {
      return Status::Ok();
    }
    const std::string suite = rows[0].Text(0);
    const std::string digest = rows[0].Text(1);
    const int64_t needed = rows[0].Int(2);
    const std::string v = std::to_string(version);
    const std::string what = "alias '" + alias + "' of " + name + " is protected by the gates '" +
                             suite + "': version " + v + " ";
    Value g[] = {name, version, suite};
    PLINTH_ASSIGN_OR_RETURN(
        auto runs, db_->Query("SELECT passed, suite_sha256, failed FROM gate_runs WHERE name = ? "
                              "AND version = ? AND suite = ? ORDER BY seq DESC LIMIT 1",
                              g));
    if (runs.empty()) {
      return FailedPrecondition(what + "has not run them (plinth models test models:/" + name +
                                "/" + v + " --gates FILE)");
    }
    if (runs[0].Text(1) != digest) {
      return FailedPrecondition(what +
                                "ran other gates than the protection names (the gates file, its "
                                "quality suites, its data or --url differ); run plinth models "
                                "test again");
    }
    if (runs[0].Int(0) == 0) {
      return FailedPrecondition(what + "failed them (" + runs[0].Text(2) + ")");
    }
    Value a[] = {name, version};
    PLINTH_ASSIGN_OR_RETURN(auto approvals,
                            db_->Query("SELECT COUNT(*) FROM model_version_approvals WHERE name "
                                       "= ? AND version = ?",
                                       a));
    const int64_t have = approvals.empty() ? 0 : approvals[0].Int(0);
    if (have < needed) {
      return FailedPrecondition(what + "has " + std::to_string(have) + " of " +
                                std::to_string(needed) + " approvals (plinth models approve " +
                                name + " " + v + ")");
    }
    return Status::Ok();
  }

  Status UpsertModelTag(const std::string& name, const Tag& t) {
    Value a[] = {name, t.key, t.value};
    return db_->Exec(
        "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?) ON CONFLICT "
        "(name, key) DO UPDATE SET value = excluded.value",
        a);
  }

  Status UpsertVersionTag(const std::string& name, int64_t version, const Tag& t) {
    Value a[] = {name, version, t.key, t.value};
    return db_->Exec(
        "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?) ON "
        "CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
        a);
  }

  // Model versions with their tags and aliases.
  Result<std::vector<ModelVersion>> LoadVersions(const std::vector<Row>& rows) {
    std::vector<ModelVersion> out;
    std::map<std::pair<std::string, int64_t>, size_t> index;
    std::vector<Value> names;
    std::set<std::string> seen;
    for (const Row& r : rows) {
      ModelVersion v;
      v.name = r.Text(0);
      v.version = r.Int(1);
      v.creation_timestamp = r.Int(2);
      v.last_updated_timestamp = r.Int(3);
      v.description = r.Text(4);
      v.user_id = r.Text(5);
      v.current_stage = r.Text(6);
      v.source = r.Text(7);
      v.run_id = r.Text(8);
      v.run_link = r.Text(9);
      v.status = r.Text(10);
      v.status_message = r.Text(11);
      v.storage_location = r.IsNull(12) ? v.source : r.Text(12);
      index[{v.name, v.version}] = out.size();
      if (seen.insert(v.name).second) {
        names.emplace_back(v.name);
      }
      out.push_back(std::move(v));
    }
    auto attach = [&](const Row& r, auto add) {
      if (auto it = index.find({r.Text(0), r.Int(1)}); it != index.end()) {
        add(out[it->second]);
      }
    };
    PLINTH_RETURN_IF_ERROR(ForEachRowIn(
        *db_, "SELECT name, version, key, value FROM model_version_tags WHERE name", names,
        " ORDER BY key", [&](const Row& t) {
          attach(t, [&](ModelVersion& v) { v.tags.push_back({t.Text(2), t.Text(3)}); });
        }));
    PLINTH_RETURN_IF_ERROR(
        ForEachRowIn(*db_, "SELECT name, version, alias FROM registered_model_aliases WHERE name",
                     names, " ORDER BY alias", [&](const Row& a) {
                       attach(a, [&](ModelVersion& v) { v.aliases.push_back(a.Text(2)); });
                     }));
    return out;
  }

  // Registered models with tags, aliases and the newest version in each stage.
  Result<std::vector<RegisteredModel>> LoadModels(const std::vector<Row>& rows) {
    std::vector<RegisteredModel> out;
    std::map<std::string, size_t> index;
    std::vector<Value> names;
    for (const Row& r : rows) {
      RegisteredModel m;
      m.name = r.Text(0);
      m.creation_timestamp = r.Int(1);
      m.last_updated_timestamp = r.Int(2);
      m.description = r.Text(3);
      index[m.name] = out.size();
      names.emplace_back(m.name);
      out.push_back(std::move(m));
    }
    PLINTH_RETURN_IF_ERROR(
        ForEachRowIn(*db_, "SELECT name, key, value FROM registered_model_tags WHERE name", names,
                     " ORDER BY key", [&](const Row& t) {
                       out[index[t.Text(0)]].tags.push_back({t.Text(1), t.Text(2)});
                     }));
    PLINTH_RETURN_IF_ERROR(ForEachRowIn(
        *db_, "SELECT name, alias, version FROM registered_model_aliases WHERE name", names,
        " ORDER BY alias",
        [&](const Row& a) { out[index[a.Text(0)]].aliases.emplace_back(a.Text(1), a.Int(2)); }));
    std::vector<Row> latest;
    PLINTH_RETURN_IF_ERROR(ForEachRowIn(
        *db_, "SELECT " + std::string(kVersionColumns) + " FROM model_versions v WHERE v.name",
        names,
        " AND v.version = (SELECT MAX(w.version) FROM model_versions w WHERE w.name = v.name AND "
        "w.current_stage = v.current_stage)",
        [&](const Row& r) { latest.push_back(r); }));
    PLINTH_ASSIGN_OR_RETURN(auto versions, LoadVersions(latest));
    auto stage_rank = [](const std::string& s) {
      return std::find(kStages.begin(), kStages.end(), s) - kStages.begin();
    };
    std::sort(versions.begin(), versions.end(), [&](const ModelVersion& a, const ModelVersion& b) {
      return stage_rank(a.current_stage) < stage_rank(b.current_stage);
    });
    for (ModelVersion& v : versions) {
      out[index[v.name]].latest_versions.push_back(std::move(v));
    }
    return out;
  }

  std::unique_ptr<store::Database> db_;
  const core::Clock& clock_;
};

}  // namespace

// Stores without protections (the REST client: the server's store enforces them).
namespace {
Status ProtectionsHere() {
  return Unimplemented(
      "protected aliases, gate runs, approvals, deployments and serving endpoints are kept by "
      "the store itself (sqlite:/// or postgresql://), not through a tracking server");
}
}  // namespace

Status RegistryStore::ProtectAlias(const AliasProtection&) { return ProtectionsHere(); }
Status RegistryStore::UnprotectAlias(const std::string&, const std::string&, const std::string&) {
  return ProtectionsHere();
}
Result<std::vector<AliasProtection>> RegistryStore::Protections(const std::string&) {
  return ProtectionsHere();
}
Status RegistryStore::RecordGateRun(const GateRun&) { return ProtectionsHere(); }
Result<std::vector<GateRun>> RegistryStore::GateRuns(const std::string&, const std::string&) {
  return ProtectionsHere();
}
Status RegistryStore::Approve(const std::string&, const std::string&, const std::string&) {
  return ProtectionsHere();
}
Result<std::vector<Approval>> RegistryStore::Approvals(const std::string&, const std::string&) {
  return ProtectionsHere();
}
Status RegistryStore::ForceAlias(const std::string&, const std::string&, const std::string&,
                                 const std::string&, const std::string&) {
  return ProtectionsHere();
}

Result<Deployment> RegistryStore::Deploy(const NewDeployment&) { return ProtectionsHere(); }
Status RegistryStore::FinishDeployment(const std::string&, int64_t, const std::string&,
                                       const std::string&) {
  return ProtectionsHere();
}
Result<std::vector<Deployment>> RegistryStore::Deployments(const std::string&) {
  return ProtectionsHere();
}
Status RegistryStore::RegisterEndpoint(const ServingEndpoint&) { return ProtectionsHere(); }
Status RegistryStore::RemoveEndpoint(const ServingEndpoint&) { return ProtectionsHere(); }

Status ValidateAliasName(const std::string& alias) { return ValidateAlias(alias); }
Result<std::vector<ServingEndpoint>> RegistryStore::Endpoints(const std::string&) {
  return ProtectionsHere();
}

Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(std::unique_ptr<store::Database> db,
                                                         const core::Clock& clock) {
  auto s = std::make_unique<SqlRegistryStore>(std::move(db), clock);
  PLINTH_RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<RegistryStore>(std::move(s));
}

Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(const std::string& store_uri,
                                                         const core::Clock& clock) {
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, store::OpenDatabase(store_uri));
  return OpenRegistryStore(std::move(db), clock);
}

}  // namespace plinth::tracking
