// Package auth holds Vane's access control: access keys (the credentials),
// the policies that say what a key may do, and the checks of both. It
// does no I/O of its own: keys are kept by a KeyStore (package sqlstore
// implements it, so every node sharing a database sees the same keys) and
// secrets are sealed by a vane.Cipher (package keyring).
//
// # Access keys
//
// An access key is an id and a secret, shaped like AWS's so that the aws
// CLI, boto3 and the AWS SDKs take them as static credentials:
//
//	id:     VNK and 17 characters of base32 (A-Z, 2-7), 20 in all: VNK7Q2MZX4J6TBW3KD5A
//	secret: 40 characters of URL-safe base64 (30 random bytes from crypto/rand)
//
// The native API takes the same key as a bearer token, id and secret
// joined by a dot, which neither contains:
//
//	Authorization: Bearer VNK7Q2MZX4J6TBW3KD5A.2bM0y...40 characters...Qx_-
//
// (ParseBearer, BearerToken). A key also has a unique name, a creation
// time, the time it was last used, an optional expiry, a disabled flag and
// its policy (the JSON text). Keys are created with their secret, which is
// shown once; a lost secret is replaced by a new key, not recovered.
//
// # How secrets are stored
//
// The store never holds a secret in plaintext. It holds two forms:
//
//   - SecretHash, the SHA-256 of the secret (hex). Bearer tokens are
//     checked against it with a constant-time comparison
//     (crypto/subtle), without any decryption. A plain hash suffices:
//     slow password hashes protect guessable passwords, and a secret is
//     240 random bits, beyond any search of a stolen hash.
//   - SealedSecret, the token "<id>.<secret>" sealed by the server's
//     keyring (vane.Cipher, under the logical key DefaultSecretKeyID).
//     SigV4 can't work from a hash: the server must recompute the
//     client's HMAC, which takes the secret itself, so SecretFor opens
//     it. Sealing the whole token binds the secret to its id: a sealed
//     secret copied into another key's row does not open as that key's.
//
// A copy of the database alone therefore discloses no usable credential;
// the database together with the keyring does, exactly as for SecureString
// values.
//
// # Authentication
//
// An Authenticator checks credentials against a KeyStore. Authenticate
// takes a bearer token: it looks the key up, compares the hashes in
// constant time (also for an unknown id, against a dummy hash), and only
// then checks that the key is enabled and not expired, so that the state
// of a key is told only to a caller who holds its secret. SecretFor gives
// a SigV4 verifier the secret of an enabled, unexpired key, and
// PrincipalFor returns the key and policy once the signature is verified.
//
// Every failure is a *KeyError whose Err is one of ErrMalformedToken,
// ErrUnknownKey, ErrWrongSecret, ErrKeyDisabled or ErrKeyExpired (use
// errors.Is), and whose Error text names the reason and the key id for
// logs and the audit history. To callers (vane.ErrorCode, ErrorMessage) it
// is EUNAUTHORIZED, with one message for a malformed token, an unknown key
// and a wrong secret, so the API does not tell which ids exist; a disabled
// and an expired key have messages of their own. Over SigV4, AWS answers
// UnrecognizedClientException for an unknown and an inactive key alike;
// the SSM transport should map all of them so.
//
// # Caching
//
// Requests must not each read the database, so an Authenticator caches
// keys in memory with a short time to live (CacheTTL, DefaultCacheTTL: 5
// seconds), negative answers for unknown ids included (bounded by
// MaxCacheEntries). Changes made through the Authenticator (CreateKey,
// UpdateKey, DeleteKey) drop the cached key at once; changes made on
// another node, or in the store directly, take effect here within CacheTTL.
// A TTL needs no notification channel, and every node sharing the database
// honours it: a disabled or deleted key stops working everywhere within
// seconds. Concurrent misses for one key share one read. The cache holds a
// key's parsed policy and, once SecretFor has opened it, its secret.
//
// Last use is recorded cheaply: a successful authentication notes the time
// in memory, and the notes are written (TouchKey) every TouchInterval
// (DefaultTouchInterval: a minute) while the Authenticator is open, and on
// Close, so a busy key costs one write a minute rather than one a request.
//
// # Policies
//
// A key's policy is a document in IAM's JSON grammar (ParsePolicy):
//
//	{
//	  "Version": "2012-10-17",
//	  "Statement": [
//	    {"Sid": "ReadProdFlags", "Effect": "Allow",
//	     "Action": ["ssm:GetParameter*", "vane:Evaluate", "vane:Watch"],
//	     "Resource": "arn:aws:ssm:*:*:parameter/myapp/prod/features/*"},
//	    {"Effect": "Deny", "Action": "ssm:*", "Resource": "/myapp/prod/secrets/*"}
//	  ]
//	}
//
// Version is required ("2012-10-17"; "2008-10-17" is accepted). Statement
// is one statement or a list of them; each has an optional Sid (unique in
// the policy), Effect "Allow" or "Deny", Action or NotAction, and Resource
// or NotResource, each a string or a list of strings. Element names and
// Effect are case-sensitive, as in IAM. Condition, Principal, NotPrincipal
// and policy variables (${aws:username}) are not supported and are
// rejected, as are unknown elements: a policy Vane would read differently
// from IAM must not parse. Errors name the JSON path of the offending
// element:
//
//	$.Statement[0].Action[1]: unknown action "ssm:GetParamter" (did you mean ssm:GetParameter?)
//
// Actions are the SSM operations (ssm:GetParameter, ssm:GetParameters,
// ssm:GetParametersByPath, ssm:GetParameterHistory, ssm:DescribeParameters,
// ssm:PutParameter, ssm:DeleteParameter, ssm:DeleteParameters,
// ssm:LabelParameterVersion, ssm:UnlabelParameterVersion,
// ssm:AddTagsToResource, ssm:RemoveTagsFromResource,
// ssm:ListTagsForResource), kms:Decrypt (reading a SecureString's
// plaintext), vane:Evaluate (flag evaluation), vane:Watch (change streams
// and snapshots), the staged-rollout actions vane:StartRollout,
// vane:UpdateRollout (pause, resume, cancel, roll back, complete) and
// vane:DescribeRollouts, the scheduled-change actions vane:ScheduleChange,
// vane:CancelScheduledChange and vane:DescribeScheduledChanges, the
// change-request actions vane:ProposeChange, vane:ApproveChange and
// vane:BypassApproval (writing directly where changes need approval), and
// vane:Admin (keys, keyring, compaction: server-wide). Every action but
// kms:Decrypt and vane:Admin applies to parameters: the rollout and
// schedule actions to the name rolled out or changed. They match
// case-insensitively, as in IAM, and may hold wildcards ("*", "ssm:*",
// "vane:*Rollout*", "?" for one character), which must match at least one
// known action; unknown services and actions are errors. A wildcard or a
// NotAction covers the actions known when the policy is evaluated, so
// "vane:*" grants actions added after the policy was written.
//
// Resources are "*"; parameter ARNs (arn:aws:ssm:REGION:ACCOUNT:parameter/
// followed by the name without its leading slash, as SSM writes them);
// plain parameter paths ("/myapp/prod/*", short for the parameter ARN with
// any partition, region and account); or, for kms:Decrypt, key and alias
// ARNs (arn:aws:kms:REGION:ACCOUNT:key/ID, ...:alias/NAME). Every part may
// hold the wildcards '*' (any run of characters, '/' included) and '?'
// (one character); resources match case-sensitively. An action named
// exactly in a statement none of whose Resources can apply to it, such as
// kms:Decrypt on a parameter path or vane:Admin on anything but "*", is an
// error rather than a statement that silently never applies.
//
// Evaluation (Policy.Decide) is IAM's: a matching Deny wins, else a
// matching Allow allows, else the request is denied by default. A request
// names its resource by name ("/myapp/prod/x") or by ARN. A name is a
// parameter of this server, and a Vane server is one region and one
// account, so a name matches a pattern whatever partition, region and
// account the pattern names: an IAM policy copied from AWS, with the real
// account id in its ARNs, works as written. A resource given as an ARN is
// matched in every part. The Decision says which statement decided, and
// its String explains it in one line. PathFilter answers the same
// question for the listings and watch streams that cover many names, with
// a fast path for a policy that allows an action on "*".
package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// Key is an access key as stored. The record holds no plaintext secret:
// SecretHash and SealedSecret are its two stored forms (see the package
// documentation).
type Key struct {
	ID           string
	Name         string
	SecretHash   string // hex SHA-256 of the secret
	SealedSecret string // the token "<id>.<secret>", sealed by the keyring
	Policy       string // the policy document, JSON
	Created      time.Time
	LastUsed     time.Time // zero: never used
	Expires      time.Time // zero: never expires
	Disabled     bool
}

