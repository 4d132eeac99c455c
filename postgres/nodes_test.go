package postgres_test

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/postgres"
)

// These tests run two stores on one schema: two connection pools, as two
// Vane nodes sharing a database would have.

// twoNodes opens two stores on one new schema and returns them with the
// schema's name.
func twoNodes(t *testing.T) (a, b *postgres.Store, schema string) {
	t.Helper()
	schema, dsn := NewSchema(t)
	return OpenDSN(t, dsn), OpenDSN(t, dsn), schema
}

// errorList collects errors from goroutines for the test goroutine to
// report.
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

// allChanges reads the whole change log in pages.
func allChanges(t *testing.T, s vane.Store, prefix string) []vane.Change {
	t.Helper()
	var out []vane.Change
	after := int64(0)
	for {
		cs, err := s.Changes(t.Context(), after, prefix, vane.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cs...)
		if len(cs) < vane.MaxPageSize {
			return out
		}
		after = cs[len(cs)-1].Seq
	}
}

func TestNodesOverwritesGetDistinctVersions(t *testing.T) {
	a, b, _ := twoNodes(t)
	const workersPerNode, each, name = 4, 30, "/nodes/p"
	const total = 2 * workersPerNode * each
	var (
		mu     sync.Mutex
		values = map[int64]string{} // version -> value written
		dups   []int64
		errs   errorList
		wg     sync.WaitGroup
	)
	for n, s := range []*postgres.Store{a, b} {
		for w := range workersPerNode {
			wg.Go(func() {
				for i := range each {
					v := fmt.Sprintf("n%d-w%d-%d", n, w, i)
					p, err := s.Put(t.Context(), &vane.PutInput{Name: name, Value: v, Type: vane.TypeString, Overwrite: true})
					if err != nil {
						errs.add(fmt.Errorf("node %d worker %d put %d: %w", n, w, i, err))
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
	}
	wg.Wait()
	errs.report(t)
	if len(dups) > 0 {
		t.Errorf("versions returned more than once: %v", dups)
	}
	for v := int64(1); v <= total; v++ {
		if _, ok := values[v]; !ok {
			t.Errorf("no put returned version %d", v)
		}
	}
	for _, s := range []*postgres.Store{a, b} {
		p, err := s.Get(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != total || p.Value != values[total] {
			t.Errorf("Get = version %d value %q, want version %d value %q", p.Version, p.Value, total, values[total])
		}
	}
	// The change log lists the versions in order: sequence numbers follow
	// commit order across nodes.
	cs := allChanges(t, b, "")
	if len(cs) != total {
		t.Fatalf("change log: %d records, want %d", len(cs), total)
	}
	for i, c := range cs {
		if c.Op != vane.OpPut || c.Name != name || c.Version != int64(i+1) {
			t.Fatalf("change %d = %+v, want the put of version %d", i, c, i+1)
		}
	}
}

func TestNodesCreateHasOneWinner(t *testing.T) {
	a, b, _ := twoNodes(t)
	var wins atomic.Int32
	var errs errorList
	var wg sync.WaitGroup
	for n, s := range []*postgres.Store{a, b, a, b, a, b} {
		wg.Go(func() {
			_, err := s.Put(t.Context(), &vane.PutInput{Name: "/race", Value: "x", Type: vane.TypeString})
			switch {
			case err == nil:
				wins.Add(1)
			case vane.ErrorDetail(err) != vane.DetailParameterAlreadyExists:
				errs.add(fmt.Errorf("creator %d: got %v, want success or %s", n, err, vane.DetailParameterAlreadyExists))
			}
		})
	}
	wg.Wait()
	errs.report(t)
	if n := wins.Load(); n != 1 {
		t.Errorf("%d creates succeeded, want exactly 1", n)
	}
}

func TestNodesCompareAndSetCounts(t *testing.T) {
	a, b, _ := twoNodes(t)
	const workersPerNode, each, name = 3, 8, "/counter"
	const total = 2 * workersPerNode * each
	if _, err := a.Put(t.Context(), &vane.PutInput{Name: name, Value: "0", Type: vane.TypeString}); err != nil {
		t.Fatal(err)
	}
	var (
		errs    errorList
		wg      sync.WaitGroup
		retries atomic.Int64
	)
	for n, s := range []*postgres.Store{a, b} {
		for w := range workersPerNode {
			wg.Go(func() {
				for i := 0; i < each; {
					if err := t.Context().Err(); err != nil {
						errs.add(err)
						return
					}
					p, err := s.Get(t.Context(), name)
					if err != nil {
						errs.add(fmt.Errorf("node %d worker %d: Get: %w", n, w, err))
						return
					}
					c, err := strconv.Atoi(p.Value)
					if err != nil {
						errs.add(fmt.Errorf("node %d worker %d: counter value %q: %w", n, w, p.Value, err))
						return
					}
					_, err = s.Put(t.Context(), &vane.PutInput{Name: name, Value: strconv.Itoa(c + 1), Overwrite: true, ExpectVersion: new(p.Version)})
					switch {
					case err == nil:
						i++
					case vane.ErrorDetail(err) == vane.DetailVersionMismatch:
						retries.Add(1) // another worker won; read again
					default:
						errs.add(fmt.Errorf("node %d worker %d: Put: %w", n, w, err))
						return
					}
				}
			})
		}
	}
	wg.Wait()
	errs.report(t)
	p, err := b.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if p.Value != strconv.Itoa(total) || p.Version != total+1 {
		t.Errorf("counter = %q at version %d, want %d at version %d", p.Value, p.Version, total, total+1)
	}
	t.Logf("%d increments, %d retries after a version mismatch", total, retries.Load())
}

// TestNodesFollowerSeesEveryChange follows the change log, as an index on
// a third node would, while both nodes write: reading after the last
// sequence seen must never skip a change that commits later with a lower
// sequence.
func TestNodesFollowerSeesEveryChange(t *testing.T) {
	a, b, _ := twoNodes(t)
	const workersPerNode, each = 3, 40
	var (
		errs     errorList
		wg       sync.WaitGroup
		finished = make(chan struct{})
	)
	for n, s := range []*postgres.Store{a, b} {
		for w := range workersPerNode {
			wg.Go(func() {
				ctx := t.Context()
				for i := range each {
					// A few names per worker, so that puts create,
					// overwrite and now and then delete.
					name := fmt.Sprintf("/follow/n%d/w%d/p%d", n, w, i%5)
					var err error
					if i%7 == 6 {
						err = s.Delete(ctx, &vane.DeleteInput{Name: name})
					} else {
						_, err = s.Put(ctx, &vane.PutInput{Name: name, Value: strconv.Itoa(i), Type: vane.TypeString, Overwrite: true})
					}
					if err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
						errs.add(fmt.Errorf("node %d worker %d write %d: %w", n, w, i, err))
					}
				}
			})
		}
	}
	var seen []vane.Change
	followed := make(chan error, 1)
	go func() {
		last := int64(0)
		for {
			// Decided before the read: once every writer has returned,
			// a read that finds nothing new has seen everything.
			done := false
			select {
			case <-finished:
				done = true
			default:
			}
			cs, err := a.Changes(t.Context(), last, "", 100)
			if err != nil {
				followed <- err
				return
			}
			for _, c := range cs {
				if c.Seq <= last {
					followed <- fmt.Errorf("sequence %d after %d", c.Seq, last)
					return
				}
				last = c.Seq
			}
			seen = append(seen, cs...)
			if done && len(cs) == 0 {
				followed <- nil
				return
			}
		}
	}()
	wg.Wait()
	close(finished)
	if err := <-followed; err != nil {
		t.Fatalf("follower: %v", err)
	}
	errs.report(t)

	all := allChanges(t, b, "")
	seqs := func(cs []vane.Change) []int64 {
		out := make([]int64, len(cs))
		for i, c := range cs {
			out[i] = c.Seq
		}
		return out
	}
	if got, want := seqs(seen), seqs(all); !slices.Equal(got, want) {
		missed := 0
		for _, s := range want {
			if !slices.Contains(got, s) {
				missed++
			}
		}
		t.Fatalf("the follower saw %d changes, the log holds %d; %d of them skipped", len(got), len(want), missed)
	}
	if len(all) < 2*workersPerNode*each*5/7 {
		t.Errorf("only %d changes for %d writes", len(all), 2*workersPerNode*each)
	}
}
