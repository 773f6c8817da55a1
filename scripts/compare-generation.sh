#!/usr/bin/env bash
# Plain against self-speculative greedy generation on one checkpoint, side by side in one run:
#   scripts/compare-generation.sh RUN OUT_DIR [bytes] [backend] [rounds]
# Each round runs `blt generate` once per mode (plain, --speculate 2, 4, 8) on the same prompt; every run is its own
# JVM, so JIT warm-up is inside the numbers (use enough bytes). Writes OUT_DIR/generation.csv and generation.md.
set -euo pipefail
run=$1; out=$2; bytes=${3:-2000}; backend=${4:-cpu}; rounds=${5:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
prompt=${PROMPT:-"KING RICHARD III:
Now is the winter of our discontent
Made glorious summer by this sun of York;"}
mkdir -p "$out"
csv="$out/generation.csv"
echo "round,mode,backend,load1,bytes,seconds,bytes_per_s,patches,drafted,accepted_pct,same_as_plain" > "$csv"
for r in $(seq 1 "$rounds"); do
  plain_text=""
  for k in 0 2 4 8; do
    mode=plain; flags=()
    if [ "$k" -gt 0 ]; then mode="speculate-$k"; flags=(--speculate "$k"); fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    text=$("$root/blt" generate -c "$run" -b "$backend" -p "$prompt" -n "$bytes" --ignore-eos "${flags[@]}" 2> "$out/stderr.txt")
    line=$(grep 'bytes in' "$out/stderr.txt")
    [ "$k" -eq 0 ] && plain_text=$text
    same=$([ "$text" = "$plain_text" ] && echo yes || echo no)
    python3 - "$line" "$r" "$mode" "$backend" "$load" "$same" >> "$csv" <<'PY'
import re, sys
line, rnd, mode, backend, load, same = sys.argv[1:]
m = re.search(r"(\d+) bytes in ([0-9.]+) s: ([0-9.]+) bytes/s; (\d+) patches", line)
d = re.search(r"(\d+) bytes drafted, (\d+)% accepted", line)
print(",".join([rnd, mode, backend, load, m[1], m[2], m[3], m[4], d[1] if d else "0", d[2] if d else "", same]))
PY
    echo "round $r $mode: $line"
  done
done
python3 - "$csv" > "$out/generation.md" <<'PY'
import csv, sys, statistics
rows = list(csv.DictReader(open(sys.argv[1])))
modes = []
for r in rows:
    if r["mode"] not in modes:
        modes.append(r["mode"])
plain = statistics.mean(float(r["bytes_per_s"]) for r in rows if r["mode"] == "plain")
print("| mode | bytes/s (per round) | vs plain | drafted bytes accepted | output = plain greedy |")
print("|---|---|---|---|---|")
for m in modes:
    rs = [r for r in rows if r["mode"] == m]
    bps = [float(r["bytes_per_s"]) for r in rs]
    acc = ", ".join(r["accepted_pct"] + "%" for r in rs if r["accepted_pct"]) or "—"
    same = "yes" if all(r["same_as_plain"] == "yes" for r in rs) else "NO"
    print("| %s | %s | %.2f | %s | %s |" % (m, ", ".join("{:,.0f}".format(x) for x in bps), statistics.mean(bps) / plain, acc, same))
PY
cat "$out/generation.md"
