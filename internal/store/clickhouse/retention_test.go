package clickhouse

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/clickhouse/ddl"
)

// A node started with another retention changes the tables' TTL, and a
// shortened retention drops what it no longer covers.
func TestRetentionFollowsTheSetting(t *testing.T) {
	db := dbName(t, "ret")
	open := func(days int) *Engine {
		t.Helper()
		s := testSettings(t, db)
		s.RetentionDays = days
		e, err := Open(context.Background(), s)
		if err != nil {
			t.Fatalf("Open with %d days: %v", days, err)
		}
		if err := e.Status(); err != nil {
			t.Fatalf("Open with %d days: not ready: %v", days, err)
		}
		return e
	}
	ttlDays := func(e *Engine) map[string]int {
		t.Helper()
		got := map[string]int{}
		err := e.each(t.Context(), "SELECT name, engine_full FROM system.tables WHERE database = "+sqlStr(db), func(scan func(...any) error) error {
			var name, engine string
			if err := scan(&name, &engine); err != nil {
				return err
			}
			d, ok := ddl.TTLDaysOf(engine)
			if !ok {
				t.Errorf("table %s: unreadable TTL in %q", name, engine)
			}
			got[name] = d
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	tables, err := (ddl.Layout{Database: db}).TTLTables()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 5 {
		t.Fatalf("TTLTables = %v, want the telemetry tables", tables)
	}
	check := func(e *Engine, want int) {
		t.Helper()
		got := ttlDays(e)
		for _, tb := range tables {
			if got[tb.Name] != want {
				t.Errorf("table %s: TTL %d days, want %d", tb.Name, got[tb.Name], want)
			}
		}
	}

	// Five days old: kept without retention and with 7 days, dropped
	// when retention becomes 3 days.
	old := time.Now().Add(-5 * 24 * time.Hour).UnixNano()
	id := model.TraceID{0xee, 1}
	e := open(0)
	check(e, 0)
	if err := e.Write(t.Context(), &model.Batch{Spans: []model.Span{{TraceID: id, SpanID: model.SpanID{1}, StartTime: old,
		DurationNs: 1e6, Name: "old", Service: "svc", Kind: model.KindServer}}}); err != nil {
		t.Fatal(err)
	}
	e.Close()

	e = open(7)
	check(e, 7)
	if tr, err := e.Trace(t.Context(), id); err != nil || len(tr.Spans) != 1 {
		t.Fatalf("with 7 days' retention the 5-day-old span should stay: %v, %v", tr, err)
	}
	e.Close()

	e = open(3)
	check(e, 3)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := e.Trace(t.Context(), id); errors.Is(err, store.ErrNotFound) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("with 3 days' retention the 5-day-old span is still there after 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.Close()

	e = open(0)
	defer e.Close()
	check(e, 0)
}

func TestTTLDaysOf(t *testing.T) {
	for _, c := range []struct {
		engine string
		days   int
		ok     bool
	}{
		{"MergeTree PARTITION BY x ORDER BY y SETTINGS index_granularity = 8192", 0, true},
		{"MergeTree ORDER BY y TTL toDateTime(intDiv(start_time, 1000000000)) + toIntervalDay(14) SETTINGS a = 1", 14, true},
		{"MergeTree ORDER BY y TTL toDateTime(t) + toIntervalMonth(1)", 0, false},
	} {
		days, ok := ddl.TTLDaysOf(c.engine)
		if days != c.days || ok != c.ok {
			t.Errorf("TTLDaysOf(%q) = %d, %v; want %d, %v", c.engine, days, ok, c.days, c.ok)
		}
	}
}