// Expired reports whether the key has expired at now.
func (k *Key) Expired(now time.Time) bool {
	return !k.Expires.IsZero() && !now.Before(k.Expires)
}

// KeyUpdate changes some attributes of a key; nil fields are kept.
type KeyUpdate struct {
	Name     *string
	Policy   *string
	Expires  *time.Time // the zero time removes the expiry
	Disabled *bool
}

// Apply applies the update to k and checks the result with CheckKey.
func (u *KeyUpdate) Apply(k *Key) error {
	if u.Name != nil {
		k.Name = *u.Name
	}
	if u.Policy != nil {
		k.Policy = *u.Policy
	}
	if u.Expires != nil {
		k.Expires = *u.Expires
	}
	if u.Disabled != nil {
		k.Disabled = *u.Disabled
	}
	return CheckKey(k)
}

// KeyStore keeps access keys. It is shared by every node using the
// database, so a key created or disabled on one node is seen by all.
type KeyStore interface {
	// CreateKey stores a new key. Errors: EINVALID (see CheckKey),
	// ECONFLICT (a key with that id or name exists).
	CreateKey(ctx context.Context, k *Key) error
	// GetKey returns a key by id. Errors: ENOTFOUND.
	GetKey(ctx context.Context, id string) (*Key, error)
	// ListKeys returns every key, ordered by name (bytewise); an empty
	// store returns an empty, non-nil slice.
	ListKeys(ctx context.Context) ([]*Key, error)
	// UpdateKey applies an update and returns the key as stored. Errors:
	// EINVALID (the updated key fails CheckKey), ENOTFOUND, ECONFLICT
	// (the new name is another key's).
	UpdateKey(ctx context.Context, id string, u *KeyUpdate) (*Key, error)
	// DeleteKey removes a key. Errors: ENOTFOUND.
	DeleteKey(ctx context.Context, id string) error
	// TouchKey records that the key was used at at; LastUsed only moves
	// forward (an earlier at changes nothing). A missing key is ignored:
	// touches are written late and the key may be gone. Errors: EINVALID
	// (a zero time).
	TouchKey(ctx context.Context, id string, at time.Time) error
}

