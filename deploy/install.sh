#!/usr/bin/env bash
# deploy/install.sh: install (or upgrade) Katto on a Debian server, as root,
# from a source tree where the release binary has been built (README,
# "Running it for real"):
#
#   sudo deploy/install.sh [--binary build/src/katto] [--host katto.example.fi]
#
# - the system user and group `katto` (no login, home /var/lib/katto)
# - /usr/local/bin/katto; the binary it replaces is kept as
#   /usr/local/lib/katto/katto.previous (for a rollback)
# - /usr/local/share/katto: the shipped data (postal codes, services) and the
#   shipped flows as a reference; /usr/local/share/doc/katto: the docs
# - /etc/katto (root:katto, 0750): katto.json and katto.env (0640) and flows/,
#   each created only when missing: an upgrade never overwrites them
# - /var/lib/katto (katto, 0700): database, secret, backups/
# - systemd units katto.service, katto-backup.service and katto-backup.timer,
#   and /usr/local/lib/katto/katto-backup.sh
# - with --host: the nginx site /etc/nginx/sites-available/katto for that
#   name (HTTPS only once /etc/letsencrypt/live/NAME/ exists: run it again
#   after certbot), enabled, checked with nginx -t and reloaded
#
# It starts nothing: `systemctl enable --now katto katto-backup.timer` does.
# With DESTDIR=DIR everything is staged under DIR instead, with no user,
# ownership, systemctl or nginx reload (for packaging and tests).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
binary=$here/build/src/katto
host=""
dest=${DESTDIR:-}

die() {
    echo "install: $*" >&2
    exit 1
}

usage() {
    echo "usage: deploy/install.sh [--binary FILE] [--host NAME]" >&2
    exit 64
}

while [ $# -gt 0 ]; do
    case "$1" in
    --binary) [ $# -ge 2 ] || usage; binary=$2; shift 2 ;;
    --host) [ $# -ge 2 ] || usage; host=$2; shift 2 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) usage ;;
    esac
done

if [ -z "$dest" ] && [ "$(id -u)" -ne 0 ]; then
    die "run it as root (sudo deploy/install.sh), or with DESTDIR=DIR to stage the files"
fi
if [ ! -x "$binary" ]; then
    die "no katto binary at $binary: install the build dependencies (README, \"Running it for
real\") and build it first:
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKATTO_SANITIZE=OFF
  cmake --build build -j\"\$(nproc)\" --target katto"
fi
if ldd "$binary" 2>/dev/null | grep -q 'libasan\|libubsan'; then
    echo "install: warning: $binary is a sanitizer build (slow, for tests); use build/, not build-test/" >&2
fi
case "$host" in
'' | *[!A-Za-z0-9.-]*) [ -z "$host" ] || die "--host must be a DNS name, got '$host'" ;;
esac

staged() { [ -n "$dest" ]; }

# install_file MODE OWNER:GROUP SRC DST: copies, sets mode (and owner when not staging).
install_file() {
    install -m "$1" "$3" "$dest$4"
    staged || chown "$2" "$dest$4"
}

install_dir() {
    install -d -m "$1" "$dest$3"
    staged || chown "$2" "$dest$3"
}

# Only when missing: an upgrade keeps the administrator's file.
install_new() {
    if [ -e "$dest$4" ]; then
        echo "install: kept $4"
    else
        install_file "$@"
        echo "install: created $4"
    fi
}

if ! staged && ! id katto >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/katto --no-create-home \
        --shell /usr/sbin/nologin --comment "Katto helpline" katto
    echo "install: created the user katto"
fi

version=$("$binary" version 2>/dev/null || echo "katto ?")

# --- binary, scripts, shipped data and docs ---
install_dir 0755 root:root /usr/local/bin
install_dir 0755 root:root /usr/local/lib/katto
if [ -e "$dest/usr/local/bin/katto" ] && ! cmp -s "$binary" "$dest/usr/local/bin/katto"; then
    cp -p "$dest/usr/local/bin/katto" "$dest/usr/local/lib/katto/katto.previous"
    echo "install: kept the replaced binary as /usr/local/lib/katto/katto.previous" \
        "($("$dest/usr/local/lib/katto/katto.previous" version 2>/dev/null || echo '?'))"
