// plinth: one binary for the ML lifecycle. Parses the command line, dispatches
// to a command, and maps errors to exit codes.
#include <cstdio>

#include "commands.h"
#include "core/logging.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  CLI::App app{"Plinth: from raw data to a monitored production model, in one binary.", "plinth"};
  app.set_version_flag("--version", std::string("plinth ") + PLINTH_VERSION);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.require_subcommand(1);
  app.footer("Run 'plinth COMMAND --help' for a command's options. Docs: docs/CLI.md");

  plinth::cli::Runner run;
  plinth::cli::RegisterProfile(app, run);
  plinth::cli::RegisterValidate(app, run);
  plinth::cli::RegisterData(app, run);
  plinth::cli::RegisterPipeline(app, run);
  plinth::cli::RegisterTrain(app, run);
  plinth::cli::RegisterModels(app, run);
  plinth::cli::RegisterMonitor(app, run);
  plinth::cli::RegisterServer(app, run);
  plinth::cli::RegisterServe(app, run);
  plinth::cli::RegisterPredict(app, run);
  plinth::cli::RegisterTracking(app, run);
  plinth::cli::RegisterDeploy(app, run);
  plinth::cli::RegisterFeatures(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "plinth: error: %s\nRun 'plinth --help' for usage.\n",
                 plinth::cli::ParseErrorMessage(app, e).c_str());
    return plinth::cli::kExitBadInput;
  }
  plinth::Status s = plinth::core::InitLogging(log_level);
  if (!s.ok()) {
    return plinth::cli::ReportError(s);
  }
  if (!run) {
    std::fprintf(stderr, "plinth: error: no command given\n");
    return plinth::cli::kExitBadInput;
  }
  try {
    return run();
  } catch (const std::exception& e) {
    // Library code returns Status; this catches only what escapes from the
    // standard library (out of memory, ...), so the user still gets one line.
    std::fprintf(stderr, "plinth: error: internal: %s\n", e.what());
    return plinth::cli::kExitInternal;
  }
}
