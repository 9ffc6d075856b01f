#!/usr/bin/env bash
# Runs the comparison set on Flink (queries × parallelisms × object reuse), one MiniCluster JVM per run, and appends each JSON line to a results file.
#   bench/flink/run-suite.sh [events=1000000] [out=bench/flink/results/flink-<date>.jsonl]
# Env: QUERIES="q0 q1 ...", PARALLELISMS="1 2", REUSE="false true", BACKEND=hashmap|rocksdb, REPEAT=1, TIMEOUT=300 (s per run).
# Summarise with: npx tsx bench/flink/summarize.ts <out.jsonl>
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
EVENTS="${1:-1000000}"
OUT="${2:-$HERE/results/flink-$(date -u +%Y%m%dT%H%M%SZ).jsonl}"
mkdir -p "$(dirname "$OUT")"
mvn -B -q -f "$HERE/pom.xml" package >&2 || exit 1
for rep in $(seq "${REPEAT:-1}"); do
for q in ${QUERIES:-q0 q1 q2 q5 q7 q8 q11}; do
  for p in ${PARALLELISMS:-1 2}; do
    for reuse in ${REUSE:-false true}; do
      args=(--query "$q" --events "$EVENTS" --parallelism "$p" --checkpoint-interval 10000 --state-backend "${BACKEND:-hashmap}" --object-reuse "$reuse")
      line="$(timeout "${TIMEOUT:-300}" "$HERE/run.sh" "${args[@]}" 2>/dev/null | tail -1)"
      if [[ "$line" != \{* ]]; then
        line="{\"engine\":\"flink\",\"query\":\"$q\",\"events\":$EVENTS,\"parallelism\":$p,\"objectReuse\":$reuse,\"error\":\"no result (timeout ${TIMEOUT:-300}s or failure)\"}"
      fi
      echo "$line" | tee -a "$OUT"
    done
  done
done
done
echo "results: $OUT" >&2
