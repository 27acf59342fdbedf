#!/bin/bash
# Issue 5's overhead proof: one bowline process (bowline-observability.yaml) with the plain route on :18200 and the
# same route with Istio metrics, Envoy stats, a file access log (Istio's format) and OpenTelemetry tracing at 1% on
# :18202, measured in turn over 5 rounds: wrk throughput (-c64, 6 s) and bowline's CPU per request at a fixed
# 5000 rps (fixedrate, 16 connections, 1 KiB POST, from /proc). Needs the shared backend on 18080
# (bash ../shared/bench/servers.sh start backend). FIXEDRATE points at fixedrate; JOPTS adds JVM flags.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
FIXEDRATE="${FIXEDRATE:-${TMPDIR:-/tmp}/proxybench/bin/fixedrate}"
log="${TMPDIR:-/tmp}/bowline-observability-ab.log"
rm -f /tmp/bowline-observability-access.log
BOWLINE_JVM_OPTS="${JOPTS:-}" bin/bowline -c conformance/bench/bowline-observability.yaml --concurrency 1 \
  >"$log" 2>&1 &
sleep 5
P=$(pgrep -f "bowline.jar -c conformance/bench/bowline-observability.yaml" | head -1)
cpu() { awk '{print $14+$15}' /proc/$P/stat; }
for port in 18200 18202; do wrk -t1 -c64 -d10s http://127.0.0.1:$port/w >/dev/null; done # warm both
for round in $(seq "${ROUNDS:-5}"); do
  for port in 18200 18202; do
    c0=$(cpu); out=$("$FIXEDRATE" -p $port -u /r -r 5000 -c 16 -d 8 -w 1 -b 1024 2>&1); c1=$(cpu)
    res=$(echo "$out" | grep '^RESULT')
    t=$(wrk -t1 -c64 -d6s http://127.0.0.1:$port/t | awk '/Requests\/sec/{print int($2)}')
    echo "$round $port cpu_ticks=$((c1-c0)) wrk=$t $res"
  done
done
echo "spans: $(curl -s http://127.0.0.1:18201/stats | grep -E 'tracing.opentelemetry.(spans_sent|spans_dropped|export_failed)' | tr '\n' ' ')"
echo "access log lines: $(wc -l < /tmp/bowline-observability-access.log); dropped: $(curl -s http://127.0.0.1:18201/stats | grep filesystem.write_dropped)"
kill $P; wait 2>/dev/null
rm -f /tmp/bowline-observability-access.log
