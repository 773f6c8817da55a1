#!/usr/bin/env python3
"""The table of `scripts/compare-pytorch.sh`: reads OUT/raw (PyTorch JSONs, blt4j bench CSVs, GEMM TSVs) and writes
OUT/README.md. Models: blt4j's figure per row is the lower of its two runs (the conservative one); the peer's is its
best variant. Matrix products: per round, blt4j over the strongest peer of that round; the median over rounds decides,
and the lowest round is shown beside it. Standard library only."""
import csv
import glob
import json
import os
import statistics
import sys

MODEL_ROWS = [
    ("BLT training step (4 x 1024, patches given)", "blt_train", "peer: blt train step blt-tiny"),
    ("BLT forward (4 x 1024, patches given)", "blt_infer", "peer: blt forward blt-tiny"),
    ("byte-transformer training step (d 256, 4 layers, 4 x 1024)", "baseline_train", "peer: byte-transformer train step"),
    ("byte-transformer forward", "baseline_infer", "peer: byte-transformer forward"),
]
TORCH_RUNS = [("eager", "torch-eager"), ("compiled", "torch-compile"), ("FlexAttention", "torch-flex")]
# per-round peers (files NAME-<round>.tsv), then torch.matmul, run once (NAME.tsv)
GEMM_PEERS = [("OpenBLAS, detected kernel", "np-gemm"), ("OpenBLAS, AVX-512 kernel", "np-gemm-avx512")]
GEMM_ONCE = ("torch.matmul", "torch-gemm")


def fmt(x, digits=0):
    return "-" if x is None else f"{x:,.{digits}f}"


def torch_rates(raw):
    out = {}
    for label, name in TORCH_RUNS:
        path = os.path.join(raw, name + ".json")
        if os.path.exists(path):
            d = json.load(open(path))
            out[label] = {k: d[k]["bytes_per_s"] for _, k, _ in MODEL_ROWS if isinstance(d.get(k), dict)}
            out[label]["_torch"] = d.get("torch")
    return out


def csv_rows(pattern):
    files = sorted(glob.glob(pattern))
    return list(csv.DictReader(open(files[0]))) if files else []


