package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/vanehq/vane"
)

// Envelope layout, format 1. The sealed form is the standard base64 (with
// padding) of:
//
//	magic     1 byte   'V'
//	format    1 byte   1
//	keyLen    1 byte   length of the logical key id
//	keyID     keyLen bytes
//	masterLen 1 byte   length of the master key id
//	masterID  masterLen bytes
//	wrapNonce 12 bytes
//	wrapped   48 bytes  the data key sealed by AES-256-GCM under the KEK
//	valNonce  12 bytes
//	value     the rest: the value sealed by AES-256-GCM under the data key
//
// The value's additional data is the envelope up to and including keyID,
// so the value is bound to its logical key and survives re-wrapping; the
// wrapped data key's additional data is the envelope up to and including
// masterID, so neither id can be changed without Open noticing.
const (
	envelopeMagic   = 'V'
	envelopeFormat  = 1
	keySize         = 32 // AES-256: master keys, KEKs and data keys
	nonceSize       = 12 // AES-GCM standard nonce
	tagSize         = 16 // AES-GCM tag
	wrappedSize     = keySize + tagSize
	minEnvelopeSize = 2 + 1 + 1 + 1 + 1 + nonceSize + wrappedSize + nonceSize + tagSize
)

// HKDF-SHA256 info strings. Every derived key has its own, so no two uses
// of one master key ever share a derived key.
const (
	infoKEK        = "vane/keyring/v1/kek:"        // + logical key id: wraps data keys
	infoMasterWrap = "vane/keyring/v1/master-wrap" // root key: wraps stored master keys
	infoRootID     = "vane/keyring/v1/root-id"     // root key: its public id
)

// envelope is a decoded sealed value. Its slices point into the decoded
// bytes.
type envelope struct {
	keyID, masterID    string
	wrapNonce, wrapped []byte
	valNonce, value    []byte
	valueAD, wrappedAD []byte // additional data of value and wrapped
}

// errNotSealed is what Open and Rewrap return for text that is not an
// envelope at all.
func errNotSealed() error {
	return vane.Errorf(vane.EINVALID, "the value is not a sealed SecureString value")
}

// errDamaged is what Open and Rewrap return when authentication fails: the
// envelope was changed, or it was not sealed by this keyring's keys. The
// message never includes any part of the value.
func errDamaged() error {
	return vane.Errorf(vane.EINVALID, "the sealed value is damaged or was not sealed by this keyring")
}

// decodeEnvelope parses the sealed form without opening it.
func decodeEnvelope(sealed string) (*envelope, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < minEnvelopeSize || b[0] != envelopeMagic {
		return nil, errNotSealed()
	}
	if b[1] != envelopeFormat {
		return nil, vane.Errorf(vane.EINVALID, "the sealed value has envelope format %d; this Vane reads format %d", b[1], envelopeFormat)
	}
	e := &envelope{}
	i := 2
	kl := int(b[i])
	i++
	if kl == 0 || len(b) < i+kl+1 {
		return nil, errNotSealed()
	}
	e.keyID = string(b[i : i+kl])
	i += kl
	e.valueAD = b[:i]
	ml := int(b[i])
	i++
	if ml == 0 || len(b) < i+ml+nonceSize+wrappedSize+nonceSize+tagSize {
		return nil, errNotSealed()
	}
	e.masterID = string(b[i : i+ml])
	i += ml
	e.wrappedAD = b[:i]
	e.wrapNonce = b[i : i+nonceSize]
	i += nonceSize
	e.wrapped = b[i : i+wrappedSize]
	i += wrappedSize
	e.valNonce = b[i : i+nonceSize]
	i += nonceSize
	e.value = b[i:]
	return e, nil
}

// encode returns the sealed form of e.
func (e *envelope) encode() string {
	b := appendHeader(nil, e.keyID, e.masterID)
	b = append(b, e.wrapNonce...)
	b = append(b, e.wrapped...)
	b = append(b, e.valNonce...)
	b = append(b, e.value...)
	return base64.StdEncoding.EncodeToString(b)
}

// appendHeader appends the envelope up to and including the master key id.
func appendHeader(b []byte, keyID, masterID string) []byte {
	b = append(b, envelopeMagic, envelopeFormat, byte(len(keyID)))
	b = append(b, keyID...)
	b = append(b, byte(len(masterID)))
	return append(b, masterID...)
}

// valueAD returns the additional data of a value sealed under keyID.
func valueAD(keyID string) []byte {
	b := []byte{envelopeMagic, envelopeFormat, byte(len(keyID))}
	return append(b, keyID...)
}

// Sealed describes a sealed value without opening it.
type Sealed struct {
	// KeyID is the id of the logical key the value was sealed under.
	KeyID string
	// MasterKeyID is the id of the master key its data key is wrapped
	// under; Rewrap changes it.
	MasterKeyID string
}

// Inspect returns the key ids a sealed value names. It checks the
// envelope's structure, not its integrity: only Open does. Errors: EINVALID
// when s is not a sealed value.
func Inspect(s string) (Sealed, error) {
	e, err := decodeEnvelope(s)
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: e.keyID, MasterKeyID: e.masterID}, nil
}

// IsSealed reports whether s has the structure of a sealed value. Text a
// person wrote is practically never mistaken for one, but only Open proves
// that a value is intact.
func IsSealed(s string) bool {
	_, err := decodeEnvelope(s)
	return err == nil
}

// newGCM returns AES-256-GCM under key.
func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("keyring: " + err.Error()) // only a key of a wrong size gets here
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic("keyring: " + err.Error())
	}
	return gcm
}

// derive returns the key HKDF-SHA256 derives from secret with info.
func derive(secret []byte, info string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, info, keySize)
	if err != nil {
		panic("keyring: " + err.Error()) // only an impossible length gets here
	}
	return k
}

// kek returns the AEAD wrapping the data keys of the logical key keyID
// under a master key.
func kek(master []byte, keyID string) cipher.AEAD {
	return newGCM(derive(master, infoKEK+keyID))
}

// rootID returns the public id of a root key: a fingerprint that reveals
// nothing about the key.
func rootID(root []byte) string {
	k, err := hkdf.Key(sha256.New, root, nil, infoRootID, 8)
	if err != nil {
		panic("keyring: " + err.Error())
	}
	return "root-" + hex.EncodeToString(k)
}
