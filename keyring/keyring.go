// Package keyring encrypts Vane's SecureString values at rest with envelope
// encryption, the way AWS KMS and SSM do: each value gets its own random
// data key, and the data key is stored wrapped by a master key. Keyring
// implements vane.Cipher.
//
// # Keys
//
// A keyring holds two kinds of keys:
//
//   - Master keys: 32 random bytes each, with an id such as
//     "mk-20260102-1a2b3c4d". One is the primary: new data keys are wrapped
//     under it. The others stay so that data keys wrapped under them still
//     open; Rotate adds a new primary and Rewrap moves a value's data key
//     to it.
//   - Logical keys, the counterpart of KMS keys: an id (a UUID) and
//     aliases such as "alias/aws/ssm", the default key every keyring has.
//     A SecureString's KeyId names one, by id, by alias or by KMS ARN
//     (arn:aws:kms:REGION:ACCOUNT:key/ID or ...:alias/NAME; the region and
//     account are not checked). A logical key holds no material: it selects
//     the key-encryption key, which is derived from the master key.
//
// # Envelope
//
// Seal draws a fresh 32-byte data key and seals the value with AES-256-GCM
// under it (random 96-bit nonce; the logical key id is additional data).
// The data key itself is sealed with AES-256-GCM (its own random nonce;
// additional data: the envelope header with both key ids) under the
// key-encryption key
//
//	KEK = HKDF-SHA256(secret: primary master key, salt: none, info: "vane/keyring/v1/kek:" + logical key id)
//
// so every logical key has its own KEK under each master key. The sealed
// form is the standard base64 of a versioned binary envelope: magic 'V',
// format 1, the logical key id, the master key id, the data key's nonce
// and sealed bytes, the value's nonce and sealed bytes (see envelope.go).
// Re-wrapping replaces only the master key id and the wrapped data key:
// the value's ciphertext is unchanged.
//
// # The keyring file
//
// The keys live in one JSON file, written with mode 0600, atomically (a
// temporary file, synced, renamed over the old one):
//
//	{
//	  "format": 1,
//	  "primary": "mk-20260102-1a2b3c4d",
//	  "master_keys": [{"id": "mk-20260102-1a2b3c4d", "created": "...", "key": "BASE64 OF 32 BYTES"}],
//	  "keys": [{"id": "UUID", "aliases": ["alias/aws/ssm"], "created": "..."}]
//	}
//
// Open creates the file, with one master key and the default logical key,
// when it does not exist. Vane's server opens, in order of preference, the
// file named by --master-key-file (VANE_MASTER_KEY_FILE), else
// keyring.json in its data directory, and logs the path, never a key.
//
// # A root key from the environment
//
// Options.RootKey (VANE_MASTER_KEY: the base64 of 32 random bytes) keeps
// key material out of the file: the root key is then itself a master key,
// identified by a fingerprint ("root-" and 16 hex digits), and the primary
// one when the keyring is created; the file records only its id ("root")
// and holds every other master key wrapped by it (AES-256-GCM under
// HKDF-SHA256(root key, info "vane/keyring/v1/master-wrap"), the master
// key's id as additional data) in "wrapped_key" instead of "key". A file so
// written needs that root key to open, and a file with plaintext keys
// refuses one. Changing the root key itself is not supported; rotate the
// master keys instead.
//
// # Several nodes
//
// Nodes sharing a PostgreSQL database must share the keyring: the same
// file (on a shared file system, or copied to each node after every
// change), or the same VANE_MASTER_KEY as long as no master key has been
// rotated in and no logical key created. A keyring that meets a master key
// or logical key it does not know re-reads its file if the file has changed
// on disk, so a rotation on one node reaches the others through a shared
// file. Rotate and CreateKey read the file again before they change it;
// run them on one node at a time.
//
// # What is never disclosed
//
// Error messages name key ids and the file's path, never plaintext or key
// material; the Logger receives the same.
package keyring

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vanehq/vane"
)

// DefaultFileName is the name of the keyring file in Vane's data directory.
const DefaultFileName = "keyring.json"

// Options configure Open.
type Options struct {
	// Path is the keyring file; Open creates it if it does not exist.
	Path string
	// RootKey, if set, is the base64 of a 32-byte root key
	// (VANE_MASTER_KEY) that wraps the master keys in the file; see the
	// package documentation.
	RootKey string
	// Logger receives where a new keyring was created and warnings about
	// the file; nil discards them.
	Logger *slog.Logger
	// Now returns the current time, for the keys' creation times; nil
	// means time.Now.
	Now func() time.Time
}

