#!/usr/bin/env bash
# Load time, memory and speed of a full-size model folder (a released checkpoint, or one made by `blt init`):
# for each cpu thread count, evicts the folder's weight files from the page cache (cold) and runs `blt bench generation`
# once without warm-up (load time, first bytes), then again with the page cache warm, one warm-up and two measured
# rounds (the speed to quote). Peak RSS is sampled every second, split into anonymous and file-backed pages.
# Usage: [BENCH_FLAGS=...] scripts/released-model.sh MODEL_DIR OUT_DIR [BYTES=32] [HEAP=16g] [THREADS="1 2"] [BACKENDS=cpu]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:?usage: released-model.sh MODEL_DIR OUT_DIR [BYTES] [HEAP] [THREADS] [BACKENDS]}
out=${2:?usage: released-model.sh MODEL_DIR OUT_DIR [BYTES] [HEAP] [THREADS] [BACKENDS]}
bytes=${3:-32}
heap=${4:-16g}
threads=${5:-1 2}
backends=${6:-cpu}
extra=${BENCH_FLAGS:-} # e.g. BENCH_FLAGS="--target-patch-size 4.5" for random weights
mkdir -p "$out"
"$root/blt" --help >/dev/null # build first
evict() { # drop the weight files' clean pages from the page cache (posix_fadvise DONTNEED; no root needed)
  find "$model" -name '*.safetensors' -o -name '*.pth' | python3 -c '
import os, sys
for p in sys.stdin.read().split():
    fd = os.open(p, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)'
}
{
  echo "model: $model"; "$root/blt" inspect "$model"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  grep -E 'MemTotal|MemAvailable' /proc/meminfo
} >"$out/machine.txt"
for t in $threads; do
  for cache in cold warm; do
    [ "$cache" = cold ] && evict
    echo "== threads $t, page cache $cache, load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/log.txt"
    BLT_JAVA_OPTS="-Xmx$heap" /usr/bin/time -v "$root/blt" bench generation -c "$model" --backends "$backends" $extra \
      --threads "$t" $([ "$cache" = cold ] && echo "--bytes 16 --reps 1 --warmups 0" || echo "--bytes $bytes --reps 2 --warmups 1") \
      --out "$out/bench-t$t-$cache" \
      >"$out/bench-t$t-$cache.txt" 2>"$out/time-t$t-$cache.txt" &
    run=$!
    # peak resident memory split into anonymous (heap, JVM) and file-backed (mapped weights, page cache) pages
    printf 'rss_kib\trss_anon_kib\trss_file_kib\n' >"$out/rss-t$t-$cache.tsv"
    while kill -0 "$run" 2>/dev/null; do
      pid=$(pgrep -f "blt4j-.*-all.jar bench generation" | head -1 || true)
      if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
        awk '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {if (r) printf "%d\t%d\t%d\n", r, a, f}' \
          "/proc/$pid/status" >>"$out/rss-t$t-$cache.tsv" 2>/dev/null || true
      fi
      sleep 1
    done
    wait "$run"
    awk 'NR > 1 { if ($1 > r) r = $1; if ($2 > a) a = $2; if ($3 > f) f = $3 }
         END { printf "peak RSS %.2f GiB (anonymous %.2f GiB, file-backed %.2f GiB)\n", r / 1048576, a / 1048576, f / 1048576 }' \
      "$out/rss-t$t-$cache.tsv" | tee -a "$out/log.txt"
    grep -E 'model loaded|Maximum resident' "$out/bench-t$t-$cache.txt" "$out/time-t$t-$cache.txt" | tee -a "$out/log.txt"
  done
done
echo "done: $out"
