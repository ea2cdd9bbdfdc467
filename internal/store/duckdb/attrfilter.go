package duckdb

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/ariadnehq/ariadne/internal/model"
)

// Attribute filters. An attribute search whose key=value pair no span of
// the range holds used to read every span of the range (a whole hour of
// 10M spans: about a second). Each minute of span start times now has a
// Bloom filter of the attribute and resource attribute pairs of its spans,
// and a search reads only the minutes whose filter may hold all its pairs.
//
// The writer builds the filters in memory as it commits spans. The commit
// that first adds to a minute also writes that minute's attr_filters row
// as dirty (no bits), so a crash never leaves a minute whose filter misses
// a committed span: a dirty minute is always read. When the writer has not
// added to a minute for afIdle, it writes the bits (folded to the size
// their fill needs) and drops the minute from memory; a late span for it
// loads the bits back. Close writes every minute it holds. A minute
// without a row holds no spans: every commit of spans has a row for their
// minute.
//
// Searches take the writer's in-memory filters over the rows, which lag
// them; the rows are tested in SQL (get_bit), so no filter leaves DuckDB.

const (
	afBucket    = int64(time.Minute)
	afBits      = 1 << 20 // bits of a filter while the writer fills it (128 KiB, 2048 blocks)
	afBlockBits = 512     // the bits of one pair lie in one block (a cache line)
	afProbes    = 6
	afMinBits   = 4096
	// afMaxFill: folding stops before the filter would have more bits set.
	afMaxFill = 0.3
	// afIdle: how long a minute must go without new spans before the writer
	// writes its filter and drops it from memory.
	afIdle = time.Minute
	// afMaxRanges caps the time ranges one search window reads separately.
	afMaxRanges = 16
	// afMaxHeld caps the minutes with bits in the writer's memory (32 MiB):
	// beyond it, the least recently filled are written out early, and a
	// commit that spreads its spans over more minutes than that leaves the
	// rest without a filter (dirty: read whole), as a backfill of old
	// data or a client with a wild clock would.
	afMaxHeld = 256
)

func afBucketOf(t int64) int64 {
	m := t % afBucket
	if m < 0 {
		m += afBucket
	}
	return t - m
}

// afProbe is where a pair's bits lie in a filter of afBits bits; in a
// folded filter of n bits, at p mod n.
type afProbe [afProbes]uint32

// pairHash hashes a key=value pair as stored: the strings after
// validUTF8, as the appender writes them.
func pairHash(key, value string) uint64 {
	h, ascii1 := strHash(0x243f6a8885a308d3, key)
	h, ascii2 := strHash(h^0x13198a2e03707344, value)
	if !(ascii1 && ascii2) && (!utf8.ValidString(key) || !utf8.ValidString(value)) {
		h, _ = strHash(0x243f6a8885a308d3, validUTF8(key))
		h, _ = strHash(h^0x13198a2e03707344, validUTF8(value))
	}
	return mix64(h)
}

// strHash folds s into h eight bytes at a time (the last up to eight
// read as two overlapping words, as wyhash does), and reports whether s
// is ASCII, which needs no UTF-8 check.
func strHash(h uint64, s string) (uint64, bool) {
	var acc uint64
	n := len(s)
	for ; len(s) > 8; s = s[8:] {
		w := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8))
		acc |= w
		h = (h ^ w) * 0x9e3779b97f4a7c15
		h ^= h >> 29
	}
	var w uint64
	switch m := len(s); {
	case m >= 4:
		b := unsafe.Slice(unsafe.StringData(s), m)
		w = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[m-4:]))<<32
	case m > 0:
		w = uint64(s[0]) | uint64(s[m/2])<<8 | uint64(s[m-1])<<16
	}
	acc |= w
	h = (h ^ w ^ uint64(n)<<56) * 0xbf58476d1ce4e5b9
	h ^= h >> 31
	return h, acc&0x8080808080808080 == 0
}

