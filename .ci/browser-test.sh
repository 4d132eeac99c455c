#!/usr/bin/env bash
# The dashboard in a real browser: installs Debian's chromium when it is
# missing and playwright-core (pinned in web/e2e/package-lock.json) with
# npm ci, builds vane, and runs web/e2e/*.test.mjs, which start their own
# `vane serve` processes. Screenshots land in $VANE_E2E_OUT (default
# web/e2e/out). With --bench it runs the overview benchmark instead
# (web/e2e/bench.mjs; BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== dashboard: playwright-core driving Debian's chromium"
command -v node >/dev/null && command -v npm >/dev/null || { echo "browser-test.sh: node and npm are needed (apt-get install nodejs npm)"; exit 1; }
if [ ! -x /usr/bin/chromium ]; then
	echo "browser-test.sh: installing Debian's chromium package"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq chromium >/dev/null
fi
export VANE_TEST_CHROMIUM=/usr/bin/chromium

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/vane" ./cmd/vane
export VANE_BIN="$tmp/vane"
export VANE_E2E_OUT="${VANE_E2E_OUT:-$PWD/web/e2e/out}"

(cd web/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cd web/e2e
if [ "${1:-}" = "--bench" ]; then
	node bench.mjs
else
	node --test --test-concurrency=1 --test-reporter=spec dashboard.test.mjs
fi
