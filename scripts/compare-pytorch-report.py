#!/usr/bin/env python3
"""The table of `scripts/compare-pytorch.sh`: reads OUT/raw (PyTorch JSONs, blt4j bench CSVs, GEMM TSVs) and writes
OUT/README.md. Both the models and the matrix products were run in rounds, blt4j beside its peer within minutes: per
round, blt4j over the strongest peer (for the models: that round's compiled PyTorch, or eager or FlexAttention, each
run once); the median over rounds decides, and the lowest round is shown beside it. Standard library only."""
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
# PyTorch variants run once (NAME.json), then the one run in rounds (NAME-<round>.json)
TORCH_ONCE = [("eager", "torch-eager"), ("FlexAttention", "torch-flex")]
TORCH_ROUNDS = ("compiled", "torch-compile")
# per-round peers (files NAME-<round>.tsv), then torch.matmul, run once (NAME.tsv)
GEMM_PEERS = [("OpenBLAS, detected kernel", "np-gemm"), ("OpenBLAS, AVX-512 kernel", "np-gemm-avx512")]
GEMM_ONCE = ("torch.matmul", "torch-gemm")


def fmt(x, digits=0):
    return "-" if x is None else f"{x:,.{digits}f}"


def torch_json(path):
    """{model key: bytes/s} of one PyTorch run, {} when the file is missing."""
    if not os.path.exists(path):
        return {}
    d = json.load(open(path))
    return {k: d[k]["bytes_per_s"] for _, k, _ in MODEL_ROWS if isinstance(d.get(k), dict)}


def csv_rows(pattern):
    files = sorted(glob.glob(pattern))
    return list(csv.DictReader(open(files[0]))) if files else []