def number(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def blt4j_runs(raw):
    runs = []
    for i in (1, 2):
        rows = csv_rows(os.path.join(raw, f"blt4j-peer-{i}", "*", "model.csv"))
        stages = csv_rows(os.path.join(raw, f"blt4j-peer-{i}", "*", "breakdown.csv"))
        runs.append(({r["workload"]: r for r in rows}, stages))
    return runs


def gemm_tsv(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("#") or not line.strip():
                continue
            shape, threads, med, best = line.split("\t")
            out[(shape, int(threads))] = float(med)
    return out


def gemm_blt4j(raw, i):
    out = {}
    for r in csv_rows(os.path.join(raw, f"blt4j-gemm-{i}", "*", "gemm.csv")):
        if r["backend"].startswith("cpu-"):
            out[(r["shape"], int(r["backend"][4:-1]))] = float(r["median_gflops"])
    return out


def gemm_rounds(raw):
    """[(blt4j, {peer label: rates}), ...] for rounds 1, 2, ... while a round has blt4j's output."""
    rounds = []
    while True:
        i = len(rounds) + 1
        mine = gemm_blt4j(raw, i)
        if not mine:
            return rounds
        rounds.append((mine, {label: gemm_tsv(os.path.join(raw, f"{name}-{i}.tsv")) for label, name in GEMM_PEERS}))


def median(xs):
    xs = [x for x in xs if x]
    return statistics.median(xs) if xs else None


def main():
    out = sys.argv[1]
    raw = os.path.join(out, "raw")
    machine = open(os.path.join(raw, "machine.txt")).read().strip().splitlines()
    md = ["# blt4j beside PyTorch on one CPU", "", "Made by `scripts/compare-pytorch.sh`; raw outputs in `raw/`.", ""]
    md += ["- " + line for line in machine]
    torch = torch_rates(raw)
    runs = blt4j_runs(raw)
    md += ["", "## Models: bytes/s (medians)", "",
           "PyTorch runs the reference BLT code (`../shared/tools/pytorch-anchor`); blt4j runs `blt bench peer`, twice, "
           "and the lower run is the one compared. Goal: 2.0x the best PyTorch variant.", "",
           "| workload | " + " | ".join("torch " + l for l, _ in TORCH_RUNS) + " | best torch | blt4j run 1 | blt4j run 2 "
           "| blt4j / best torch | goal 2x |", "|---|" + "---:|" * (len(TORCH_RUNS) + 4) + "---|"]
    for title, tkey, bkey in MODEL_ROWS:
        trates = [torch.get(l, {}).get(tkey) for l, _ in TORCH_RUNS]
        best = max([x for x in trates if x], default=None)
        b = [number(r.get(bkey, {}).get("bytes_per_s")) for r, _ in runs]
        low = min([x for x in b if x], default=None)
        ratio = low / best if low and best else None
        md.append(f"| {title} | " + " | ".join(fmt(x) for x in trates) + f" | {fmt(best)} | {fmt(b[0])} | {fmt(b[1])} | "
                  f"{fmt(ratio, 2)} | {'met' if ratio and ratio >= 2.0 else 'not met'} |")
    md += ["", "## Training steps: counted FLOPs over the measured peak", "",
           "| workload | run | GFLOP/s | measured peak GFLOP/s | MFU |", "|---|---|---:|---:|---:|"]
    for i, (rows, _) in enumerate(runs, 1):
        peak = number(rows.get("peak fp32 FMA", {}).get("gflops"))
        for title, _, bkey in MODEL_ROWS:
            r = rows.get(bkey)
            if r:
                mfu = number(r.get("mfu"))
                md.append(f"| {title} | {i} | {fmt(number(r.get('gflops')), 1)} | {fmt(peak, 1)} | "
                          f"{'-' if mfu is None else f'{100 * mfu:.1f}%'} |")
    rounds = gemm_rounds(raw)
    once = gemm_tsv(os.path.join(raw, GEMM_ONCE[1] + ".tsv"))
    keys = list(rounds[0][0].keys()) if rounds else []
    labels = [l for l, _ in GEMM_PEERS] + [GEMM_ONCE[0]]
    md += ["", "## Matrix products: GFLOP/s (medians)", "",
           f"C = op(A)·op(B), shape M,N,K[,ta,tb]; {len(rounds)} rounds, each of `scripts/gemm-peer.py` (OpenBLAS, both "
           "kernels) and `blt bench gemm` run within minutes of each other; torch.matmul once. Rates are medians over the "
           "rounds. The ratio is taken per round, blt4j over that round's strongest peer; its median over the rounds "
           "decides (goal 95%), and the lowest round is shown beside it.", "",
           "| shape | threads | " + " | ".join(labels) + " | blt4j | blt4j / strongest (median of rounds) | lowest round "
           "| goal 95% |", "|---|---:|" + "---:|" * (len(labels) + 3) + "---|"]
    for key in sorted(keys, key=lambda k: (k[1], keys.index(k))):
        ratios = []
        for mine, peers in rounds:
            best = max([x for x in [peers[l].get(key) for l, _ in GEMM_PEERS] + [once.get(key)] if x], default=None)
            if mine.get(key) and best:
                ratios.append(mine[key] / best)
        p = [median([peers[l].get(key) for _, peers in rounds]) for l, _ in GEMM_PEERS] + [once.get(key)]
        b = median([mine.get(key) for mine, _ in rounds])
        ratio = median(ratios)
        md.append(f"| {key[0]} | {key[1]} | " + " | ".join(fmt(x, 1) for x in p) + f" | {fmt(b, 1)} | {fmt(ratio, 2)} | "
                  f"{fmt(min(ratios) if ratios else None, 2)} | {'met' if ratio and ratio >= 0.95 else 'not met'} |")
    stages = runs[-1][1]
    if stages:
        md += ["", "## Per-stage breakdown (blt4j run 2)", "", "| workload | stage | ms per rep | share | GFLOP/s |",
               "|---|---|---:|---:|---:|"]
        for r in stages:
            md.append(f"| {r['workload']} | {r['stage']} | {fmt(number(r['ms_per_rep']), 1)} | "
                      f"{100 * number(r['share']):.0f}% | {fmt(number(r['gflops']), 1)} |")
    log = os.path.join(raw, "segments.log")
    if os.path.exists(log):
        md += ["", "## Segments (load average before and after each)", "", "```"] + open(log).read().strip().splitlines() + ["```"]
    open(os.path.join(out, "README.md"), "w").write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
