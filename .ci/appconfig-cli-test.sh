#!/usr/bin/env bash
# AppConfig with the real aws CLI: builds vane, starts `vane serve` on a
# free port over a temporary data directory, seeds parameters and flags
# with the vane CLI, and drives both APIs against it with --endpoint-url
# and the admin access key vane created on first start as the only
# credential.
#
# The data plane (`aws appconfigdata start-configuration-session` and
# `get-latest-configuration ... OUTFILE`): freeform profiles (JSON, YAML,
# text, a ContentType tag), the `features` profile across a change, empty
# polls, spent tokens and missing resources.
#
# The control plane (`aws appconfig ...`), lighter than
# .ci/appconfig-boto3-test.py since each call costs about a second: the
# applications, environments and profiles the tree defines, by name and by
# ID; hosted versions (content from a file, the response body in OUTFILE,
# a Latest-Version-Number conflict); deployment strategies; a deployment
# with a strategy of no duration and no bake, waited on until COMPLETE,
# served by the data plane, then reverted with --allow-revert; one with
# AppConfig.AllAtOnce, stopped while it bakes; a `features` deployment that
# creates flags; and operations Vane does not serve.
#
# Outputs are checked with python3 (no jq). Exits non-zero if any check
# fails or the server does not stop cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== aws CLI against vane serve (AppConfig data plane and control plane)"

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

# ac ARGS...: runs `aws appconfig ARGS` (the control plane) against the
# server; its stdout and stderr end up in $out, its status in $status.
ac() {
	set +e
	out=$(aws --endpoint-url "$url" --output json appconfig "$@" 2>&1)
	status=$?
	set -e
}

