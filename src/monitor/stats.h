// Drift statistics, computed as the references users compare with compute them:
// scipy 1.10's two-sample Kolmogorov-Smirnov test (exact or asymptotic, chosen as
// scipy's method='auto' chooses) and the distribution of the two-sided
// Kolmogorov statistic behind it. Tests compare each with scipy on real data to
// 1e-9 (tests/unit/monitor, tests/e2e/drift_vs_scipy.py).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace plinth::monitor {

struct KsTest {
  double statistic = 0;  // sup |F_a - F_b|
  double pvalue = 1;     // two-sided
  bool exact = false;    // the exact null distribution (else Smirnov's asymptotic one)
};

// Sorts `values` (no NaN) ascending: an LSD radix sort on the doubles' ordered bit
// patterns (6 passes of 11 bits, a pass skipped where every key has the same digit) for
// large arrays; std::sort below 4,096 values.
void SortValues(std::vector<double>& values);

// scipy.stats.ks_2samp(a, b) with its defaults (two-sided, method='auto'): exact
// when neither sample has more than 10,000 values (the statistic then rounded to
// the lattice of the exact distribution, as scipy does), else the asymptotic
// distribution kstwo with n = round(n_a * n_b / (n_a + n_b)); the exact method
// gives way to the asymptotic one when it fails numerically, as in scipy. Both
// samples sorted ascending, without NaN, not empty (the caller drops missing values
// and reports them as their own signal).
KsTest KsTwoSampleSorted(std::span<const double> a, std::span<const double> b);
// The same on unsorted samples (sorted copies).
KsTest KsTwoSample(std::vector<double> a, std::vector<double> b);

// scipy.stats.kstwo.sf(x, n): Pr(D_n > x) for the two-sided one-sample statistic of
// n values, by the method scipy.stats._ksstats.kolmogn picks for (n, x) (Simard and
// L'Ecuyer's choice: Ruben-Gambino, Durbin's matrix, Pomeranz, Pelz-Good, Smirnov's
// one-sided sum).
double KolmogorovSf(int64_t n, double x);

// scipy.special.smirnov(n, x): Pr(D+_n >= x), Birnbaum and Tingey's exact sum.
double SmirnovSf(int64_t n, double x);

// scipy.stats.chi2.sf(x, dof): the regularized upper incomplete gamma Q(dof/2, x/2).
double ChiSquareSf(double x, double dof);

// scipy.stats.chisquare(observed, expected).pvalue: Pearson's statistic over k
// categories, k - 1 degrees of freedom (an expected 0 with an observed count makes the
// statistic infinite and the p-value 0). Evidently's chi-square drift test: expected
// = the reference's counts scaled to the current sample's size.
struct ChiSquare {
  double statistic = 0;
  double pvalue = 1;
};
ChiSquare ChiSquareGoodnessOfFit(std::span<const double> observed,
                                 std::span<const double> expected);

// scipy.stats.chi2_contingency(table) on a 2 x k table of counts (row 0 the reference,
// row 1 the current): expected counts from the margins, (k - 1) degrees of freedom,
// Yates' correction when that is 1 (scipy's default). Categories empty in both rows
// must have been left out.
ChiSquare ChiSquareContingency(std::span<const double> reference, std::span<const double> current);

// Evidently's Z-test of two proportions (pooled), p = 2 (1 - Phi(|z|)) as it writes it:
// `successes` of `n` in each sample.
double TwoProportionZPValue(double ref_successes, double ref_n, double cur_successes, double cur_n);

// scipy.stats.wasserstein_distance(u, v) (order 1) on sorted samples.
double WassersteinSorted(std::span<const double> u, std::span<const double> v);

// numpy's std (ddof 0).
double PopulationStd(std::span<const double> v);

// scipy.spatial.distance.jensenshannon(p, q) (natural log): p and q normalized to sum 1.
double JensenShannon(std::span<const double> p, std::span<const double> q);

// Evidently's PSI: sum over bins of (ref - cur) * ln(ref / cur), on shares.
double Psi(std::span<const double> reference, std::span<const double> current);

// numpy.histogram_bin_edges(a ++ b, bins='sturges') on two sorted samples: equal bins
// over [min, max] of both (min - 0.5 .. max + 0.5 when they are equal), as many as
// ceil(range / (range / (log2(n) + 1))).
std::vector<double> SturgesEdges(std::span<const double> a, std::span<const double> b);

// numpy.histogram(sorted, edges) counts: bin i holds edges[i] <= x < edges[i+1], the
// last bin its right edge too.
std::vector<double> HistogramCounts(std::span<const double> sorted, std::span<const double> edges);
// The same edges from the values' range and count (lo <= hi, finite).
std::vector<double> SturgesEdges(double lo, double hi, size_t count);
// The same counts from values in any order, NaN and infinities skipped: no sort (for
// drawing a large sample's distribution).
std::vector<double> HistogramCountsUnsorted(std::span<const double> values,
                                            std::span<const double> edges);

// Evidently's zero fill (PSI): a zero share becomes 0.0001, or the smallest non-zero
// share / 10^6 when that is at most 0.0001; each array on its own.
void FillZeroShares(std::vector<double>& shares);

}  // namespace plinth::monitor
