package guard_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/guard"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/sqlite"
)

// mustOpen returns a guard over an index over a new SQLite file, wired as
// vane serve wires them.
func mustOpen(t *testing.T) (*guard.Store, *index.Store) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	ix := index.New(db)
	if err := ix.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return guard.New(ix), ix
}

// ctx is a writer without an HTTP request, as a rollout is.
func ctx(t *testing.T) context.Context {
	return vane.NewContextWithPrincipal(t.Context(), "rollout:test")
}

func put(t *testing.T, s vane.Store, name, typ, value string) {
	t.Helper()
	if _, err := s.Put(ctx(t), &vane.PutInput{Name: name, Type: vane.Type(typ), Value: value, Overwrite: true}); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

func wantError(t *testing.T, err error, code, detail string, texts ...string) {
	t.Helper()
	if vane.ErrorCode(err) != code || (detail != "" && vane.ErrorDetail(err) != detail) {
		t.Fatalf("error %v (code %q, detail %q); want code %q detail %q", err, vane.ErrorCode(err), vane.ErrorDetail(err), code, detail)
	}
	for _, s := range texts {
		if !strings.Contains(vane.ErrorMessage(err), s) {
			t.Errorf("error %q does not say %q", vane.ErrorMessage(err), s)
		}
	}
}

// TestNonHTTPWriterRefusedAsTheAPIRefuses writes through the guard as a
// background job does, with no HTTP request, and gets the refusals the
// API gives.
func TestNonHTTPWriterRefusedAsTheAPIRefuses(t *testing.T) {
	g, ix := mustOpen(t)
	put(t, g, "/app/prod/features/checkout", "String", `{"rollout_percentage": 5}`)

	t.Run("ErrInvalidFlagDocument", func(t *testing.T) {
		_, err := g.Put(ctx(t), &vane.PutInput{Name: "/app/prod/features/checkout", Value: `{"rollout_percentage": 120}`, Overwrite: true})
		wantError(t, err, vane.EINVALID, vane.DetailValidation, "/app/prod/features/checkout", "$.rollout_percentage")
	})
	t.Run("ErrFlagNotString", func(t *testing.T) {
		_, err := g.Put(ctx(t), &vane.PutInput{Name: "/app/prod/features/other", Type: vane.TypeStringList, Value: "true"})
		wantError(t, err, vane.EINVALID, vane.DetailValidation, "must be a String")
	})
	t.Run("NothingStored", func(t *testing.T) {
		p, err := ix.Get(t.Context(), "/app/prod/features/checkout")
		if err != nil || p.Version != 1 {
			t.Fatalf("after refused writes: %v, %+v; want version 1", err, p)
		}
		if _, err := ix.Get(t.Context(), "/app/prod/features/other"); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Fatalf("refused create was stored: %v", err)
		}
	})
	t.Run("OtherNamesTakeAnyValue", func(t *testing.T) {
		put(t, g, "/app/prod/tuning/ttl", "String", "maybe")
	})
}

func TestDeletionGuard(t *testing.T) {
	g, _ := mustOpen(t)
	for _, n := range []string{"/app/features/checkout", "/billing/rates/eu", "/app/tuning/ttl"} {
		put(t, g, n, "String", "true")
	}
	// Deletes pass before the settings exist.
	put(t, g, "/app/features/gone", "String", "true")
	if err := g.Delete(ctx(t), &vane.DeleteInput{Name: "/app/features/gone"}); err != nil {
		t.Fatal(err)
	}
	put(t, g, guard.SettingAllowFlagDeletion, "String", "false")
	put(t, g, guard.SettingProtectedPaths, "StringList", "/billing, /nowhere")

	err := g.Delete(ctx(t), &vane.DeleteInput{Name: "/app/features/checkout"})
	wantError(t, err, vane.EFORBIDDEN, "", guard.SettingAllowFlagDeletion, "set it to true")
	err = g.Delete(ctx(t), &vane.DeleteInput{Name: "/billing/rates/eu"})
	wantError(t, err, vane.EFORBIDDEN, "", guard.SettingProtectedPaths, "/billing/")
	if err := g.CheckDelete(t.Context(), "/billing/rates/eu"); vane.ErrorCode(err) != vane.EFORBIDDEN {
		t.Errorf("CheckDelete: %v; want forbidden", err)
	}
	if err := g.Delete(ctx(t), &vane.DeleteInput{Name: "/app/tuning/ttl"}); err != nil {
		t.Errorf("unguarded delete: %v", err)
	}

	// The cached settings follow a change at once.
	put(t, g, guard.SettingAllowFlagDeletion, "String", "true")
	if err := g.Delete(ctx(t), &vane.DeleteInput{Name: "/app/features/checkout"}); err != nil {
		t.Errorf("delete after the setting allowed it: %v", err)
	}
}

// TestBatchRefusedAsItsItemsAreRefused: a batch is checked item by item as
// single writes are, and one refused item refuses it all.
func TestBatchRefusedAsItsItemsAreRefused(t *testing.T) {
	g, ix := mustOpen(t)
	put(t, g, "/app/prod/features/checkout", "String", "true")
	put(t, g, "/billing/rates/eu", "String", "1")
	put(t, g, guard.SettingProtectedPaths, "StringList", "/billing")
	ok := vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/app/prod/tuning/ttl", Value: "30", Type: vane.TypeString}}
	for _, tc := range []struct {
		what string
		bad  vane.BatchItem
		code string
		msg  string
	}{
		{"an invalid flag document", vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/app/prod/features/checkout", Value: `{"rollout_percentage": 120}`, Overwrite: true}},
			vane.EINVALID, "$.rollout_percentage"},
		{"a protected delete", vane.BatchItem{Op: vane.BatchDelete, Delete: &vane.DeleteInput{Name: "/billing/rates/eu"}},
			vane.EFORBIDDEN, guard.SettingProtectedPaths},
	} {
		_, err := g.Batch(ctx(t), &vane.BatchInput{Items: []vane.BatchItem{ok, tc.bad}})
		var be *vane.BatchError
		if !errors.As(err, &be) || be.Index != 1 || vane.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v; want a BatchError for item 1, %s, naming %s", tc.what, err, tc.code, tc.msg)
		}
	}
	if _, err := ix.Get(t.Context(), "/app/prod/tuning/ttl"); vane.ErrorCode(err) != vane.ENOTFOUND {
		t.Errorf("a refused batch wrote its other item: %v", err)
	}
	if _, err := g.Batch(ctx(t), &vane.BatchInput{Items: []vane.BatchItem{ok}}); err != nil {
		t.Errorf("a batch of allowed items: %v", err)
	}
}

func TestStoreAsFindsTheIndexBelow(t *testing.T) {
	g, ix := mustOpen(t)
	got, ok := vane.StoreAs[*index.Store](g)
	if !ok || got != ix {
		t.Fatalf("StoreAs[*index.Store](guard) = %v, %v; want the index", got, ok)
	}
	if _, ok := vane.StoreAs[*sqlite.Store](g); ok {
		t.Fatal("StoreAs went below a store that is not a Wrapper")
	}
}
