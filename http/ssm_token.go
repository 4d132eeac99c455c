package http

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"

	"github.com/vanehq/vane"
)

// Paging tokens of the SSM protocol. The store's NextToken names the
// parameter or version a page resumes after; an SSM client gets it signed,
// so that a forged or modified token is InvalidNextToken rather than a
// listing resumed wherever the client chose. A token is also bound to the
// operation and to what it lists (the path, the parameter), so it can't be
// replayed on another listing.
//
// The key is Server.TokenKey, which vane serve derives from the keyring
// shared by every node, so tokens survive restarts and work across nodes
// behind a load balancer. Without one the key is random per Server.

const (
	tokenMACSize  = 16   // bytes of HMAC-SHA256 kept
	maxTokenChars = 4096 // longer tokens are refused without decoding
)

// pageTokens signs and checks paging tokens with one key.
type pageTokens struct {
	key []byte
}

// newPageTokens returns pageTokens signing with key, or with a new random
// key when key is empty.
func newPageTokens(key []byte) *pageTokens {
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key) // never fails: see crypto/rand.Read
	}
	return &pageTokens{key: key}
}

// mac returns the truncated HMAC of a store token for an operation and
// scope. The parts before the last are length-prefixed, so that no two
// (op, scope, token) triples hash the same bytes.
func (t *pageTokens) mac(op, scope, storeToken string) []byte {
	m := hmac.New(sha256.New, t.key)
	for _, part := range []string{op, scope} {
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part))))
		m.Write([]byte(part))
	}
	m.Write([]byte(storeToken))
	return m.Sum(nil)[:tokenMACSize]
}

// seal returns the SSM token for a store token: base64url of the MAC
// followed by the store token. An empty store token (the last page) stays
// empty.
func (t *pageTokens) seal(op, scope, storeToken string) string {
	if storeToken == "" {
		return ""
	}
	b := append(t.mac(op, scope, storeToken), storeToken...)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// tokenPrefix begins every token, so that none begins with "-", which
// base64url would give one token in 64: the aws CLI reads an argument
// beginning with "-" as an option, and refuses --next-token -x... or
// --configuration-token -x... before sending anything.
const tokenPrefix = "V"

// open returns the store token an SSM token carries, "" for none. A token
// this server did not issue for this operation and scope is
// InvalidNextToken.
func (t *pageTokens) open(op, scope, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	invalid := vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidNextToken,
		"the NextToken is not valid: it was not issued by this server for this request, or it was changed (tokens do not survive a server restart)")
	token, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(token) > maxTokenChars {
		return "", invalid
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) <= tokenMACSize {
		return "", invalid
	}
	storeToken := string(b[tokenMACSize:])
	if !hmac.Equal(b[:tokenMACSize], t.mac(op, scope, storeToken)) {
		return "", invalid
	}
	return storeToken, nil
}
