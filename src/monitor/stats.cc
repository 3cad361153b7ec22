#include "monitor/stats.h"

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <numbers>
#include <numeric>
#include <tuple>
#include <utility>

namespace plinth::monitor {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr int kE128 = 128;
const double kEp128 = std::ldexp(1.0, kE128);
const double kEm128 = std::ldexp(1.0, -kE128);

double Clip(double p) { return std::clamp(p, 0.0, 1.0); }

// log(n!) - n log(n), Stirling's series as scipy's _log_nfactorial_div_n_pow_n.
double LogFactorialOverPower(double n) {
  static constexpr double kStirling[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                         -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                         -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                         -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  const double rn = 1.0 / n;
  double poly = 0;
  for (double c : kStirling) {
    poly = poly * (rn / n) + c;
  }
  return std::log(n) / 2 - n + std::log(2 * kPi) / 2 + rn * poly;
}

// A square matrix, row-major.
struct Matrix {
  int size;
  std::vector<double> v;
  explicit Matrix(int m) : size(m), v(static_cast<size_t>(m) * static_cast<size_t>(m), 0.0) {}
  double& at(int r, int c) { return v[static_cast<size_t>(r) * size + c]; }
  double at(int r, int c) const { return v[static_cast<size_t>(r) * size + c]; }
};

Matrix Multiply(const Matrix& a, const Matrix& b) {
  Matrix out(a.size);
  for (int r = 0; r < a.size; ++r) {
    for (int k = 0; k < a.size; ++k) {
      const double x = a.at(r, k);
      if (x == 0) {
        continue;
      }
      for (int c = 0; c < a.size; ++c) {
        out.at(r, c) += x * b.at(k, c);
      }
    }
  }
  return out;
}

// Pr(D_n <= d) by Durbin's matrix (Marsaglia, Tsang and Wang's scaling), as scipy's
// _kolmogn_DMTW.
double DurbinCdf(int64_t n, double d) {
  if (d >= 1.0) {
    return 1.0;
  }
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) {
    return 0.0;
  }
  const int k = static_cast<int>(std::ceil(nd));
  const double h = k - nd;
  const int m = 2 * k - 1;
  std::vector<double> v(static_cast<size_t>(m)), w(static_cast<size_t>(m));
  double fac = 1.0;
  for (int j = 1; j <= m; ++j) {
    v[j - 1] = 1.0 - std::pow(h, j);
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] *= fac;
  }
  const double tt = std::pow(std::max(2 * h - 1.0, 0.0), m) - 2 * std::pow(h, m);
  v[m - 1] = (1.0 + tt) * fac;
  Matrix hm(m);
  for (int i = 1; i < m; ++i) {
    for (int r = i - 1; r < m; ++r) {
      hm.at(r, i) = w[r - (i - 1)];
    }
  }
  for (int r = 0; r < m; ++r) {
    hm.at(r, 0) = v[r];
  }
  for (int c = 0; c < m; ++c) {
    hm.at(m - 1, c) = v[m - 1 - c];
  }
  Matrix power(m);
  for (int i = 0; i < m; ++i) {
    power.at(i, i) = 1.0;
  }
  int64_t exponent = 0, h_exponent = 0;
  for (int64_t nn = n; nn > 0; nn /= 2) {
    if (nn % 2 != 0) {
      power = Multiply(power, hm);
      exponent += h_exponent;
    }
    hm = Multiply(hm, hm);
    h_exponent *= 2;
    if (std::abs(hm.at(k - 1, k - 1)) > kEp128) {
      for (double& x : hm.v) {
        x /= kEp128;
      }
      h_exponent += kE128;
    }
  }
  double p = power.at(k - 1, k - 1);
  for (int64_t i = 1; i <= n; ++i) {
    p = static_cast<double>(i) * p / static_cast<double>(n);
    if (std::abs(p) < kEm128) {
      p *= kEp128;
      exponent -= kE128;
    }
  }
  if (exponent != 0) {
    p = std::ldexp(p, static_cast<int>(exponent));
  }
  return Clip(p);
}

