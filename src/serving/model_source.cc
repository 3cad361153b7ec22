#include "serving/model_source.h"

#include <chrono>
#include <filesystem>

#include "core/hash.h"

namespace plinth::serving {

Result<std::string> BundleVersion(const std::string& dir) {
  PLINTH_ASSIGN_OR_RETURN(std::string digest, core::Sha256File(dir + "/plinth-model.json"));
  return digest.substr(0, 12);
}

Result<std::shared_ptr<const ServedModel>> LoadServedModel(const ModelLocation& at) {
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<ml::Predictor> predictor, ml::Predictor::Load(at.dir));
  PLINTH_RETURN_IF_ERROR(predictor->SetPredictThreads(1));
  auto served = std::make_shared<ServedModel>();
  served->name = at.registered_name;
  if (served->name.empty()) {
    served->name = predictor->meta().name;
  }
  if (served->name.empty()) {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(at.dir, ec).lexically_normal();
    served->name = (dir.has_filename() ? dir : dir.parent_path()).filename().string();
  }
  served->version = at.version;
  served->predictor = std::move(predictor);
  return std::shared_ptr<const ServedModel>(std::move(served));
}

ModelSource SourceOf(std::function<Result<ModelLocation>()> locate) {
  return ModelSource{[locate]() -> Result<std::string> {
                       PLINTH_ASSIGN_OR_RETURN(ModelLocation at, locate());
                       return at.version;
                     },
                     [locate]() -> Result<std::shared_ptr<const ServedModel>> {
                       PLINTH_ASSIGN_OR_RETURN(ModelLocation at, locate());
                       return LoadServedModel(at);
                     }};
}

int64_t PollSeconds(const std::string& model, int64_t flag) {
  if (flag >= 0) {
    return flag;
  }
  const bool alias = model.starts_with("models:/") && model.find('@') != std::string::npos;
  return alias ? 30 : 0;
}

ReloadPoller::ReloadPoller(ModelServer& server, int64_t seconds,
                           std::function<void(const std::string&)> report,
                           std::function<void()> after) {
  if (seconds <= 0) {
    return;
  }
  thread_ = std::thread([this, &server, seconds, report = std::move(report),
                         after = std::move(after)] {
    while (true) {
      {
        core::MutexLock lock(mu_);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        while (!stop_ && cv_.WaitUntil(mu_, deadline)) {
        }
        if (stop_) {
          return;
        }
      }
      Result<ReloadResult> r = server.Reload();
      if (!r.ok()) {
        report("reload failed, still serving version " + server.current()->version + ": " +
               r.status().message());
      } else if (r->swapped) {
        report("now serving version " + r->version + " (was " + r->previous_version + ")");
      }
      if (r.ok() && !r->challenger_version.empty()) {
        report(std::string(server.challenger_role() == Challenger::Role::kCanary ? "the canary"
                                                                                 : "the shadow") +
               " is now version " + r->challenger_version);
      }
      if (r.ok() && !r->challenger_error.empty()) {
        report(r->challenger_error);
      }
      if (after) {
        after();
      }
    }
  });
}

ReloadPoller::~ReloadPoller() {
  {
    core::MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace plinth::serving
