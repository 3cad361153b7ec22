// Running a child process and collecting its output (used for git).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace plinth::core {

struct ProcessResult {
  int exit_code = 0;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::string cwd;                         // empty: the current directory
  std::map<std::string, std::string> env;  // added to (or replacing in) the environment
  // When set, stdout and stderr share one pipe and each line is handed over as it
  // arrives (without its newline) instead of being collected.
  std::function<void(std::string_view)> on_line;
};

// Runs `argv` (argv[0] looked up in PATH) with no stdin, and waits. Returns
// kNotFound when the program does not exist and kIoError when it cannot be
// started; a non-zero exit is not an error here.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const ProcessOptions& options);
inline Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                        const std::string& cwd = "") {
  ProcessOptions o;
  o.cwd = cwd;
  return RunProcess(argv, o);
}

}  // namespace plinth::core
