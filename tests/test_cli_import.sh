#!/usr/bin/env bash
# katto import and katto services from the command line, as an administrator uses them.
set -euo pipefail
bin=${KATTO_TEST_BIN:?}
src=${KATTO_TEST_SRC:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The database's directory does not exist yet: the command creates it.
export KATTO_DATABASE="$tmp/var/katto.db" KATTO_LOG_LEVEL=warn
fixtures="$src/tests/fixtures/directory"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs katto with the arguments given, keeping stdout, stderr and the exit code.
run() {
    set +e
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}

# The shipped data imports cleanly and says how the server picks it up.
run import postal-codes "$src/db/data/postal_codes_fi.csv"
[ "$rc" -eq 0 ] || { cat "$tmp/err"; fail "import postal-codes: exit $rc"; }
grep -q '^imported 3622 postal codes from ' "$tmp/out" || { cat "$tmp/out"; fail "no postal count"; }
run import services "$src/db/data/services_fi.csv"
[ "$rc" -eq 0 ] || { cat "$tmp/err"; fail "import services: exit $rc"; }
grep -q '^imported 59 services from ' "$tmp/out" || { cat "$tmp/out"; fail "no service count"; }
grep -q 'reloads the directory within 60 seconds (maintenance_interval) or at SIGHUP' "$tmp/out" \
    || fail "no word on how the server reloads"

# A broken file: exit 65, every bad line as path:LINE: problem, nothing changed.
run import services "$fixtures/services_bad.csv"
[ "$rc" -eq 65 ] || { cat "$tmp/err"; fail "bad services: exit $rc, want 65"; }
for line in 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
    grep -q "services_bad.csv:$line: " "$tmp/err" || { cat "$tmp/err"; fail "line $line not reported"; }
done
grep -q 'nothing was changed' "$tmp/err" || fail "no 'nothing was changed'"
run services list
[ "$rc" -eq 0 ] || fail "services list: exit $rc"
grep -q '^59 services$' "$tmp/out" || { tail -n 3 "$tmp/out"; fail "the failed import changed the services"; }

# Listing filters by city (any case) and category; an unknown category is a usage error.
run services list --city helsinki --category violence_shelter
[ "$rc" -eq 0 ] || fail "services list --city: exit $rc"
grep -q '^hel-turvakoti-hertta ' "$tmp/out" || { cat "$tmp/out"; fail "Helsinki shelter not listed"; }
grep -q '^2 services$' "$tmp/out" || { cat "$tmp/out"; fail "wrong number of Helsinki shelters"; }
run services list --category soup_kitchen
[ "$rc" -eq 64 ] || fail "unknown category: exit $rc, want 64"

# Stale services: listed oldest first (never checked at the top), with a summary, exit 0.
run services stale --days 365
[ "$rc" -eq 0 ] || { cat "$tmp/err"; fail "services stale: exit $rc"; }
grep -q '^id  *city  *category  *checked  *age_days$' "$tmp/out" || { cat "$tmp/out"; fail "no header"; }
sed -n 2p "$tmp/out" | grep -q ' never ' || { cat "$tmp/out"; fail "never-checked rows are not first"; }
grep -q '^hel-ohjaamo  *Helsinki  *youth_service  *2016-11  *[0-9][0-9]*$' "$tmp/out" \
    || { cat "$tmp/out"; fail "hel-ohjaamo (2016) not listed"; }
grep -Eq '^[0-9]+ of 59 services need checking' "$tmp/out" || { cat "$tmp/out"; fail "no summary"; }
run services stale --days 100000
grep -Eq '^[0-9]+ of 59 services need checking' "$tmp/out" || fail "no summary with --days 100000"
grep -q ' 2016-11 ' "$tmp/out" && fail "--days 100000 still lists dated rows"
run services stale --days soon
[ "$rc" -eq 64 ] || fail "--days soon: exit $rc, want 64"

# HSDS: a directory of Open Referral CSV files.
run import services --hsds "$fixtures/hsds"
[ "$rc" -eq 0 ] || { cat "$tmp/err"; fail "import --hsds: exit $rc"; }
grep -q '^imported 5 services from ' "$tmp/out" || { cat "$tmp/out"; fail "no HSDS count"; }
grep -q 'schedules.csv:7: warning: ' "$tmp/err" || { cat "$tmp/err"; fail "no schedule warning"; }
run import services --hsds "$fixtures/hsds_bad"
[ "$rc" -eq 65 ] || fail "bad HSDS: exit $rc, want 65"
grep -q 'hsds_bad/phones.csv:2: ' "$tmp/err" || { cat "$tmp/err"; fail "HSDS problem without file:line"; }

# Usage errors.
run import
[ "$rc" -eq 64 ] || fail "import without arguments: exit $rc, want 64"
run import stations x.csv
[ "$rc" -eq 64 ] || fail "import stations: exit $rc, want 64"
run services
[ "$rc" -eq 64 ] || fail "services without a subcommand: exit $rc, want 64"
echo "cli import: ok"
