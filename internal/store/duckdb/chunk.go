package duckdb

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/ariadnehq/ariadne/internal/model"
)

// chunkAppender appends rows to one table through DuckDB's C appender,
// writing every value straight into the memory of a data chunk's vectors:
// a cell costs a store in Go, not a cgo call. The driver's Appender makes
// one cgo call per string, per NULL and per list, 40 and more per span;
// that was 17% of the server's CPU during ingest. Here the calls into
// DuckDB are per chunk of 2048 rows (a few per column) and per flush.
//
// Strings use DuckDB's string_t layout (16 bytes: length, then the string
// inlined when at most 12 bytes, else a 4-byte prefix and a pointer).
// Longer strings are copied into a pinned Go arena that lives until the
// chunk is handed to DuckDB, which copies them (AppendDataChunk copies the
// chunk into the appender's own buffer). Values are written as the column
// specs of schema.go define them; strings must be valid UTF-8 already
// (validUTF8), since nothing on this path checks.
//
// Only the writer goroutine uses an appender.
type chunkAppender struct {
	table string
	app   mapping.Appender
	chunk mapping.DataChunk
	cols  []vecCol
	n     int // rows in the chunk
	cap   int // rows a chunk holds
	// pending is true when rows were appended since the last flush.
	pending bool
	arena   arena
}

// Vector kinds: how a column's values lie in memory.
type vecKind uint8

const (
	vkBool vecKind = iota
	vkU8
	vkI32
	vkU32
	vkI64
	vkU64
	vkUUID
	vkStr
	vkStrList
)

func kindOf(typ string) (vecKind, error) {
	switch typ {
	case "BOOLEAN":
		return vkBool, nil
	case "UTINYINT":
		return vkU8, nil
	case "INTEGER":
		return vkI32, nil
	case "UINTEGER":
		return vkU32, nil
	case "BIGINT":
		return vkI64, nil
	case "UBIGINT":
		return vkU64, nil
	case "UUID":
		return vkUUID, nil
	case "VARCHAR":
		return vkStr, nil
	case "VARCHAR[]":
		return vkStrList, nil
	}
	return 0, fmt.Errorf("no chunk writer for column type %s", typ)
}

// vecCol is one column of the chunk. Pointers are re-read after every
// reset of the chunk.
type vecCol struct {
	kind  vecKind
	vec   mapping.Vector
	data  unsafe.Pointer
	valid unsafe.Pointer // validity words, nil until a NULL is written
	// Lists: the child vector holding every element of the chunk's rows.
	child     mapping.Vector
	childData unsafe.Pointer
	childCap  int
	childLen  int
}

const strSize = 16 // sizeof(duckdb_string_t)

// listEntry is duckdb_list_entry.
type listEntry struct{ offset, length uint64 }

// rawConnection returns the C connection inside a driver connection. The
// driver keeps it unexported; reflection finds its offset and checks its
// type, so a driver upgrade that moves it fails here, at Open, with a
// clear error rather than anywhere else.
func rawConnection(dc driver.Conn) (mapping.Connection, error) {
	c, ok := dc.(*duckdb.Conn)
	if !ok {
		return mapping.Connection{}, fmt.Errorf("driver connection is %T", dc)
	}
	f, ok := reflect.TypeFor[duckdb.Conn]().FieldByName("conn")
	if !ok || f.Type != reflect.TypeFor[mapping.Connection]() {
		return mapping.Connection{}, errors.New("duckdb.Conn has no conn field of type mapping.Connection: the driver changed; see chunk.go")
	}
	return *(*mapping.Connection)(unsafe.Add(unsafe.Pointer(c), f.Offset)), nil
}

