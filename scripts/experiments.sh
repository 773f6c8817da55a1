#!/usr/bin/env bash
# The BLT paper's claims at small scale (issue 13): BLT, a BPE model and a byte model at matched training FLOPs;
# patch size against inference cost; noise; other languages. Then `blt experiment-report` writes the tables,
# CSVs and figures.
#
#   scripts/experiments.sh [--mini] [OUT]     OUT defaults to runs/experiments (runs/experiments-mini with --mini)
#
# Resumable: every training run is started with --resume and marked done when it finishes, every evaluation writes
# one JSON file, and a stage whose outputs exist is skipped; kill it at any point and run it again. The jar is
# copied into OUT/bin on the first run, so editing the sources while it runs changes nothing.
# --mini runs every stage on tiny shapes, budgets and data (CI runs it; about a minute on two cores).
# Environment: BLT4J_SHARED (default ../shared), XMX (JVM heap, default 6g), STAGES (a subset of: matched patches
# noise languages vocab seeds hash larger; default all, in that order; the report is always written).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mini=0
if [ "${1:-}" = "--mini" ]; then mini=1; shift; fi
out=${1:-$root/runs/experiments$([ "$mini" = 1 ] && echo -mini || true)}
shared=${BLT4J_SHARED:-$root/../shared}
[ -d "$shared/data" ] || { echo "experiments: shared data not found at $shared/data (set BLT4J_SHARED)" >&2; exit 1; }
mkdir -p "$out"/{bin,data,runs,evals,logs}
out=$(cd "$out" && pwd)

. "$root/scripts/jdk.sh"
pick_jdk
if [ ! -f "$out/bin/blt4j.jar" ]; then
  "$root/blt" --version >/dev/null   # builds the jar when the sources changed
  cp "$root/target/blt4j-0.1.0-all.jar" "$out/bin/blt4j.jar"
  (cd "$root" && git describe --always --dirty 2>/dev/null || echo unknown) > "$out/bin/commit"
fi
blt() {
  # shellcheck disable=SC2086
  "$BLT_JAVA" $BLT_JVM_FLAGS $JVM_EXTRA "-Xmx${XMX:-6g}" -jar "$out/bin/blt4j.jar" "$@" 2> >(grep -v "^WARNING: Using incubator" >&2)
}
note() {
  echo "== $*"
  echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) | $*" >> "$out/timeline.txt"
}

# ---------------------------------------------------------------- scale
JVM_EXTRA=""
if [ "$mini" = 1 ]; then
  JVM_EXTRA="-XX:+UseSerialGC"   # dozens of short JVMs on two cores: no parallel GC threads to start
  BUDGETS=(3e9 9e9 2.7e10); MAIN=9e9
  LOCAL=32; GLOBAL=64; GLOBAL_LAYERS=2; HASH_VOCAB=1009; SEQ=128; BPE_SEQ=32; BATCH=4; EVAL_SEQ=128; BPE_EVAL_SEQ=32
  ENTROPY_STEPS=30; TRAIN_BYTES=25000; TEST_BYTES=4000; NOISE_BYTES=3000; XQUAD_LINES=1; MULTI_LINES=1
  LANGS=(zh); UDHR=(rus); NOISE=(0.03); BPE_VOCABS=(512 1024); SMALL_HASH=257
  PATCHES=("8:96"); PATCHES_FIXED=("3:64"); PATCHES_ISO=("8:88")
else
  BUDGETS=(4e12 1.2e13 3.6e13 1.08e14); MAIN=1.2e13
  LOCAL=64; GLOBAL=256; GLOBAL_LAYERS=4; HASH_VOCAB=50021; SEQ=512; BPE_SEQ=128; BATCH=8; EVAL_SEQ=512; BPE_EVAL_SEQ=128
  ENTROPY_STEPS=600; TRAIN_BYTES=0; TEST_BYTES=262144; NOISE_BYTES=65536; XQUAD_LINES=20; MULTI_LINES=30
  LANGS=(en es de ro tr vi ru el ar hi th zh)
  UDHR=(eng fra deu_1996 spa pol fin tur vie swh yor rus ukr ell_monotonic arb pes_1 urd heb hin ben tam tha cmn_hans jpn kor kat hye amh)
  NOISE=(0.01 0.03 0.1); BPE_VOCABS=(4096 16384); SMALL_HASH=4099
  # three BLT families around the main run (4.5-byte patches, global d 256), at the main training budget:
  # "fixed": the same model at other patch sizes; "iso": global width d = 256 * sqrt(patch / 4.5) (4 heads), so the
  # global model's FLOPs per byte stay about equal; "wide": the global model widened faster (64-dim heads)
  PATCHES=("3:192" "6:320" "8:384"); PATCHES_FIXED=("3:256" "6:256" "8:256"); PATCHES_ISO=("3:208" "6:296" "8:344")
