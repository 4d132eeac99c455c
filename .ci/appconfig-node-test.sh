#!/usr/bin/env bash
# The AppConfig data plane against Powertools for AWS Lambda (TypeScript):
# builds vane, starts `vane serve` on a free port, installs
# @aws-lambda-powertools/parameters and @aws-sdk/client-appconfigdata
# (pinned in .ci/appconfig/package-lock.json) with npm ci, and runs
# .ci/appconfig/test.mjs, which seeds parameters and flags with the vane
# CLI, reads them through AppConfigProvider and AppConfigDataClient, and
# checks the feature-flags document against Vane's native evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== AppConfig data plane with Powertools for AWS Lambda (TypeScript) on Node.js"
command -v node >/dev/null && command -v npm >/dev/null || { echo "appconfig-node-test.sh: node and npm are needed (apt-get install nodejs npm)"; exit 1; }

. .ci/serve.sh
start_vane appconfig-node-test.sh

(cd .ci/appconfig && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
# The admin access key vane created on first start signs the SDK's
# requests (ID.SECRET as the AWS key pair), authenticates the CLI's puts
# and the native evaluations. No shared AWS configuration from the machine,
# and no notice that later SDK releases will want Node.js 22.
status=0
AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true \
	VANE_TOKEN=$(cat "$tmp/data/admin.key") VANE_BIN="$tmp/vane" \
	node .ci/appconfig/test.mjs "$url" || status=$?
if [ "$status" -ne 0 ]; then
	echo "appconfig-node-test.sh: server log:"
	tail -n 50 "$tmp/server.log"
fi
exit "$status"