// Keyring seals and opens SecureString values. Its methods are safe for
// concurrent use.
type Keyring struct {
	path   string
	root   []byte // nil without a root key
	rootID string
	logger *slog.Logger
	now    func() time.Time

	cur atomic.Pointer[state] // the keys as last read or written

	mu   sync.Mutex  // serializes changes and re-reads of the file
	stat os.FileInfo // of the file as last read or written; under mu
}

var _ vane.Cipher = (*Keyring)(nil)

// state is an immutable set of keys.
type state struct {
	doc     *fileDoc
	masters map[string][]byte // master key id → key
	refs    map[string]string // logical key id or alias → logical key id
}

// KeyInfo describes a logical key.
type KeyInfo struct {
	ID          string
	Aliases     []string
	Description string
	Created     time.Time
}

// MasterKeyInfo describes a master key; the key itself is never exposed.
type MasterKeyInfo struct {
	ID      string
	Created time.Time // zero for the root key
	Primary bool
	// Root is set for the root key given in Options.RootKey.
	Root bool
}

// Open opens the keyring file at opts.Path, creating it (mode 0600) with a
// new master key and the default logical key if it does not exist.
func Open(opts Options) (*Keyring, error) {
	return open(opts, true)
}

// Load opens an existing keyring file whose master keys are stored in it
// (no root key).
func Load(path string) (*Keyring, error) {
	return open(Options{Path: path}, false)
}

