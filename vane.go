// Package vane holds the domain of the Vane feature-flag and runtime
// configuration service: parameters, their names, values, versions, labels
// and tags, the change log, the error type, and the storage interfaces that
// backends implement. It imports only the standard library.
//
// The rules here follow AWS Systems Manager Parameter Store so that the SSM
// API served by package http behaves as AWS does; every backend enforces them
// by calling the pure functions of this package inside its transactions.
package vane

import (
	"context"
	"strings"
	"time"
)

// Type is a parameter's value type.
type Type string

// Parameter types, as named by SSM.
const (
	TypeString       Type = "String"
	TypeStringList   Type = "StringList"
	TypeSecureString Type = "SecureString"
)

// Valid reports whether t is one of the three parameter types.
func (t Type) Valid() bool {
	return t == TypeString || t == TypeStringList || t == TypeSecureString
}

// Tier is a parameter's storage tier; it bounds the value size.
type Tier string

// Tiers, as named by SSM. TierIntelligent is only a request: it resolves to
// Standard or Advanced when the parameter is written.
const (
	TierStandard    Tier = "Standard"
	TierAdvanced    Tier = "Advanced"
	TierIntelligent Tier = "Intelligent-Tiering"
)

// Data types a parameter may declare.
const (
	DataTypeText        = "text"
	DataTypeEC2Image    = "aws:ec2:image"
	DataTypeIntegration = "aws:ssm:integration"
)

// DefaultKeyID is the key a SecureString uses when none is given.
const DefaultKeyID = "alias/aws/ssm"

// Limits, as AWS SSM sets them.
const (
	MaxStandardValueLength = 4096 // characters, Standard tier
	MaxAdvancedValueLength = 8192 // characters, Advanced tier
	MaxDescriptionLength   = 1024
	MaxAllowedPatternLen   = 1024
	MaxKeyIDLength         = 256
	MaxVersions            = 100 // versions kept per parameter
	MaxLabelsPerVersion    = 10
	MaxLabelsPerRequest    = 10
	MaxLabelLength         = 100
	MaxTagsPerResource     = 50
	MaxTagsPerRequest      = 1000
	MaxTagKeyLength        = 128
	MaxTagValueLength      = 256
	MaxHierarchyLevels     = 15
	MaxNameARNLength       = 1011 // name length is counted over the whole ARN
)

// Paging limits for the store's list methods.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Default ARN parts; the server makes both configurable.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "000000000000"
)

// Parameter is one version of a parameter. Reads of the latest version and
// of a selected version return the same shape; metadata listings leave Value
// empty.
type Parameter struct {
	Name           string
	Type           Type
	Value          string
	Version        int64
	Labels         []string // labels on this version, sorted
	Tier           Tier
	Description    string
	AllowedPattern string
	DataType       string
	KeyID          string // set for SecureString only
	// Policies are the version's parameter policies as JSON text (an
	// array; "" for none), checked by ParsePolicies.
	Policies         string
	LastModified     time.Time
	LastModifiedUser string
	// Selector is the ":version" or ":label" suffix the caller asked for,
	// set only by reads that used one.
	Selector string
}

// Tag is a key/value pair attached to a parameter (not to a version).
type Tag struct {
	Key   string
	Value string
}

// PutInput is a request to create a parameter or add a version to it.
type PutInput struct {
	Name  string
	Value string
	// Type is required when creating; on overwrite an empty Type keeps the
	// current one.
	Type Type
	// Description, AllowedPattern, KeyID, DataType and Tier keep their
	// current values on overwrite when nil or empty.
	Description    *string
	AllowedPattern *string
	KeyID          string
	DataType       string
	Tier           Tier
	// Overwrite must be set to add a version to an existing parameter.
	Overwrite bool
	// Tags may be given only when creating.
	Tags []Tag
	// Policies, when not nil, replaces the parameter's policies (a JSON
	// array; "[]" removes them); nil keeps them.
	Policies *string
	// ExpectVersion, when set, makes the put a compare-and-set: it fails
	// with ECONFLICT unless the current version equals *ExpectVersion (0
	// meaning "does not exist"). A positive expected version implies
	// Overwrite.
	ExpectVersion *int64
}

// DeleteInput is a request to delete a parameter and all its versions.
type DeleteInput struct {
	Name string
	// ExpectVersion, when set, makes the delete fail with ECONFLICT unless
	// the current version equals it.
	ExpectVersion *int64
}

// LabelInput is a request to attach labels to a version of a parameter or,
// for Unlabel, to remove them.
type LabelInput struct {
	Name string
	// Version is the version to label; 0 means the latest (Label only).
	Version int64
	Labels  []string
}

// LabelResult is the outcome of Label: the version labelled and the labels
// that broke the label rules and were not applied.
type LabelResult struct {
	Version       int64
	InvalidLabels []string
}

// UnlabelResult is the outcome of Unlabel.
type UnlabelResult struct {
	RemovedLabels []string
	InvalidLabels []string // labels not on that version, or invalid
}

