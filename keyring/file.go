package keyring

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// fileFormat is the format number of the keyring file this package writes
// and reads.
const fileFormat = 1

// fileDoc is the JSON of the keyring file.
type fileDoc struct {
	Format int `json:"format"`
	// Root is the id of the root key (Options.RootKey) that wraps the
	// stored master keys; empty when they are stored in plaintext.
	Root string `json:"root,omitempty"`
	// Primary is the id of the master key new data keys are wrapped
	// under: a stored master key or the root key.
	Primary    string       `json:"primary"`
	MasterKeys []fileMaster `json:"master_keys"`
	Keys       []fileKey    `json:"keys"`
}

// fileMaster is a stored master key: in plaintext (Key) without a root
// key, else wrapped by it (WrappedKey).
type fileMaster struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// Key is the base64 of the 32 bytes of the key.
	Key string `json:"key,omitempty"`
	// WrappedKey is the base64 of a nonce and the key sealed with
	// AES-256-GCM under a key derived from the root key, with the master
	// key's id as additional data.
	WrappedKey string `json:"wrapped_key,omitempty"`
}

// fileKey is a logical key.
type fileKey struct {
	ID          string    `json:"id"`
	Aliases     []string  `json:"aliases,omitempty"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
}

// validAlias matches an alias as AWS KMS allows it.
var validAlias = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)

// validID matches the ids the file may hold.
var validID = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// checkAlias checks an alias a caller asks for; aliases under alias/aws/
// are reserved, as in AWS.
func checkAlias(a string) error {
	if !validAlias.MatchString(a) {
		return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation,
			"alias %q must be \"alias/\" followed by 1 to 250 letters, digits, '/', '_' or '-'", a)
	}
	if strings.HasPrefix(a, "alias/aws/") {
		return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "alias %q is reserved: aliases under alias/aws/ are AWS's", a)
	}
	return nil
}

// parseDoc decodes and validates a keyring file.
func parseDoc(b []byte) (*fileDoc, error) {
	var doc fileDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a keyring file: %w", err)
	}
	if doc.Format != fileFormat {
		return nil, fmt.Errorf("keyring file format %d; this Vane reads format %d", doc.Format, fileFormat)
	}
	masters := map[string]bool{}
	if doc.Root != "" {
		masters[doc.Root] = true
	}
	for _, m := range doc.MasterKeys {
		if !validID.MatchString(m.ID) || masters[m.ID] {
			return nil, fmt.Errorf("master key id %q is invalid or repeated", m.ID)
		}
		masters[m.ID] = true
		if (m.Key == "") == (m.WrappedKey == "") || (doc.Root == "") != (m.Key != "") {
			return nil, fmt.Errorf("master key %q must have a key when there is no root key, and a wrapped_key when there is", m.ID)
		}
	}
	if !masters[doc.Primary] {
		return nil, fmt.Errorf("primary master key %q is not in the file", doc.Primary)
	}
	ids, aliases := map[string]bool{}, map[string]bool{}
	for _, k := range doc.Keys {
		if !validID.MatchString(k.ID) || ids[k.ID] {
			return nil, fmt.Errorf("key id %q is invalid or repeated", k.ID)
		}
		ids[k.ID] = true
		for _, a := range k.Aliases {
			if !validAlias.MatchString(a) || aliases[a] {
				return nil, fmt.Errorf("alias %q is invalid or repeated", a)
			}
			aliases[a] = true
		}
	}
	if !aliases[vane.DefaultKeyID] {
		return nil, fmt.Errorf("no key has the alias %s", vane.DefaultKeyID)
	}
	return &doc, nil
}

// clone returns a deep copy of doc, to change.
func (doc *fileDoc) clone() *fileDoc {
	c := *doc
	c.MasterKeys = append([]fileMaster(nil), doc.MasterKeys...)
	c.Keys = make([]fileKey, len(doc.Keys))
	for i, k := range doc.Keys {
		k.Aliases = append([]string(nil), k.Aliases...)
		c.Keys[i] = k
	}
	return &c
}

// readFile reads the keyring file and its stat.
func readFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), fi, nil
}

// errFileExists is returned by writeFile when it was to create the file
// and another process did first.
var errFileExists = errors.New("keyring: file exists")

// writeFile writes doc to path atomically with mode 0600: a temporary file
// in the same directory, synced, then renamed over path (or, with create,
// linked to path, which fails with errFileExists if path exists: two
// processes starting on one new file both end up reading the same keys).
func writeFile(path string, doc *fileDoc, create bool) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if create {
		err = os.Link(tmp, path)
		switch {
		case errors.Is(err, fs.ErrExist):
			return errFileExists
		case err != nil:
			// A file system without hard links: rename, which can't
			// refuse to replace a file created meanwhile.
			if _, serr := os.Lstat(path); serr == nil {
				return errFileExists
			}
			err = os.Rename(tmp, path)
		}
	} else {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// newMasterKey returns 32 random bytes and a new master key id.
func newMasterKey(now time.Time) ([]byte, string) {
	key := make([]byte, keySize)
	rand.Read(key)
	var b [4]byte
	rand.Read(b[:])
	return key, fmt.Sprintf("mk-%s-%x", now.UTC().Format("20060102"), b)
}

// newKeyID returns a random UUID (version 4), the form of KMS key ids.
func newKeyID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// decodeKey decodes the base64 of a 32-byte key, standard or URL
// alphabet, padded or not. Its errors never include the text.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != keySize {
				return nil, fmt.Errorf("the key is %d bytes; it must be %d (base64 of 32 random bytes, such as `openssl rand -base64 32` prints)", len(b), keySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("the key is not base64 (give 32 random bytes in base64, such as `openssl rand -base64 32` prints)")
}