# vget NAME: `vane get NAME` (the value alone) into $out, its status in
# $status; the value of a flag or a JSON parameter parses as JSON for check.
vget() {
	set +e
	out=$("$tmp/vane" get "$1" 2>&1)
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
# a stale file can't pass for an answer). The token is passed with "=":
# Vane's tokens are base64url, and about one in 64 begins with "-", which
# the CLI's argument parser takes for an option after a space.
poll() {
	rm -f "$body"
	acd get-latest-configuration --configuration-token="$1" "$body"
}

# field NAME: a member of the last command's JSON output ("" if none).
field() {
	OUT="$out" python3 -c "import json, os, sys; print(json.loads(os.environ['OUT'] or '{}').get(sys.argv[1], ''))" "$1" 2>/dev/null || true
}

# pick PYTHON-EXPRESSION: the expression evaluated with the last command's
# JSON output in `o` ("" if it fails), for values inside lists.
pick() {
	OUT="$out" python3 -c "import json, os; o = json.loads(os.environ['OUT'] or '{}'); print($1)" 2>/dev/null || true
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
# AppConfig or AppConfigData error.
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
# A second environment, without flags: the features deployment below
# creates them.
vane put /shop/staging/motd 'Welcome to the staging shop'

# --- Control plane: the objects the tree defines -----------------------------
# The IDs are derived from the names, and doc/aws-compat.md gives these:
# shop is zg83zve, its tuning/limits x7dbgmz and its features kr8e7fu.
ac list-applications
check "list-applications: shop, with its ID zg83zve, and not vane" \
	"{'Id': 'zg83zve', 'Name': 'shop'}.items() <= next((a for a in o['Items'] if a['Name'] == 'shop'), {}).items()
	and 'vane' not in [a['Name'] for a in o['Items']]"
ac get-application --application-id zg83zve
check "get-application by ID" "o['Id'] == 'zg83zve' and o['Name'] == 'shop'"
ac get-application --application-id shop
check "get-application by name" "o['Id'] == 'zg83zve' and o['Name'] == 'shop'"

ac list-environments --application-id zg83zve
check "list-environments: prod and staging, READY_FOR_DEPLOYMENT, no monitors" \
	"[(e['Name'], e['ApplicationId'], e['State'], e['Monitors']) for e in o['Items']] == [('prod', 'zg83zve', 'READY_FOR_DEPLOYMENT', []), ('staging', 'zg83zve', 'READY_FOR_DEPLOYMENT', [])]
	and all(len(e['Id']) == 7 for e in o['Items'])"
prod_id=$(pick "next(e['Id'] for e in o['Items'] if e['Name'] == 'prod')")
ac get-environment --application-id shop --environment-id "$prod_id"
check "get-environment by ID" "o['Id'] == '$prod_id' and o['Name'] == 'prod' and o['ApplicationId'] == 'zg83zve' and o['State'] == 'READY_FOR_DEPLOYMENT'"

ac list-configuration-profiles --application-id shop
check "list-configuration-profiles: features, the flags and the freeform parameters of every environment" \
	"[(p['Name'], p['Type']) for p in o['Items']] == [('export/columns', 'AWS.Freeform'), ('features', 'AWS.AppConfig.FeatureFlags'),
	('features/banner', 'AWS.Freeform'), ('features/dark-mode', 'AWS.Freeform'), ('features/new-checkout', 'AWS.Freeform'), ('motd', 'AWS.Freeform'),
	('tuning/limits', 'AWS.Freeform'), ('tuning/yaml', 'AWS.Freeform')]
	and {p['Name']: p['Id'] for p in o['Items']}['tuning/limits'] == 'x7dbgmz' and {p['Name']: p['Id'] for p in o['Items']}['features'] == 'kr8e7fu'
	and all(p['LocationUri'] == 'hosted' and p['ApplicationId'] == 'zg83zve' for p in o['Items'])"
ac list-configuration-profiles --application-id shop --type AWS.AppConfig.FeatureFlags
check "list-configuration-profiles --type AWS.AppConfig.FeatureFlags: features alone" \
	"[(p['Id'], p['Name'], p['Type']) for p in o['Items']] == [('kr8e7fu', 'features', 'AWS.AppConfig.FeatureFlags')]"
ac get-configuration-profile --application-id zg83zve --configuration-profile-id x7dbgmz
check "get-configuration-profile by ID: tuning/limits, hosted, freeform" \
	"(o['Id'], o['Name'], o['ApplicationId'], o['LocationUri'], o['Type']) == ('x7dbgmz', 'tuning/limits', 'zg83zve', 'hosted', 'AWS.Freeform')"

# The data plane takes the IDs the control plane returns.
start zg83zve "$prod_id" x7dbgmz
poll "$(field InitialConfigurationToken)"
check "start-configuration-session with the three IDs: the value of tuning/limits" \
	"json.loads(body) == {'maxItems': 50, 'timeoutMs': 1500} and o['VersionLabel'] == '1'"

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

# --- Control plane: hosted versions -------------------------------------------
limits_v1="$tmp/limits-v1.json" limits_v2="$tmp/limits-v2.json" limits_v3="$tmp/limits-v3.json"
printf '%s' '{"maxItems": 50, "timeoutMs": 1500}' >"$limits_v1"
printf '%s' '{"maxItems": 80, "timeoutMs": 1500}' >"$limits_v2"
printf '%s' '{"maxItems": 120, "timeoutMs": 1000}' >"$limits_v3"

# hosted PROFILE FILE [ARGS...]: create-hosted-configuration-version of a
# profile of shop with the content of FILE; the CLI writes the response's
# body, the content, to OUTFILE ($body, removed first).
hosted() {
	local profile=$1 file=$2
	shift 2
	rm -f "$body"
	ac create-hosted-configuration-version --application-id shop --configuration-profile-id "$profile" \
		--content "fileb://$file" "$@" "$body"
}

hosted x7dbgmz "$limits_v2" --content-type application/json --version-label v2 --description "more items"
check "create-hosted-configuration-version: version 1 with its label, description and content type; the content in OUTFILE" \
	"(o['ApplicationId'], o['ConfigurationProfileId'], o['VersionNumber'], o['VersionLabel'], o['Description'], o['ContentType'])
	== ('zg83zve', 'x7dbgmz', 1, 'v2', 'more items', 'application/json') and body == open('$limits_v2', 'rb').read()"
hosted tuning/limits "$limits_v3" --content-type application/json --version-label v3 --latest-version-number 1
check "create-hosted-configuration-version by profile name, --latest-version-number 1: version 2" \
	"(o['ConfigurationProfileId'], o['VersionNumber'], o['VersionLabel']) == ('x7dbgmz', 2, 'v3') and body == open('$limits_v3', 'rb').read()"
hosted x7dbgmz "$limits_v1" --content-type application/json --latest-version-number 1
check_error "create-hosted-configuration-version --latest-version-number 1 when 2 is the latest" ConflictException

ac list-hosted-configuration-versions --application-id shop --configuration-profile-id x7dbgmz
check "list-hosted-configuration-versions: newest first" \
	"[(v['VersionNumber'], v.get('VersionLabel'), v['ContentType']) for v in o['Items']] == [(2, 'v3', 'application/json'), (1, 'v2', 'application/json')]"
rm -f "$body"
ac get-hosted-configuration-version --application-id shop --configuration-profile-id x7dbgmz --version-number 1 "$body"
check "get-hosted-configuration-version 1: its fields, the content in OUTFILE" \
	"(o['VersionNumber'], o['VersionLabel'], o['Description'], o['ContentType']) == (1, 'v2', 'more items', 'application/json')
	and body == open('$limits_v2', 'rb').read()"

# --- Control plane: deployment strategies -------------------------------------
ac list-deployment-strategies
check "list-deployment-strategies: the four predefined ones, with AWS's numbers" \
	"[(s['Id'], s['DeploymentDurationInMinutes'], s['GrowthType'], s['GrowthFactor'], s['FinalBakeTimeInMinutes']) for s in o['Items']] == [
	('AppConfig.AllAtOnce', 0, 'LINEAR', 100, 10), ('AppConfig.Linear50PercentEvery30Seconds', 1, 'LINEAR', 50, 1),
	('AppConfig.Canary10Percent20Minutes', 20, 'EXPONENTIAL', 10, 10), ('AppConfig.Linear20PercentEvery6Minutes', 30, 'LINEAR', 20, 30)]"
