#!/usr/bin/env python3
"""Plinth's drift statistics (src/monitor/stats.h) against scipy 1.10 (Debian's python3-scipy)
on the very same values, to 1e-9: the two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp,
method='auto': exact up to 10,000 values a side, asymptotic beyond) on real columns of
../shared/datasets and on generated shifts (none, mean, variance, ties, tiny vs huge samples),
and the distributions behind it (scipy.stats.kstwo.sf, scipy.special.smirnov) over a grid that
reaches every method scipy picks; then each column test as Evidently defines it (its code,
restated below with the numpy/scipy calls it makes: chi-square, Z-test, normed Wasserstein,
Jensen-Shannon, PSI with its binning and zero fill, and the default test per column) and
scipy.stats.chi2_contingency, on numeric and categorical columns of adult and on generated
shifts (new category, binary shift, few distinct values).

usage: drift_vs_scipy.py MONITOR_TOOL DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from scipy import special, stats
from scipy.spatial import distance

TOL = 1e-9
failures = 0


def close(a, b):
    if a is None or b is None:
        return a is None and b is None or (a is None and np.isnan(b)) or (b is None and np.isnan(a))
    return abs(a - b) <= TOL * max(1.0, abs(b))


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL", what)


def write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(" ".join(repr(float(v)) for v in (r if isinstance(r, tuple) else (r,))) + "\n")


def tool(*args):
    out = subprocess.run([TOOL, *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def ks_case(name, a, b, work):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    write(os.path.join(work, "a"), a)
    write(os.path.join(work, "b"), b)
    got = tool("ks", os.path.join(work, "a"), os.path.join(work, "b"))
    want = stats.ks_2samp(a, b)
    ok = close(got["statistic"], want.statistic) and close(got["pvalue"], want.pvalue)
    check(ok, f"ks {name} (n={len(a)},{len(b)}): Plinth {got} scipy "
              f"({want.statistic!r}, {want.pvalue!r})")
    return ok


# Evidently's definitions (evidently/legacy/calculations/stattests), with their numpy and
# scipy calls, as the reference.
def ev_clean(values):
    return pd.Series(values).replace([np.inf, -np.inf], np.nan).dropna()


def ev_counts(ref, cur):
    keys = list(set(ref.unique()) | set(cur.unique()))
    rd = {**dict.fromkeys(keys, 0), **dict(ref.value_counts())}
    cd = {**dict.fromkeys(keys, 0), **dict(cur.value_counts())}
    return keys, rd, cd


def ev_binned(ref, cur, numeric, fill):
    if numeric and ref.nunique() > 20:
        bins = np.histogram_bin_edges(np.asarray(pd.concat([ref, cur]).values), bins="sturges")
        rp = np.histogram(ref, bins)[0] / len(ref)
        cp = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys, rd, cd = ev_counts(ref, cur)
        rp = np.array([rd[k] / len(ref) for k in keys])
        cp = np.array([cd[k] / len(cur) for k in keys])
    if fill:
        for arr in (rp, cp):
            low = min(arr[arr != 0])
            np.place(arr, arr == 0, low / 10**6 if low <= 0.0001 else 0.0001)
    return rp, cp


def evidently(ref, cur, numeric):
    out = {}
    keys, rd, cd = ev_counts(ref, cur)
    if numeric:
        out["ks"] = stats.ks_2samp(ref, cur)[1]
        out["wasserstein"] = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    k_norm = cur.shape[0] / ref.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["chisquare"] = stats.chisquare([cd[k] for k in keys],
                                           [rd[k] * k_norm for k in keys])[1]
    skeys = sorted(keys)
    if ref.nunique() == 1 and cur.nunique() == 1 and ref.unique()[0] == cur.unique()[0]:
        out["z"] = 1
    else:
        r01 = ref.apply(lambda x: 0 if x == skeys[0] else 1)
        c01 = cur.apply(lambda x: 0 if x == skeys[0] else 1)
        n1, n2 = len(r01), len(c01)
        p1, p2 = float(sum(r01)) / n1, float(sum(c01)) / n2
        pp = float(p1 * n1 + p2 * n2) / (n1 + n2)
        z = (p1 - p2) / np.sqrt(pp * (1 - pp) * (1.0 / n1 + 1.0 / n2))
        out["z"] = 2 * (1 - stats.norm.cdf(np.abs(z)))
    out["jensenshannon"] = distance.jensenshannon(*ev_binned(ref, cur, numeric, False))
    rp, cp = ev_binned(ref, cur, numeric, True)
    out["psi"] = np.sum((rp - cp) * np.log(rp / cp))
    table = np.array([[rd[k] for k in skeys], [cd[k] for k in skeys]])
    out["chi2_contingency"] = stats.chi2_contingency(table)[1] if len(keys) > 1 else 1.0
    n_values = pd.concat([ref, cur]).nunique()
    if ref.shape[0] <= 1000:
        if numeric and n_values > 5:
            out["default"] = "ks"
        else:
            out["default"] = "chisquare" if n_values > 2 else "z"
    else:
        out["default"] = "wasserstein" if numeric and n_values > 5 else "jensenshannon"
    return out


def column_case(name, ref, cur, numeric, work):
    global failures
    ref, cur = ev_clean(ref), ev_clean(cur)
    if numeric:
        write(os.path.join(work, "a"), ref.to_numpy(dtype=float))
        write(os.path.join(work, "b"), cur.to_numpy(dtype=float))
    else:
        for path, values in (("a", ref), ("b", cur)):
            with open(os.path.join(work, path), "w") as f:
                f.write("".join(f"{v}\n" for v in values))
    got = tool("column", "num" if numeric else "cat", os.path.join(work, "a"),
               os.path.join(work, "b"))
    want = evidently(ref, cur, numeric)
    for method, value in want.items():
        if method == "default":
            ok = got.get(method) == value
        elif np.isnan(float(value)):  # JSON carries NaN as null
            ok = got.get(method) is None
        else:
            ok = isinstance(got.get(method), (int, float)) and close(got[method], float(value))
        check(ok, f"{name} {method}: Plinth {got.get(method)!r} reference {value!r}")
    if not numeric:
        check(isinstance(got.get("ks"), str) and "numeric columns only" in got["ks"],
              f"{name}: KS on labels refused: {got.get('ks')!r}")
    return len(want)


def main():
    global TOOL
    TOOL, datasets = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(7)
    cases = 0
    with tempfile.TemporaryDirectory() as work:
        # Real columns: train vs test splits and halves of one file.
        adult_train = pd.read_csv(os.path.join(datasets, "adult_train.csv"), skipinitialspace=True)
        adult_test = pd.read_csv(os.path.join(datasets, "adult_test.csv"), skipinitialspace=True)
        for col in ["age", "fnlwgt", "education-num", "capital-gain", "hours-per-week"]:
            if col not in adult_train or col not in adult_test:
                continue
            a = pd.to_numeric(adult_train[col], errors="coerce").dropna().to_numpy()
            b = pd.to_numeric(adult_test[col], errors="coerce").dropna().to_numpy()
            ks_case(f"adult {col} train vs test (asymptotic)", a, b, work)
            ks_case(f"adult {col} 800 vs 1200 (exact)", a[:800], b[:1200], work)
            ks_case(f"adult {col} 5000 vs 5000 (exact, square)", a[:5000], b[5000:10000], work)
            cases += 3
        housing = pd.read_csv(os.path.join(datasets, "california_housing.csv"))
        for col in housing.columns[:4]:
            v = pd.to_numeric(housing[col], errors="coerce").dropna().to_numpy()
            ks_case(f"housing {col} halves", v[: len(v) // 2], v[len(v) // 2:], work)
            ks_case(f"housing {col} 20000 vs 40 (asymptotic, small n)", v[:20000], v[-40:], work)
            ks_case(f"housing {col} 10000 vs 7000 (exact, largest)", v[:10000], v[-7000:], work)
            cases += 3
        bike = pd.read_csv(os.path.join(datasets, "bike_sharing_hour.csv"))
        for col in ["temp", "hum", "windspeed", "cnt"]:
            v = bike[col].to_numpy(dtype=float)
            ks_case(f"bike {col} first vs last year", v[: len(v) // 2], v[len(v) // 2:], work)
            cases += 1
        # Generated shifts.
        base = rng.normal(size=30000)
        for label, cur in [("no shift", rng.normal(size=30000)),
                           ("mean shift 0.05", rng.normal(0.05, 1, size=30000)),
                           ("mean shift 0.5", rng.normal(0.5, 1, size=30000)),
                           ("variance x1.5", rng.normal(0, 1.5, size=30000)),
                           ("huge shift", rng.normal(5, 1, size=30000))]:
            ks_case(f"{label} 30000 vs 30000", base, cur, work)
            ks_case(f"{label} 400 vs 600", base[:400], cur[:600], work)
            ks_case(f"{label} 20000 vs 300", base[:20000], cur[:300], work)
            ks_case(f"{label} 12000 vs 12000", base[:12000], cur[:12000], work)
            cases += 4
        ties = rng.integers(0, 7, size=3000).astype(float)
        ks_case("ties 3000 vs 2000", ties, rng.integers(0, 7, size=2000), work)
        ks_case("ties shifted", ties, rng.integers(1, 8, size=2000), work)
        ks_case("identical", ties, ties, work)
        ks_case("one value each", [1.0], [2.0], work)
        ks_case("1 vs 50000", [0.3], rng.normal(size=50000), work)
        cases += 5

        # Column tests as Evidently defines them.
        for col in ["age", "education-num", "hours-per-week", "capital-gain"]:
            a = pd.to_numeric(adult_train[col], errors="coerce")
            b = pd.to_numeric(adult_test[col], errors="coerce")
            cases += column_case(f"adult {col}", a, b, True, work)
            cases += column_case(f"adult {col} small", a[:900], b[:700], True, work)
        for col in ["workclass", "race", "sex", "native-country", "education"]:
            a, b = adult_train[col].astype(str), adult_test[col].astype(str)
            cases += column_case(f"adult {col}", a, b, False, work)
            cases += column_case(f"adult {col} small", a[:500], b[:800], False, work)
        cats = np.array(["a", "b", "c"])
        ref = pd.Series(rng.choice(cats, 3000, p=[0.5, 0.3, 0.2]))
        cases += column_case("new category", ref, pd.Series(rng.choice(
            np.array(["a", "b", "c", "d"]), 2000, p=[0.4, 0.3, 0.2, 0.1])), False, work)
        cases += column_case("no shift categories", ref, pd.Series(rng.choice(
            cats, 2000, p=[0.5, 0.3, 0.2])), False, work)
        cases += column_case("binary shift", pd.Series(rng.integers(0, 2, 800)),
                             pd.Series((rng.random(600) < 0.7).astype(int)), True, work)
        cases += column_case("one value", pd.Series([3.0] * 50), pd.Series([3.0] * 40), True,
                             work)
        cases += column_case("few values", pd.Series(rng.integers(0, 4, 5000)),
                             pd.Series(rng.integers(0, 5, 5000)), True, work)
        cases += column_case("missing values", pd.Series(np.where(
            rng.random(3000) < 0.1, np.nan, rng.normal(size=3000))), pd.Series(
            np.r_[rng.normal(0.2, 1, size=2000), [np.inf, -np.inf]]), True, work)

        # The distributions over a grid reaching each of scipy's methods.
        grid = []
        for n in [1, 2, 5, 10, 50, 100, 140, 141, 500, 1000, 5000, 20000, 100000, 100001, 500000,
                  1000000, 1000001, 2000000, 5000000]:
            for x in [1e-6, 0.3 / n, 0.6 / n, 0.9 / n, 1.0 / n, 1.5 / n, 0.01, 0.02, 0.05, 0.1,
                      0.2, 0.3, 0.45, 0.5, 0.7, 0.99, 1 - 0.5 / n, 1.0]:
                if 0 <= x <= 1:
                    grid.append((n, x))
        for n in [200, 5000, 100000, 400000, 2000000]:  # near nx^2 = 0.75, 2.2, 4, 18, 370, n x^1.5 = 1.4
            for nx2 in [0.5, 0.754, 0.76, 1.0, 2.19, 2.21, 3.9, 4.1, 10, 17.9, 18.1, 100, 369, 371]:
                grid.append((n, (nx2 / n) ** 0.5))
            grid.append((n, (1.4 / n) ** (2 / 3)))
            grid.append((n, (1.39 / n) ** (2 / 3)))
        write(os.path.join(work, "grid"), grid)
        got = tool("kstwo", os.path.join(work, "grid"))
        # Absolutely to 1e-9, and relatively to 1e-8 (tiny p-values keep their digits too).
        def near(g, want):
            return close(g, want) and (g is None or abs(g - want) <= 1e-8 * abs(want) or
                                       abs(want) < 1e-300)
        for (n, x), g in zip(grid, got):
            want = stats.kstwo.sf(x, n)
            check(near(g, want), f"kstwo.sf({x!r}, {n}): Plinth {g!r} scipy {want!r}")
        got = tool("smirnov", os.path.join(work, "grid"))
        for (n, x), g in zip(grid, got):
            want = special.smirnov(n, x)
            check(near(g, want), f"smirnov({n}, {x!r}): Plinth {g!r} scipy {want!r}")
        cases += 2 * len(grid)
    print(f"drift-vs-scipy: {cases} comparisons, {failures} failures (tolerance {TOL})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