// Pr(D_n <= x) by Pomeranz's recursion, as scipy's _kolmogn_Pomeranz (used for n <= 140).
double PomeranzCdf(int64_t n, double x) {
  const double t = static_cast<double>(n) * x;
  const int64_t ll = static_cast<int64_t>(std::floor(t));
  const double f = t - static_cast<double>(ll);
  const double g = std::min(f, 1.0 - f);
  const int64_t ceilf = f > 0 ? 1 : 0, roundf = f > 0.5 ? 1 : 0;
  const size_t npwrs = static_cast<size_t>(2 * (ll + 1));
  std::vector<double> gpower(npwrs), twogpower(npwrs), onem2gpower(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
  const double dn = static_cast<double>(n);
  const double g_n = g / dn, two_g_n = 2 * g / dn, one_minus_two_g_n = (1 - 2 * g) / dn;
  for (size_t m = 1; m < npwrs; ++m) {
    gpower[m] = gpower[m - 1] * g_n / static_cast<double>(m);
    twogpower[m] = twogpower[m - 1] * two_g_n / static_cast<double>(m);
    onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_n / static_cast<double>(m);
  }
  auto bounds = [&](int64_t i) -> std::pair<int64_t, int64_t> {
    int64_t j1 = 0, j2 = 0;
    if (i == 0) {
      j1 = -ll - ceilf - 1;
      j2 = ll + ceilf - 1;
    } else {
      const int64_t half = (i + 1) / 2;
      if ((i + 1) % 2 == 0) {
        if (half == n + 1) {
          j1 = n - ll - ceilf - 1;
          j2 = n + ll + ceilf - 1;
        } else {
          j1 = half - 1 - ll - roundf - 1;
          j2 = half + ll - 1 + ceilf - 1;
        }
      } else {
        j1 = half - 1 - ll - 1;
        j2 = half + ll + roundf - 1;
      }
    }
    return {std::max<int64_t>(j1 + 2, 0), std::min<int64_t>(j2, n)};
  };
  std::vector<double> v0(npwrs, 0.0), v1(npwrs, 0.0);
  v1[0] = 1;
  int64_t v0s = 0, v1s = 0, exponent = 0;
  auto [j1, j2] = bounds(0);
  std::vector<double> conv;
  for (int64_t i = 1; i <= 2 * n + 1; ++i) {
    const int64_t k1 = j1;
    std::swap(v0, v1);
    std::swap(v0s, v1s);
    std::fill(v1.begin(), v1.end(), 0.0);
    std::tie(j1, j2) = bounds(i);
    const std::vector<double>& pwrs =
        (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 != 0 ? twogpower : onem2gpower);
    const int64_t ln2 = j2 - k1 + 1;
    if (ln2 <= 0) {
      continue;
    }
    // The full convolution of V0[k1 - V0s, +ln2) with pwrs[0, ln2) (slices cut at the
    // ends, as numpy's are).
    const int64_t a0 = k1 - v0s;
    const int64_t alen =
        std::max<int64_t>(0, std::min<int64_t>(a0 + ln2, static_cast<int64_t>(npwrs)) - a0);
    const int64_t blen = std::min<int64_t>(ln2, static_cast<int64_t>(npwrs));
    if (a0 < 0 || alen == 0 || blen == 0) {
      return std::nan("");
    }
    conv.assign(static_cast<size_t>(alen + blen - 1), 0.0);
    for (int64_t p = 0; p < alen; ++p) {
      for (int64_t q = 0; q < blen; ++q) {
        conv[p + q] += v0[a0 + p] * pwrs[q];
      }
    }
    const int64_t start = j1 - k1, len = j2 - j1 + 1;
    double biggest = 0;
    for (int64_t c = 0; c < len && start + c < static_cast<int64_t>(conv.size()); ++c) {
      v1[c] = conv[start + c];
      biggest = std::max(biggest, v1[c]);
    }
    if (biggest > 0 && biggest < kEm128) {
      for (double& e : v1) {
        e *= kEp128;
      }
      exponent -= kE128;
    }
    v1s = v0s + j1 - k1;
  }
  const int64_t at = n - v1s;
  if (at < 0 || at >= static_cast<int64_t>(npwrs)) {
    return std::nan("");
  }
  double ans = v1[at];
  for (int64_t m = 1; m <= n; ++m) {
    if (std::abs(ans) > kEp128) {
      ans *= kEm128;
      exponent += kE128;
    }
    ans *= static_cast<double>(m);
  }
  if (exponent != 0) {
    ans = std::ldexp(ans, static_cast<int>(exponent));
  }
  return Clip(ans);
}

// Pr(D_n <= x) by Pelz and Good's approximation, as scipy's _kolmogn_PelzGood.
double PelzGoodCdf(int64_t n, double x) {
  if (x <= 0.0) {
    return 0.0;
  }
  if (x >= 1.0) {
    return 1.0;
  }
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const double sqrt2pi = std::sqrt(2 * kPi);
  const double z = std::sqrt(static_cast<double>(n)) * x;
  const double z2 = z * z, z3 = std::pow(z, 3), z4 = std::pow(z, 4), z6 = std::pow(z, 6);
  const double qlog = -pi2 / 8 / z2;
  if (qlog < -708) {
    return 0.0;
  }
  double q = std::exp(qlog);
  const double k1a = -z2, k1b = pi2 / 4;
  const double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4,
               k2c = pi4 * (1 - 2 * z2) / 16;
  const double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
               k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * std::pow(z, 8);
  double kk[4] = {0, 0, 0, 0};
  const int64_t maxk = static_cast<int64_t>(std::ceil(16 * z / kPi));
  for (int64_t k = maxk; k > 0; --k) {
    const double m = static_cast<double>(2 * k - 1);
    const double m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const double qpower = std::pow(q, static_cast<double>(8 * k));
    const double coeffs[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                              k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; ++i) {
      kk[i] = kk[i] * qpower + coeffs[i];
    }
  }
  const double divisors[4] = {z, 6 * z4, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
  for (int i = 0; i < 4; ++i) {
    kk[i] = kk[i] * q * sqrt2pi / divisors[i];
  }
  q = std::exp(-pi2 / 2 / z2);
  const double sqrt3z = std::sqrt(3.0) * z;
  double k2extra = 0, k3extra = 0;
  for (int64_t k = maxk; k > 0; --k) {
    const double ks = static_cast<double>(k), ks2 = ks * ks;
    const double qp = std::pow(q, ks2);
    k2extra += ks2 * qp;
    k3extra += (sqrt3z + kPi * ks) * (sqrt3z - kPi * ks) * ks2 * qp;
  }
  kk[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
  kk[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    sum += kk[i] / std::pow(static_cast<double>(n), i / 2.0);
  }
  return sum;
}

// The proportion of lattice paths from (0,0) to (n,n) leaving the band |x - y| < h:
// Pr(D_{n,n} >= h/n), as scipy's _compute_prob_outside_square.
double OutsideSquare(int64_t n, int64_t h) {
  double p = 0.0;
  for (int64_t k = static_cast<int64_t>(std::floor(static_cast<double>(n) / h)); k >= 0; --k) {
    double p1 = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
    }
    p = p1 * (1.0 - p);
  }
  return 2 * p;
}

// 1 - the proportion of lattice paths from (0,0) to (m,n) inside |x/m - y/n| < h/lcm,
// computed directly (Viehmann's recursion), as scipy's _compute_outer_prob_inside_method.
// NaN when the window leaves its buffer (never for valid inputs).
double OutsideInside(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) {
    std::swap(m, n);
  }
  const int64_t mg = m / g, ng = n / g;
  int64_t minj = 0;
  int64_t maxj = std::min<int64_t>(
      static_cast<int64_t>(std::ceil(static_cast<double>(h) / static_cast<double>(mg))), n + 1);
  int64_t curlen = maxj - minj;
  const int64_t len_a = std::min<int64_t>(2 * maxj + 2, n + 1);
  std::vector<double> a(static_cast<size_t>(len_a), 1.0);
  std::fill(a.begin(), a.begin() + std::min(maxj, len_a), 0.0);
  for (int64_t i = 1; i <= m; ++i) {
    const int64_t lastminj = minj, lastlen = curlen;
    minj = std::max<int64_t>(static_cast<int64_t>(std::floor(static_cast<double>(ng * i - h) /
                                                             static_cast<double>(mg))) +
                                 1,
                             0);
    minj = std::min(minj, n);
    maxj = std::min<int64_t>(
        static_cast<int64_t>(std::ceil(static_cast<double>(ng * i + h) / static_cast<double>(mg))),
        n + 1);
    if (maxj <= minj) {
      return 1.0;
    }
    double val = minj == 0 ? 0.0 : 1.0;
    const double di = static_cast<double>(i);
    for (int64_t jj = 0; jj < maxj - minj; ++jj) {
      const int64_t j = jj + minj;
      const int64_t from = jj + minj - lastminj;
      if (from >= len_a || jj >= len_a) {
        return std::nan("");
      }
      val = (a[from] * di + val * static_cast<double>(j)) / (di + static_cast<double>(j));
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      for (int64_t c = maxj - minj; c < std::min(maxj - minj + (lastlen - curlen), len_a); ++c) {
        a[c] = 1;
      }
    }
  }
  return a[maxj - minj - 1];
}

}  // namespace

