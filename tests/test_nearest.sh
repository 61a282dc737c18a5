#!/usr/bin/env bash
# The helpline's "where can I sleep tonight?" answer for a postal code in each of the seven
# cities, through the shipped flows and data as a client texts them (`katto chat`), at a fixed
# Helsinki time so that opening hours are deterministic. Also: unknown places are asked again,
# then the city list is offered and its number is understood.
set -euo pipefail
bin=${KATTO_TEST_BIN:?}
src=${KATTO_TEST_SRC:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export KATTO_FLOWS="$src/flows" KATTO_POSTAL_CODES="$src/db/data/postal_codes_fi.csv" \
    KATTO_SERVICES="$src/db/data/services_fi.csv" KATTO_DATABASE="$tmp/katto.db"
fail() { echo "FAIL: $*" >&2; exit 1; }

# chat AT LINES...: runs one scripted SMS conversation at Helsinki time AT.
chat() {
    local at=$1
    shift
    printf '%s\n' "$@" | "$bin" chat --channel sms --at "$at" 2>"$tmp/err" || { cat "$tmp/err"; fail "chat exited $?"; }
}

# A Tuesday night in November: postal code -> the first service named, and a number that must appear.
while read -r code first number; do
    out=$(chat 2026-11-24T22:00 "YÖ $code")
    got=$(printf '%s\n' "$out" | sed -n 's/^  \* referral tonight\/shelter (\(.*\))$/\1/p' | head -n 1)
    [ "$got" = "$first" ] || { printf '%s\n' "$out"; fail "YÖ $code: first referral '$got', want '$first'"; }
    printf '%s\n' "$out" | grep -qF "$number" || { printf '%s\n' "$out"; fail "YÖ $code: no '$number'"; }
done <<'CASES'
00530 hel-hdl-alppikulma (0)206 96006
00100 hel-hietaniemenkatu 09 3104 6628
02100 hel-hietaniemenkatu 09 816 42439
01300 van-koisoranta 09 419191
33100 tre-tastu 050 062 5990
90100 oulu-kenttatie 044 703 6235
40100 jkl-selviamisasema 014 266 0149
CASES

# Pori has no emergency accommodation: say so, and give its social emergency number.
out=$(chat 2026-11-24T22:00 "YÖ 28100")
printf '%s\n' "$out" | grep -q "Läheltäsi ei löytynyt" || { printf '%s\n' "$out"; fail "Pori: no 'not found'"; }
printf '%s\n' "$out" | grep -qF "Sosiaalipäivystys (Pori): 02 623 4380" || fail "Pori: no social emergency number"
printf '%s\n' "$out" | grep -q "referral" && fail "Pori: a referral without a service"

# At noon the night places are shut: the 24/7 centre comes first, in Helsinki.
out=$(chat 2026-11-24T12:00 "BED 00530")
printf '%s\n' "$out" | grep -q "referral tonight/shelter (hel-hietaniemenkatu)" || { printf '%s\n' "$out"; fail "noon: not the 24/7 centre"; }
printf '%s\n' "$out" | grep -q "Open 24/7" || fail "noon: no 'Open 24/7' (BED is answered in English)"
out=$(chat 2026-11-24T12:00 "YÖ 00530")
printf '%s\n' "$out" | grep -q "Auki aina" || fail "noon: no 'Auki aina'"

# Inflected and Swedish place names.
out=$(chat 2026-11-24T22:00 "YÖ" "Tampereella")
printf '%s\n' "$out" | grep -q "referral tonight/shelter (tre-tastu)" || fail "Tampereella"
out=$(chat 2026-11-24T22:00 "NATT" "i Uleåborg")
printf '%s\n' "$out" | grep -q "referral tonight/shelter (oulu-kenttatie)" || fail "i Uleåborg"

# Unknown twice -> the city list; its number picks the city.
out=$(chat 2026-11-24T22:00 "YÖ" "kotona" "en tiedä" "6")
printf '%s\n' "$out" | grep -q "^6 Jyväskylä" || { printf '%s\n' "$out"; fail "no city list after two unknown places"; }
printf '%s\n' "$out" | grep -q "referral tonight/shelter (jkl-selviamisasema)" || { printf '%s\n' "$out"; fail "city list number not understood"; }

# What an administrator sees: the ranking and the reply.
"$bin" services near 00530 --category night_shelter --at "2026-11-24 22:00" >"$tmp/near.out" 2>"$tmp/err" \
    || { cat "$tmp/err"; fail "services near exited $?"; }
grep -q "^hel-kalkkers .*open until 06:00" "$tmp/near.out" || { cat "$tmp/near.out"; fail "services near: no Kalkkers row"; }
grep -q "Yökeskus Kalkkers, Ratamestarinkatu 6. Auki klo 06:00 asti." "$tmp/near.out" || { cat "$tmp/near.out"; fail "services near: no reply"; }
set +e
"$bin" services near nowhere-at-all >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 65 ] || fail "services near with an unknown place: exit $rc, want 65"
echo "ok"