// afProbeOf places a pair: its block from the top 11 bits of the hash,
// its six bits in the block from the low 54.
func afProbeOf(key, value string) afProbe {
	h := pairHash(key, value)
	block := uint32(h>>53) * afBlockBits
	var p afProbe
	for i := range p {
		p[i] = block + uint32(h>>(9*i))&(afBlockBits-1)
	}
	return p
}

// filterBits is a filter in DuckDB's BIT layout: bit p is the bit 0x80>>(p%8)
// of byte p/8.
type filterBits []byte

func (f filterBits) set(p afProbe) {
	for _, q := range p {
		f[q>>3] |= 0x80 >> (q & 7)
	}
}

// add sets the bits of the pair hashed to h in a full-size filter (what
// set(afProbeOf(…)) does, without the bounds checks).
func (f filterBits) add(h uint64) {
	blk := (*[afBlockBits / 8]byte)(f[(h>>53)*(afBlockBits/8):])
	for i := range afProbes {
		q := uint32(h>>(9*i)) & (afBlockBits - 1)
		blk[q>>3] |= 0x80 >> (q & 7)
	}
}

func (f filterBits) has(p afProbe) bool {
	n := uint32(len(f) * 8)
	for _, q := range p {
		q %= n
		if f[q>>3]&(0x80>>(q&7)) == 0 {
			return false
		}
	}
	return true
}

// fold halves the filter while its fill allows: a pair at p of the full
// filter is at p mod len.
func (f filterBits) fold() filterBits {
	for len(f)*8 > afMinBits {
		h := len(f) / 2
		set := 0
		for i := 0; i < h; i++ {
			set += bits.OnesCount8(f[i] | f[h+i])
		}
		if float64(set) > afMaxFill*float64(h*8) {
			break
		}
		g := make(filterBits, h)
		for i := range g {
			g[i] = f[i] | f[h+i]
		}
		f = g
	}
	return f
}

// unfold returns a filter of afBits bits holding a folded one.
func (f filterBits) unfold() filterBits {
	g := make(filterBits, afBits/8)
	for i := 0; i < len(g); i += len(f) {
		copy(g[i:], f)
	}
	return g
}

type bucketFilter struct {
	bits filterBits // afBits; nil when unknown
	// unknown: the minute holds spans this filter never saw (its row was
	// dirty when the writer found it): it never rules anything out.
	unknown bool
	// marked: the minute's row is dirty, or will be once the commit being
	// built succeeds (markedTx).
	marked, markedTx bool
	touched          time.Time
	evictTx          bool // written out by the commit being built
}

// attrFilters holds the minutes the writer is filling. The writer is the
// only one to change it; searches read it under mu.
type attrFilters struct {
	mu sync.RWMutex
	m  map[int64]*bucketFilter
}

func newAttrFilters() *attrFilters { return &attrFilters{m: make(map[int64]*bucketFilter)} }