fi
data=$out/data

# ---------------------------------------------------------------- data
# English training text: WikiText-2 raw valid + tinyshakespeare. Test: the first TEST_BYTES of WikiText-2 raw test
# (cut at a line end). Multilingual share: the first MULTI_LINES XQuAD paragraphs of each non-English language; the
# language evaluation uses the last XQUAD_LINES paragraphs (never trained on) and UDHR texts.
prefix() { # file bytes -> the first lines holding at most that many bytes (0 = all)
  if [ "$2" = 0 ]; then cat "$1"; else head -c "$2" "$1" | sed '$d'; fi
}
if [ ! -f "$data/manifest.txt" ]; then
  note "data"
  mkdir -p "$data/xquad" "$data/udhr" "$data/noise"
  { prefix "$shared/data/wikitext2_raw_valid.txt" "$TRAIN_BYTES"; prefix "$shared/data/tinyshakespeare.txt" "$TRAIN_BYTES"; } > "$data/train-en.txt"
  prefix "$shared/data/wikitext2_raw_test.txt" "$TEST_BYTES" > "$data/test.txt"
  cp "$data/train-en.txt" "$data/train-multi.txt"
  for lang in "${LANGS[@]}"; do
    src="$shared/data/xquad_contexts/$lang.txt"
    total=$(wc -l < "$src")
    tail -n "$XQUAD_LINES" "$src" > "$data/xquad/$lang.txt"
    if [ "$lang" != en ]; then head -n "$MULTI_LINES" "$src" >> "$data/train-multi.txt"; fi
    [ "$total" -gt $((XQUAD_LINES + MULTI_LINES)) ] || { echo "xquad $lang too short" >&2; exit 1; }
  done
  for key in "${UDHR[@]}"; do cp "$shared/data/udhr/udhr_$key.txt" "$data/udhr/$key.txt"; done
  prefix "$data/test.txt" "$NOISE_BYTES" > "$data/noise/clean.txt"
  for r in "${NOISE[@]}"; do
    each=$(awk -v r="$r" 'BEGIN { printf "%.6g", r / 5 }')
    blt noise "$data/noise/clean.txt" -o "$data/noise/rate-$r.txt" --delete "$each" --substitute "$each" --swap "$each" \
      --case "$each" --insert "$each" --seed 7 | tee -a "$data/noise/edits.txt"
  done
  (cd "$data" && find . -type f ! -name manifest.txt | sort | xargs sha256sum > manifest.tmp && \
    find . -type f ! -name manifest.tmp ! -name manifest.txt | sort | xargs wc -c >> manifest.tmp && mv manifest.tmp manifest.txt)
fi

# ---------------------------------------------------------------- shapes
# Local models d LOCAL (1 encoder, 1 decoder layer), global model d GLOBAL x GLOBAL_LAYERS: at 4.5-byte patches
# the global model is about three quarters of BLT's forward FLOPs (FlopModel), a real share. The baselines take
# the global model's shape (byte-transformer over bytes, bpe-transformer over BPE tokens).
blt_config() { # file global_dim (64-dim heads when d is a multiple of 64, else 4 heads)
  local heads=$(( $2 % 64 == 0 ? $2 / 64 : 4 ))
  local lheads=$(( LOCAL / 32 > 0 ? LOCAL / 32 : 1 ))
  cat > "$1" <<EOF
{"vocab_size": 260, "dim_local_encoder": $LOCAL, "dim_local_decoder": $LOCAL, "dim_global": $2,
 "n_layers_local_encoder": 1, "n_layers_local_decoder": 1, "n_layers_global": $GLOBAL_LAYERS,
 "n_heads_local_encoder": $lheads, "n_heads_local_decoder": $lheads, "n_heads_global": $heads, "cross_attn_nheads": $lheads,
 "cross_attn_k": 2, "encoder_hash_byte_group_size": [3, 4, 5, 6, 7, 8], "encoder_hash_byte_group_vocab": $HASH_VOCAB,
 "local_attention_window_len": 512, "rope_theta": 500000.0, "multiple_of": 64, "max_encoder_seq_length": 8192,
 "max_seqlen": 2048, "patching_mode": "entropy", "patch_size": 4.5, "patching_threshold": 1.0, "eos_id": 2}
EOF
}
mkdir -p "$out/configs"
blt_config "$out/configs/global-$GLOBAL.json" "$GLOBAL"
for p in "${PATCHES[@]}" "${PATCHES_FIXED[@]}" "${PATCHES_ISO[@]}"; do blt_config "$out/configs/global-${p#*:}.json" "${p#*:}"; done

