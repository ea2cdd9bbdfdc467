package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/ariadnehq/ariadne/internal/model"
)

// chunkRow has one field per vector kind the chunk appender writes.
type chunkRow struct {
	B    bool
	U8   uint8
	I32  int32
	U32  uint32
	I64  int64
	U64  uint64
	ID   model.TraceID
	S    string
	L    []string
	Null bool // every nullable column NULL
}

// TestChunkAppender writes rows of every kind through several chunks (and
// list children that outgrow their first reservation), with strings on
// both sides of the 12-byte inlining limit, and reads them back.
func TestChunkAppender(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sql.Open("duckdb", filepath.Join(dir, "t.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (b BOOLEAN, u8 UTINYINT, i32 INTEGER, u32 UINTEGER,
		i64 BIGINT, u64 UBIGINT, id UUID, s VARCHAR, l VARCHAR[])`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	var rows []chunkRow
	for i := range 5000 {
		r := chunkRow{
			B: i%3 == 0, U8: uint8(i), I32: int32(-i * 7), U32: uint32(i * 11), I64: int64(i) * -1e12, U64: uint64(i) << 40,
			S: strings.Repeat("é", i%9) + fmt.Sprint(i), Null: i%17 == 5,
		}
		r.ID[0], r.ID[7], r.ID[8], r.ID[15] = byte(i), byte(i>>8), 0xff, byte(i*3)
		for j := range i % 40 { // up to 39 elements: 5000 rows need ~100k, far beyond the first reservation
			r.L = append(r.L, strings.Repeat("x", j)+fmt.Sprint(i))
		}
		rows = append(rows, r)
	}

	err = conn.Raw(func(dc any) error {
		raw, err := rawConnection(dc.(driver.Conn))
		if err != nil {
			return err
		}
		a, err := newChunkAppender(raw, "t", []string{"BOOLEAN", "UTINYINT", "INTEGER", "UINTEGER", "BIGINT", "UBIGINT", "UUID", "VARCHAR", "VARCHAR[]"})
		if err != nil {
			return err
		}
		defer a.close()
		// A cleared first attempt leaves nothing behind.
		for _, clearFirst := range []bool{true, false} {
			for _, r := range rows {
				if err := a.next(); err != nil {
					return err
				}
				if r.Null {
					for c := range 9 {
						a.null(c)
					}
				} else {
					a.bool(0, r.B)
					a.u8(1, r.U8)
					a.i32(2, r.I32)
					a.u32(3, r.U32)
					a.i64(4, r.I64)
					a.u64(5, r.U64)
					a.uuid(6, r.ID)
					a.str(7, r.S)
					a.strings(8, r.L)
				}
				a.done()
			}
			if clearFirst {
				a.clear()
				continue
			}
			if err := a.flush(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	rs, err := db.QueryContext(context.Background(), "SELECT b, u8, i32, u32, i64, u64, id, s, l FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	i := 0
	for ; rs.Next(); i++ {
		var (
			b                 sql.NullBool
			u8, i32, u32, i64 sql.NullInt64
			u64, id, s, l     any
		)
		if err := rs.Scan(&b, &u8, &i32, &u32, &i64, &u64, &id, &s, &l); err != nil {
			t.Fatal(err)
		}
		want := rows[i]
		if want.Null {
			if b.Valid || u8.Valid || i32.Valid || u32.Valid || i64.Valid || u64 != nil || id != nil || s != nil || l != nil {
				t.Fatalf("row %d: want all NULL, got %v %v %v %v %v %v %v %v %v", i, b, u8, i32, u32, i64, u64, id, s, l)
			}
			continue
		}
		gotID, err := asTraceID(id)
		if err != nil {
			t.Fatal(err)
		}
		gotL, err := asStrings(l)
		if err != nil {
			t.Fatal(err)
		}
		got := chunkRow{B: b.Bool, U8: uint8(u8.Int64), I32: int32(i32.Int64), U32: uint32(u32.Int64), I64: i64.Int64,
			U64: u64.(uint64), ID: gotID, S: s.(string), L: gotL}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(rows) {
		t.Fatalf("read %d rows, want %d", i, len(rows))
	}
	// UUIDs compare as their bytes do, as with the driver's own encoding.
	var text string
	if err := db.QueryRowContext(ctx, "SELECT id::VARCHAR FROM t WHERE id = "+uuidLiteral(rows[1].ID)).Scan(&text); err != nil {
		t.Fatalf("lookup by UUID: %v", err)
	}
	if u := duckdb.UUID(rows[1].ID); text != u.String() {
		t.Fatalf("UUID text %s, want %s", text, u.String())
	}
}
