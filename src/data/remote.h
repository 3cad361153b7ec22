// Data remotes: where cache objects are pushed to and pulled from, chosen by
// URL scheme from an explicit table. Today: a directory on a local or shared
// filesystem ("/abs/dir", "file:///abs/dir"); the Plinth server becomes an
// HTTP remote later behind the same interface.
//
// A remote has the cache's layout (sha256/ab/cdef...). Objects arrive as an
// unnamed file (or under a temporary name) and get their name only after their
// bytes hashed to it, so an interrupted transfer never leaves a damaged object. Implementations
// are thread-safe (transfers run in parallel).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace plinth::data {

class Remote {
 public:
  virtual ~Remote() = default;
  virtual const std::string& url() const = 0;
  // Whether the remote holds object `hash`.
  virtual Result<bool> Has(const std::string& hash) = 0;
  // Uploads the local file `src`, whose bytes must hash to `hash` (verified on
  // arrival: kCorruption naming `src` otherwise).
  // Returns the bytes sent.
  virtual Result<int64_t> Put(const std::string& hash, const std::string& src) = 0;
  // Downloads object `hash` to `dest` (atomically), verifying its bytes.
  // Returns the bytes received.
  virtual Result<int64_t> Get(const std::string& hash, const std::string& dest) = 0;
  // Makes what Put wrote durable (called once at the end of a push).
  virtual Status Sync() = 0;
};

// Opens the remote at `url`. kInvalidArgument for an unknown scheme.
Result<std::unique_ptr<Remote>> OpenRemote(std::string_view url);

// Copies `src` to `dest` (read-only), hashing the bytes on the way, into an
// unnamed file in `dest`'s directory (O_TMPFILE) that is linked to `dest` only
// when the bytes hash to `hash`, else kCorruption; a crash leaves nothing
// behind. Where O_TMPFILE is not supported, a temporary name and a rename.
// An existing `dest` is left as it is (objects are immutable). Returns the bytes.
Result<int64_t> CopyVerified(const std::string& src, const std::string& dest,
                             const std::string& hash);

}  // namespace plinth::data
