#include "tracking/sql_util.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <random>

namespace plinth::tracking {
namespace {

// posixpath.normpath, for MLflow's "names must not resolve to other names" rule.
std::string NormPath(std::string_view p) {
  if (p.empty()) {
    return ".";
  }
  const bool absolute = p[0] == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    j = j == std::string_view::npos ? p.size() : j;
    std::string_view part = p.substr(i, j - i);
    if (part.empty() || part == ".") {
      // skipped
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    out += (k ? "/" : "") + std::string(parts[k]);
  }
  return out.empty() ? "." : out;
}

}  // namespace

Status ValidateKeyName(std::string_view what, const std::string& name) {
  // MLflow's ^[/\w.\- ]*$ (ASCII word characters), without a regex on the hot path.
  const bool valid = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '/' || c == '.' ||
           c == '-' || c == ' ';
  });
  if (!valid) {
    return InvalidArgument("Invalid " + std::string(what) + " name: '" + name +
                           "'. Names may only contain alphanumerics, underscores (_), dashes (-), "
                           "periods (.), spaces ( ), and slashes (/).");
  }
  std::string norm = NormPath(name);
  if (norm != name || norm == "." || norm.starts_with("..") || norm.starts_with("/")) {
    return InvalidArgument("Invalid " + std::string(what) + " name: '" + name +
                           "'. Names may be treated as files in certain cases, and must not "
                           "resolve to other names when treated as such. This name would "
                           "resolve to '" +
                           norm + "'");
  }
  return Status::Ok();
}

Status ValidateLength(std::string_view what, size_t limit, const std::string& value) {
  if (value.size() <= limit) {
    return Status::Ok();
  }
  return InvalidArgument(std::string(what) + " '" + value.substr(0, 250) + "' had length " +
                         std::to_string(value.size()) + ", which exceeded length limit of " +
                         std::to_string(limit));
}

Status CheckMaxResults(int64_t max_results, int64_t limit) {
  if (max_results < 1 || max_results > limit) {
    return InvalidArgument("Invalid value " + std::to_string(max_results) +
                           " for parameter 'max_results' supplied. It must be at most " +
                           std::to_string(limit) + " and at least 1");
  }
  return Status::Ok();
}

// "?, ?, ?" for n values.
std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += i ? ", ?" : "?";
  }
  return s;
}

Result<SqlFragment> SearchStatement(std::string_view select_from, const SqlFragment& where,
                                    const std::vector<std::string>& order_by,
                                    const SearchTarget& target, const SqlNames& names,
                                    std::string_view tiebreak) {
  std::vector<OrderKey> keys;
  for (const std::string& clause : order_by) {
    PLINTH_ASSIGN_OR_RETURN(OrderKey key, ParseOrderBy(clause, target));
    keys.push_back(std::move(key));
  }
  SqlOrder order = CompileOrderBy(keys, names);
  SqlFragment out;
  out.sql = std::string(select_from) + order.joins.sql + " WHERE " + where.sql + " ORDER BY " +
            order.terms + (order.terms.empty() ? "" : ", ") + std::string(tiebreak);
  out.params = std::move(order.joins.params);
  out.params.insert(out.params.end(), where.params.begin(), where.params.end());
  return out;
}

std::string RandomRunName() {
  static constexpr std::string_view kAdjectives[] = {
      "able",   "bold",   "brave",  "bright", "calm",   "clever", "crisp", "eager",
      "fair",   "gentle", "glad",   "keen",   "kind",   "lively", "lucid", "merry",
      "nimble", "noble",  "placid", "polite", "proud",  "quick",  "quiet", "rare",
      "sharp",  "shy",    "silent", "smooth", "steady", "sunny",  "swift", "vivid"};
  static constexpr std::string_view kNouns[] = {
      "ant",  "bass", "bear", "bird", "cat",   "colt",  "crane", "deer", "dove", "eel",  "finch",
      "fox",  "frog", "goat", "hare", "hawk",  "heron", "horse", "lark", "lynx", "mole", "moth",
      "newt", "owl",  "ram",  "seal", "shrew", "snail", "squid", "swan", "toad", "wolf"};
  thread_local std::mt19937_64 rng(std::random_device{}());
  return std::string(kAdjectives[rng() % std::size(kAdjectives)]) + "-" +
         std::string(kNouns[rng() % std::size(kNouns)]) + "-" + std::to_string(rng() % 1000);
}

double MetricValue(const store::Row& r, size_t value_col, size_t nan_col) {
  return r.Int(nan_col) ? std::nan("") : r.Double(value_col);
}

Result<int64_t> ExperimentKey(const std::string& id) {
  int64_t v = 0;
  auto r = std::from_chars(id.data(), id.data() + id.size(), v);
  if (id.empty() || r.ec != std::errc() || r.ptr != id.data() + id.size() || v < 0) {
    return NotFound("No Experiment with id=" + id + " exists");
  }
  return v;
}

std::string ArtifactPathUnder(std::string location, std::string_view rest) {
  while (location.size() > 1 && location.back() == '/') {
    location.pop_back();
  }
  return location + "/" + std::string(rest);
}

}  // namespace plinth::tracking