double SmirnovSf(int64_t n, double x) {
  if (!(x >= 0.0 && x <= 1.0) || n <= 0) {  // NaN outside the domain, as scipy
    return std::nan("");
  }
  if (x == 0.0) {
    return 1.0;
  }
  if (x == 1.0) {
    return 0.0;
  }
  if (n == 1) {
    return 1.0 - x;
  }
  const double dn = static_cast<double>(n);
  // scipy's special cases, in its order: x <= 1/n; an sf below double's range; x >= 1 - 1/n;
  // n above a million (its approximation, which ks_2samp's p-values then follow).
  // n x exactly (as scipy's double-double): the product and its rounding error.
  const double nx = dn * x, nx_error = std::fma(dn, x, -nx);
  if (nx < 1.0 || (nx == 1.0 && nx_error <= 0)) {
    return Clip(1.0 - x * std::pow(1.0 + x, dn - 1));
  }
  constexpr double kMinLog = -708.3964185322641;  // log(DBL_MIN), cephes' MINLOG
  if (-2 * dn * x * x < kMinLog) {
    return 0.0;
  }
  const double nx_floor = std::floor(nx) - (nx == std::floor(nx) && nx_error < 0 ? 1 : 0);
  if (nx_floor >= dn - 1) {
    return Clip(std::pow(1.0 - x, dn));
  }
  constexpr int64_t kMaxComputeN = 1'000'000;
  if (n > kMaxComputeN) {
    const double logp = -std::pow(6.0 * dn * x + 1, 2) / 18.0 / dn;
    return Clip(logp < -std::numbers::ln2 ? std::exp(logp) : 1.0 + std::expm1(logp));
  }
  const int64_t last = static_cast<int64_t>(std::floor(dn * (1.0 - x)));
  // Terms C(n,v) x (x + v/n)^(v-1) (1 - x - v/n)^(n-v), all positive: summed in logs, and
  // stopped, as scipy stops, once the rest cannot move the sum.
  const double lgn = std::lgamma(dn + 1);
  const int64_t terms = last + 1;
  double sum = 0;
  for (int64_t v = 0; v <= last; ++v) {
    const double dv = static_cast<double>(v);
    const double e = x + dv / dn;
    const double rest = 1.0 - e;
    if (rest <= 0) {
      continue;
    }
    const double t = lgn - std::lgamma(dv + 1) - std::lgamma(dn - dv + 1) + std::log(x) +
                     (dv - 1) * std::log(e) + (dn - dv) * std::log(rest);
    const double term = t > -745 ? std::exp(t) : 0.0;
    sum += term;
    if (term > 0 && v != last &&
        4 * static_cast<double>(terms - v) * term < std::numeric_limits<double>::epsilon() * sum) {
      break;
    }
    if (term == 0 && v > n / 2) {
      break;
    }
  }
  return Clip(sum);
}