// MaxKeyNameLength bounds a key's name.
const MaxKeyNameLength = 128

// CheckKeyName checks a key name: 1 to MaxKeyNameLength letters, digits
// and the characters _+=,.@- (those of IAM user names). Errors: EINVALID.
func CheckKeyName(name string) error {
	ok := name != "" && len(name) <= MaxKeyNameLength
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0
	}
	if !ok {
		return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation,
			"key name %s must be 1 to %d letters, digits and _+=,.@-", quote(name), MaxKeyNameLength)
	}
	return nil
}

// CheckKey checks a key record before it is stored: the id's form, the
// name, the secret's two forms, a policy that parses, and times a store
// can keep (Created set; Expires and LastUsed zero or in 1970 to 2261).
// Errors: EINVALID.
func CheckKey(k *Key) error {
	if !ValidKeyID(k.ID) {
		return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "key id %s is not an access key id (%s and %d characters of base32)", quote(k.ID), KeyIDPrefix, KeyIDLength-len(KeyIDPrefix))
	}
	if err := CheckKeyName(k.Name); err != nil {
		return err
	}
	if !validHexHash(k.SecretHash) {
		return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "key %s: the secret hash must be 64 lowercase hex digits", k.ID)
	}
	if k.SealedSecret == "" {
		return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "key %s: the sealed secret is missing", k.ID)
	}
	if _, err := ParsePolicy(k.Policy); err != nil {
		return err
	}
	for _, t := range []struct {
		name     string
		t        time.Time
		required bool
	}{{"creation time", k.Created, true}, {"expiry", k.Expires, false}, {"last use", k.LastUsed, false}} {
		if t.t.IsZero() && !t.required {
			continue
		}
		// Stores keep times as Unix nanoseconds, 0 meaning none.
		if y := t.t.Year(); y < 1970 || y > 2261 || t.t.UnixNano() <= 0 {
			return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "key %s: the %s must be between 1970 and 2261", k.ID, t.name)
		}
	}
	return nil
}

func validHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Principal is an authenticated caller: an access key that passed every
// check, and its parsed policy.
type Principal struct {
	// Key is a copy of the key's record without its secret's stored
	// forms (SecretHash and SealedSecret are empty).
	Key    *Key
	Policy *Policy
}

// Decide is Policy.Decide for the principal's policy.
func (p *Principal) Decide(action, resource string) Decision {
	return p.Policy.Decide(action, resource)
}

// Reasons of a failed authentication, the Err of a KeyError.
var (
	ErrMalformedToken = errors.New("not a Vane bearer token")
	ErrUnknownKey     = errors.New("unknown access key")
	ErrWrongSecret    = errors.New("wrong secret")
	ErrKeyDisabled    = errors.New("access key is disabled")
	ErrKeyExpired     = errors.New("access key has expired")
)

// Messages of authentication errors, as callers see them. An unknown key
// and a wrong secret share one, so that the API does not tell which key
// ids exist.
const (
	msgInvalidKey  = "The access key or its secret is not valid."
	msgKeyDisabled = "The access key is disabled."
	msgKeyExpired  = "The access key has expired."
)

// KeyError is a failed authentication. Err is the reason (one of the
// Err* values above), which Error shows for logs and the audit history;
// callers see an EUNAUTHORIZED vane error (see the package documentation).
type KeyError struct {
	KeyID string // "" for a malformed token
	Err   error
}

// Error describes the failure with its reason and key id, for logs.
func (e *KeyError) Error() string {
	if e.KeyID == "" {
		return "auth: " + e.Err.Error()
	}
	id := e.KeyID
	if !ValidKeyID(id) {
		// Whatever a client sent as an id: quoted, cut short.
		id = quote(id)
	}
	return "auth: access key " + id + ": " + e.Err.Error()
}

// Unwrap returns the reason and the vane error callers are shown, so
// that errors.Is finds the one and vane.ErrorCode and ErrorMessage the
// other.
func (e *KeyError) Unwrap() []error {
	msg := msgInvalidKey
	switch e.Err {
	case ErrKeyDisabled:
		msg = msgKeyDisabled
	case ErrKeyExpired:
		msg = msgKeyExpired
	}
	return []error{e.Err, &vane.Error{Code: vane.EUNAUTHORIZED, Message: msg}}
}
