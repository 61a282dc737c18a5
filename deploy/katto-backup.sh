#!/usr/bin/env bash
# katto-backup.sh: one online backup of Katto's database with rotation, for
# katto-backup.service (daily by katto-backup.timer) or by hand:
#
#   katto-backup.sh [--dir DIR] [--keep N] [--config FILE] [--katto BIN]
#
# Writes DIR/katto-YYYYMMDD-HHMMSS.db with `katto backup` (a consistent copy
# taken while the server runs, checked with PRAGMA integrity_check, written
# to a .tmp file and renamed), then deletes all but the newest N backups.
# Rotation counts backups rather than days, so a run of failed nights never
# deletes the last good copies. Defaults: /var/lib/katto/backups, 14,
# /etc/katto/katto.json, /usr/local/bin/katto.
#
# The secret file is not in these backups (see the README): copy it apart.
set -euo pipefail

dir=/var/lib/katto/backups
keep=14
config=/etc/katto/katto.json
katto=/usr/local/bin/katto

usage() {
    echo "usage: katto-backup.sh [--dir DIR] [--keep N] [--config FILE] [--katto BIN]" >&2
    exit 64
}

while [ $# -gt 0 ]; do
    case "$1" in
    --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
    --config) [ $# -ge 2 ] || usage; config=$2; shift 2 ;;
    --katto) [ $# -ge 2 ] || usage; katto=$2; shift 2 ;;
    *) usage ;;
    esac
done
case "$keep" in '' | *[!0-9]* | 0) echo "katto-backup: --keep must be a number of at least 1" >&2; exit 64 ;; esac

umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
# Interrupted runs leave FILE.tmp: never a backup, always safe to delete.
find "$dir" -maxdepth 1 -name 'katto-*.db.tmp*' -type f -delete

name="$dir/katto-$(date -u +%Y%m%d-%H%M%S).db"
"$katto" --config "$config" backup "$name"

# Newest first by name (the names sort by time); everything past the first N goes.
mapfile -t old < <(find "$dir" -maxdepth 1 -type f -name 'katto-????????-??????.db' -printf '%f\n' \
    | LC_ALL=C sort -r | tail -n +$((keep + 1)))
for f in "${old[@]}"; do
    rm -f -- "${dir:?}/$f"
    echo "katto-backup: removed $dir/$f (keeping the newest $keep)"
done
