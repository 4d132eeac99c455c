package http

import (
	"context"
	"net/http"
	"time"

	"github.com/vanehq/vane"
)

// KeyAdmin administers the keys that seal SecureString values (package
// keyring, tied to the store by cmd/vane). Its errors are vane errors.
type KeyAdmin interface {
	// ListKeys lists the logical keys and the master keys.
	ListKeys(ctx context.Context) (*KeyList, error)
	// CreateKey adds a logical key with the given aliases. Errors:
	// EINVALID (a malformed or reserved alias), ECONFLICT (an alias in
	// use).
	CreateKey(ctx context.Context, aliases []string) (*Key, error)
	// Rotate adds a new primary master key, then re-wraps the stored
	// values' data keys under it (Rewrap).
	Rotate(ctx context.Context) (*RotateResult, error)
	// Rewrap re-wraps under the primary master key the data keys of the
	// stored values that are under another, and seals values stored
	// before encryption was enabled. It finishes an interrupted Rotate.
	Rewrap(ctx context.Context) (*RotateResult, error)
}

// Key is a logical key, the counterpart of a KMS key.
type Key struct {
	ID          string
	Aliases     []string
	Description string
	Created     time.Time
}

// MasterKey describes a master key; its material is never served.
type MasterKey struct {
	ID      string
	Created time.Time // zero for a root key given outside the keyring
	Primary bool
}

// KeyList is what ListKeys returns.
type KeyList struct {
	Keys       []Key
	MasterKeys []MasterKey
}

// RotateResult is the outcome of Rotate and Rewrap.
type RotateResult struct {
	// MasterKeyID is the primary master key afterwards, and
	// PreviousMasterKeyID the one before (equal after a Rewrap).
	MasterKeyID, PreviousMasterKeyID string
	// Rewrapped counts the stored values whose data key was re-wrapped,
	// Sealed the values found stored in plaintext and sealed.
	Rewrapped, Sealed int
}

// keyJSON is the wire form of a Key.
type keyJSON struct {
	ID          string   `json:"id"`
	ARN         string   `json:"arn"`
	Aliases     []string `json:"aliases"`
	Description string   `json:"description,omitempty"`
	Created     string   `json:"created,omitempty"`
}

func (s *Server) newKeyJSON(k *Key) keyJSON {
	aliases := k.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return keyJSON{ID: k.ID, ARN: "arn:aws:kms:" + s.Region + ":" + s.Account + ":key/" + k.ID,
		Aliases: aliases, Description: k.Description, Created: formatTime(k.Created)}
}

// masterKeyJSON is the wire form of a MasterKey.
type masterKeyJSON struct {
	ID      string `json:"id"`
	Created string `json:"created,omitempty"`
	Primary bool   `json:"primary"`
}

// keyListJSON is the body of GET /v1/kms/keys.
type keyListJSON struct {
	Keys       []keyJSON       `json:"keys"`
	MasterKeys []masterKeyJSON `json:"master_keys"`
}

// rotateJSON is the body of the responses of POST /v1/kms/keys/rotate and
// POST /v1/kms/keys/rewrap.
type rotateJSON struct {
	MasterKeyID         string `json:"master_key_id"`
	PreviousMasterKeyID string `json:"previous_master_key_id"`
	Rewrapped           int    `json:"rewrapped"`
	Sealed              int    `json:"sealed"`
}

// createKeyRequest is the body of POST /v1/kms/keys.
type createKeyRequest struct {
	Aliases []string `json:"aliases"`
}

// registerKeyRoutes adds the key administration routes.
func (s *Server) registerKeyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/kms/keys", s.admin(s.handleListKeys))
	mux.HandleFunc("POST /v1/kms/keys", s.admin(s.handleCreateKey))
	mux.HandleFunc("POST /v1/kms/keys/rotate", s.admin(s.handleRotateKeys))
	mux.HandleFunc("POST /v1/kms/keys/rewrap", s.admin(s.handleRewrapKeys))
}

// keyAdmin returns s.Keys, or an error saying that the server has none.
func (s *Server) keyAdmin() (KeyAdmin, error) {
	if s.Keys == nil {
		return nil, vane.Errorf(vane.ENOTFOUND, "this server has no keyring: SecureString values are stored as given")
	}
	return s.Keys, nil
}

// handleListKeys serves GET /v1/kms/keys: the logical keys and the master
// keys' ids.
func (s *Server) handleListKeys(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	ka, err := s.keyAdmin()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l, err := ka.ListKeys(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := keyListJSON{Keys: []keyJSON{}, MasterKeys: []masterKeyJSON{}}
	for i := range l.Keys {
		out.Keys = append(out.Keys, s.newKeyJSON(&l.Keys[i]))
	}
	for _, m := range l.MasterKeys {
		out.MasterKeys = append(out.MasterKeys, masterKeyJSON{ID: m.ID, Created: formatTime(m.Created), Primary: m.Primary})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCreateKey serves POST /v1/kms/keys: 201 with the new key.
func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req createKeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ka, err := s.keyAdmin()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := ka.CreateKey(r.Context(), req.Aliases)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.newKeyJSON(k))
}

// handleRotateKeys serves POST /v1/kms/keys/rotate.
func (s *Server) handleRotateKeys(w http.ResponseWriter, r *http.Request) {
	s.serveRotation(w, r, KeyAdmin.Rotate)
}

// handleRewrapKeys serves POST /v1/kms/keys/rewrap.
func (s *Server) handleRewrapKeys(w http.ResponseWriter, r *http.Request) {
	s.serveRotation(w, r, KeyAdmin.Rewrap)
}

func (s *Server) serveRotation(w http.ResponseWriter, r *http.Request, fn func(KeyAdmin, context.Context) (*RotateResult, error)) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	ka, err := s.keyAdmin()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := fn(ka, r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rotateJSON{MasterKeyID: res.MasterKeyID, PreviousMasterKeyID: res.PreviousMasterKeyID,
		Rewrapped: res.Rewrapped, Sealed: res.Sealed})
}

// decrypted returns ps with every SecureString value opened by the
// server's Cipher when the query asks for it with with_decryption=true
// and the server has a Cipher (without one, values are stored as given).
// Parameters may be shared with the store (the index's are), so those it
// changes are copies.
func (s *Server) decrypted(ctx context.Context, q query, ps ...*vane.Parameter) ([]*vane.Parameter, error) {
	decrypt, err := q.boolean("with_decryption")
	if err != nil || !decrypt || s.Cipher == nil {
		return ps, err
	}
	out := make([]*vane.Parameter, len(ps))
	for i, p := range ps {
		out[i] = p
		if p.Type != vane.TypeSecureString {
			continue
		}
		if err := s.allowDecrypt(ctx, p); err != nil {
			return nil, err
		}
		v, err := s.Cipher.Open(ctx, p.Value)
		if err != nil {
			return nil, openError(p, err)
		}
		c := *p
		c.Value = v
		out[i] = &c
	}
	return out, nil
}

// openError names the parameter a value that does not open belongs to.
// Such a value was damaged in the store or sealed by another keyring: a
// failure of the server, not of the request, so it is served as internal
// (logged with the request id; the message never holds a value).
func openError(p *vane.Parameter, err error) error {
	return vane.Errorf(vane.EINTERNAL, "parameter %q version %d can't be decrypted: %s", p.Name, p.Version, vane.ErrorMessage(err))
}
