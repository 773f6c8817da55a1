#!/usr/bin/env bash
# Full backend comparison: ./blt bench all on reference, cpu (1 thread and all cores) and opencl.
#   scripts/compare-backends.sh            full profile (blt-tiny 4 x 1024-byte training steps, 10 reps; ~15-25 min on 2 cores)
#   scripts/compare-backends.sh --quick    smaller sizes, 3 reps: under 2 minutes on 2 cores
# Other arguments go to `blt bench` (e.g. --out DIR, --reps N, --threads 1,4,8, --device-profile NAME).
# opencl is always requested. When this machine has no OpenCL platform (no ICD in /etc/OpenCL/vendors and no
# platform listed by clinfo) it is reported as missing (a row in the CSVs and report) and --skip-missing keeps the
# exit code 0; when a platform exists but the backend fails, the run exits non-zero.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
args=(all --backends reference,cpu,opencl)
have_opencl=0
if compgen -G "/etc/OpenCL/vendors/*.icd" >/dev/null 2>&1; then
  have_opencl=1
elif command -v clinfo >/dev/null 2>&1 && [ "$(clinfo -l 2>/dev/null | grep -c Platform || true)" -gt 0 ]; then
  have_opencl=1
fi
if [ "$have_opencl" = 0 ]; then
  echo "compare-backends: no OpenCL platform found; opencl will be reported as unavailable (--skip-missing)" >&2
  args+=(--skip-missing)
fi
exec "$root/blt" bench "${args[@]}" "$@"
