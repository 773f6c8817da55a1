#!/usr/bin/env bash
# Before/after model benchmark of two blt4j jars on the same machine, alternating them round by round so both see
# the same conditions: scripts/compare-commits.sh BEFORE.jar AFTER.jar OUT_DIR [rounds] [extra bench flags...]
# Writes OUT_DIR/<label>-<round>/... (the bench's own files), OUT_DIR/summary.csv and OUT_DIR/summary.md.
set -euo pipefail
before=$1; after=$2; out=$3; rounds=${4:-3}; shift $(( $# < 4 ? $# : 4 ))
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/jdk.sh"; pick_jdk
mkdir -p "$out"
echo "round,label,load1,workload,median_ms,bytes_per_s,gflops" > "$out/summary.csv"
for round in $(seq 1 "$rounds"); do
  for label in before after; do
    jar=$before; [ "$label" = after ] && jar=$after
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "=== round $round: $label ($jar, load $load)"
    "$BLT_JAVA" $BLT_JVM_FLAGS -Xmx8g -jar "$jar" bench model --backends cpu --threads 2 --out "$out/$label-$round" "$@" \
      2>&1 | grep -v '^WARNING' | grep -E 'train step|prefill|generate|entropy scoring' || true
    csv=$(ls "$out/$label-$round"/*/model.csv)
    python3 - "$csv" "$round" "$label" "$load" >> "$out/summary.csv" <<'PY'
import csv, sys
path, rnd, label, load = sys.argv[1:]
for r in csv.DictReader(open(path)):
    w = r["workload"]
    if r["status"] == "ok" and any(k in w for k in ("train step", "prefill", "generate", "entropy scoring")):
        print(",".join([rnd, label, load, '"%s"' % w, r["median_ms"], r["bytes_per_s"], r["gflops"]]))
PY
  done
done
python3 - "$out/summary.csv" > "$out/summary.md" <<'PY'
import csv, sys, statistics
rows = list(csv.DictReader(open(sys.argv[1])))
work = []
for r in rows:
    if r["workload"] not in work:
        work.append(r["workload"])
print("| workload | before bytes/s (per round) | after bytes/s (per round) | after / before (mean of rounds) |")
print("|---|---|---|---|")
for w in work:
    b = [float(r["bytes_per_s"]) for r in rows if r["workload"] == w and r["label"] == "before"]
    a = [float(r["bytes_per_s"]) for r in rows if r["workload"] == w and r["label"] == "after"]
    fmt = lambda xs: ", ".join("{:,.0f}".format(x) for x in xs)
    print("| %s | %s | %s | %.3f |" % (w, fmt(b), fmt(a), statistics.mean(a) / statistics.mean(b)))
PY
cat "$out/summary.md"
