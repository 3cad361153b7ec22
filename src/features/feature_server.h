// POST /get-online-features for the servers (plinth server, plinth serve --features): Feast's
// feature-server request and answer over the registry in a metadata store and the online store
// it names. The registry is read again at most every `refresh_seconds` (what `plinth features
// apply` recorded since shows up then, as Feast's registry cache does). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "features/definitions.h"
#include "features/online_store.h"
#include "store/database.h"

namespace plinth::features {

struct FeatureAnswer {
  int status = 200;
  std::string body;  // JSON
};

class OnlineFeatureServer {
 public:
  // Opens the registry in the database at `store_uri`; the online store is opened on the first
  // request (a registry without definitions answers 404 until some are applied).
  static Result<std::unique_ptr<OnlineFeatureServer>> Open(
      const std::string& store_uri, int64_t refresh_seconds = 5,
      const core::Clock& clock = core::SystemClock());
  ~OnlineFeatureServer();

  // Answers a get-online-features body: 200 with Feast's response; 422 for a malformed body
  // ({"detail": "..."}), 404 for an unknown service, group or feature, 500 when a store fails
  // (Feast's error detail: a JSON string of {"module", "class", "message"}).
  FeatureAnswer GetOnlineFeatures(std::string_view body);

 private:
  struct State;
  explicit OnlineFeatureServer(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace plinth::features