func newChunkAppender(conn mapping.Connection, table string, typs []string) (*chunkAppender, error) {
	a := &chunkAppender{table: table, cap: int(mapping.VectorSize())}
	if mapping.AppenderCreate(conn, "", table, &a.app) == mapping.StateError {
		err := a.err("create appender")
		mapping.AppenderDestroy(&a.app)
		return nil, err
	}
	if n := int(mapping.AppenderColumnCount(a.app)); n != len(typs) {
		mapping.AppenderDestroy(&a.app)
		return nil, fmt.Errorf("appender for %s: table has %d columns, spec %d", table, n, len(typs))
	}
	types := make([]mapping.LogicalType, len(typs))
	a.cols = make([]vecCol, len(typs))
	for i, t := range typs {
		k, err := kindOf(t)
		if err != nil {
			mapping.AppenderDestroy(&a.app)
			return nil, fmt.Errorf("appender for %s: %w", table, err)
		}
		a.cols[i].kind = k
		types[i] = mapping.AppenderColumnType(a.app, mapping.IdxT(i))
	}
	a.chunk = mapping.CreateDataChunk(types)
	for i := range types {
		mapping.DestroyLogicalType(&types[i])
	}
	a.bind()
	return a, nil
}

// bind reads the vector pointers of a fresh or reset chunk.
func (a *chunkAppender) bind() {
	for i := range a.cols {
		c := &a.cols[i]
		c.vec = mapping.DataChunkGetVector(a.chunk, mapping.IdxT(i))
		c.data = mapping.VectorGetData(c.vec)
		c.valid = nil
		if c.kind == vkStrList {
			c.child = mapping.ListVectorGetChild(c.vec)
			c.childLen, c.childCap = 0, 0
			c.reserve(a.cap * 4)
		}
	}
}

// reserve grows the list child to hold at least n elements.
func (c *vecCol) reserve(n int) {
	if n <= c.childCap {
		return
	}
	n = max(n, 2*c.childCap)
	mapping.ListVectorReserve(c.vec, mapping.IdxT(n))
	c.childData = mapping.VectorGetData(c.child)
	c.childCap = n
}

// err returns the appender's error as the driver reports errors, so that
// classify sees the DuckDB error type.
func (a *chunkAppender) err(op string) error {
	ed := mapping.AppenderErrorData(a.app)
	defer mapping.DestroyErrorData(&ed)
	return fmt.Errorf("%s %s: %w", op, a.table, &duckdb.Error{
		Type: duckdb.ErrorType(mapping.ErrorDataErrorType(ed)),
		Msg:  mapping.ErrorDataMessage(ed),
	})
}

// next starts a row, first handing a full chunk to DuckDB.
func (a *chunkAppender) next() error {
	if a.n == a.cap {
		if err := a.appendChunk(); err != nil {
			return err
		}
	}
	a.pending = true
	return nil
}

// done ends the row started by next.
func (a *chunkAppender) done() { a.n++ }

func (a *chunkAppender) appendChunk() error {
	if a.n == 0 {
		return nil
	}
	for i := range a.cols {
		if c := &a.cols[i]; c.kind == vkStrList {
			mapping.ListVectorSetSize(c.vec, mapping.IdxT(c.childLen))
		}
	}
	mapping.DataChunkSetSize(a.chunk, mapping.IdxT(a.n))
	st := mapping.AppendDataChunk(a.app, a.chunk)
	a.reset()
	if st == mapping.StateError {
		return a.err("append chunk to")
	}
	return nil
}

func (a *chunkAppender) reset() {
	mapping.DataChunkReset(a.chunk)
	a.n = 0
	a.arena.reset()
	a.bind()
}

// flush hands the rows to DuckDB's transaction-local storage.
func (a *chunkAppender) flush() error {
	if err := a.appendChunk(); err != nil {
		return err
	}
	a.pending = false
	if mapping.AppenderFlush(a.app) == mapping.StateError {
		return a.err("flush appender of")
	}
	return nil
}

// clear drops every row not flushed yet.
func (a *chunkAppender) clear() {
	a.reset()
	a.pending = false
	mapping.AppenderClear(a.app)
}

func (a *chunkAppender) close() error {
	if a == nil {
		return nil
	}
	a.clear()
	mapping.DestroyDataChunk(&a.chunk)
	a.arena.free()
	if mapping.AppenderDestroy(&a.app) == mapping.StateError {
		return fmt.Errorf("close appender of %s", a.table)
	}
	return nil
}

// Cell writers: each writes column col of the current row.

