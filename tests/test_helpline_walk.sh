#!/usr/bin/env bash
# The helpline as people meet it (flows/helpline.json, tonight.json, callback.json, global.json):
# every branch of the main menu in Finnish, Swedish and English, over SMS and over USSD, walked
# with `katto chat` at fixed Helsinki times so that opening hours are deterministic, each ending
# where it should (a callback filed with the branch's topic, or the end node); the nearest-service
# answer in each of the seven cities for a known postal code; the age switch of the youth branch;
# the help in Russian, Ukrainian, Arabic, Somali and Estonian; the crisis replies; the YÖ / NATT /
# BED shortcut. Every SMS reply must go out as one message of at most two segments and every USSD
# screen must fit 160 characters. Assertions are on the effect lines (`* referral helpline/node
# (service-id)`, `* request ... topic T`) and on key texts, not on whole transcripts.
set -euo pipefail
bin=${KATTO_TEST_BIN:?}
src=${KATTO_TEST_SRC:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export KATTO_FLOWS="$src/flows" KATTO_POSTAL_CODES="$src/db/data/postal_codes_fi.csv" \
    KATTO_SERVICES="$src/db/data/services_fi.csv" KATTO_DATABASE="$tmp/katto.db"
fail() { echo "FAIL: $*" >&2; exit 1; }

NOON=2026-11-24T12:00  # a Tuesday: offices open, night places shut, the teams at work
NIGHT=2026-11-24T22:00 # the same Tuesday night: night places open, offices shut

# Outreach teams for two cities; Pori has none (the honest "no team" answer).
cat >"$tmp/teams.json" <<'EOF'
{"callbacks": {"teams": [
  {"id": "hel-outreach", "name": "Helsingin etsivä työ", "city": "Helsinki", "on_call": ["+358401111111"],
   "lead": "+358403333333", "calls_from": "09 310 12345", "hours": "Mo-Fr 08:00-20:00"},
  {"id": "tre-outreach", "name": "Tampereen etsivä työ", "city": "Tampere", "on_call": ["+358401111112"],
   "lead": "+358403333334", "calls_from": "03 565 12345", "hours": "Mo-Fr 08:00-16:00"}
]}}
EOF

# chat NAME CHANNEL AT [--lang L] LINES...: runs one scripted conversation into $out and checks
# the budget of every reply in it.
chat() {
    local name=$1 channel=$2 at=$3
    local -a lang=()
    shift 3
    if [ "${1:-}" = "--lang" ]; then
        lang=(--lang "$2")
        shift 2
    fi
    out=$(printf '%s\n' "$@" | "$bin" chat --config "$tmp/teams.json" --channel "$channel" \
        "${lang[@]}" --at "$at" 2>"$tmp/err") || { cat "$tmp/err"; fail "$name: chat exited $?"; }
    walk=$name
    local over
    over=$(printf '%s\n' "$out" | awk '
        /^\[SMS [0-9]+\/[0-9]+: / {
            split($2, part, "/"); sub(":", "", part[2]); seg = $4 + 0
            if (part[2] + 0 != 1 || seg > 2) print
        }
        /^\[USSD (CON|END), [0-9]+ characters\]/ { if ($3 + 0 > 160) print }')
    [ -z "$over" ] || { printf '%s\n' "$out"; fail "$name: over budget: $over"; }
}

# has TEXT / hasnt TEXT: about the last conversation.
has() { grep -qF -- "$1" <<<"$out" || { printf '%s\n' "$out"; fail "$walk: no '$1'"; }; }
hasnt() { ! grep -qF -- "$1" <<<"$out" || { printf '%s\n' "$out"; fail "$walk: unexpected '$1'"; }; }

# first_referral NODE: the id of the first service a nearest node named.
first_referral() { sed -n "s/^  \* referral ${1//\//\\/} (\(.*\))$/\1/p" <<<"$out" | head -n 1; }

# ---------------------------------------------------------------- the first message
for row in "fi APUA SOITA YÖ" "sv HJÄLP RING NATT" "en HELP CALL BED"; do
    read -r lang word call bed <<<"$row"
    chat "welcome $lang" sms "$NOON" "$word"
    has "Katto: automa"            # automatic: nobody reads the messages
    has "$call"                    # how to reach a person
    has "112"
    has "$bed 00530"               # the shortcut for a bed tonight
    has "  * session_start helpline/welcome"
    grep -q '^9 ' <<<"$out" || fail "welcome $lang: fewer than nine choices"
done

# ---------------------------------------------------------------- every branch, three languages, SMS
# branch | menu answers after the start word (Helsinki, 00530) | node of the nearest answer and the
# service it names first at noon ("-" where the branch names none) | topic of the callback |
# a key text in fi, sv and en (";"-separated).
while IFS='|' read -r branch answers near first topic texts; do
    for row in "fi APUA" "sv HJÄLP" "en HELP"; do
        read -r lang word <<<"$row"
        IFS=';' read -r t_fi t_sv t_en <<<"$texts"
        case $lang in fi) text=$t_fi ;; sv) text=$t_sv ;; *) text=$t_en ;; esac
        # shellcheck disable=SC2086
        chat "$branch $lang sms" sms "$NOON" "$word" $answers 1 1
        has "$text"
        if [ "$near" != "-" ]; then
            got=$(first_referral "helpline/$near")
            [ "$got" = "$first" ] || { printf '%s\n' "$out"; fail "$walk: first referral '$got', want '$first'"; }
        fi
        has "  * callback_filed helpline/"
        has "to team hel-outreach, window now, language $lang, topic $topic: call this number"
        has "  * session_end helpline/bye (Helsinki)"
    done
