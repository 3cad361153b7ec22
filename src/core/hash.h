// Content hashing (SHA-256 through OpenSSL EVP, which uses SHA-NI where the CPU
// has it) and UUIDs. Sha256 is incremental and not thread-safe; use one per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace plinth::core {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Feeds `data` into the digest.
  void Update(std::string_view data);
  // Returns the lowercase hex digest of everything fed so far and resets.
  std::string HexDigest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Lowercase hex SHA-256 of the file at `path`, read in blocks. Errors as ReadFile.
Result<std::string> Sha256File(const std::string& path);

// A random (version 4) UUID, 32 lowercase hex digits without dashes, as MLflow
// writes run ids.
std::string NewUuidHex();

// Standard base64 (RFC 4648, with padding), through OpenSSL.
std::string Base64Encode(std::string_view data);
// Decodes standard base64; InvalidArgument when `text` is not base64.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace plinth::core