double KolmogorovSf(int64_t n, double x) {
  if (n <= 0 || std::isnan(x)) {
    return std::nan("");
  }
  if (x >= 1.0) {
    return 0.0;
  }
  if (x <= 0.0) {
    return 1.0;
  }
  const double dn = static_cast<double>(n);
  const double t = dn * x;
  if (t <= 1.0) {  // Ruben-Gambino: 1/2n <= x <= 1/n
    if (t <= 0.5) {
      return 1.0;
    }
    double prob = 0;
    if (n <= 140) {
      prob = 1.0;
      for (int64_t i = 1; i <= n; ++i) {
        prob *= static_cast<double>(i) * (1.0 / dn) * (2 * t - 1);
      }
    } else {
      prob = std::exp(LogFactorialOverPower(dn) + dn * std::log(2 * t - 1));
    }
    return Clip(1.0 - prob);
  }
  if (t >= dn - 1) {  // Ruben-Gambino
    return Clip(2 * std::pow(1.0 - x, dn));
  }
  if (x >= 0.5) {
    return Clip(2 * SmirnovSf(n, x));
  }
  const double nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) {
      return Clip(1.0 - DurbinCdf(n, x));
    }
    if (nxsquared <= 4) {
      return Clip(1.0 - PomeranzCdf(n, x));
    }
    return Clip(2 * SmirnovSf(n, x));
  }
  if (nxsquared >= 370.0) {
    return 0.0;
  }
  if (nxsquared >= 2.2) {
    return Clip(2 * SmirnovSf(n, x));
  }
  double cdf = 0;
  if (nxsquared >= 18.0) {
    cdf = 1.0;
  } else if (n <= 100000 && dn * std::pow(x, 1.5) <= 1.4) {
    cdf = DurbinCdf(n, x);
  } else {
    cdf = PelzGoodCdf(n, x);
  }
  return Clip(1.0 - cdf);
}

