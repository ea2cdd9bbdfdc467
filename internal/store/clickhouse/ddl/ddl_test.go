package ddl_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ariadnehq/ariadne/internal/store/clickhouse/chdbtest"
	"github.com/ariadnehq/ariadne/internal/store/clickhouse/ddl"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) { chdbtest.Main(m) }

// layouts are the deployments the golden files cover.
var layouts = []struct {
	name   string
	layout ddl.Layout
}{
	{"single", ddl.Layout{Database: "ariadne", TTLDays: 7}},
	{"single-no-ttl", ddl.Layout{Database: "ariadne"}},
	{"cluster-replicated", ddl.Layout{Database: "ariadne", Cluster: "ariadne", Replicated: true, TTLDays: 7}},
	{"cluster-sharded", ddl.Layout{Database: "ariadne", Cluster: "ariadne", TTLDays: 7}},
}

func render(t *testing.T, l ddl.Layout) string {
	t.Helper()
	stmts, err := l.Statements()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range stmts {
		fmt.Fprintf(&b, "-- version %d %s\n%s;\n\n", s.Version, s.File, s.SQL)
	}
	return b.String()
}

// TestGolden pins every DDL statement of every layout.
func TestGolden(t *testing.T) {
	for _, tc := range layouts {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.layout)
			path := filepath.Join("testdata", tc.name+".sql")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("rendered DDL differs from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	got := ddl.Split("-- c\nCREATE a\n  (x);\n\n-- d\nSELECT 1;\nSELECT ';'\n")
	want := []string{"CREATE a\n  (x)", "SELECT 1", "SELECT ';'"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Split = %q, want %q", got, want)
	}
}

func TestLayoutErrors(t *testing.T) {
	for _, l := range []ddl.Layout{{}, {Database: "x", Replicated: true}, {Database: "x", TTLDays: -1}} {
		if _, err := l.Statements(); err == nil {
			t.Errorf("%+v: no error", l)
		}
	}
}

// TestExecuteOnEngine runs every statement of every layout on the
// ClickHouse 26 engine (chDB), in a database per layout. Cluster layouts
// run without ON CLUSTER (chDB runs no distributed DDL) against the
// one-shard cluster chdbserver configures; their Replicated tables are
// created but stay read-only in chDB (it never sets an interserver
// address), so data goes through the sharded layout's Distributed tables
// only.
func TestExecuteOnEngine(t *testing.T) {
	s := chdbtest.Start(t)
	opts, err := clickhouse.ParseDSN(s.DSN("default"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := t.Context()
	for _, tc := range layouts {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.layout
			l.Database = "db_" + strings.ReplaceAll(tc.name, "-", "_")
			l.NoOnCluster = true
			stmts, err := l.Statements()
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range stmts {
				if err := conn.Exec(ctx, st.SQL); err != nil {
					t.Fatalf("%s\n%v", st.SQL, err)
				}
			}
			// Twice: every statement is idempotent.
			for _, st := range stmts {
				if err := conn.Exec(ctx, st.SQL); err != nil {
					t.Fatalf("again: %s\n%v", st.SQL, err)
				}
			}
			rows, err := conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = ? ORDER BY name", l.Database)
			if err != nil {
				t.Fatal(err)
			}
			engines := map[string]string{}
			for rows.Next() {
				var n, e string
				if err := rows.Scan(&n, &e); err != nil {
					t.Fatal(err)
				}
				engines[n] = e
			}
			rows.Close()
			want := map[string]string{"spans": "ReplacingMergeTree", "logs": "MergeTree", "message_refs": "ReplacingMergeTree",
				"issues": "KeeperMap", "alert_events": "KeeperMap"}
			if l.Cluster != "" {
				want["spans"], want["logs"], want["message_refs"] = "Distributed", "Distributed", "Distributed"
				want["spans_local"] = "ReplacingMergeTree"
				want["logs_local"] = "MergeTree"
				if l.Replicated {
					want["spans_local"] = "ReplicatedReplacingMergeTree"
					want["logs_local"] = "ReplicatedMergeTree"
				}
			}
			for n, e := range want {
				if engines[n] != e {
					t.Errorf("table %s: engine %q, want %q", n, engines[n], e)
				}
			}
			if l.Cluster != "" && !l.Replicated {
				// A current time: a row older than the TTL may be dropped at once.
				tbl := l.Table("spans")
				fg := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_foreground_insert": 1}))
				if err := conn.Exec(fg, "INSERT INTO "+tbl+" (trace_id, span_id, start_time, service) VALUES (unhex('0102030405060708090a0b0c0d0e0f10'), 1, ?, 's')", time.Now().UnixNano()); err != nil {
					t.Fatal(err)
				}
				var n, local uint64
				if err := conn.QueryRow(ctx, "SELECT count() FROM "+tbl).Scan(&n); err != nil || n != 1 {
					conn.QueryRow(ctx, "SELECT count() FROM "+l.Table("spans_local")).Scan(&local)
					t.Fatalf("count through the Distributed table: %d (local table: %d), %v", n, local, err)
				}
			}
		})
	}
}
