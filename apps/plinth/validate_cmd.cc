#include "commands.h"

namespace plinth::cli {
void RegisterValidate(CLI::App& app, Runner& run) {}
}  // namespace plinth::cli