ac create-deployment-strategy --name ci-now --description "no duration, no bake" --deployment-duration-in-minutes 0 \
	--final-bake-time-in-minutes 0 --growth-factor 100 --growth-type LINEAR --replicate-to NONE --tags team=ci
check "create-deployment-strategy: an ID of seven [0-9a-z], the numbers given" \
	"__import__('re').fullmatch('[0-9a-z]{7}', o['Id']) and (o['Name'], o['Description'], o['DeploymentDurationInMinutes'], o['FinalBakeTimeInMinutes'], o['GrowthFactor'], o['GrowthType'], o['ReplicateTo'])
	== ('ci-now', 'no duration, no bake', 0, 0, 100, 'LINEAR', 'NONE')"
strategy=$(field Id)
ac get-deployment-strategy --deployment-strategy-id "$strategy"
check "get-deployment-strategy of the new one" "(o['Id'], o['Name'], o['FinalBakeTimeInMinutes']) == ('$strategy', 'ci-now', 0)"

# --- Control plane: a deployment, then its revert -------------------------------
# wait_deployment ENV N STATE: get-deployment of deployment N of shop/ENV
# until its State is STATE, an error, or 10 seconds have passed.
wait_deployment() {
	local deadline=$((SECONDS + 10))
	while :; do
		ac get-deployment --application-id shop --environment-id "$1" --deployment-number "$2"
		if [ "$status" -ne 0 ] || [ "$(field State)" = "$3" ] || [ "$SECONDS" -ge "$deadline" ]; then
			return
		fi
		sleep 0.5
	done
}

# A session opened before the deployment: its polls see what it changes.
start shop prod tuning/limits
poll "$(field InitialConfigurationToken)"
check "tuning/limits before deploying: the seeded value" "json.loads(body) == json.load(open('$limits_v1'))"
next=$(field NextPollConfigurationToken)

ac start-deployment --application-id shop --environment-id "$prod_id" --configuration-profile-id x7dbgmz \
	--configuration-version v2 --deployment-strategy-id "$strategy" --description "ci: more items"
check "start-deployment of version v2 with the custom strategy: deployment 1" \
	"(o['DeploymentNumber'], o['ConfigurationName'], o['ConfigurationVersion'], o['VersionLabel'], o['DeploymentStrategyId'], o['Description'])
	== (1, 'tuning/limits', '1', 'v2', '$strategy', 'ci: more items') and o['State'] in ('DEPLOYING', 'BAKING', 'COMPLETE')"
wait_deployment prod 1 COMPLETE
check "get-deployment 1 until COMPLETE: 100%, the event log newest first" \
	"o['State'] == 'COMPLETE' and o['PercentageComplete'] == 100 and o['EventLog'][0]['EventType'] == 'DEPLOYMENT_COMPLETED'
	and o['EventLog'][-1]['EventType'] == 'DEPLOYMENT_STARTED' and o['EventLog'][-1]['TriggeredBy'] == 'USER'"
