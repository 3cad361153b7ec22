#include "monitor/drift.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>

#include "monitor/stats.h"

namespace plinth::monitor {
namespace {

constexpr struct {
  Method method;
  std::string_view name;
} kMethods[] = {{Method::kKs, "ks"},
                {Method::kChiSquare, "chisquare"},
                {Method::kZ, "z"},
                {Method::kWasserstein, "wasserstein"},
                {Method::kJensenShannon, "jensenshannon"},
                {Method::kPsi, "psi"},
                {Method::kChi2Contingency, "chi2_contingency"}};

// A sample with its missing values dropped: sorted numbers, or labels.
struct Clean {
  bool numeric = true;
  std::vector<double> numbers;  // sorted
  std::vector<std::string_view> labels;
  int64_t missing = 0;
  size_t size() const { return numeric ? numbers.size() : labels.size(); }
};

// The same from a sample given up: cleaned in place, no copy (a whole period's column is
// hundreds of MB, and fresh memory costs more in page faults than the copy).
Clean CleanOf(Sample&& s) {
  Clean c;
  c.numeric = s.numeric;
  if (s.numeric) {
    c.numbers = std::move(s.numbers);
    const auto kept = std::remove_if(c.numbers.begin(), c.numbers.end(),
                                     [](double v) { return !std::isfinite(v); });
    c.missing = c.numbers.end() - kept;
    c.numbers.erase(kept, c.numbers.end());
    SortValues(c.numbers);
  } else {
    c.labels = std::move(s.labels);
    const auto kept = std::remove(c.labels.begin(), c.labels.end(), std::string_view());
    c.missing = c.labels.end() - kept;
    c.labels.erase(kept, c.labels.end());
  }
  return c;
}

Clean CleanOf(const Sample& s) {
  Clean c;
  c.numeric = s.numeric;
  if (s.numeric) {
    c.numbers.reserve(s.numbers.size());
    for (double v : s.numbers) {
      if (std::isfinite(v)) {
        c.numbers.push_back(v);
      } else {
        ++c.missing;
      }
    }
    SortValues(c.numbers);
  } else {
    c.labels.reserve(s.labels.size());
    for (std::string_view v : s.labels) {
      if (v.empty()) {
        ++c.missing;
      } else {
        c.labels.push_back(v);
      }
    }
  }
  return c;
}

// Counts per category over the union of both samples' values, in sorted value order.
struct Counts {
  std::vector<double> reference, current;
};

Counts CountsOf(const Clean& ref, const Clean& cur) {
  Counts out;
  if (ref.numeric) {  // both sorted: one merge
    size_t i = 0, j = 0;
    while (i < ref.numbers.size() || j < cur.numbers.size()) {
      const double v =
          j >= cur.numbers.size() || (i < ref.numbers.size() && ref.numbers[i] <= cur.numbers[j])
              ? ref.numbers[i]
              : cur.numbers[j];
      double r = 0, c = 0;
      for (; i < ref.numbers.size() && ref.numbers[i] == v; ++i) {
        r += 1;
      }
      for (; j < cur.numbers.size() && cur.numbers[j] == v; ++j) {
        c += 1;
      }
      out.reference.push_back(r);
      out.current.push_back(c);
    }
    return out;
  }
  const LabelCounts counts = CountLabels(ref.labels, cur.labels);
  std::vector<int32_t> order(counts.reference.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return counts.labels.Get(a) < counts.labels.Get(b); });
  for (int32_t k : order) {
    out.reference.push_back(counts.reference[static_cast<size_t>(k)]);
    out.current.push_back(counts.current[static_cast<size_t>(k)]);
  }
  return out;
}

int64_t DistinctOf(const std::vector<double>& sorted) {
  int64_t n = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    n += i == 0 || sorted[i] != sorted[i - 1] ? 1 : 0;
  }
  return n;
}

// Evidently's get_binned_data: shares per bin (or per category) of each sample.
// `counted()`: CountsOf(ref, cur), made by the caller once (and only when needed here).
template <typename Counted>
std::pair<std::vector<double>, std::vector<double>> Shares(const Clean& ref, const Clean& cur,
                                                           bool fill_zeroes, Counted counted) {
  std::vector<double> r, c;
  if (ref.numeric && DistinctOf(ref.numbers) > 20) {
    const std::vector<double> edges = SturgesEdges(ref.numbers, cur.numbers);
    r = HistogramCounts(ref.numbers, edges);
    c = HistogramCounts(cur.numbers, edges);
  } else {
    r = counted().reference;
    c = counted().current;
  }
  for (double& x : r) {
    x /= static_cast<double>(ref.size());
  }
  for (double& x : c) {
    x /= static_cast<double>(cur.size());
  }
  if (fill_zeroes) {
    FillZeroShares(r);
    FillZeroShares(c);
  }
  return {std::move(r), std::move(c)};
}

}  // namespace

std::string_view MethodName(Method m) {
  for (const auto& e : kMethods) {
    if (e.method == m) {
      return e.name;
    }
  }
  return "?";
}

Result<Method> ParseMethod(std::string_view name) {
  for (const auto& e : kMethods) {
    if (e.name == name) {
      return e.method;
    }
  }
  return InvalidArgument("unknown drift method '" + std::string(name) +
                         "': expected ks, chisquare, z, wasserstein, jensenshannon, psi or "
                         "chi2_contingency");
}

bool IsPValue(Method m) {
  return m == Method::kKs || m == Method::kChiSquare || m == Method::kZ ||
         m == Method::kChi2Contingency;
}

