// The JSON form of a profile ("plinth.profile/v1"); see docs/FORMATS.md.
#include <cmath>
#include <cstdio>

#include "profile/profile.h"

namespace plinth::profile {
namespace {

using core::Json;

constexpr const char* kFormat = "plinth.profile/v1";

Json Num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

std::string QuantileKey(double q) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "p%g", q * 100);
  return buf;
}

std::string Index(size_t i) { return "[" + std::to_string(i) + "]"; }

// Reads typed values out of JSON, naming the key path on error.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  Result<const Json*> Field(const Json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) {
      return Bad(path, "an object");
    }
    auto it = obj.find(key);
    if (it == obj.end()) {
      return InvalidArgument(source_ + ": " + path + "." + key + ": missing");
    }
    return &*it;
  }
  Result<int64_t> Int(const Json& obj, const std::string& path, const char* key) const {
    PLINTH_ASSIGN_OR_RETURN(const Json* v, Field(obj, path, key));
    return AsInt(*v, path + "." + key);
  }
  // `v` (at `path`) as an int64; an unsigned value past int64 is refused, not wrapped.
  Result<int64_t> AsInt(const Json& v, const std::string& path) const {
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      return Bad(path, "an integer");
    }
    return v.get<int64_t>();
  }
  // `v` (at `path`) as a double; null is NaN (as ProfileToJson writes it).
  Result<double> AsDouble(const Json& v, const std::string& path) const {
    if (v.is_null()) {
      return std::nan("");
    }
    if (!v.is_number()) {
      return Bad(path, "a number");
    }
    return v.get<double>();
  }
  // The array member `key` of `obj` (at `path`).
  Result<const Json*> Array(const Json& obj, const std::string& path, const char* key) const {
    PLINTH_ASSIGN_OR_RETURN(const Json* v, Field(obj, path, key));
    if (!v->is_array()) {
      return Bad(path + "." + key, "an array");
    }
    return v;
  }
  Result<double> Double(const Json& obj, const std::string& path, const char* key) const {
    PLINTH_ASSIGN_OR_RETURN(const Json* v, Field(obj, path, key));
    return AsDouble(*v, path + "." + key);
  }
  Result<std::string> String(const Json& obj, const std::string& path, const char* key) const {
    PLINTH_ASSIGN_OR_RETURN(const Json* v, Field(obj, path, key));
    if (!v->is_string()) {
      return Bad(path + "." + key, "a string");
    }
    return v->get<std::string>();
  }
  // An optional true/false member: `fallback` when absent or null.
  Result<bool> Bool(const Json& obj, const std::string& path, const char* key,
                    bool fallback) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      return fallback;
    }
    if (!it->is_boolean()) {
      return Bad(path + "." + key, "true or false");
    }
    return it->get<bool>();
  }
  Status Bad(const std::string& path, const char* expected) const {
    return InvalidArgument(source_ + ": " + path + ": expected " + expected);
  }

 private:
  std::string source_;
};

}  // namespace

