// Where `plinth serve`'s model comes from: how a bundle is versioned and named,
// how it is loaded for serving, and the poller that reloads it when what
// MODEL names has changed (an alias moved, a bundle rewritten).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "core/status.h"
#include "serving/model_server.h"

namespace plinth::serving {

// A model MODEL names now: its bundle directory, the version answers report,
// and the registry's name for a registered model ("" for a bundle path).
struct ModelLocation {
  std::string dir;
  std::string version;
  std::string registered_name;
};

// A bundle's version when no registry numbers it: the first 12 hex digits of
// the SHA-256 of its plinth-model.json (which changes whenever the bundle
// does). Errors: the file cannot be read.
Result<std::string> BundleVersion(const std::string& dir);

// Loads the bundle at `at` for serving (one predicting thread per request:
// requests run concurrently on the I/O threads). Named by the registry, else
// by the bundle's own name, else by its directory.
Result<std::shared_ptr<const ServedModel>> LoadServedModel(const ModelLocation& at);

// A ModelSource that asks `locate` where the model is now on every reload.
ModelSource SourceOf(std::function<Result<ModelLocation>()> locate);

// The reload poller's interval: `flag` when set (>= 0), else 30 seconds for
// models:/NAME@ALIAS (an alias moves) and off (0) for anything else.
int64_t PollSeconds(const std::string& model, int64_t flag);

// Calls server.Reload() every `seconds` (0: never) on a thread of its own
// until destroyed, reporting what changed or failed through `report`, then calling
// `after` (when set: plinth serve renews its endpoint registration there).
class ReloadPoller {
 public:
  ReloadPoller(ModelServer& server, int64_t seconds, std::function<void(const std::string&)> report,
               std::function<void()> after = nullptr);
  ~ReloadPoller();
  ReloadPoller(const ReloadPoller&) = delete;
  ReloadPoller& operator=(const ReloadPoller&) = delete;

 private:
  core::Mutex mu_;
  core::CondVar cv_;
  bool stop_ PLINTH_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace plinth::serving