done <<'BRANCHES'
tonight|1 00530 1|tn_shelter|hel-hietaniemenkatu|tonight|09 3104 6628;09 3104 6628;09 3104 6628
eviction|2 00530 1 1 1|ev_near|hel-aikuissosiaalityo|eviction|Kelasta asumistukea;bostadsbidrag;housing allowance
eviction-court|2 00530 2 2|-|-|eviction|käräjäoikeuden;tingsrätten;district court
home|3 00530 1 1|home_near|hel-aikuissosiaalityo|home|Hekan;Hekas;Heka
youth|4 00530 25 1 1|youth_near|hel-nuoli|youth|Ohjaamo;Ohjaamo;Ohjaamo
prison|5 00530 1 1|prison_near|hel-aikuissosiaalityo|prison|rets.fi;rets.fi;rets.fi
substance|6 00530 1 1|subst_near|hel-hirundo|substance|116 117;116 117;116 117
peer|7 00530 1|-|-|peer|050 443 1065;050 443 1065;050 443 1065
landlord|8 00530 1 1|land_near|hel-aikuissosiaalityo|landlord|vuokralaiseen;hyresgästen;tenant
immigrant|9 9 00530 1 1|imm_near|nat-monika-ohjaus|immigrant|infofinland.fi;infofinland.fi;infofinland.fi
BRANCHES

# ---------------------------------------------------------------- the same over USSD
# Options keep their numbers on every page, so the answers are those of SMS (the tonight branch
# first asks whether to text the details too: 2 = no). Each session ends with the callback filed.
while IFS='|' read -r branch answers near first topic; do
    for lang in fi sv en; do
        # shellcheck disable=SC2086
        chat "$branch $lang ussd" ussd "$NOON" --lang "$lang" $answers 1 1
        if [ "$near" != "-" ]; then
            got=$(first_referral "helpline/$near")
            [ "$got" = "$first" ] || { printf '%s\n' "$out"; fail "$walk: first referral '$got', want '$first'"; }
        fi
        has "to team hel-outreach, window now, language $lang, topic $topic: call this number"
        has "[USSD END, "
    done