# ---------------------------------------------------------------- runs
# Every model is evaluated on rows as long as it was trained on (SEQ bytes; BPE_SEQ tokens, about 3.3 bytes each
# with 4096 ids): no position past the trained range.
COMMON=(--batch "$BATCH" --held-out 0 --lr 3e-3 --warmup 50 --checkpoint-every 100 --log-every 20 --resume)
SEED=1234
label() { # run group model budget train [key value]...
  local dir=$out/runs/$1; shift
  mkdir -p "$dir"
  local json="{\"group\": \"$1\", \"model\": \"$2\", \"budget\": $3, \"train\": \"$4\", \"seed\": $SEED"
  json="$json, \"train_bytes\": $(wc -c < "$data/train-$4.txt")"
  shift 4
  while [ $# -gt 1 ]; do json="$json, \"$1\": $2"; shift 2; done
  echo "$json}" > "$dir/experiment.json"
}
train() { # run args...
  local name=$1; shift
  [ -f "$out/runs/$name/.done" ] && return 0
  note "train $name"
  blt "$@" -o "$out/runs/$name" >> "$out/logs/$name.log" 2>&1 || { echo "experiments: $name failed, see $out/logs/$name.log" >&2; tail -5 "$out/logs/$name.log" >&2; exit 1; }
  touch "$out/runs/$name/.done"
}
entropy() { # run data
  label "$1" entropy entropy 0 "$2"
  train "$1" train-entropy --data "$data/train-$2.txt" --steps "$ENTROPY_STEPS" --seq-len "$SEQ" --seed 1234 "${COMMON[@]}"
}
blt_run() { # run budget train target_patch global_dim group [family]
  label "$1" "$6" blt "$2" "$3" target_patch_size "$4" global_dim "$5" family "\"${7:-}\""
  train "$1" train --model blt-tiny --config "$out/configs/global-$5.json" -e "$out/runs/entropy-$3" \
    --data "$data/train-$3.txt" --target-patch-size "$4" --train-flops "$2" --seq-len "$SEQ" --seed "$SEED" "${COMMON[@]}"
}
byte_run() { # run budget train group
  label "$1" "$4" byte-transformer "$2" "$3" global_dim "$GLOBAL"
  train "$1" train --model byte-transformer --config "$out/configs/global-$GLOBAL.json" --data "$data/train-$3.txt" \
    --train-flops "$2" --seq-len "$SEQ" --seed "$SEED" "${COMMON[@]}"
}
bpe_run() { # run budget train vocab group
  label "$1" "$5" bpe-transformer "$2" "$3" bpe_vocab "$4" global_dim "$GLOBAL"
  train "$1" train --model bpe-transformer --config "$out/configs/global-$GLOBAL.json" --data "$data/train-$3.txt" \
    --bpe-vocab "$4" --train-flops "$2" --seq-len "$BPE_SEQ" --seed "$SEED" "${COMMON[@]}"
}
evaluate() { # run data_file tag
  local json=$out/evals/$1@$3.json
  [ -f "$json" ] && return 0
  local seq=$EVAL_SEQ
  grep -q '"bpe-transformer"' "$out/runs/$1/experiment.json" && seq=$BPE_EVAL_SEQ
  blt eval -c "$out/runs/$1" --data "$2" --held-out 1 --seq-len "$seq" --json "$json" >> "$out/logs/eval-$1.log" 2>&1 \
    || { echo "experiments: eval of $1 on $3 failed, see $out/logs/eval-$1.log" >&2; exit 1; }
}
matched() { # budget index
  blt_run "blt-b$2" "$1" en 4.5 "$GLOBAL" matched
  bpe_run "bpe${BPE_VOCABS[0]}-b$2" "$1" en "${BPE_VOCABS[0]}" matched
  byte_run "byte-b$2" "$1" en matched
  for r in "blt-b$2" "bpe${BPE_VOCABS[0]}-b$2" "byte-b$2"; do evaluate "$r" "$data/test.txt" test; done
}
main_runs=("blt-b2" "bpe${BPE_VOCABS[0]}-b2" "byte-b2")

stage_enabled() { [ -z "${STAGES:-}" ] || [[ " $STAGES " == *" $1 "* ]]; }

if stage_enabled matched; then
  entropy entropy-en en
  matched "${BUDGETS[0]}" 1
  matched "${BUDGETS[1]}" 2
fi
if stage_enabled patches; then
  note "patch sizes"
  for p in "${PATCHES[@]}"; do
    size=${p%:*}; dim=${p#*:}
    blt_run "blt-p$size" "$MAIN" en "$size" "$dim" patches wide
    evaluate "blt-p$size" "$data/test.txt" test
  done
  for p in "${PATCHES_FIXED[@]}"; do
    size=${p%:*}; dim=${p#*:}
    blt_run "blt-fixed-p$size" "$MAIN" en "$size" "$dim" patches fixed
    evaluate "blt-fixed-p$size" "$data/test.txt" test
  done
  for p in "${PATCHES_ISO[@]}"; do
    size=${p%:*}; dim=${p#*:}
    blt_run "blt-iso-p$size" "$MAIN" en "$size" "$dim" patches iso
    evaluate "blt-iso-p$size" "$data/test.txt" test
  done
fi
if stage_enabled noise; then
  note "noise"
  for r in "${main_runs[@]}"; do
    evaluate "$r" "$data/noise/clean.txt" noise-0
    for rate in "${NOISE[@]}"; do evaluate "$r" "$data/noise/rate-$rate.txt" "noise-$rate"; done
  done
fi
if stage_enabled languages; then
  note "languages"
  entropy entropy-multi multi
  blt_run blt-multi "$MAIN" multi 4.5 "$GLOBAL" languages
  bpe_run "bpe${BPE_VOCABS[0]}-multi" "$MAIN" multi "${BPE_VOCABS[0]}" languages
  for r in blt-b2 "bpe${BPE_VOCABS[0]}-b2" blt-multi "bpe${BPE_VOCABS[0]}-multi"; do
    for lang in "${LANGS[@]}"; do evaluate "$r" "$data/xquad/$lang.txt" "xquad-$lang"; done
    for key in "${UDHR[@]}"; do evaluate "$r" "$data/udhr/$key.txt" "udhr-$key"; done
  done
fi
if stage_enabled vocab; then
  bpe_run "bpe${BPE_VOCABS[1]}-b2" "$MAIN" en "${BPE_VOCABS[1]}" matched
  evaluate "bpe${BPE_VOCABS[1]}-b2" "$data/test.txt" test
fi
if stage_enabled seeds; then
  # the same three runs at the main budget with another seed (initialisation and batches): the spread says which
  # differences between models are larger than the noise of one run
  SEED=4321
  blt_run blt-b2-s2 "$MAIN" en 4.5 "$GLOBAL" seeds
  bpe_run "bpe${BPE_VOCABS[0]}-b2-s2" "$MAIN" en "${BPE_VOCABS[0]}" seeds
  byte_run byte-b2-s2 "$MAIN" en seeds
  for r in blt-b2-s2 "bpe${BPE_VOCABS[0]}-b2-s2" byte-b2-s2; do evaluate "$r" "$data/test.txt" test; done
  SEED=1234
fi
if stage_enabled hash; then
  # BLT with hash tables of 6 x 4099 rows instead of 6 x 50021 (1.6M instead of 19.2M parameters): whether the
  # tables' capacity to memorize n-grams decides the runs that see the training text several times
  sed "s/\"encoder_hash_byte_group_vocab\": $HASH_VOCAB/\"encoder_hash_byte_group_vocab\": $SMALL_HASH/" \
    "$out/configs/global-$GLOBAL.json" > "$out/configs/global-$GLOBAL-hash$SMALL_HASH.json"
  for i in 1 2 3; do
    name="blt-hash$SMALL_HASH-b$i"
    label "$name" matched blt "${BUDGETS[$((i - 1))]}" en target_patch_size 4.5 global_dim "$GLOBAL" family "\"hash $SMALL_HASH\""
    train "$name" train --model blt-tiny --config "$out/configs/global-$GLOBAL-hash$SMALL_HASH.json" -e "$out/runs/entropy-en" \
      --data "$data/train-en.txt" --target-patch-size 4.5 --train-flops "${BUDGETS[$((i - 1))]}" --seq-len "$SEQ" \
      --seed "$SEED" "${COMMON[@]}"
    evaluate "$name" "$data/test.txt" test
  done
fi
if stage_enabled larger; then
  for ((i = 2; i < ${#BUDGETS[@]}; i++)); do matched "${BUDGETS[$i]}" $((i + 1)); done
fi
note "report"
# the report only reads the folder's JSON files: it runs with the current code, so a better report applies to old runs
"$root/blt" experiment-report "$out" -o "$out/report" > "$out/logs/report.log"
if [ "$mini" = 1 ] && [ -z "${STAGES:-}" ]; then
  # the miniature must have produced every table and figure, from every evaluation
  expected=$(( 3 * 3 + 3 + ${#PATCHES[@]} + ${#PATCHES_FIXED[@]} + ${#PATCHES_ISO[@]} + 3 * (1 + ${#NOISE[@]}) + 4 * (${#LANGS[@]} + ${#UDHR[@]}) + 1 + 3 ))
  found=$(find "$out/evals" -name '*.json' | wc -l)
  [ "$found" = "$expected" ] || { echo "experiments --mini: $found evaluations, expected $expected" >&2; exit 1; }
  for f in matched.png patches.png noise.png languages-xquad.png languages-udhr.png tables.md; do
    [ -s "$out/report/$f" ] || { echo "experiments --mini: report/$f missing" >&2; exit 1; }
  done
  echo "experiments --mini: $found evaluations, every table and figure written"
fi
note "done"
