// Running a child process and collecting its output (used for git).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace plinth::core {

struct ProcessResult {
  int exit_code = 0;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] looked up in PATH) in directory `cwd` (empty: the
// current one) with no stdin, and waits. Returns kNotFound when the program
// does not exist and kIoError when it cannot be started; a non-zero exit is
// not an error here.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const std::string& cwd = "");

}  // namespace plinth::core
