package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/sqlite"
)

// FuzzSSMRequest sends arbitrary targets and bodies to the SSM protocol of
// a server over SQLite and the in-memory index, as `vane serve` runs them,
// with a Cipher.
// Whatever the input, the server must not panic and must answer 200 with a
// JSON object, or 400 with the SSM error shape: bad input is never a 500.
// The seed corpus is in testdata/fuzz/FuzzSSMRequest.
func FuzzSSMRequest(f *testing.F) {
	f.Add("AmazonSSM.GetParameter", []byte(`{"Name":"/fz/a"}`))
	f.Add("AmazonSSM.PutParameter", []byte(`{"Name":"/fz/b","Value":"v","Type":"String","Tags":[{"Key":"k","Value":"v"}]}`))

	st, err := sqlite.Open(filepath.Join(f.TempDir(), "vane.db"))
	if err != nil {
		f.Fatal(err)
	}
	idx := index.New(st)
	if err := idx.Open(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { idx.Close() })
	// SecureString values are sealed, so that reads with decryption open
	// them as with a real keyring.
	store := &sealingStore{Store: idx, Cipher: prefixCipher{}}
	ctx := context.Background()
	for _, in := range []*vane.PutInput{
		{Name: "/fz/a", Value: "1", Type: vane.TypeString, Tags: []vane.Tag{{Key: "env", Value: "prod"}}},
		{Name: "/fz/a", Value: "2", Overwrite: true},
		{Name: "/fz/dir/s", Value: "secret", Type: vane.TypeSecureString},
		{Name: "root", Value: "a,b", Type: vane.TypeStringList},
	} {
		if _, err := store.Put(ctx, in); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := idx.Label(ctx, &vane.LabelInput{Name: "/fz/a", Version: 1, Labels: []string{"prod"}}); err != nil {
		f.Fatal(err)
	}
	s := vanehttp.NewServer()
	s.Store = store
	s.Cipher = prefixCipher{}
	h := s.Handler()

	f.Fuzz(func(t *testing.T, target string, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if ct := rec.Header().Get("Content-Type"); ct != "application/x-amz-json-1.1" {
			t.Fatalf("Content-Type %q; body %s", ct, rec.Body)
		}
		switch rec.Code {
		case 200:
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v == nil {
				t.Fatalf("200 with a body that is not a JSON object (%v): %s", err, rec.Body)
			}
		case 400:
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Type == "" || e.Message == "" {
				t.Fatalf("400 without the error shape (%v): %s", err, rec.Body)
			}
			if h := rec.Header().Get("X-Amzn-ErrorType"); h != e.Type {
				t.Fatalf("X-Amzn-ErrorType %q, __type %q", h, e.Type)
			}
		default:
			t.Fatalf("target %q body %q: status %d: %s", target, body, rec.Code, rec.Body)
		}
	})
}
