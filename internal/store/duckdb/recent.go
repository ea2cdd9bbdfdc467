package duckdb

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// recentSpans spares the writer its idempotence query for spans that
// cannot be stored yet. Looking up every batch's (trace_id, span_id) pairs
// scanned the newest row group of the spans table on every commit (5% of
// the server's ingest CPU). A retry re-sends spans that were committed
// recently, so the writer remembers the keys it committed in two
// generations of Bloom filters and only asks the table about spans that
// are possibly stored:
//
//   - the filters say "maybe" (a committed key, or a false positive), or
//   - the span starts no later than horizon: the latest start time of the
//     spans the filters do not cover, those stored before Open and those
//     of a dropped generation.
//
// A "no" is exact, so idempotence is unchanged; only the cost moves. Only
// the writer goroutine uses it.
type recentSpans struct {
	cur, prev *bloom
	// curMax and prevMax are the latest start times added to cur and prev.
	curMax, prevMax int64
	horizon         int64
	perGen          int // keys per generation before it is rotated
}

func newRecentSpans(perGen int, horizon int64) *recentSpans {
	return &recentSpans{
		cur: newBloom(perGen), prev: newBloom(perGen),
		curMax: math.MinInt64, prevMax: math.MinInt64,
		horizon: horizon, perGen: perGen,
	}
}

// mayBeStored reports whether the span might be stored already.
func (r *recentSpans) mayBeStored(k spanKey, start int64) bool {
	if start <= r.horizon {
		return true
	}
	h1, h2 := keyHash(k)
	return r.cur.has(h1, h2) || r.prev.has(h1, h2)
}

// checkAdd is mayBeStored, then add: the writer records a span before
// its commit, when the lookup has just brought its block into the cache.
// A span whose commit then fails stays in the filter, which only costs a
// lookup should it come again.
func (r *recentSpans) checkAdd(k spanKey, start int64) bool {
	h1, h2 := keyHash(k)
	maybe := start <= r.horizon || r.cur.has(h1, h2) || r.prev.has(h1, h2)
	r.addHash(h1, h2, start)
	return maybe
}

// add records a committed span.
func (r *recentSpans) add(k spanKey, start int64) {
	h1, h2 := keyHash(k)
	r.addHash(h1, h2, start)
}

func (r *recentSpans) addHash(h1, h2 uint64, start int64) {
	if r.cur.n >= r.perGen {
		// The oldest generation is forgotten: what it held is now only
		// known to the table.
		r.horizon = max(r.horizon, r.prevMax)
		r.cur, r.prev = r.prev, r.cur
		r.prevMax, r.curMax = r.curMax, math.MinInt64
		r.cur.reset()
	}
	r.cur.add(h1, h2)
	r.curMax = max(r.curMax, start)
}

// forget is for spans whose commit failed in a way that may still have
// stored them: from then on only the table knows.
func (r *recentSpans) forget(start int64) { r.horizon = max(r.horizon, start) }

// keyHash mixes the 24 bytes of a span key into two independent hashes.
func keyHash(k spanKey) (uint64, uint64) {
	a := binary.LittleEndian.Uint64(k.trace[:8])
	b := binary.LittleEndian.Uint64(k.trace[8:])
	h1 := mix64(a ^ mix64(b^k.span))
	h2 := mix64(b + 0x9e3779b97f4a7c15*(k.span|1) ^ bits.RotateLeft64(a, 31))
	return h1, h2
}

// mix64 is the finaliser of MurmurHash3.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// bloom is a blocked Bloom filter: the bits of one key lie in one 512-bit
// block (a cache line), so a lookup costs one cache miss. At 32 bits per
// key and 12 bits per key its false positive rate is about 3e-6, so a
// commit of a few thousand new spans rarely needs its query.
type bloom struct {
	blocks [][8]uint64
	n      int
}

const bloomBitsPerKey, bloomProbes = 32, 12

func newBloom(keys int) *bloom {
	nb := max(1, keys*bloomBitsPerKey/512)
	return &bloom{blocks: make([][8]uint64, nb)}
}

func (b *bloom) reset() {
	clear(b.blocks)
	b.n = 0
}

func (b *bloom) add(h1, h2 uint64) {
	blk := &b.blocks[h1%uint64(len(b.blocks))]
	for i := range uint64(bloomProbes) {
		bit := (h2 >> (i * 5)) ^ (h1 >> (32 + i)) // 9 bits needed; mixed from both hashes
		bit &= 511
		blk[bit>>6] |= 1 << (bit & 63)
		if i == 5 {
			h2 = mix64(h2)
		}
	}
	b.n++
}

func (b *bloom) has(h1, h2 uint64) bool {
	blk := &b.blocks[h1%uint64(len(b.blocks))]
	for i := range uint64(bloomProbes) {
		bit := (h2 >> (i * 5)) ^ (h1 >> (32 + i))
		bit &= 511
		if blk[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		if i == 5 {
			h2 = mix64(h2)
		}
	}
	return true
}
