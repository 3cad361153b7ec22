// Drift statistics and column tests; their agreement with scipy on real data is
// e2e.drift_vs_scipy's, these pin a few values scipy 1.10 gives and the errors.
#include "monitor/drift.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <list>
#include <random>

#include "monitor/dataset_drift.h"
#include "monitor/stats.h"
#include "table/csv_reader.h"

namespace plinth::monitor {
namespace {

TEST(KsTest, MatchesScipyOnSmallSamples) {
  // scipy.stats.ks_2samp([1, 2, 3], [4, 5, 6]): (1.0, 0.09999999999999999), exact.
  KsTest t = KsTwoSample({1, 2, 3}, {4, 5, 6});
  EXPECT_EQ(t.statistic, 1.0);
  EXPECT_NEAR(t.pvalue, 0.1, 1e-15);
  EXPECT_TRUE(t.exact);
  t = KsTwoSample({0.1, 0.4, 0.7, 1.2, 2.0}, {0.3, 0.5, 0.9, 1.1, 1.6, 2.5, 3.0});
  EXPECT_NEAR(t.statistic, 0.3142857142857143, 1e-15);
  EXPECT_NEAR(t.pvalue, 0.8383838383838382, 1e-12);
  // The same samples give statistic 0 and p-value 1.
  t = KsTwoSample({1, 1, 2}, {2, 1, 1});
  EXPECT_EQ(t.statistic, 0.0);
  EXPECT_EQ(t.pvalue, 1.0);
  EXPECT_TRUE(std::isnan(KsTwoSample({}, {1.0}).pvalue));
}

TEST(SortValues, OrdersAsStdSort) {
  std::vector<double> v;
  uint64_t x = 88172645463325252ULL;  // xorshift: any bit pattern but NaN
  for (int i = 0; i < 100000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double d = 0;
    std::memcpy(&d, &x, sizeof d);
    v.push_back(std::isnan(d) ? static_cast<double>(i) : d);
  }
  const double inf = std::numeric_limits<double>::infinity();
  for (double special : {0.0, -0.0, inf, -inf, 1e-310, -1e-310, 1.0, 1.0}) {
    v.push_back(special);
  }
  std::vector<double> want = v;
  std::sort(want.begin(), want.end());
  SortValues(v);
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_TRUE(v[i] == want[i]) << i << ": " << v[i] << " vs " << want[i];
  }
}

TEST(KsTest, KolmogorovDistributionMatchesScipy) {
  EXPECT_NEAR(KolmogorovSf(1000, 0.05), 0.013012074781090332, 1e-12);
  // Smirnov's sum over 200,000 terms in logs: within 1e-9 of scipy's, relatively.
  EXPECT_NEAR(KolmogorovSf(200000, 0.01), 8.433125699870092e-18, 8.4e-27);
  EXPECT_EQ(KolmogorovSf(10, 1.0), 0.0);
  EXPECT_EQ(KolmogorovSf(10, 0.0), 1.0);
  EXPECT_TRUE(std::isnan(SmirnovSf(10, 1.5)));
}

TEST(ColumnTests, MatchScipy) {
  const double observed[] = {10, 20, 30}, expected[] = {20, 20, 20};
  EXPECT_NEAR(ChiSquareGoodnessOfFit(observed, expected).pvalue, 0.006737946999085468, 1e-15);
  const double u[] = {0, 1, 3}, v[] = {5, 6, 8};
  EXPECT_DOUBLE_EQ(WassersteinSorted(u, v), 5.0);
  const double p[] = {0.5, 0.5}, q[] = {0.5, 0.5};
  EXPECT_EQ(JensenShannon(p, q), 0.0);
  // A range beyond double's (1e308 - -1e308): one bin, not a vector of NaN size.
  const double ends[] = {-1e308, 1e308};
  EXPECT_EQ(SturgesEdges(ends, ends), (std::vector<double>{-1e308, 1e308}));
  std::vector<double> shares = {0.5, 0.0, 0.5};
  FillZeroShares(shares);
  EXPECT_EQ(shares[1], 0.0001);
  shares = {0.99995, 0.0, 0.00005};
  FillZeroShares(shares);
  EXPECT_DOUBLE_EQ(shares[1], 0.00005 / 1e6);
}

// The distributions drawn in reports bin unsorted values: the same counts as numpy's
// histogram on the sorted values, values on the edges included, NaN and infinities left out.
TEST(Histogram, UnsortedCountsEqualSortedOnes) {
  std::mt19937_64 rng(3);
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) {
    values.push_back(static_cast<double>(rng() % 37) / 4);  // many ties, on edges too
  }
  values.push_back(std::nan(""));
  values.push_back(std::numeric_limits<double>::infinity());
  std::vector<double> finite;
  for (double v : values) {
    if (std::isfinite(v)) {
      finite.push_back(v);
    }
  }
  std::sort(finite.begin(), finite.end());
  for (const std::vector<double>& edges :
       {SturgesEdges(finite.front(), finite.back(), finite.size()), SturgesEdges(finite, finite),
        std::vector<double>{0, 2.25, 4.5, 9}, std::vector<double>{1, 2}}) {
    EXPECT_EQ(HistogramCountsUnsorted(values, edges), HistogramCounts(finite, edges));
  }
  EXPECT_EQ(SturgesEdges(-1e308, 1e308, 2), (std::vector<double>{-1e308, 1e308}));
  // numpy's own answers: np.histogram(v, bins=[0, 1, 2, 3, 4]) and bins='sturges'.
  const double v[] = {0, 0.5, 1, 1, 2, 2.5, 3, 3, 3, 4, 1.9999999999999998, -0.0};
  const double edges[] = {0, 1, 2, 3, 4};
  EXPECT_EQ(HistogramCountsUnsorted(v, edges), (std::vector<double>{3, 3, 2, 4}));
  const std::vector<double> sturges = SturgesEdges(-0.0, 4, std::size(v));
  EXPECT_EQ(sturges, (std::vector<double>{0.0, 0.8, 1.6, 2.4000000000000004, 3.2, 4.0}));
  EXPECT_EQ(HistogramCountsUnsorted(v, sturges), (std::vector<double>{3, 2, 2, 4, 1}));
  // A range beyond double's: one bin holds everything.
  const double wide[] = {-1e308, 0, 1e308};
  const double wide_edges[] = {-1e308, 1e308};
  EXPECT_EQ(HistogramCountsUnsorted(wide, wide_edges), std::vector<double>{3});
}

