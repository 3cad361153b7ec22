#include "data/project.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/file.h"
#include "core/yaml.h"

namespace plinth::data {
namespace fs = std::filesystem;

namespace {

constexpr store::Migration kMigrations[] = {
    {1, "data versions and file state",
     "CREATE TABLE data_versions ("
     "  id INTEGER PRIMARY KEY,"
     "  hash TEXT NOT NULL,"
     "  path TEXT NOT NULL,"
     "  kind TEXT NOT NULL,"
     "  size INTEGER NOT NULL,"
     "  nfiles INTEGER NOT NULL,"
     "  created TEXT NOT NULL,"
     "  git_commit TEXT);"
     "CREATE INDEX data_versions_hash ON data_versions(hash);"
     "CREATE INDEX data_versions_path ON data_versions(path);"
     // What a file's bytes hashed to, by identity and stamp, so unchanged files are not
     // hashed again.
     "CREATE TABLE data_state ("
     "  dev INTEGER NOT NULL,"
     "  inode INTEGER NOT NULL,"
     "  mtime_ns INTEGER NOT NULL,"
     "  size INTEGER NOT NULL,"
     "  hash TEXT NOT NULL,"
     "  PRIMARY KEY (dev, inode));"},
};

Result<LinkKind> ParseLinkKind(const std::string& s, const std::string& where) {
  if (s == "reflink") {
    return LinkKind::kReflink;
  }
  if (s == "hardlink") {
    return LinkKind::kHardlink;
  }
  if (s == "copy") {
    return LinkKind::kCopy;
  }
  return InvalidArgument(where + ": cache.link: expected reflink, hardlink or copy, got \"" + s +
                         "\"");
}

}  // namespace

std::string_view LinkKindName(LinkKind k) {
  switch (k) {
    case LinkKind::kReflink:
      return "reflink";
    case LinkKind::kHardlink:
      return "hardlink";
    case LinkKind::kCopy:
      return "copy";
  }
  return "?";
}

bool SharesInodes(const std::vector<LinkKind>& order) {
  return std::find(order.begin(), order.end(), LinkKind::kHardlink) != order.end();
}

Status MigrateDataTables(store::Database& db) { return store::Migrate(db, "data", kMigrations); }

Result<Project> Project::Init(const std::string& dir) {
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec).lexically_normal();
  if (ec || !fs::is_directory(root, ec)) {
    return InvalidArgument(dir + ": not a directory");
  }
  std::string r = root.string();
  while (r.size() > 1 && r.back() == '/') {
    r.pop_back();
  }
  if (fs::exists(r + "/.plinth/config.yaml", ec)) {
    return AlreadyExists(r + ": already a Plinth project (.plinth/config.yaml exists)");
  }
  fs::create_directories(r + "/.plinth", ec);
  if (ec) {
    return IoError(r + "/.plinth: " + ec.message());
  }
  Config config;
  Project p(r, config);
  p.config_.store_uri = "sqlite:///" + r + "/.plinth/plinth.db";
  p.config_.cache_dir = r + "/.plinth/cache";
  // .plinth/ holds machine-local state; only config.yaml belongs in git.
  PLINTH_RETURN_IF_ERROR(
      core::AtomicWriteFile(r + "/.plinth/.gitignore",
                            "# Plinth: the cache and the local store stay out of git.\n"
                            "/cache/\n/plinth.db\n/plinth.db-*\n/tmp/\n"));
  PLINTH_RETURN_IF_ERROR(p.SaveConfig());
  PLINTH_RETURN_IF_ERROR(p.Store().status());
  return p;
}

Result<Project> Project::Find(const std::string& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec).lexically_normal();
  while (true) {
    if (fs::exists(dir / ".plinth" / "config.yaml", ec)) {
      std::string r = dir.string();
      while (r.size() > 1 && r.back() == '/') {
        r.pop_back();
      }
      PLINTH_ASSIGN_OR_RETURN(Config config, LoadConfig(r));
      return Project(r, std::move(config));
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) {
      break;
    }
    dir = dir.parent_path();
  }
  return NotFound(start +
                  ": not inside a Plinth project (no .plinth/ here or above; run "
                  "'plinth init')");
}

