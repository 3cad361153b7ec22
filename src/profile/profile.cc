#include "profile/profile.h"

#include <algorithm>
#include <boost/sort/spreadsort/spreadsort.hpp>
#include <cmath>
#include <cstring>
#include <future>
#include <limits>
#include <random>
#include <unordered_map>

#include "core/clock.h"
#include "core/thread_pool.h"
#include "profile/hyperloglog.h"
#include "table/hashing.h"
#include "table/reader.h"

namespace plinth::profile {

using table::Column;
using table::DataType;

namespace {

// Sorts `v` (no NaN) with a radix sort on order-preserving unsigned keys.
// Boost's float_sort does the same on signed keys and overflows (undefined
// behaviour, reported by UBSan) when values span both signs widely.
void SortDoubles(std::vector<double>& v) {
  constexpr uint64_t kSign = uint64_t{1} << 63;
  std::vector<uint64_t> keys(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    uint64_t u;
    std::memcpy(&u, &v[i], sizeof(u));
    keys[i] = (u & kSign) ? ~u : (u | kSign);
  }
  boost::sort::spreadsort::integer_sort(keys.begin(), keys.end());
  for (size_t i = 0; i < v.size(); ++i) {
    uint64_t u = (keys[i] & kSign) ? (keys[i] & ~kSign) : ~keys[i];
    std::memcpy(&v[i], &u, sizeof(u));
  }
}

int64_t CountDistinctSorted(const std::vector<double>& sorted) {
  int64_t n = sorted.empty() ? 0 : 1;
  for (size_t i = 1; i < sorted.size(); ++i) {
    n += sorted[i] != sorted[i - 1];
  }
  return n;
}

double Quantile(const std::vector<double>& sorted, double q) {
  // Linear interpolation between closest ranks, as numpy/pandas do by default.
  double pos = q * static_cast<double>(sorted.size() - 1);
  auto lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double t = pos - static_cast<double>(lo);
  double a = sorted[lo], b = sorted[hi];
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

}  // namespace

const ColumnProfile* DatasetProfile::Find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

struct Profiler::ColumnState {
  ColumnState(DataType t, const ProfileOptions& o, uint64_t seed) : type(t), opt(o), rng(seed) {}

  DataType type;
  const ProfileOptions& opt;
  int64_t count = 0;
  int64_t nulls = 0;
  // Numeric.
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double mean = 0, m2 = 0, sum = 0, sum_c = 0;
  int64_t zeros = 0, negatives = 0;
  std::vector<double> sample;
  bool sampled = false;
  std::mt19937_64 rng;
  // Distinct values are counted exactly from the sorted values (numeric) or the
  // category map (text) while those are whole; the sketch covers the rest.
  HyperLogLog hll;
  // Categories: hash -> index into cats.
  std::unordered_map<uint64_t, uint32_t> cat_index;
  std::vector<std::pair<std::string, int64_t>> cats;
  std::vector<uint64_t> cat_hash;  // beside cats
  int64_t pruned_count = 0;
  bool cats_exact = true;
  int64_t total_len = 0, min_len = std::numeric_limits<int64_t>::max(), max_len = 0;

  bool numeric() const { return type != DataType::kString && type != DataType::kBool; }

  void AddHash(uint64_t h) { hll.Add(h); }

  void AddNumbers(const std::vector<double>& values) {
    if (values.empty()) {
      return;
    }
    // Chunk mean and M2 in two passes, merged with Chan et al.'s formula.
    double csum = 0;
    for (double v : values) {
      csum += v;
    }
    auto n_b = static_cast<double>(values.size());
    double mean_b = csum / n_b;
    double m2_b = 0;
    for (double v : values) {
      double d = v - mean_b;
      m2_b += d * d;
      min = std::min(min, v);
      max = std::max(max, v);
      zeros += v == 0;
      negatives += v < 0;
      // Kahan-compensated running sum.
      double y = v - sum_c;
      double t = sum + y;
      sum_c = (t - sum) - y;
      sum = t;
    }
    auto n_a = static_cast<double>(count);
    double n = n_a + n_b;
    double delta = mean_b - mean;
    mean += delta * n_b / n;
    m2 += m2_b + delta * delta * n_a * n_b / n;
    // Reservoir sample (Algorithm R) once the column outgrows the limit.
    auto limit = static_cast<size_t>(opt.sample_limit);
    int64_t seen = count;
    for (double v : values) {
      if (sample.size() < limit) {
        sample.push_back(v);
      } else {
        sampled = true;
        uint64_t j = rng() % static_cast<uint64_t>(seen + 1);
        if (j < limit) {
          sample[j] = v;
        }
      }
      ++seen;
    }
    count += static_cast<int64_t>(values.size());
  }

  // `h` identifies `v` (its hash); categories are keyed by it.
  void AddCategory(std::string_view v, uint64_t h) {
    auto len = static_cast<int64_t>(v.size());
    total_len += len;
    min_len = std::min(min_len, len);
    max_len = std::max(max_len, len);
    auto it = cat_index.find(h);
    if (it != cat_index.end()) {
      ++cats[it->second].second;
      return;
    }
    cat_index.emplace(h, static_cast<uint32_t>(cats.size()));
    cats.emplace_back(std::string(v), 1);
    cat_hash.push_back(h);
    if (static_cast<int64_t>(cats.size()) > 20 * opt.max_categories) {
      Prune();
    }
  }

