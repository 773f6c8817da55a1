#!/usr/bin/env bash
# Prepares .gpu-bundle/: what a host without Java needs to run blt4j's OpenCL backend, small enough to travel with the
# working tree to the device machine (64 MiB in all) and run there by scripts/gpu-run.sh.
#   runtime.tar.xz   a jlink image of the picked JDK (Temurin 25 when installed), only the modules the CLI uses
#   blt4j.jar        the shaded CLI jar
#   opencl/          libOpenCL.so.1, the ocl-icd loader (JOCL needs one; the GPU driver ships only its vendor library)
#   MANIFEST.txt     JDK, commit and date
# Usage: scripts/gpu-bundle.sh, then the device call it prints. Needs Maven, and apt-get or an installed ocl-icd.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
pick_jdk
bundle=.gpu-bundle
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "gpu-bundle: building the jar with $BLT_JAVA_HOME" >&2
JAVA_HOME="$BLT_JAVA_HOME" mvn -B -q -DskipTests package >&2
rm -rf "$bundle"
mkdir -p "$bundle/opencl"
cp target/blt4j-0.1.0-all.jar "$bundle/blt4j.jar"

# java.desktop for the PNG charts (headless AWT), java.sql and java.logging for the libraries' imports
# (jdeps --print-module-deps on the shaded jar), jdk.unsupported for Gson's and JOCL's use of sun.misc
modules=java.base,java.desktop,java.logging,java.sql,jdk.incubator.vector,jdk.unsupported
echo "gpu-bundle: jlink ($modules)" >&2
"$BLT_JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --output "$tmp/runtime" 2>&1 | grep -v "Using incubator modules" >&2 || true
[ -x "$tmp/runtime/bin/java" ] || { echo "gpu-bundle: jlink made no runtime" >&2; exit 1; }
# xz over the uncompressed image: 21 MB against 63 MB for jlink's own zip-9 (Temurin 25)
echo "gpu-bundle: compressing the runtime (about a minute)" >&2
tar -C "$tmp" -cJf "$bundle/runtime.tar.xz" runtime

# the loader from Debian's package, else the one installed here
if (cd "$tmp" && apt-get download ocl-icd-libopencl1 >/dev/null 2>&1); then
  dpkg-deb -x "$tmp"/ocl-icd-libopencl1_*.deb "$tmp/ocl"
  lib=$(find "$tmp/ocl" -name 'libOpenCL.so.1*' -type f | head -1)
else
  lib=$(readlink -f /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 2>/dev/null || true)
fi
if [ -z "${lib:-}" ] || [ ! -f "$lib" ]; then
  echo "gpu-bundle: no OpenCL ICD loader: apt-get download ocl-icd-libopencl1 failed and none is installed" >&2
  exit 1
fi
cp "$lib" "$bundle/opencl/libOpenCL.so.1"

{
  echo "jdk: $("$tmp/runtime/bin/java" -version 2>&1 | head -1)"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src pom.xml || echo ' (with uncommitted changes)')"
  echo "built: $(date -u +%FT%TZ) on $(uname -m)"
  echo "opencl loader: $(basename "$lib")"
} > "$bundle/MANIFEST.txt"

# what travels: the tracked and untracked-not-ignored files, plus the bundle named in carry
tree=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
size=$(du -sb "$bundle" | cut -f1)
total=$((tree + size))
awk -v b="$size" -v t="$tree" 'BEGIN { printf "gpu-bundle: bundle %.1f MB + working tree %.1f MB = %.1f MB of the 64 MiB a device call carries\n", b / 1e6, t / 1e6, (b + t) / 1e6 }' >&2
if [ "$total" -gt $((64 * 1024 * 1024)) ]; then
  echo "gpu-bundle: too large to travel" >&2
  exit 1
fi
cat "$bundle/MANIFEST.txt" >&2
echo "gpu-bundle: ready. Device call: command 'scripts/gpu-run.sh', carry [\"$bundle\"], timeout_s 560" >&2