Result<Config> Project::LoadConfig(const std::string& root) {
  std::string path = root + "/.plinth/config.yaml";
  PLINTH_ASSIGN_OR_RETURN(YAML::Node node, core::ReadYamlFile(path));
  Config c;
  c.store_uri = "sqlite:///" + root + "/.plinth/plinth.db";
  c.cache_dir = root + "/.plinth/cache";
  if (node.IsNull()) {
    return c;
  }
  if (!node.IsMap()) {
    return InvalidArgument(path + ": expected a mapping");
  }
  static const char* const kKeys[] = {"store", "cache", "remotes", "default_remote"};
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return InvalidArgument(core::YamlWhere(kv.first, path) + ": unknown key '" + key +
                             "' (expected store, cache, remotes, default_remote)");
    }
  }
  std::string where = path;
  if (node["store"]) {
    PLINTH_ASSIGN_OR_RETURN(
        c.store_uri, core::YamlAs<std::string>(node["store"], core::YamlWhere(node["store"], path),
                                               "store", "a store URI"));
  }
  if (const YAML::Node cache = node["cache"]) {
    std::string w = core::YamlWhere(cache, path);
    if (!cache.IsMap()) {
      return InvalidArgument(w + ": key 'cache': expected a mapping (dir, link)");
    }
    if (cache["dir"]) {
      PLINTH_ASSIGN_OR_RETURN(std::string dir,
                              core::YamlAs<std::string>(cache["dir"], w, "cache.dir", "a path"));
      c.cache_dir = fs::path(dir).is_absolute() ? dir : root + "/" + dir;
    }
    if (const YAML::Node link = cache["link"]) {
      c.link_order.clear();
      if (link.IsScalar()) {
        PLINTH_ASSIGN_OR_RETURN(LinkKind k, ParseLinkKind(link.Scalar(), w));
        c.link_order.push_back(k);
      } else if (link.IsSequence()) {
        for (const auto& l : link) {
          PLINTH_ASSIGN_OR_RETURN(LinkKind k, ParseLinkKind(l.Scalar(), w));
          c.link_order.push_back(k);
        }
      }
      if (c.link_order.empty()) {
        return InvalidArgument(w + ": cache.link: expected a list of reflink, hardlink, copy");
      }
      // What `plinth init` wrote when hardlinks were the default: not a choice
      // the user made, so the safe default now (docs/FORMATS.md).
      if (c.link_order ==
          std::vector<LinkKind>{LinkKind::kReflink, LinkKind::kHardlink, LinkKind::kCopy}) {
        c.link_order = Config().link_order;
      }
    }
  }
  if (const YAML::Node remotes = node["remotes"]) {
    if (!remotes.IsMap()) {
      return InvalidArgument(core::YamlWhere(remotes, path) +
                             ": key 'remotes': expected a mapping of name: url");
    }
    for (const auto& kv : remotes) {
      c.remotes[kv.first.Scalar()] = kv.second.Scalar();
    }
  }
  if (node["default_remote"]) {
    c.default_remote = node["default_remote"].Scalar();
  }
  return c;
}

Status Project::SaveConfig() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string default_store = "sqlite:///" + root_ + "/.plinth/plinth.db";
  if (config_.store_uri != default_store) {
    out << YAML::Key << "store" << YAML::Value << config_.store_uri;
  }
  out << YAML::Key << "cache" << YAML::Value << YAML::BeginMap;
  if (config_.cache_dir != root_ + "/.plinth/cache") {
    out << YAML::Key << "dir" << YAML::Value << config_.cache_dir;
  }
  out << YAML::Key << "link" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (LinkKind k : config_.link_order) {
    out << std::string(LinkKindName(k));
  }
  out << YAML::EndSeq << YAML::EndMap;
  if (!config_.remotes.empty()) {
    out << YAML::Key << "remotes" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, url] : config_.remotes) {
      out << YAML::Key << name << YAML::Value << url;
    }
    out << YAML::EndMap;
  }
  if (!config_.default_remote.empty()) {
    out << YAML::Key << "default_remote" << YAML::Value << config_.default_remote;
  }
  out << YAML::EndMap;
  return core::AtomicWriteFile(
      plinth_dir() + "/config.yaml",
      "# Plinth project configuration (docs/FORMATS.md)\n" + std::string(out.c_str()) + "\n");
}

Result<store::Database*> Project::Store() {
  if (!db_) {
    PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db,
                            store::OpenDatabase(config_.store_uri));
    PLINTH_RETURN_IF_ERROR(MigrateDataTables(*db));
    db_ = std::move(db);
  }
  return db_.get();
}

Result<std::string> Project::Relative(const std::string& path) const {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec).lexically_normal();
  std::string a = abs.string();
  while (a.size() > 1 && a.back() == '/') {
    a.pop_back();
  }
  if (a == root_) {
    return InvalidArgument(path + ": is the project root; name a file or directory inside it");
  }
  if (a.compare(0, root_.size() + 1, root_ + "/") != 0) {
    return InvalidArgument(path + ": outside the project at " + root_);
  }
  std::string rel = a.substr(root_.size() + 1);
  if (rel == ".plinth" || rel.rfind(".plinth/", 0) == 0 || rel == ".git" ||
      rel.rfind(".git/", 0) == 0) {
    return InvalidArgument(path + ": inside .plinth/ or .git/, which Plinth does not version");
  }
  return rel;
}

}  // namespace plinth::data
