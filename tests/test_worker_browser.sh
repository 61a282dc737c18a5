#!/usr/bin/env bash
# The worker page in a real phone-sized browser: starts katto with two teams in a temporary
# directory, makes a worker with `katto worker add`, and runs tests/browser/worker_phone.cjs
# (Debian's chromium, headless, driven by playwright-core from build-deps/browser, both
# installed by scripts/setup). Screenshots go to $KATTO_TEST_ARTIFACTS (CTest sets
# build-test/artifacts), worker-phone.png among them.
# Exits 77 (CTest: skipped) only when chromium is installed but cannot start in this sandbox.
set -euo pipefail
src="${KATTO_TEST_SRC:?}"
bin="${KATTO_TEST_BIN:?}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
playwright="${KATTO_PLAYWRIGHT:-$src/build-deps/browser/node_modules/playwright-core}"
artifacts="${KATTO_TEST_ARTIFACTS:-$PWD/artifacts}"

for tool in "$chromium" node sqlite3; do
    command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/setup" >&2; exit 1; }
done
[ -f "$playwright/package.json" ] || { echo "playwright-core missing: run scripts/setup" >&2; exit 1; }

dir="$(mktemp -d "${TMPDIR:-/tmp}/katto-browser-XXXXXX")"
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        wait "$pid" || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

cat >"$dir/katto.json" <<EOF
{
  "listen": "127.0.0.1:0",
  "port_file": "$dir/port",
  "database": "$dir/katto.db",
  "secret_file": "$dir/secret",
  "flows": "$src/flows",
  "postal_codes": "$src/db/data/postal_codes_fi.csv",
  "services": "$src/db/data/services_fi.csv",
  "callbacks": {"teams": [
    {"id": "hel-outreach", "name": "Helsingin etsivä työ", "city": "Helsinki",
     "on_call": ["+358401111111"], "calls_from": "09 310 12345", "hours": "Mo-Su 00:00-24:00"},
    {"id": "tre-outreach", "name": "Tampereen etsivä työ", "city": "Tampere",
     "on_call": ["+358402222222"], "calls_from": "03 565 12345", "hours": "Mo-Su 00:00-24:00"}
  ]}
}
EOF

# CI containers run as root, which katto serve refuses unless told (as testlib.c does).
serve_env=()
if [ "$(id -u)" -eq 0 ]; then serve_env=(KATTO_ALLOW_ROOT=1); fi
env "${serve_env[@]}" "$bin" --config "$dir/katto.json" serve 2>"$dir/katto.log" &
pid=$!
for _ in $(seq 1 150); do
    [ -s "$dir/port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/katto.log" >&2; echo "katto did not start" >&2; exit 1; }
    sleep 0.1
done
[ -s "$dir/port" ] || { cat "$dir/katto.log" >&2; echo "katto did not listen in time" >&2; exit 1; }
port="$(cat "$dir/port")"

token="$("$bin" --config "$dir/katto.json" worker add "Anna Virtanen" --team hel-outreach 2>/dev/null |
    awk '/^token: /{print $2}')"
[ ${#token} -eq 64 ] || { echo "katto worker add printed no token" >&2; exit 1; }

status=0
KATTO_URL="http://127.0.0.1:$port" KATTO_WORKER_TOKEN="$token" KATTO_DB="$dir/katto.db" \
    KATTO_SECRET_FILE="$dir/secret" KATTO_TEST_ARTIFACTS="$artifacts" CHROMIUM="$chromium" \
    KATTO_PLAYWRIGHT="$playwright" node "$src/tests/browser/worker_phone.cjs" || status=$?
# A clean stop, and no sanitizer report (leaks are reported at exit).
kill -TERM "$pid"
served=0
wait "$pid" || served=$?
pid=""
if [ "$served" -ne 0 ] || grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$dir/katto.log"; then
    echo "katto exited with $served or reported a sanitizer error" >&2
    status=1
fi
if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
    echo "---- katto log ----" >&2
    cat "$dir/katto.log" >&2
fi
exit "$status"