  // Keeps the most frequent half of the categories seen so far; counts become
  // lower bounds (flagged as estimates).
  void Prune() {
    cats_exact = false;
    std::vector<size_t> order(cats.size());
    for (size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return cats[a].second > cats[b].second; });
    size_t keep = cats.size() / 2;
    std::vector<std::pair<std::string, int64_t>> kept;
    std::vector<uint64_t> kept_hash;
    for (size_t i = 0; i < order.size(); ++i) {
      if (i < keep) {
        kept.push_back(std::move(cats[order[i]]));
        kept_hash.push_back(cat_hash[order[i]]);
      } else {
        pruned_count += cats[order[i]].second;
      }
    }
    cats = std::move(kept);
    cat_hash = std::move(kept_hash);
    cat_index.clear();
    for (size_t i = 0; i < cats.size(); ++i) {
      cat_index.emplace(cat_hash[i], static_cast<uint32_t>(i));
    }
  }

  // Updates the statistics with `col`; `hashes` are its values' hashes (table::HashColumn).
  void Consume(const Column& col, const std::vector<uint64_t>& hashes) {
    const int64_t n = col.size();
    nulls += col.null_count();
    if (numeric()) {
      std::vector<double> values;
      values.reserve(static_cast<size_t>(n - col.null_count()));
      for (int64_t i = 0; i < n; ++i) {
        if (col.IsNull(i)) {
          continue;
        }
        AddHash(hashes[i]);
        if (type == DataType::kFloat64) {
          values.push_back(col.doubles()[i]);
        } else if (type == DataType::kTimestamp) {
          values.push_back(static_cast<double>(col.ints()[i]) / 1e6);
        } else {
          values.push_back(static_cast<double>(col.ints()[i]));
        }
      }
      AddNumbers(values);
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      if (col.IsNull(i)) {
        continue;
      }
      std::string_view v =
          type == DataType::kBool ? (col.bools()[i] ? "true" : "false") : col.GetString(i);
      AddHash(hashes[i]);
      AddCategory(v, hashes[i]);
      ++count;
    }
  }

