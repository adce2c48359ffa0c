#!/usr/bin/env bash
# Build eapol_test with the software USIM (CONFIG_USIM_SIMULATOR) from Debian's own `wpa`
# source package: the packaged eapol_test has EAP-AKA/AKA' Milenage compiled out (LIBRARIES.md).
# Result: .ci/cache/eapol_test_usim.  Idempotent: nothing is done when the binary is cached.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/.ci/cache/eapol_test_usim"
if [ -x "$out" ] && { "$out" 2>&1 || true; } | grep -q "usage"; then
  echo "eapol_test_usim cached: $out"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -E"

# A deb-src entry for the suites already configured (deb822 format, Debian 12).
if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  $SUDO tee /etc/apt/sources.list.d/ci-deb-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
apt="apt-get -o DPkg::Lock::Timeout=900"  # other setup may hold the dpkg lock
$SUDO $apt update -qq
$SUDO $apt build-dep -y -qq wpa >>"${APT_LOG:-/dev/null}" 2>&1

work="$PWD/.ci/cache/wpa-src"
rm -rf "$work"
mkdir -p "$work"
(cd "$work" && apt-get source -qq wpa >>"${APT_LOG:-/dev/null}" 2>&1)
src=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'wpa-*' | head -n 1)
[ -n "$src" ] || { echo "apt-get source wpa failed" >&2; exit 1; }
cd "$src/wpa_supplicant"
cp defconfig .config
cat >> .config <<'EOF'
CONFIG_EAPOL_TEST=y
CONFIG_EAP_AKA=y
CONFIG_EAP_AKA_PRIME=y
CONFIG_EAP_SIM=y
CONFIG_USIM_SIMULATOR=y
CONFIG_SIM_SIMULATOR=y
CONFIG_EAP_PWD=y
CONFIG_EAP_TTLS=y
CONFIG_EAP_PEAP=y
CONFIG_EAP_MSCHAPV2=y
CONFIG_TLS=openssl
CONFIG_CTRL_IFACE=y
EOF
# Only eapol_test is needed; the D-Bus/nl80211 parts of defconfig do not matter for it.
make -s -j"$(nproc)" eapol_test >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; exit 1; }
install -m 0755 eapol_test "$out"
rm -rf "$work"
echo "built $out"