done <<'BRANCHES'
tonight|1 00530 2 1|tn_shelter|hel-hietaniemenkatu|tonight
eviction|2 00530 3 1|ev_near|hel-aikuissosiaalityo|eviction
home|3 00530 1 1|home_near|hel-aikuissosiaalityo|home
youth|4 00530 25 1 1|youth_near|hel-nuoli|youth
prison|5 00530 1 1|prison_near|hel-aikuissosiaalityo|prison
substance|6 00530 1 1|subst_near|hel-hirundo|substance
peer|7 00530 1|-|-|peer
landlord|8 00530 1 1|land_near|hel-aikuissosiaalityo|landlord
immigrant|9 9 00530 1 1|imm_near|nat-monika-ohjaus|immigrant
BRANCHES

# On USSD the tonight branch texts the details too, with consent.
chat "tonight ussd copy" ussd "$NIGHT" --lang fi 1 33100 1
has "  * referral helpline/tn_shelter (tre-tastu)"
has "  * sms_copy/tn_send_copy"

# ---------------------------------------------------------------- the seven cities
# Nowhere to sleep, from the menu, on a Tuesday night: the first place named and the city's
# social emergency number (Pori has no place in the directory: said so, with the number).
while read -r code first number; do
    chat "tonight $code" sms "$NIGHT" APUA 1 "$code"
    got=$(first_referral helpline/tn_shelter)
    [ "${got:--}" = "$first" ] || { printf '%s\n' "$out"; fail "$walk: first referral '$got', want '$first'"; }
    has "$number"
    has "Haluatko, että sinulle soitetaan?"
done <<'CASES'
00530 hel-hdl-alppikulma (0)206 96006
02100 hel-hietaniemenkatu 09 816 42439
01300 van-koisoranta 09 8392 4005
33100 tre-tastu 050 062 5990
90100 oulu-kenttatie 044 703 6235
40100 jkl-selviamisasema 014 266 0149
28100 - 02 623 4380
CASES
chat "tonight Pori" sms "$NIGHT" APUA 1 28100
has "Läheltäsi ei löytynyt tällaista palvelua."
hasnt "* referral"

# Rent arrears, nearest housing advice at noon: the city's own office where the directory has
# one, else the social emergency number; Oulu gets its housing advice's drop-in (advice-facts.md).
while read -r code first number; do
    chat "eviction $code" sms "$NOON" APUA 2 "$code" 3
    got=$(first_referral helpline/ev_near)
    [ "${got:--}" = "$first" ] || { printf '%s\n' "$out"; fail "$walk: first referral '$got', want '$first'"; }
    has "$number"
done <<'CASES'
00530 hel-aikuissosiaalityo 09 310 444 00
02100 - 09 816 42439
01300 van-vav-asumisneuvonta 010 235 1450
33100 tre-palveluneuvonta 040 733 3949
90100 - Hallituskatu 36
40100 - 014 266 0149
28100 pori-aikuissosiaalityo +358 2 621 1100
CASES

# ---------------------------------------------------------------- city-specific advice
while read -r code text; do
    chat "home $code" sms "$NOON" APUA 3 "$code"
    has "$text"
done <<'CASES'
00530 kaupungin asuntohakemuksella
02100 espoonasunnot.fi
01300 vav.fi
33100 vts.fi
90100 sivakka.fi
40100 asumisen neuvonta
28100 Satakunnan hyvinvointialue
CASES
chat "immigrant Helsinki" sms "$NOON" APUA 9 9 00530
has "Kalkkers ei kysy oleskelulupaa"
chat "immigrant Oulu" sms "$NOON" APUA 9 9 90100
hasnt "Kalkkers"
chat "peer Tampere" sms "$NIGHT" APUA 7 33100 1 1 1 1
has "ei ole omaa puhelinta"
has "  * referral helpline/peer_near (tre-huoltsu)"
has "to team tre-outreach, window now, language fi, topic peer: call this number"

