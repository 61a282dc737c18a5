#!/usr/bin/env bash
# test_deploy_nginx.sh: the shipped deployment files, for real. Real nginx on
# loopback runs deploy/nginx/katto.conf itself (only ports, certificate and
# paths rewritten by sed) with a self-signed certificate, in front of the real
# katto and the gateway emulator as Twilio's API:
#
# - a Twilio-signed inbound SMS through the proxy verifies against public_url
#   (https://127.0.0.1:PORT) and the reply reaches the emulator; an unsigned or
#   wrongly signed one gets 403
# - the worker page: 200 over HTTPS, refused by Katto when a proxy forwards
#   plain HTTP (X-Forwarded-Proto: http); port 80 only redirects (and serves ACME)
# - /metrics and /healthz only from the allowed addresses (127.0.0.2 is "outside")
# - HSTS, HTTP/2, TLS 1.2+, body limit, nothing else proxied
# - the systemd units pass systemd-analyze verify and security, as
#   deploy/install.sh stages them (DESTDIR)
#
# Exit 77 (skip) only when nginx, openssl or curl cannot be run.
set -euo pipefail

src=${KATTO_TEST_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${KATTO_TEST_BIN:?KATTO_TEST_BIN must name the katto binary}
emu=${KATTO_TEST_EMU:?KATTO_TEST_EMU must name the gateway emulator}
conf=$src/deploy/nginx/katto.conf

SID=AC00000000000000000000000000000042
TOKEN="nginx-test-twilio-token"
CLIENT=+358401230042
TWILIO_NUMBER=+15005550006

skip() {
    echo "SKIP: $*"
    exit 77
}

nginx=$(command -v nginx || true)
[ -n "$nginx" ] || [ ! -x /usr/sbin/nginx ] || nginx=/usr/sbin/nginx
[ -n "$nginx" ] || skip "nginx is not installed (scripts/setup installs Debian's nginx)"
for tool in openssl curl; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/katto-nginx-XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

started=$(date +%s%N)
checks=0
ok() {
    checks=$((checks + 1))
    echo "ok $checks - $*"
}
fail() {
    echo "FAIL: $*" >&2
    for log in katto.log emu.log nginx-error.log; do
        [ -s "$tmp/$log" ] && { echo "---- $log" >&2; tail -n 30 "$tmp/$log" >&2; }
    done
    exit 1
}

# Polls (every 10 ms, up to $2 seconds) until the command in $3... succeeds.
wait_until() {
    local what=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 100; i++)); do
        "$@" && return 0
        sleep 0.01
    done
    fail "timed out after ${secs}s waiting for $what"
}

# A free port below the kernel's ephemeral range, so no port-0 listener (katto,
# the emulator, other tests) can take it between this check and nginx's bind.
read -r eph_low _ </proc/sys/net/ipv4/ip_local_port_range
used_ports=" "
free_port() {
    local p
    for _ in $(seq 200); do
        p=$((10000 + RANDOM % (eph_low - 10000)))
        case "$used_ports" in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            used_ports="$used_ports$p "
            echo "$p"
            return 0
        fi
    done
    fail "no free port"
}

# curl through nginx with the test's CA; prints the status code (body to $tmp/body).
http() {
    curl -sS --cacert "$tmp/cert.pem" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
        --max-time 10 "$@"
}

