#!/usr/bin/env bash
# The tinyshakespeare experiment of the entropy-model and BLT issues, end to end:
#   1. entropy-tiny trained for at most ENTROPY_MIN minutes (last 10% held out)
#   2. the patch figure of a held-out paragraph at the threshold giving a mean patch of 4.5 bytes
#   3. blt-tiny trained for BLT_MIN minutes on those patches
#   4. the byte-transformer baseline trained for the same wall time, and for the same training FLOPs
#   5. held-out evaluation of all three, a generated sample, and results/<date>-<host>-tinyshakespeare/
# A stage whose run folder already has a checkpoint is reused (delete the folder to redo it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DATA=${DATA:-../shared/data/tinyshakespeare.txt}
RUNS=${RUNS:-runs/tinyshakespeare}
ENTROPY_MIN=${ENTROPY_MIN:-15}
BLT_MIN=${BLT_MIN:-20}
RESULTS=${RESULTS:-results/$(date +%F)-$(hostname)-tinyshakespeare}
BLT=${BLT:-./blt}
mkdir -p "$RUNS" "$RESULTS"
[ -f "$DATA" ] || { echo "data not found: $DATA" >&2; exit 1; }
note() { echo "== $*"; echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg): $*" >> "$RESULTS/timeline.txt"; }

if [ ! -f "$RUNS/entropy/latest" ]; then
  note "entropy-tiny, at most $ENTROPY_MIN min"
  $BLT train-entropy --data "$DATA" -o "$RUNS/entropy" --steps 700 --minutes "$ENTROPY_MIN" --batch 8 --seq-len 512 \
    --lr 3e-3 --warmup 50 --eval-every 100 --eval-batches 0 --checkpoint-every 50 --log-every 25 | tee "$RESULTS/entropy-train.log"
fi
cp "$RUNS/entropy/loss.png" "$RESULTS/entropy-loss.png" 2>/dev/null || true

note "patch figure of a held-out paragraph"
$BLT patch "$DATA" --offset 1050353 --show 500 -c "$RUNS/entropy" --target-patch-size 4.5 --sample 100000 \
  --html "$RESULTS/patches-held-out.html" --png "$RESULTS/patches-held-out.png" > "$RESULTS/patches-held-out.txt"

# BLT and the same-wall-time baseline run side by side, so both see the same machine load.
note "blt-tiny and byte-transformer side by side, $BLT_MIN min each"
if [ ! -f "$RUNS/blt/latest" ]; then
  $BLT train --model blt-tiny -e "$RUNS/entropy" --data "$DATA" -o "$RUNS/blt" --target-patch-size 4.5 --steps 300 \
    --minutes "$BLT_MIN" --batch 4 --seq-len 1024 --lr 2e-3 --warmup 30 --eval-every 100 --eval-batches 10 \
    --checkpoint-every 25 --log-every 10 > "$RESULTS/blt-train.log" 2>&1 &
fi
if [ ! -f "$RUNS/bt-time/latest" ]; then
  $BLT train --model byte-transformer --data "$DATA" -o "$RUNS/bt-time" --steps 300 --minutes "$BLT_MIN" --batch 4 \
    --seq-len 1024 --lr 2e-3 --warmup 30 --eval-every 100 --eval-batches 10 --checkpoint-every 25 --log-every 10 \
    > "$RESULTS/bt-time-train.log" 2>&1 &
fi
wait
flops=$(grep -o '[0-9.e+]* training FLOPs' "$RESULTS/blt-train.log" | tail -1 | cut -d' ' -f1)
if [ ! -f "$RUNS/bt-flops/latest" ] && [ -n "$flops" ]; then
  note "byte-transformer, same training FLOPs ($flops)"
  $BLT train --model byte-transformer --data "$DATA" -o "$RUNS/bt-flops" --steps 300 --max-train-flops "$flops" --batch 4 \
    --seq-len 1024 --lr 2e-3 --warmup 30 --eval-every 100 --eval-batches 10 --checkpoint-every 25 --log-every 10 \
    | tee "$RESULTS/bt-flops-train.log"
fi

note "evaluation"
for run in blt bt-time bt-flops; do
  [ -f "$RUNS/$run/latest" ] && $BLT eval -c "$RUNS/$run" --data "$DATA" --seq-len 1024 --max-rows 40 | tee "$RESULTS/eval-$run.txt"
done
$BLT generate -c "$RUNS/blt" -p "ROMEO:" -n 300 -t 0.7 --seed 3 > "$RESULTS/sample-blt.txt" 2>&1
note "done"
