"""Reference numbers for the drift statistics (src/drift/), computed with numpy and scipy.

Run with the project's Python:  .relearn/venv/bin/python scripts/make-drift-fixtures.py
Writes test/fixtures/drift/expected.json: inputs (NaN as null) and the expected statistics and p-values.
"""

import json
import math
from pathlib import Path

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "drift" / "expected.json"
PSI_ZERO = 1e-4


def clean(values):
    a = np.asarray(values, dtype=float)
    return np.sort(a[~np.isnan(a)])


def psi_from_counts(r, c):
    r = r / r.sum()
    c = c / c.sum()
    r = np.where(r == 0, PSI_ZERO, r)
    c = np.where(c == 0, PSI_ZERO, c)
    return float(np.sum((r - c) * np.log(r / c)))


def numeric_expected(ref_raw, cur_raw, psi_bins=10, js_bins=30):
    ref_all = np.asarray(ref_raw, dtype=float)
    cur_all = np.asarray(cur_raw, dtype=float)
    ref, cur = clean(ref_raw), clean(cur_raw)
    ks = stats.ks_2samp(ref, cur)  # method='auto'
    cuts = np.unique(np.quantile(ref, np.arange(1, psi_bins) / psi_bins))
    r_counts = np.bincount(np.searchsorted(cuts, ref, side="right"), minlength=len(cuts) + 1).astype(float)
    c_counts = np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=len(cuts) + 1).astype(float)
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=js_bins)
    r_hist = np.histogram(ref, edges)[0].astype(float)
    c_hist = np.histogram(cur, edges)[0].astype(float)
    return {
        "ks": {
            "statistic": float(ks.statistic),
            "pValue": float(ks.pvalue),
            "method": "exact" if max(len(ref), len(cur)) <= 10000 else "asymp",
        },
        "psi": {"statistic": psi_from_counts(r_counts, c_counts), "reference": r_counts.tolist(), "current": c_counts.tolist()},
        "wasserstein": {
            "distance": float(stats.wasserstein_distance(ref, cur)),
            "referenceStd": float(np.std(ref)),
            "statistic": float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)),
        },
        "jensenShannon": {"statistic": float(distance.jensenshannon(r_hist, c_hist)), "reference": r_hist.tolist(), "current": c_hist.tolist()},
        "missingShare": {
            "reference": float(np.isnan(ref_all).mean()),
            "current": float(np.isnan(cur_all).mean()),
        },
    }


def counts_of(values, categories):
    return np.array([sum(1 for v in values if v == k) for k in categories], dtype=float)


def categorical_expected(ref_raw, cur_raw):
    ref = [v for v in ref_raw if v is not None]
    cur = [v for v in cur_raw if v is not None]
    categories = list(dict.fromkeys(ref)) + [k for k in dict.fromkeys(cur) if k not in set(ref)]
    r = counts_of(ref, categories)
    c = counts_of(cur, categories)
    keep = (r + c) > 0
    table = np.array([r[keep], c[keep]])
    if table.shape[1] >= 2:
        chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    else:
        chi2, p, dof = 0.0, 1.0, 0
    out = {
        "categories": categories,
        "chiSquare": {"statistic": float(chi2), "pValue": float(p), "dof": int(dof)},
        "psi": {"statistic": psi_from_counts(r, c)},
        "jensenShannon": {"statistic": float(distance.jensenshannon(r, c))},
        "missingShare": {
            "reference": sum(v is None for v in ref_raw) / len(ref_raw),
            "current": sum(v is None for v in cur_raw) / len(cur_raw),
        },
    }
    # Evidently's two-proportion z-test on the first reference category.
    n1, n2 = r.sum(), c.sum()
    p1, p2 = r[0] / n1, c[0] / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    denom = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if denom > 0:
        z = (p1 - p2) / denom
        out["zTest"] = {"statistic": float(z), "pValue": float(2 * stats.norm.sf(abs(z)))}
    else:
        out["zTest"] = {"statistic": 0.0, "pValue": 1.0}
    return out


def as_json_list(a):
    return [None if (isinstance(v, float) and math.isnan(v)) else v for v in a]