KsTest KsTwoSampleSorted(std::span<const double> a, std::span<const double> b) {
  const int64_t n1 = static_cast<int64_t>(a.size()), n2 = static_cast<int64_t>(b.size());
  KsTest out;
  if (n1 == 0 || n2 == 0) {
    out.statistic = std::nan("");
    out.pvalue = std::nan("");
    return out;
  }
  // cdf1 - cdf2 at every value of either sample (searchsorted 'right'), as scipy.
  double max_diff = -1, min_diff = 1;
  size_t i = 0, j = 0;
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  while (i < a.size() || j < b.size()) {
    const double v = j >= b.size() || (i < a.size() && a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.size() && a[i] <= v) {
      ++i;
    }
    while (j < b.size() && b[j] <= v) {
      ++j;
    }
    const double diff = static_cast<double>(i) / d1 - static_cast<double>(j) / d2;
    max_diff = std::max(max_diff, diff);
    min_diff = std::min(min_diff, diff);
  }
  const double min_s = std::clamp(-min_diff, 0.0, 1.0);
  double d = min_s > max_diff ? min_s : max_diff;
  const int64_t g = std::gcd(n1, n2);
  constexpr int64_t kMaxExactN = 10000;
  if (std::max(n1, n2) <= kMaxExactN) {
    const int64_t lcm = (n1 / g) * n2;
    const int64_t h = static_cast<int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
    const double rounded = static_cast<double>(h) / static_cast<double>(lcm);
    double prob = 1.0;
    if (h != 0) {
      prob = n1 == n2 ? OutsideSquare(n1, h) : OutsideInside(n1, n2, g, h);
    }
    if (prob >= 0 && prob <= 1) {  // else (NaN included) the asymptotic method, as scipy
      out.statistic = rounded;
      out.pvalue = prob;
      out.exact = true;
      return out;
    }
    d = rounded;
  }
  const double m = static_cast<double>(std::max(n1, n2)), n = static_cast<double>(std::min(n1, n2));
  const double en = m * n / (m + n);
  out.statistic = d;
  out.pvalue = Clip(KolmogorovSf(static_cast<int64_t>(std::nearbyint(en)), d));
  return out;
}

double ChiSquareSf(double x, double dof) {
  if (std::isnan(x) || !(dof > 0)) {
    return std::nan("");
  }
  if (x <= 0) {
    return 1.0;
  }
  if (std::isinf(x)) {
    return 0.0;
  }
  return boost::math::gamma_q(dof / 2, x / 2);
}

