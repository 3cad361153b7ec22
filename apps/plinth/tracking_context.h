// The CLI's tracking flags, and the store they name (tracking::LocateTrackingStore's rules).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "core/status.h"
#include "tracking/client.h"

namespace plinth::cli {

struct TrackingFlags {
  std::string uri;
  bool json = false;  // --json for listing commands
};
void AddTrackingUriFlag(CLI::App& cmd, TrackingFlags& flags);
// The MODEL argument of the commands that load a bundle (see ResolveModel).
void AddModelArgument(CLI::App& cmd, std::string& model, bool required = true);

using TrackingContext = tracking::TrackingClient;  // not ok() when nothing is configured

// Opens the store the flags, the environment or the project name. With
// `required` false, no configured store gives an empty context; with true, an
// error saying how to name one.
Result<TrackingContext> OpenTracking(const TrackingFlags& flags, bool required);

// `model` as a local bundle directory: a path as it is, or a models:/ or runs:/
// URI resolved through the tracking store. For models:/ URIs, `version` (when
// not null) gets the registry's version.
Result<std::string> ResolveModel(const std::string& model, const TrackingFlags& flags,
                                 tracking::ModelVersion* version = nullptr);

// The operating system account running the command (not $USER, which anyone can set): who
// approves a version and who ran its gates.
std::string AccountName();
// This machine's name ("" when it cannot be read): what a serving endpoint registers as its
// host, and what plinth deploy compares it with.
std::string HostName();
// Who moves an alias or a stage, for the history: $USER, else AccountName().
std::string MoverName();

// A finished-later run recording a report: in `experiment` (created when absent), named
// `run_name`, by $USER, with `tags`.
Result<tracking::Run> CreateRecordRun(tracking::TrackingStore& store, const std::string& experiment,
                                      const std::string& run_name, std::vector<tracking::Tag> tags);

}  // namespace plinth::cli
