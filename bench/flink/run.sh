#!/usr/bin/env bash
# Runs one Flink Nexmark query: builds on first use, then `java -cp` with the Maven-resolved classpath; arguments go to NexmarkBench.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [[ ! -f "$HERE/target/classpath.txt" || ! -d "$HERE/target/classes" ]]; then
  mvn -B -q -f "$HERE/pom.xml" package >&2
fi
exec java ${FLINK_BENCH_JVM_OPTS:--Xms2g -Xmx2g} \
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
  -cp "$HERE/target/classes:$(cat "$HERE/target/classpath.txt")" dev.weir.bench.flink.NexmarkBench "$@"
