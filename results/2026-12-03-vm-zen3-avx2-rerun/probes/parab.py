import sys, time, statistics
import numpy as np
from threadpoolctl import threadpool_limits
import os
pairs = int(os.environ.get("PAIRS", "30"))
for shp in sys.argv[1:]:
    s = shp.split(','); m, n, k = map(int, s[:3]); ta = len(s) > 3 and s[3] == 't'; tb = len(s) > 4 and s[4] == 't'
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32); a = a.T if ta else a
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32); b = b.T if tb else b
    fl = 2.0 * m * n * k; reps = max(1, int(3e8 / fl))
    def run(th):
        with threadpool_limits(th):
            t0 = time.perf_counter()
            for _ in range(reps): np.matmul(a, b)
            return time.perf_counter() - t0
    for _ in range(3): run(1); run(2)
    r1, r2, ratio = [], [], []
    for p in range(pairs):
        order = (1, 2) if p % 2 == 0 else (2, 1)
        t = {}
        for th in order: t[th] = run(th)
        r1.append(fl * reps / t[1] / 1e9); r2.append(fl * reps / t[2] / 1e9); ratio.append(t[1] / t[2])
    q = statistics.quantiles(ratio, n=4)
    print(f"{shp:22s} 1T median {statistics.median(r1):6.1f}  2T median {statistics.median(r2):6.1f}  2T/1T speed-up median {statistics.median(ratio):.2f} (q1 {q[0]:.2f}, q3 {q[2]:.2f})")