# Twilio's X-Twilio-Signature: base64(HMAC-SHA1(token, url + name+value sorted by name)).
twilio_signature() {
    local token=$1 url=$2 data
    shift 2
    data=$url$(while [ $# -gt 0 ]; do
        printf '%s\t%s\n' "$1" "$2"
        shift 2
    done | LC_ALL=C sort -t "$(printf '\t')" -k1,1 -k2,2 | tr -d '\t\n')
    printf '%s' "$data" | openssl dgst -sha1 -hmac "$token" -binary | openssl base64 -A
}

# ---------------------------------------------------------------- systemd units
if command -v systemd-analyze >/dev/null; then
    DESTDIR=$tmp/root bash "$src/deploy/install.sh" --binary "$bin" --host katto.test >"$tmp/install.log" 2>&1 ||
        { cat "$tmp/install.log" >&2; fail "deploy/install.sh (DESTDIR) failed"; }
    for f in usr/local/bin/katto usr/local/lib/katto/katto-backup.sh etc/katto/katto.json \
        etc/katto/katto.env etc/katto/flows/helpline.json usr/local/share/katto/data/services_fi.csv \
        etc/systemd/system/katto.service etc/nginx/sites-enabled/katto var/lib/katto/backups; do
        [ -e "$tmp/root/$f" ] || fail "install.sh did not stage /$f"
    done
    [ "$(stat -c %a "$tmp/root/var/lib/katto")" = 700 ] || fail "/var/lib/katto is not 0700"
    [ "$(stat -c %a "$tmp/root/etc/katto/katto.json")" = 640 ] || fail "katto.json is not 0640"
    # Without a certificate the site is port 80 only, and names the host.
    ! grep -q 'listen 443' "$tmp/root/etc/nginx/sites-available/katto" ||
        fail "install.sh enabled HTTPS without a certificate"
    grep -q 'server_name katto.test;' "$tmp/root/etc/nginx/sites-available/katto" ||
        fail "install.sh did not put the host name into the nginx site"
    # The installed configuration template is valid as it is.
    "$bin" --config "$tmp/root/etc/katto/katto.json" config >/dev/null ||
        fail "the installed katto.json is not a valid configuration"
    mkdir "$tmp/units"
    for u in katto.service katto-backup.service katto-backup.timer; do
        sed "s|/usr/local/|$tmp/root/usr/local/|g" "$tmp/root/etc/systemd/system/$u" >"$tmp/units/$u"
    done
    (cd "$tmp/units" && systemd-analyze verify katto.service katto-backup.service katto-backup.timer) \
        >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log" >&2; fail "systemd-analyze verify"; }
    exposure=""
    for u in katto.service katto-backup.service; do
        # Exposure 0.0 (locked down) .. 10.0 (none): the units must stay at 2.0 or better.
        systemd-analyze security --offline=true --threshold=20 "$tmp/units/$u" >"$tmp/security.log" 2>&1 ||
            { tail -n 5 "$tmp/security.log" >&2; fail "systemd-analyze security $u above 2.0"; }
        exposure="$exposure $u $(grep -o 'exposure level for [^:]*: [0-9.]*' "$tmp/security.log" | grep -o '[0-9.]*$')"
    done
    ok "install.sh stages the layout; units pass systemd-analyze verify and security (exposure:$exposure)"
else
    echo "# systemd-analyze not installed: units not verified"
fi

# ------------------------------------------------------------------ the world
tls_port=$(free_port)
http_port=$(free_port)
plain_port=$(free_port)

"$emu" --port-file "$tmp/emu.port" --port 0 --twilio-sid "$SID" --twilio-token "$TOKEN" \
    2>"$tmp/emu.log" >&2 &
pids+=($!)
wait_until "the gateway emulator" 10 test -s "$tmp/emu.port"
emu_url=http://127.0.0.1:$(cat "$tmp/emu.port")

cat >"$tmp/katto.json" <<EOF
{
  "listen": "127.0.0.1:0",
  "port_file": "$tmp/katto.port",
  "database": "$tmp/katto.db",
  "secret_file": "$tmp/secret",
  "flows": "$src/flows",
  "postal_codes": "$src/db/data/postal_codes_fi.csv",
  "services": "$src/db/data/services_fi.csv",
  "public_url": "https://127.0.0.1:$tls_port",
  "worker": {"trusted_proxy": 1},
  "default_gateway": "twilio",
  "outbox": {"retry_base": 1, "timeout": 2},
  "gateways": {"twilio": {"account_sid": "$SID", "auth_token": "$TOKEN",
                          "from": "$TWILIO_NUMBER", "base_url": "$emu_url"}}
}
EOF
allow_root=()
[ "$(id -u)" -ne 0 ] || allow_root=(--allow-root) # containers and CI run as root
"$bin" --config "$tmp/katto.json" serve "${allow_root[@]}" 2>"$tmp/katto.log" >&2 &
pids+=($!)
wait_until "katto" 15 test -s "$tmp/katto.port"
katto_port=$(cat "$tmp/katto.port")

# ---------------------------------------------------- nginx with the shipped site
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/openssl.log" ||
    { cat "$tmp/openssl.log" >&2; fail "openssl req"; }
mkdir -p "$tmp/acme/.well-known/acme-challenge"
echo "acme-token-content" >"$tmp/acme/.well-known/acme-challenge/tok123"

sed -e "s|^\( *\)listen 80;|\1listen 127.0.0.1:$http_port;|" \
    -e "s|^\( *\)listen 443 ssl http2;|\1listen 127.0.0.1:$tls_port ssl http2;|" \
    -e '/listen \[::\]:/d' \
    -e "s|/etc/letsencrypt/live/katto.example.fi/fullchain.pem|$tmp/cert.pem|" \
    -e "s|/etc/letsencrypt/live/katto.example.fi/privkey.pem|$tmp/key.pem|" \
    -e "s|/var/www/letsencrypt|$tmp/acme|" \
    -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$katto_port;|" \
    "$conf" >"$tmp/katto.conf"
# Every rewrite must have hit: otherwise this would test something else than what ships.
for want in "listen 127.0.0.1:$http_port;" "listen 127.0.0.1:$tls_port ssl http2;" "$tmp/cert.pem" \
    "$tmp/key.pem" "root $tmp/acme;" "server 127.0.0.1:$katto_port;"; do
    grep -qF "$want" "$tmp/katto.conf" || fail "deploy/nginx/katto.conf changed: no '$want' after sed"
done
! grep -v '^ *#' "$tmp/katto.conf" | grep -qE 'listen (80|443)|8080|letsencrypt' ||
    fail "deploy/nginx/katto.conf has a listen, upstream or path the test does not rewrite"

user_line=""
[ "$(id -u)" -ne 0 ] || user_line="user root;" # as root the workers would be nobody
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 1;
error_log $tmp/nginx-error.log info;
events { worker_connections 64; }
http {
    access_log $tmp/nginx-access.log;
    client_body_temp_path $tmp/body_temp;
    proxy_temp_path $tmp/proxy_temp;
    fastcgi_temp_path $tmp/fastcgi_temp;
    uwsgi_temp_path $tmp/uwsgi_temp;
    scgi_temp_path $tmp/scgi_temp;

    include $tmp/katto.conf;

    # Not shipped: a careless proxy that forwards plain HTTP to Katto, saying so.
    server {
        listen 127.0.0.1:$plain_port;
        location / {
            proxy_pass http://127.0.0.1:$katto_port;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-For \$remote_addr;
        }
    }
}
EOF
nginx_args=(-p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log")
"$nginx" "${nginx_args[@]}" -g "daemon off; pid $tmp/nginx.pid;" -t >"$tmp/nginx-t.log" 2>&1 ||
    { cat "$tmp/nginx-t.log" >&2; fail "nginx -t rejects deploy/nginx/katto.conf"; }
ok "nginx -t accepts deploy/nginx/katto.conf"
"$nginx" "${nginx_args[@]}" -g "daemon off; pid $tmp/nginx.pid;" 2>>"$tmp/nginx-error.log" &
pids+=($!)
tls_up() { (exec 3<>"/dev/tcp/127.0.0.1/$tls_port") 2>/dev/null; }
wait_until "nginx" 10 tls_up

base=https://127.0.0.1:$tls_port

# ------------------------------------------------------------------ TLS basics
code=$(curl -sS --cacert "$tmp/cert.pem" -o "$tmp/body" -D "$tmp/headers" --max-time 10 \
    -w '%{http_code} %{http_version} %{ssl_verify_result}' "$base/healthz")
[ "$code" = "200 2 0" ] || fail "GET /healthz over HTTPS: '$code', want '200 2 0' (status, HTTP/2, verified)"
grep -q '"outbox_depth"' "$tmp/body" || fail "/healthz through nginx: $(cat "$tmp/body")"
grep -qi '^strict-transport-security: max-age=63072000' "$tmp/headers" || fail "no HSTS header"
ok "HTTPS with HTTP/2 and HSTS; /healthz from 127.0.0.1 reaches Katto"
code=$(http --tlsv1.3 "$base/healthz") && [ "$code" = 200 ] || fail "TLS 1.3: $code"
code=$(http --tlsv1.2 --tls-max 1.2 "$base/healthz") && [ "$code" = 200 ] || fail "TLS 1.2: $code"
ok "TLS 1.2 and 1.3 accepted"

# ----------------------------------------------------------- a signed Twilio SMS
url=$base/webhooks/twilio/sms
params=(AccountSid "$SID" Body APUA From "$CLIENT" MessageSid SM0000000000000000000000000000nx01
    NumSegments 1 To "$TWILIO_NUMBER")
form=()
for ((i = 0; i < ${#params[@]}; i += 2)); do form+=(--data-urlencode "${params[i]}=${params[i + 1]}"); done
sig=$(twilio_signature "$TOKEN" "$url" "${params[@]}")
code=$(http -H "X-Twilio-Signature: $sig" "${form[@]}" "$url")
[ "$code" = 200 ] || fail "signed Twilio SMS through nginx: $code $(cat "$tmp/body")"
grep -q '<Response/>' "$tmp/body" || fail "no empty TwiML answer: $(cat "$tmp/body")"
emu_has_reply() {
    curl -sS --max-time 5 "$emu_url/_emu/requests" | tr -d ' \t\n' >"$tmp/emu.json"
    grep -q "\"to\":\"$CLIENT\"" "$tmp/emu.json" && grep -q '"accepted":true' "$tmp/emu.json"
}
wait_until "the reply at the emulator" 10 emu_has_reply
grep -q '"gateway":"twilio"' "$tmp/emu.json" || fail "the reply did not go through Twilio's API"
ok "a Twilio-signed SMS through nginx verifies against public_url and is answered"

sig_other_url=$(twilio_signature "$TOKEN" "http://127.0.0.1:$katto_port/webhooks/twilio/sms" "${params[@]}")
sig_other_token=$(twilio_signature "not-the-token" "$url" "${params[@]}")
code=$(http -H "X-Twilio-Signature: $sig_other_token" "${form[@]}" "$url")
[ "$code" = 403 ] || fail "signature with another token: $code, want 403"
code=$(http -H "X-Twilio-Signature: $sig_other_url" "${form[@]}" "$url")
[ "$code" = 403 ] || fail "signature over Katto's own URL instead of public_url: $code, want 403"
code=$(http "${form[@]}" "$url")
[ "$code" = 403 ] || fail "unsigned SMS: $code, want 403"
ok "unsigned and wrongly signed SMS get 403"

# -------------------------------------------------------------- worker pages
code=$(http "$base/worker")
if [ "$code" = 404 ]; then
    echo "# SKIP worker page checks: GET /worker is 404 (the worker pages are not in this build)"
else
    [ "$code" = 200 ] || fail "GET /worker over HTTPS: $code, want 200"
    grep -qi '<form' "$tmp/body" || fail "GET /worker over HTTPS: no sign-in form"
    code=$(http --interface 127.0.0.2 "$base/worker")
    [ "$code" = 200 ] || fail "GET /worker over HTTPS from another address: $code, want 200"
    ok "the worker page over HTTPS: 200 with the sign-in form"
    code=$(http "http://127.0.0.1:$plain_port/worker")
    [ "$code" = 403 ] || fail "GET /worker through a plain-HTTP proxy (X-Forwarded-Proto: http): $code, want 403"
    ! grep -qi nginx "$tmp/body" || fail "the 403 came from nginx, not from Katto"
    ok "the worker page through a proxy that forwards plain HTTP: refused by Katto (403)"
fi
code=$(http "http://127.0.0.1:$http_port/worker")
[ "$code" = 301 ] || fail "GET /worker on port 80: $code, want 301"
grep -qi "^location: https://127.0.0.1/worker" "$tmp/headers" ||
    fail "port 80 does not redirect to https: $(grep -i '^location' "$tmp/headers")"
code=$(http "http://127.0.0.1:$http_port/.well-known/acme-challenge/tok123")
[ "$code" = 200 ] && grep -q acme-token-content "$tmp/body" || fail "ACME challenge on port 80: $code"
ok "port 80 redirects to HTTPS, except ACME challenges"

# ----------------------------------------------------- internal routes, limits
code=$(http --interface 127.0.0.2 "$base/metrics")
[ "$code" = 403 ] || [ "$code" = 404 ] || fail "GET /metrics from outside: $code, want 403/404"
code=$(http --interface 127.0.0.2 "$base/healthz")
[ "$code" = 403 ] || [ "$code" = 404 ] || fail "GET /healthz from outside: $code, want 403/404"
code=$(http "$base/metrics")
[ "$code" = 200 ] && grep -q '^katto_' "$tmp/body" || fail "GET /metrics from 127.0.0.1: $code"
ok "/metrics and /healthz: 403 from outside, served to the allowed addresses"
code=$(http "$base/")
[ "$code" = 404 ] || fail "GET / through nginx: $code, want 404"
head -c 100000 /dev/zero | tr '\0' a >"$tmp/big"
code=$(http -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$tmp/big" "$url")
[ "$code" = 413 ] || fail "a 100 kB webhook body: $code, want 413"
ok "other paths 404; bodies over 64 kB get 413 at nginx"

grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$tmp/katto.log" && fail "sanitizer report"
elapsed=$((($(date +%s%N) - started) / 1000000))
echo "$checks passed, 0 failed (${elapsed} ms)"