ChiSquare ChiSquareGoodnessOfFit(std::span<const double> observed,
                                 std::span<const double> expected) {
  ChiSquare out;
  for (size_t i = 0; i < observed.size() && i < expected.size(); ++i) {
    const double d = observed[i] - expected[i];
    out.statistic += d * d / expected[i];  // x / 0 = inf (or NaN for 0 / 0), as numpy
  }
  out.pvalue = observed.size() < 2
                   ? std::nan("")
                   : ChiSquareSf(out.statistic, static_cast<double>(observed.size() - 1));
  return out;
}

ChiSquare ChiSquareContingency(std::span<const double> reference, std::span<const double> current) {
  ChiSquare out;
  const size_t k = std::min(reference.size(), current.size());
  double rows[2] = {0, 0};
  std::vector<double> columns(k);
  for (size_t i = 0; i < k; ++i) {
    rows[0] += reference[i];
    rows[1] += current[i];
    columns[i] = reference[i] + current[i];
  }
  const double total = rows[0] + rows[1];
  const size_t dof = k > 0 ? k - 1 : 0;
  if (dof == 0 || total == 0) {
    return out;  // statistic 0, p-value 1, as scipy
  }
  for (int r = 0; r < 2; ++r) {
    std::span<const double> observed = r == 0 ? reference : current;
    for (size_t i = 0; i < k; ++i) {
      const double expected = rows[r] * columns[i] / total;
      double o = observed[i];
      if (dof == 1) {  // Yates: each count moves half a unit toward its expectation
        const double diff = expected - o;
        o += std::min(0.5, std::abs(diff)) * (diff > 0 ? 1.0 : diff < 0 ? -1.0 : 0.0);
      }
      out.statistic += (o - expected) * (o - expected) / expected;
    }
  }
  out.pvalue = ChiSquareSf(out.statistic, static_cast<double>(dof));
  return out;
}

double TwoProportionZPValue(double ref_successes, double ref_n, double cur_successes,
                            double cur_n) {
  const double p1 = ref_successes / ref_n, p2 = cur_successes / cur_n;
  const double pooled = (p1 * ref_n + p2 * cur_n) / (ref_n + cur_n);
  const double z = (p1 - p2) / std::sqrt(pooled * (1 - pooled) * (1.0 / ref_n + 1.0 / cur_n));
  // norm.cdf(x) is scipy's ndtr: erfc(-x / sqrt 2) / 2.
  return 2 * (1 - 0.5 * std::erfc(-std::abs(z) / std::numbers::sqrt2));
}

namespace {

// numpy's pairwise summation (blocks of 128 summed 8 ways, halves summed recursively),
// so sums of many terms round as numpy's do.
template <typename Term>
double PairwiseSum(size_t begin, size_t end, const Term& term) {
  const size_t n = end - begin;
  if (n < 8) {
    double s = 0;
    for (size_t i = begin; i < end; ++i) {
      s += term(i);
    }
    return s;
  }
  if (n <= 128) {
    double r[8];
    for (size_t j = 0; j < 8; ++j) {
      r[j] = term(begin + j);
    }
    size_t i = 8;
    for (; i + 8 <= n; i += 8) {
      for (size_t j = 0; j < 8; ++j) {
        r[j] += term(begin + i + j);
      }
    }
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) {
      s += term(begin + i);
    }
    return s;
  }
  size_t half = n / 2;
  half -= half % 8;
  return PairwiseSum(begin, begin + half, term) + PairwiseSum(begin + half, end, term);
}

}  // namespace

