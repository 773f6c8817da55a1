#!/usr/bin/env bash
# JMH kernel benchmarks (src/test/java/blt4j/bench/jmh): builds the test classes and the classpath, then runs
# org.openjdk.jmh.Main with every argument passed through. Examples:
#   scripts/jmh.sh                                   # all of KernelJmh (reference is slow: ~1 s per GFLOP)
#   scripts/jmh.sh KernelJmh -p backend=cpu-1t,cpu-2t -wi 2 -i 3
#   scripts/jmh.sh -l                                # list benchmarks
#   scripts/jmh.sh -h                                # JMH's own options
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/jdk.sh"
pick_jdk
cd "$root"
JAVA_HOME="$BLT_JAVA_HOME" mvn -B -q -DskipTests test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/jmh-classpath.txt -Dmdep.includeScope=test >&2
cp="target/test-classes:target/classes:$(cat target/jmh-classpath.txt)"
# shellcheck disable=SC2086
exec "$BLT_JAVA" $BLT_JVM_FLAGS -cp "$cp" org.openjdk.jmh.Main "$@" 2> >(grep -v "^WARNING: Using incubator modules" >&2)
