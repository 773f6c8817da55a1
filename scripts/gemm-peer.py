#!/usr/bin/env python3
"""The GEMM peer for `scripts/compare-pytorch.sh`: fp32 C = op(A)·op(B) through numpy's OpenBLAS (threads set with
threadpoolctl) or, with --which torch, torch.matmul (its own BLAS: MKL or oneDNN), at the shapes `blt bench gemm` runs. Each shape is M,N,K[,ta,tb] with t for a transposed operand
(passed to BLAS as a transposed view, never copied). Each shape is warmed up for 1.5 s, then timed in --batches
batches of about 0.3 GFLOP. Prints one tab-separated row per shape and thread count: shape, threads, median GFLOP/s,
best GFLOP/s."""
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
    ap.add_argument("--which", choices=["np", "torch"], default="np")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", type=int, default=7, help="timed batches; each runs about 0.3 GFLOP")
    ap.add_argument("shapes", nargs="+")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    if a.which == "torch":
        import torch
        print(f"# torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, MKL {torch.backends.mkl.is_available()}")
    else:
        blas = [d for d in threadpool_info() if d.get("user_api") == "blas"]
        print(f"# numpy {np.__version__}, BLAS {[(d.get('internal_api'), d.get('version'), d.get('architecture')) for d in blas]}")
    for t in [int(s) for s in a.threads.split(",")]:
        if a.which == "torch":
            torch.set_num_threads(t)
            limits = None
        else:
            limits = threadpool_limits(limits=t, user_api="blas")
        for s in a.shapes:
            p = s.split(",")
            m, n, k = int(p[0]), int(p[1]), int(p[2])
            ta = len(p) > 3 and p[3] == "t"
            tb = len(p) > 4 and p[4] == "t"
            A = operand(rng, m, k, ta)
            B = operand(rng, k, n, tb)
            C = np.empty((m, n), dtype=np.float32)
            if a.which == "torch":
                A, B, C = torch.from_numpy(np.ascontiguousarray(A.T)).T if ta else torch.from_numpy(A), \
                    torch.from_numpy(np.ascontiguousarray(B.T)).T if tb else torch.from_numpy(B), torch.from_numpy(C)
                op = lambda: torch.matmul(A, B, out=C)
            else:
                op = lambda: np.matmul(A, B, out=C)
            flops = 2.0 * m * n * k
            reps = max(1, int(3e8 / flops))
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 1.5:
                op()
            rates = []
            for _ in range(a.batches):
                t0 = time.perf_counter()
                for _ in range(reps):
                    op()
                rates.append(flops * reps / (time.perf_counter() - t0) / 1e9)
            print(f"{s}\t{t}\t{statistics.median(rates):.1f}\t{max(rates):.1f}", flush=True)
        if limits is not None:
            limits.unregister()


if __name__ == "__main__":
    main()
