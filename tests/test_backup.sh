#!/usr/bin/env bash
# test_backup.sh: `katto backup` under load, and a restore drill, with the real
# katto and the gateway emulator (46elks's API):
#
# 1. A server whose gateway fails every send (so replies stay queued) gets a
#    callback request by SMS (SOITA, city, time, safe to call).
# 2. While a background loop posts SMS webhooks, `katto backup` copies the
#    database several times: each copy passes integrity_check, and holds every
#    inbound message together with its session and its reply (one snapshot).
# 3. The copy is restored the documented way into a new server directory with
#    the same secret file, the gateway accepts again, and the new server sends
#    every queued message (so the numbers decrypt) and still has the open
#    callback request.
# 4. deploy/katto-backup.sh writes a backup and keeps the newest N.
#
# Time moves by the servers' test clock (a frozen clock keeps failed sends
# from being retried), never by waiting.
set -euo pipefail

src=${KATTO_TEST_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${KATTO_TEST_BIN:?KATTO_TEST_BIN must name the katto binary}
emu=${KATTO_TEST_EMU:?KATTO_TEST_EMU must name the gateway emulator}

ELKS_USER=u46backup
ELKS_PASS=p46backup
HOOK=backup-route-token
CLIENT=+358409999971
ON_CALL=+358401111171
T0=1795514400 # Tuesday 2026-11-24 12:00 in Helsinki: the team is at work
TEAMS='"callbacks": {"remind_after": 600, "teams": [{"id": "hel-outreach", "name": "Helsingin etsivä työ",
  "city": "Helsinki", "on_call": ["'$ON_CALL'"], "lead": "+358403333371",
  "calls_from": "09 310 12345", "hours": "Mo-Fr 08:00-16:00"}]}'

for tool in sqlite3 curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/katto-backup-XXXXXX")
pids=()
cleanup() {
    local p
    [ -e "$tmp/load.stop" ] || touch "$tmp/load.stop" 2>/dev/null || true
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
    for log in a/katto.log b/katto.log emu.log; do
        [ -s "$tmp/$log" ] && { echo "---- $log" >&2; tail -n 30 "$tmp/$log" >&2; }
    done
    exit 1
}
ms() { echo $((($(date +%s%N) - started) / 1000000)); }

wait_until() {
    local what=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 100; i++)); do
        "$@" && return 0
        sleep 0.01
    done
    fail "timed out after ${secs}s waiting for $what"
}

q() { sqlite3 -readonly "$1" "$2"; }

# ------------------------------------------------------------------ emulator
"$emu" --port-file "$tmp/emu.port" --port 0 --elks-user "$ELKS_USER" --elks-pass "$ELKS_PASS" \
    2>"$tmp/emu.log" >&2 &
pids+=($!)
wait_until "the gateway emulator" 10 test -s "$tmp/emu.port"
emu_url=http://127.0.0.1:$(cat "$tmp/emu.port")
emu_post() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -d "$2" "$emu_url/_emu/$1"; }

# start_server DIR CLOCK: katto on DIR/katto.db and DIR/secret; sets $port.
katto_pid=""
start_server() {
    local dir=$1
    mkdir -p "$dir"
    echo "$2" >"$dir/clock"
    cat >"$dir/katto.json" <<EOF
{
  "listen": "127.0.0.1:0",
  "port_file": "$dir/port",
  "database": "$dir/katto.db",
  "secret_file": "$dir/secret",
  "flows": "$src/flows",
  "postal_codes": "$src/db/data/postal_codes_fi.csv",
  "services": "$src/db/data/services_fi.csv",
  "test_clock_file": "$dir/clock",
  "public_url": "https://katto.example",
  "default_gateway": "46elks",
  "outbox": {"retry_base": 1, "timeout": 2, "rate": 1000},
  "gateways": {"46elks": {"username": "$ELKS_USER", "password": "$ELKS_PASS", "from": "Katto",
                          "base_url": "$emu_url", "webhook_token": "$HOOK"}},
  $TEAMS
}
EOF
    rm -f "$dir/port"
    KATTO_ALLOW_ROOT=1 "$bin" --config "$dir/katto.json" serve 2>>"$dir/katto.log" >&2 &
    katto_pid=$!
    pids+=("$katto_pid")
    wait_until "katto in $dir" 15 test -s "$dir/port"
    port=$(cat "$dir/port")
}

