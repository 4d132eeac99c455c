package http_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/keyring"
)

// compact posts to /v1/compact and returns the number removed.
func compact(t *testing.T, s *Server, olderThan string) int64 {
	t.Helper()
	var out struct {
		Removed *int64 `json:"removed"`
	}
	s.Do(t, "POST", "/v1/compact", `{"older_than":"`+olderThan+`"}`).Want(t, 200, &out)
	if out.Removed == nil {
		t.Fatal(`POST /v1/compact: no "removed" in the response`)
	}
	return *out.Removed
}

func TestCompact(t *testing.T) {
	s := MustOpen(t)
	for i := range 4 {
		s.MustPut(t, "/app/p", strconv.Itoa(i))
	}

	t.Run("ErrOlderThan", func(t *testing.T) {
		for _, tt := range []struct{ name, body string }{
			{"Missing", `{}`},
			{"Null", `{"older_than":null}`},
			{"NotADuration", `{"older_than":"7d"}`},
			{"Empty", `{"older_than":""}`},
			{"Negative", `{"older_than":"-1h"}`},
			{"Number", `{"older_than":3600}`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s.Do(t, "POST", "/v1/compact", tt.body).WantError(t, 400, vane.EINVALID, vane.DetailValidation, "older_than")
			})
		}
		s.Do(t, "POST", "/v1/compact", "").WantError(t, 400, vane.EINVALID, "", "empty")
		s.Do(t, "POST", "/v1/compact", `{"older_than":"1h","before":"x"}`).WantError(t, 400, vane.EINVALID, "", "before")
		s.Do(t, "POST", "/v1/compact?older_than=1h", `{"older_than":"1h"}`).WantError(t, 400, vane.EINVALID, "", "older_than")
		s.Do(t, "GET", "/v1/compact", "").WantError(t, 405, vane.EINVALID, "")
	})
	t.Run("NothingOlderThanRetention", func(t *testing.T) {
		if n := compact(t, s, "168h"); n != 0 {
			t.Fatalf("removed %d records younger than the retention", n)
		}
		var out struct{ Changes []json.RawMessage }
		s.Do(t, "GET", "/v1/changes?after=0", "").Want(t, 200, &out)
		if len(out.Changes) != 4 {
			t.Fatalf("%d changes left, want 4", len(out.Changes))
		}
	})
	t.Run("ZeroKeepsTheNewest", func(t *testing.T) {
		if n := compact(t, s, "0s"); n != 3 {
			t.Fatalf("removed %d records, want 3: all but the newest", n)
		}
		s.Do(t, "GET", "/v1/changes?after=0", "").WantError(t, 410, vane.EGONE, "", "sequence 3")
		var out struct {
			Changes []struct{ Seq int64 } `json:"changes"`
		}
		s.Do(t, "GET", "/v1/changes?after=3", "").Want(t, 200, &out)
		if len(out.Changes) != 1 || out.Changes[0].Seq != 4 {
			t.Fatalf("changes after the floor: %+v, want the newest, 4", out.Changes)
		}
		// Versions are not changes: all are kept.
		var h Page
		s.Do(t, "GET", "/v1/history/app/p", "").Want(t, 200, &h)
		if len(h.Parameters) != 4 {
			t.Fatalf("history: %d versions after compaction, want 4", len(h.Parameters))
		}
		if n := compact(t, s, "0s"); n != 0 {
			t.Fatalf("a second compaction removed %d records", n)
		}
	})
	t.Run("Timed", func(t *testing.T) {
		if !strings.Contains(string(s.Do(t, "GET", "/metrics", "").Body), `vane_store_operation_duration_seconds_count{op="compact",result="ok"} 3`) {
			t.Fatal(`/metrics has no op="compact" series counting 3 compactions`)
		}
	})
}

// TestCompactCountsFromNow checks that older_than counts back from the
// server's clock: moved an hour ahead, the records just written are older
// than 30m and younger than 2h.
func TestCompactCountsFromNow(t *testing.T) {
	now := time.Now()
	s := MustOpen(t, func(s *vanehttp.Server) { s.Now = func() time.Time { return now } })
	s.MustPut(t, "/a", "1")
	s.MustPut(t, "/b", "1")
	s.MustPut(t, "/c", "1")
	if n := compact(t, s, "0s"); n != 0 {
		t.Fatalf("removed %d records written after the server's now", n)
	}
	now = now.Add(time.Hour)
	if n := compact(t, s, "2h"); n != 0 {
		t.Fatalf("older_than 2h removed %d records written an hour ago", n)
	}
	if n := compact(t, s, "30m"); n != 2 {
		t.Fatalf("older_than 30m removed %d records written an hour ago, want 2 (all but the newest)", n)
	}
}

