#!/bin/sh
# The system libraries vj needs on Debian/Ubuntu: EGL + Mesa's software GL (headless rendering).
# Installs what is missing when run as root with apt; otherwise says what to install.
set -eu
PACKAGES="libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri"
command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: not a Debian-like system; install EGL and Mesa GL yourself"; exit 0; }
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "system-deps: missing$missing; run: sudo apt-get install$missing" >&2
    exit 1
fi
