#!/usr/bin/env bash
# katto check / chat / graph from the command line, as an administrator uses them.
set -euo pipefail
bin=${KATTO_TEST_BIN:?}
src=${KATTO_TEST_SRC:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export KATTO_FLOWS="$src/flows" KATTO_POSTAL_CODES="$src/db/data/postal_codes_fi.csv" \
    KATTO_SERVICES="$src/db/data/services_fi.csv" KATTO_DATABASE="$tmp/katto.db"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The shipped flows pass the strict check.
"$bin" check --strict >"$tmp/check.out" || { cat "$tmp/check.out"; fail "shipped flows do not pass katto check --strict"; }
grep -q '^ok: ' "$tmp/check.out" || fail "check prints no ok line"

# A broken flow: exit 65 and one line per problem as file: path: problem.
mkdir "$tmp/broken"
cp "$src/flows/global.json" "$src/flows/helpline.json" "$tmp/broken/"
sed 's/"next": "copy_check"/"next": "byee"/' "$src/flows/tonight.json" >"$tmp/broken/tonight.json"
set +e
"$bin" check "$tmp/broken" >"$tmp/broken.out"
rc=$?
set -e
[ "$rc" -eq 65 ] || { cat "$tmp/broken.out"; fail "broken flows: exit $rc, want 65"; }
grep -q "^$tmp/broken/tonight.json: nodes.shelter.next: .*'byee'" "$tmp/broken.out" \
    || { cat "$tmp/broken.out"; fail "dangling next not reported as file: path: problem"; }

# Invalid JSON names line and column.
printf '{\n  "flow": "x",\n  "nodes": {,}\n}\n' >"$tmp/broken/bad.json"
set +e
"$bin" check "$tmp/broken/bad.json" >"$tmp/bad.out"
rc=$?
set -e
[ "$rc" -eq 65 ] || fail "invalid JSON: exit $rc"
grep -q "bad.json: .*line 3, column" "$tmp/bad.out" || { cat "$tmp/bad.out"; fail "no line/column for invalid JSON"; }

# A scripted conversation gives the expected transcript.
for t in "$src"/tests/fixtures/chat/*.in; do
    name=$(basename "$t" .in)
    args=$(head -n 1 "$t" | sed -n 's/^# args: //p')
    # shellcheck disable=SC2086
    tail -n +2 "$t" | "$bin" chat $args >"$tmp/$name.out" 2>"$tmp/$name.err" || fail "chat $name exited $?"
    diff -u "$src/tests/fixtures/chat/$name.expected" "$tmp/$name.out" || fail "chat transcript $name differs"
done

# The graph is valid DOT: Graphviz accepts it.
"$bin" graph helpline >"$tmp/helpline.dot"
grep -q '"welcome" -> "eviction" \[label="2"\]' "$tmp/helpline.dot" || fail "graph lacks the menu edge"
if command -v dot >/dev/null; then
    dot -Tsvg "$tmp/helpline.dot" >"$tmp/helpline.svg" || fail "dot rejects the graph"
    grep -q '<svg' "$tmp/helpline.svg" || fail "no svg"
fi
set +e
"$bin" graph nosuchflow >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 64 ] || fail "unknown flow: exit $rc, want 64"
echo "flow cli: ok"
