#!/bin/sh
# The system libraries vj needs on Debian/Ubuntu, by use:
#   render  EGL + Mesa's software GL (offline renders, headless)
#   live    + PortAudio, GLX (a window) and the X libraries glfw loads
#   test    + Xvfb and JACK (the tests run a virtual display and a dummy audio server)
# Installs what is missing when run as root with apt; otherwise says what to install.
set -eu
RENDER="libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri"
LIVE="$RENDER libglx-mesa0 libportaudio2 libx11-6 libxrandr2 libxinerama1 libxcursor1 libxi6 libxxf86vm1"
TEST="$LIVE xvfb xauth jackd2 libjack-jackd2-0"
case "${1:-render}" in
    render) PACKAGES=$RENDER ;;
    live) PACKAGES=$LIVE ;;
    test) PACKAGES=$TEST ;;
    *) echo "usage: $0 [render|live|test]" >&2; exit 2 ;;
esac
command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: not a Debian-like system; install the equivalents of: $PACKAGES"; exit 0; }
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: installing$missing"
    # jackd2 asks whether to enable realtime scheduling; answer for it (the tests run it without).
    echo "jackd2 jackd/tweak_rt_limits boolean false" | debconf-set-selections 2>/dev/null || true
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "system-deps: missing$missing; run: sudo apt-get install$missing" >&2
    exit 1
fi
