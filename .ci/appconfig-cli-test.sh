#!/usr/bin/env bash
# The AppConfig data plane with the real aws CLI: builds vane, starts
# `vane serve` on a free port over a temporary data directory, seeds
# parameters and flags with the vane CLI, and drives
# `aws appconfigdata start-configuration-session` and
# `get-latest-configuration ... OUTFILE` against it with --endpoint-url and
# the admin access key vane created on first start as the only credential:
# freeform profiles (JSON, YAML, text, a ContentType tag), the `features`
# profile across a change, empty polls, spent tokens and missing resources.
# Outputs are checked with python3 (no jq). Exits non-zero if any check
# fails or the server does not stop cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== aws CLI against vane serve (AppConfig data plane)"

command -v aws >/dev/null || { echo "appconfig-cli-test.sh: the aws CLI is not installed (pip install awscli)"; exit 1; }

. .ci/serve.sh
start_vane appconfig-cli-test.sh
echo "vane serving on $url"

# The Vane access key and a region, no shared AWS configuration from the
# machine.
cat >"$tmp/aws-config" <<'EOF'
[default]
region = us-east-1
EOF
export AWS_CONFIG_FILE="$tmp/aws-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/no-credentials"
# The only credential: the admin access key the server created on first
# start (admin.key holds ID.SECRET). The vane CLI takes it whole.
token=$(cat "$tmp/data/admin.key")
export AWS_ACCESS_KEY_ID="${token%%.*}" AWS_SECRET_ACCESS_KEY="${token#*.}" AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
export VANE_TOKEN="$token" VANE_SERVER="$url"

passed=0
failed=0
out=""
status=0
body="$tmp/configuration" # get-latest-configuration's OUTFILE

# vane ARGS...: the vane CLI against the server; a failure stops the script.
vane() {
	"$tmp/vane" "$@" >/dev/null
}

# acd ARGS...: runs `aws appconfigdata ARGS` against the server; its stdout
# and stderr end up in $out, its status in $status.
acd() {
	set +e
	out=$(aws --endpoint-url "$url" --output json appconfigdata "$@" 2>&1)
	status=$?
	set -e
}

# start APP ENV PROFILE [ARGS...]: start-configuration-session.
start() {
	local app=$1 env=$2 profile=$3
	shift 3
	acd start-configuration-session --application-identifier "$app" --environment-identifier "$env" \
		--configuration-profile-identifier "$profile" "$@"
}

# poll TOKEN: get-latest-configuration into $body (removed first, so that
# a stale file can't pass for an answer).
poll() {
	rm -f "$body"
	acd get-latest-configuration --configuration-token "$1" "$body"
}

# field NAME: a member of the last command's JSON output ("" if none).
field() {
	OUT="$out" python3 -c "import json, os, sys; print(json.loads(os.environ['OUT'] or '{}').get(sys.argv[1], ''))" "$1" 2>/dev/null || true
}

# check NAME PYTHON-EXPRESSION: the command must have succeeded, and the
# expression must be true, evaluated with its output parsed as JSON in `o`
# and the bytes of OUTFILE in `body` (None if it was not written).
check() {
	local name=$1 expr=$2
	if [ "$status" -eq 0 ] && OUT="$out" BODY="$body" python3 -c "
import json, os, sys
o = json.loads(os.environ['OUT'] or '{}')
body = open(os.environ['BODY'], 'rb').read() if os.path.exists(os.environ['BODY']) else None
sys.exit(0 if ($expr) else 1)" 2>/dev/null; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name (exit $status): $out"
		if [ -f "$body" ]; then
			echo "     OUTFILE: $(head -c 2000 "$body")"
		fi
	fi
}

# check_error NAME ERROR-NAME: the last command must have failed with the
# AppConfigData error.
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

# --- Seed -------------------------------------------------------------------
vane put /shop/prod/tuning/limits '{"maxItems": 50, "timeoutMs": 1500}'
vane put /shop/prod/tuning/yaml "$(printf 'retries: 3\nbackoff:\n  base: 100ms\n')"
vane put /shop/prod/motd 'Welcome to the shop'
vane put /shop/prod/export/columns 'id,name,price' --tags ContentType=text/csv
vane put /shop/prod/features/dark-mode true
vane put /shop/prod/features/new-checkout '{"default": false, "rules": [{"name": "beta-testers", "when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}]}]}'
vane put /shop/prod/features/banner '{"variants": {"classic": "classic", "holiday": "holiday-2026"}, "default_variant": "classic", "rules": [{"name": "de", "variant": "holiday", "conditions": [{"action": "IN", "key": "country", "value": ["DE", "AT"]}]}]}'

# --- Control plane (aws appconfig ...) --------------------------------------
# CONTROL PLANE: not served yet. When Vane serves AppConfig's control plane,
# check here that `aws appconfig list-applications` lists shop,
# `list-environments --application-id ID` lists prod, and
# `list-configuration-profiles` lists features and the freeform profiles, and
# that a session can be started with the IDs they return instead of names.

