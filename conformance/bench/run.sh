#!/usr/bin/env bash
# Benchmark runner: bowline beside nginx and HAProxy in the same run, with ../shared/bench's loads and reporting.
#   conformance/bench/run.sh [--workers "1 2"] [--java /path/to/java] [--transport epoll|io_uring]
#                            [extra peers.sh args, e.g. --quick]
# --transport picks bowline's socket layer (-Dbowline.transport; the bench bootstrap asks for none, so epoll, as Envoy).
# It starts the shared backend, starts bin/bowline with --concurrency N on 127.0.0.1:18200 (h1 and h2c), runs
# peers.sh for that worker count (nginx/HAProxy get the same N), prints the table, and stops what it started.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bench="$(cd "$root/../shared/bench" && pwd)"
workers="1 2"
java_bin=""
transport=""
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --workers) workers=$2; shift 2 ;;
    --java) java_bin=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
[[ -f "$root/modes/launcher/target/bowline.jar" ]] || (cd "$root" && mvn -B -q -DskipTests install)
started_backend=0
cleanup() {
  [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  if ((started_backend)); then bash "$bench/servers.sh" stop backend >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
if bash "$bench/servers.sh" start backend 2>/dev/null; then started_backend=1; fi  # else reuse the running one
for n in $workers; do
  BOWLINE_JAVA="$java_bin" BOWLINE_JVM_OPTS="${BOWLINE_JVM_OPTS:-}${transport:+ -Dbowline.transport=$transport}" \
    "$root/bin/bowline" -c "$here/bowline-bench.yaml" --concurrency "$n" -l warning \
    >"${TMPDIR:-/tmp}/bowline-bench-$n.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18201/ready && break; sleep 0.1; done
  # the JVM's JIT needs traffic before it is measured, as any warm proxy has had — of every kind the runs send,
  # twice over: code first compiled under one load is recompiled when the next load reaches it (measured here: the
  # first HTTP/1.1 run after HTTP/2 warm-up cost 2 s of C2 and ran at half the next one's rate)
  fixedrate="${PB_DIR:-${TMPDIR:-/tmp}/proxybench}/bin/fixedrate"
  for _ in 1 2; do
    wrk -t1 -c32 -d8s http://127.0.0.1:18200/ >/dev/null 2>&1 || true
    [[ -x "$fixedrate" ]] && "$fixedrate" -p 18200 -r 1000 -c 16 -d 4 -w 1 -b 1024 >/dev/null 2>&1 || true
    h2load -c16 -m10 -D8 http://127.0.0.1:18200/ >/dev/null 2>&1 || true
  done
  jpid=$(pgrep -P "$pid" java || echo "$pid")
  bash "$bench/peers.sh" --proxy-port 18200 --proxy-h2-port 18200 --proxy-pid "$jpid" --proxy-name bowline \
    --workers "$n" "${extra[@]}"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