func TestWatchResetOnCompactedSince(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	s1 := s.put(t, "/a/1", "1")
	s.put(t, "/a/2", "2")
	s3 := s.put(t, "/a/3", "3")
	s4 := s.put(t, "/a/4", "4")
	if n := compact(t, s.Server, "0s"); n != 3 {
		t.Fatalf("compaction removed %d records, want 3", n)
	}
	wantReset := func(t *testing.T, w *sseStream, seq int64) {
		t.Helper()
		ev, ok := w.next(t)
		if !ok || ev.Event != "reset" {
			t.Fatalf("first event %+v (stream open: %v), want a reset", ev, ok)
		}
		var r vanehttp.WatchReset
		if err := json.Unmarshal([]byte(ev.Data), &r); err != nil || r.Seq != seq {
			t.Fatalf("reset data %s, want {\"seq\":%d}", ev.Data, seq)
		}
		if ev, ok := w.next(t); ok {
			t.Fatalf("the stream goes on after the reset: %+v", ev)
		}
	}

	t.Run("Since", func(t *testing.T) {
		wantReset(t, openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(s1, 10)), s1)
		wantReset(t, openWatch(t, s, "?since=0"), 0)
	})
	t.Run("LastEventID", func(t *testing.T) {
		wantReset(t, openWatch(t, s, "?path=/a/", "Last-Event-ID", strconv.FormatInt(s1, 10)), s1)
	})
	t.Run("SeveralPaths", func(t *testing.T) {
		wantReset(t, openWatch(t, s, "?path=/a/&path=/b/&since=1"), 1)
	})
	t.Run("AtTheFloorReplays", func(t *testing.T) {
		w := openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(s3, 10))
		w.wantChange(t, s4, "put", "/a/4", "4")
		s5 := s.put(t, "/a/5", "5")
		w.wantChange(t, s5, "put", "/a/5", "5")
	})
	if logs := s.Logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("a compacted since was logged as an error:\n%s", logs)
	}
}

