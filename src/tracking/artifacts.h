// Run artifacts kept under one local root, as MLflow's proxied artifact
// service keeps them under --artifacts-destination: "mlflow-artifacts:/1/RUN/artifacts/x"
// is ROOT/1/RUN/artifacts/x. Writes are atomic (temp file + fsync + rename).
// Every access is confined to the root (core::ConfinedDir): a symbolic link in
// it that leads outside, and special files (FIFOs, devices), are refused with
// kInvalidArgument, never followed or opened.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/confined_dir.h"
#include "core/status.h"
#include "core/unique_fd.h"

namespace plinth::tracking {

struct FileInfo {
  std::string path;  // relative, '/'-separated
  bool is_dir = false;
  std::optional<int64_t> file_size;  // files only
};

// The relative path `path` if it stays inside the root: no "..", no absolute
// path, no NUL, no empty segment. InvalidArgument otherwise (MLflow's
// validate_path_is_safe).
Result<std::string> SafeRelativePath(std::string_view path);

// The path under the artifact root that an artifact URI names: "mlflow-artifacts:/a/b",
// "mlflow-artifacts://host:port/a/b", "http(s)://host:port/api/2.0/mlflow-artifacts/artifacts/a/b"
// -> "a/b". Empty when the URI is not a proxied one.
std::optional<std::string> ProxiedPath(std::string_view artifact_uri);

// What Python's urllib.parse.urlparse splits off a URI, as MLflow's checks read it.
struct UriParts {
  std::string scheme;  // lower case; "" for a plain path
  std::string host;    // the authority without user and port
  std::string path;    // up to '?' or '#', not decoded
};
UriParts SplitUri(std::string_view uri);

// The local path `location` names: a plain path as it is, or a file: URI on this host
// (file:///p, file://localhost/p, file:/p) with its path percent-decoded; none for other
// URIs and for file:// URIs on another host.
std::optional<std::string> LocalPathOf(std::string_view location);

// A relative local path made absolute against the working directory (MLflow's
// resolve_uri_if_local); URIs and absolute paths as they are.
std::string ResolveIfLocal(const std::string& location);

// Where run artifacts are written: a local root, or a tracking server's proxy.
class ArtifactSink {
 public:
  virtual ~ArtifactSink() = default;
  // Stores `bytes` at `path`, relative to the proxied root (mlflow-artifacts:/PATH).
  virtual Status Put(std::string_view path, std::string_view bytes) const = 0;
  // A local directory holding the artifacts under `dir` (downloaded if they are remote).
  virtual Result<std::string> Fetch(std::string_view dir) const = 0;
};

class ArtifactRoot : public ArtifactSink {
 public:
  explicit ArtifactRoot(std::string root) : root_(std::move(root)), dir_(root_) {}
  const std::string& root() const { return root_; }

  // Errors: kInvalidArgument for an unsafe `path` (SafeRelativePath) or one
  // that leads outside the root; kIoError naming the file otherwise.
  Status Put(std::string_view path, std::string_view bytes) const override;
  Result<std::string> Fetch(std::string_view dir) const override;
  // The regular file at `path`, opened for reading (the descriptor is the
  // caller's). kNotFound if there is no file there (a directory included),
  // kInvalidArgument for a path leading outside the root or a special file.
  Result<core::UniqueFd> Open(std::string_view path) const;
  // The entries directly under `dir` ("" = the root), sorted; paths are basenames.
  // A missing directory lists as empty, as MLflow's local repository does.
  // Links leading outside the root and special files are left out.
  Result<std::vector<FileInfo>> List(std::string_view dir) const;
  // Removes the file, link (itself) or directory tree at `path`.
  Status Delete(std::string_view path) const;

 private:
  std::string root_;
  core::ConfinedDir dir_;
};

// The MIME type MLflow answers for a file (its utils/mime_type_utils.py): text/plain for
// text files (json, yaml, csv, MLmodel, ...), image and document types by extension,
// application/octet-stream otherwise.
std::string GuessMimeType(std::string_view path);

}  // namespace plinth::tracking
