#!/usr/bin/env bash
# blt4j beside current PyTorch on this CPU, in one run: the BLT and the byte transformer (training step and forward)
# against the reference BLT code on PyTorch (eager, torch.compile, FlexAttention), and the models' matrix products
# against numpy's OpenBLAS (its detected kernel and its AVX-512 kernel) and torch.matmul. Writes OUT/README.md with
# the ratios, the MFU of the training steps and the per-stage breakdown, and keeps every raw output in OUT/raw.
#
#   TORCH_PY=<venv>/bin/python BLT_REF=<facebookresearch/blt checkout> scripts/compare-pytorch.sh [OUT]
#
# The peer is set up once as ../shared/tools/pytorch-anchor/README.md says (neither it nor the checkout is needed by
# the build or CI). OUT defaults to results/<date>-<host>-pytorch. Segments alternate PyTorch and blt4j; each waits
# until the 1-minute load average is below MAX_LOAD (default 0.6) and logs uptime and the FMA peak on 1 and on all
# cores (`blt bench peak`) before and after (OUT/raw/segments.log).
# The models run in MODEL_ROUNDS rounds (default 3) of compiled PyTorch beside blt4j, the matrix products in
# GEMM_ROUNDS rounds (default 3) of OpenBLAS beside blt4j.
# Nothing else may run meanwhile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
anchor=$root/../shared/tools/pytorch-anchor
data=$root/../shared/data
fixture=$root/../shared/fixtures/blt-micro
fail() { echo "compare-pytorch: $*" >&2; exit 2; }
[ -d "$anchor" ] || fail "$anchor is missing (the PyTorch peer's scripts live in ../shared)"
[ -n "${TORCH_PY:-}" ] && [ -x "$TORCH_PY" ] || fail "set TORCH_PY to the python of a torch 2.x venv ($anchor/README.md says how)"
[ -n "${BLT_REF:-}" ] && [ -d "$BLT_REF/bytelatent" ] || fail "set BLT_REF to a checkout of facebookresearch/blt (holding bytelatent/)"
"$TORCH_PY" -c "import torch, numpy, threadpoolctl" 2>/dev/null || fail "$TORCH_PY cannot import torch, numpy and threadpoolctl"
OUT=${1:-$root/results/$(date -u +%F)-$(hostname -s)-pytorch}
raw=$OUT/raw
mkdir -p "$raw"
MAX_LOAD=${MAX_LOAD:-0.6}
log=$raw/segments.log
reps=${REPS:-10}
warm=${WARMUPS:-8}

quiet() {
  local i=0 l1
  while :; do
    l1=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$l1" -v m="$MAX_LOAD" 'BEGIN{exit !(l < m)}' && return
    i=$((i + 1))
    if [ "$i" -gt 90 ]; then echo "load still $l1 after 15 min; running anyway" | tee -a "$log"; return; fi
    sleep 10
  done
}
health() {  # the FMA peak on 1 and on all cores (a second): a VM that lends its vCPUs one core's worth shows here
  (cd "$root" && ./blt bench peak 2>/dev/null) || echo "fma peak: unavailable"
}
segment() {  # name, then the command
  local name=$1; shift
  quiet
  echo "== $(date -u +%FT%TZ) start $name | $(uptime) | $(health)" | tee -a "$log"
  "$@" 2>&1 | grep -v '^W[0-9]' | tee "$raw/$name.log"
  echo "== $(date -u +%FT%TZ) end   $name | $(uptime) | $(health)" | tee -a "$log"
}
torch_bench() {  # label, inductor cache name, extra args (the compiled rounds share one cache: the first compiles cold)
  local label=$1 cache=$2; shift 2
  TORCHINDUCTOR_CACHE_DIR="$raw/inductor-$cache" "$TORCH_PY" "$anchor/bench_anchor_torch2.py" --ref "$BLT_REF" \
    --data "$data" --entropy-fixture "$fixture" --out-json "$raw/$label.json" "$@"
}
blt4j_peer() {
  (cd "$root" && ./blt bench peer --backends cpu --threads 2 --reps "$reps" --warmups "$warm" --out "$raw/$1")
}
shapes=$(cd "$root" && ./blt bench gemm --print-shapes)
blt4j_gemm() {
  (cd "$root" && ./blt bench gemm --backends cpu --threads 1,2 --out "$raw/$1")
}
np_gemm() {  # label, then env assignments
  local label=$1; shift
  # shellcheck disable=SC2086
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@" "$TORCH_PY" "$root/scripts/gemm-peer.py" $shapes > "$raw/$label.tsv"
  cat "$raw/$label.tsv"
}
torch_gemm() {
  # shellcheck disable=SC2086
  "$TORCH_PY" "$root/scripts/gemm-peer.py" --which torch $shapes > "$raw/torch-gemm.tsv"
  cat "$raw/torch-gemm.tsv"
}