poll "$next"
check "the data plane serves the deployed version (a new VersionLabel)" \
	"body == open('$limits_v2', 'rb').read() and o['VersionLabel'] == '2'"
next=$(field NextPollConfigurationToken)

ac list-deployments --application-id shop --environment-id prod
check "list-deployments: deployment 1, COMPLETE" \
	"[(d['DeploymentNumber'], d['State'], d['ConfigurationName'], d['ConfigurationVersion']) for d in o['Items']] == [(1, 'COMPLETE', 'tuning/limits', '1')]"

ac stop-deployment --application-id shop --environment-id prod --deployment-number 1
check_error "stop-deployment of a COMPLETE deployment without --allow-revert" BadRequestException
ac stop-deployment --application-id shop --environment-id prod --deployment-number 1 --allow-revert
check "stop-deployment --allow-revert of the COMPLETE deployment: REVERTED" \
	"o['State'] == 'REVERTED' and o['EventLog'][0]['EventType'] == 'REVERT_COMPLETED'"
poll "$next"
check "the data plane serves the value from before the deployment again" "json.loads(body) == json.load(open('$limits_v1'))"

# --- Control plane: AppConfig.AllAtOnce bakes; stopping it rolls back -----------
ac start-deployment --application-id shop --environment-id prod --configuration-profile-id tuning/limits \
	--configuration-version 2 --deployment-strategy-id AppConfig.AllAtOnce
check "start-deployment of version 2 with AppConfig.AllAtOnce: deployment 2, BAKING (10 minutes)" \
	"(o['DeploymentNumber'], o['State'], o['PercentageComplete'], o['FinalBakeTimeInMinutes'], o['VersionLabel']) == (2, 'BAKING', 100, 10, 'v3')"
vget /shop/prod/tuning/limits
check "vane get while it bakes: version 2's value" "o == json.load(open('$limits_v3'))"
ac start-deployment --application-id shop --environment-id prod --configuration-profile-id tuning/limits \
	--configuration-version 1 --deployment-strategy-id "$strategy"
check_error "start-deployment while deployment 2 bakes" ConflictException
ac stop-deployment --application-id shop --environment-id prod --deployment-number 2
check "stop-deployment of the baking deployment: ROLLED_BACK" "o['State'] == 'ROLLED_BACK'"
vget /shop/prod/tuning/limits
check "vane get after the rollback: the value from before" "o == json.load(open('$limits_v1'))"

# --- Control plane: the features profile -----------------------------------------
# A document of features in Powertools' per-feature form; staging has no
# flags yet, so the deployment creates them.
features_doc="$tmp/features.json"
cat >"$features_doc" <<'JSON'
{"dark-mode": {"default": true},
 "beta-search": {"default": false, "rules": {"staff": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "staff"}]}}}}
JSON
hosted features "$features_doc" --content-type application/json --version-label flags-v1
check "create-hosted-configuration-version of features: version 1 of profile kr8e7fu" \
	"(o['ConfigurationProfileId'], o['VersionNumber'], o['VersionLabel']) == ('kr8e7fu', 1, 'flags-v1')"
ac start-deployment --application-id shop --environment-id staging --configuration-profile-id features \
	--configuration-version flags-v1 --deployment-strategy-id AppConfig.AllAtOnce
check "start-deployment of features to staging: COMPLETE at once (written, no strategy)" \
	"(o['DeploymentNumber'], o['State'], o['ConfigurationName']) == (1, 'COMPLETE', 'features')"
vget /shop/staging/features/dark-mode
check "vane get /shop/staging/features/dark-mode: the deployed flag" "o == {'default': True}"
start shop staging features
poll "$(field InitialConfigurationToken)"
check "the data plane's features document of staging: both features" \
	"json.loads(body) == {'dark-mode': {'default': True}, 'beta-search': {'default': False, 'rules': {'staff': {'when_match': True, 'conditions': [{'action': 'EQUALS', 'key': 'tier', 'value': 'staff'}]}}}}"

# --- Control plane: operations Vane does not serve ----------------------------------
ac create-application --name another-shop
check_error "create-application" UnknownOperationException
ac delete-environment --application-id shop --environment-id staging
check_error "delete-environment" UnknownOperationException

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

echo "aws CLI appconfig and appconfigdata: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
