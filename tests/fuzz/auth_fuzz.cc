// libFuzzer target for `plinth server --auth`'s readers of client bytes
// (server/auth.h): the Authorization header (HTTP Basic, bearer JWTs) and the
// auth config file (MLflow's basic_auth.ini). The first byte picks which; the
// rest is the header value after a scheme the byte also picks, or the file. A
// request is answered 200 (the admin's own credentials) or 401, nothing else; a
// config file is read or refused with a message; never a crash.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/hash.h"
#include "server/auth.h"
#include "server/mlflow_api.h"

namespace {

struct Fixture {
  Fixture() {
    char dir_template[] = "/tmp/plinth-auth-fuzz-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
      std::abort();
    }
    dir = dir_template;
    plinth::server::AuthOptions auth;
    auth.admin_username = "admin";
    auth.admin_password = "pw";
    auth.jwt_secret = "secret";
    plinth::server::ApiOptions options{"sqlite:///" + dir + "/m.db", dir + "/art", "fuzz"};
    options.auth = auth;
    auto created = plinth::server::MlflowApi::Create(options);
    if (!created.ok()) {
      std::abort();
    }
    api = std::move(*created);
  }
  ~Fixture() {
    api.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  std::unique_ptr<plinth::server::MlflowApi> api;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  static Fixture fixture;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {  // the config file
      std::string path = fixture.dir + "/auth.ini";
      std::ofstream(path, std::ios::binary) << text;
      auto read = plinth::server::ReadAuthConfig(path);
      if (!read.ok() && read.status().message().empty()) {
        std::abort();
      }
      return 0;
    }
    case 1:
      text = "Basic " + plinth::core::Base64Encode(text);
      break;
    case 2:
      text = "Bearer " + text;
      break;
    default:
      break;  // the raw header value
  }
  plinth::http::Request r;
  r.method = "GET";
  r.path = r.target = "/api/2.0/mlflow/experiments/search";
  r.headers.emplace_back("authorization", text);
  const plinth::http::Response answer = fixture.api->HandleForTesting(std::move(r));
  if (answer.status != 401 && answer.status != 200) {
    std::abort();
  }
  return 0;
}
