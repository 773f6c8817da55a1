#!/usr/bin/env python3
"""The GEMM peer for `scripts/compare-pytorch.sh`: fp32 C = op(A)·op(B) through numpy's OpenBLAS (threads set with
threadpoolctl), at the shapes `blt bench gemm` runs. Each shape is M,N,K[,ta,tb] with t for a transposed operand
(passed to BLAS as a transposed view, never copied). Prints one tab-separated row per shape and thread count:
shape, threads, median GFLOP/s, best GFLOP/s."""
import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def operand(rng, rows, cols, transposed):
    if transposed:
        return rng.standard_normal((cols, rows), dtype=np.float32).T
    return rng.standard_normal((rows, cols), dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", type=int, default=7, help="timed batches; each runs about 0.3 GFLOP")
    ap.add_argument("shapes", nargs="+")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    blas = [d for d in threadpool_info() if d.get("user_api") == "blas"]
    print(f"# numpy {np.__version__}, BLAS {[(d.get('internal_api'), d.get('version'), d.get('architecture')) for d in blas]}")
    for t in [int(s) for s in a.threads.split(",")]:
        with threadpool_limits(limits=t, user_api="blas"):
            for s in a.shapes:
                p = s.split(",")
                m, n, k = int(p[0]), int(p[1]), int(p[2])
                ta = len(p) > 3 and p[3] == "t"
                tb = len(p) > 4 and p[4] == "t"
                A = operand(rng, m, k, ta)
                B = operand(rng, k, n, tb)
                C = np.empty((m, n), dtype=np.float32)
                flops = 2.0 * m * n * k
                reps = max(1, int(3e8 / flops))
                for _ in range(3 * reps + 3):
                    np.matmul(A, B, out=C)
                rates = []
                for _ in range(a.batches):
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        np.matmul(A, B, out=C)
                    rates.append(flops * reps / (time.perf_counter() - t0) / 1e9)
                print(f"{s}\t{t}\t{statistics.median(rates):.1f}\t{max(rates):.1f}", flush=True)


if __name__ == "__main__":
    main()
