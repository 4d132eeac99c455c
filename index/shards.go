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
// name's seeded 64-bit hash pick one of a power of two of Go maps, and the
// hash itself is the key in it (8 bytes a slot rather than a 16-byte string
// header: at a million parameters that is 16 MiB less). The parameter found
// must still carry the name asked for; two names with the same hash (one
// pair in about 10^13 at a million names) keep the first in the maps and
// the others in overflow, by name. A published shards value, its array
// and its maps are never modified again.
type shards struct {
	seed     maphash.Seed
	shift    uint // 64 - log2(len(m)); 64 when there is one map
	m        []map[uint64]*vane.Parameter
	overflow map[string]*vane.Parameter // names whose hash another name has; nil when none
	// drop clears bits of every hash: 0 but in tests, which set it to
	// make names collide.
	drop uint64
}

// hash returns the key of name.
func (t *shards) hash(name string) uint64 { return maphash.String(t.seed, name) &^ t.drop }

// get returns the parameter named name, or nil.
func (t *shards) get(name string) *vane.Parameter {
	h := t.hash(name)
	if p := t.m[h>>t.shift][h]; p != nil && p.Name == name {
		return p
	}
	if t.overflow != nil {
		return t.overflow[name]
	}
	return nil
}

// shardWriter is the writer's copy-on-write version of the next shards.
// After a publication everything it holds is shared with readers: the first
// change copies the array of maps, and the first change to a map copies
// that map; later changes before the next publication modify the copies.
type shardWriter struct {
	shards
	n             int    // parameters held
	shared        bool   // m is published: copy it before changing it
	owned         []bool // which maps in m were copied since the last publication
	ownedOverflow bool   // overflow was copied since the last publication
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
	w.m = make([]map[uint64]*vane.Parameter, n)
	w.overflow = nil
	// Sized for the average: a map with more grows while filling. Room
	// above the average would make the maps sparser, which measured slower
	// to read (more memory, fewer cache hits) and to copy.
	hint := len(ps) / n
	for i := range w.m {
		w.m[i] = make(map[uint64]*vane.Parameter, hint)
	}
	w.n = 0
	w.shared = false
	w.owned = make([]bool, n)
	for i := range w.owned {
		w.owned[i] = true
	}
	w.ownedOverflow = true
	for _, p := range ps {
		w.set(p)
	}
}

// publish returns the shards for a new state. The writer copies whatever
// it changes from now on.
func (w *shardWriter) publish() shards {
	w.shared = true
	clear(w.owned)
	w.ownedOverflow = false
	return w.shards
}

// own returns map i, copied first unless the writer already owns it.
func (w *shardWriter) own(i uint64) map[uint64]*vane.Parameter {
	if w.shared {
		w.m = append([]map[uint64]*vane.Parameter(nil), w.m...)
		w.shared = false
	}
	if !w.owned[i] {
		// A copy of the map's tables, not a rehash.
		w.m[i] = maps.Clone(w.m[i])
		w.owned[i] = true
	}
	return w.m[i]
}

// ownOverflow returns the overflow map, made or copied first unless the
// writer already owns it.
func (w *shardWriter) ownOverflow() map[string]*vane.Parameter {
	if !w.ownedOverflow || w.overflow == nil {
		w.overflow = maps.Clone(w.overflow)
		if w.overflow == nil {
			w.overflow = map[string]*vane.Parameter{}
		}
		w.ownedOverflow = true
	}
	return w.overflow
}

// set stores p under p.Name.
func (w *shardWriter) set(p *vane.Parameter) {
	h := w.hash(p.Name)
	i := h >> w.shift
	switch cur := w.m[i][h]; {
	case cur == nil:
		w.own(i)[h] = p
		w.n++
	case cur.Name == p.Name:
		w.own(i)[h] = p
	default: // another name has this hash
		o := w.ownOverflow()
		if _, ok := o[p.Name]; !ok {
			w.n++
		}
		o[p.Name] = p
	}
	if w.n > 2*shardTarget*len(w.m) {
		w.grow()
	}
}

// remove deletes the parameter named name, if there is one.
func (w *shardWriter) remove(name string) {
	h := w.hash(name)
	i := h >> w.shift
	if cur := w.m[i][h]; cur != nil && cur.Name == name {
		m := w.own(i)
		delete(m, h)
		w.n--
		// A name waiting in overflow with the same hash takes the slot.
		for n, p := range w.overflow {
			if w.hash(n) == h {
				m[h] = p
				delete(w.ownOverflow(), n)
				break
			}
		}
		return
	}
	if _, ok := w.overflow[name]; ok {
		delete(w.ownOverflow(), name)
		w.n--
	}
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
	for _, p := range w.overflow {
		ps = append(ps, p)
	}
	w.build(w.seed, ps, 2*len(w.m))
}