double DefaultThreshold(Method m) { return IsPValue(m) ? 0.05 : 0.1; }

Method DefaultMethod(bool numeric, int64_t reference_values, int64_t distinct_values) {
  if (reference_values <= 1000) {
    if (numeric && distinct_values > 5) {
      return Method::kKs;
    }
    return distinct_values > 2 ? Method::kChiSquare : Method::kZ;
  }
  return numeric && distinct_values > 5 ? Method::kWasserstein : Method::kJensenShannon;
}

namespace {

Result<std::vector<ColumnDrift>> CompareClean(const Clean& ref, const Clean& cur,
                                              std::span<const DriftOptions> each) {
  if (ref.numeric != cur.numeric) {
    return InvalidArgument("the reference and current columns differ in type (numbers vs labels)");
  }
  if (ref.size() == 0 || cur.size() == 0) {
    return InvalidArgument(std::string("no value left in the ") +
                           (ref.size() == 0 ? "reference" : "current") +
                           " sample once missing values are dropped");
  }
  // The category counts, made once and only when a test or the default needs them.
  std::optional<Counts> counts;
  auto counted = [&]() -> const Counts& {
    if (!counts) {
      counts = CountsOf(ref, cur);
    }
    return *counts;
  };
  int64_t new_categories = 0;
  if (!ref.numeric) {
    for (double r : counted().reference) {
      new_categories += r == 0 ? 1 : 0;
    }
  }
  const double n_ref = static_cast<double>(ref.size()), n_cur = static_cast<double>(cur.size());
  std::vector<ColumnDrift> results;
  for (const DriftOptions& options : each) {
    ColumnDrift out;
    out.reference_values = static_cast<int64_t>(ref.size());
    out.current_values = static_cast<int64_t>(cur.size());
    out.reference_missing = ref.missing;
    out.current_missing = cur.missing;
    out.new_categories = new_categories;
    out.method = options.method ? *options.method
                                : DefaultMethod(ref.numeric, out.reference_values,
                                                static_cast<int64_t>(counted().reference.size()));
    out.threshold = options.threshold.value_or(DefaultThreshold(out.method));
    if (!ref.numeric && (out.method == Method::kKs || out.method == Method::kWasserstein)) {
      return InvalidArgument(std::string(MethodName(out.method)) +
                             " applies to numeric columns only; this one holds labels");
    }
    switch (out.method) {
      case Method::kKs:
        out.score = KsTwoSampleSorted(ref.numbers, cur.numbers).pvalue;
        break;
      case Method::kChiSquare: {
        std::vector<double> expected(counted().reference);
        const double scale = n_cur / n_ref;
        for (double& e : expected) {
          e *= scale;
        }
        out.score = ChiSquareGoodnessOfFit(counted().current, expected).pvalue;
        break;
      }
      case Method::kChi2Contingency:
        out.score = ChiSquareContingency(counted().reference, counted().current).pvalue;
        break;
      case Method::kZ:
        if (counted().reference.size() == 1) {
          out.score = 1;  // one value, the same in both
        } else {
          // Success: any value but the smallest (Evidently's sorted first key).
          out.score = TwoProportionZPValue(n_ref - counted().reference[0], n_ref,
                                           n_cur - counted().current[0], n_cur);
        }
        break;
      case Method::kWasserstein:
        out.score = WassersteinSorted(ref.numbers, cur.numbers) /
                    std::max(PopulationStd(ref.numbers), 0.001);
        break;
      case Method::kJensenShannon: {
        auto [r, c] = Shares(ref, cur, false, counted);
        out.score = JensenShannon(r, c);
        break;
      }
      case Method::kPsi: {
        auto [r, c] = Shares(ref, cur, true, counted);
        out.score = Psi(r, c);
        break;
      }
    }
    // Evidently's comparisons: KS p <= t; chi-square and Z p < t; distances >= t.
    out.drifted = out.method == Method::kKs ? out.score <= out.threshold
                  : IsPValue(out.method)    ? out.score < out.threshold
                                            : out.score >= out.threshold;
    results.push_back(out);
  }
  return results;
}

}  // namespace

Result<std::vector<ColumnDrift>> CompareColumnMethods(const Sample& reference,
                                                      const Sample& current,
                                                      std::span<const DriftOptions> each) {
  return CompareClean(CleanOf(reference), CleanOf(current), each);
}

Result<ColumnDrift> CompareColumn(const Sample& reference, const Sample& current,
                                  const DriftOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(
      std::vector<ColumnDrift> one,
      CompareClean(CleanOf(reference), CleanOf(current), std::span(&options, 1)));
  return one.at(0);
}

Result<ColumnDrift> CompareColumn(Sample&& reference, Sample&& current,
                                  const DriftOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<ColumnDrift> one,
                          CompareClean(CleanOf(std::move(reference)), CleanOf(std::move(current)),
                                       std::span(&options, 1)));
  return one.at(0);
}

LabelCounts CountLabels(std::span<const std::string_view> reference,
                        std::span<const std::string_view> current) {
  LabelCounts out;
  auto count = [&](std::span<const std::string_view> sample, bool is_reference) {
    for (std::string_view v : sample) {
      if (v.empty()) {
        continue;
      }
      const auto k = static_cast<size_t>(out.labels.Add(v));
      if (k == out.reference.size()) {
        out.reference.push_back(0);
        out.current.push_back(0);
      }
      (is_reference ? out.reference : out.current)[k] += 1;
      (is_reference ? out.reference_total : out.current_total) += 1;
    }
  };
  count(reference, true);
  count(current, false);
  return out;
}

}  // namespace plinth::monitor