// addFilters is the writer's part of a commit, inside its transaction:
// it finds or creates the filter of every minute the batches' spans start
// in, marks new minutes dirty, adds the pairs, and writes out idle minutes.
func (w *writer) addFilters(ctx context.Context, batches []*model.Batch) error {
	af := w.e.af
	now := time.Now()
	last := int64(1) // not a bucket start
	var lastF *bucketFilter
	var added []*bucketFilter
	// Find the minutes first: loading one queries the table, which must not
	// happen under the lock searches wait on.
	for _, batch := range batches {
		for i := range batch.Spans {
			b := afBucketOf(batch.Spans[i].StartTime)
			if b == last {
				continue
			}
			last = b
			f := af.m[b]
			if f == nil {
				if w.afHeld >= afMaxHeld {
					f = &bucketFilter{unknown: true}
				} else {
					var err error
					if f, err = w.loadFilter(ctx, b); err != nil {
						return err
					}
				}
				if f.bits != nil {
					w.afHeld++
				}
				af.mu.Lock()
				af.m[b] = f
				af.mu.Unlock()
			}
			if !f.marked {
				if err := w.writeFilterRow(ctx, b, nil); err != nil {
					return err
				}
				f.marked, f.markedTx = true, true
				added = append(added, f)
			}
			f.touched = now
		}
	}
	w.afMarked = added
	af.mu.Lock()
	last = 1
	for _, batch := range batches {
		for i := range batch.Spans {
			s := &batch.Spans[i]
			if b := afBucketOf(s.StartTime); b != last {
				last, lastF = b, af.m[b]
			}
			if lastF.unknown {
				continue
			}
			for j := range s.Attributes {
				lastF.bits.add(pairHash(s.Attributes[j].Key, s.Attributes[j].Value.Str))
			}
			for j := range s.ResourceAttributes {
				lastF.bits.add(pairHash(s.ResourceAttributes[j].Key, s.ResourceAttributes[j].Value.Str))
			}
		}
	}
	af.mu.Unlock()
	// Write out the minutes the writer is done with, and the least recently
	// filled ones beyond afMaxHeld.
	w.afEvicted = w.afEvicted[:0]
	var older []int64
	for b, f := range af.m {
		if !f.touched.Before(now) || f.markedTx {
			continue // filled by this commit
		}
		if now.Sub(f.touched) >= afIdle {
			w.afEvicted = append(w.afEvicted, b)
		} else if w.afHeld > afMaxHeld && f.bits != nil {
			older = append(older, b)
		}
	}
	if excess := w.afHeld - len(w.afEvicted) - afMaxHeld; excess > 0 && len(older) > 0 {
		slices.SortFunc(older, func(x, y int64) int { return af.m[x].touched.Compare(af.m[y].touched) })
		w.afEvicted = append(w.afEvicted, older[:min(excess, len(older))]...)
	}
	for _, b := range w.afEvicted {
		f := af.m[b]
		if !f.unknown {
			if err := w.writeFilterRow(ctx, b, f.bits.fold()); err != nil {
				return err
			}
		}
		f.evictTx = true
	}
	return nil
}

// filtersDone settles the in-memory state once the commit is over.
func (w *writer) filtersDone(committed bool) {
	af := w.e.af
	for _, f := range w.afMarked {
		f.markedTx = false
		if !committed {
			f.marked = false
		}
	}
	w.afMarked = w.afMarked[:0]
	if committed && len(w.afEvicted) > 0 {
		af.mu.Lock()
		for _, b := range w.afEvicted {
			if af.m[b].bits != nil {
				w.afHeld--
			}
			delete(af.m, b)
		}
		af.mu.Unlock()
	}
	for _, b := range w.afEvicted {
		if f := af.m[b]; f != nil {
			f.evictTx = false
		}
	}
	w.afEvicted = w.afEvicted[:0]
}

// loadFilter reads a minute the writer does not hold.
func (w *writer) loadFilter(ctx context.Context, b int64) (*bucketFilter, error) {
	var raw []byte
	var dirty sql.NullBool
	err := w.conn.QueryRowContext(ctx, "SELECT bits::BLOB, dirty FROM attr_filters WHERE bucket = "+strconv.FormatInt(b, 10)).Scan(&raw, &dirty)
	switch {
	case err == sql.ErrNoRows:
		return &bucketFilter{bits: make(filterBits, afBits/8)}, nil
	case err != nil:
		return nil, fmt.Errorf("read attribute filter: %w", err)
	case dirty.Bool || len(raw) == 0:
		// Dirty without the writer holding it: spans were committed that
		// no filter saw (a crash). The row stays dirty.
		return &bucketFilter{unknown: true, marked: true}, nil
	}
	return &bucketFilter{bits: filterBits(raw).unfold()}, nil
}