stop_server() {
    local rc=0
    kill -TERM "$katto_pid"
    wait "$katto_pid" || rc=$?
    [ "$rc" = 0 ] || fail "katto exited with $rc after SIGTERM"
    ! grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$1/katto.log" || fail "sanitizer report in $1"
}

# sms PORT ID FROM TEXT: a 46elks inbound webhook; 204 once committed.
sms() {
    curl -sS --max-time 5 -o /dev/null -w '%{http_code}' --data-urlencode "id=$2" \
        --data-urlencode "from=$3" --data-urlencode "to=+46766861004" --data-urlencode "message=$4" \
        "http://127.0.0.1:$1/webhooks/46elks/sms?token=$HOOK"
}

# --------------------------------------------- 1. a server whose sends all fail
[ "$(emu_post fail '{"mode": "500", "count": -1}')" = 200 ] || fail "emulator: fail mode"
start_server "$tmp/a" "$T0"
a_port=$port
n=0
for text in SOITA Helsingissä 1 1; do
    n=$((n + 1))
    code=$(sms "$a_port" "cb-$n" "$CLIENT" "$text")
    [ "$code" = 204 ] || fail "SMS '$text': $code"
done
[ "$(q "$tmp/a/katto.db" 'SELECT count(*) FROM callback_requests WHERE closed_at IS NULL')" = 1 ] ||
    fail "no open callback request after SOITA"
ok "a callback request is open; the gateway refuses every send ($(ms) ms)"

# ------------------------------------------------------ 2. backups under load
load() {
    local i=0 code
    while [ ! -e "$tmp/load.stop" ] && [ "$i" -lt 1000 ]; do
        i=$((i + 1))
        code=$(sms "$a_port" "load-$i" "+3584000$(printf '%05d' "$i")" APUA) || code=000
        [ "$code" = 204 ] || echo "load-$i: $code" >>"$tmp/load.errors"
        echo "$i" >"$tmp/load.count.new" && mv -f "$tmp/load.count.new" "$tmp/load.count"
    done
}
load &
load_pid=$!
pids+=("$load_pid")
load_count() { [ -s "$tmp/load.count" ] && cat "$tmp/load.count" || echo 0; }
enough_load() { [ "$(load_count)" -ge "$1" ]; }
wait_until "the load to start" 10 enough_load 20
during=0
for k in 1 2 3 4 5; do
    before=$(load_count)
    "$bin" --config "$tmp/a/katto.json" backup "$tmp/backup-$k.db" >"$tmp/backup-$k.out" 2>&1 ||
        { cat "$tmp/backup-$k.out" >&2; fail "katto backup #$k under load"; }
    during=$((during + $(load_count) - before))
    grep -q "schema version [0-9]*.*integrity ok" "$tmp/backup-$k.out" ||
        fail "katto backup #$k printed: $(cat "$tmp/backup-$k.out")"
    [ "$(q "$tmp/backup-$k.db" 'PRAGMA integrity_check')" = ok ] || fail "backup #$k: integrity_check"
    # One snapshot: every inbound message with its session and its reply.
    loads=$(q "$tmp/backup-$k.db" "SELECT count(*) FROM inbound_seen WHERE msg_id LIKE 'load-%'")
    sessions=$(q "$tmp/backup-$k.db" 'SELECT count(*) FROM sessions')
    answered=$(q "$tmp/backup-$k.db" \
        'SELECT count(*) FROM sessions s WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.contact_key = s.key)')
    [ "$sessions" = $((loads + 1)) ] && [ "$answered" = "$sessions" ] ||
        fail "backup #$k is torn: $loads load messages, $sessions sessions, $answered answered"
    enough_load $((before + 5)) || wait_until "more load" 10 enough_load $((before + 5))
done
touch "$tmp/load.stop"
wait "$load_pid"
[ ! -s "$tmp/load.errors" ] || fail "load requests failed: $(head -3 "$tmp/load.errors")"
ok "5 backups while $(load_count) SMS arrived ($during during the copies): each checked and consistent ($(ms) ms)"
sed -n 1p "$tmp/backup-5.out"