fi
# Through a temporary name and a rename: a running katto keeps its old file.
install -m 0755 "$binary" "$dest/usr/local/bin/.katto.new"
mv -f "$dest/usr/local/bin/.katto.new" "$dest/usr/local/bin/katto"
install_file 0755 root:root "$here/deploy/katto-backup.sh" /usr/local/lib/katto/katto-backup.sh
install_dir 0755 root:root /usr/local/share/katto
install_dir 0755 root:root /usr/local/share/katto/data
install_dir 0755 root:root /usr/local/share/katto/flows
for f in "$here"/db/data/*.csv "$here"/db/data/SOURCES.md; do
    [ -e "$f" ] && install_file 0644 root:root "$f" "/usr/local/share/katto/data/$(basename "$f")"
done
for f in "$here"/flows/*; do
    [ -f "$f" ] && install_file 0644 root:root "$f" "/usr/local/share/katto/flows/$(basename "$f")"
done
install_dir 0755 root:root /usr/local/share/doc/katto
for f in README.md docs/operations.md docs/privacy.md; do
    [ -e "$here/$f" ] && install_file 0644 root:root "$here/$f" "/usr/local/share/doc/katto/$(basename "$f")"
done

# --- configuration: root writes it, the service reads it ---
install_dir 0750 root:katto /etc/katto
if [ -d "$dest/etc/katto/flows" ]; then
    echo "install: kept /etc/katto/flows (the shipped ones are in /usr/local/share/katto/flows)"
else
    install_dir 0750 root:katto /etc/katto/flows
    for f in "$here"/flows/*; do
        [ -f "$f" ] && install_file 0640 root:katto "$f" "/etc/katto/flows/$(basename "$f")"
    done
    echo "install: created /etc/katto/flows"
fi
public_url="https://${host:-katto.example.fi}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/katto.json" <<EOF
{
  "listen": "127.0.0.1:8080",
  "database": "/var/lib/katto/katto.db",
  "secret_file": "/var/lib/katto/secret",
  "flows": "/etc/katto/flows",
  "postal_codes": "/usr/local/share/katto/data/postal_codes_fi.csv",
  "services": "/usr/local/share/katto/data/services_fi.csv",
  "public_url": "$public_url",
  "privacy_url": "",
  "worker": {"trusted_proxy": 1},
  "callbacks": {"teams": []}
}
EOF
cat >"$tmp/katto.env" <<'EOF'
# /etc/katto/katto.env: secrets as KATTO_ variables, read by katto.service
# (root:katto, 0640). One NAME=value a line; see README, "Configuration".
# Example for 46elks (then also "default_gateway": "46elks" in katto.json):
#KATTO_GATEWAYS_46ELKS_USERNAME=
#KATTO_GATEWAYS_46ELKS_PASSWORD=
#KATTO_GATEWAYS_46ELKS_FROM=
#KATTO_GATEWAYS_46ELKS_WEBHOOK_TOKEN=
EOF
install_new 0640 root:katto "$tmp/katto.json" /etc/katto/katto.json
install_new 0640 root:katto "$tmp/katto.env" /etc/katto/katto.env

# --- state: the service user's only ---
install_dir 0700 katto:katto /var/lib/katto
install_dir 0700 katto:katto /var/lib/katto/backups

# --- systemd ---
install_dir 0755 root:root /etc/systemd/system
for u in katto.service katto-backup.service katto-backup.timer; do
    install_file 0644 root:root "$here/deploy/$u" "/etc/systemd/system/$u"
done

# --- nginx ---
install_dir 0755 root:root /var/www/letsencrypt
if [ -n "$host" ]; then
    site="$tmp/katto.conf"
    sed "s/katto\.example\.fi/$host/g" "$here/deploy/nginx/katto.conf" >"$site"
    if [ ! -e "/etc/letsencrypt/live/$host/fullchain.pem" ]; then
        # No certificate yet: port 80 only, so that certbot can get one.
        sed -i '/^# ---- HTTPS/,$d' "$site"
        echo "install: nginx: port 80 only until /etc/letsencrypt/live/$host/ exists; then run this again"
    fi
    install_dir 0755 root:root /etc/nginx/sites-available
    install_dir 0755 root:root /etc/nginx/sites-enabled
    install_file 0644 root:root "$site" /etc/nginx/sites-available/katto
    ln -sfn ../sites-available/katto "$dest/etc/nginx/sites-enabled/katto"
    if ! staged && command -v nginx >/dev/null; then
        nginx -t || die "nginx -t failed: see above (/etc/nginx/sites-available/katto)"
        if [ -d /run/systemd/system ]; then
            systemctl reload-or-restart nginx
        fi
    fi
fi

if ! staged && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi

cat <<EOF
install: installed $version
Next (README, "Running it for real"):
  edit /etc/katto/katto.json and /etc/katto/katto.env (public_url, gateways, teams)
  systemctl enable --now katto katto-backup.timer      (an upgrade: systemctl restart katto)
  curl -s http://127.0.0.1:8080/healthz
EOF