Json ProfileToJson(const DatasetProfile& p) {
  Json cols = Json::array();
  for (const auto& c : p.columns) {
    Json j = {{"name", c.name},
              {"type", std::string(table::TypeName(c.type))},
              {"count", c.count},
              {"nulls", c.nulls},
              {"null_fraction", c.count + c.nulls > 0 ? static_cast<double>(c.nulls) /
                                                            static_cast<double>(c.count + c.nulls)
                                                      : 0.0},
              {"distinct", c.distinct},
              {"distinct_exact", c.distinct_exact}};
    if (c.numeric) {
      const NumericStats& s = *c.numeric;
      Json quantiles = Json::object();
      for (const auto& [q, v] : s.quantiles) {
        quantiles[QuantileKey(q)] = Num(v);
      }
      Json sketch = Json::array();
      for (double v : s.sketch) {
        sketch.push_back(Num(v));
      }
      Json edges = Json::array();
      for (double v : s.bin_edges) {
        edges.push_back(Num(v));
      }
      bool empty = c.count == 0;
      j["numeric"] = {{"min", empty ? Json(nullptr) : Num(s.min)},
                      {"max", empty ? Json(nullptr) : Num(s.max)},
                      {"mean", empty ? Json(nullptr) : Num(s.mean)},
                      {"std", empty ? Json(nullptr) : Num(s.std)},
                      {"sum", Num(s.sum)},
                      {"zeros", s.zeros},
                      {"negatives", s.negatives},
                      {"quantiles", quantiles},
                      {"quantiles_exact", s.quantiles_exact},
                      {"histogram", {{"edges", edges}, {"counts", s.bin_counts}}},
                      {"sketch", sketch}};
    }
    if (c.categories) {
      const CategoryStats& s = *c.categories;
      Json values = Json::array(), counts = Json::array();
      for (const auto& [v, n] : s.counts) {
        values.push_back(v);
        counts.push_back(n);
      }
      j["categories"] = {
          {"values", values},
          {"counts", counts},
          {"other_count", s.other_count},
          {"counts_exact", s.counts_exact},
          {"length", {{"min", s.min_length}, {"mean", s.mean_length}, {"max", s.max_length}}}};
    }
    cols.push_back(std::move(j));
  }
  return {{"format", kFormat},
          {"source", p.source},
          {"created", p.created},
          {"rows", p.rows},
          {"bytes", p.bytes},
          {"duplicate_rows", p.duplicate_rows},
          {"duplicate_rows_exact", p.duplicate_rows_exact},
          {"columns", cols}};
}

