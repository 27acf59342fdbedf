#!/bin/bash
# Where one route's requests spend the event loop's time, or what they allocate, beside a plain route in the same
# process: a measure that holds on a machine whose speed swings too much for throughput ratios to resolve a few
# per cent (BENCHMARKS.md). Starts bin/bowline on CONFIG (default bowline-observability.yaml: plain :18200, observed
# :18202) with one worker, warms both routes with wrk, then profiles each route under wrk -c64 in turn with
# async-profiler and prints, per route, the worker thread's time per request (cpu) or bytes allocated per request
# (alloc), and for the second route the largest frames it adds over the first.
#   MODE=cpu|alloc (cpu)  WARM=seconds per warm-up pass (20)  DUR=seconds profiled per route (10)
#   PORTS="18200 18202"  OUT=folder for the collapsed stacks (a new temp folder)  JOPTS=extra JVM flags  TOP=rows (20)
#   ASYNC_PROFILER=path to libasyncProfiler.so; without it, async-profiler 4.1 is fetched from Maven Central.
# Needs the shared backend on 18080 (bash ../shared/bench/servers.sh start backend) and wrk.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
config="${1:-$here/bowline-observability.yaml}"
mode="${MODE:-cpu}"
read -r plain observed <<<"${PORTS:-18200 18202}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bowline-profile.XXXXXX")}"
mkdir -p "$out"

lib="${ASYNC_PROFILER:-}"
if [[ -z "$lib" ]]; then
  cache="${TMPDIR:-/tmp}/bowline-async-profiler-4.1"
  lib="$cache/linux-x64/libasyncProfiler.so"
  if [[ ! -f "$lib" ]]; then
    mkdir -p "$cache"
    mvn -B -q dependency:copy -Dartifact=tools.profiler:async-profiler:4.1 -DoutputDirectory="$cache" >/dev/null
    (cd "$cache" && unzip -q -o async-profiler-4.1.jar 'linux-x64/*')
  fi
fi
java_bin="$(command -v java)"
attach() { "$java_bin" "$here/ProfilerAttach.java" "$pid" "$lib" "$1" >/dev/null; }

# without DebugNonSafepoints an attached profiler charges inlined callees to their caller
BOWLINE_JVM_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints ${JOPTS:-}" "$root/bin/bowline" -c "$config" --concurrency 1 -l warning >"$out/bowline.log" 2>&1 &
launcher=$!
trap 'kill $launcher 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$plain/" && curl -s -o /dev/null "http://127.0.0.1:$observed/" && break
  sleep 0.2
done
pid=$launcher
for port in $plain $observed $plain $observed; do wrk -t1 -c64 -d"${WARM:-20}"s "http://127.0.0.1:$port/w" >/dev/null; done
if [[ "$mode" == alloc ]]; then event="event=alloc,alloc=16k,total"; else event="event=cpu,interval=200us,threads"; fi
: >"$out/requests.txt"
for port in $plain $observed; do
  attach "start,$event,file=$out/$port.collapsed,collapsed"
  n=$(wrk -t1 -c64 -d"${DUR:-10}"s "http://127.0.0.1:$port/p" | awk '/requests in/ {print $1}')
  attach "stop,file=$out/$port.collapsed,collapsed$([[ $mode == alloc ]] && echo ,total)"
  echo "$port $n" >>"$out/requests.txt"
done

python3 - "$out" "$mode" "$plain" "$observed" "${TOP:-20}" <<'PY'
import collections, sys
out, mode, plain, observed = sys.argv[1:5]
requests = {l.split()[0]: int(l.split()[1]) for l in open(f'{out}/requests.txt')}
unit = 'bytes' if mode == 'alloc' else 'µs'
def load(port):
    """per request: the total, and each stack's cost charged to its deepest bowline frame (and allocated class)"""
    scale = (1.0 if mode == 'alloc' else 200e-6 * 1e6) / requests[port]
    total, kernel, sites = 0.0, 0.0, collections.Counter()
    for line in open(f'{out}/{port}.collapsed'):
        stack, n = line.rsplit(' ', 1)
        fr = stack.split(';')
        if mode != 'alloc' and not fr[0].startswith('[bowline-worker'):
            continue
        v = int(n) * scale
        total += v
        kernel += v if fr[-1].endswith('_[k]') else 0
        if fr[-1].endswith('_[k]') and mode != 'alloc':
            continue  # the table shows the code's own time; the kernel's is drift (above)
        own = next((f for f in reversed(fr) if f.startswith('io/bowline/')), '(outside bowline code)')
        sites[own + (' -> ' + fr[-1] if mode == 'alloc' else '')] += v
    return total, kernel, sites
pt, pk, ps = load(plain)
ot, ok, os_ = load(observed)
what = 'allocated' if mode == 'alloc' else "of the worker thread's time"
print(f'{unit} {what} per request: :{plain} {pt:.1f}, :{observed} {ot:.1f} ({ot - pt:+.1f}, {100 * (ot - pt) / pt:+.1f} %)')
if mode != 'alloc':
    # the kernel's share (sockets, wake-ups) drifts with the machine between the two runs; the rest is the code's
    print(f'  in the kernel: {pk:.1f} and {ok:.1f}; outside it: {pt - pk:.1f} and {ot - ok:.1f} ({ot - ok - pt + pk:+.1f})')
print(f'by the deepest bowline frame, :{observed} minus :{plain} ({unit} per request{"" if mode == "alloc" else ", outside the kernel"}):')
for d, f in sorted(((os_[f] - ps.get(f, 0), f) for f in set(os_) | set(ps)), reverse=True)[:int(sys.argv[5])]:
    print(f'  {d:8.2f}  {f}')
print(f'collapsed stacks in {out}')
PY
