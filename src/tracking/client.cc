#include "tracking/client.h"

#include "tracking/rest_store.h"

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

}  // namespace plinth::tracking
