package http_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/guard"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/storetest"
)

// mustOpenAt starts a server over the index over a SQLite store whose
// clock is the returned one, as `vane serve` chains them (guard, index,
// store), so that point-in-time reads go through the wrappers.
func mustOpenAt(t *testing.T) (*Server, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	st := MustOpenStore(t)
	st.Now = clock.Now
	idx := index.New(st)
	if err := idx.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return MustOpen(t, func(s *vanehttp.Server) { s.Store = guard.New(idx) }), clock
}

// atQuery is "at=" and the time, escaped.
func atQuery(t time.Time) string {
	return "at=" + url.QueryEscape(t.Format(time.RFC3339Nano))
}

func TestGetParameterAt(t *testing.T) {
	s, clock := mustOpenAt(t)
	t0 := clock.Now()
	clock.Add(time.Second)
	t1 := clock.Now()
	s.MustPut(t, "/x/a", "one")
	s.MustPut(t, "/x/gone", "soon")
	clock.Add(time.Second)
	t2 := clock.Now()
	s.MustPut(t, "/x/a", "two")
	s.Do(t, "DELETE", "/v1/parameters/x/gone", "").Want(t, 204, nil)
	clock.Add(time.Second)

	var p Parameter
	r := s.Do(t, "GET", "/v1/parameters/x/a?"+atQuery(t1), "").Want(t, 200, &p)
	if p.Version != 1 || p.Value != "one" || p.LastModified != t1.Format(time.RFC3339Nano) || r.Header.Get("ETag") != `"1"` {
		t.Errorf("at t1: %+v, ETag %s; want version 1, one", p, r.Header.Get("ETag"))
	}
	// Any offset; the version current at the time.
	paris := t1.Add(time.Second / 2).In(time.FixedZone("CEST", 2*3600))
	s.Do(t, "GET", "/v1/parameters/x/a?"+atQuery(paris), "").Want(t, 200, &p)
	if p.Version != 1 {
		t.Errorf("at t1+0.5s given as %s: version %d, want 1", paris.Format(time.RFC3339Nano), p.Version)
	}
	s.Do(t, "GET", "/v1/parameters/x/a?"+atQuery(t2)+"&with_decryption=true", "").Want(t, 200, &p)
	if p.Version != 2 || p.Value != "two" {
		t.Errorf("at t2: %+v, want version 2", p)
	}

	t.Run("ErrNotFoundBeforeCreation", func(t *testing.T) {
		s.Do(t, "GET", "/v1/parameters/x/a?"+atQuery(t0), "").WantError(t, 404, vane.ENOTFOUND, vane.DetailParameterNotFound, "did not exist")
	})
	t.Run("ErrGoneDeletedSince", func(t *testing.T) {
		s.Do(t, "GET", "/v1/parameters/x/gone?"+atQuery(t1), "").WantError(t, 410, vane.EGONE, "", "/x/gone", "deleted")
	})
	t.Run("ErrFuture", func(t *testing.T) {
		s.Do(t, "GET", "/v1/parameters/x/a?"+atQuery(clock.Now().Add(time.Hour)), "").WantError(t, 400, vane.EINVALID, "", "future")
	})
	t.Run("ErrBadTime", func(t *testing.T) {
		for _, v := range []string{"yesterday", "2026-05-01", "2026-05-01T09:00:00", "-1h", ""} {
			s.Do(t, "GET", "/v1/parameters/x/a?at="+url.QueryEscape(v), "").WantError(t, 400, vane.EINVALID, "", `"at"`, "RFC 3339")
		}
		s.Do(t, "GET", "/v1/parameters/x/a?"+atQuery(t1)+"&"+atQuery(t2), "").WantError(t, 400, vane.EINVALID, "", `"at"`)
	})
	t.Run("ErrWithSelector", func(t *testing.T) {
		for _, path := range []string{
			"/v1/parameters/x/a?version=1&" + atQuery(t1),
			"/v1/parameters/x/a?label=prod&" + atQuery(t1),
			"/v1/parameters/x/a:1?" + atQuery(t1),
		} {
			s.Do(t, "GET", path, "").WantError(t, 400, vane.EINVALID, "", "at=", "not both")
		}
	})
}

