"""numpy/scipy side of bench/drift.ts: the same four tests on the same .npy files, with the same bins.

Usage: python bench/drift_peer.py reference.npy current.npy repetitions psi_bins js_bins [warmup]
Prints one JSON line: {"timings"/"cpu": {test: {medianMs, minMs, maxMs, runsMs}}, "values": {test: [[...] per feature]}, "versions": {...}}.
The definitions are those of scripts/make-drift-fixtures.py, which the TypeScript statistics are tested against.
"""

import json
import sys
import time

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

PSI_ZERO = 1e-4


def psi_from_counts(r, c):
    r = r / r.sum()
    c = c / c.sum()
    r = np.where(r == 0, PSI_ZERO, r)
    c = np.where(c == 0, PSI_ZERO, c)
    return float(np.sum((r - c) * np.log(r / c)))


def drop_nan(a):
    return a[~np.isnan(a)]


def ks(ref, cur, psi_bins, js_bins):
    r = stats.ks_2samp(drop_nan(ref), drop_nan(cur))
    return [float(r.statistic), float(r.pvalue)]


def psi(ref, cur, psi_bins, js_bins):
    ref, cur = drop_nan(ref), drop_nan(cur)
    cuts = np.unique(np.quantile(ref, np.arange(1, psi_bins) / psi_bins))
    r_counts = np.bincount(np.searchsorted(cuts, ref, side="right"), minlength=len(cuts) + 1).astype(float)
    c_counts = np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=len(cuts) + 1).astype(float)
    return [psi_from_counts(r_counts, c_counts)]


def wasserstein(ref, cur, psi_bins, js_bins):
    ref, cur = drop_nan(ref), drop_nan(cur)
    return [float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001))]


def jensenshannon(ref, cur, psi_bins, js_bins):
    ref, cur = drop_nan(ref), drop_nan(cur)
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=js_bins)
    return [float(distance.jensenshannon(np.histogram(ref, edges)[0].astype(float), np.histogram(cur, edges)[0].astype(float)))]


TESTS = {"ks": ks, "psi": psi, "wasserstein": wasserstein, "jensenshannon": jensenshannon}


def main():
    ref_file, cur_file, reps, psi_bins, js_bins = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    ref = np.load(ref_file)
    cur = np.load(cur_file)
    timings, cpu, values = {}, {}, {}
    for name, test in TESTS.items():
        runs, cpu_runs = [], []
        for rep in range(1 - warmup, reps + 1):
            c0 = time.process_time()
            t0 = time.perf_counter()
            out = [test(ref[j], cur[j], psi_bins, js_bins) for j in range(ref.shape[0])]
            ms = (time.perf_counter() - t0) * 1000
            cpu_ms = (time.process_time() - c0) * 1000
            if rep > 0:
                runs.append(ms)
                cpu_runs.append(cpu_ms)
            values[name] = out
        timings[name] = summary(runs)
        cpu[name] = summary(cpu_runs)
    versions = {"numpy": np.__version__, "scipy": scipy.__version__, "python": sys.version.split()[0]}
    print(json.dumps({"timings": timings, "cpu": cpu, "values": values, "versions": versions}))


def summary(runs):
    s = sorted(runs)
    mid = len(s) // 2
    median = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
    return {"medianMs": round(median, 1), "minMs": round(s[0], 1), "maxMs": round(s[-1], 1), "runsMs": [round(x, 1) for x in runs]}


if __name__ == "__main__":
    main()
