package storetest

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

var concurrencyTests = []test{
	{"OverwritesGetDistinctVersions", testConcurrentOverwrites},
	{"CreateHasOneWinner", testConcurrentCreate},
	{"CompareAndSetCounts", testConcurrentCAS},
}

// errorList collects errors from goroutines for the test goroutine to
// report, since only it may call t.Fatal.
type errorList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorList) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, err := range l.errs {
		if i == 10 {
			t.Errorf("... and %d more errors", len(l.errs)-i)
			break
		}
		t.Error(err)
	}
	if len(l.errs) > 0 {
		t.FailNow()
	}
}

func testConcurrentOverwrites(t *testing.T, s vane.Store) {
	const workers, each, name = 8, 25, "/conc/p"
	var (
		mu     sync.Mutex
		values = map[int64]string{} // version -> value written
		dups   []int64
		errs   errorList
		wg     sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				v := fmt.Sprintf("w%d-%d", w, i)
				p, err := s.Put(bg(t), &vane.PutInput{Name: name, Value: v, Type: vane.TypeString, Overwrite: true})
				if err != nil {
					errs.add(fmt.Errorf("worker %d put %d: %w", w, i, err))
					continue
				}
				mu.Lock()
				if _, ok := values[p.Version]; ok {
					dups = append(dups, p.Version)
				}
				values[p.Version] = v
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	errs.report(t)
	if len(dups) > 0 {
		t.Errorf("versions returned more than once: %v", dups)
	}
	const total = workers * each
	for v := int64(1); v <= total; v++ {
		if _, ok := values[v]; !ok {
			t.Errorf("no put returned version %d", v)
		}
	}
	if len(values) != total {
		t.Fatalf("%d distinct versions returned, want %d", len(values), total)
	}

	h := historyAll(t, s, name, 0)
	if len(h) != vane.MaxVersions || h[0].Version != total-vane.MaxVersions+1 {
		t.Errorf("History: %d versions, want the last %d (%d to %d)", len(h), vane.MaxVersions, total-vane.MaxVersions+1, total)
	}
	for i, p := range h {
		if i > 0 && p.Version != h[i-1].Version+1 {
			t.Errorf("History: version %d follows %d", p.Version, h[i-1].Version)
		}
		if p.Value != values[p.Version] {
			t.Errorf("History: version %d has value %q, but the put that returned it wrote %q", p.Version, p.Value, values[p.Version])
		}
	}
	wantVersion(t, s, name, total, values[total])

	cs := changesAfter(t, s, 0, "/conc/")
	if len(cs) != total {
		t.Fatalf("change log: %d records, want %d", len(cs), total)
	}
	for i, c := range cs {
		if c.Op != vane.OpPut || c.Name != name || c.Version != int64(i+1) {
			t.Fatalf("change %d = %+v, want the put of version %d", i, c, i+1)
		}
	}
}

func testConcurrentCreate(t *testing.T, s vane.Store) {
	const workers = 8
	var (
		wins   atomic.Int32
		errs   errorList
		wg     sync.WaitGroup
		winner atomic.Value
	)
	for w := range workers {
		wg.Go(func() {
			v := fmt.Sprintf("w%d", w)
			_, err := s.Put(bg(t), &vane.PutInput{Name: "/race", Value: v, Type: vane.TypeString})
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(v)
			case vane.ErrorCode(err) != vane.ECONFLICT || vane.ErrorDetail(err) != vane.DetailParameterAlreadyExists:
				errs.add(fmt.Errorf("worker %d: got %v, want success or %s", w, err, vane.DetailParameterAlreadyExists))
			}
		})
	}
	wg.Wait()
	errs.report(t)
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", n)
	}
	wantVersion(t, s, "/race", 1, winner.Load().(string))
	if cs := changesAfter(t, s, 0, ""); len(cs) != 1 {
		t.Errorf("change log: %d records, want 1", len(cs))
	}
}