func open(opts Options, create bool) (*Keyring, error) {
	if opts.Path == "" {
		return nil, errors.New("keyring: no file path")
	}
	k := &Keyring{path: opts.Path, logger: opts.Logger, now: opts.Now}
	if k.logger == nil {
		k.logger = slog.New(slog.DiscardHandler)
	}
	if k.now == nil {
		k.now = time.Now
	}
	if opts.RootKey != "" {
		root, err := decodeKey(opts.RootKey)
		if err != nil {
			return nil, fmt.Errorf("keyring: root key: %w", err)
		}
		k.root, k.rootID = root, rootID(root)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	err := k.readLocked()
	if errors.Is(err, fs.ErrNotExist) && create {
		err = k.createLocked()
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// createLocked writes a new keyring file, or reads the one another process
// created meanwhile.
func (k *Keyring) createLocked() error {
	now := k.now().UTC()
	doc := &fileDoc{Format: fileFormat, MasterKeys: []fileMaster{},
		Keys: []fileKey{{ID: newKeyID(), Aliases: []string{vane.DefaultKeyID}, Created: now}}}
	if k.root != nil {
		doc.Root, doc.Primary = k.rootID, k.rootID
	} else {
		key, id := newMasterKey(now)
		doc.Primary = id
		doc.MasterKeys = append(doc.MasterKeys, k.storeMaster(id, key, now))
	}
	err := writeFile(k.path, doc, true)
	if errors.Is(err, errFileExists) {
		return k.readLocked()
	} else if err != nil {
		return fmt.Errorf("keyring: create %s: %w", k.path, err)
	}
	if err := k.readLocked(); err != nil {
		return err
	}
	k.logger.Info("created a new keyring for SecureString values: back it up with the database, which can't be read without it",
		"path", k.path, "master_key", doc.Primary)
	return nil
}

// readLocked reads the file and publishes its keys.
func (k *Keyring) readLocked() error {
	b, fi, err := readFile(k.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("keyring: %w", err)
		}
		return fmt.Errorf("keyring: read %s: %w", k.path, err)
	}
	doc, err := parseDoc(b)
	if err != nil {
		return fmt.Errorf("keyring: %s: %w", k.path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		k.logger.Warn("the keyring file can be read by other users: chmod 600 it", "path", k.path, "mode", fi.Mode().Perm().String())
	}
	if err := k.publishLocked(doc); err != nil {
		return err
	}
	k.stat = fi
	return nil
}

// publishLocked decodes doc's master keys and makes doc the current state.
func (k *Keyring) publishLocked(doc *fileDoc) error {
	switch {
	case doc.Root != "" && k.root == nil:
		return fmt.Errorf("keyring: %s: its master keys are wrapped by the root key %s, and no root key (VANE_MASTER_KEY) was given", k.path, doc.Root)
	case doc.Root == "" && k.root != nil:
		return fmt.Errorf("keyring: %s: holds its master keys itself, so a root key (VANE_MASTER_KEY) can't be used with it", k.path)
	case doc.Root != k.rootID:
		return fmt.Errorf("keyring: %s: its master keys are wrapped by the root key %s, and the root key given is %s", k.path, doc.Root, k.rootID)
	}
	st := &state{doc: doc, masters: map[string][]byte{}, refs: map[string]string{}}
	if k.root != nil {
		st.masters[k.rootID] = k.root
	}
	for _, m := range doc.MasterKeys {
		key, err := k.loadMaster(m)
		if err != nil {
			return fmt.Errorf("keyring: %s: master key %s: %w", k.path, m.ID, err)
		}
		st.masters[m.ID] = key
	}
	for _, key := range doc.Keys {
		st.refs[key.ID] = key.ID
		for _, a := range key.Aliases {
			st.refs[a] = key.ID
		}
	}
	k.cur.Store(st)
	return nil
}

// storeMaster returns the file form of a master key.
func (k *Keyring) storeMaster(id string, key []byte, created time.Time) fileMaster {
	m := fileMaster{ID: id, Created: created}
	if k.root == nil {
		m.Key = base64.StdEncoding.EncodeToString(key)
		return m
	}
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	sealed := newGCM(derive(k.root, infoMasterWrap)).Seal(nonce, nonce, key, []byte(id))
	m.WrappedKey = base64.StdEncoding.EncodeToString(sealed)
	return m
}

// loadMaster returns the key of a stored master key.
func (k *Keyring) loadMaster(m fileMaster) ([]byte, error) {
	if k.root == nil {
		return decodeKey(m.Key)
	}
	b, err := base64.StdEncoding.DecodeString(m.WrappedKey)
	if err != nil || len(b) != nonceSize+wrappedSize {
		return nil, errors.New("wrapped_key is malformed")
	}
	key, err := newGCM(derive(k.root, infoMasterWrap)).Open(nil, b[:nonceSize], b[nonceSize:], []byte(m.ID))
	if err != nil {
		return nil, errors.New("the root key does not open it: the file is damaged")
	}
	return key, nil
}

// refresh re-reads the file if it has changed on disk since it was last
// read or written, and reports whether it did. It lets a node use keys
// that another node sharing the file has added.
func (k *Keyring) refresh() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.changedLocked() {
		return false
	}
	if err := k.readLocked(); err != nil {
		k.logger.Warn("re-reading the keyring file failed; keeping the keys read before", "path", k.path, "error", err.Error())
		return false
	}
	return true
}

// changedLocked reports whether the file on disk is not the one last read
// or written.
func (k *Keyring) changedLocked() bool {
	fi, err := os.Stat(k.path)
	if err != nil || k.stat == nil {
		return err == nil
	}
	return !os.SameFile(fi, k.stat) || !fi.ModTime().Equal(k.stat.ModTime()) || fi.Size() != k.stat.Size()
}

// changeLocked applies change to the current keys, re-read first if the
// file changed on disk, writes the file and publishes the result.
func (k *Keyring) changeLocked(change func(doc *fileDoc) error) error {
	if k.changedLocked() {
		if err := k.readLocked(); err != nil {
			return err
		}
	}
	doc := k.cur.Load().doc.clone()
	if err := change(doc); err != nil {
		return err
	}
	if _, err := os.Stat(k.path); errors.Is(err, fs.ErrNotExist) {
		k.logger.Warn("the keyring file has disappeared; writing it again from the keys in memory", "path", k.path)
	}
	if err := writeFile(k.path, doc, false); err != nil {
		return fmt.Errorf("keyring: write %s: %w", k.path, err)
	}
	if err := k.publishLocked(doc); err != nil {
		return err
	}
	fi, err := os.Stat(k.path)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	k.stat = fi
	return nil
}

// Path returns the keyring file's path.
func (k *Keyring) Path() string { return k.path }

// Primary returns the id of the primary master key.
func (k *Keyring) Primary() string { return k.cur.Load().doc.Primary }

// Keys lists the logical keys in creation order.
func (k *Keyring) Keys() []KeyInfo {
	doc := k.cur.Load().doc
	out := make([]KeyInfo, len(doc.Keys))
	for i, key := range doc.Keys {
		out[i] = KeyInfo{ID: key.ID, Aliases: slices.Clone(key.Aliases), Description: key.Description, Created: key.Created}
	}
	return out
}

// MasterKeys lists the master keys, the root key first if there is one,
// then in creation order.
func (k *Keyring) MasterKeys() []MasterKeyInfo {
	doc := k.cur.Load().doc
	var out []MasterKeyInfo
	if doc.Root != "" {
		out = append(out, MasterKeyInfo{ID: doc.Root, Primary: doc.Primary == doc.Root, Root: true})
	}
	for _, m := range doc.MasterKeys {
		out = append(out, MasterKeyInfo{ID: m.ID, Created: m.Created, Primary: doc.Primary == m.ID})
	}
	return out
}

// Rotate adds a new master key, makes it the primary and writes the file.
// Values sealed before keep opening with the master keys they were sealed
// under; Rewrap moves them to the new one.
func (k *Keyring) Rotate() (MasterKeyInfo, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now().UTC()
	key, id := newMasterKey(now)
	err := k.changeLocked(func(doc *fileDoc) error {
		doc.MasterKeys = append(doc.MasterKeys, k.storeMaster(id, key, now))
		doc.Primary = id
		return nil
	})
	if err != nil {
		return MasterKeyInfo{}, err
	}
	k.logger.Info("rotated the keyring: new primary master key", "path", k.path, "master_key", id)
	return MasterKeyInfo{ID: id, Created: now, Primary: true}, nil
}

// CreateKey adds a logical key with the given aliases ("alias/NAME"; none
// is fine: the key is then named by its id) and writes the file. Errors:
// EINVALID (a malformed or reserved alias), ECONFLICT (an alias in use).
func (k *Keyring) CreateKey(aliases ...string) (KeyInfo, error) {
	for i, a := range aliases {
		if err := checkAlias(a); err != nil {
			return KeyInfo{}, err
		}
		if slices.Contains(aliases[:i], a) {
			return KeyInfo{}, vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "alias %q is given twice", a)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	key := fileKey{ID: newKeyID(), Aliases: slices.Clone(aliases), Created: k.now().UTC()}
	err := k.changeLocked(func(doc *fileDoc) error {
		for _, have := range doc.Keys {
			for _, a := range aliases {
				if slices.Contains(have.Aliases, a) {
					return vane.Errorf(vane.ECONFLICT, "alias %q already names key %s", a, have.ID)
				}
			}
		}
		doc.Keys = append(doc.Keys, key)
		return nil
	})
	if err != nil {
		return KeyInfo{}, err
	}
	k.logger.Info("created a key", "path", k.path, "key", key.ID, "aliases", strings.Join(aliases, ","))
	return KeyInfo{ID: key.ID, Aliases: slices.Clone(key.Aliases), Created: key.Created}, nil
}

// keyRef returns the key id or alias a KeyId names: itself, or the part
// after the resource type of a KMS ARN.
func keyRef(keyID string) string {
	if keyID == "" {
		return vane.DefaultKeyID
	}
	if !strings.HasPrefix(keyID, "arn:") {
		return keyID
	}
	// arn:PARTITION:kms:REGION:ACCOUNT:key/ID or ...:alias/NAME
	parts := strings.SplitN(keyID, ":", 6)
	if len(parts) != 6 || parts[1] == "" || parts[2] != "kms" {
		return ""
	}
	res := parts[5]
	if id, ok := strings.CutPrefix(res, "key/"); ok {
		return id
	}
	if strings.HasPrefix(res, "alias/") {
		return res
	}
	return ""
}

// resolve returns the logical key id keyID names, re-reading the file once
// if it does not name one.
func (k *Keyring) resolve(keyID string) (*state, string, error) {
	ref := keyRef(keyID)
	st := k.cur.Load()
	if id, ok := st.refs[ref]; ok && ref != "" {
		return st, id, nil
	}
	if ref != "" && k.refresh() {
		st = k.cur.Load()
		if id, ok := st.refs[ref]; ok {
			return st, id, nil
		}
	}
	return nil, "", vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidKeyID, "key %q does not exist", keyID)
}

// master returns the master key with the given id, re-reading the file
// once if it is not known.
func (k *Keyring) master(id string) ([]byte, *state, error) {
	st := k.cur.Load()
	if key, ok := st.masters[id]; ok {
		return key, st, nil
	}
	if k.refresh() {
		st = k.cur.Load()
		if key, ok := st.masters[id]; ok {
			return key, st, nil
		}
	}
	return nil, nil, vane.Errorf(vane.EINVALID, "the value was sealed under master key %q, which is not in the keyring %s", id, k.path)
}

// Seal implements vane.Cipher: it seals plaintext under the logical key
// keyID names (an id, an alias, a KMS ARN of either; "" for the default
// key) with a new data key wrapped under the primary master key. Errors:
// EINVALID (InvalidKeyId) for a key that does not exist.
func (k *Keyring) Seal(_ context.Context, keyID, plaintext string) (string, error) {
	st, id, err := k.resolve(keyID)
	if err != nil {
		return "", err
	}
	dk := make([]byte, keySize)
	rand.Read(dk)
	defer clear(dk)
	e := &envelope{keyID: id, masterID: st.doc.Primary}
	e.wrapNonce, e.valNonce = make([]byte, nonceSize), make([]byte, nonceSize)
	rand.Read(e.wrapNonce)
	rand.Read(e.valNonce)
	e.wrapped = kek(st.masters[e.masterID], id).Seal(nil, e.wrapNonce, dk, appendHeader(nil, id, e.masterID))
	e.value = newGCM(dk).Seal(nil, e.valNonce, []byte(plaintext), valueAD(id))
	return e.encode(), nil
}

// dataKey decodes sealed and unwraps its data key.
func (k *Keyring) dataKey(sealed string) (*envelope, []byte, error) {
	e, err := decodeEnvelope(sealed)
	if err != nil {
		return nil, nil, err
	}
	master, _, err := k.master(e.masterID)
	if err != nil {
		return nil, nil, err
	}
	dk, err := kek(master, e.keyID).Open(nil, e.wrapNonce, e.wrapped, e.wrappedAD)
	if err != nil {
		return nil, nil, errDamaged()
	}
	return e, dk, nil
}

// Open implements vane.Cipher: it returns the plaintext of a value Seal
// returned. Errors: EINVALID when sealed is not a sealed value, was changed,
// or names a master key this keyring does not have.
func (k *Keyring) Open(_ context.Context, sealed string) (string, error) {
	e, dk, err := k.dataKey(sealed)
	if err != nil {
		return "", err
	}
	defer clear(dk)
	pt, err := newGCM(dk).Open(nil, e.valNonce, e.value, e.valueAD)
	if err != nil {
		return "", errDamaged()
	}
	return string(pt), nil
}

// Rewrap re-wraps the data key of a sealed value under the primary master
// key if it is wrapped under another, and reports whether it did; the
// value's ciphertext is unchanged. It checks the data key, not the value.
// Errors: as Open's.
func (k *Keyring) Rewrap(sealed string) (string, bool, error) {
	e, dk, err := k.dataKey(sealed)
	if err != nil {
		return "", false, err
	}
	defer clear(dk)
	st := k.cur.Load()
	if e.masterID == st.doc.Primary {
		return sealed, false, nil
	}
	out := *e
	out.masterID = st.doc.Primary
	out.wrapNonce = make([]byte, nonceSize)
	rand.Read(out.wrapNonce)
	out.wrapped = kek(st.masters[out.masterID], e.keyID).Seal(nil, out.wrapNonce, dk, appendHeader(nil, e.keyID, out.masterID))
	return out.encode(), true, nil
}

// DeriveKey returns a 32-byte key for purpose, derived with HKDF-SHA256 from
// the oldest master key (the root key if there is one). Master keys are
// never removed, so the key is the same after rotations and on every node
// sharing the keyring: use it for secrets that must agree across nodes and
// restarts, such as the signing key of paging tokens.
func (k *Keyring) DeriveKey(purpose string) ([]byte, error) {
	masters := k.MasterKeys()
	if len(masters) == 0 {
		return nil, fmt.Errorf("keyring %s has no master key", k.path)
	}
	key, _, err := k.master(masters[0].ID)
	if err != nil {
		return nil, err
	}
	return derive(key, "vane/keyring/v1/derive:"+purpose), nil
}
