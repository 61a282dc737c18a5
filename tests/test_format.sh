#!/usr/bin/env bash
# The code follows .clang-format, so reviews never discuss whitespace.
set -euo pipefail
cd "${KATTO_TEST_SRC:?}"
command -v clang-format >/dev/null || { echo "clang-format missing: run scripts/setup" >&2; exit 1; }
bad=0
for f in src/*.[ch] tests/unit/*.c tests/integration/*.c tests/support/*.[ch]; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (run clang-format -i $f)" >&2
        bad=1
    fi
done
exit $bad
