#!/usr/bin/env bash
# Makes sure what the multi-instance topology needs is here: HAProxy (Debian's package) and the
# local PostgreSQL server (127.0.0.1:5432, trust auth), as .ci/run does for Chromium and PostgreSQL.
set -euo pipefail
if ! command -v haproxy >/dev/null 2>&1; then
  echo "HAProxy is missing; installing Debian's package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q haproxy || { apt-get update -q && apt-get install -y -q haproxy; }
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "PostgreSQL is down; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