// snapshotAtJSON is the body of GET /v1/snapshot?at=.
type snapshotAtJSON struct {
	Sequence   int64       `json:"sequence"`
	At         string      `json:"at"`
	Parameters []Parameter `json:"parameters"`
}

func names(ps []Parameter) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"="+p.Value)
	}
	return strings.Join(out, " ")
}

func TestSnapshotAt(t *testing.T) {
	s, clock := mustOpenAt(t)
	t0 := clock.Now()
	clock.Add(time.Second)
	t1 := clock.Now()
	s.MustPut(t, "/s/a", "a1")
	s.MustPut(t, "/s/b", "b1")
	s.MustPut(t, "/t/c", "c1")
	clock.Add(time.Second)
	t2 := clock.Now()
	s.MustPut(t, "/s/a", "a2")
	s.Do(t, "DELETE", "/v1/parameters/t/c", "").Want(t, 204, nil)
	clock.Add(time.Second)
	live := s.Do(t, "GET", "/v1/snapshot?path=/s/", "").Want(t, 200, nil)

	var snap snapshotAtJSON
	r := s.Do(t, "GET", "/v1/snapshot?path=/s/&"+atQuery(t1), "", "If-None-Match", live.Header.Get("ETag")).Want(t, 200, &snap)
	if got := names(snap.Parameters); got != "/s/a=a1 /s/b=b1" || snap.At != t1.Format(time.RFC3339Nano) || snap.Sequence != 3 {
		t.Errorf("snapshot at t1: %s at %s, sequence %d; want /s/a=a1 /s/b=b1 at %s, sequence 3", got, snap.At, snap.Sequence, t1.Format(time.RFC3339Nano))
	}
	if tag := r.Header.Get("ETag"); tag != "" {
		t.Errorf("a snapshot of the past has the ETag %s", tag)
	}
	s.Do(t, "GET", "/v1/snapshot?path=/s/&"+atQuery(t2), "").Want(t, 200, &snap)
	if got := names(snap.Parameters); got != "/s/a=a2 /s/b=b1" || snap.Sequence != 5 {
		t.Errorf("snapshot at t2: %s, sequence %d; want /s/a=a2 /s/b=b1, sequence 5", got, snap.Sequence)
	}
	s.Do(t, "GET", "/v1/snapshot?"+atQuery(t0), "").Want(t, 200, &snap)
	if len(snap.Parameters) != 0 || snap.Sequence != 0 {
		t.Errorf("snapshot before any write: %s, sequence %d; want nothing, 0", names(snap.Parameters), snap.Sequence)
	}
	// /t/c existed at t1 and is deleted: a snapshot holding it can't be
	// given; one of other paths can.
	s.Do(t, "GET", "/v1/snapshot?"+atQuery(t1), "").WantError(t, 410, vane.EGONE, "", "/t/c", "deleted")
	s.Do(t, "GET", "/v1/snapshot?path=/t/&path=/s/&"+atQuery(t1), "").WantError(t, 410, vane.EGONE, "", "/t/c")
	s.Do(t, "GET", "/v1/snapshot?path=/s/&path=/u/&"+atQuery(t1), "").Want(t, 200, &snap)
	if got := names(snap.Parameters); got != "/s/a=a1 /s/b=b1" {
		t.Errorf("snapshot of /s/ and /u/ at t1: %s", got)
	}
	s.Do(t, "GET", "/v1/snapshot?path=/t/&"+atQuery(t2), "").Want(t, 200, &snap)
	if len(snap.Parameters) != 0 {
		t.Errorf("snapshot of /t/ at t2, after the delete: %s", names(snap.Parameters))
	}

	t.Run("ErrBadTime", func(t *testing.T) {
		s.Do(t, "GET", "/v1/snapshot?at=now", "").WantError(t, 400, vane.EINVALID, "", `"at"`, "RFC 3339")
	})
	t.Run("ErrFuture", func(t *testing.T) {
		s.Do(t, "GET", "/v1/snapshot?"+atQuery(clock.Now().Add(time.Minute)), "").WantError(t, 400, vane.EINVALID, "", "future")
	})
}