def main():
    rng = np.random.default_rng(20260601)
    numeric = []

    def add(name, ref, cur):
        # Five decimals keep the JSON small; the rounded numbers are the inputs, so nothing is lost.
        ref = np.round(np.asarray(ref, dtype=float), 5)
        cur = np.round(np.asarray(cur, dtype=float), 5)
        numeric.append({"name": name, "reference": as_json_list(ref.tolist()), "current": as_json_list(cur.tolist()), "expected": numeric_expected(ref, cur)})

    add("normal vs shifted, unequal sizes (exact)", rng.normal(0, 1, 300), rng.normal(0.3, 1.2, 220))
    add("same distribution, equal sizes (exact, square)", rng.normal(5, 2, 150), rng.normal(5, 2, 150))
    add("integer ties", rng.integers(0, 12, 400), rng.integers(1, 14, 350))
    add("heavy ties, few values", rng.integers(0, 3, 500), rng.integers(0, 3, 480))
    ref_nan = rng.normal(0, 1, 300)
    ref_nan[rng.choice(300, 30, replace=False)] = np.nan
    cur_nan = rng.normal(0.1, 1, 250)
    cur_nan[rng.choice(250, 60, replace=False)] = np.nan
    add("NaN in both (reported as missing share)", ref_nan, cur_nan)
    add("constant reference", np.full(200, 3.0), rng.normal(3, 0.5, 180))
    add("both constant, equal", np.full(120, 7.0), np.full(90, 7.0))
    add("both constant, different", np.full(120, 7.0), np.full(90, 8.0))
    add("lognormal vs lognormal scaled, n 2000 vs 1500 (exact)", rng.lognormal(0, 1, 2000), rng.lognormal(0.05, 1.1, 1500))
    add("asymptotic, large vs small (n 10100 vs 600)", rng.normal(0, 1, 10100), rng.normal(0.1, 1, 600))
    add("asymptotic, small shift (n 10400 vs 10200)", rng.normal(0, 1, 10400), rng.normal(0.01, 1, 10200))
    add("asymptotic, big shift (n 10300 vs 10050)", rng.normal(0, 1, 10300), rng.normal(0.3, 1, 10050))
    add("asymptotic, en <= 140 (n 120 vs 10050)", rng.normal(0, 1, 120), rng.normal(0.2, 1, 10050))
    add("asymptotic, identical (n 10001 vs 10001)", np.arange(10001.0), np.arange(10001.0))

    # kstwo survival function over every branch scipy takes.
    kstwo = []
    for n in [5, 40, 100, 140, 141, 750, 5000, 60000, 100001, 500000]:
        for x in [0.6 / n, 0.9 / n, 1.5 / n, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1 - 1.2 / n, 0.002, 0.004, 0.01]:
            if 0 < x < 1:
                kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})

    categorical = []

    def add_cat(name, ref, cur):
        ref = [None if v is None else str(v) for v in ref]
        cur = [None if v is None else str(v) for v in cur]
        categorical.append({"name": name, "reference": ref, "current": cur, "expected": categorical_expected(ref, cur)})

    cats = ["ORD", "ATL", "DFW", "LAX", "DEN"]
    add_cat("five categories, mild shift", list(rng.choice(cats, 400, p=[0.3, 0.25, 0.2, 0.15, 0.1])), list(rng.choice(cats, 300, p=[0.25, 0.25, 0.2, 0.2, 0.1])))
    add_cat("unseen category in current (counted)", list(rng.choice(cats[:4], 300)), list(rng.choice(cats, 250)))
    add_cat("category missing from current (empty there)", list(rng.choice(cats, 300)), list(rng.choice(cats[:3], 200)))
    ref_missing = [str(v) for v in rng.choice(cats[:3], 200)]
    for i in rng.choice(200, 25, replace=False):
        ref_missing[i] = None
    cur_missing = [str(v) for v in rng.choice(cats[:3], 150)]
    for i in rng.choice(150, 40, replace=False):
        cur_missing[i] = None
    add_cat("missing values in both", ref_missing, cur_missing)
    add_cat("binary, shifted share", list(rng.choice(["yes", "no"], 500, p=[0.3, 0.7])), list(rng.choice(["yes", "no"], 400, p=[0.4, 0.6])))
    add_cat("binary, same share", ["a"] * 60 + ["b"] * 40, ["a"] * 30 + ["b"] * 20)
    add_cat("single category in both", ["x"] * 50, ["x"] * 70)
    add_cat("strong shift, tiny p-value", list(rng.choice(cats, 3000, p=[0.5, 0.2, 0.1, 0.1, 0.1])), list(rng.choice(cats, 3000, p=[0.1, 0.1, 0.1, 0.2, 0.5])))
    # A harmless shift at production size (effect-size mode): a mean shift of 0.08 standard deviations over 15,000 rows
    # a side — KS finds it (p far below 0.05) while the normed Wasserstein distance stays under its 0.1 threshold. Its
    # own generator, so the cases above keep their numbers. Four decimals keep the file small.
    big = np.random.default_rng(20261130)
    ref_big = np.round(big.normal(0, 1, 15000), 4)
    cur_big = np.round(big.normal(0.08, 1, 15000), 4)
    effect_size = {
        "name": "harmless shift at production size (0.08 sd, 15,000 rows a side)",
        "reference": ref_big.tolist(),
        "current": cur_big.tolist(),
        "expected": numeric_expected(ref_big, cur_big),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
        "numeric": numeric,
        "kstwo": kstwo,
        "categorical": categorical,
        "effectSize": effect_size,
    }) + "\n")
    print(f"wrote {OUT} ({len(numeric)} numeric, {len(kstwo)} kstwo, {len(categorical)} categorical cases)")


if __name__ == "__main__":
    main()
