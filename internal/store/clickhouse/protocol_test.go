package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/clickhouse/chdbtest"
)

// These tests drive the clickhouse-go/v2 path end to end against a
// ClickHouse-protocol endpoint (chdbserver: ClickHouse's HTTP interface
// over the ClickHouse 26 engine) whose faults they control: group commit,
// retries of lost inserts, outages, refusals.

// ownServer starts a server for one test, so that its faults and outages
// touch nothing else.
func ownServer(t *testing.T) *chdbtest.Server {
	t.Helper()
	return chdbtest.Start(t)
}

func openOn(t *testing.T, s *chdbtest.Server, tune func(*Settings)) *Engine {
	t.Helper()
	set := Settings{DSN: s.DSN("default"), Database: "p", ProbeInterval: 50 * time.Millisecond, RetryBackoff: 20 * time.Millisecond}
	if tune != nil {
		tune(&set)
	}
	e, err := Open(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func span(n int) model.Span {
	return model.Span{TraceID: model.TraceID{1, byte(n >> 8), byte(n)}, SpanID: model.SpanID{2, byte(n >> 8), byte(n)},
		StartTime: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano() + int64(n)*1e6, DurationNs: 1e6,
		Name: "op", Kind: model.KindServer, Service: "svc"}
}

// rawCount counts stored rows of a table, duplicates included.
func rawCount(t *testing.T, e *Engine, table string) uint64 {
	t.Helper()
	var n uint64
	if err := e.conn.QueryRow(t.Context(), "SELECT count() FROM "+e.t(table)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGroupCommit: concurrent writes share inserts; each is acknowledged
// once ClickHouse holds it.
func TestGroupCommit(t *testing.T) {
	s := ownServer(t)
	var inserts atomic.Int64
	e := openOn(t, s, func(set *Settings) {
		set.record = func(q string) {
			if strings.HasPrefix(q, "INSERT INTO `p`.`spans`") {
				inserts.Add(1)
			}
		}
	})
	s.Delay(t, 30*time.Millisecond) // each statement takes a while: writes pile up
	defer s.Delay(t, 0)
	const writers = 40
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			b := model.Batch{Spans: []model.Span{span(i)}}
			if err := e.Write(context.Background(), &b); err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	s.Delay(t, 0)
	if n := rawCount(t, e, "spans"); n != writers {
		t.Fatalf("%d spans stored, want %d", n, writers)
	}
	st := e.WriteStats()
	t.Logf("%d writes in %d commits (%d span inserts)", writers, st.Commits, inserts.Load())
	if st.Commits >= writers/2 || inserts.Load() >= writers/2 {
		t.Errorf("%d writes took %d commits, %d inserts: no group commit", writers, st.Commits, inserts.Load())
	}
}

// TestLostInsertResponse: ClickHouse stored an insert but the answer was
// lost; the writer retries with the same deduplication token and the rows
// are stored once.
func TestLostInsertResponse(t *testing.T) {
	t.Run("single", func(t *testing.T) { testLostInsertResponse(t, nil) })
	// On a cluster the insert goes to the Distributed table, which must
	// hand the token on to the shard's local table.
	t.Run("cluster", func(t *testing.T) {
		testLostInsertResponse(t, func(set *Settings) { set.Cluster, set.noOnCluster = "ariadne", true })
	})
}

func testLostInsertResponse(t *testing.T, tune func(*Settings)) {
	s := ownServer(t)
	e := openOn(t, s, tune)
	s.FailAfter(t, 1, 210, "INSERT INTO `p`.`spans`")
	b := model.Batch{Spans: []model.Span{span(1), span(2), span(3)}}
	if err := e.Write(t.Context(), &b); err != nil {
		t.Fatalf("write with a lost response: %v", err)
	}
	if n := rawCount(t, e, "spans"); n != 3 {
		t.Fatalf("%d spans stored after a retried insert, want 3", n)
	}
	if st := s.Stats(t); st.Failed != 1 {
		t.Errorf("server stats %+v, want one failed statement", st)
	}
}

// TestRetriesExhausted: inserts keep failing; the write fails with
// ErrUnavailable (the ingest edge answers 503), nothing is acknowledged,
// and a later write succeeds once ClickHouse answers again.
func TestRetriesExhausted(t *testing.T) {
	s := ownServer(t)
	e := openOn(t, s, func(set *Settings) { set.InsertAttempts = 3 })
	s.FailNext(t, 3, 210, "INSERT INTO `p`.`trace_index`")
	b := model.Batch{Spans: []model.Span{span(1)}}
	err := e.Write(t.Context(), &b)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write while inserts fail: %v, want ErrUnavailable", err)
	}
	waitStatus(t, e, nil)
	if err := e.Write(t.Context(), &b); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
	if n := rawCount(t, e, "spans"); n != 1 {
		t.Fatalf("%d spans stored, want 1", n)
	}
}

// TestRefusedData: an insert ClickHouse refuses as malformed fails as
// invalid (400), not as unavailable, and is not retried.
func TestRefusedData(t *testing.T) {
	s := ownServer(t)
	e := openOn(t, s, nil)
	s.FailNext(t, 1, 53, "INSERT INTO `p`.`spans`") // TYPE_MISMATCH
	b := model.Batch{Spans: []model.Span{span(1)}}
	if err := e.Write(t.Context(), &b); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("refused insert: %v, want ErrInvalid", err)
	}
	if st := s.Stats(t); st.Failed != 1 {
		t.Errorf("refused insert retried: %+v", st)
	}
}

func waitStatus(t *testing.T, e *Engine, want error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := e.Status()
		if (want == nil) == (err == nil) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine status %v, want %v", err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOutage: while ClickHouse is unreachable, writes and reads fail fast
// with ErrUnavailable; once it is back the engine recovers on its own and
// the data written before is there.
func TestOutage(t *testing.T) {
	s := ownServer(t)
	e := openOn(t, s, nil)
	b := model.Batch{Spans: []model.Span{span(1)}}
	if err := e.Write(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	s.Down(t)
	b2 := model.Batch{Spans: []model.Span{span(2)}}
	start := time.Now()
	if err := e.Write(t.Context(), &b2); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write while down: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("write while down took %s", d)
	}
	waitStatus(t, e, store.ErrUnavailable)
	start = time.Now()
	if err := e.Write(t.Context(), &b2); !errors.Is(err, store.ErrUnavailable) || time.Since(start) > time.Second {
		t.Fatalf("write once known down: %v after %s, want ErrUnavailable at once", err, time.Since(start))
	}
	if _, err := e.Trace(t.Context(), b.Spans[0].TraceID); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("read while down: %v, want ErrUnavailable", err)
	}
	s.Up(t)
	waitStatus(t, e, nil)
	if err := e.Write(t.Context(), &b2); err != nil {
		t.Fatalf("write after the outage: %v", err)
	}
	for _, sp := range []model.Span{b.Spans[0], b2.Spans[0]} {
		if _, err := e.Trace(t.Context(), sp.TraceID); err != nil {
			t.Errorf("trace after the outage: %v", err)
		}
	}
}

// TestOpenWhileDown: a node starts while ClickHouse is down, answers
// ErrUnavailable, and creates the schema when ClickHouse comes up.
func TestOpenWhileDown(t *testing.T) {
	s := ownServer(t)
	s.Down(t)
	start := time.Now()
	e := openOn(t, s, nil)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Open while down took %s", d)
	}
	b := model.Batch{Spans: []model.Span{span(1)}}
	if err := e.Write(t.Context(), &b); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write before ClickHouse is up: %v", err)
	}
	if _, err := e.SearchTraces(t.Context(), store.TraceQuery{}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("search before ClickHouse is up: %v", err)
	}
	s.Up(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := e.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e, nil)
	if err := e.Write(t.Context(), &b); err != nil {
		t.Fatalf("write once up: %v", err)
	}
}

// TestBadConfiguration: what ClickHouse refuses for good fails Open.
func TestBadConfiguration(t *testing.T) {
	s := server(t)
	for _, set := range []Settings{
		{},
		{DSN: "http://%zz"},
		{DSN: s.DSN("default"), Replicated: true}, // replication needs a cluster
	} {
		if e, err := Open(t.Context(), set); err == nil {
			e.Close()
			t.Errorf("Open(%+v) succeeded", set)
		}
	}
	// A newer schema than this binary knows.
	db := dbName(t, "")
	e, err := Open(t.Context(), testSettings(t, db))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.conn.Exec(t.Context(), fmt.Sprintf("INSERT INTO %s (version, name, applied_at) VALUES (99, 'future', 0)", e.t("schema_migrations"))); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := Open(t.Context(), testSettings(t, db)); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	var ex *clickhouse.Exception
	_ = ex
}
