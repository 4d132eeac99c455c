package index

import (
	"hash/maphash"
	"maps"
	"math/bits"

	"github.com/vanehq/vane"
)

// shardTarget is the number of parameters per shard, on average, that the
// number of shards aims at: Open makes the fewest shards (a power of two)
// that average at most shardTarget, and a write that takes the average past
// twice shardTarget doubles them. While the index grows, a shard holds
// shardTarget/2 to 2*shardTarget parameters on average (fewer after
// deletions). This bounds the work of a write, which copies each map it
// changes, and the array of about n/shardTarget map pointers, once per
// publication.
const shardTarget = 256

// shards maps names to parameters for exact-name lookups: the top bits of a
// name's seeded hash pick one of a power of two of Go maps. A published
// shards value, its array and its maps are never modified again.
type shards struct {
	seed  maphash.Seed
	shift uint // 64 - log2(len(m)); 64 when there is one map
	m     []map[string]*vane.Parameter
}

// get returns the parameter named name, or nil.
func (t *shards) get(name string) *vane.Parameter {
	return t.m[maphash.String(t.seed, name)>>t.shift][name]
}

// shardWriter is the writer's copy-on-write version of the next shards.
// After a publication everything it holds is shared with readers: the first
// change copies the array of maps, and the first change to a map copies
// that map; later changes before the next publication modify the copies.
type shardWriter struct {
	shards
	n      int    // parameters held
	shared bool   // m is published: copy it before changing it
	owned  []bool // which maps in m were copied since the last publication
}

// shardCount returns the number of shards for n parameters: the least power
// of two that puts at most shardTarget parameters in a shard on average.
func shardCount(n int) int {
	if n <= shardTarget {
		return 1
	}
	return 1 << bits.Len(uint((n-1)/shardTarget))
}

// build replaces the writer's contents with ps, whose names are distinct,
// in n new maps; n is a power of two.
func (w *shardWriter) build(seed maphash.Seed, ps []*vane.Parameter, n int) {
	w.seed = seed
	w.shift = uint(64 - bits.TrailingZeros(uint(n)))
	w.m = make([]map[string]*vane.Parameter, n)
	// Sized for the average: a map with more grows while filling. Room
	// above the average would make the maps sparser, which measured slower
	// to read (more memory, fewer cache hits) and to copy.
	hint := len(ps) / n
	for i := range w.m {
		w.m[i] = make(map[string]*vane.Parameter, hint)
	}
	for _, p := range ps {
		w.m[maphash.String(seed, p.Name)>>w.shift][p.Name] = p
	}
	w.n = len(ps)
	w.shared = false
	w.owned = make([]bool, n)
	for i := range w.owned {
		w.owned[i] = true
	}
}

// publish returns the shards for a new state. The writer copies whatever
// it changes from now on.
func (w *shardWriter) publish() shards {
	w.shared = true
	clear(w.owned)
	return w.shards
}

// own returns map i, copied first unless the writer already owns it.
func (w *shardWriter) own(i uint64) map[string]*vane.Parameter {
	if w.shared {
		w.m = append([]map[string]*vane.Parameter(nil), w.m...)
		w.shared = false
	}
	if !w.owned[i] {
		// A copy of the map's tables, not a rehash.
		w.m[i] = maps.Clone(w.m[i])
		w.owned[i] = true
	}
	return w.m[i]
}

// set stores p under p.Name.
func (w *shardWriter) set(p *vane.Parameter) {
	m := w.own(maphash.String(w.seed, p.Name) >> w.shift)
	if _, ok := m[p.Name]; !ok {
		w.n++
	}
	m[p.Name] = p
	if w.n > 2*shardTarget*len(w.m) {
		w.grow()
	}
}

// remove deletes the parameter named name, if there is one.
func (w *shardWriter) remove(name string) {
	i := maphash.String(w.seed, name) >> w.shift
	if _, ok := w.m[i][name]; !ok {
		return
	}
	delete(w.own(i), name)
	w.n--
}

// grow rebuilds the maps, twice as many. It is O(n), but n has at least
// doubled since the last build, so it costs O(1) per parameter added.
// (Nothing merges maps when parameters are deleted: that only makes writes
// cheaper, and Open builds the right number again.)
func (w *shardWriter) grow() {
	ps := make([]*vane.Parameter, 0, w.n)
	for _, m := range w.m {
		for _, p := range m {
			ps = append(ps, p)
		}
	}
	w.build(w.seed, ps, 2*len(w.m))
}
