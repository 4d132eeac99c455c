package index

import (
	"fmt"
	"hash/maphash"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/vanehq/vane"
)

// TestShards applies random batches of sets and removes to a shardWriter,
// publishing after each batch, while the number of parameters grows past
// several doublings of the shards and then shrinks. Every published version
// must keep answering as it did when published, and the writer must keep
// its invariants.
func TestShards(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	const keys = 6000
	key := func() string { return fmt.Sprintf("/k/%d", rng.IntN(keys)) }

	var w shardWriter
	model := map[string]*vane.Parameter{}
	var initial []*vane.Parameter
	for i := range 300 {
		p := &vane.Parameter{Name: fmt.Sprintf("/k/%d", i*7)}
		initial = append(initial, p)
		model[p.Name] = p
	}
	w.build(maphash.MakeSeed(), initial, shardCount(len(initial)))
	if len(w.m) != 2 {
		t.Fatalf("built %d shards for %d parameters, want 2", len(w.m), len(initial))
	}

	type version struct {
		t     shards
		model map[string]*vane.Parameter
	}
	versions := []version{{w.publish(), maps.Clone(model)}}
	counts := map[int]bool{}
	for batch := range 20000 {
		// Removes are rarer than sets at first and commoner at the end.
		removes := 10 + batch/250
		for range 1 + rng.IntN(20) {
			k := key()
			if rng.IntN(100) < removes {
				w.remove(k)
				delete(model, k)
			} else {
				p := &vane.Parameter{Name: k, Value: fmt.Sprint(batch)}
				w.set(p)
				model[k] = p
			}
		}
		if w.n != len(model) {
			t.Fatalf("batch %d: n = %d, want %d", batch, w.n, len(model))
		}
		if w.n > 2*shardTarget*len(w.m) {
			t.Fatalf("batch %d: %d parameters in %d shards", batch, w.n, len(w.m))
		}
		counts[len(w.m)] = true
		st := w.publish()
		if batch%500 == 0 {
			versions = append(versions, version{st, maps.Clone(model)})
		}
	}
	versions = append(versions, version{w.publish(), model})
	if !counts[16] || len(model) > 2000 {
		t.Fatalf("shard counts seen %v, %d parameters at the end: the test no longer grows and shrinks the index", counts, len(model))
	}

	for vi, v := range versions {
		n := 0
		for i, m := range v.t.m {
			n += len(m)
			for h, p := range m {
				if v.t.hash(p.Name) != h || h>>v.t.shift != uint64(i) {
					t.Fatalf("version %d: %q is under hash %x in shard %d", vi, p.Name, h, i)
				}
			}
		}
		n += len(v.t.overflow)
		if n != len(v.model) {
			t.Errorf("version %d: %d parameters, want %d", vi, n, len(v.model))
		}
		for i := range keys {
			k := fmt.Sprintf("/k/%d", i)
			if got := v.t.get(k); got != v.model[k] {
				t.Fatalf("version %d: get(%q) = %v, want %v", vi, k, got, v.model[k])
			}
		}
	}
}

// TestShardsHashCollision: names with the same hash are all found;
// removing the one in the map's slot moves another into it, and writes
// after a publication leave the published shards as they were. The test
// makes every name collide by clearing every bit of the hash.
func TestShardsHashCollision(t *testing.T) {
	w := shardWriter{shards: shards{drop: ^uint64(0)}}
	a, b, c := &vane.Parameter{Name: "/a"}, &vane.Parameter{Name: "/b"}, &vane.Parameter{Name: "/c"}
	w.build(maphash.MakeSeed(), []*vane.Parameter{a, b}, 1)
	w.set(c)
	if w.n != 3 || len(w.m[0]) != 1 || len(w.overflow) != 2 {
		t.Fatalf("n=%d, %d in the map, %d in overflow", w.n, len(w.m[0]), len(w.overflow))
	}
	pub := w.publish()
	for _, p := range []*vane.Parameter{a, b, c} {
		if pub.get(p.Name) != p {
			t.Fatalf("get(%s) of colliding names", p.Name)
		}
	}
	if pub.get("/d") != nil {
		t.Fatal("a name never set is found")
	}
	b2 := &vane.Parameter{Name: "/b", Version: 2}
	w.set(b2)
	w.remove("/a") // the slot's name: /b or /c moves in
	if w.n != 2 || len(w.m[0]) != 1 || len(w.overflow) != 1 {
		t.Fatalf("after removing the slot's name: n=%d, %d in the map, %d in overflow", w.n, len(w.m[0]), len(w.overflow))
	}
	next := w.publish()
	if next.get("/a") != nil || next.get("/b") != b2 || next.get("/c") != c {
		t.Fatal("the next state after an update and a remove")
	}
	if pub.get("/a") != a || pub.get("/b") != b || pub.get("/c") != c {
		t.Fatal("writes after publishing changed the published shards")
	}
	w.remove("/c")
	w.remove("/b")
	if w.n != 0 || len(w.m[0]) != 0 || len(w.overflow) != 0 {
		t.Fatalf("after removing all: n=%d, %d in the map, %d in overflow", w.n, len(w.m[0]), len(w.overflow))
	}
}

func TestShardCount(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, 1}, {1, 1}, {shardTarget, 1}, {shardTarget + 1, 2}, {2 * shardTarget, 2},
		{2*shardTarget + 1, 4}, {100_000, 512},
	} {
		if got := shardCount(c.n); got != c.want {
			t.Errorf("shardCount(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestShardsCopyOnWrite checks what a write copies: the array and a changed
// map once per publication, and nothing for a removal of a missing name.
func TestShardsCopyOnWrite(t *testing.T) {
	var ps []*vane.Parameter
	for i := range 4 * shardTarget {
		ps = append(ps, &vane.Parameter{Name: fmt.Sprintf("/p/%d", i)})
	}
	var w shardWriter
	w.build(maphash.MakeSeed(), ps, shardCount(len(ps)))
	pub := w.publish()

	w.remove("/missing")
	if &w.m[0] != &pub.m[0] {
		t.Fatal("removing a missing name copied the array")
	}
	p := &vane.Parameter{Name: "/p/1", Value: "new"}
	w.set(p)
	i := maphash.String(w.seed, p.Name) >> w.shift
	if &w.m[0] == &pub.m[0] || !w.owned[i] {
		t.Fatal("a set after publishing did not copy the array and the map")
	}
	if pub.get("/p/1") != ps[1] || w.get("/p/1") != p {
		t.Fatal("a set after publishing changed the published shards")
	}
	arr, m := &w.m[0], fmt.Sprintf("%p", w.m[i])
	w.set(&vane.Parameter{Name: "/p/1", Value: "newer"})
	if &w.m[0] != arr || fmt.Sprintf("%p", w.m[i]) != m {
		t.Fatal("a second set before publishing copied again")
	}
}