# ---------------------------------------------------------------- young people: the age decides
chat "youth 16" sms "$NIGHT" APUA 4 00530 16
has "Alle 18"
has "  * referral helpline/youth_minor_near (hel-nuoli)"
has "Sosiaalipäivystys (Helsinki): +358 (0)206 96006"   # always, for a minor
chat "youth 16 day" sms "$NOON" HJÄLP 4 Helsingfors 16 2
has "Walkers"
has "  * referral helpline/youth_near (hel-nuoli)"
chat "youth 16 Tampere" sms "$NIGHT" HELP 4 33100 16
has "No such service was found near you."
has "Social emergency (Tampere): 050 062 5990"
chat "youth age typed in words" sms "$NOON" APUA 4 00530 kuusitoista 25
has "Vastaa numerolla 1-120."
has "Ohjaamo"
chat "youth 45" sms "$NOON" APUA 4 00530 45 2
has "Tämä osa on alle 30-vuotiaille."
has "Hekan"   # choice 2 leads to the home branch; the place is known, so straight to the advice

# ---------------------------------------------------------------- no callback team in Pori
chat "callback Pori" sms "$NOON" APUA 2 28100 4
has "Kaupungissasi ei ole vielä tiimiä"
has "Sosiaalipäivystys (Pori): 02 623 4380"
hasnt "callback_filed"
has "  * session_end helpline/bye (Pori)"

# ---------------------------------------------------------------- other languages
# Russian, Ukrainian and Arabic need UCS-2 (at most two segments); Somali and Estonian are
# written so that they fit GSM-7.
while read -r choice node encoding marker; do
    for word in APUA HJÄLP HELP; do
        chat "language $node $word" sms "$NOON" "$word" 9 "$choice"
        has "  * session_end helpline/$node"
        has "112"
        has "infofinland.fi"
        has "HELP"
        has "$marker"
        grep -A1 '^> '"$choice"'$' <<<"$out" | grep -q "^\[SMS 1/1: $encoding, " \
            || { printf '%s\n' "$out"; fail "$walk: not sent as $encoding"; }
    done
done <<'CASES'
4 lang_ru UCS-2 09 2525 0115
5 lang_uk UCS-2 09 2525 0114
6 lang_ar UCS-2 080 005 005
7 lang_so GSM-7 080 005 005
8 lang_et GSM-7 09 2525 0111
CASES
chat "language menu" sms "$NOON" APUA 9 2
has "  * language helpline/set_sv (sv)"
has "1 Ingen nattplats"
chat "language menu ussd" ussd "$NOON" --lang en 9 8
has "[USSD END, "
has "infofinland.fi"

# ---------------------------------------------------------------- crisis words, in each language
chat "crisis fi" sms "$NOON" "haluan kuolla"
has "Hätätilanteessa soita 112. Kriisipuhelin (MIELI) 09 2525 0111, tavallinen puhelumaksu."
has "Nollalinja 080 005 005, maksuton"
chat "crisis sv" sms "$NOON" HJÄLP "jag vill dö"
has "Vid nödläge ring 112. Kristelefon på svenska (MIELI) 09 2525 0112, vanlig samtalsavgift."
chat "crisis en" ussd "$NOON" --lang en "I want to die"
has "[USSD END, "
has "In an emergency call 112."
has "normal call charge"
has "Nollalinja 080 005 005, free"

# ---------------------------------------------------------------- the shortcut: one message in, one out
# Each shortcut is a word of one language (tonight.json): from a fresh number it is answered in
# that language, and after another language was chosen it switches, as HJÄLP does.
for row in "YÖ Lähin yöpaikka:" "NATT Närmaste nattplats:" "BED Nearest place to sleep:"; do
    read -r word heading <<<"$row"
    chat "shortcut $word" sms "$NIGHT" "$word 01300"
    [ "$(grep -c '^\[SMS ' <<<"$out")" -eq 1 ] || fail "$walk: not one reply"
    has "$heading"
    has "  * referral tonight/shelter (van-koisoranta)"
    has "09 8392 4005"
    has "  * session_end tonight/bye (Vantaa)"
done
for row in "SVENSKA NATT Närmaste nattplats:" "ENGLISH BED Nearest place to sleep:" \
    "SVENSKA YÖ Lähin yöpaikka:"; do
    read -r language word heading <<<"$row"
    chat "shortcut $word after $language" sms "$NIGHT" "$language" "$word 01300"
    has "$heading"
    has "  * referral tonight/shelter (van-koisoranta)"
done
echo "helpline walk: ok"