double WassersteinSorted(std::span<const double> u, std::span<const double> v) {
  if (u.empty() || v.empty()) {
    return std::nan("");
  }
  // The merged values; between consecutive ones, |F_u - F_v| times the gap.
  std::vector<double> all;
  all.reserve(u.size() + v.size());
  std::merge(u.begin(), u.end(), v.begin(), v.end(), std::back_inserter(all));
  const double nu = static_cast<double>(u.size()), nv = static_cast<double>(v.size());
  std::vector<double> terms(all.size() - 1);
  size_t i = 0, j = 0;
  for (size_t k = 0; k + 1 < all.size(); ++k) {
    while (i < u.size() && u[i] <= all[k]) {
      ++i;
    }
    while (j < v.size() && v[j] <= all[k]) {
      ++j;
    }
    terms[k] =
        std::abs(static_cast<double>(i) / nu - static_cast<double>(j) / nv) * (all[k + 1] - all[k]);
  }
  return PairwiseSum(0, terms.size(), [&](size_t k) { return terms[k]; });
}

double PopulationStd(std::span<const double> v) {
  if (v.empty()) {
    return std::nan("");
  }
  const double n = static_cast<double>(v.size());
  const double mean = PairwiseSum(0, v.size(), [&](size_t i) { return v[i]; }) / n;
  const double ss = PairwiseSum(0, v.size(), [&](size_t i) {
    const double d = std::abs(v[i] - mean);
    return d * d;
  });
  return std::sqrt(ss / n);
}

double JensenShannon(std::span<const double> p, std::span<const double> q) {
  const size_t k = std::min(p.size(), q.size());
  const double sp = PairwiseSum(0, k, [&](size_t i) { return p[i]; });
  const double sq = PairwiseSum(0, k, [&](size_t i) { return q[i]; });
  auto rel_entr = [](double x, double y) {
    if (std::isnan(x) || std::isnan(y)) {
      return std::nan("");
    }
    if (x > 0 && y > 0) {
      return x * std::log(x / y);
    }
    return x == 0 && y >= 0 ? 0.0 : std::numeric_limits<double>::infinity();
  };
  const double left = PairwiseSum(0, k, [&](size_t i) {
    const double a = p[i] / sp, b = q[i] / sq;
    return rel_entr(a, (a + b) / 2.0);
  });
  const double right = PairwiseSum(0, k, [&](size_t i) {
    const double a = p[i] / sp, b = q[i] / sq;
    return rel_entr(b, (a + b) / 2.0);
  });
  return std::sqrt((left + right) / 2.0);
}

double Psi(std::span<const double> reference, std::span<const double> current) {
  const size_t k = std::min(reference.size(), current.size());
  return PairwiseSum(0, k, [&](size_t i) {
    return (reference[i] - current[i]) * std::log(reference[i] / current[i]);
  });
}

std::vector<double> SturgesEdges(std::span<const double> a, std::span<const double> b) {
  if (a.empty() && b.empty()) {
    return {0.0, 1.0};
  }
  const double lo = std::min(a.empty() ? b.front() : a.front(), b.empty() ? a.front() : b.front());
  const double hi = std::max(a.empty() ? b.back() : a.back(), b.empty() ? a.back() : b.back());
  return SturgesEdges(lo, hi, a.size() + b.size());
}

