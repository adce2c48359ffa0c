#!/usr/bin/env bash
# PostgreSQL: the server binaries (initdb, pg_ctl) for tests/pgfixture.py, which starts a private
# cluster on a free loopback port as the `postgres` user; psycopg for the store.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -E"
export DEBIAN_FRONTEND=noninteractive
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >>"${APT_LOG:-/dev/null}" 2>&1
fi
# The packaged cluster is not used by the tests; it may keep running (it listens on 5432 only).
getent passwd postgres >/dev/null || { echo "no postgres OS user after installing postgresql" >&2; exit 1; }
command -v runuser >/dev/null || $SUDO apt-get install -y -qq util-linux >>"${APT_LOG:-/dev/null}" 2>&1
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import psycopg, psycopg_pool" 2>/dev/null; then
  .venv/bin/pip install -q 'psycopg[binary]>=3.1' 'psycopg-pool>=3.2'
fi
ls -d /usr/lib/postgresql/*/bin | tail -1