(cd "$root" && ./blt --version >/dev/null)   # builds the jar first, untimed
{ echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
  grep -m1 -o 'avx512f' /proc/cpuinfo >/dev/null && echo "avx512: yes" || echo "avx512: no"
  echo "torch: $("$TORCH_PY" -c 'import torch; print(torch.__version__, torch.backends.cpu.get_cpu_capability())')"
  echo "blt4j: $(cd "$root" && git rev-parse --short HEAD)$(cd "$root" && git diff --quiet || echo -dirty)"
  echo "jdk: $(. "$root/scripts/jdk.sh"; pick_jdk; "$BLT_JAVA" -version 2>&1 | head -1)"; } > "$raw/machine.txt"
cat "$raw/machine.txt"

what=blt-train,blt-infer,baseline-train,baseline-infer
rm -rf "$raw"/inductor-*
# the models in MODEL_ROUNDS rounds (default 3) of compiled PyTorch (the fastest variant in every run so far) beside
# blt bench peer, odd rounds peer first; eager and FlexAttention once before them. The report takes each round's ratio
# against the strongest variant, so the machine's drift between rounds is not read as a difference
segment torch-eager torch_bench torch-eager eager --self-attn sdpa --cross-attn sdpa --what "$what"
segment torch-flex torch_bench torch-flex flex --self-attn flex --cross-attn flex --what blt-infer
rounds() {  # count, the peer's round, blt4j's round (each called with the round number); odd rounds start with the peer
  local r
  for r in $(seq 1 "$1"); do
    if [ $((r % 2)) -eq 1 ]; then "$2" "$r"; "$3" "$r"; else "$3" "$r"; "$2" "$r"; fi
  done
}
compiled_round() {
  segment "torch-compile-$1" torch_bench "torch-compile-$1" compile --self-attn sdpa --cross-attn sdpa --compile --what "$what"
}
peer_round() { segment "blt4j-peer-$1" blt4j_peer "blt4j-peer-$1"; }
rounds "${MODEL_ROUNDS:-3}" compiled_round peer_round
# GEMM in rounds: each round runs OpenBLAS (both kernels) and blt4j within a few minutes of each other, and the report
# compares them round by round, so a drift of the machine's speed between rounds (up to 2x on a shared VM) is not
# read as a difference between the two. Odd rounds start with the peer, even rounds with blt4j.
np_round() {
  segment "np-gemm-$1" np_gemm "np-gemm-$1"
  if grep -q avx512f /proc/cpuinfo; then
    segment "np-gemm-avx512-$1" np_gemm "np-gemm-avx512-$1" OPENBLAS_CORETYPE=SkylakeX
  fi
}
gemm_round() { segment "blt4j-gemm-$1" blt4j_gemm "blt4j-gemm-$1"; }
rounds "${GEMM_ROUNDS:-3}" np_round gemm_round
segment torch-gemm torch_gemm
rm -rf "$raw"/inductor-*   # compiled kernels: large, and rebuilt by any rerun
python3 "$root/scripts/compare-pytorch-report.py" "$OUT"
echo "wrote $OUT/README.md"
