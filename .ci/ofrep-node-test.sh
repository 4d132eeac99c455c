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

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/vane" ./cmd/vane
"$tmp/vane" serve --addr 127.0.0.1:0 --data "$tmp/data" --ofrep-base /ofrep/prod/features/ >"$tmp/server.log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 100); do
	url=$(sed -n 's/.*msg=listening url=\(http:[^ ]*\).*/\1/p' "$tmp/server.log" | head -n 1)
	[ -n "$url" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$url" ]; then
	echo "ofrep-node-test.sh: the server did not log its url= line:"
	cat "$tmp/server.log"
	exit 1
fi

(cd .ci/ofrep && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
# The admin access key vane created on first start authenticates both the
# provider (as a bearer token) and the checks' native calls.
VANE_TOKEN=$(cat "$tmp/data/admin.key") node .ci/ofrep/test.mjs "$url"
