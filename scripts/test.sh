#!/usr/bin/env bash
# The whole test suite, from a clean clone: system services, npm dependencies, then
# type check, unit, integration (real Celery workers on Redis and RabbitMQ) and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-services.sh
npm ci --no-audit --no-fund
npm test
