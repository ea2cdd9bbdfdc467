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

// dbName is a database name for a test name.
func dbName(name string) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	return fmt.Sprintf("t_%x", h.Sum64())
}

// testSettings are the settings of an engine over the test server.
func testSettings(t testing.TB, db string) Settings {
	return Settings{DSN: server(t).DSN("default"), Database: db, ProbeInterval: 100 * time.Millisecond}
}

// openAt returns an opener that gives each test its own database and
// reopens the same database when a test opens twice.
func openAt(tune func(*Settings)) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store {
		t.Helper()
		s := testSettings(t, dbName(t.Name()))
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
		s.Database = dbName("cluster/" + strings.TrimPrefix(s.Database, "t_"))
	}))
}