func testConcurrentCAS(t *testing.T, s vane.Store) {
	const workers, each, name = 8, 5, "/counter"
	create(t, s, name, "0")
	var (
		errs errorList
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for i := 0; i < each; {
				if err := t.Context().Err(); err != nil {
					errs.add(err)
					return
				}
				p, err := s.Get(bg(t), name)
				if err != nil {
					errs.add(fmt.Errorf("worker %d: Get: %w", w, err))
					return
				}
				n, err := strconv.Atoi(p.Value)
				if err != nil {
					errs.add(fmt.Errorf("worker %d: counter value %q: %w", w, p.Value, err))
					return
				}
				_, err = s.Put(bg(t), &vane.PutInput{Name: name, Value: strconv.Itoa(n + 1), Overwrite: true, ExpectVersion: new(p.Version)})
				switch {
				case err == nil:
					i++
				case vane.ErrorCode(err) == vane.ECONFLICT && vane.ErrorDetail(err) == vane.DetailVersionMismatch:
					// Another worker won the race; read again.
				default:
					errs.add(fmt.Errorf("worker %d: Put: %w", w, err))
					return
				}
			}
		})
	}
	wg.Wait()
	errs.report(t)
	const total = workers * each
	wantVersion(t, s, name, total+1, strconv.Itoa(total))
	for i, p := range historyAll(t, s, name, 0) {
		if p.Value != strconv.Itoa(i) {
			t.Errorf("History: version %d has value %q, want %d", p.Version, p.Value, i)
		}
	}
}

func testByPathStablePaging(t *testing.T, s vane.Store) {
	const n, limit = 200, 7
	stable := make([]string, n)
	for i := range stable {
		stable[i] = fmt.Sprintf("/stable/k%03d", i)
		create(t, s, stable[i], "v1")
	}

	// The writer loops until stopped: it creates a parameter between two
	// stable ones, overwrites a stable one, and deletes the parameter it
	// created a round earlier. After every round it signals progress, and
	// the reader waits for a round between pages, so every page boundary
	// sees writes on both sides of it.
	var (
		stop       = make(chan struct{})
		progress   = make(chan struct{}, 1)
		writerDone = make(chan struct{})
		errs       errorList
		wg         sync.WaitGroup
	)
	wg.Go(func() {
		defer close(writerDone)
		ctx := bg(t)
		var pending []string
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			extra := fmt.Sprintf("/stable/k%03d-extra%d", (round*37)%n, round)
			if _, err := s.Put(ctx, &vane.PutInput{Name: extra, Value: "x", Type: vane.TypeString}); err != nil {
				errs.add(fmt.Errorf("writer: create %s: %w", extra, err))
				return
			}
			pending = append(pending, extra)
			target := stable[(round*53)%n]
			if _, err := s.Put(ctx, &vane.PutInput{Name: target, Value: fmt.Sprintf("round%d", round), Overwrite: true}); err != nil {
				errs.add(fmt.Errorf("writer: overwrite %s: %w", target, err))
				return
			}
			if len(pending) > 1 {
				if err := s.Delete(ctx, &vane.DeleteInput{Name: pending[0]}); err != nil {
					errs.add(fmt.Errorf("writer: delete %s: %w", pending[0], err))
					return
				}
				pending = pending[1:]
			}
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	})

	var got []string
	in := vane.ByPathInput{Path: "/stable", Limit: limit}
	for range maxPages {
		page, err := s.ByPath(bg(t), &in)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("ByPath page %d: %v", len(got)/limit, err)
		}
		if len(page.Parameters) > limit {
			t.Errorf("page of %d parameters, limit %d", len(page.Parameters), limit)
		}
		got = append(got, names(page.Parameters)...)
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
		// Let the writer finish a round that starts after this page.
		select {
		case <-progress:
		default:
		}
		select {
		case <-progress:
		case <-writerDone: // failed; reported below
		case <-time.After(30 * time.Second):
			t.Error("the writer made no progress for 30s")
		}
	}
	close(stop)
	wg.Wait()
	errs.report(t)

	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Errorf("paging returned %q after %q: names must be unique and increasing", got[i], got[i-1])
		}
	}
	seen := map[string]int{}
	for _, name := range got {
		seen[name]++
	}
	for _, name := range stable {
		if seen[name] != 1 {
			t.Errorf("%s returned %d times, want once", name, seen[name])
		}
	}
}
