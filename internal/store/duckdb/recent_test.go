package duckdb

import (
	"encoding/binary"
	"math"
	"testing"
)

func testKey(i uint64) spanKey {
	var k spanKey
	binary.BigEndian.PutUint64(k.trace[8:], i/10) // sequential ids: the hard case for a hash
	k.span = i%10 + 1
	return k
}

func TestRecentSpansNeverForgetsWithinReach(t *testing.T) {
	const perGen = 10_000
	r := newRecentSpans(perGen, math.MinInt64)
	for i := range uint64(35_000) {
		r.add(testKey(i), int64(i))
	}
	// Everything ever added is either in a filter or at or before the horizon.
	for i := range uint64(35_000) {
		if !r.mayBeStored(testKey(i), int64(i)) {
			t.Fatalf("span %d added but reported new (horizon %d)", i, r.horizon)
		}
	}
	if r.horizon < 9_999 {
		t.Fatalf("horizon %d: two rotations must have handed the first generation to the table", r.horizon)
	}
	// New keys after the horizon are rarely reported as possibly stored.
	fp := 0
	for i := uint64(1_000_000); i < 1_100_000; i++ {
		if r.mayBeStored(testKey(i), int64(i)) {
			fp++
		}
	}
	if fp > 10 {
		t.Fatalf("%d false positives in 100k new keys", fp)
	}
}

func TestRecentSpansHorizon(t *testing.T) {
	r := newRecentSpans(100, 500) // spans up to 500 were stored before Open
	if !r.mayBeStored(testKey(1), 500) {
		t.Fatal("a span as old as the stored ones must be looked up")
	}
	if r.mayBeStored(testKey(1), 501) {
		t.Fatal("a later span not added is new")
	}
	r.forget(900) // a commit of unknown outcome
	if !r.mayBeStored(testKey(2), 800) {
		t.Fatal("spans of a commit of unknown outcome must be looked up")
	}
}
