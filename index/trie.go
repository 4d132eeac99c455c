package index

import (
	"hash/maphash"
	"math/bits"

	"github.com/vanehq/vane"
)

// The exact-name lookup structure is a persistent hash array mapped trie
// (HAMT): each level consumes trieBits bits of a 64-bit hash of the name,
// and a node keeps only its occupied children, found by popcount over a
// bitmap. A change copies the nodes on one root-to-leaf path (at most
// about log64 n of them) and shares everything else, so a published trie is
// never modified and readers need no synchronization.
const (
	trieBits = 6
	trieFan  = 1 << trieBits // children per node
	trieMask = trieFan - 1
)

// slot is a trie node or a leaf, stored by value in its parent's kids array
// so that a lookup touches one array per level.
//
//   - a node has kids != nil, and bitmap tells which of trieFan children
//     exist; kids holds them in bit order;
//   - below the last hash bits a node is a collision list: kids are leaves
//     whose names share the whole hash, in no order, and bitmap is 0;
//   - a leaf has kids == nil, its name and parameter, and its hash in
//     bitmap (so splitting it needs no rehash).
type slot struct {
	bitmap uint64
	kids   []slot
	name   string
	p      *vane.Parameter
}

// trie maps names to parameters. The zero value is not usable: see
// newTrie. A trie value is immutable once shared; set and remove return a
// new one.
type trie struct {
	root slot // a node, possibly empty
	n    int  // number of leaves
	seed maphash.Seed
	// hash replaces maphash in tests that need collisions.
	hash func(string) uint64
}

func newTrie() trie { return trie{seed: maphash.MakeSeed()} }

func (t *trie) sum(name string) uint64 {
	if t.hash != nil {
		return t.hash(name)
	}
	return maphash.String(t.seed, name)
}

// get returns the parameter named name, or nil.
func (t *trie) get(name string) *vane.Parameter {
	h := t.sum(name)
	s := &t.root
	for shift := uint(0); shift < 64; shift += trieBits {
		bit := uint64(1) << ((h >> shift) & trieMask)
		if s.bitmap&bit == 0 {
			return nil
		}
		s = &s.kids[bits.OnesCount64(s.bitmap&(bit-1))]
		if s.kids == nil {
			if s.name == name {
				return s.p
			}
			return nil
		}
	}
	for i := range s.kids {
		if s.kids[i].name == name {
			return s.kids[i].p
		}
	}
	return nil
}

// set returns the trie with p stored under p.Name, and the parameter it
// replaced, if any.
func (t trie) set(p *vane.Parameter) (trie, *vane.Parameter) {
	leaf := slot{bitmap: t.sum(p.Name), name: p.Name, p: p}
	var prev *vane.Parameter
	t.root, prev = t.setIn(t.root, leaf, 0)
	if prev == nil {
		t.n++
	}
	return t, prev
}

// setIn returns a copy of node s with leaf stored below it.
func (t *trie) setIn(s slot, leaf slot, shift uint) (slot, *vane.Parameter) {
	if shift >= 64 {
		for i := range s.kids {
			if s.kids[i].name == leaf.name {
				prev := s.kids[i].p
				kids := append([]slot(nil), s.kids...)
				kids[i] = leaf
				return slot{kids: kids}, prev
			}
		}
		kids := make([]slot, len(s.kids), len(s.kids)+1)
		copy(kids, s.kids)
		return slot{kids: append(kids, leaf)}, nil
	}
	bit := uint64(1) << ((leaf.bitmap >> shift) & trieMask)
	pos := bits.OnesCount64(s.bitmap & (bit - 1))
	if s.bitmap&bit == 0 {
		kids := make([]slot, len(s.kids)+1)
		copy(kids, s.kids[:pos])
		kids[pos] = leaf
		copy(kids[pos+1:], s.kids[pos:])
		return slot{bitmap: s.bitmap | bit, kids: kids}, nil
	}
	kids := append([]slot(nil), s.kids...)
	k := &kids[pos]
	var prev *vane.Parameter
	switch {
	case k.kids != nil:
		*k, prev = t.setIn(*k, leaf, shift+trieBits)
	case k.name == leaf.name:
		prev = k.p
		*k = leaf
	default:
		// Two names share this slot's hash bits: push both a level down.
		sub, _ := t.setIn(slot{}, *k, shift+trieBits)
		*k, _ = t.setIn(sub, leaf, shift+trieBits)
	}
	return slot{bitmap: s.bitmap, kids: kids}, prev
}

