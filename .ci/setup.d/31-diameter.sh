#!/usr/bin/env bash
# Diameter: tests/diameter/test_system.py runs freeDiameterd (package freediameter, in
# .ci/run), which needs a TLS certificate in its configuration even with TLS off: the test makes a
# throw-away one with openssl.  dumpcap capabilities for a non-root user: 30-pcrf-capture.sh.
set -euo pipefail
command -v openssl >/dev/null && command -v freeDiameterd >/dev/null && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -E"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openssl freediameter >>"${APT_LOG:-/dev/null}" 2>&1
