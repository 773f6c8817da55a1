#!/usr/bin/env bash
# Generates many bytes from a trained BLT while sampling the process's resident memory, to show that the local
# caches stay within their windows (memory flat) and what the growing global cache costs (bytes/s over time).
# Usage: scripts/long-generation.sh RUN_DIR OUT_DIR [BYTES=100000] [BACKEND=cpu] [HEAP=1g]
# Writes OUT_DIR/memory.tsv (seconds, RSS MiB, bytes so far), memory.svg (both against time), output.txt, stderr.txt
# and summary.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run=${1:?usage: long-generation.sh RUN_DIR OUT_DIR [BYTES] [BACKEND] [HEAP]}
out=${2:?usage: long-generation.sh RUN_DIR OUT_DIR [BYTES] [BACKEND] [HEAP]}
bytes=${3:-100000}
backend=${4:-cpu}
heap=${5:-1g}
mkdir -p "$out"
"$root/blt" --help >/dev/null # build first, so the samples time generation only
prompt="First Citizen:
Before we proceed any further, hear me speak."
BLT_JAVA_OPTS="-Xmx$heap" "$root/blt" generate -c "$run" -p "$prompt" -n "$bytes" --ignore-eos --backend "$backend" \
  >"$out/output.txt" 2>"$out/stderr.txt" &
launcher=$!
printf 'seconds\trss_mib\tbytes\n' >"$out/memory.tsv"
start=$(date +%s.%N)
while kill -0 "$launcher" 2>/dev/null; do
  pid=$(pgrep -f "blt4j-.*-all.jar generate" | head -1 || true)
  if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    now=$(date +%s.%N)
    size=$(stat -c %s "$out/output.txt")
    awk -v t="$now" -v s="$start" -v r="${rss:-0}" -v b="$size" 'BEGIN { printf "%.1f\t%.1f\t%d\n", t - s, r / 1024, b }' \
      >>"$out/memory.tsv"
  fi
  sleep 2
done
wait "$launcher" || { echo "generation failed:" >&2; tail -n 20 "$out/stderr.txt" >&2; exit 1; }
{
  echo "blt generate -c $run -n $bytes --ignore-eos --backend $backend, heap limit $heap"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; java: $(. "$root/scripts/jdk.sh"; pick_jdk; "$BLT_JAVA" -version 2>&1 | head -1)"
  tail -n 3 "$out/stderr.txt"
  awk -F'\t' 'NR > 1 { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2; n++ }
    END { printf "RSS over %d samples: min %.0f MiB, max %.0f MiB\n", n, min, max }' "$out/memory.tsv"
} >"$out/summary.txt"
# a picture: resident memory and bytes generated against time (SVG, no plotting library needed)
python3 - "$out/memory.tsv" "$out/memory.svg" <<'PY'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()[1:] if l]
t = [float(r[0]) for r in rows]; rss = [float(r[1]) for r in rows]; b = [int(r[2]) for r in rows]
W, H, L, R, T, B = 720, 360, 60, 60, 30, 40
tx = lambda v: L + (W - L - R) * v / max(t[-1], 1e-9)
top = max(rss) * 1.1
ry = lambda v: H - B - (H - T - B) * v / top
by = lambda v: H - B - (H - T - B) * v / max(b[-1] * 1.05, 1)
line = lambda xs, ys: " ".join("%.1f,%.1f" % p for p in zip(xs, ys))
svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
       '<rect width="100%" height="100%" fill="white"/>',
       '<polyline fill="none" stroke="#c0392b" stroke-width="2" points="%s"/>' % line(map(tx, t), map(ry, rss)),
       '<polyline fill="none" stroke="#2e86c1" stroke-width="2" points="%s"/>' % line(map(tx, t), map(by, b)),
       '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, H - B, W - R, H - B),
       '<text x="%d" y="%d" text-anchor="middle">seconds (0 to %.0f)</text>' % ((L + W - R) / 2, H - 10, t[-1]),
       '<text x="5" y="20" fill="#c0392b">resident memory, MiB (0 to %.0f; max %.0f)</text>' % (top, max(rss)),
       '<text x="%d" y="20" fill="#2e86c1" text-anchor="end">bytes generated (0 to %d)</text>' % (W - 5, b[-1]),
       '</svg>']
open(sys.argv[2], "w").write("\n".join(svg))
PY
cat "$out/summary.txt"