// remove returns the trie without name, and the parameter removed, if any.
func (t trie) remove(name string) (trie, *vane.Parameter) {
	root, prev := t.removeIn(t.root, name, t.sum(name), 0)
	if prev == nil {
		return t, nil
	}
	if root.kids == nil && root.p != nil {
		// removeIn collapsed the root to its last leaf; the root stays a
		// node.
		root = slot{bitmap: 1 << (root.bitmap & trieMask), kids: []slot{root}}
	}
	t.root, t.n = root, t.n-1
	return t, prev
}

// removeIn returns a copy of node s without name. A node left with a single
// leaf is replaced by that leaf, and an empty one by the zero slot, so the
// trie keeps the shape set would have built.
func (t *trie) removeIn(s slot, name string, h uint64, shift uint) (slot, *vane.Parameter) {
	var kids []slot
	var bitmap uint64
	var prev *vane.Parameter
	if shift >= 64 {
		i := 0
		for i < len(s.kids) && s.kids[i].name != name {
			i++
		}
		if i == len(s.kids) {
			return s, nil
		}
		prev = s.kids[i].p
		kids = append(append([]slot(nil), s.kids[:i]...), s.kids[i+1:]...)
	} else {
		bit := uint64(1) << ((h >> shift) & trieMask)
		if s.bitmap&bit == 0 {
			return s, nil
		}
		pos := bits.OnesCount64(s.bitmap & (bit - 1))
		k := s.kids[pos]
		var sub slot
		switch {
		case k.kids != nil:
			if sub, prev = t.removeIn(k, name, h, shift+trieBits); prev == nil {
				return s, nil
			}
		case k.name == name:
			prev = k.p
		default:
			return s, nil
		}
		bitmap = s.bitmap
		if sub.kids == nil && sub.p == nil {
			bitmap &^= bit
			kids = append(append([]slot(nil), s.kids[:pos]...), s.kids[pos+1:]...)
		} else {
			kids = append([]slot(nil), s.kids...)
			kids[pos] = sub
		}
	}
	switch {
	case len(kids) == 0:
		return slot{}, prev
	case len(kids) == 1 && kids[0].kids == nil:
		return kids[0], prev
	}
	return slot{bitmap: bitmap, kids: kids}, prev
}

// buildTrie returns t holding ps (with distinct names) built in one pass,
// without the garbage of one path copy per parameter.
func buildTrie(t trie, ps []*vane.Parameter) trie {
	leaves := make([]slot, len(ps))
	for i, p := range ps {
		leaves[i] = slot{bitmap: t.sum(p.Name), name: p.Name, p: p}
	}
	t.root = buildNode(leaves, 0)
	t.n = len(ps)
	return t
}

// buildNode returns the node holding leaves, whose hashes agree below
// shift; it reorders leaves.
func buildNode(leaves []slot, shift uint) slot {
	if shift >= 64 {
		return slot{kids: append([]slot(nil), leaves...)}
	}
	// Counting sort by this level's bits.
	var count [trieFan + 1]int
	for i := range leaves {
		count[(leaves[i].bitmap>>shift)&trieMask+1]++
	}
	for b := 1; b <= trieFan; b++ {
		count[b] += count[b-1]
	}
	sorted := make([]slot, len(leaves))
	next := count
	var bitmap uint64
	for _, l := range leaves {
		b := (l.bitmap >> shift) & trieMask
		sorted[next[b]] = l
		next[b]++
		bitmap |= 1 << b
	}
	kids := make([]slot, 0, bits.OnesCount64(bitmap))
	for b := range trieFan {
		group := sorted[count[b]:count[b+1]]
		switch len(group) {
		case 0:
		case 1:
			kids = append(kids, group[0])
		default:
			kids = append(kids, buildNode(group, shift+trieBits))
		}
	}
	return slot{bitmap: bitmap, kids: kids}
}