// TagInput adds tags to, or (with Keys) removes tags from, a parameter.
type TagInput struct {
	Name string
	Tags []Tag    // AddTags
	Keys []string // RemoveTags
}

// ByPathInput lists the latest versions of parameters under a path.
type ByPathInput struct {
	Path      string // must start with "/"; "/" lists root-level names
	Recursive bool
	// Filters may use the keys Type, KeyId and Label (Label: Equals only).
	Filters   []Filter
	Limit     int // 0 means DefaultPageSize; at most MaxPageSize
	NextToken string
}

// DescribeInput lists parameter metadata, filtered.
type DescribeInput struct {
	Filters   []Filter
	Limit     int
	NextToken string
}

// HistoryInput lists a parameter's versions, oldest first.
type HistoryInput struct {
	Name      string
	Limit     int
	NextToken string
}

// Page is one page of a listing; NextToken is empty on the last page.
type Page struct {
	Parameters []*Parameter
	NextToken  string
}

// ParameterStore stores versioned parameters. Every method runs in one
// transaction, validates its input with this package's rules and appends
// to the change log in that transaction.
type ParameterStore interface {
	// Put creates a parameter or adds a version; it returns the stored
	// version. Errors: EINVALID, ETOOLARGE (value longer than the tier
	// allows), ECONFLICT (ParameterAlreadyExists, VersionMismatch), ELIMIT
	// (ParameterMaxVersionLimitExceeded, TooManyTagsError), EFORBIDDEN
	// (AccessDeniedException: creating a name under the reserved /aws).
	Put(ctx context.Context, in *PutInput) (*Parameter, error)

	// Get reads a parameter by name or selector ("name", "name:3",
	// "name:label"), with the labels of the version returned. Errors:
	// EINVALID, ENOTFOUND (ParameterNotFound, also for an unknown label;
	// ParameterVersionNotFound for a missing version).
	Get(ctx context.Context, selector string) (*Parameter, error)

	// Delete removes a parameter with its versions, labels and tags.
	// Errors: EINVALID, ENOTFOUND (also for a compare-and-set delete of a
	// missing parameter), ECONFLICT (VersionMismatch).
	Delete(ctx context.Context, in *DeleteInput) error

	// ByPath lists latest versions under a path in name order, paged.
	// With a Label filter it returns, of each parameter, the version that
	// carries the label. Errors: EINVALID (InvalidNextToken, filters).
	ByPath(ctx context.Context, in *ByPathInput) (*Page, error)

	// Describe lists the metadata (no Value, no Labels) of latest versions
	// in name order, filtered and paged. Errors: EINVALID.
	Describe(ctx context.Context, in *DescribeInput) (*Page, error)

	// History lists all kept versions of a parameter, oldest first, with
	// their labels. Errors: EINVALID, ENOTFOUND.
	History(ctx context.Context, in *HistoryInput) (*Page, error)

	// Label attaches labels to a version, moving each from any other
	// version of the parameter. Labels that break the label rules are
	// returned, not applied; a call that applies no label writes no change
	// record. Errors: EINVALID, ENOTFOUND (ParameterNotFound,
	// ParameterVersionNotFound), ELIMIT (ParameterVersionLabelLimitExceeded).
	Label(ctx context.Context, in *LabelInput) (*LabelResult, error)

	// Unlabel removes labels from a version; a call that removes none
	// writes no change record. Errors: EINVALID, ENOTFOUND.
	Unlabel(ctx context.Context, in *LabelInput) (*UnlabelResult, error)

	// AddTags adds or replaces tags. Errors: EINVALID, ENOTFOUND
	// (InvalidResourceId), ELIMIT (TooManyTagsError).
	AddTags(ctx context.Context, in *TagInput) error

	// RemoveTags removes tags by key; absent keys are ignored. Errors:
	// EINVALID, ENOTFOUND (InvalidResourceId).
	RemoveTags(ctx context.Context, in *TagInput) error

	// Tags lists a parameter's tags sorted by key. Errors: EINVALID,
	// ENOTFOUND (InvalidResourceId).
	Tags(ctx context.Context, name string) ([]Tag, error)

	// Batch applies several writes (BatchItem) all or nothing, in order,
	// in one transaction: each item is checked as its single-item method
	// checks it (compare-and-set included), seeing the effects of the
	// items before it, and writes one change-log record, as that method
	// does, carrying the batch's id (made with NewBatchID when
	// in.ID is empty), as its audit entry does. Errors: those of
	// CheckBatch; the first failing item's, as a *BatchError with its
	// code, in which case nothing was written.
	Batch(ctx context.Context, in *BatchInput) (*BatchResult, error)
}