  ColumnProfile Finish(const std::string& name) {
    ColumnProfile p;
    p.name = name;
    p.type = type;
    p.count = count;
    p.nulls = nulls;
    auto estimate = static_cast<int64_t>(std::llround(hll.Estimate()));
    if (numeric()) {
      NumericStats s;
      s.quantiles_exact = !sampled;
      if (count > 0) {
        s.min = min;
        s.max = max;
        s.mean = mean;
        s.sum = sum;
        s.std = count > 1 ? std::sqrt(m2 / static_cast<double>(count - 1))
                          : std::numeric_limits<double>::quiet_NaN();
        s.zeros = zeros;
        s.negatives = negatives;
        SortDoubles(sample);
        p.distinct_exact = !sampled;
        p.distinct = sampled ? estimate : CountDistinctSorted(sample);
        for (double q : kQuantileProbs) {
          s.quantiles.emplace_back(q, Quantile(sample, q));
        }
        int points = std::max(2, opt.sketch_points);
        for (int i = 0; i < points; ++i) {
          s.sketch.push_back(Quantile(sample, static_cast<double>(i) / (points - 1)));
        }
        int bins = min == max ? 1 : std::max(1, opt.histogram_bins);
        for (int i = 0; i <= bins; ++i) {
          s.bin_edges.push_back(i == bins ? max : min + (max - min) * i / bins);
        }
        s.bin_counts.assign(static_cast<size_t>(bins), 0);
        // Bins are [edge_i, edge_i+1), the last one closed, judged against the
        // stored edges so that anyone re-binning with them gets the same counts.
        for (double v : sample) {
          auto b =
              std::upper_bound(s.bin_edges.begin(), s.bin_edges.end(), v) - s.bin_edges.begin() - 1;
          ++s.bin_counts[static_cast<size_t>(std::clamp<ptrdiff_t>(b, 0, bins - 1))];
        }
        if (sampled) {
          double scale = static_cast<double>(count) / static_cast<double>(sample.size());
          for (auto& c : s.bin_counts) {
            c = static_cast<int64_t>(std::llround(static_cast<double>(c) * scale));
          }
        }
      }
      p.numeric = std::move(s);
    } else {
      CategoryStats s;
      s.counts_exact = cats_exact;
      p.distinct_exact = cats_exact;
      p.distinct = cats_exact ? static_cast<int64_t>(cats.size()) : estimate;
      std::sort(cats.begin(), cats.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      s.other_count = pruned_count;
      for (size_t i = 0; i < cats.size(); ++i) {
        if (static_cast<int64_t>(i) < opt.max_categories) {
          s.counts.push_back(std::move(cats[i]));
        } else {
          s.other_count += cats[i].second;
        }
      }
      if (count > 0) {
        s.mean_length = static_cast<double>(total_len) / static_cast<double>(count);
        s.min_length = min_len;
        s.max_length = max_len;
      }
      p.categories = std::move(s);
    }
    return p;
  }
};

struct Profiler::RowState {
  int64_t rows = 0;
  std::vector<uint64_t> hashes;
  bool overflow = false;
  HyperLogLog hll;
  std::unique_ptr<core::ThreadPool> pool;
};

Profiler::Profiler(ProfileOptions options)
    : options_(options), rows_(std::make_unique<RowState>()) {
  size_t threads = options_.threads != 0 ? options_.threads : core::HardwareThreads();
  if (threads > 1) {
    rows_->pool = std::make_unique<core::ThreadPool>(threads);
  }
}

Profiler::~Profiler() = default;

Status Profiler::Begin(const table::Schema& schema, int64_t /*expected_rows*/) {
  schema_ = schema;
  columns_.clear();
  for (size_t i = 0; i < schema.size(); ++i) {
    columns_.push_back(
        std::make_unique<ColumnState>(schema.field(i).type, options_, options_.seed + i));
  }
  auto pool = std::move(rows_->pool);
  rows_ = std::make_unique<RowState>();
  rows_->pool = std::move(pool);
  return Status::Ok();
}

Status Profiler::Add(const table::Table& chunk) {
  const size_t ncols = chunk.num_columns();
  const auto nrows = static_cast<size_t>(chunk.num_rows());
  std::vector<std::vector<uint64_t>> hashes(ncols);
  auto one = [this, &chunk, &hashes](size_t c) {
    hashes[c] = table::HashColumn(chunk.column(c));
    columns_[c]->Consume(chunk.column(c), hashes[c]);
  };
  if (rows_->pool) {
    std::vector<std::future<void>> done;
    for (size_t c = 0; c < ncols; ++c) {
      done.push_back(rows_->pool->Submit([&one, c] { one(c); }));
    }
    for (auto& f : done) {
      f.get();
    }
  } else {
    for (size_t c = 0; c < ncols; ++c) {
      one(c);
    }
  }
  // Row hashes, for duplicate rows.
  std::vector<uint64_t> row_hash(nrows, table::kRowHashSeed);
  for (size_t c = 0; c < ncols; ++c) {
    const auto& h = hashes[c];
    for (size_t r = 0; r < nrows; ++r) {
      row_hash[r] = table::CombineHash(row_hash[r], h[r], c);
    }
  }
  rows_->rows += static_cast<int64_t>(nrows);
  if (!rows_->overflow &&
      static_cast<int64_t>(rows_->hashes.size() + nrows) > options_.exact_duplicate_limit) {
    rows_->overflow = true;
    for (uint64_t h : rows_->hashes) {
      rows_->hll.Add(h);
    }
    rows_->hashes.clear();
    rows_->hashes.shrink_to_fit();
  }
  if (rows_->overflow) {
    for (uint64_t h : row_hash) {
      rows_->hll.Add(h);
    }
  } else {
    rows_->hashes.insert(rows_->hashes.end(), row_hash.begin(), row_hash.end());
  }
  return Status::Ok();
}

DatasetProfile Profiler::Finish() {
  DatasetProfile p;
  p.rows = rows_->rows;
  p.created = core::FormatIsoMicros(core::SystemClock().NowMicros());
  p.columns.resize(columns_.size());
  if (rows_->pool) {
    std::vector<std::future<void>> done;
    for (size_t c = 0; c < columns_.size(); ++c) {
      done.push_back(rows_->pool->Submit(
          [this, &p, c] { p.columns[c] = columns_[c]->Finish(schema_.field(c).name); }));
    }
    for (auto& f : done) {
      f.get();
    }
  } else {
    for (size_t c = 0; c < columns_.size(); ++c) {
      p.columns[c] = columns_[c]->Finish(schema_.field(c).name);
    }
  }
  if (rows_->overflow) {
    p.duplicate_rows_exact = false;
    p.duplicate_rows =
        std::max<int64_t>(0, p.rows - static_cast<int64_t>(std::llround(rows_->hll.Estimate())));
  } else {
    auto& h = rows_->hashes;
    boost::sort::spreadsort::integer_sort(h.begin(), h.end());
    p.duplicate_rows = static_cast<int64_t>(h.size()) -
                       static_cast<int64_t>(std::unique(h.begin(), h.end()) - h.begin());
  }
  return p;
}

Result<CsvProfile> ProfileCsv(const std::string& path, const table::CsvOptions& csv,
                              const ProfileOptions& options) {
  Profiler profiler(options);
  PLINTH_ASSIGN_OR_RETURN(table::CsvInfo info, table::ScanTable(path, csv, profiler));
  DatasetProfile p = profiler.Finish();
  p.source = path;
  p.bytes = info.bytes;
  return CsvProfile{std::move(p), std::move(info)};
}

DatasetProfile ProfileTable(const table::Table& t, const ProfileOptions& options) {
  Profiler profiler(options);
  (void)profiler.Begin(t.schema(), t.num_rows());
  (void)profiler.Add(t);
  return profiler.Finish();
}

}  // namespace plinth::profile