Sample Numbers(std::vector<double> v) {
  Sample s;
  s.numbers = std::move(v);
  return s;
}

// The sample's labels are views: their strings live as long as the test binary.
Sample Labels(std::vector<std::string> v) {
  static std::list<std::vector<std::string>> kept;
  kept.push_back(std::move(v));
  Sample s;
  s.numeric = false;
  s.labels.assign(kept.back().begin(), kept.back().end());
  return s;
}

TEST(CompareColumn, PicksEvidentlysDefaultsAndFlagsDrift) {
  std::vector<double> ref, shifted;
  for (int i = 0; i < 500; ++i) {
    ref.push_back(i % 50);
    shifted.push_back(i % 50 + 10);
  }
  auto d = CompareColumn(Numbers(ref), Numbers(shifted));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->method, Method::kKs);  // <= 1000 reference values, > 5 distinct
  EXPECT_TRUE(d->drifted);
  EXPECT_EQ(d->threshold, 0.05);
  d = CompareColumn(Numbers(ref), Numbers(ref));
  EXPECT_FALSE(d->drifted);
  EXPECT_EQ(d->score, 1.0);
  // Labels: chi-square for more than two, a new category counted.
  d = CompareColumn(Labels({"a", "b", "c", "a", ""}), Labels({"a", "b", "d", "", ""}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->method, Method::kChiSquare);
  EXPECT_EQ(d->new_categories, 1);
  EXPECT_EQ(d->reference_missing, 1);
  EXPECT_EQ(d->current_missing, 2);
  EXPECT_EQ(DefaultMethod(true, 5000, 100), Method::kWasserstein);
  EXPECT_EQ(DefaultMethod(false, 5000, 2), Method::kJensenShannon);
  EXPECT_EQ(DefaultMethod(true, 100, 2), Method::kZ);
  EXPECT_EQ(DefaultMethod(true, 100, 4), Method::kChiSquare);
}

