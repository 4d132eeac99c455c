package index

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vanehq/vane"
)

func fnv64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// trieHashes are the hash functions the trie is tested with: the real one,
// and ones that force the rare shapes: long shared prefixes of hash bits
// and whole-hash collisions.
var trieHashes = map[string]func(string) uint64{
	"maphash": nil,
	// 3 distinct values: every name lands in a collision list.
	"Colliding": func(s string) uint64 { return fnv64(s) % 3 },
	// Only the top 8 bits vary: chains down to the last level.
	"SharedLowBits": func(s string) uint64 { return fnv64(s)<<56 | 0x00ABCDEF12345678 },
	// 64 distinct values differing in the 6th level only.
	"Deep": func(s string) uint64 { return (fnv64(s) & trieMask) << 30 },
}

func TestTrie(t *testing.T) {
	for hname, hash := range trieHashes {
		t.Run(hname, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 11))
			tr := newTrie()
			tr.hash = hash
			model := map[string]*vane.Parameter{}
			type version struct {
				tr    trie
				model map[string]*vane.Parameter
			}
			var old []version
			key := func() string { return fmt.Sprintf("/k/%d", rng.IntN(300)) }
			for i := range 3000 {
				k := key()
				if rng.IntN(3) == 0 {
					var prev *vane.Parameter
					tr, prev = tr.remove(k)
					if prev != model[k] {
						t.Fatalf("op %d: remove(%q) returned %v, want %v", i, k, prev, model[k])
					}
					delete(model, k)
				} else {
					p := &vane.Parameter{Name: k, Value: fmt.Sprint(i)}
					var prev *vane.Parameter
					tr, prev = tr.set(p)
					if prev != model[k] {
						t.Fatalf("op %d: set(%q) returned %v, want %v", i, k, prev, model[k])
					}
					model[k] = p
				}
				if i%100 == 0 {
					old = append(old, version{tr, maps.Clone(model)})
				}
			}
			old = append(old, version{tr, model})
			for vi, v := range old {
				// Earlier versions are unchanged by later changes.
				wantTrie(t, fmt.Sprintf("version %d", vi), v.tr, v.model)
			}
			// Changes leave the shape a build from scratch would have.
			built := buildTrie(tr, slices.Collect(maps.Values(model)))
			if got, want := shape(tr.root), shape(built.root); got != want {
				t.Errorf("shape after changes:\n%s\nshape built:\n%s", got, want)
			}
			wantTrie(t, "built", built, model)
			// Removing everything leaves an empty root.
			for k := range model {
				tr, _ = tr.remove(k)
			}
			if tr.n != 0 || tr.root.bitmap != 0 || len(tr.root.kids) != 0 {
				t.Errorf("emptied trie: n=%d root=%s", tr.n, shape(tr.root))
			}
		})
	}
}

func wantTrie(t *testing.T, what string, tr trie, model map[string]*vane.Parameter) {
	t.Helper()
	if tr.n != len(model) {
		t.Errorf("%s: n = %d, want %d", what, tr.n, len(model))
	}
	for i := range 300 {
		k := fmt.Sprintf("/k/%d", i)
		if got := tr.get(k); got != model[k] {
			t.Errorf("%s: get(%q) = %v, want %v", what, k, got, model[k])
			return
		}
	}
	if tr.get("/missing") != nil {
		t.Errorf("%s: get(/missing) found something", what)
	}
}

// shape renders a node's structure, collision lists sorted.
func shape(s slot) string {
	if s.kids == nil {
		return s.name
	}
	parts := make([]string, len(s.kids))
	for i, k := range s.kids {
		parts[i] = shape(k)
	}
	if s.bitmap == 0 {
		slices.Sort(parts)
	}
	return fmt.Sprintf("%x(%s)", s.bitmap, strings.Join(parts, " "))
}

func TestTrieSingleLeafRoot(t *testing.T) {
	tr := newTrie()
	a := &vane.Parameter{Name: "a"}
	b := &vane.Parameter{Name: "b"}
	tr, _ = tr.set(a)
	tr, _ = tr.set(b)
	tr, _ = tr.remove("a")
	if tr.get("b") != b || tr.get("a") != nil || tr.n != 1 {
		t.Fatalf("after removing a: get(b)=%v get(a)=%v n=%d", tr.get("b"), tr.get("a"), tr.n)
	}
	tr, _ = tr.set(a)
	if tr.get("a") != a || tr.get("b") != b {
		t.Fatal("set after collapse lost a parameter")
	}
	if _, prev := tr.remove("zzz"); prev != nil {
		t.Fatal("remove of a missing name returned a parameter")
	}
}