// TestAtAccess: point-in-time reads are checked as reads of now are: a
// key sees in a snapshot only the names it may watch (and is not failed
// by a gone name it may not see), reads only names it may get, and
// decrypts only with kms:Decrypt.
func TestAtAccess(t *testing.T) {
	a := mustOpenAccess(t)
	var last Parameter
	for _, p := range []string{"/app/prod/a", "/app/dev/c", "/other/d"} {
		a.as(t, "admin", "PUT", "/v1/parameters"+p, `{"type":"String","value":"v1"}`).Want(t, 201, &last)
	}
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/pw", `{"type":"SecureString","value":"hunter2"}`).Want(t, 201, &last)
	at, err := time.Parse(time.RFC3339Nano, last.LastModified)
	if err != nil {
		t.Fatal(err)
	}
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/a", `{"value":"v2","overwrite":true}`).Want(t, 200, nil)
	a.as(t, "admin", "DELETE", "/v1/parameters/other/d", "").Want(t, 204, nil)

	var snap snapshotAtJSON
	a.as(t, "reader", "GET", "/v1/snapshot?path=/&"+atQuery(at), "").Want(t, 200, &snap)
	got := names(snap.Parameters)
	if !strings.Contains(got, "/app/prod/a=v1") || strings.Contains(got, "/app/dev/c") || strings.Contains(got, "/other/d") || strings.Contains(got, "hunter2") {
		t.Errorf("the reader's snapshot at %s: %s; want /app/prod/a=v1 and no name outside /app/prod/, sealed values", at, got)
	}
	// The admin sees /other/d, which existed then and is deleted.
	r := a.as(t, "admin", "GET", "/v1/snapshot?path=/&"+atQuery(at), "")
	r.WantError(t, 410, vane.EGONE, "", "/other/d")
	if r := a.as(t, "reader", "GET", "/v1/snapshot?path=/&"+atQuery(at), ""); strings.Contains(string(r.Body), "/other/d") {
		t.Errorf("the reader's snapshot names /other/d: %s", r.Body)
	}

	a.as(t, "reader", "GET", "/v1/parameters/app/dev/c?"+atQuery(at), "").WantError(t, 403, vane.EFORBIDDEN, "")
	a.as(t, "reader", "GET", "/v1/parameters/app/prod/pw?with_decryption=true&"+atQuery(at), "").WantError(t, 403, vane.EFORBIDDEN, "", "kms:Decrypt")
	a.as(t, "reader", "GET", "/v1/snapshot?path=/app/prod/&with_decryption=true&"+atQuery(at), "").WantError(t, 403, vane.EFORBIDDEN, "", "kms:Decrypt")
	var p Parameter
	a.as(t, "reader", "GET", "/v1/parameters/app/prod/pw?"+atQuery(at), "").Want(t, 200, &p)
	if p.Value == "" || p.Value == "hunter2" {
		t.Errorf("the reader's read of a SecureString at %s: value %q, want it sealed", at, p.Value)
	}
	a.as(t, "writer", "GET", "/v1/parameters/app/prod/pw?with_decryption=true&"+atQuery(at), "").Want(t, 200, &p)
	if p.Value != "hunter2" {
		t.Errorf("the writer's decrypted read at %s: value %q, want hunter2", at, p.Value)
	}
	a.as(t, "reader", "GET", "/v1/parameters/app/prod/a?"+atQuery(at), "").Want(t, 200, &p)
	if p.Value != "v1" {
		t.Errorf("the reader's read of /app/prod/a at %s: %q, want v1", at, p.Value)
	}
}
