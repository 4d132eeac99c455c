package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vanehq/vane"
)

// PolicyVersion is the policy grammar version Vane implements; the older
// "2008-10-17" is accepted too (it differs only in policy variables, which
// Vane does not support in either).
const PolicyVersion = "2012-10-17"

// MaxPolicyLength is the size limit of a policy document, in bytes.
const MaxPolicyLength = 10 << 10

// DetailMalformedPolicy is the detail of a policy that does not parse, as
// IAM names the error.
const DetailMalformedPolicy = "MalformedPolicyDocument"

// AllowAllPolicy allows every action on every resource: an administrator's
// key.
const AllowAllPolicy = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`

// Actions, as policies name them. ssm: actions are the SSM operations of
// the same names; kms:Decrypt is reading a SecureString's plaintext
// (WithDecryption) under a key; vane: actions are Vane's own.
const (
	ActionGetParameter            = "ssm:GetParameter"
	ActionGetParameters           = "ssm:GetParameters"
	ActionGetParametersByPath     = "ssm:GetParametersByPath"
	ActionGetParameterHistory     = "ssm:GetParameterHistory"
	ActionDescribeParameters      = "ssm:DescribeParameters"
	ActionPutParameter            = "ssm:PutParameter"
	ActionDeleteParameter         = "ssm:DeleteParameter"
	ActionDeleteParameters        = "ssm:DeleteParameters"
	ActionLabelParameterVersion   = "ssm:LabelParameterVersion"
	ActionUnlabelParameterVersion = "ssm:UnlabelParameterVersion"
	ActionAddTagsToResource       = "ssm:AddTagsToResource"
	ActionRemoveTagsFromResource  = "ssm:RemoveTagsFromResource"
	ActionListTagsForResource     = "ssm:ListTagsForResource"
	ActionDecrypt                 = "kms:Decrypt"
	ActionEvaluate                = "vane:Evaluate" // flag evaluation (native API, OFREP)
	ActionWatch                   = "vane:Watch"    // change streams and snapshots
	ActionAdmin                   = "vane:Admin"    // access keys, the keyring, compaction; server-wide
	// Staged rollouts and scheduled changes of a parameter; the resource
	// is the parameter.
	ActionStartRollout             = "vane:StartRollout"             // start a rollout
	ActionUpdateRollout            = "vane:UpdateRollout"            // pause, resume, cancel, roll back or complete one
	ActionDescribeRollouts         = "vane:DescribeRollouts"         // list and show rollouts
	ActionScheduleChange           = "vane:ScheduleChange"           // schedule a put, a label move or a rollout start
	ActionCancelScheduledChange    = "vane:CancelScheduledChange"    // cancel a scheduled change
	ActionDescribeScheduledChanges = "vane:DescribeScheduledChanges" // list and show scheduled changes
	// Change requests on paths that need approval; the resource is each
	// name the request changes.
	ActionProposeChange  = "vane:ProposeChange"  // propose a change request
	ActionApproveChange  = "vane:ApproveChange"  // approve or reject another principal's change request
	ActionBypassApproval = "vane:BypassApproval" // write directly where changes need approval
)

// numActions is the number of known actions; an actionSet has a bit for
// each, so it is at most 32.
const numActions = 26

// knownActions returns the known actions; an action's index is its bit in
// an actionSet. It is a function so that the table is not mutable state.
func knownActions() [numActions]string {
	return [numActions]string{
		ActionGetParameter, ActionGetParameters, ActionGetParametersByPath, ActionGetParameterHistory,
		ActionDescribeParameters, ActionPutParameter, ActionDeleteParameter, ActionDeleteParameters,
		ActionLabelParameterVersion, ActionUnlabelParameterVersion, ActionAddTagsToResource,
		ActionRemoveTagsFromResource, ActionListTagsForResource, ActionDecrypt, ActionEvaluate,
		ActionWatch, ActionAdmin, ActionStartRollout, ActionUpdateRollout, ActionDescribeRollouts,
		ActionScheduleChange, ActionCancelScheduledChange, ActionDescribeScheduledChanges,
		ActionProposeChange, ActionApproveChange, ActionBypassApproval,
	}
}

// Actions returns the actions a policy may name, ssm: first.
func Actions() []string {
	a := knownActions()
	return a[:]
}

// actionIndex returns the index of a known action, matched
// case-insensitively as IAM does, or -1.
func actionIndex(action string) int {
	// The canonical spelling, which callers pass, avoids the loop.
	switch action {
	case ActionGetParameter:
		return 0
	case ActionGetParameters:
		return 1
	case ActionGetParametersByPath:
		return 2
	case ActionGetParameterHistory:
		return 3
	case ActionDescribeParameters:
		return 4
	case ActionPutParameter:
		return 5
	case ActionDeleteParameter:
		return 6
	case ActionDeleteParameters:
		return 7
	case ActionLabelParameterVersion:
		return 8
	case ActionUnlabelParameterVersion:
		return 9
	case ActionAddTagsToResource:
		return 10
	case ActionRemoveTagsFromResource:
		return 11
	case ActionListTagsForResource:
		return 12
	case ActionDecrypt:
		return 13
	case ActionEvaluate:
		return 14
	case ActionWatch:
		return 15
	case ActionAdmin:
		return 16
	case ActionStartRollout:
		return 17
	case ActionUpdateRollout:
		return 18
	case ActionDescribeRollouts:
		return 19
	case ActionScheduleChange:
		return 20
	case ActionCancelScheduledChange:
		return 21
	case ActionDescribeScheduledChanges:
		return 22
	case ActionProposeChange:
		return 23
	case ActionApproveChange:
		return 24
	case ActionBypassApproval:
		return 25
	}
	for i, a := range knownActions() {
		if strings.EqualFold(a, action) {
			return i
		}
	}
	return -1
}

// resourceKind is what an action applies to.
type resourceKind uint8

const (
	kindParameter resourceKind = 1 << iota // a parameter: a name or an ssm parameter ARN
	kindKMSKey                             // a kms key or alias
	kindServer                             // the whole server (vane:Admin)
)

func actionKind(i int) resourceKind {
	switch i {
	case 13:
		return kindKMSKey
	case 16:
		return kindServer
	}
	return kindParameter
}

func (k resourceKind) String() string {
	switch k {
	case kindKMSKey:
		return "KMS keys (arn:aws:kms:REGION:ACCOUNT:key/ID, ...:alias/NAME or \"*\")"
	case kindServer:
		return "the whole server (Resource \"*\")"
	}
	return "parameters (a path such as /myapp/prod/*, arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or \"*\")"
}

// actionSet has bit i set for knownActions()[i].
type actionSet uint32

const allActions actionSet = 1<<numActions - 1

// An actionSet must have a bit for every action: a numActions above 32
// makes this constant negative, which a uint32 cannot hold, and the
// package does not compile.
const _ = uint32(32 - numActions)

// Statement is one statement of a policy, as written. Exactly one of
// Action and NotAction, and one of Resource and NotResource, is set.
type Statement struct {
	Sid         string
	Effect      string // "Allow" or "Deny"
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
}

// Policy is a parsed access policy in IAM's JSON grammar; see the package
// documentation. It is immutable and safe for concurrent use.
type Policy struct {
	text       string
	version    string
	id         string
	statements []Statement
	compiled   []compiledStatement
	// allow and deny list, per action, the statements whose actions
	// include it, in document order.
	allow, deny [numActions][]*compiledStatement
}

// compiledStatement is a statement ready for matching.
type compiledStatement struct {
	index       int
	sid         string
	deny        bool
	actions     actionSet
	notResource bool
	anyResource bool // a pattern is "*"
	resources   []resourcePattern
}

// resourcePattern is a Resource element: "*", an ARN, or a plain path
// (which stands for the parameter ARN with wildcards for partition,
// region and account). Every part is a glob: '*' matches any run of
// characters, '?' one character; matching is case-sensitive.
type resourcePattern struct {
	any                        bool
	partition, region, account glob
	res                        glob // the ARN's resource part, such as parameter/myapp/*
	// param, when res begins with the literal "parameter/", is the rest
	// of res from its slash ("/myapp/*"): the glob to match a name's
	// path form against without building its ARN.
	param glob
	// kinds is what the pattern can match; it stands for the service
	// part too, since a parameter is always ssm's and a key kms's.
	kinds resourceKind
}

// glob is a compiled wildcard pattern: '*' matches any run of bytes
// (also '/' and ':'), '?' one byte, other bytes themselves. Most
// patterns of policies are a literal or a literal and a '*', which it
// matches with a comparison or two instead of globMatch's walk.
type glob struct {
	pat string
	// A pattern without '?' is its '*'-separated parts: parts[0] must
	// begin the string, the last part end it, the others occur in order
	// between. parts is nil for a pattern with a '?' (matched by
	// globMatch) and for one without wildcards (compared).
	parts   []string
	literal bool
	all     bool // "*", "**", ...: matches everything
}

func compileGlob(pat string) glob {
	g := glob{pat: pat}
	switch {
	case pat != "" && strings.Trim(pat, "*") == "":
		g.all = true
	case !strings.ContainsAny(pat, "*?"):
		g.literal = true
	case !strings.Contains(pat, "?"):
		g.parts = strings.Split(pat, "*")
	}
	return g
}

func (g *glob) match(s string) bool {
	switch {
	case g.all:
		return true
	case g.literal:
		return s == g.pat
	case g.parts == nil:
		return globMatch(g.pat, s)
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	// Leftmost occurrences: a later part can only gain from the earliest
	// end of the one before.
	for _, part := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return true
}

// String returns the policy document as it was parsed.
func (p *Policy) String() string { return p.text }

// Version returns the policy's Version element.
func (p *Policy) Version() string { return p.version }

// ID returns the policy's optional Id element.
func (p *Policy) ID() string { return p.id }

// Statements returns a copy of the policy's statements, as written.
func (p *Policy) Statements() []Statement {
	out := make([]Statement, len(p.statements))
	copy(out, p.statements)
	return out
}

// policyError returns the error of a policy that does not parse: EINVALID
// with the JSON path of the offending element first.
func policyError(path, format string, args ...any) error {
	return &vane.Error{Code: vane.EINVALID, Detail: DetailMalformedPolicy, Message: path + ": " + fmt.Sprintf(format, args...)}
}

// quote quotes a string of the document for an error message, cut short
// so that hostile input is not echoed in full.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// ParsePolicy parses and validates a policy document. Errors: EINVALID
// (detail DetailMalformedPolicy), whose message begins with the JSON path
// of the offending element, such as
//
//	$.Statement[0].Action[1]: unknown action "ssm:GetParamter" (did you mean ssm:GetParameter?)
func ParsePolicy(doc string) (*Policy, error) {
	if len(doc) > MaxPolicyLength {
		return nil, policyError("$", "the policy is %d bytes; at most %d are allowed", len(doc), MaxPolicyLength)
	}
	if err := checkJSON([]byte(doc)); err != nil {
		return nil, err
	}
	fields, err := jsonObject("$", json.RawMessage(doc))
	if err != nil {
		return nil, err
	}
	p := &Policy{text: doc}
	var stmts json.RawMessage
	for _, f := range fields {
		path := memberPath("$", f.key)
		switch f.key {
		case "Version":
			if p.version, err = jsonString(path, f.val); err != nil {
				return nil, err
			}
			if p.version != PolicyVersion && p.version != "2008-10-17" {
				return nil, policyError(path, "version %s is not supported: use %q", quote(p.version), PolicyVersion)
			}
		case "Id":
			if p.id, err = jsonString(path, f.val); err != nil {
				return nil, err
			}
		case "Statement":
			stmts = f.val
		default:
			return nil, unknownElement(path, f.key, "Version", "Id", "Statement")
		}
	}
	if p.version == "" {
		return nil, policyError("$", "Version is missing: set \"Version\": %q", PolicyVersion)
	}
	if stmts == nil {
		return nil, policyError("$", "Statement is missing")
	}
	// Statement may be one object or a list of them.
	var items []json.RawMessage
	single := jsonKind(stmts) == '{'
	if single {
		items = []json.RawMessage{stmts}
	} else if items, err = jsonArray("$.Statement", stmts); err != nil {
		return nil, policyError("$.Statement", "must be a statement object or a list of them")
	} else if len(items) == 0 {
		return nil, policyError("$.Statement", "must hold at least one statement")
	}
	sids := make(map[string]int)
	for i, raw := range items {
		path := "$.Statement"
		if !single {
			path += "[" + strconv.Itoa(i) + "]"
		}
		st, cs, err := parseStatement(path, raw)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if j, dup := sids[st.Sid]; dup {
				return nil, policyError(path+".Sid", "Sid %s is already used by statement %d; Sids must be unique", quote(st.Sid), j)
			}
			sids[st.Sid] = i
		}
		cs.index = i
		p.statements = append(p.statements, st)
		p.compiled = append(p.compiled, cs)
	}
	for i := range p.compiled {
		cs := &p.compiled[i]
		for a := 0; a < numActions; a++ {
			if cs.actions&(1<<a) == 0 {
				continue
			}
			if cs.deny {
				p.deny[a] = append(p.deny[a], cs)
			} else {
				p.allow[a] = append(p.allow[a], cs)
			}
		}
	}
	return p, nil
}

// checkJSON reports a syntax error with its offset.
func checkJSON(doc []byte) error {
	if json.Valid(doc) {
		return nil
	}
	var v any
	err := json.Unmarshal(doc, &v)
	var serr *json.SyntaxError
	if errors.As(err, &serr) {
		return policyError("$", "the policy is not valid JSON: %s (at byte %d)", serr.Error(), serr.Offset)
	}
	return policyError("$", "the policy is not valid JSON")
}

// jsonField is a member of a JSON object, in document order.
type jsonField struct {
	key string
	val json.RawMessage
}

// jsonKind returns the first byte of a JSON value: '{', '[', '"', 't',
// 'f', 'n' or a number's first character.
func jsonKind(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// jsonTypeName names the type of a JSON value for error messages.
func jsonTypeName(raw json.RawMessage) string {
	switch jsonKind(raw) {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonObject returns the members of an object of valid JSON, refusing
// duplicate keys (IAM does; encoding/json would keep the last).
func jsonObject(path string, raw json.RawMessage) ([]jsonField, error) {
	if jsonKind(raw) != '{' {
		return nil, policyError(path, "must be an object, not %s", jsonTypeName(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, policyError(path, "must be an object")
	}
	var out []jsonField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, policyError(path, "must be an object")
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, policyError(path, "must be an object")
		}
		for _, f := range out {
			if f.key == key {
				return nil, policyError(memberPath(path, key), "%s appears twice", quote(key))
			}
		}
		out = append(out, jsonField{key, val})
	}
	return out, nil
}

// jsonArray returns the items of a list of valid JSON.
func jsonArray(path string, raw json.RawMessage) ([]json.RawMessage, error) {
	if jsonKind(raw) != '[' {
		return nil, policyError(path, "must be a list, not %s", jsonTypeName(raw))
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, policyError(path, "must be a list")
	}
	return out, nil
}

// jsonString returns a string of valid JSON.
func jsonString(path string, raw json.RawMessage) (string, error) {
	if jsonKind(raw) != '"' {
		return "", policyError(path, "must be a string, not %s", jsonTypeName(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", policyError(path, "must be a string")
	}
	return s, nil
}

// jsonStrings returns a string or a non-empty list of strings, with the
// path of each.
func jsonStrings(path string, raw json.RawMessage) ([]string, []string, error) {
	if jsonKind(raw) == '"' {
		s, err := jsonString(path, raw)
		return []string{s}, []string{path}, err
	}
	if jsonKind(raw) != '[' {
		return nil, nil, policyError(path, "must be a string or a list of strings, not %s", jsonTypeName(raw))
	}
	items, err := jsonArray(path, raw)
	if err != nil {
		return nil, nil, err
	}
	if len(items) == 0 {
		return nil, nil, policyError(path, "must not be an empty list")
	}
	out := make([]string, len(items))
	paths := make([]string, len(items))
	for i, it := range items {
		paths[i] = path + "[" + strconv.Itoa(i) + "]"
		if out[i], err = jsonString(paths[i], it); err != nil {
			return nil, nil, err
		}
	}
	return out, paths, nil
}

// memberPath returns the JSON path of an object's member: path.key for
// a key of letters (all the grammar's are), else path["key"], quoted and
// cut short, so that a hostile key is not echoed in full.
func memberPath(path, key string) string {
	plain := key != "" && len(key) <= 64
	for i := 0; plain && i < len(key); i++ {
		c := key[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	if plain {
		return path + "." + key
	}
	return path + "[" + quote(key) + "]"
}

// unknownElement is the error of a member the grammar does not have,
// suggesting the allowed one it may be a misspelling of.
func unknownElement(path, key string, allowed ...string) error {
	for _, a := range allowed {
		if strings.EqualFold(a, key) {
			return policyError(path, "unknown element %s (did you mean %s? element names are case-sensitive)", quote(key), a)
		}
	}
	return policyError(path, "unknown element %s (allowed: %s)", quote(key), strings.Join(allowed, ", "))
}

// parseStatement parses and compiles one statement.
func parseStatement(path string, raw json.RawMessage) (Statement, compiledStatement, error) {
	var st Statement
	var cs compiledStatement
	fields, err := jsonObject(path, raw)
	if err != nil {
		return st, cs, err
	}
	var actionPaths, resourcePaths []string
	var actionKey, resourceKey string
	for _, f := range fields {
		fpath := memberPath(path, f.key)
		switch f.key {
		case "Sid":
			st.Sid, err = jsonString(fpath, f.val)
		case "Effect":
			st.Effect, err = jsonString(fpath, f.val)
			if err == nil && st.Effect != "Allow" && st.Effect != "Deny" {
				if strings.EqualFold(st.Effect, "Allow") || strings.EqualFold(st.Effect, "Deny") {
					err = policyError(fpath, "Effect %s must be spelled \"Allow\" or \"Deny\" (case-sensitive)", quote(st.Effect))
				} else {
					err = policyError(fpath, "Effect must be \"Allow\" or \"Deny\", not %s", quote(st.Effect))
				}
			}
		case "Action", "NotAction":
			if actionKey != "" {
				return st, cs, policyError(fpath, "a statement has Action or NotAction, not both")
			}
			actionKey = f.key
			var list []string
			list, actionPaths, err = jsonStrings(fpath, f.val)
			if f.key == "Action" {
				st.Action = list
			} else {
				st.NotAction = list
			}
		case "Resource", "NotResource":
			if resourceKey != "" {
				return st, cs, policyError(fpath, "a statement has Resource or NotResource, not both")
			}
			resourceKey = f.key
			var list []string
			list, resourcePaths, err = jsonStrings(fpath, f.val)
			if f.key == "Resource" {
				st.Resource = list
			} else {
				st.NotResource = list
			}
		case "Condition", "Principal", "NotPrincipal":
			err = policyError(fpath, "%s is not supported: a Vane policy belongs to an access key and grants by action and resource only", f.key)
		default:
			err = unknownElement(fpath, f.key, "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource")
		}
		if err != nil {
			return st, cs, err
		}
	}
	switch {
	case st.Effect == "":
		return st, cs, policyError(path, "Effect is missing: set \"Effect\": \"Allow\" or \"Deny\"")
	case actionKey == "":
		return st, cs, policyError(path, "Action is missing: set \"Action\" (or NotAction) to an action such as \"ssm:GetParameter\"")
	case resourceKey == "":
		return st, cs, policyError(path, "Resource is missing: set \"Resource\" (or NotResource) to \"*\", a path such as \"/myapp/*\" or an ARN")
	}
	cs.sid = st.Sid
	cs.deny = st.Effect == "Deny"

	// Actions.
	actions := st.Action
	if actionKey == "NotAction" {
		actions = st.NotAction
	}
	var named actionSet // named exactly, without wildcards
	for i, a := range actions {
		set, exact, err := parseAction(actionPaths[i], a)
		if err != nil {
			return st, cs, err
		}
		cs.actions |= set
		if exact {
			named |= set
		}
	}
	if actionKey == "NotAction" {
		cs.actions = allActions &^ cs.actions
		named = 0
	}

	// Resources.
	resources := st.Resource
	if resourceKey == "NotResource" {
		resources = st.NotResource
		cs.notResource = true
	}
	var kinds resourceKind
	for i, r := range resources {
		rp, err := parseResource(resourcePaths[i], r)
		if err != nil {
			return st, cs, err
		}
		cs.anyResource = cs.anyResource || rp.any
		kinds |= rp.kinds
		cs.resources = append(cs.resources, rp)
	}
	// An action named exactly in a statement none of whose resources can
	// apply to it is a mistake (such as kms:Decrypt on a parameter path,
	// or vane:Admin on a path), not a statement that never applies.
	if !cs.notResource {
		rpath := path + "." + resourceKey
		for a, name := range knownActions() {
			if named&(1<<a) != 0 && kinds&actionKind(a) == 0 {
				return st, cs, policyError(rpath, "%s applies to %s: none of this statement's resources can match one", name, actionKind(a))
			}
		}
	}
	return st, cs, nil
}

// parseAction returns the actions an Action element matches, and whether
// it names one exactly (no wildcard).
func parseAction(path, a string) (actionSet, bool, error) {
	if a == "*" {
		return allActions, false, nil
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || service == "" || name == "" {
		return 0, false, policyError(path, "action %s must be SERVICE:ACTION, such as \"ssm:GetParameter\", or \"*\"", quote(a))
	}
	lower := strings.ToLower(a)
	wild := strings.ContainsAny(a, "*?")
	var set actionSet
	for i, k := range knownActions() {
		if wild && globMatch(lower, strings.ToLower(k)) || !wild && lower == strings.ToLower(k) {
			set |= 1 << i
		}
	}
	if set != 0 {
		return set, !wild, nil
	}
	if !strings.ContainsAny(service, "*?") && !knownService(service) {
		msg := fmt.Sprintf("unknown service %s in action %s: Vane's actions are ssm:*, kms:Decrypt and vane:*", quote(service), quote(a))
		if s := suggestAction(a); s != "" {
			msg += " (did you mean " + s + "?)"
		}
		return 0, false, policyError(path, "%s", msg)
	}
	if wild {
		return 0, false, policyError(path, "action %s matches no known action", quote(a))
	}
	msg := "unknown action " + quote(a)
	if s := suggestAction(a); s != "" {
		msg += " (did you mean " + s + "?)"
	}
	return 0, false, policyError(path, "%s", msg)
}

func knownService(s string) bool {
	return strings.EqualFold(s, "ssm") || strings.EqualFold(s, "kms") || strings.EqualFold(s, "vane")
}

// suggestAction returns the known action closest to a, if close enough
// to be a misspelling of it.
func suggestAction(a string) string {
	best, bestDist := "", 4 // suggest at distance 3 or less
	lower := strings.ToLower(a)
	for _, k := range knownActions() {
		if d := editDistance(lower, strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two strings, by bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return len(a) + len(b) // too long to be a misspelling
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseResource parses a Resource element.
func parseResource(path, r string) (resourcePattern, error) {
	if r == "*" {
		return resourcePattern{any: true, kinds: kindParameter | kindKMSKey | kindServer}, nil
	}
	if strings.Contains(r, "${") {
		return resourcePattern{}, policyError(path, "resource %s uses a policy variable, which Vane does not support", quote(r))
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; c <= ' ' || c >= 0x7f {
			return resourcePattern{}, policyError(path, "resource %s holds %q: resources are printable ASCII without spaces", quote(r), c)
		}
	}
	if strings.HasPrefix(r, "/") {
		if err := checkParamGlob(path, r, r); err != nil {
			return resourcePattern{}, err
		}
		return resourcePattern{partition: compileGlob("*"), region: compileGlob("*"), account: compileGlob("*"),
			res: compileGlob("parameter" + r), param: compileGlob(r), kinds: kindParameter}, nil
	}
	if !strings.HasPrefix(r, "arn:") {
		return resourcePattern{}, policyError(path, "resource %s must be \"*\", a parameter path beginning with / (such as \"/myapp/prod/*\") or an ARN (such as \"arn:aws:ssm:*:*:parameter/myapp/prod/*\")", quote(r))
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) != 6 {
		return resourcePattern{}, policyError(path, "ARN %s must have six parts: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE", quote(r))
	}
	service, res := parts[2], parts[5]
	rp := resourcePattern{partition: compileGlob(parts[1]), region: compileGlob(parts[3]), account: compileGlob(parts[4]), res: compileGlob(res)}
	if service == "" || res == "" {
		return rp, policyError(path, "ARN %s must name a service and a resource", quote(r))
	}
	ssm, kms := globMatch(service, "ssm"), globMatch(service, "kms")
	if ssm && globMayMatchPrefix(res, "parameter/") {
		rp.kinds |= kindParameter
	}
	if kms && (globMayMatchPrefix(res, "key/") || globMayMatchPrefix(res, "alias/")) {
		rp.kinds |= kindKMSKey
	}
	switch {
	case !ssm && !kms:
		return rp, policyError(path, "ARN %s is of service %s: Vane's resources are ssm parameters and kms keys", quote(r), quote(service))
	case rp.kinds == 0 && ssm && !kms:
		return rp, policyError(path, "ARN %s names no parameter: ssm resources are parameter/NAME, such as parameter/myapp/prod/*", quote(r))
	case rp.kinds == 0 && kms && !ssm:
		return rp, policyError(path, "ARN %s names no key: kms resources are key/ID or alias/NAME", quote(r))
	case rp.kinds == 0:
		return rp, policyError(path, "ARN %s names no parameter or key", quote(r))
	}
	if rest, ok := strings.CutPrefix(res, "parameter/"); ok {
		if strings.HasPrefix(rest, "/") {
			return rp, policyError(path, "ARN %s has two slashes after parameter: the ARN of /a/b is ...:parameter/a/b", quote(r))
		}
		param := res[len("parameter"):]
		if err := checkParamGlob(path, r, param); err != nil {
			return rp, err
		}
		rp.param = compileGlob(param)
	}
	return rp, nil
}

// checkParamGlob checks the characters of a parameter path pattern.
func checkParamGlob(path, r, glob string) error {
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == '-' || c == '/' || c == '*' || c == '?') {
			return policyError(path, "resource %s holds %q, which no parameter name has", quote(r), c)
		}
	}
	return nil
}

// globMatch reports whether s matches pattern, where '*' matches any run
// of bytes (also '/' and ':') and '?' one byte; other bytes match
// themselves. It backtracks only to the last '*', so it runs in
// O(len(pattern)*len(s)) at worst and allocates nothing.
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			starSx++
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

// globStates returns the positions of pattern reachable after matching
// prefix (position i: pattern[:i] matched), or nil if none is.
func globStates(pattern, prefix string) []bool {
	cur := make([]bool, len(pattern)+1)
	next := make([]bool, len(pattern)+1)
	closure := func(st []bool) {
		for i := 0; i < len(pattern); i++ {
			if st[i] && pattern[i] == '*' {
				st[i+1] = true
			}
		}
	}
	cur[0] = true
	closure(cur)
	for k := 0; k < len(prefix); k++ {
		c := prefix[k]
		clear(next)
		alive := false
		for i := 0; i < len(pattern); i++ {
			if !cur[i] {
				continue
			}
			switch pattern[i] {
			case '*':
				next[i] = true
				alive = true
			case '?':
				next[i+1] = true
				alive = true
			case c:
				next[i+1] = true
				alive = true
			}
		}
		if !alive {
			return nil
		}
		closure(next)
		cur, next = next, cur
	}
	return cur
}

// globMayMatchPrefix reports whether pattern matches some string that
// begins with prefix. Any position reached after the prefix can be
// completed, since every remaining pattern byte matches something.
func globMayMatchPrefix(pattern, prefix string) bool {
	return globStates(pattern, prefix) != nil
}

// globCoversPrefix reports whether pattern matches every string that
// begins with prefix. It checks a sufficient condition (after the prefix,
// only '*'s remain), which is exact for the patterns policies use, such
// as "/app/*" and "/app/*/x*"; it may answer false for an unusual pattern
// that covers the prefix, never true for one that does not.
func globCoversPrefix(pattern, prefix string) bool {
	st := globStates(pattern, prefix)
	if st == nil {
		return false
	}
	// i < len(pattern): a pattern used up by the prefix matches only the
	// prefix itself.
	for i := 0; i < len(pattern); i++ {
		if st[i] && strings.Trim(pattern[i:], "*") == "" {
			return true
		}
	}
	return false
}

// target is the resource of a request, parsed for matching.
type target struct {
	kind resourceKind
	// valid is false for a malformed resource, which only "*" matches.
	valid bool
	// arn is set for a resource given as an ARN: its partition, region
	// and account are then matched; a bare name or key id stands for a
	// resource of this server, whatever region and account a pattern
	// names (see the package documentation).
	arn                        bool
	partition, region, account string
	res                        string // the ARN resource part; "" if not built yet (a bare name)
	path                       string // a parameter's path form: "/a/b" (also "/x" for the root-level "x")
}

// splitARN splits an ARN into its six parts without allocating; the last
// part keeps any further colons.
func splitARN(arn string) (partition, service, region, account, res string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	var ok1, ok2, ok3, ok4 bool
	partition, rest, ok1 = strings.Cut(rest, ":")
	service, rest, ok2 = strings.Cut(rest, ":")
	region, rest, ok3 = strings.Cut(rest, ":")
	account, res, ok4 = strings.Cut(rest, ":")
	return partition, service, region, account, res, ok && ok1 && ok2 && ok3 && ok4
}

func parseTarget(kind resourceKind, resource string) target {
	t := target{kind: kind}
	if kind == kindServer {
		return t
	}
	if strings.HasPrefix(resource, "arn:") {
		partition, service, region, account, res, ok := splitARN(resource)
		if !ok || kind == kindParameter && service != "ssm" || kind == kindKMSKey && service != "kms" {
			return t
		}
		t.arn, t.valid = true, true
		t.partition, t.region, t.account, t.res = partition, region, account, res
		if kind == kindParameter {
			if !strings.HasPrefix(t.res, "parameter/") {
				t.valid = false
				return t
			}
			t.path = t.res[len("parameter"):]
		}
		return t
	}
	if resource == "" {
		return t
	}
	t.valid = true
	if kind == kindParameter {
		t.path = resource
		if resource[0] != '/' {
			t.path = "/" + resource
		}
		return t
	}
	t.res = resource
	if !strings.HasPrefix(resource, "alias/") {
		t.res = "key/" + resource
	}
	return t
}

// matches reports whether a resource pattern matches the target.
func (rp *resourcePattern) matches(t *target) bool {
	if rp.any {
		return true
	}
	if !t.valid || rp.kinds&t.kind == 0 {
		return false
	}
	// The resource part first: it is the one that tells patterns apart.
	if t.kind == kindParameter && rp.param.pat != "" {
		if !rp.param.match(t.path) {
			return false
		}
	} else {
		if t.res == "" {
			t.res = "parameter" + t.path
		}
		if !rp.res.match(t.res) {
			return false
		}
	}
	return !t.arn || rp.partition.match(t.partition) && rp.region.match(t.region) && rp.account.match(t.account)
}

// applies reports whether the statement's resources select the target.
func (cs *compiledStatement) applies(t *target) bool {
	for i := range cs.resources {
		if cs.resources[i].matches(t) {
			return !cs.notResource
		}
	}
	return cs.notResource
}

// Decision is the outcome of Decide: whether the action is allowed and
// which statement decided.
type Decision struct {
	Action   string
	Resource string
	// Allowed reports whether the policy allows the action.
	Allowed bool
	// Statement is the index of the statement that decided: the first
	// Deny that matched (an explicit deny) or, when none did, the first
	// Allow that matched. It is -1 for a default deny: no statement
	// matched.
	Statement int
	// Sid is the Sid of that statement, if it has one.
	Sid string
}

// ExplicitDeny reports whether a Deny statement denied the action.
func (d Decision) ExplicitDeny() bool { return !d.Allowed && d.Statement >= 0 }

// String explains the decision in one line, for `vane policy simulate`
// and for the audit history's reason of a denial.
func (d Decision) String() string {
	what := d.Action + " on " + strconv.Quote(d.Resource)
	stmt := ""
	if d.Statement >= 0 {
		stmt = "statement " + strconv.Itoa(d.Statement)
		if d.Sid != "" {
			stmt += " (Sid " + strconv.Quote(d.Sid) + ")"
		}
	}
	switch {
	case d.Allowed:
		return "allowed: " + what + " by " + stmt
	case d.Statement >= 0:
		return "denied: " + what + " by an explicit Deny in " + stmt
	case actionIndex(d.Action) < 0:
		return "denied: " + strconv.Quote(d.Action) + " is not an action Vane knows (default deny)"
	}
	return "denied: " + what + ": no statement allows it (default deny)"
}

// Decide evaluates the policy for an action on a resource, as IAM does:
// an explicit Deny wins, then any Allow allows, and otherwise the action
// is denied by default. The action is matched case-insensitively; an
// unknown action is denied by default.
//
// The resource depends on the action. For ssm: actions and vane: actions
// other than vane:Admin (vane:Evaluate, vane:Watch, and the rollout and
// schedule actions) it is a parameter: a name ("/myapp/prod/x"; "x" and
// "/x" are the same root-level parameter) or a parameter ARN. For
// kms:Decrypt it is a key: a key id, an alias ("alias/aws/ssm") or a key
// or alias ARN. For vane:Admin it is ignored: only statements whose
// resources include "*" apply. A nil policy denies everything.
func (p *Policy) Decide(action, resource string) Decision {
	d := Decision{Action: action, Resource: resource, Statement: -1}
	a := actionIndex(action)
	if p == nil || a < 0 {
		return d
	}
	var t target
	parsed := false
	get := func() *target {
		if !parsed {
			t, parsed = parseTarget(actionKind(a), resource), true
		}
		return &t
	}
	for _, cs := range p.deny[a] {
		if (cs.anyResource && !cs.notResource) || cs.applies(get()) {
			d.Statement, d.Sid = cs.index, cs.sid
			return d
		}
	}
	for _, cs := range p.allow[a] {
		if (cs.anyResource && !cs.notResource) || cs.applies(get()) {
			d.Allowed, d.Statement, d.Sid = true, cs.index, cs.sid
			return d
		}
	}
	return d
}

// ParameterARN returns the ARN of a parameter in a region and account, as
// SSM writes it: the name without its leading slash after "parameter/".
func ParameterARN(region, account, name string) string {
	return vane.ARNPrefix(region, account) + strings.TrimPrefix(name, "/")
}

// KMSKeyARN returns the ARN of a key named by id ("key/ID") or alias
// ("alias/NAME"); a keyID that is already an ARN is returned as it is.
func KMSKeyARN(region, account, keyID string) string {
	if strings.HasPrefix(keyID, "arn:") {
		return keyID
	}
	if !strings.HasPrefix(keyID, "alias/") {
		keyID = "key/" + keyID
	}
	return "arn:aws:kms:" + region + ":" + account + ":" + keyID
}

// PathFilter answers, for one action, which parameters a policy allows:
// the listing of a path and a watch stream ask it for each name, and can
// skip a path that holds nothing allowed. Make one with Policy.PathFilter
// per request or stream; it is safe for concurrent use.
type PathFilter struct {
	p           *Policy
	action      string
	all         bool
	allow, deny []*compiledStatement
}

// PathFilter returns the filter of the parameters on which the policy
// allows action (one that applies to parameters, such as
// ssm:GetParametersByPath or vane:Watch). A nil policy allows nothing.
func (p *Policy) PathFilter(action string) *PathFilter {
	f := &PathFilter{p: p, action: action}
	a := actionIndex(action)
	if p == nil || a < 0 || actionKind(a) != kindParameter {
		return f
	}
	f.allow, f.deny = p.allow[a], p.deny[a]
	if len(f.deny) == 0 {
		for _, cs := range f.allow {
			if cs.anyResource && !cs.notResource {
				f.all = true
			}
		}
	}
	return f
}

// AllowsAll reports whether every parameter is allowed, so that a caller
// need not filter at all: an Allow of the action on "*" and no Deny of it.
func (f *PathFilter) AllowsAll() bool { return f.all }

// Allows reports whether the policy allows the action on the named
// parameter; it is Decide(action, name).Allowed.
func (f *PathFilter) Allows(name string) bool {
	if f.all {
		return true
	}
	if len(f.allow) == 0 {
		return false
	}
	t := parseTarget(kindParameter, name)
	for _, cs := range f.deny {
		if (cs.anyResource && !cs.notResource) || cs.applies(&t) {
			return false
		}
	}
	for _, cs := range f.allow {
		if (cs.anyResource && !cs.notResource) || cs.applies(&t) {
			return true
		}
	}
	return false
}

// AllowsUnder reports whether some parameter whose name begins with
// prefix (such as "/myapp/prod/"; "" or "/" for all) may be allowed. False
// means none is, so the path can be skipped; true means some may be, and
// each name must still be checked with Allows.
func (f *PathFilter) AllowsUnder(prefix string) bool {
	if f.all {
		return true
	}
	if prefix != "" && prefix[0] != '/' {
		prefix = "/" + prefix
	}
	for _, cs := range f.deny {
		if cs.coversPrefix(prefix) {
			return false
		}
	}
	for _, cs := range f.allow {
		if cs.mayMatchPrefix(prefix) {
			return true
		}
	}
	return false
}

// Filter returns the names the policy allows, in order: names itself when
// all are, else a new slice.
func (f *PathFilter) Filter(names []string) []string {
	if f.all {
		return names
	}
	for i, n := range names {
		if f.Allows(n) {
			continue
		}
		out := append(make([]string, 0, len(names)-1), names[:i]...)
		for _, n := range names[i+1:] {
			if f.Allows(n) {
				out = append(out, n)
			}
		}
		return out
	}
	return names
}

// patternMayMatchPrefix reports whether a pattern matches some parameter
// whose path form begins with prefix.
func (rp *resourcePattern) mayMatchPrefix(prefix string) bool {
	switch {
	case rp.any:
		return true
	case rp.kinds&kindParameter == 0:
		return false
	case rp.param.pat != "":
		return globMayMatchPrefix(rp.param.pat, prefix)
	}
	return globMayMatchPrefix(rp.res.pat, "parameter"+prefix)
}

// coversPrefix reports whether a pattern matches every parameter whose
// path form begins with prefix (a sufficient check; see globCoversPrefix).
func (rp *resourcePattern) coversPrefix(prefix string) bool {
	switch {
	case rp.any:
		return true
	case rp.kinds&kindParameter == 0:
		return false
	case rp.param.pat != "":
		return globCoversPrefix(rp.param.pat, prefix)
	}
	return globCoversPrefix(rp.res.pat, "parameter"+prefix)
}

// mayMatchPrefix reports whether the statement may apply to some
// parameter under prefix; it may answer true when none is.
func (cs *compiledStatement) mayMatchPrefix(prefix string) bool {
	for i := range cs.resources {
		rp := &cs.resources[i]
		if cs.notResource && rp.coversPrefix(prefix) {
			return false
		}
		if !cs.notResource && rp.mayMatchPrefix(prefix) {
			return true
		}
	}
	return cs.notResource
}

// coversPrefix reports whether the statement surely applies to every
// parameter under prefix.
func (cs *compiledStatement) coversPrefix(prefix string) bool {
	for i := range cs.resources {
		rp := &cs.resources[i]
		if cs.notResource && rp.mayMatchPrefix(prefix) {
			return false
		}
		if !cs.notResource && rp.coversPrefix(prefix) {
			return true
		}
	}
	return cs.notResource
}
