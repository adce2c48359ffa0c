#!/usr/bin/env bash
# PCRF: tests/pcrf/test_gx_tshark.py captures Gx on lo with dumpcap.  As root this just
# works; for a non-root CI user give dumpcap the capture capabilities.  Idempotent.
set -euo pipefail
[ "$(id -u)" = 0 ] && exit 0
DUMPCAP=$(command -v dumpcap || true)
[ -n "$DUMPCAP" ] || { echo "dumpcap missing (tshark package)"; exit 1; }
sudo -E apt-get install -y -qq --no-install-recommends libcap2-bin >>"${APT_LOG:-/dev/null}" 2>&1
sudo chmod 0755 "$DUMPCAP"
sudo setcap cap_net_raw,cap_net_admin=eip "$DUMPCAP"
