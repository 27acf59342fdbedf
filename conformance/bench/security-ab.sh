#!/bin/bash
# Issue 6's security-overhead proof: one bowline process (bowline-security.yaml), measured in turn on
#   plain   (18300) the bench route;
#   secured (18302) the same with jwt_authn (RS256, local JWKS, token on every request) and a 10-policy RBAC;
#   pair    (18320) a plaintext client-sidecar hop and server-sidecar hop in one process, then the backend;
#   mtls    (18310) the same pair over mTLS with SPIFFE certificates checked on both ends.
# Each round: bowline's CPU per request at a fixed 5000 rps (fixedrate, 16 connections, 1 KiB POST, from /proc; the
# token as the access_token query parameter, since fixedrate sends no headers: a copy of ../shared/bench/fixedrate.c
# built here with room for it in its request line) and wrk throughput (-c64, 6 s; the
# token in Authorization: Bearer). Ratios to report: secured/plain and mtls/pair.
# Needs the shared backend on 18080 (bash ../shared/bench/servers.sh start backend) and openssl.
# JOPTS adds JVM flags; ROUNDS (5).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
FIXEDRATE="${TMPDIR:-/tmp}/fixedrate-longurl"
if [ ! -x "$FIXEDRATE" ]; then
  sed 's/char hdr\[512\]/char hdr[4096]/' ../shared/bench/fixedrate.c >"$FIXEDRATE.c"
  gcc -O2 -o "$FIXEDRATE" "$FIXEDRATE.c" -lm || exit 1
fi
TOKEN="$(cat ../shared/fixtures/istio/jwt/samples/demo.jwt | tr -d '\n')"
log="${TMPDIR:-/tmp}/bowline-security-ab.log"

certs=/tmp/bowline-bench-certs
mkdir -p "$certs" && cd "$certs"
if [ ! -f client.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 30 \
    -subj "/O=cluster.local" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    2>/dev/null
  for who in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $who.key -out $who.csr -subj "/" 2>/dev/null
    printf 'subjectAltName=critical,URI:spiffe://cluster.local/ns/default/sa/%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' $who >$who.ext
    openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile $who.ext -out $who.pem \
      2>/dev/null
  done
fi
cd "$here"

BOWLINE_JVM_OPTS="${JOPTS:-}" bin/bowline -c conformance/bench/bowline-security.yaml --concurrency 1 >"$log" 2>&1 &
sleep 6
P=$(pgrep -f "bowline.jar -c conformance/bench/bowline-security.yaml" | head -1)
cpu() { awk '{print $14+$15}' /proc/$P/stat; }
port() { case $1 in plain) echo 18300;; secured) echo 18302;; pair) echo 18320;; mtls) echo 18310;; esac; }
check() { curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$(port $1)/c; }
for p in plain secured pair mtls; do echo "check $p: $(check $p)"; done
echo "check secured without a token: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18302/c)"
for p in plain secured pair mtls; do
  wrk -t1 -c64 -d8s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$(port $p)/w >/dev/null
done
for round in $(seq 1 "${ROUNDS:-5}"); do
  for p in plain secured pair mtls; do
    c0=$(cpu)
    out=$("$FIXEDRATE" -p $(port $p) -u "/r?access_token=$TOKEN" -r 5000 -c 16 -d 8 -w 1 -b 1024 2>&1)
    c1=$(cpu)
    res=$(echo "$out" | grep '^RESULT')
    t=$(wrk -t1 -c64 -d6s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$(port $p)/t \
      | awk '/Requests\/sec/{print int($2)}')
    echo "$round $p cpu_ticks=$((c1-c0)) wrk=$t $res"
  done
done
curl -s http://127.0.0.1:18301/stats | grep -E "^http\.(secured|mtls_server)\.(rbac|jwt_authn)|ssl\.handshake|^listener.*ssl" | head
kill $P; wait 2>/dev/null
