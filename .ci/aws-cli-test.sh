#!/usr/bin/env bash
# Round trip of the SSM protocol with the real aws CLI: builds vane, starts
# `vane serve` on a free port over a temporary data directory, and drives
# put-parameter, get-parameter, get-parameters-by-path, label-parameter-version,
# get-parameter-history and delete-parameter against it with --endpoint-url and
# the admin access key vane created on first start as the only credential. Outputs are checked with python3 (no jq). Exits non-zero
# if any check fails or the server does not stop cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== aws CLI round trip against vane serve (SSM protocol)"

command -v aws >/dev/null || { echo "aws-cli-test.sh: the aws CLI is not installed (pip install awscli)"; exit 1; }

. .ci/serve.sh
start_vane aws-cli-test.sh
echo "vane serving on $url"

# The Vane access key and a region, no shared AWS configuration from the
# machine, and cli_follow_urlparam off: the CLI v1 would otherwise fetch a
# --value that looks like a URL and store the page it downloads.
cat >"$tmp/aws-config" <<'EOF'
[default]
region = us-east-1
cli_follow_urlparam = false
EOF
export AWS_CONFIG_FILE="$tmp/aws-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/no-credentials"
# The only credential: the admin access key the server created on first
# start (admin.key holds ID.SECRET).
token=$(cat "$tmp/data/admin.key")
export AWS_ACCESS_KEY_ID="${token%%.*}" AWS_SECRET_ACCESS_KEY="${token#*.}" AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""

passed=0
failed=0
out=""

# ssm ARGS...: runs `aws ssm ARGS` against the server; its stdout and
# stderr end up in $out, its status in $status.
ssm() {
	set +e
	out=$(aws --endpoint-url "$url" --output json ssm "$@" 2>&1)
	status=$?
	set -e
}

# check NAME PYTHON-EXPRESSION: the command must have succeeded, and the
# expression, evaluated with its output parsed as JSON in `o` (no output,
# as for operations without a result, is {}), must be true.
check() {
	local name=$1 expr=$2
	if [ "$status" -eq 0 ] && OUT="$out" python3 -c "import json, os, sys; o = json.loads(os.environ['OUT'] or '{}'); sys.exit(0 if ($expr) else 1)" 2>/dev/null; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name (exit $status): $out"
	fi
}

# check_error NAME ERROR-NAME: the last command must have failed with the
# SSM error.
check_error() {
	local name=$1 want=$2
	if [ "$status" -ne 0 ] && grep -q "($want)" <<<"$out"; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name (exit $status, want $want): $out"
	fi
}

ssm put-parameter --name /ci/app/url --value http://example.invalid/v1 --type String --description "service URL"
check "put-parameter creates version 1" "o['Version'] == 1 and o['Tier'] == 'Standard'"

ssm put-parameter --name /ci/app/url --value http://example.invalid/v1 --type String
check_error "put-parameter without --overwrite" ParameterAlreadyExists

ssm put-parameter --name /ci/app/url --value http://example.invalid/v2 --overwrite
check "put-parameter --overwrite creates version 2" "o['Version'] == 2"

ssm put-parameter --name /ci/app/db/password --value hunter2 --type SecureString
check "put-parameter SecureString" "o['Version'] == 1"

ssm get-parameter --name /ci/app/url
check "get-parameter" "o['Parameter']['Value'] == 'http://example.invalid/v2' and o['Parameter']['Version'] == 2 and o['Parameter']['ARN'] == 'arn:aws:ssm:us-east-1:000000000000:parameter/ci/app/url' and o['Parameter']['Type'] == 'String'"

ssm get-parameter --name /ci/app/db/password --with-decryption
check "get-parameter --with-decryption" "o['Parameter']['Value'] == 'hunter2'"

ssm get-parameter --name /ci/app/db/password
check "get-parameter SecureString without decryption" "o['Parameter']['Value'] != 'hunter2'"

ssm get-parameters-by-path --path /ci --recursive --page-size 1
check "get-parameters-by-path (one per page, all pages)" "sorted(p['Name'] for p in o['Parameters']) == ['/ci/app/db/password', '/ci/app/url'] and 'NextToken' not in o"

ssm get-parameters-by-path --path /ci/app
check "get-parameters-by-path one level" "[p['Name'] for p in o['Parameters']] == ['/ci/app/url']"

ssm label-parameter-version --name /ci/app/url --parameter-version 1 --labels stable 1bad
check "label-parameter-version" "o['ParameterVersion'] == 1 and o['InvalidLabels'] == ['1bad']"

ssm get-parameter --name /ci/app/url:stable
check "get-parameter by label" "o['Parameter']['Version'] == 1 and o['Parameter']['Selector'] == ':stable' and o['Parameter']['Value'] == 'http://example.invalid/v1'"

ssm get-parameter-history --name /ci/app/url --max-items 5
check "get-parameter-history" "[(h['Version'], h['Labels']) for h in o['Parameters']] == [(1, ['stable']), (2, [])] and o['Parameters'][0]['Description'] == 'service URL' and o['Parameters'][1]['LastModifiedUser'] == 'arn:aws:iam::000000000000:user/admin'"

ssm delete-parameter --name /ci/app/url
check "delete-parameter" "o == {}"

ssm get-parameter --name /ci/app/url
check_error "get-parameter after delete-parameter" ParameterNotFound

ssm delete-parameter --name /ci/app/url
check_error "delete-parameter of a missing parameter" ParameterNotFound

kill -TERM "$pid"
if wait "$pid"; then
	passed=$((passed + 1))
	echo "ok   server stopped cleanly"
else
	failed=$((failed + 1))
	echo "FAIL server exit status $?:"
	cat "$tmp/server.log"
fi
pid=""

echo "aws CLI round trip: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
