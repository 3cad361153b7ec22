#include "testutil/testutil.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace plinth::testutil {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/plinth-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  std::string p = File(name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

std::string DatasetPath(const std::string& name) {
  return std::string(PLINTH_DATASETS_DIR) + "/" + name;
}

std::string TestdataPath(const std::string& name) {
  return std::string(PLINTH_SOURCE_DIR) + "/tests/testdata/" + name;
}

}  // namespace plinth::testutil
