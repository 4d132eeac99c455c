#!/usr/bin/env bash
# OFREP against the real OpenFeature Node.js stack: builds vane, starts
# `vane serve --ofrep-base /ofrep/prod/features/` on a free port, installs
# @openfeature/ofrep-provider and @openfeature/server-sdk (pinned in
# .ci/ofrep/package-lock.json) with npm ci, and runs .ci/ofrep/test.mjs,
# which checks every OFREP answer against Vane's native evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== OFREP with @openfeature/ofrep-provider on Node.js"
command -v node >/dev/null && command -v npm >/dev/null || { echo "ofrep-node-test.sh: node and npm are needed (apt-get install nodejs npm)"; exit 1; }

. .ci/serve.sh
start_vane ofrep-node-test.sh --ofrep-base /ofrep/prod/features/

(cd .ci/ofrep && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
# The admin access key vane created on first start authenticates both the
# provider (as a bearer token) and the checks' native calls.
VANE_TOKEN=$(cat "$tmp/data/admin.key") node .ci/ofrep/test.mjs "$url"