std::vector<double> SturgesEdges(double lo, double hi, size_t count) {
  const double ptp = hi - lo;
  if (!std::isfinite(ptp)) {  // values near both ends of double's range: one bin
    return {lo, hi};
  }
  if (lo == hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double width = ptp / (std::log2(static_cast<double>(count)) + 1.0);
  const int64_t bins = width != 0 ? static_cast<int64_t>(std::ceil((hi - lo) / width)) : 1;
  // numpy.linspace: i * step + start, the last edge exactly the stop.
  std::vector<double> edges(static_cast<size_t>(bins) + 1);
  const double step = (hi - lo) / static_cast<double>(bins);
  for (int64_t i = 0; i <= bins; ++i) {
    edges[i] = static_cast<double>(i) * step + lo;
  }
  edges.back() = hi;
  return edges;
}

std::vector<double> HistogramCountsUnsorted(std::span<const double> values,
                                            std::span<const double> edges) {
  std::vector<double> out(edges.size() > 0 ? edges.size() - 1 : 0);
  if (out.empty()) {
    return out;
  }
  // Bin i holds [edges[i], edges[i + 1]), the last one its right edge too. The bin is
  // guessed as if the edges were evenly spaced (they are, from SturgesEdges), then moved
  // until the edges agree: exact for any increasing edges.
  const size_t bins = out.size();
  const double lo = edges.front(), hi = edges.back();
  const double per = hi > lo ? static_cast<double>(bins) / (hi - lo) : 0;
  for (double v : values) {
    if (!(v >= lo && v <= hi)) {  // NaN too
      continue;
    }
    const double guess = (v - lo) * per;  // NaN when the range overflows: bin 0
    size_t i = guess > 0 ? static_cast<size_t>(std::min(guess, static_cast<double>(bins - 1))) : 0;
    while (i > 0 && v < edges[i]) {
      --i;
    }
    while (i + 1 < bins && v >= edges[i + 1]) {
      ++i;
    }
    out[i] += 1;
  }
  return out;
}

std::vector<double> HistogramCounts(std::span<const double> sorted, std::span<const double> edges) {
  std::vector<double> out(edges.size() > 0 ? edges.size() - 1 : 0);
  // cumulative counts: left search at every edge but the last, right search there
  auto below = [&](size_t e) {
    const bool last = e + 1 == edges.size();
    const auto it = last ? std::upper_bound(sorted.begin(), sorted.end(), edges[e])
                         : std::lower_bound(sorted.begin(), sorted.end(), edges[e]);
    return static_cast<double>(it - sorted.begin());
  };
  double prev = edges.empty() ? 0 : below(0);
  for (size_t e = 1; e < edges.size(); ++e) {
    const double now = below(e);
    out[e - 1] = now - prev;
    prev = now;
  }
  return out;
}

void FillZeroShares(std::vector<double>& shares) {
  double smallest = std::numeric_limits<double>::infinity();
  for (double s : shares) {
    if (s != 0) {
      smallest = std::min(smallest, s);
    }
  }
  if (std::isinf(smallest)) {
    return;  // all zero: Evidently's min() of nothing fails; left as it is
  }
  const double fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
  for (double& s : shares) {
    if (s == 0) {
      s = fill;
    }
  }
}

void SortValues(std::vector<double>& values) {
  constexpr size_t kRadixFrom = 4096;
  const size_t n = values.size();
  if (n < kRadixFrom) {
    std::sort(values.begin(), values.end());
    return;
  }
  // The bit pattern as an unsigned key in the doubles' order: negatives reversed.
  std::vector<uint64_t> keys(n), scratch(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t u = 0;
    std::memcpy(&u, &values[i], sizeof u);
    keys[i] = (u >> 63) != 0 ? ~u : u | (uint64_t{1} << 63);
  }
  // 11-bit digits: 2,048 counters stay in L1 (with 16-bit ones the bench took 18% longer). All
  // six digits counted in one pass; a digit every key shares is skipped.
  constexpr int kBits = 11;
  constexpr int kPasses = 6;
  constexpr uint64_t kMask = (uint64_t{1} << kBits) - 1;
  std::vector<size_t> count(static_cast<size_t>(kPasses) << kBits, 0);
  for (uint64_t k : keys) {
    for (int p = 0; p < kPasses; ++p) {
      ++count[(static_cast<size_t>(p) << kBits) + ((k >> (p * kBits)) & kMask)];
    }
  }
  for (int p = 0; p < kPasses; ++p) {
    size_t* c = count.data() + (static_cast<size_t>(p) << kBits);
    if (c[(keys[0] >> (p * kBits)) & kMask] == n) {
      continue;  // every key has this digit
    }
    size_t sum = 0;
    for (size_t d = 0; d <= kMask; ++d) {
      const size_t here = c[d];
      c[d] = sum;
      sum += here;
    }
    for (uint64_t k : keys) {
      scratch[c[(k >> (p * kBits)) & kMask]++] = k;
    }
    keys.swap(scratch);
  }
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = keys[i];
    const uint64_t u = (k >> 63) != 0 ? k & ~(uint64_t{1} << 63) : ~k;
    std::memcpy(&values[i], &u, sizeof u);
  }
}

KsTest KsTwoSample(std::vector<double> a, std::vector<double> b) {
  SortValues(a);
  SortValues(b);
  return KsTwoSampleSorted(a, b);
}

}  // namespace plinth::monitor
