# Sourced by the scripts: picks the JDK (Temurin 25 when installed: its Vector API is ~35% faster; else the
# default java) and the JVM flags blt4j needs. Sets BLT_JAVA, BLT_JAVA_HOME and BLT_JVM_FLAGS.
pick_jdk() {
  local cand
  if [ -n "${BLT_JAVA_HOME:-}" ] && [ -x "$BLT_JAVA_HOME/bin/java" ]; then
    :
  else
    BLT_JAVA_HOME=""
    for cand in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25* /usr/lib/jvm/java-25*; do
      if [ -x "$cand/bin/java" ]; then BLT_JAVA_HOME="$cand"; break; fi
    done
    if [ -z "$BLT_JAVA_HOME" ]; then
      if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
        BLT_JAVA_HOME="$JAVA_HOME"
      elif command -v java >/dev/null 2>&1; then
        BLT_JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
      else
        echo "blt: no Java found; install a JDK 17 or newer (Debian: apt-get install -y openjdk-17-jdk)" >&2
        return 1
      fi
    fi
  fi
  BLT_JAVA="$BLT_JAVA_HOME/bin/java"
  local major
  major=$("$BLT_JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1)
  BLT_JVM_FLAGS="--add-modules jdk.incubator.vector"
  if [ "${major:-17}" -ge 22 ]; then
    BLT_JVM_FLAGS="$BLT_JVM_FLAGS --enable-native-access=ALL-UNNAMED"
  fi
  # BLT_THP=1: transparent huge pages for the heap, where the kernel offers them (madvise or always). Off by default:
  # on the 2-vCPU VM they made single products and lone training steps 10-25% faster, but `blt bench peer` slower in
  # three alternating pairs (results/2026-12-02-vm-pytorch/thp-ab)
  if [ "${BLT_THP:-0}" = 1 ] && grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
    BLT_JVM_FLAGS="$BLT_JVM_FLAGS -XX:+UseTransparentHugePages"
  fi
  # Maven's bundled Guava warns about sun.misc.Unsafe on JDK 24+; the warning is Maven's, not ours
  if [ "${major:-17}" -ge 24 ]; then
    export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
  fi
  export BLT_JAVA BLT_JAVA_HOME BLT_JVM_FLAGS
}
