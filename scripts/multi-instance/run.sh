#!/usr/bin/env bash
# `npm run test:multi-instance`: three jobwire instances (`npm start`) on one fresh PostgreSQL
# database, the standalone broker (`npm run qstash:dev`) and HAProxy in front, all on 127.0.0.1;
# runs test/deploy/multiInstance/multiInstance.deploy.ts against them and prints the numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/multi-instance/prepare.sh
exec npx vitest run --config test/deploy/multiInstance/vitest.config.ts "$@"
