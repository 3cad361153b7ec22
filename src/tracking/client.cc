#include "tracking/client.h"

#include <cstdlib>

#include "tracking/rest_store.h"
#include "tracking/sql_stores.h"

namespace plinth::tracking {

Result<TrackingClient> OpenTrackingClient(const std::string& uri, const std::string& artifacts,
                                          const std::string& user) {
  TrackingClient c;
  c.uri = uri;
  if (uri.starts_with("http://") || uri.starts_with("https://")) {
    std::string host = uri.substr(uri.find("//") + 2);
    for (char& ch : host) {
      ch = (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-') ? ch : '_';
    }
    c.tracking = OpenRestTrackingStore(uri);
    c.registry = OpenRestRegistryStore(uri, user);
    c.artifacts = OpenRestArtifacts(uri, artifacts + "/" + host);
    return c;
  }
  if (artifacts.empty()) {
    return InvalidArgument(uri + ": no artifact root (the directory behind mlflow-artifacts:/)");
  }
  PLINTH_ASSIGN_OR_RETURN(c.tracking, OpenTrackingStore(uri, "mlflow-artifacts:"));
  PLINTH_ASSIGN_OR_RETURN(c.registry, OpenRegistryStore(uri));
  c.artifacts = std::make_unique<ArtifactRoot>(artifacts);
  return c;
}

Result<std::optional<StoreLocation>> LocateTrackingStore(const std::string& flag_uri,
                                                         const std::string& project_root,
                                                         bool required, const Getenv& getenv) {
  auto env = [&getenv](const char* name) -> std::string {
    const char* v = getenv ? getenv(name) : std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
  };
  StoreLocation at;
  at.uri = flag_uri;
  at.source = "--tracking-uri";
  for (const char* name : {"PLINTH_TRACKING_URI", "MLFLOW_TRACKING_URI"}) {
    if (at.uri.empty() && !env(name).empty()) {
      at.uri = env(name);
      at.source = std::string("$") + name;
    }
  }
  at.artifacts = env("PLINTH_ARTIFACTS_ROOT");
  if (at.artifacts.empty() && !project_root.empty()) {
    at.artifacts = project_root + "/.plinth/artifacts";
  }
  if (at.uri.empty()) {
    if (project_root.empty()) {
      if (!required) {
        return std::optional<StoreLocation>();
      }
      return InvalidArgument(
          "no tracking store: run inside a Plinth project ('plinth init'), pass --tracking-uri, "
          "or set PLINTH_TRACKING_URI");
    }
    at.uri = "sqlite:///" + project_root + "/.plinth/plinth.db";
    at.source = "the project";
  }
  if (at.uri.starts_with("http://") || at.uri.starts_with("https://")) {
    // A tracking server: models it serves are downloaded into the user's cache.
    if (!env("XDG_CACHE_HOME").empty()) {
      at.artifacts = env("XDG_CACHE_HOME") + "/plinth/artifacts";
    } else if (!env("HOME").empty()) {
      at.artifacts = env("HOME") + "/.cache/plinth/artifacts";
    } else {
      at.artifacts = "/tmp/plinth-artifacts";
    }
  } else if (at.artifacts.empty()) {
    return InvalidArgument(at.source + " " + at.uri +
                           ": no artifact root outside a Plinth project; set "
                           "PLINTH_ARTIFACTS_ROOT to the directory `plinth server "
                           "--artifacts-root` serves");
  }
  at.user = env("USER");
  return std::optional<StoreLocation>(std::move(at));
}

}  // namespace plinth::tracking
