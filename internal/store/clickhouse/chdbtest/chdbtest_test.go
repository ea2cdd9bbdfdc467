package chdbtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func TestMain(m *testing.M) { Main(m) }

func open(t *testing.T, dsn string) clickhouse.Conn {
	t.Helper()
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestEngineRuns proves the ClickHouse 26 engine loads and runs SQL,
// through clickhouse-go's HTTP protocol: DDL, a batch insert in Native
// format, a query with typed results, an exception.
func TestEngineRuns(t *testing.T) {
	s := Start(t)
	ctx := t.Context()
	conn := open(t, s.DSN("default"))
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "26.") {
		t.Fatalf("engine version %s, want ClickHouse 26", version)
	}
	t.Logf("ClickHouse %s (chDB)", version)
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS smoke",
		`CREATE TABLE smoke.t (id UInt64, name LowCardinality(String), at Int64 CODEC(Delta, ZSTD(1)),
			attrs Map(LowCardinality(String), String), tags Array(String), trace FixedString(16))
		ENGINE = MergeTree ORDER BY (name, at)`,
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db := open(t, s.DSN("smoke"))
	b, err := db.PrepareBatch(ctx, "INSERT INTO t (id, name, at, attrs, tags, trace)")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		name := "even"
		if i%2 == 1 {
			name = "odd"
		}
		trace := strings.Repeat("x", 15) + string(rune('a'+i%26))
		if err := b.Append(uint64(i), name, int64(i)*1000, map[string]string{"k": name}, []string{"a", "b"}, trace); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("batch insert: %v", err)
	}
	rows, err := db.Query(ctx, "SELECT name, count(), sum(id), any(attrs['k']), max(length(tags)) FROM t GROUP BY name ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var (
			name, attr string
			n, sum     uint64
			tags       uint64
		)
		if err := rows.Scan(&name, &n, &sum, &attr, &tags); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{name, attr}, "="))
		if n != 500 || tags != 2 {
			t.Errorf("%s: %d rows, %d tags", name, n, tags)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "even=even,odd=odd" {
		t.Errorf("groups %v", got)
	}
	err = db.Exec(ctx, "SELECT * FROM nope")
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 60 {
		t.Fatalf("query of an unknown table: %v, want exception 60", err)
	}
}

// TestFaultsAndOutage exercises the admin side used by the engine's
// error-handling tests: injected exceptions, and a listener that goes down
// and comes back on the same address with the data intact.
func TestFaultsAndOutage(t *testing.T) {
	s := Start(t)
	conn := open(t, s.DSN("default"))
	ctx := t.Context()
	if err := conn.Exec(ctx, "CREATE TABLE f (a UInt8) ENGINE = MergeTree ORDER BY a"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "INSERT INTO f VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	s.FailNext(t, 1, 242, "INSERT")
	err := conn.Exec(ctx, "INSERT INTO f VALUES (2)")
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 242 {
		t.Fatalf("injected fault: %v", err)
	}
	s.Down(t)
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := conn.Exec(short, "INSERT INTO f VALUES (3)"); err == nil {
		t.Fatal("insert while down succeeded")
	}
	s.Up(t)
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM f").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after the outage: %d rows, %v", n, err)
	}
	if st := s.Stats(t); st.Failed < 1 {
		t.Errorf("stats %+v", st)
	}
}
