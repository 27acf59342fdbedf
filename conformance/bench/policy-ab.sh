#!/bin/bash
# Issue 4's policy-overhead proof: one bowline process (bowline-policy.yaml), three routes measured in turn —
# /plain/ (the bench's route: one endpoint), /plain3/ (round robin over three endpoints), /policy/ (least request
# over the same three with Istio's default retry policy) — each round: bowline's CPU per request at a fixed 5000 rps
# (fixedrate, 16 connections, 1 KiB POST, from /proc) and wrk throughput (-c64, 6 s).
# Needs the shared backend on 18080 and two more on 18090/18091:
#   for p in 18090 18091; do PB_DIR=/tmp/pb$p BACKEND_PORT=$p BACKEND_H2_PORT=$((p+10)) \
#     bash ../shared/bench/servers.sh start backend; done
# FIXEDRATE points at the fixedrate binary (../shared/bench/setup.sh builds it); JOPTS adds JVM flags.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
FIXEDRATE="${FIXEDRATE:-${TMPDIR:-/tmp}/proxybench/bin/fixedrate}"
log="${TMPDIR:-/tmp}/bowline-policy-ab.log"
BOWLINE_JVM_OPTS="${JOPTS:-}" bin/bowline -c conformance/bench/bowline-policy.yaml --concurrency 1 >"$log" 2>&1 &
sleep 5
P=$(pgrep -f "bowline.jar -c conformance/bench/bowline-policy.yaml" | head -1)
cpu() { awk '{print $14+$15}' /proc/$P/stat; }
# warm both paths
wrk -t1 -c64 -d10s http://127.0.0.1:18200/plain/w >/dev/null; wrk -t1 -c64 -d10s http://127.0.0.1:18200/policy/w >/dev/null; wrk -t1 -c64 -d10s http://127.0.0.1:18200/plain3/w >/dev/null
for round in 1 2 3 4 5; do
  for path in plain plain3 policy; do
    c0=$(cpu); out=$("$FIXEDRATE" -p 18200 -u /$path/r -r 5000 -c 16 -d 8 -w 1 -b 1024 2>&1); c1=$(cpu)
    res=$(echo "$out" | grep '^RESULT'); 
    t=$(wrk -t1 -c64 -d6s http://127.0.0.1:18200/$path/t | awk '/Requests\/sec/{print int($2)}')
    echo "$round $path cpu_ticks=$((c1-c0)) wrk=$t $res"
  done
done
kill $P; wait 2>/dev/null