def number(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def model_rounds(raw):
    """[(blt4j rows by workload, blt4j stages, compiled PyTorch rates), ...] for rounds 1, 2, ... while blt4j ran."""
    rounds = []
    while True:
        i = len(rounds) + 1
        rows = csv_rows(os.path.join(raw, f"blt4j-peer-{i}", "*", "model.csv"))
        if not rows:
            return rounds
        stages = csv_rows(os.path.join(raw, f"blt4j-peer-{i}", "*", "breakdown.csv"))
        rounds.append(({r["workload"]: r for r in rows}, stages,
                       torch_json(os.path.join(raw, f"{TORCH_ROUNDS[1]}-{i}.json"))))


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


def round_ratios(pairs):
    """(median, lowest) of mine / strongest peer over the rounds, given (mine, [peer rates]) per round."""
    ratios = []
    for mine, peers in pairs:
        best = max([x for x in peers if x], default=None)
        if mine and best:
            ratios.append(mine / best)
    return median(ratios), (min(ratios) if ratios else None)


def main():
    out = sys.argv[1]
    raw = os.path.join(out, "raw")
    machine = open(os.path.join(raw, "machine.txt")).read().strip().splitlines()
    md = ["# blt4j beside PyTorch on one CPU", "", "Made by `scripts/compare-pytorch.sh`; raw outputs in `raw/`.", ""]
    md += ["- " + line for line in machine]
    single = {label: torch_json(os.path.join(raw, name + ".json")) for label, name in TORCH_ONCE}
    runs = model_rounds(raw)
    md += ["", "## Models: bytes/s (medians)", "",
           f"PyTorch runs the reference BLT code (`../shared/tools/pytorch-anchor`), blt4j `blt bench peer`, in {len(runs)} "
           "rounds of compiled PyTorch beside blt4j within minutes of each other (odd rounds PyTorch first); eager and "
           "FlexAttention run once. Rates are medians over the rounds. The ratio is taken per round, blt4j over the "
           "strongest PyTorch variant of that round; its median over the rounds decides (goal 2.0x), and the lowest "
           "round is shown beside it.", "",
           "| workload | " + " | ".join("torch " + l for l, _ in TORCH_ONCE) + f" | torch {TORCH_ROUNDS[0]} | blt4j "
           "| blt4j / strongest torch (median of rounds) | lowest round | goal 2x |",
           "|---|" + "---:|" * (len(TORCH_ONCE) + 4) + "---|"]
    for title, tkey, bkey in MODEL_ROWS:
        ratio, lowest = round_ratios([(number(rows.get(bkey, {}).get("bytes_per_s")),
                                       [single[l].get(tkey) for l, _ in TORCH_ONCE] + [compiled.get(tkey)])
                                      for rows, _, compiled in runs])
        md.append(f"| {title} | " + " | ".join(fmt(single[l].get(tkey)) for l, _ in TORCH_ONCE)
                  + f" | {fmt(median([c.get(tkey) for _, _, c in runs]))} "
                  f"| {fmt(median([number(r.get(bkey, {}).get('bytes_per_s')) for r, _, _ in runs]))} | {fmt(ratio, 2)} "
                  f"| {fmt(lowest, 2)} | {'met' if ratio and ratio >= 2.0 else 'not met'} |")
    md += ["", "## Training steps: counted FLOPs over the measured peak", "",
           "| workload | round | GFLOP/s | measured peak GFLOP/s | MFU |", "|---|---|---:|---:|---:|"]
    for i, (rows, _, _) in enumerate(runs, 1):
        peak = number(rows.get("peak fp32 FMA", {}).get("gflops"))
        for title, _, bkey in MODEL_ROWS:
            r = rows.get(bkey)
            if r:
                mfu = number(r.get("mfu"))
                md.append(f"| {title} | {i} | {fmt(number(r.get('gflops')), 1)} | {fmt(peak, 1)} | "
                          f"{'-' if mfu is None else f'{100 * mfu:.1f}%'} |")
    # the rate 2x the strongest PyTorch would take: blt4j's counted FLOPs per byte times twice PyTorch's bytes/s, beside
    # the measured FMA peak (above 100%, no kernel could reach the goal; near it, only matmuls at the peak could)
    md += ["", "## What 2x the strongest PyTorch would take", "",
           "blt4j's counted FLOPs per byte (its GFLOP/s over its bytes/s) times twice the strongest PyTorch's bytes/s, "
           "as a share of the measured FMA peak; medians over the rounds.", "",
           "| workload | counted FLOPs per byte | strongest torch bytes/s | GFLOP/s at 2x | measured peak GFLOP/s "
           "| share of peak at 2x | blt4j now |", "|---|---:|---:|---:|---:|---:|---:|"]
    for title, tkey, bkey in MODEL_ROWS:
        per_byte, need, peaks, now, torch_best = [], [], [], [], []
        for rows, _, compiled in runs:
            r = rows.get(bkey, {})
            rate, bps = number(r.get("gflops")), number(r.get("bytes_per_s"))
            peak = number(rows.get("peak fp32 FMA", {}).get("gflops"))
            best = max([x for x in [single[l].get(tkey) for l, _ in TORCH_ONCE] + [compiled.get(tkey)] if x], default=None)
            if rate and bps and best and peak:
                per_byte.append(rate * 1e9 / bps)
                torch_best.append(best)
                need.append(2 * best * rate / bps)
                peaks.append(peak)
                now.append(rate / peak)
        if need:
            md.append(f"| {title} | {fmt(median(per_byte) / 1e6, 2)} M | "
                      f"{fmt(median(torch_best))} | "
                      f"{fmt(median(need), 1)} | {fmt(median(peaks), 1)} | {100 * median(need) / median(peaks):.0f}% | "
                      f"{100 * median(now):.0f}% |")
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
        ratio, lowest = round_ratios([(mine.get(key), [peers[l].get(key) for l, _ in GEMM_PEERS] + [once.get(key)])
                                      for mine, peers in rounds])
        p = [median([peers[l].get(key) for _, peers in rounds]) for l, _ in GEMM_PEERS] + [once.get(key)]
        b = median([mine.get(key) for mine, _ in rounds])
        md.append(f"| {key[0]} | {key[1]} | " + " | ".join(fmt(x, 1) for x in p) + f" | {fmt(b, 1)} | {fmt(ratio, 2)} | "
                  f"{fmt(lowest, 2)} | {'met' if ratio and ratio >= 0.95 else 'not met'} |")
    stages = runs[-1][1] if runs else []
    if stages:
        md += ["", f"## Per-stage breakdown (blt4j, round {len(runs)})", "", "| workload | stage | ms per rep | share | GFLOP/s |",
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
