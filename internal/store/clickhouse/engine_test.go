package clickhouse

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/clickhouse/chdbtest"
	"github.com/ariadnehq/ariadne/internal/store/storetest"
)

// One chdbserver (the ClickHouse 26 engine behind its HTTP interface) for
// the whole package; every test works in its own database.
var (
	srvOnce sync.Once
	srv     *chdbtest.Server
	srvErr  error
	srvDir  string
)

func TestMain(m *testing.M) {
	code := func() int {
		defer func() {
			if srv != nil {
				srv.Stop()
			}
			if srvDir != "" {
				os.RemoveAll(srvDir)
			}
		}()
		return m.Run()
	}()
	chdbtest.Main(&exitOnly{code})
}

// exitOnly lets chdbtest.Main clean up after m.Run already ran.
type exitOnly struct{ code int }

func (e *exitOnly) Run() int { return e.code }

func server(t testing.TB) *chdbtest.Server {
	t.Helper()
	chdbtest.Require(t)
	srvOnce.Do(func() {
		srvDir, srvErr = os.MkdirTemp("", "ariadne-chdb-")
		if srvErr == nil {
			srv, srvErr = chdbtest.Launch(srvDir)
		}
	})
	if srvErr != nil {
		t.Fatal(srvErr)
	}
	return srv
}

var (
	dbMu  sync.Mutex
	dbs   = map[string]string{}
	dbSeq int
)

// dbName is the database of test t (and of prefix, for variants): a fresh
// one per run of the test (-count), the same one when the test reopens
// the store; dropped when the test ends.
func dbName(t testing.TB, prefix string) string {
	return dbNameOn(t, prefix, "")
}

// dbNameOn is dbName on the server of dsn ("" = the chDB test server).
func dbNameOn(t testing.TB, prefix, dsn string) string {
	dbMu.Lock()
	defer dbMu.Unlock()
	key := prefix + t.Name()
	if db, ok := dbs[key]; ok {
		return db
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	dbSeq++
	db := fmt.Sprintf("t%s_%x_%d", prefix, h.Sum32(), dbSeq)
	dbs[key] = db
	t.Cleanup(func() {
		dbMu.Lock()
		delete(dbs, key)
		dbMu.Unlock()
		dropDatabaseOn(t, dsn, db)
	})
	return db
}

// testSettings are the settings of an engine over the test server.
func testSettings(t testing.TB, db string) Settings {
	return Settings{DSN: server(t).DSN("default"), Database: db, ProbeInterval: 100 * time.Millisecond}
}

// openAt returns an opener that gives each test its own database and
// reopens the same database when a test opens twice.
func openAt(tune func(*Settings), variant ...string) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store {
		t.Helper()
		s := testSettings(t, dbName(t, strings.Join(variant, "")))
		if tune != nil {
			tune(&s)
		}
		e, err := Open(context.Background(), s)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := e.Status(); err != nil {
			t.Fatalf("engine not ready: %v", err)
		}
		return e
	}
}

// dropDatabase removes a test's database, KeeperMap tables included.
func dropDatabase(t testing.TB, db string) { dropDatabaseOn(t, "", db) }

func dropDatabaseOn(t testing.TB, dsn, db string) {
	if dsn == "" {
		dsn = server(t).DSN("default")
	}
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Error(err)
		return
	}
	opts.Auth.Database = ""
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	on := ""
	if c := os.Getenv("ARIADNE_CLICKHOUSE_CLUSTER"); c != "" && dsn == os.Getenv("ARIADNE_CLICKHOUSE_DSN") {
		on = " ON CLUSTER " + quoteIdent(c)
	}
	if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+quoteIdent(db)+on+" SYNC"); err != nil {
		t.Errorf("drop database %s: %v", db, err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openAt(nil), storetest.WithQueueBound(func(t *testing.T, rows int) store.Store {
		return openAt(func(s *Settings) { s.QueueRows = rows })(t)
	}))
}

// TestConformanceCluster runs the suite on the cluster layout: Distributed
// tables over sharded local tables (the one-shard cluster chdbserver
// configures), DDL without ON CLUSTER, which chDB does not run.
func TestConformanceCluster(t *testing.T) {
	storetest.Run(t, openAt(func(s *Settings) {
		s.Cluster = "ariadne"
		s.noOnCluster = true
	}, "c"))
}

// TestConformanceServer runs the suite against a real ClickHouse server
// when ARIADNE_CLICKHOUSE_DSN names one (clickhouse://… or http://…), on
// the cluster ARIADNE_CLICKHOUSE_CLUSTER when set (replicated, DDL ON
// CLUSTER). The server needs Keeper and keeper_map_path_prefix
// (docs/operations.md); every test creates and drops its own database.
func TestConformanceServer(t *testing.T) {
	dsn := os.Getenv("ARIADNE_CLICKHOUSE_DSN")
	if dsn == "" {
		t.Skip("ARIADNE_CLICKHOUSE_DSN not set: no ClickHouse server to test against (the chDB tests ran)")
	}
	cluster := os.Getenv("ARIADNE_CLICKHOUSE_CLUSTER")
	open := func(t *testing.T, rows int) store.Store {
		t.Helper()
		e, err := Open(context.Background(), Settings{DSN: dsn, Database: dbNameOn(t, "s", dsn), Cluster: cluster,
			Replicated: cluster != "", QueueRows: rows})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := e.Status(); err != nil {
			t.Fatalf("engine not ready: %v", err)
		}
		return e
	}
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, 0) }, storetest.WithQueueBound(open))
}