// Samples given up are cleaned in place: the same results as from samples kept.
TEST(CompareColumn, SamplesGivenUpCompareAsKept) {
  std::mt19937_64 rng(5);
  Sample a, b, la, lb;
  la.numeric = lb.numeric = false;
  const std::string_view names[] = {"", "x", "y", "z"};
  for (int i = 0; i < 3000; ++i) {
    a.numbers.push_back(i % 17 == 0 ? std::nan("") : static_cast<double>(rng() % 1000) / 7);
    b.numbers.push_back(i % 13 == 0 ? std::numeric_limits<double>::infinity()
                                    : static_cast<double>(rng() % 1100) / 7);
    la.labels.push_back(names[rng() % 4]);
    lb.labels.push_back(names[rng() % 3]);
  }
  for (Method m : {Method::kKs, Method::kWasserstein, Method::kPsi, Method::kJensenShannon}) {
    for (const auto& [x, y] : {std::pair{&a, &b}, std::pair{&la, &lb}}) {
      if (!x->numeric && (m == Method::kKs || m == Method::kWasserstein)) {
        continue;
      }
      DriftOptions o;
      o.method = m;
      Result<ColumnDrift> kept = CompareColumn(*x, *y, o);
      Sample x2 = *x, y2 = *y;
      Result<ColumnDrift> given = CompareColumn(std::move(x2), std::move(y2), o);
      ASSERT_TRUE(kept.ok() && given.ok());
      EXPECT_EQ(kept->score, given->score) << MethodName(m);
      EXPECT_EQ(kept->reference_missing, given->reference_missing);
      EXPECT_EQ(kept->current_missing, given->current_missing);
      EXPECT_EQ(kept->current_values, given->current_values);
    }
  }
}

TEST(CompareColumn, RefusesWhatDoesNotApply) {
  DriftOptions ks;
  ks.method = Method::kKs;
  EXPECT_EQ(CompareColumn(Labels({"a"}), Labels({"b"}), ks).status().message(),
            "ks applies to numeric columns only; this one holds labels");
  EXPECT_EQ(CompareColumn(Numbers({NAN, INFINITY}), Numbers({1})).status().message(),
            "no value left in the reference sample once missing values are dropped");
  EXPECT_EQ(CompareColumn(Numbers({1}), Labels({"a"})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMethod("kl").status().message(),
            "unknown drift method 'kl': expected ks, chisquare, z, wasserstein, jensenshannon, "
            "psi or chi2_contingency");
  EXPECT_EQ(*ParseMethod("psi"), Method::kPsi);
}

// Columns are compared in parallel (tsan runs this too); the report keeps their order.
TEST(CompareTables, ComparesEveryColumnInOrder) {
  std::string ref = "x,y,label,when\n", cur = ref;
  for (int i = 0; i < 400; ++i) {
    const std::string label = i % 3 == 0 ? "a" : "b";
    ref += std::to_string(i % 40) + "," + std::to_string(i % 7) + "," + label + ",2024-01-01\n";
    cur +=
        std::to_string(i % 40 + 30) + "," + std::to_string(i % 7) + "," + label + ",2024-01-02\n";
  }
  auto a = table::ReadCsvText(ref), b = table::ReadCsvText(cur);
  ASSERT_TRUE(a.ok() && b.ok());
  DriftRules rules;
  auto report = CompareTables(a->table, b->table, rules);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->columns.size(), 4u);
  EXPECT_EQ(report->columns[0].name, "x");
  EXPECT_TRUE(report->columns[0].drift.drifted);   // shifted by 30
  EXPECT_FALSE(report->columns[1].drift.drifted);  // the same
  EXPECT_EQ(report->columns[2].drift.method, Method::kZ);
  EXPECT_EQ(report->columns[3].skipped, "timestamps are not compared");
  EXPECT_EQ(report->compared, 3);
  EXPECT_EQ(report->drifted, 1);
  EXPECT_FALSE(report->dataset_drift);  // 1 of 3 < 0.5
  rules.drift_share = 0.3;
  EXPECT_TRUE(CompareTables(a->table, b->table, rules)->dataset_drift);
  // An ignored column keeps its place.
  rules.columns["y"].ignore = true;
  report = CompareTables(a->table, b->table, rules);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->columns.size(), 4u);
  EXPECT_EQ(report->columns[1].name, "y");
  EXPECT_EQ(report->columns[1].skipped, "ignored by the rules");
  EXPECT_EQ(report->columns[2].name, "label");
  EXPECT_EQ(report->compared, 2);
  auto rules_or = ParseDriftRules("columns:\n  x: {method: psi, threshold: 0}\n", "d.yaml");
  EXPECT_EQ(rules_or.status().message(),
            "d.yaml:2: column 'x': key 'threshold': expected a number above 0");
}

}  // namespace
}  // namespace plinth::monitor
