package auth_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// policyDoc wraps statements (JSON) into a policy document.
func policyDoc(statements ...string) string {
	return `{"Version": "2012-10-17", "Statement": [` + strings.Join(statements, ", ") + `]}`
}

func mustParsePolicy(tb testing.TB, doc string) *auth.Policy {
	tb.Helper()
	p, err := auth.ParsePolicy(doc)
	if err != nil {
		tb.Fatalf("ParsePolicy(%s): %v", doc, err)
	}
	return p
}

// TestParsePolicyErrors checks the message of each kind of malformed
// policy, JSON path first.
func TestParsePolicyErrors(t *testing.T) {
	allow := func(action, resource string) string {
		return policyDoc(`{"Effect": "Allow", "Action": ` + action + `, "Resource": ` + resource + `}`)
	}
	tests := []struct {
		name, doc, want string
	}{
		{"ErrNotJSON", `{"Version": `,
			`$: the policy is not valid JSON: unexpected end of JSON input (at byte 12)`},
		{"ErrTrailingComma", `{"Version": "2012-10-17",}`,
			`$: the policy is not valid JSON: invalid character '}' looking for beginning of object key string (at byte 26)`},
		{"ErrNotObject", `["Version"]`,
			`$: must be an object, not a list`},
		{"ErrTooLarge", `{"Id": "` + strings.Repeat("x", auth.MaxPolicyLength) + `"}`,
			fmt.Sprintf(`$: the policy is %d bytes; at most %d are allowed`, auth.MaxPolicyLength+10, auth.MaxPolicyLength)},
		{"ErrNoVersion", `{"Statement": []}`,
			`$: Version is missing: set "Version": "2012-10-17"`},
		{"ErrVersion", `{"Version": "2012-10-18", "Statement": []}`,
			`$.Version: version "2012-10-18" is not supported: use "2012-10-17"`},
		{"ErrVersionNotString", `{"Version": 2012}`,
			`$.Version: must be a string, not a number`},
		{"ErrNoStatement", `{"Version": "2012-10-17"}`,
			`$: Statement is missing`},
		{"ErrEmptyStatements", `{"Version": "2012-10-17", "Statement": []}`,
			`$.Statement: must hold at least one statement`},
		{"ErrStatementString", `{"Version": "2012-10-17", "Statement": "Allow"}`,
			`$.Statement: must be a statement object or a list of them`},
		{"ErrStatementItemNotObject", policyDoc(`{"Effect": "Allow", "Action": "*", "Resource": "*"}`, `"x"`),
			`$.Statement[1]: must be an object, not a string`},
		{"ErrUnknownTopElement", `{"Version": "2012-10-17", "Statment": []}`,
			`$.Statment: unknown element "Statment" (allowed: Version, Id, Statement)`},
		{"ErrElementCase", `{"version": "2012-10-17"}`,
			`$.version: unknown element "version" (did you mean Version? element names are case-sensitive)`},
		{"ErrDuplicateElement", `{"Version": "2012-10-17", "Version": "2012-10-17"}`,
			`$.Version: "Version" appears twice`},
		{"ErrDuplicateInStatement", policyDoc(`{"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}`),
			`$.Statement[0].Effect: "Effect" appears twice`},
		{"ErrNoEffect", policyDoc(`{"Action": "*", "Resource": "*"}`),
			`$.Statement[0]: Effect is missing: set "Effect": "Allow" or "Deny"`},
		{"ErrEffect", policyDoc(`{"Effect": "Permit", "Action": "*", "Resource": "*"}`),
			`$.Statement[0].Effect: Effect must be "Allow" or "Deny", not "Permit"`},
		{"ErrEffectCase", policyDoc(`{"Effect": "allow", "Action": "*", "Resource": "*"}`),
			`$.Statement[0].Effect: Effect "allow" must be spelled "Allow" or "Deny" (case-sensitive)`},
		{"ErrNoAction", policyDoc(`{"Effect": "Allow", "Resource": "*"}`),
			`$.Statement[0]: Action is missing: set "Action" (or NotAction) to an action such as "ssm:GetParameter"`},
		{"ErrNoResource", policyDoc(`{"Effect": "Allow", "Action": "*"}`),
			`$.Statement[0]: Resource is missing: set "Resource" (or NotResource) to "*", a path such as "/myapp/*" or an ARN`},
		{"ErrActionAndNotAction", policyDoc(`{"Effect": "Allow", "Action": "*", "NotAction": "kms:Decrypt", "Resource": "*"}`),
			`$.Statement[0].NotAction: a statement has Action or NotAction, not both`},
		{"ErrResourceAndNotResource", policyDoc(`{"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "/x"}`),
			`$.Statement[0].NotResource: a statement has Resource or NotResource, not both`},
		{"ErrCondition", policyDoc(`{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}`),
			`$.Statement[0].Condition: Condition is not supported: a Vane policy belongs to an access key and grants by action and resource only`},
		{"ErrPrincipal", policyDoc(`{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}`),
			`$.Statement[0].Principal: Principal is not supported: a Vane policy belongs to an access key and grants by action and resource only`},
		{"ErrUnknownStatementElement", policyDoc(`{"Effect": "Allow", "Actions": "*", "Resource": "*"}`),
			`$.Statement[0].Actions: unknown element "Actions" (allowed: Sid, Effect, Action, NotAction, Resource, NotResource)`},
		{"ErrDuplicateSid", policyDoc(`{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}`, `{"Sid": "A", "Effect": "Deny", "Action": "*", "Resource": "/x"}`),
			`$.Statement[1].Sid: Sid "A" is already used by statement 0; Sids must be unique`},
		{"ErrSidNotString", policyDoc(`{"Sid": 1, "Effect": "Allow", "Action": "*", "Resource": "*"}`),
			`$.Statement[0].Sid: must be a string, not a number`},
		{"ErrActionMisspelled", allow(`["ssm:GetParameter", "ssm:GetParamter"]`, `"*"`),
			`$.Statement[0].Action[1]: unknown action "ssm:GetParamter" (did you mean ssm:GetParameter?)`},
		{"ErrActionUnknown", allow(`"ssm:SendCommand"`, `"*"`),
			`$.Statement[0].Action: unknown action "ssm:SendCommand"`},
		{"ErrActionUnknownService", allow(`"s3:GetObject"`, `"*"`),
			`$.Statement[0].Action: unknown service "s3" in action "s3:GetObject": Vane's actions are ssm:*, kms:Decrypt and vane:*`},
		{"ErrActionServiceMisspelled", allow(`"sms:GetParameter"`, `"*"`),
			`$.Statement[0].Action: unknown service "sms" in action "sms:GetParameter": Vane's actions are ssm:*, kms:Decrypt and vane:* (did you mean ssm:GetParameter?)`},
		{"ErrActionNoService", allow(`"GetParameter"`, `"*"`),
			`$.Statement[0].Action: action "GetParameter" must be SERVICE:ACTION, such as "ssm:GetParameter", or "*"`},
		{"ErrActionEmpty", allow(`""`, `"*"`),
			`$.Statement[0].Action: action "" must be SERVICE:ACTION, such as "ssm:GetParameter", or "*"`},
		{"ErrActionWildcardMatchesNothing", allow(`"ssm:Send*"`, `"*"`),
			`$.Statement[0].Action: action "ssm:Send*" matches no known action`},
		{"ErrActionWildcardUnknownService", allow(`"ec2:*"`, `"*"`),
			`$.Statement[0].Action: unknown service "ec2" in action "ec2:*": Vane's actions are ssm:*, kms:Decrypt and vane:*`},
		{"ErrActionEmptyList", allow(`[]`, `"*"`),
			`$.Statement[0].Action: must not be an empty list`},
		{"ErrActionNotString", allow(`["ssm:GetParameter", 7]`, `"*"`),
			`$.Statement[0].Action[1]: must be a string, not a number`},
		{"ErrActionObject", allow(`{"ssm": "GetParameter"}`, `"*"`),
			`$.Statement[0].Action: must be a string or a list of strings, not an object`},
		{"ErrResourceRelative", allow(`"ssm:GetParameter"`, `"myapp/*"`),
			`$.Statement[0].Resource: resource "myapp/*" must be "*", a parameter path beginning with / (such as "/myapp/prod/*") or an ARN (such as "arn:aws:ssm:*:*:parameter/myapp/prod/*")`},
		{"ErrResourceShortARN", allow(`"ssm:GetParameter"`, `["/a", "arn:aws:ssm:us-east-1:parameter/a"]`),
			`$.Statement[0].Resource[1]: ARN "arn:aws:ssm:us-east-1:parameter/a" must have six parts: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`},
		{"ErrResourceOtherService", allow(`"ssm:GetParameter"`, `"arn:aws:s3:::bucket/*"`),
			`$.Statement[0].Resource: ARN "arn:aws:s3:::bucket/*" is of service "s3": Vane's resources are ssm parameters and kms keys`},
		{"ErrResourceSSMNotParameter", allow(`"ssm:GetParameter"`, `"arn:aws:ssm:*:*:document/x"`),
			`$.Statement[0].Resource: ARN "arn:aws:ssm:*:*:document/x" names no parameter: ssm resources are parameter/NAME, such as parameter/myapp/prod/*`},
		{"ErrResourceKMSNotKey", allow(`"kms:Decrypt"`, `"arn:aws:kms:*:*:grant/x"`),
			`$.Statement[0].Resource: ARN "arn:aws:kms:*:*:grant/x" names no key: kms resources are key/ID or alias/NAME`},
		{"ErrResourceDoubleSlash", allow(`"ssm:GetParameter"`, `"arn:aws:ssm:*:*:parameter//myapp/*"`),
			`$.Statement[0].Resource: ARN "arn:aws:ssm:*:*:parameter//myapp/*" has two slashes after parameter: the ARN of /a/b is ...:parameter/a/b`},
		{"ErrResourceBadChar", allow(`"ssm:GetParameter"`, `"/myapp/prod:x"`),
			`$.Statement[0].Resource: resource "/myapp/prod:x" holds ':', which no parameter name has`},
		{"ErrResourceSpace", allow(`"ssm:GetParameter"`, `"/my app"`),
			`$.Statement[0].Resource: resource "/my app" holds ' ': resources are printable ASCII without spaces`},
		{"ErrResourceVariable", allow(`"ssm:GetParameter"`, `"/home/${aws:username}/*"`),
			`$.Statement[0].Resource: resource "/home/${aws:username}/*" uses a policy variable, which Vane does not support`},
		{"ErrDecryptOnParameterPath", allow(`["ssm:GetParameter", "kms:Decrypt"]`, `"/myapp/prod/*"`),
			`$.Statement[0].Resource: kms:Decrypt applies to KMS keys (arn:aws:kms:REGION:ACCOUNT:key/ID, ...:alias/NAME or "*"): none of this statement's resources can match one`},
		{"ErrAdminOnPath", allow(`"vane:Admin"`, `"/myapp/*"`),
			`$.Statement[0].Resource: vane:Admin applies to the whole server (Resource "*"): none of this statement's resources can match one`},
		{"ErrGetParameterOnKey", allow(`"ssm:GetParameter"`, `"arn:aws:kms:*:*:key/*"`),
			`$.Statement[0].Resource: ssm:GetParameter applies to parameters (a path such as /myapp/prod/*, arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or "*"): none of this statement's resources can match one`},
		{"ErrRolloutActionMisspelled", allow(`"vane:StartRolout"`, `"/myapp/*"`),
			`$.Statement[0].Action: unknown action "vane:StartRolout" (did you mean vane:StartRollout?)`},
		{"ErrRolloutActionSingular", allow(`["vane:StartRollout", "vane:DescribeRollout"]`, `"/myapp/*"`),
			`$.Statement[0].Action[1]: unknown action "vane:DescribeRollout" (did you mean vane:DescribeRollouts?)`},
		{"ErrScheduleActionMisspelled", allow(`"vane:CancelSchedueldChange"`, `"/myapp/*"`),
			`$.Statement[0].Action: unknown action "vane:CancelSchedueldChange" (did you mean vane:CancelScheduledChange?)`},
		{"ErrScheduleActionUnknown", allow(`"vane:DeleteSchedule"`, `"/myapp/*"`),
			`$.Statement[0].Action: unknown action "vane:DeleteSchedule"`},
		{"ErrRolloutWildcardMatchesNothing", allow(`"vane:*Rolout*"`, `"*"`),
			`$.Statement[0].Action: action "vane:*Rolout*" matches no known action`},
		{"ErrRolloutActionOnKey", allow(`"vane:StartRollout"`, `"arn:aws:kms:*:*:key/*"`),
			`$.Statement[0].Resource: vane:StartRollout applies to parameters (a path such as /myapp/prod/*, arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or "*"): none of this statement's resources can match one`},
		{"ErrSingleStatementPath", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["ssm:GetParamters"], "Resource": "*"}}`,
			`$.Statement.Action[0]: unknown action "ssm:GetParamters" (did you mean ssm:GetParameters?)`},
		{"ErrLongInputCut", allow(`"ssm:`+strings.Repeat("x", 200)+`"`, `"*"`),
			`$.Statement[0].Action: unknown action "ssm:` + strings.Repeat("x", 76) + `"...`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := auth.ParsePolicy(tc.doc)
			if err == nil {
				t.Fatalf("ParsePolicy accepted %s as %v", tc.doc, p)
			}
			if code := vane.ErrorCode(err); code != vane.EINVALID {
				t.Errorf("error code %q, want %q", code, vane.EINVALID)
			}
			if d := vane.ErrorDetail(err); d != auth.DetailMalformedPolicy {
				t.Errorf("error detail %q, want %q", d, auth.DetailMalformedPolicy)
			}
			if got := vane.ErrorMessage(err); got != tc.want {
				t.Errorf("message\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestParsePolicyAccepts checks the forms the grammar allows and what the
// parsed policy reports of them.
func TestParsePolicyAccepts(t *testing.T) {
	docs := []string{
		auth.AllowAllPolicy,
		`{"Version": "2008-10-17", "Id": "legacy", "Statement": {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "/a"}}`,
		policyDoc(`{"Sid": "Read", "Effect": "Allow", "Action": ["ssm:GetParameter*", "SSM:describeparameters"], "Resource": ["/a/*", "arn:aws:ssm:us-east-1:123456789012:parameter/b/*"]}`),
		policyDoc(`{"Effect": "Deny", "NotAction": "ssm:Get*", "NotResource": "/public/*"}`),
		policyDoc(`{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": ["arn:aws:kms:*:*:key/*", "arn:aws:kms:eu-west-1:1:alias/app"]}`),
		policyDoc(`{"Effect": "Allow", "Action": ["vane:Admin", "ssm:*"], "Resource": "*"}`),
		policyDoc(`{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:*:*:*:*"}`),
		policyDoc(`{"Effect": "Allow", "Action": "ssm:?etParameter", "Resource": "/a?c/*"}`),
		// A wildcard action is not checked against the resources: "*" on a
		// path is the common "everything under this path".
		policyDoc(`{"Effect": "Allow", "Action": "*", "Resource": "/myapp/*"}`),
		// The rollout and schedule actions, named in any case, on paths
		// and parameter ARNs.
		policyDoc(`{"Effect": "Allow", "Action": ["VANE:startrollout", "vane:updaterollout", "Vane:DescribeRollouts"], "Resource": ["/myapp/*", "arn:aws:ssm:*:*:parameter/other/*"]}`),
		policyDoc(`{"Effect": "Deny", "Action": ["vane:ScheduleChange", "vane:CANCELSCHEDULEDCHANGE", "vane:describeScheduledChanges"], "Resource": "*"}`),
	}
	for _, doc := range docs {
		p := mustParsePolicy(t, doc)
		if p.String() != doc {
			t.Errorf("String() = %s, want the document parsed", p)
		}
	}
	p := mustParsePolicy(t, docs[2])
	st := p.Statements()
	if p.Version() != "2012-10-17" || len(st) != 1 || st[0].Sid != "Read" || st[0].Effect != "Allow" ||
		len(st[0].Action) != 2 || len(st[0].Resource) != 2 || st[0].NotAction != nil {
		t.Errorf("Statements() = %+v", st)
	}
	if p := mustParsePolicy(t, docs[1]); p.ID() != "legacy" || len(p.Statements()) != 1 {
		t.Errorf("single-statement policy: Id %q, %d statements", p.ID(), len(p.Statements()))
	}
	if len(auth.Actions()) != 26 {
		t.Errorf("Actions() = %v, want 26 actions", auth.Actions())
	}
}

// decidePolicy is the policy of TestDecide; statements are numbered as
// the decisions report them.
var decidePolicy = policyDoc(
	// 0
	`{"Sid": "ReadProdFlags", "Effect": "Allow", "Action": ["ssm:GetParameter*", "vane:Evaluate"], "Resource": "arn:aws:ssm:*:*:parameter/myapp/prod/features/*"}`,
	// 1
	`{"Sid": "DevAll", "Effect": "Allow", "Action": "ssm:*", "Resource": "/myapp/dev/*"}`,
	// 2
	`{"Sid": "NoDevSecrets", "Effect": "Deny", "Action": "*", "Resource": "/myapp/dev/secrets/*"}`,
	// 3
	`{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": ["arn:aws:kms:us-east-1:000000000000:alias/app", "arn:aws:kms:*:*:key/1234abcd-*"]}`,
	// 4
	`{"Sid": "OneLevel", "Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "/tuning/?/x"}`,
	// 5
	`{"Sid": "Root", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "/rootname"}`,
	// 6
	`{"Sid": "StrictARN", "Effect": "Allow", "Action": "ssm:PutParameter", "Resource": "arn:aws:ssm:eu-west-1:111122223333:parameter/eu/*"}`,
	// 7
	`{"Sid": "NotPublicWrites", "Effect": "Deny", "Action": ["ssm:PutParameter", "ssm:Delete*"], "NotResource": ["/myapp/dev/*", "/eu/*"]}`,
	// 8
	`{"Sid": "Watch", "Effect": "Allow", "NotAction": ["ssm:*", "kms:*", "vane:Admin", "vane:Evaluate"], "Resource": "/myapp/*"}`,
)

// TestDecide is the decision table of IAM's evaluation rules.
func TestDecide(t *testing.T) {
	p := mustParsePolicy(t, decidePolicy)
	const (
		allow = iota
		explicitDeny
		defaultDeny
	)
	tests := []struct {
		name, action, resource string
		outcome                int
		statement              int
	}{
		{"AllowByARNPattern", "ssm:GetParameter", "/myapp/prod/features/dark-mode", allow, 0},
		{"AllowWildcardActionSuffix", "ssm:GetParametersByPath", "/myapp/prod/features/a/b", allow, 0},
		{"AllowSecondActionInList", "vane:Evaluate", "/myapp/prod/features/x", allow, 0},
		{"DefaultDenyOtherAction", "ssm:AddTagsToResource", "/myapp/prod/features/x", defaultDeny, -1},
		{"DefaultDenyOutsidePath", "ssm:GetParameter", "/myapp/prod/db/url", defaultDeny, -1},
		{"DefaultDenyPathItself", "ssm:GetParameter", "/myapp/prod/features", defaultDeny, -1},
		{"ActionCaseInsensitive", "SSM:getparameter", "/myapp/prod/features/x", allow, 0},
		{"ResourceCaseSensitive", "ssm:GetParameter", "/MyApp/prod/features/x", defaultDeny, -1},
		{"AllowServiceWildcard", "ssm:LabelParameterVersion", "/myapp/dev/a", allow, 1},
		{"ExplicitDenyWins", "ssm:GetParameter", "/myapp/dev/secrets/db", explicitDeny, 2},
		{"ExplicitDenyWinsForEveryAction", "vane:Watch", "/myapp/dev/secrets/db", explicitDeny, 2},
		{"NameWithoutLeadingSlashIsRoot", "ssm:GetParameter", "rootname", allow, 5},
		{"RootNameWithSlash", "ssm:GetParameter", "/rootname", allow, 5},
		{"QuestionMarkOneChar", "ssm:DescribeParameters", "/tuning/a/x", allow, 4},
		{"QuestionMarkNotTwo", "ssm:DescribeParameters", "/tuning/ab/x", defaultDeny, -1},
		{"QuestionMarkNotZero", "ssm:DescribeParameters", "/tuning//x", defaultDeny, -1},
		// ARNs of the request are matched in every part; names in none of
		// partition, region and account.
		{"ARNRequestAnyRegion", "ssm:GetParameter", "arn:aws:ssm:ap-south-1:999999999999:parameter/myapp/prod/features/x", allow, 0},
		{"ARNRequestPathPattern", "ssm:DeleteParameter", "arn:aws:ssm:us-east-1:000000000000:parameter/myapp/dev/x", allow, 1},
		{"NameMatchesStrictARNPattern", "ssm:PutParameter", "/eu/x", allow, 6},
		{"ARNRequestStrictRegion", "ssm:PutParameter", "arn:aws:ssm:eu-west-1:111122223333:parameter/eu/x", allow, 6},
		{"ARNRequestOtherRegion", "ssm:PutParameter", "arn:aws:ssm:us-east-1:111122223333:parameter/eu/x", defaultDeny, -1},
		{"ARNRequestOtherAccount", "ssm:PutParameter", "arn:aws:ssm:eu-west-1:000000000000:parameter/eu/x", defaultDeny, -1},
		{"ARNRequestOfRootName", "ssm:GetParameter", "arn:aws:ssm:us-east-1:000000000000:parameter/rootname", allow, 5},
		{"ARNRequestOtherService", "ssm:GetParameter", "arn:aws:kms:us-east-1:000000000000:parameter/rootname", defaultDeny, -1},
		{"MalformedARNRequest", "ssm:GetParameter", "arn:aws:ssm:parameter/rootname", defaultDeny, -1},
		// NotResource: writes are denied everywhere but under two paths.
		{"NotResourceDenies", "ssm:PutParameter", "/myapp/prod/x", explicitDeny, 7},
		{"NotResourceSpares", "ssm:PutParameter", "/myapp/dev/x", allow, 1},
		// NotAction: every action but the listed ones.
		{"NotActionAllows", "vane:Watch", "/myapp/prod/db/url", allow, 8},
		{"NotActionExcludes", "vane:Evaluate", "/myapp/prod/db/url", defaultDeny, -1},
		// kms:Decrypt takes keys: ids, aliases and their ARNs.
		{"DecryptAlias", "kms:Decrypt", "alias/app", allow, 3},
		{"DecryptAliasARN", "kms:Decrypt", "arn:aws:kms:us-east-1:000000000000:alias/app", allow, 3},
		{"DecryptAliasARNOtherAccount", "kms:Decrypt", "arn:aws:kms:us-east-1:111111111111:alias/app", defaultDeny, -1},
		{"DecryptKeyID", "kms:Decrypt", "1234abcd-12ab-34cd-56ef-1234567890ab", allow, 3},
		{"DecryptKeyARN", "kms:Decrypt", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", allow, 3},
		{"DecryptOtherKey", "kms:Decrypt", "ffffabcd-12ab-34cd-56ef-1234567890ab", defaultDeny, -1},
		{"DecryptDefaultAlias", "kms:Decrypt", "alias/aws/ssm", defaultDeny, -1},
		{"DecryptNotAParameter", "kms:Decrypt", "/myapp/dev/x", defaultDeny, -1},
		{"UnknownActionDenied", "ssm:SendCommand", "/myapp/dev/x", defaultDeny, -1},
		{"AdminNotGranted", "vane:Admin", "*", defaultDeny, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(tc.action, tc.resource)
			got := defaultDeny
			if d.Allowed {
				got = allow
			} else if d.ExplicitDeny() {
				got = explicitDeny
			}
			if got != tc.outcome || d.Statement != tc.statement {
				t.Errorf("Decide(%s, %s) = %s (statement %d), want outcome %d by statement %d", tc.action, tc.resource, d, d.Statement, tc.outcome, tc.statement)
			}
			if d.Action != tc.action || d.Resource != tc.resource {
				t.Errorf("Decision names %s on %s", d.Action, d.Resource)
			}
		})
	}
}

// rolloutActions are the actions of staged rollouts and scheduled
// changes.
var rolloutActions = []string{
	auth.ActionStartRollout, auth.ActionUpdateRollout, auth.ActionDescribeRollouts,
	auth.ActionScheduleChange, auth.ActionCancelScheduledChange, auth.ActionDescribeScheduledChanges,
}

// TestDecideRolloutActions checks that the rollout and schedule actions
// are parameter actions like the ssm: ones: granted by path, matched by
// wildcards, denied by default.
func TestDecideRolloutActions(t *testing.T) {
	p := mustParsePolicy(t, policyDoc(
		// 0
		`{"Sid": "StartProd", "Effect": "Allow", "Action": "vane:StartRollout", "Resource": "/myapp/prod/*"}`,
		// 1
		`{"Sid": "DevRollouts", "Effect": "Allow", "Action": "vane:*Rollout*", "Resource": "/myapp/dev/*"}`,
		// 2
		`{"Sid": "OpsSchedules", "Effect": "Allow", "Action": ["VANE:describescheduledchanges", "vane:cancelScheduledChange"], "Resource": "arn:aws:ssm:*:*:parameter/ops/*"}`,
		// 3
		`{"Sid": "Locked", "Effect": "Deny", "Action": "vane:UpdateRollout", "Resource": "/myapp/dev/locked/*"}`,
		// 4
		`{"Sid": "Team", "Effect": "Allow", "Action": "vane:*", "Resource": "/team/*"}`,
		// 5
		`{"Sid": "Describe", "Effect": "Allow", "Action": "vane:Describe*", "Resource": "/shared/*"}`,
		// 6
		`{"Sid": "AllSSM", "Effect": "Allow", "Action": "ssm:*", "Resource": "*"}`,
	))
	const (
		allow = iota
		explicitDeny
		defaultDeny
	)
	tests := []struct {
		name, action, resource string
		outcome                int
		statement              int
	}{
		{"StartUnderPath", "vane:StartRollout", "/myapp/prod/features/x", allow, 0},
		{"StartOutsidePath", "vane:StartRollout", "/other/x", defaultDeny, -1},
		{"StartPathItself", "vane:StartRollout", "/myapp/prod", defaultDeny, -1},
		{"StartByARN", "vane:StartRollout", "arn:aws:ssm:us-east-1:000000000000:parameter/myapp/prod/features/x", allow, 0},
		{"StartCaseInsensitive", "VANE:startrollout", "/myapp/prod/features/x", allow, 0},
		{"StartDoesNotGrantUpdate", "vane:UpdateRollout", "/myapp/prod/features/x", defaultDeny, -1},
		{"StartDoesNotGrantSchedule", "vane:ScheduleChange", "/myapp/prod/features/x", defaultDeny, -1},
		{"RolloutWildcardStart", "vane:StartRollout", "/myapp/dev/x", allow, 1},
		{"RolloutWildcardUpdate", "vane:UpdateRollout", "/myapp/dev/x", allow, 1},
		{"RolloutWildcardDescribe", "vane:DescribeRollouts", "/myapp/dev/x", allow, 1},
		{"RolloutWildcardNotSchedule", "vane:ScheduleChange", "/myapp/dev/x", defaultDeny, -1},
		{"RolloutWildcardNotDescribeSchedules", "vane:DescribeScheduledChanges", "/myapp/dev/x", defaultDeny, -1},
		{"ExplicitDenyOfUpdate", "vane:UpdateRollout", "/myapp/dev/locked/x", explicitDeny, 3},
		{"DenyOfUpdateSparesDescribe", "vane:DescribeRollouts", "/myapp/dev/locked/x", allow, 1},
		{"ScheduleDescribeByARNPattern", "vane:DescribeScheduledChanges", "/ops/x", allow, 2},
		{"ScheduleCancelByARNPattern", "vane:CancelScheduledChange", "/ops/x", allow, 2},
		{"ScheduleChangeNotListed", "vane:ScheduleChange", "/ops/x", defaultDeny, -1},
		{"DescribeWildcardRollouts", "vane:DescribeRollouts", "/shared/x", allow, 5},
		{"DescribeWildcardSchedules", "vane:DescribeScheduledChanges", "/shared/x", allow, 5},
		{"DescribeWildcardNotStart", "vane:StartRollout", "/shared/x", defaultDeny, -1},
		{"SSMWildcardNotRollouts", "vane:StartRollout", "/anything", defaultDeny, -1},
		{"SSMWildcardStillSSM", "ssm:PutParameter", "/anything", allow, 6},
		{"MisspelledDenied", "vane:StartRolout", "/myapp/prod/features/x", defaultDeny, -1},
		{"VaneWildcardStartRollout", "vane:StartRollout", "/team/x", allow, 4},
		{"VaneWildcardUpdateRollout", "vane:UpdateRollout", "/team/x", allow, 4},
		{"VaneWildcardDescribeRollouts", "vane:DescribeRollouts", "/team/x", allow, 4},
		{"VaneWildcardScheduleChange", "vane:ScheduleChange", "/team/x", allow, 4},
		{"VaneWildcardCancelScheduledChange", "vane:CancelScheduledChange", "/team/x", allow, 4},
		{"VaneWildcardDescribeScheduledChanges", "vane:DescribeScheduledChanges", "/team/x", allow, 4},
		{"VaneWildcardOutsidePath", "vane:ScheduleChange", "/teams/x", defaultDeny, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(tc.action, tc.resource)
			got := defaultDeny
			if d.Allowed {
				got = allow
			} else if d.ExplicitDeny() {
				got = explicitDeny
			}
			if got != tc.outcome || d.Statement != tc.statement {
				t.Errorf("Decide(%s, %s) = %s (statement %d), want outcome %d by statement %d", tc.action, tc.resource, d, d.Statement, tc.outcome, tc.statement)
			}
		})
	}
	t.Run("AllowedByStar", func(t *testing.T) {
		all := mustParsePolicy(t, auth.AllowAllPolicy)
		for _, a := range rolloutActions {
			if d := all.Decide(a, "/myapp/prod/x"); !d.Allowed || d.Statement != 0 {
				t.Errorf("allow-all: Decide(%s) = %s", a, d)
			}
		}
	})
	t.Run("DeniedByDefault", func(t *testing.T) {
		// A policy written before these actions existed, naming every
		// other action exactly, grants none of them.
		var old []string
		for _, a := range auth.Actions() {
			if !strings.Contains(a, "Rollout") && !strings.Contains(a, "Schedule") {
				old = append(old, `"`+a+`"`)
			}
		}
		q := mustParsePolicy(t, policyDoc(`{"Effect": "Allow", "Action": [`+strings.Join(old, ", ")+`], "Resource": "*"}`))
		for _, a := range rolloutActions {
			if d := q.Decide(a, "/myapp/prod/x"); d.Allowed || d.Statement != -1 {
				t.Errorf("Decide(%s) = %s, want a default deny", a, d)
			}
		}
	})
	t.Run("PathFilter", func(t *testing.T) {
		f := p.PathFilter(auth.ActionStartRollout)
		if !f.AllowsUnder("/myapp/prod/") || f.AllowsUnder("/other/") || !f.Allows("/myapp/prod/features/x") || f.Allows("/other/x") {
			t.Error("PathFilter(vane:StartRollout) does not follow statement 0")
		}
		if f := p.PathFilter(auth.ActionUpdateRollout); f.AllowsUnder("/myapp/dev/locked/") || !f.AllowsUnder("/myapp/dev/") {
			t.Error("PathFilter(vane:UpdateRollout) does not follow the Deny of statement 3")
		}
	})
}

func TestDecideAllowAll(t *testing.T) {
	p := mustParsePolicy(t, auth.AllowAllPolicy)
	for _, a := range auth.Actions() {
		for _, r := range []string{"/a/b", "x", "arn:aws:ssm:us-east-1:000000000000:parameter/a", "alias/aws/ssm", "*", ""} {
			if d := p.Decide(a, r); !d.Allowed || d.Statement != 0 {
				t.Errorf("allow-all: Decide(%s, %s) = %s", a, r, d)
			}
		}
	}
	if d := p.Decide("vane:Nothing", "/a"); d.Allowed {
		t.Errorf("allow-all allows an unknown action: %s", d)
	}
}

func TestDecideAdmin(t *testing.T) {
	p := mustParsePolicy(t, policyDoc(
		`{"Effect": "Allow", "Action": "*", "Resource": "/app/*"}`,
		`{"Effect": "Allow", "Action": "vane:admin", "Resource": "*"}`,
		`{"Effect": "Deny", "Action": "vane:*", "NotResource": "/app/*"}`,
	))
	if d := p.Decide(auth.ActionAdmin, ""); d.Allowed || d.Statement != 2 {
		// The server-wide resource is outside /app/*, so the NotResource
		// Deny applies to it.
		t.Errorf("Decide(vane:Admin) = %s, want an explicit deny by statement 2", d)
	}
	p = mustParsePolicy(t, policyDoc(
		`{"Effect": "Allow", "Action": "*", "Resource": "/app/*"}`,
		`{"Effect": "Allow", "Action": "vane:admin", "Resource": "*"}`,
	))
	if d := p.Decide(auth.ActionAdmin, "/ignored"); !d.Allowed || d.Statement != 1 {
		t.Errorf("Decide(vane:Admin) = %s, want allowed by statement 1 (a path Resource never grants vane:Admin)", d)
	}
	var nilPolicy *auth.Policy
	if d := nilPolicy.Decide(auth.ActionGetParameter, "/a"); d.Allowed || d.Statement != -1 {
		t.Errorf("nil policy: %s", d)
	}
}

func TestDecisionString(t *testing.T) {
	p := mustParsePolicy(t, decidePolicy)
	for _, tc := range []struct{ action, resource, want string }{
		{"ssm:GetParameter", "/myapp/prod/features/x", `allowed: ssm:GetParameter on "/myapp/prod/features/x" by statement 0 (Sid "ReadProdFlags")`},
		{"kms:Decrypt", "alias/app", `allowed: kms:Decrypt on "alias/app" by statement 3`},
		{"ssm:GetParameter", "/myapp/dev/secrets/x", `denied: ssm:GetParameter on "/myapp/dev/secrets/x" by an explicit Deny in statement 2 (Sid "NoDevSecrets")`},
		{"ssm:PutParameter", "/other", `denied: ssm:PutParameter on "/other" by an explicit Deny in statement 7 (Sid "NotPublicWrites")`},
		{"ssm:GetParameter", "/other", `denied: ssm:GetParameter on "/other": no statement allows it (default deny)`},
		{"ssm:GetParamter", "/other", `denied: "ssm:GetParamter" is not an action Vane knows (default deny)`},
	} {
		if got := p.Decide(tc.action, tc.resource).String(); got != tc.want {
			t.Errorf("Decide(%s, %s).String()\n got %s\nwant %s", tc.action, tc.resource, got, tc.want)
		}
	}
}

func TestARNHelpers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{auth.ParameterARN("us-east-1", "000000000000", "/myapp/prod/x"), "arn:aws:ssm:us-east-1:000000000000:parameter/myapp/prod/x"},
		{auth.ParameterARN("eu-west-1", "111122223333", "x"), "arn:aws:ssm:eu-west-1:111122223333:parameter/x"},
		{auth.ParameterARN(vane.DefaultRegion, vane.DefaultAccount, "/x"), "arn:aws:ssm:us-east-1:000000000000:parameter/x"},
		{auth.KMSKeyARN("us-east-1", "000000000000", "alias/aws/ssm"), "arn:aws:kms:us-east-1:000000000000:alias/aws/ssm"},
		{auth.KMSKeyARN("us-east-1", "000000000000", "1234abcd"), "arn:aws:kms:us-east-1:000000000000:key/1234abcd"},
		{auth.KMSKeyARN("us-east-1", "000000000000", "arn:aws:kms:eu-west-1:1:key/k"), "arn:aws:kms:eu-west-1:1:key/k"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
	// A name and its ARN decide alike.
	p := mustParsePolicy(t, decidePolicy)
	for _, name := range []string{"/myapp/prod/features/x", "/myapp/dev/secrets/y", "rootname", "/nothing"} {
		byName := p.Decide(auth.ActionGetParameter, name)
		byARN := p.Decide(auth.ActionGetParameter, auth.ParameterARN(vane.DefaultRegion, vane.DefaultAccount, name))
		if byName.Allowed != byARN.Allowed || byName.Statement != byARN.Statement {
			t.Errorf("%s: by name %s, by ARN %s", name, byName, byARN)
		}
	}
}

func TestPathFilter(t *testing.T) {
	p := mustParsePolicy(t, decidePolicy)
	t.Run("AllowsMatchesDecide", func(t *testing.T) {
		names := []string{"/myapp/prod/features/a", "/myapp/prod/db", "/myapp/dev/a", "/myapp/dev/secrets/s",
			"/tuning/a/x", "rootname", "/rootname", "/eu/x", "/other"}
		for _, a := range auth.Actions() {
			f := p.PathFilter(a)
			var want []string
			for _, n := range names {
				allowed := p.Decide(a, n).Allowed
				if f.Allows(n) != allowed {
					t.Errorf("PathFilter(%s).Allows(%s) = %v, Decide says %v", a, n, !allowed, allowed)
				}
				if allowed {
					want = append(want, n)
				}
			}
			if got := f.Filter(names); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("PathFilter(%s).Filter = %v, want %v", a, got, want)
			}
		}
	})
	t.Run("AllowsUnder", func(t *testing.T) {
		for _, tc := range []struct {
			action, prefix string
			want           bool
		}{
			{"ssm:GetParameter", "/", true},
			{"ssm:GetParameter", "", true},
			{"ssm:GetParameter", "/myapp/", true},
			{"ssm:GetParameter", "/myapp/prod/", true},
			{"ssm:GetParameter", "/myapp/prod/features/", true},
			{"ssm:GetParameter", "/myapp/prod/db/", false},
			{"ssm:GetParameter", "/myapp/dev/", true},
			{"ssm:GetParameter", "/myapp/dev/secrets/", false}, // all denied
			{"ssm:GetParameter", "/myapp/dev/secrets", true},   // "/myapp/dev/secretsX" is allowed
			{"ssm:GetParameter", "/other/", false},
			{"ssm:GetParameter", "/root", true}, // "/rootname"
			{"ssm:GetParameter", "root", true},  // the same, without the slash
			{"ssm:DescribeParameters", "/tuning/", true},
			{"ssm:DescribeParameters", "/tuning/ab", false},
			{"ssm:DescribeParameters", "/tuning/a/", true},
			{"vane:Watch", "/myapp/prod/", true},
			{"vane:Watch", "/other/", false},
			{"ssm:PutParameter", "/myapp/prod/", false}, // denied by the NotResource Deny
			{"ssm:PutParameter", "/eu/", true},
			{"kms:Decrypt", "/", false}, // not a parameter action
			{"vane:Admin", "/", false},  // not a parameter action
			{"ssm:Nothing", "/", false}, // unknown
		} {
			if got := p.PathFilter(tc.action).AllowsUnder(tc.prefix); got != tc.want {
				t.Errorf("PathFilter(%s).AllowsUnder(%q) = %v, want %v", tc.action, tc.prefix, got, tc.want)
			}
		}
	})
	t.Run("AllowsAllFastPath", func(t *testing.T) {
		all := mustParsePolicy(t, auth.AllowAllPolicy).PathFilter(auth.ActionWatch)
		names := []string{"/a", "b"}
		if !all.AllowsAll() || !all.AllowsUnder("/x/") || !all.Allows("/y") {
			t.Error("allow-all policy: the filter does not allow everything")
		}
		if got := all.Filter(names); &got[0] != &names[0] {
			t.Error("allow-all Filter copied the names")
		}
		withDeny := mustParsePolicy(t, policyDoc(
			`{"Effect": "Allow", "Action": "*", "Resource": "*"}`,
			`{"Effect": "Deny", "Action": "vane:Watch", "Resource": "/secret/*"}`,
		))
		if f := withDeny.PathFilter(auth.ActionWatch); f.AllowsAll() || f.Allows("/secret/x") || !f.Allows("/public/x") || f.AllowsUnder("/secret/") {
			t.Error("a Deny does not disable the fast path")
		}
		if f := withDeny.PathFilter(auth.ActionGetParameter); !f.AllowsAll() {
			t.Error("a Deny of another action disables the fast path")
		}
		var nilPolicy *auth.Policy
		if f := nilPolicy.PathFilter(auth.ActionWatch); f.AllowsAll() || f.Allows("/a") || f.AllowsUnder("/") || len(f.Filter(names)) != 0 {
			t.Error("nil policy: the filter allows something")
		}
	})
}

// benchPolicy is a realistic policy of ten statements, the last of which
// is the one that allows the benchmarked request.
var benchPolicy = policyDoc(
	`{"Sid": "S0", "Effect": "Deny", "Action": "ssm:*", "Resource": "/team-a/prod/secrets/*"}`,
	`{"Sid": "S1", "Effect": "Deny", "Action": ["ssm:PutParameter", "ssm:Delete*"], "Resource": "arn:aws:ssm:*:*:parameter/shared/*"}`,
	`{"Sid": "S2", "Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": "/team-a/dev/*"}`,
	`{"Sid": "S3", "Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": "/team-b/*/features/*"}`,
	`{"Sid": "S4", "Effect": "Allow", "Action": "vane:Evaluate", "Resource": "/team-c/*"}`,
	`{"Sid": "S5", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:*:alias/team-a"}`,
	`{"Sid": "S6", "Effect": "Allow", "Action": ["ssm:DescribeParameters", "ssm:ListTagsForResource"], "Resource": "*"}`,
	`{"Sid": "S7", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": ["/team-d/a", "/team-d/b", "/team-d/c"]}`,
	`{"Sid": "S8", "Effect": "Allow", "Action": "ssm:PutParameter", "Resource": "/team-a/dev/*"}`,
	`{"Sid": "S9", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1:000000000000:parameter/team-a/prod/features/*"}`,
)

// BenchmarkDecide measures Decide on a ten-statement policy.
func BenchmarkDecide(b *testing.B) {
	p := mustParsePolicy(b, benchPolicy)
	for _, bc := range []struct{ name, action, resource string }{
		{"AllowedByLast", "ssm:GetParameter", "/team-a/prod/features/dark-mode"},
		{"DefaultDeny", "ssm:GetParameter", "/team-z/prod/x"},
		{"ExplicitDeny", "ssm:GetParameter", "/team-a/prod/secrets/db"},
		{"ARN", "ssm:GetParameter", "arn:aws:ssm:us-east-1:000000000000:parameter/team-a/prod/features/dark-mode"},
		{"AllowStarAfterDeny", "ssm:DescribeParameters", "/team-a/prod/x"},
	} {
		if d := p.Decide(bc.action, bc.resource); bc.name == "AllowedByLast" && d.Statement != 9 {
			b.Fatalf("%s: %s", bc.name, d)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Decide(bc.action, bc.resource)
			}
		})
	}
}

// BenchmarkDecideAllowAll measures Decide on AllowAllPolicy, which needs
// no look at the resource.
func BenchmarkDecideAllowAll(b *testing.B) {
	p := mustParsePolicy(b, auth.AllowAllPolicy)
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(auth.ActionGetParameter, "/team-a/prod/features/dark-mode")
	}
}

// BenchmarkPathFilterAllows measures the per-name check of a listing.
func BenchmarkPathFilterAllows(b *testing.B) {
	f := mustParsePolicy(b, benchPolicy).PathFilter(auth.ActionGetParametersByPath)
	b.ReportAllocs()
	for b.Loop() {
		f.Allows("/team-b/prod/features/x")
	}
}

// BenchmarkParsePolicy measures parsing the ten-statement policy, which
// an Authenticator does once per key and cache period.
func BenchmarkParsePolicy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.ParsePolicy(benchPolicy); err != nil {
			b.Fatal(err)
		}
	}
}