// ChangeLog reads the change log and bounds how much of it is kept.
type ChangeLog interface {
	// Changes returns up to limit changes with a sequence greater than
	// after, in sequence order, whose names begin with prefix (a plain
	// string prefix: end it with "/" to select a path; "" or "/" select
	// all). Errors: EINVALID; EGONE when after is below the compaction
	// floor (see Compact), since changes after it may have been removed:
	// the caller must start over from a Snapshot.
	Changes(ctx context.Context, after int64, prefix string, limit int) ([]Change, error)

	// Snapshot returns the latest version of every parameter (with labels)
	// and the change-log sequence the result reflects, read in one
	// transaction. Compaction never affects it.
	Snapshot(ctx context.Context) ([]*Parameter, int64, error)

	// Compact removes the change-log records whose time is before before,
	// except the newest record, which is always kept, and returns how many
	// it removed. In the same transaction it records the compaction floor:
	// the highest sequence removed so far, which never decreases (a later
	// call with an older time removes nothing and keeps the floor). From
	// then on Changes with an after below the floor fails with EGONE;
	// after at or above the floor works as before. Parameters, their
	// versions and History are not affected. It has no error code of its
	// own; a backend that can't be reached fails with EUNAVAILABLE.
	Compact(ctx context.Context, before time.Time) (removed int64, err error)
}

// CompactedError is the EGONE error of Changes for an after below the
// compaction floor: the changes up to floor are no longer kept.
func CompactedError(floor int64) error {
	return Errorf(EGONE, "changes up to sequence %d are no longer kept (compacted); reload a snapshot", floor)
}

// LatestReader is a store that reads the latest versions of several
// parameters at once (the index's catch-up uses it when the store it
// wraps has it).
type LatestReader interface {
	// Latest returns the latest version, with its labels, of each of
	// names (canonical) that exists, in any order; names that do not
	// exist are left out.
	Latest(ctx context.Context, names []string) ([]*Parameter, error)
}

// Latest reads the latest version of each of names that exists: with the
// store's LatestReader when it has one, else one Get a name.
func Latest(ctx context.Context, s Store, names []string) ([]*Parameter, error) {
	if lr, ok := StoreAs[LatestReader](s); ok {
		return lr.Latest(ctx, names)
	}
	out := make([]*Parameter, 0, len(names))
	for _, name := range names {
		p, err := s.Get(ctx, name)
		switch {
		case ErrorCode(err) == ENOTFOUND:
		case err != nil:
			return nil, err
		default:
			out = append(out, p)
		}
	}
	return out, nil
}

// Store is what a storage backend provides.
type Store interface {
	ParameterStore
	ChangeLog
	Close() error
}

// Wrapper is a Store that adds behaviour to another store (the write
// checks of package guard, for example) and delegates the rest to it.
type Wrapper interface {
	Store
	// Unwrap returns the wrapped store.
	Unwrap() Store
}

// StoreAs returns the first store in the chain from s through the stores
// it wraps (see Wrapper) that is a T, such as the in-memory index
// below a guard.
func StoreAs[T any](s Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	var zero T
	return zero, false
}

// Cipher encrypts SecureString values at rest (package keyring). Stores
// seal a SecureString's value inside the write, after the value rules
// have been checked on the plaintext, so only the sealed form is stored,
// indexed and returned by reads; callers allowed to see the plaintext
// open it.
type Cipher interface {
	// Seal encrypts plaintext under the key named keyID (a key id or an
	// alias such as DefaultKeyID) and returns the sealed form, printable
	// text. Errors: EINVALID (InvalidKeyId) for an unknown key.
	Seal(ctx context.Context, keyID, plaintext string) (string, error)
	// Open returns the plaintext of a value Seal returned. Errors:
	// EINVALID for a value that is not sealed or was tampered with.
	Open(ctx context.Context, sealed string) (string, error)
}

// AllUnder returns the latest version of every parameter under path (a
// canonical path, "/" for all) that keep accepts (nil keeps all), reading
// ByPath page by page.
func AllUnder(ctx context.Context, s Store, path string, keep func(*Parameter) bool) ([]*Parameter, error) {
	var out []*Parameter
	in := &ByPathInput{Path: path, Recursive: true, Limit: MaxPageSize}
	for {
		page, err := s.ByPath(ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = make([]*Parameter, 0, len(page.Parameters))
		}
		for _, p := range page.Parameters {
			if keep == nil || keep(p) {
				out = append(out, p)
			}
		}
		if page.NextToken == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// AtOrUnder is AllUnder with, first, the parameter path itself names
// (path "/a/b/" names "/a/b"), when there is one and keep accepts it.
func AtOrUnder(ctx context.Context, s Store, path string, keep func(*Parameter) bool) ([]*Parameter, error) {
	var out []*Parameter
	if name := strings.TrimSuffix(path, "/"); name != "" {
		p, err := s.Get(ctx, name)
		switch {
		case err == nil && (keep == nil || keep(p)):
			out = append(out, p)
		case err != nil && ErrorCode(err) != ENOTFOUND:
			return nil, err
		}
	}
	under, err := AllUnder(ctx, s, path, keep)
	if err != nil {
		return nil, err
	}
	return append(out, under...), nil
}
