#!/usr/bin/env bash
# Starts the multi-instance topology (INSTANCES=3 jobwire processes, the broker, HAProxy) and
# keeps it up until Ctrl-C, printing the load balancer's URL and an admin token.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/multi-instance/prepare.sh
exec npx tsx test/deploy/multiInstance/up.ts