func TestSnapshotWithDecryption(t *testing.T) {
	s, _ := MustOpenSealed(t)
	s.Do(t, "PUT", "/v1/parameters/app/secret", `{"value":"`+secretValue+`","type":"SecureString"}`).Want(t, 201, nil)
	s.MustPut(t, "/app/plain", "visible")
	s.MustPut(t, "/other/x", "x")
	type snapshot struct {
		Sequence   int64       `json:"sequence"`
		Parameters []Parameter `json:"parameters"`
	}
	get := func(t *testing.T, query string, header ...string) (*Response, map[string]string) {
		t.Helper()
		var snap snapshot
		r := s.Do(t, "GET", "/v1/snapshot"+query, "", header...).Want(t, 200, &snap)
		values := map[string]string{}
		for _, p := range snap.Parameters {
			values[p.Name] = p.Value
		}
		return r, values
	}

	sealedResp, sealed := get(t, "?path=/app/")
	plainResp, plain := get(t, "?path=/app/&with_decryption=true")
	sealedTag, plainTag := sealedResp.Header.Get("ETag"), plainResp.Header.Get("ETag")

	t.Run("SealedByDefault", func(t *testing.T) {
		if !keyring.IsSealed(sealed["/app/secret"]) || sealed["/app/plain"] != "visible" || len(sealed) != 2 {
			t.Fatalf("snapshot without with_decryption: %v; want the secret sealed", sealed)
		}
		if _, v := get(t, "?path=/app/&with_decryption=false"); v["/app/secret"] != sealed["/app/secret"] {
			t.Fatalf("with_decryption=false: %v", v)
		}
	})
	t.Run("PlaintextWithDecryption", func(t *testing.T) {
		if plain["/app/secret"] != secretValue || plain["/app/plain"] != "visible" || len(plain) != 2 {
			t.Fatalf("snapshot with_decryption=true: %v; want the secret's plaintext", plain)
		}
		if cc := plainResp.Header.Get("Cache-Control"); cc != "private, no-cache" {
			t.Fatalf("Cache-Control %q of plaintext secrets, want private, no-cache", cc)
		}
		// The stored value, and the index's, stay sealed.
		if _, v := get(t, "?path=/app/"); v["/app/secret"] != sealed["/app/secret"] {
			t.Fatalf("a decrypted snapshot changed the sealed value: %v", v)
		}
	})
	t.Run("DistinctETags", func(t *testing.T) {
		if sealedTag == "" || plainTag == "" || sealedTag == plainTag {
			t.Fatalf("ETags %q (sealed) and %q (plaintext), want two different tags", sealedTag, plainTag)
		}
		if r := s.Do(t, "GET", "/v1/snapshot?path=/app/&with_decryption=true", "", "If-None-Match", sealedTag); r.Status != 200 {
			t.Fatalf("the sealed form's tag answered the plaintext form with %d", r.Status)
		}
		if r := s.Do(t, "GET", "/v1/snapshot?path=/app/", "", "If-None-Match", plainTag); r.Status != 200 {
			t.Fatalf("the plaintext form's tag answered the sealed form with %d", r.Status)
		}
		if r := s.Do(t, "GET", "/v1/snapshot?path=/app/&with_decryption=true", "", "If-None-Match", plainTag); r.Status != 304 || r.Header.Get("ETag") != plainTag {
			t.Fatalf("If-None-Match with the plaintext form's tag: %d %q, want 304", r.Status, r.Header.Get("ETag"))
		}
		if r := s.Do(t, "GET", "/v1/snapshot?path=/app/&with_decryption=1", "", "If-None-Match", plainTag); r.Status != 304 {
			t.Fatalf("with_decryption=1: %d, want the same entity as true", r.Status)
		}
	})
	t.Run("ErrWithDecryption", func(t *testing.T) {
		s.Do(t, "GET", "/v1/snapshot?with_decryption=maybe", "").WantError(t, 400, vane.EINVALID, "", "with_decryption")
	})
	t.Run("ErrUndecryptable", func(t *testing.T) {
		// A value stored unsealed can't be opened: the server's failure,
		// served without the snapshot's tag.
		kr, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), keyring.DefaultFileName)})
		if err != nil {
			t.Fatal(err)
		}
		st := MustOpenStore(t)
		if _, err := st.Put(context.Background(), &vane.PutInput{Name: "/x", Value: "not sealed", Type: vane.TypeSecureString}); err != nil {
			t.Fatal(err)
		}
		bad := MustOpen(t, func(srv *vanehttp.Server) {
			srv.Store = st
			srv.Cipher = kr
		})
		r := bad.Do(t, "GET", "/v1/snapshot?with_decryption=true", "")
		r.WantError(t, 500, vane.EINTERNAL, "")
		if r.Header.Get("ETag") != "" {
			t.Fatalf("an error carries the ETag %q", r.Header.Get("ETag"))
		}
	})
}

// TestWatchResetWhenIndexReloads ends live streams with a reset when the
// index finds the change log compacted past it (a node that fell behind
// on a shared database) and reloads.
func TestWatchResetWhenIndexReloads(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	seq := s.put(t, "/a/1", "1")
	w := openWatch(t, s, "?path=/a/")
	ctx := context.Background()
	// Another node's writes, compacted away before this node read them.
	for i := range 3 {
		if _, err := s.Under.Put(ctx, &vane.PutInput{Name: "/a/2", Value: strconv.Itoa(i), Type: vane.TypeString, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Under.Compact(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Index.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	ev, ok := w.next(t)
	if !ok || ev.Event != "reset" || ev.Data != `{"seq":`+strconv.FormatInt(seq, 10)+`}` {
		t.Fatalf("event %+v (stream open: %v), want a reset at %d", ev, ok, seq)
	}
	if _, ok := w.next(t); ok {
		t.Fatal("the stream goes on after the reset")
	}
	// The snapshot a client reloads holds the other node's writes.
	if p, err := s.Index.Get(ctx, "/a/2"); err != nil || p.Value != "2" {
		t.Fatalf("after the reload /a/2 = %v, %v; want the value 2", p, err)
	}
}
