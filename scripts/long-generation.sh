#!/usr/bin/env bash
# Generates many bytes from a trained BLT while sampling the process's resident memory, to show that the local
# caches stay within their windows (memory flat) and what the growing global cache costs (bytes/s over time).
# Usage: scripts/long-generation.sh RUN_DIR OUT_DIR [BYTES=100000] [BACKEND=cpu] [HEAP=1g]
# Writes OUT_DIR/memory.tsv (seconds, RSS MiB, bytes so far), OUT_DIR/output.txt, OUT_DIR/stderr.txt, OUT_DIR/summary.txt.
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
cat "$out/summary.txt"
