#!/usr/bin/env bash
# Runs blt4j on a host without Java (the device machine) from the .gpu-bundle that scripts/gpu-bundle.sh made here:
# unpacks the runtime, points the carried OpenCL loader at the host's vendor driver, then runs `blt devices`,
# `blt bench all --backends opencl` (the quick profile, then the full one in the time left) and, beside it,
# `blt bench peer` on the host's CPUs. Everything lands in $OUT (./gpu-out when unset): gpu-run.log, devices.txt,
# results.tar.gz (each bench's report folder) and, when the OpenCL part could not run, reason.txt.
# Env: BUDGET_S (seconds for all of it, default 520), BENCH_ARGS (more flags for the OpenCL bench), CPU_THREADS
# (threads of the CPU bench, default all; 0 skips it), BLT_OPENCL_ICD (a vendor library to add, e.g. an FPGA's).
# Exit status: 0 when an OpenCL bench completed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=.gpu-bundle
out=${OUT:-$PWD/gpu-out}
budget=${BUDGET_S:-520}
mkdir -p "$out"
exec > >(tee -a "$out/gpu-run.log") 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { echo "gpu-run: $*"; }
fail() { say "$*"; echo "$*" >> "$out/reason.txt"; }
left() { echo $((budget - SECONDS)); }

if [ ! -f "$bundle/runtime.tar.xz" ] || [ ! -f "$bundle/blt4j.jar" ]; then
  fail "no $bundle here: run scripts/gpu-bundle.sh on the build machine and name $bundle in the call's carry"
  exit 1
fi
cat "$bundle/MANIFEST.txt"
say "host: $(uname -m), $(nproc) CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi

# the runtime: xz where the host has it, else Python's tarfile
if command -v xz >/dev/null 2>&1; then
  tar -C "$work" -xJf "$bundle/runtime.tar.xz"
else
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$bundle/runtime.tar.xz" "$work"
fi
java=$work/runtime/bin/java
[ -x "$java" ] || { fail "the runtime did not unpack to $java"; exit 1; }
major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$work/runtime/release")
flags=(--add-modules jdk.incubator.vector -Xmx32g)
if [ "${major:-17}" -ge 22 ]; then
  flags+=(--enable-native-access=ALL-UNNAMED)
fi
blt=("$java" "${flags[@]}" -jar "$bundle/blt4j.jar")

# the loader JOCL opens (the unversioned libOpenCL.so), and a vendors folder of its own: the host's .icd files, the
# NVIDIA library wherever the driver mount put it, and BLT_OPENCL_ICD
mkdir -p "$work/lib" "$work/vendors"
cp "$bundle/opencl/libOpenCL.so.1" "$work/lib/"
ln -s libOpenCL.so.1 "$work/lib/libOpenCL.so"
libs=$work/lib
for f in /etc/OpenCL/vendors/*.icd; do
  [ -f "$f" ] && cp "$f" "$work/vendors/"
done
nv=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
  for f in "$d"/libnvidia-opencl.so.1 "$d"/libnvidia-opencl.so.*; do
    if [ -f "$f" ]; then nv=$f; break 2; fi
  done
done
if [ -z "$nv" ]; then
  nv=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so/ { print $NF; exit }')
fi
if [ -n "$nv" ]; then
  echo "$nv" > "$work/vendors/nvidia-found.icd"
  libs=$libs:$(dirname "$nv")   # its libcuda sits beside it where the driver is a mount outside the linker's cache
fi
if [ -n "${BLT_OPENCL_ICD:-}" ]; then
  echo "$BLT_OPENCL_ICD" > "$work/vendors/extra.icd"
fi
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OCL_ICD_VENDORS=$work/vendors
say "OpenCL vendor libraries: $(cat "$work"/vendors/*.icd 2>/dev/null | tr '\n' ' ')"

status=1
say "blt devices"
timeout 90 "${blt[@]}" devices 2>&1 | tee "$out/devices.txt"
# devices lists every backend and exits 0 either way; an OpenCL device shows as "Device p:d: name"
found=0
if grep -Eq '^ +Device [0-9]+:[0-9]+:' "$out/devices.txt"; then
  found=1
else
  fail "no OpenCL device: $(grep -m1 'OpenCL is not available' "$out/devices.txt" | sed 's/^ *//')"
fi

mkdir -p "$work/results"
bench() {   # bench NAME SECONDS ARGS...: one bench run into results/NAME, cut at SECONDS
  local name=$1 secs=$2
  shift 2
  if [ "$secs" -lt 30 ]; then
    say "skipped (only ${secs}s left): blt bench $*"
    return 1
  fi
  say "blt bench $* (at most ${secs}s)"
  timeout "$secs" "${blt[@]}" bench "$@" --out "$work/results/$name"
}
# the quick profile first, so a number comes back even if the full one runs out of time
if [ "$found" = 1 ]; then
  bench opencl-quick 150 all --quick --backends opencl ${BENCH_ARGS:-} && status=0
  bench opencl-full $(( $(left) - 100 )) all --backends opencl ${BENCH_ARGS:-} && status=0
  [ "$status" = 0 ] || fail "blt bench all --backends opencl did not complete (see gpu-run.log)"
fi
threads=${CPU_THREADS:-$(nproc)}
if [ "$threads" -gt 0 ]; then
  bench cpu-peer $(( $(left) - 10 )) peer --backends cpu --threads "$threads" || say "the CPU bench did not complete"
fi
tar -C "$work" -czf "$out/results.tar.gz" results   # results/{opencl-quick,opencl-full,cpu-peer}/<date>-<host>/
say "done in ${SECONDS}s, status $status; files in $out"
exit $status