Result<DatasetProfile> ProfileFromJson(const Json& json, std::string_view source) {
  Reader r{std::string(source)};
  DatasetProfile p;
  PLINTH_ASSIGN_OR_RETURN(std::string format, r.String(json, "$", "format"));
  if (format != kFormat) {
    return InvalidArgument(std::string(source) + ": $.format: expected \"" + kFormat +
                           "\", got \"" + format + "\"");
  }
  PLINTH_ASSIGN_OR_RETURN(p.source, r.String(json, "$", "source"));
  PLINTH_ASSIGN_OR_RETURN(p.created, r.String(json, "$", "created"));
  PLINTH_ASSIGN_OR_RETURN(p.rows, r.Int(json, "$", "rows"));
  PLINTH_ASSIGN_OR_RETURN(p.bytes, r.Int(json, "$", "bytes"));
  PLINTH_ASSIGN_OR_RETURN(p.duplicate_rows, r.Int(json, "$", "duplicate_rows"));
  PLINTH_ASSIGN_OR_RETURN(p.duplicate_rows_exact, r.Bool(json, "$", "duplicate_rows_exact", true));
  PLINTH_ASSIGN_OR_RETURN(const Json* cols, r.Field(json, "$", "columns"));
  if (!cols->is_array()) {
    return r.Bad("$.columns", "an array");
  }
  for (size_t i = 0; i < cols->size(); ++i) {
    const Json& j = (*cols)[i];
    std::string path = "$.columns[" + std::to_string(i) + "]";
    ColumnProfile c;
    PLINTH_ASSIGN_OR_RETURN(c.name, r.String(j, path, "name"));
    PLINTH_ASSIGN_OR_RETURN(std::string type, r.String(j, path, "type"));
    auto t = table::ParseTypeName(type);
    if (!t.ok()) {
      return InvalidArgument(std::string(source) + ": " + path + ".type: " + t.status().message());
    }
    c.type = *t;
    PLINTH_ASSIGN_OR_RETURN(c.count, r.Int(j, path, "count"));
    PLINTH_ASSIGN_OR_RETURN(c.nulls, r.Int(j, path, "nulls"));
    PLINTH_ASSIGN_OR_RETURN(c.distinct, r.Int(j, path, "distinct"));
    PLINTH_ASSIGN_OR_RETURN(c.distinct_exact, r.Bool(j, path, "distinct_exact", true));
    if (j.contains("numeric")) {
      const Json& n = j["numeric"];
      std::string np = path + ".numeric";
      NumericStats s;
      PLINTH_ASSIGN_OR_RETURN(s.min, r.Double(n, np, "min"));
      PLINTH_ASSIGN_OR_RETURN(s.max, r.Double(n, np, "max"));
      PLINTH_ASSIGN_OR_RETURN(s.mean, r.Double(n, np, "mean"));
      PLINTH_ASSIGN_OR_RETURN(s.std, r.Double(n, np, "std"));
      PLINTH_ASSIGN_OR_RETURN(s.sum, r.Double(n, np, "sum"));
      PLINTH_ASSIGN_OR_RETURN(s.zeros, r.Int(n, np, "zeros"));
      PLINTH_ASSIGN_OR_RETURN(s.negatives, r.Int(n, np, "negatives"));
      PLINTH_ASSIGN_OR_RETURN(s.quantiles_exact, r.Bool(n, np, "quantiles_exact", true));
      PLINTH_ASSIGN_OR_RETURN(const Json* qs, r.Field(n, np, "quantiles"));
      for (double q : kQuantileProbs) {
        PLINTH_ASSIGN_OR_RETURN(double v, r.Double(*qs, np + ".quantiles", QuantileKey(q).c_str()));
        s.quantiles.emplace_back(q, v);
      }
      PLINTH_ASSIGN_OR_RETURN(const Json* hist, r.Field(n, np, "histogram"));
      const std::string hp = np + ".histogram";
      PLINTH_ASSIGN_OR_RETURN(const Json* edges, r.Array(*hist, hp, "edges"));
      PLINTH_ASSIGN_OR_RETURN(const Json* counts, r.Array(*hist, hp, "counts"));
      PLINTH_ASSIGN_OR_RETURN(const Json* sketch, r.Array(n, np, "sketch"));
      for (size_t e = 0; e < edges->size(); ++e) {
        PLINTH_ASSIGN_OR_RETURN(double v, r.AsDouble((*edges)[e], hp + ".edges" + Index(e)));
        s.bin_edges.push_back(v);
      }
      for (size_t e = 0; e < counts->size(); ++e) {
        PLINTH_ASSIGN_OR_RETURN(int64_t v, r.AsInt((*counts)[e], hp + ".counts" + Index(e)));
        s.bin_counts.push_back(v);
      }
      for (size_t e = 0; e < sketch->size(); ++e) {
        PLINTH_ASSIGN_OR_RETURN(double v, r.AsDouble((*sketch)[e], np + ".sketch" + Index(e)));
        s.sketch.push_back(v);
      }
      if (!s.bin_edges.empty() && s.bin_edges.size() != s.bin_counts.size() + 1) {
        return r.Bad(np + ".histogram", "one more edge than counts");
      }
      c.numeric = std::move(s);
    }
    if (j.contains("categories")) {
      const Json& k = j["categories"];
      std::string kp = path + ".categories";
      CategoryStats s;
      PLINTH_ASSIGN_OR_RETURN(const Json* values, r.Field(k, kp, "values"));
      PLINTH_ASSIGN_OR_RETURN(const Json* counts, r.Field(k, kp, "counts"));
      if (!values->is_array() || !counts->is_array() || values->size() != counts->size()) {
        return r.Bad(kp, "arrays values and counts of equal length");
      }
      for (size_t v = 0; v < values->size(); ++v) {
        if (!(*values)[v].is_string()) {
          return r.Bad(kp + ".values" + Index(v), "a string");
        }
        PLINTH_ASSIGN_OR_RETURN(int64_t count, r.AsInt((*counts)[v], kp + ".counts" + Index(v)));
        s.counts.emplace_back((*values)[v].get<std::string>(), count);
      }
      PLINTH_ASSIGN_OR_RETURN(s.other_count, r.Int(k, kp, "other_count"));
      PLINTH_ASSIGN_OR_RETURN(s.counts_exact, r.Bool(k, kp, "counts_exact", true));
      if (k.contains("length")) {
        const Json& l = k["length"];
        PLINTH_ASSIGN_OR_RETURN(s.min_length, r.Int(l, kp + ".length", "min"));
        PLINTH_ASSIGN_OR_RETURN(s.mean_length, r.Double(l, kp + ".length", "mean"));
        PLINTH_ASSIGN_OR_RETURN(s.max_length, r.Int(l, kp + ".length", "max"));
      }
      c.categories = std::move(s);
    }
    p.columns.push_back(std::move(c));
  }
  return p;
}

}  // namespace plinth::profile