code=0
"$bin" --config "$tmp/a/katto.json" backup "$tmp/backup-5.db" 2>"$tmp/refused.err" || code=$?
[ "$code" = 73 ] || fail "backup onto an existing file: exit $code, want 73"
grep -q -- '--force' "$tmp/refused.err" || fail "the refusal does not mention --force"
"$bin" --config "$tmp/a/katto.json" backup --force "$tmp/backup-1.db" >/dev/null ||
    fail "backup --force over an existing file"
[ ! -e "$tmp/backup-1.db.tmp" ] || fail "backup left its .tmp file"
ok "an existing backup is kept (exit 73) unless --force"

stop_server "$tmp/a"
restore=$tmp/backup-5.db
queued=$(q "$restore" "SELECT count(*) FROM outbox WHERE status = 'queued'")
loads=$(q "$restore" "SELECT count(*) FROM inbound_seen WHERE msg_id LIKE 'load-%'")
[ "$queued" -gt "$loads" ] || fail "the backup holds $queued queued messages for $loads load messages"
[ "$(q "$restore" 'SELECT count(*) FROM callback_requests WHERE closed_at IS NULL')" = 1 ] ||
    fail "the backup lost the open callback request"

# ------------------------------------- 3. restore into a new server directory
mkdir -p "$tmp/b"
cp "$restore" "$tmp/b/katto.db"
cp -p "$tmp/a/secret" "$tmp/b/secret"
[ "$(emu_post reset '')" = 200 ] || fail "emulator: reset"
start_server "$tmp/b" $((T0 + 60))
b_port=$port
drained() {
    curl -sS --max-time 5 "http://127.0.0.1:$b_port/healthz" >"$tmp/healthz.json" &&
        grep -q '"outbox_depth":0,' "$tmp/healthz.json"
}
wait_until "the restored outbox to drain" 15 drained
grep -q '"callbacks_overdue":0' "$tmp/healthz.json" || fail "/healthz: $(cat "$tmp/healthz.json")"
curl -sS --max-time 5 "$emu_url/_emu/requests" | tr -d ' \t\n' >"$tmp/emu.json"
accepted=$(grep -o '"accepted":true' "$tmp/emu.json" | wc -l)
[ "$accepted" = "$queued" ] || fail "the restored server sent $accepted of $queued queued messages"
grep -q "\"to\":\"$CLIENT\"" "$tmp/emu.json" || fail "no message to the client after the restore"
grep -q "\"to\":\"$ON_CALL\"" "$tmp/emu.json" || fail "no notification to the on-call worker"
[ "$(q "$tmp/b/katto.db" 'SELECT count(*) FROM callback_requests WHERE closed_at IS NULL')" = 1 ] ||
    fail "the restored server lost the open callback request"
[ "$(q "$tmp/b/katto.db" "SELECT count(*) FROM outbox WHERE status = 'queued'")" = 0 ] ||
    fail "messages still queued after the restore"
ok "restored with the same secret: all $queued queued messages delivered, the callback request still open ($(ms) ms)"

# ----------------------------------------------- 4. the timer's backup script
mkdir -p "$tmp/backups"
for old in 20200101-000000 20200102-000000 20200103-000000; do
    echo old >"$tmp/backups/katto-$old.db"
done
echo partial >"$tmp/backups/katto-20200104-000000.db.tmp"
bash "$src/deploy/katto-backup.sh" --dir "$tmp/backups" --keep 2 --config "$tmp/b/katto.json" \
    --katto "$bin" >"$tmp/script.out" 2>&1 || { cat "$tmp/script.out" >&2; fail "katto-backup.sh"; }
kept=$(cd "$tmp/backups" && ls | tr '\n' ' ')
case "$kept" in
"katto-20200103-000000.db katto-2"*".db ") ;;
*) fail "katto-backup.sh --keep 2 left: $kept" ;;
esac
newest=$(ls "$tmp/backups" | tail -1)
[ "$(q "$tmp/backups/$newest" 'PRAGMA integrity_check')" = ok ] || fail "the script's backup"
[ "$(stat -c %a "$tmp/backups/$newest")" = 600 ] || fail "the backup is not 0600"
ok "katto-backup.sh writes a 0600 backup and keeps the newest 2 ($(ms) ms)"

stop_server "$tmp/b"
echo "$checks passed, 0 failed ($(ms) ms)"