// writeFilterRow replaces a minute's row: dirty without bits, or clean.
func (w *writer) writeFilterRow(ctx context.Context, b int64, f filterBits) error {
	bs := strconv.FormatInt(b, 10)
	if _, err := w.conn.ExecContext(ctx, "DELETE FROM attr_filters WHERE bucket = "+bs); err != nil {
		return fmt.Errorf("write attribute filter: %w", err)
	}
	var err error
	if f == nil {
		_, err = w.conn.ExecContext(ctx, "INSERT INTO attr_filters VALUES ("+bs+", NULL, true)")
	} else {
		_, err = w.conn.ExecContext(ctx, "INSERT INTO attr_filters VALUES ("+bs+", ?::BLOB::BIT, false)", []byte(f))
	}
	if err != nil {
		return fmt.Errorf("write attribute filter: %w", err)
	}
	return nil
}

// flushFilters writes out every minute the writer holds (Close).
func (w *writer) flushFilters(ctx context.Context) error {
	af := w.e.af
	if len(af.m) == 0 {
		return nil
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	for b, f := range af.m {
		if f.unknown || !f.marked {
			continue
		}
		if err := w.writeFilterRow(ctx, b, f.bits.fold()); err != nil {
			_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
			return err
		}
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	af.mu.Lock()
	clear(af.m)
	af.mu.Unlock()
	w.afHeld = 0
	return nil
}

// attrRanges returns the time ranges of [lo, hi) whose minutes may hold
// spans matching every pair of conds, merged and in order; none when no
// minute may.
func (e *Engine) attrRanges(ctx context.Context, conds []model.Attr, lo, hi int64) ([][2]int64, error) {
	probes := make([]afProbe, len(conds))
	for i, c := range conds {
		probes[i] = afProbeOf(c.Key, c.Value.Str)
	}
	var q strings.Builder
	fmt.Fprintf(&q, "SELECT bucket FROM attr_filters WHERE bucket >= %d AND bucket < %d AND (dirty OR bits IS NULL OR (",
		afBucketOf(lo), hi)
	for i, p := range probes {
		for j, bit := range p {
			if i > 0 || j > 0 {
				q.WriteString(" AND ")
			}
			fmt.Fprintf(&q, "get_bit(bits, (%d %% bit_length(bits))::INTEGER) = 1", bit)
		}
	}
	q.WriteString("))")
	// The writer's filters first: they are ahead of the rows.
	af := e.af
	mem := map[int64]bool{}
	af.mu.RLock()
	for b, f := range af.m {
		if b+afBucket <= lo || b >= hi {
			continue
		}
		ok := true
		if !f.unknown {
			for _, p := range probes {
				if !f.bits.has(p) {
					ok = false
					break
				}
			}
		}
		mem[b] = ok
	}
	af.mu.RUnlock()
	rs, err := e.db.QueryContext(ctx, q.String())
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var buckets []int64
	for rs.Next() {
		var b int64
		if err := rs.Scan(&b); err != nil {
			return nil, err
		}
		if _, held := mem[b]; !held {
			buckets = append(buckets, b)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	for b, ok := range mem {
		if ok {
			buckets = append(buckets, b)
		}
	}
	slices.Sort(buckets)
	var out [][2]int64
	for _, b := range buckets {
		s, t := max(b, lo), min(b+afBucket, hi)
		if n := len(out); n > 0 && out[n-1][1] >= s {
			out[n-1][1] = max(out[n-1][1], t)
			continue
		}
		out = append(out, [2]int64{s, t})
	}
	return out, nil
}

// clipRanges is the part of rs within [lo, hi), at most afMaxRanges ranges
// (the closest ones merged).
func clipRanges(rs [][2]int64, lo, hi int64) [][2]int64 {
	var out [][2]int64
	for _, r := range rs {
		s, t := max(r[0], lo), min(r[1], hi)
		if s < t {
			out = append(out, [2]int64{s, t})
		}
	}
	for len(out) > afMaxRanges {
		best := 1
		for i := 2; i < len(out); i++ {
			if out[i][0]-out[i-1][1] < out[best][0]-out[best-1][1] {
				best = i
			}
		}
		out[best-1][1] = out[best][1]
		out = slices.Delete(out, best, best+1)
	}
	return out
}