func (a *chunkAppender) null(col int) {
	c := &a.cols[col]
	if c.valid == nil {
		mapping.VectorEnsureValidityWritable(c.vec)
		c.valid = mapping.VectorGetValidity(c.vec)
	}
	w := (*uint64)(unsafe.Add(c.valid, (a.n>>6)*8))
	*w &^= 1 << (a.n & 63)
	// The value under a NULL is never read, but it is left well-formed (an
	// empty string, not a pointer into an arena since reset).
	switch c.kind {
	case vkStrList:
		*(*listEntry)(unsafe.Add(c.data, a.n*16)) = listEntry{uint64(c.childLen), 0}
	case vkStr, vkUUID:
		*(*[16]byte)(unsafe.Add(c.data, a.n*16)) = [16]byte{}
	}
}

func (a *chunkAppender) bool(col int, v bool) {
	var b uint8
	if v {
		b = 1
	}
	*(*uint8)(unsafe.Add(a.cols[col].data, a.n)) = b
}

func (a *chunkAppender) u8(col int, v uint8) { *(*uint8)(unsafe.Add(a.cols[col].data, a.n)) = v }
func (a *chunkAppender) i32(col int, v int32) {
	*(*int32)(unsafe.Add(a.cols[col].data, a.n*4)) = v
}
func (a *chunkAppender) u32(col int, v uint32) {
	*(*uint32)(unsafe.Add(a.cols[col].data, a.n*4)) = v
}
func (a *chunkAppender) i64(col int, v int64) {
	*(*int64)(unsafe.Add(a.cols[col].data, a.n*8)) = v
}
func (a *chunkAppender) u64(col int, v uint64) {
	*(*uint64)(unsafe.Add(a.cols[col].data, a.n*8)) = v
}

// uuid stores a trace id as DuckDB's UUID: a hugeint (lower word first)
// whose sign bit is flipped, so that UUIDs sort as their bytes do.
func (a *chunkAppender) uuid(col int, id model.TraceID) {
	p := unsafe.Add(a.cols[col].data, a.n*16)
	*(*uint64)(p) = beU64(id[8:])
	*(*uint64)(unsafe.Add(p, 8)) = beU64(id[:8]) ^ (1 << 63)
}

func beU64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[7]) | uint64(b[6])<<8 | uint64(b[5])<<16 | uint64(b[4])<<24 |
		uint64(b[3])<<32 | uint64(b[2])<<40 | uint64(b[1])<<48 | uint64(b[0])<<56
}

// str stores s, which must be valid UTF-8.
func (a *chunkAppender) str(col int, s string) {
	a.putStr(unsafe.Add(a.cols[col].data, a.n*strSize), s)
}

// strOrNull stores "" as NULL, like nullIfEmpty.
func (a *chunkAppender) strOrNull(col int, s string) {
	if s == "" {
		a.null(col)
		return
	}
	a.str(col, validUTF8(s))
}

func (a *chunkAppender) putStr(p unsafe.Pointer, s string) {
	n := len(s)
	*(*uint32)(p) = uint32(n)
	b := (*[12]byte)(unsafe.Add(p, 4))
	if n <= 12 {
		*b = [12]byte{}
		copy(b[:], s)
		return
	}
	copy(b[:4], s)
	*(*uintptr)(unsafe.Add(p, 8)) = uintptr(a.arena.put(s))
}

// list starts a list of n strings in column col and returns where its
// elements go; n must be > 0.
func (a *chunkAppender) list(col, n int) (c *vecCol, first int) {
	c = &a.cols[col]
	c.reserve(c.childLen + n)
	first = c.childLen
	*(*listEntry)(unsafe.Add(c.data, a.n*16)) = listEntry{uint64(first), uint64(n)}
	c.childLen += n
	return c, first
}

func (a *chunkAppender) elem(c *vecCol, i int, s string) {
	a.putStr(unsafe.Add(c.childData, i*strSize), s)
}

// keys, values and strings store a list column, NULL when empty (the
// scratch helpers of codec.go do the same for the boxed path).
func (a *chunkAppender) keys(col int, attrs model.Attributes) {
	if len(attrs) == 0 {
		a.null(col)
		return
	}
	c, j := a.list(col, len(attrs))
	for i := range attrs {
		a.elem(c, j+i, validUTF8(attrs[i].Key))
	}
}

