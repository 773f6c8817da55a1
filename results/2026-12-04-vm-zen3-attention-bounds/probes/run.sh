#!/bin/bash
# Re-runs the measurements of ../README.md into raw/ (from the project root, after `mvn -o -DskipTests package`).
# Nothing else may run meanwhile: the load average is recorded before each probe.
set -e
HERE=$(cd "$(dirname "$0")/.." && pwd)
J=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin
JAR=$(ls target/blt4j-*-all.jar | head -1)
BUILD=$(mktemp -d)
$J/javac -nowarn --add-modules jdk.incubator.vector -cp "$JAR" -d "$BUILD" "$HERE"/probes/*.java 2>&1 | grep -v "warning\|^Note" || true
run() {   # name, java properties..., class
  local name=$1; shift
  { echo "== $(date -u +%FT%TZ) $(uptime)"; echo "== $*"
    $J/java --add-modules jdk.incubator.vector -cp "$JAR:$BUILD" "$@" 2>&1 | grep -v "WARNING: Using incubator"; } > "$HERE/raw/$name.txt"
}
./blt bench peak > "$HERE/raw/peak-before.txt" 2>&1
run exp-rate blt4j.compute.ExpBench
run attn-parts-d32-w512 -DD=32 -Dwin=512 -Dreps=300 blt4j.compute.AttnParts
run attn-parts-d64-causal -DD=64 -Dwin=0 -Dreps=300 blt4j.compute.AttnParts
run attn-concurrent-d32-w512 -DD=32 -Dwin=512 -Dpairs=8 AttnConc
run attn-concurrent-d64-causal -DD=64 -Dwin=0 -Dpairs=8 AttnConc
run attn-shape-d32-w512 -DD=32 -Dwin=512 -Dreps=40 AttnShape
run attn-shape-d64-causal -DD=64 -Dwin=0 -Dreps=40 AttnShape
for i in 1 2; do
  run stride-d32-w512-$i -DD=32 -Dwin=512 blt4j.compute.StrideGap
  run stride-d64-causal-$i -DD=64 -Dwin=0 blt4j.compute.StrideGap
done
run profile-blt-train -Dthreads=2 PeerProf
run profile-blt-forward -Dthreads=2 -Dfwd=true PeerProf
run profile-bt-train -Dthreads=2 -Dmodel=bt PeerProf
for i in 1 2; do   # the same shapes in the forward and in the step, alternated
  run shapes-blt-fwd-$i -Dthreads=2 -Dshapes=true -Dfwd=true PeerProf
  run shapes-blt-train-$i -Dthreads=2 -Dshapes=true PeerProf
done
./blt bench peak > "$HERE/raw/peak-after.txt" 2>&1
rm -rf "$BUILD"
