#!/bin/bash
# Issue 5's overhead proof: one bowline process (bowline-observability.yaml) with the plain route on :18200 and the
# same route with Istio metrics, Envoy stats, a file access log (Istio's format) and OpenTelemetry tracing at 1% on
# :18202, measured in turn over 5 rounds: wrk throughput (-c64, 6 s) and bowline's CPU per request at a fixed
# 5000 rps (fixedrate, 16 connections, 1 KiB POST, from /proc). Needs the shared backend on 18080
# (bash ../shared/bench/servers.sh start backend). FIXEDRATE points at fixedrate; JOPTS adds JVM flags; ROUNDS (5)
# sets the rounds; WARM (10) the warm-up seconds per route. Ends with the per-round observed/plain ratios' median and range,
# and the ratio of the rounds' sums (every round's requests together: a swing of the machine's speed within a round
# moves one round's ratio by up to ±15 %, the sums much less).
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
# warm both, WARM seconds each (10): the observed route's code is still being deoptimized and recompiled for ~40 s
for port in 18200 18202; do wrk -t1 -c64 -d"${WARM:-10}"s http://127.0.0.1:$port/w >/dev/null; done
rounds="${TMPDIR:-/tmp}/bowline-observability-rounds.txt"
: > "$rounds"
for round in $(seq "${ROUNDS:-5}"); do
  for port in 18200 18202; do
    c0=$(cpu); out=$("$FIXEDRATE" -p $port -u /r -r 5000 -c 16 -d 8 -w 1 -b 1024 2>&1); c1=$(cpu)
    res=$(echo "$out" | grep '^RESULT')
    t=$(wrk -t1 -c64 -d6s http://127.0.0.1:$port/t | awk '/Requests\/sec/{print int($2)}')
    echo "$round $port cpu_ticks=$((c1-c0)) wrk=$t $res" | tee -a "$rounds"
  done
done
# per-round ratios observed/plain, and their median: single rounds swing with this machine's speed
awk 'function sort(a, n,   i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j > 0 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v } }
  {split($3, c, "="); split($4, w, "="); cpu[$1, $2] = c[2]; rps[$1, $2] = w[2]; if ($1 > n) n = $1
   sum[$2] += w[2]; ticks[$2] += c[2]}
  END {
    for (r = 1; r <= n; r++) { t[r] = rps[r, 18202] / rps[r, 18200]; u[r] = cpu[r, 18202] / cpu[r, 18200] }
    sort(t, n); sort(u, n); m = int((n + 1) / 2)
    med_t = n % 2 ? t[m] : (t[m] + t[m + 1]) / 2; med_u = n % 2 ? u[m] : (u[m] + u[m + 1]) / 2
    printf "observed/plain over %d rounds: throughput median %.3f (%.3f-%.3f), all rounds together %.3f; CPU per request at 5000 req/s median %.3f, together %.3f\n",
      n, med_t, t[1], t[n], sum[18202] / sum[18200], med_u, ticks[18202] / ticks[18200]
  }' "$rounds"
rm -f "$rounds"
echo "spans: $(curl -s http://127.0.0.1:18201/stats | grep -E 'tracing.opentelemetry.(spans_sent|spans_dropped|export_failed)' | tr '\n' ' ')"
echo "access log lines: $(wc -l < /tmp/bowline-observability-access.log); dropped: $(curl -s http://127.0.0.1:18201/stats | grep filesystem.write_dropped)"
kill $P; wait 2>/dev/null
rm -f /tmp/bowline-observability-access.log