# --- A freeform JSON profile ------------------------------------------------
start shop prod tuning/limits
check "start-configuration-session tuning/limits" "len(o['InitialConfigurationToken']) > 0"
initial=$(field InitialConfigurationToken)

poll "$initial"
check "get-latest-configuration tuning/limits: the value, application/json, VersionLabel 1, interval 60" \
	"json.loads(body) == {'maxItems': 50, 'timeoutMs': 1500} and o['ContentType'] == 'application/json' and o['VersionLabel'] == '1' and o['NextPollIntervalInSeconds'] == 60 and len(o['NextPollConfigurationToken']) > 0"
next=$(field NextPollConfigurationToken)

poll "$next"
check "get-latest-configuration again: an empty OUTFILE and a new token" \
	"body == b'' and len(o['NextPollConfigurationToken']) > 0 and o['NextPollConfigurationToken'] != '$next'"

poll "$initial"
check_error "get-latest-configuration with a spent token" BadRequestException

poll "not-a-token"
check_error "get-latest-configuration with a made-up token" BadRequestException

# --- Content types of freeform profiles --------------------------------------
start shop prod tuning/yaml
poll "$(field InitialConfigurationToken)"
check "tuning/yaml: application/x-yaml" "o['ContentType'] == 'application/x-yaml' and body == b'retries: 3\nbackoff:\n  base: 100ms'"

start shop prod motd
poll "$(field InitialConfigurationToken)"
check "motd: text/plain" "o['ContentType'] == 'text/plain' and body == b'Welcome to the shop'"

start shop prod export/columns
poll "$(field InitialConfigurationToken)"
check "export/columns with the tag ContentType=text/csv: text/csv" "o['ContentType'] == 'text/csv' and body == b'id,name,price'"

# --- The features profile across a change -----------------------------------
start shop prod features
check "start-configuration-session features" "len(o['InitialConfigurationToken']) > 0"
poll "$(field InitialConfigurationToken)"
check "get-latest-configuration features: the Powertools document" "o['ContentType'] == 'application/json' and len(o['VersionLabel']) > 0
	and (d := json.loads(body)).keys() == {'dark-mode', 'new-checkout', 'banner'}
	and d['dark-mode']['default'] is True and d['dark-mode'].get('rules', {}) == {}
	and d['new-checkout'] == {'default': False, 'rules': {'beta-testers': {'when_match': True, 'conditions': [{'action': 'EQUALS', 'key': 'tier', 'value': 'beta'}]}}}
	and d['banner'] == {'default': 'classic', 'boolean_type': False, 'rules': {'de': {'when_match': 'holiday-2026', 'conditions': [{'action': 'IN', 'key': 'country', 'value': ['DE', 'AT']}]}}}"
label1=$(field VersionLabel)
next=$(field NextPollConfigurationToken)

poll "$next"
check "get-latest-configuration features again: an empty OUTFILE" "body == b''"
next=$(field NextPollConfigurationToken)

vane put /shop/prod/features/dark-mode false --overwrite
poll "$next"
check "after vane put dark-mode false: the new document, a new VersionLabel" \
	"json.loads(body)['dark-mode']['default'] is False and json.loads(body)['new-checkout']['default'] is False and o['VersionLabel'] not in ('', '$label1')"
spent=$next
next=$(field NextPollConfigurationToken)

poll "$next"
check "the poll after that: an empty OUTFILE" "body == b''"

poll "$spent"
check_error "get-latest-configuration with the token just spent" BadRequestException

# --- RequiredMinimumPollIntervalInSeconds -------------------------------------
start shop prod features --required-minimum-poll-interval-in-seconds 15
poll "$(field InitialConfigurationToken)"
check "a session with a 15 s minimum interval: NextPollIntervalInSeconds 15" "o['NextPollIntervalInSeconds'] == 15 and len(body) > 0"
poll "$(field NextPollConfigurationToken)"
check_error "polling again at once" BadRequestException
# (Below 15 s the CLI refuses before sending: .ci/appconfig-boto3-test.py
# sends one without the client-side validation.)

# --- Missing resources ---------------------------------------------------------
start no-such-app prod features
check_error "start-configuration-session of a missing application" ResourceNotFoundException
start shop no-such-env features
check_error "start-configuration-session of a missing environment" ResourceNotFoundException
start shop prod no/such/profile
check_error "start-configuration-session of a missing profile" ResourceNotFoundException

# --- A wrong secret -------------------------------------------------------------
set +e
out=$(AWS_SECRET_ACCESS_KEY=wrong aws --endpoint-url "$url" --output json appconfigdata start-configuration-session \
	--application-identifier shop --environment-identifier prod --configuration-profile-identifier features 2>&1)
status=$?
set -e
check_error "a wrong secret access key" InvalidSignatureException

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

echo "aws CLI appconfigdata: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