func (a *chunkAppender) values(col int, attrs model.Attributes) {
	if len(attrs) == 0 {
		a.null(col)
		return
	}
	c, j := a.list(col, len(attrs))
	for i := range attrs {
		a.elem(c, j+i, validUTF8(attrs[i].Value.Str))
	}
}

func (a *chunkAppender) strings(col int, ss []string) {
	if len(ss) == 0 {
		a.null(col)
		return
	}
	c, j := a.list(col, len(ss))
	for i, s := range ss {
		a.elem(c, j+i, validUTF8(s))
	}
}

// value stores a boxed value as the column's get returns it, for columns
// without a typed put.
func (a *chunkAppender) value(col int, v any) error {
	if v == nil {
		a.null(col)
		return nil
	}
	k := a.cols[col].kind
	switch x := v.(type) {
	case string:
		if k == vkStr {
			a.str(col, validUTF8(x))
			return nil
		}
	case []any:
		if k == vkStrList {
			if len(x) == 0 {
				a.null(col)
				return nil
			}
			c, j := a.list(col, len(x))
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return fmt.Errorf("%s column %d: list element %T", a.table, col, e)
				}
				a.elem(c, j+i, validUTF8(s))
			}
			return nil
		}
	case bool:
		if k == vkBool {
			a.bool(col, x)
			return nil
		}
	case uint8:
		if k == vkU8 {
			a.u8(col, x)
			return nil
		}
	case int32:
		if k == vkI32 {
			a.i32(col, x)
			return nil
		}
	case uint32:
		if k == vkU32 {
			a.u32(col, x)
			return nil
		}
	case int64:
		if k == vkI64 {
			a.i64(col, x)
			return nil
		}
	case uint64:
		if k == vkU64 {
			a.u64(col, x)
			return nil
		}
	case duckdb.UUID:
		if k == vkUUID {
			a.uuid(col, model.TraceID(x))
			return nil
		}
	}
	return fmt.Errorf("%s column %d: cannot store %T", a.table, col, v)
}

// appendRow appends r to a as the columns of t define it.
func appendRow[T any](a *chunkAppender, t *table[T], r *T, sc *scratch) error {
	if err := a.next(); err != nil {
		return err
	}
	for i := range t.cols {
		c := &t.cols[i]
		if c.put != nil {
			c.put(r, a, i, sc)
			continue
		}
		if err := a.value(i, c.get(r, sc)); err != nil {
			return err
		}
	}
	a.done()
	return nil
}

// arena holds copies of the strings longer than 12 bytes of one chunk,
// in pinned blocks: DuckDB reads them through pointers stored in C memory,
// which the cgo rules allow only for pinned Go memory.
type arena struct {
	blocks [][]byte // blocks[len-1] is being filled
	pin    runtime.Pinner
	pinned bool
}

const arenaBlock = 256 << 10

func (ar *arena) put(s string) unsafe.Pointer {
	var b []byte
	if k := len(ar.blocks); k > 0 && cap(ar.blocks[k-1])-len(ar.blocks[k-1]) >= len(s) {
		b = ar.blocks[k-1]
	} else {
		b = make([]byte, 0, max(arenaBlock, len(s)))
		ar.blocks = append(ar.blocks, b)
		ar.pin.Pin(unsafe.SliceData(b))
		ar.pinned = true
	}
	off := len(b)
	b = append(b, s...)
	ar.blocks[len(ar.blocks)-1] = b
	return unsafe.Pointer(unsafe.SliceData(b[off:]))
}

// reset forgets the strings once DuckDB has copied them; the first block
// is kept for the next chunk.
func (ar *arena) reset() {
	if len(ar.blocks) == 0 {
		return
	}
	first := ar.blocks[0][:0]
	if len(ar.blocks) > 1 {
		ar.pin.Unpin()
		ar.pin.Pin(unsafe.SliceData(first[:1]))
	}
	clear(ar.blocks)
	ar.blocks = append(ar.blocks[:0], first)
}

func (ar *arena) free() {
	if ar.pinned {
		ar.pin.Unpin()
		ar.pinned = false
	}
	ar.blocks = nil
}
