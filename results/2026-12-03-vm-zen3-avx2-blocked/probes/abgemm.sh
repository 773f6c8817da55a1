#!/bin/bash
cd /work/main
S=$(./blt bench gemm --print-shapes 2>/dev/null)
args=""; for s in $S; do args="$args --shapes $s"; done
for i in 1 2 3; do
  for cb in 0 32768; do
    BLT_JAVA_OPTS="-Xmx8g -Dblt4j.colBlockFloats=$cb" ./blt bench gemm --backends cpu --threads 1,2 $args --out /tmp/abg-$cb-$i > /tmp/abg-$cb-$i.log 2>&1
    echo "done $cb $i $(date +%T)"
  done
done
