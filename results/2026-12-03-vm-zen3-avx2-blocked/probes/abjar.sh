#!/bin/bash
# alternate /tmp/old.jar and /tmp/new.jar: bench gemm on the given shapes, 1 and 2 threads
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
args=""; for s in $SHAPES; do args="$args --shapes $s"; done
for i in $(seq 1 ${PAIRS:-4}); do
  for v in ${ORDER:-old new}; do
    $J --add-modules jdk.incubator.vector -Xmx8g -jar /tmp/$v.jar bench gemm --backends cpu --threads 1,2 $args --out /tmp/abj-$v-$i > /tmp/abj-$v-$i.log 2>&1
    echo "done $v $i $(date +%T)"
  done
done
