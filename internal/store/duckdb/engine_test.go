package duckdb

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/storetest"
)

// openAt returns an opener that gives each test its own directory and
// reopens the same directory when a test opens twice.
func openAt(tune func(*Settings)) func(t *testing.T) store.Store {
	var mu sync.Mutex
	dirs := map[string]string{}
	return func(t *testing.T) store.Store {
		t.Helper()
		mu.Lock()
		dir, ok := dirs[t.Name()]
		if !ok {
			dir = t.TempDir()
			dirs[t.Name()] = dir
		}
		mu.Unlock()
		s := Settings{Dir: dir, MemoryLimit: "512MB", Threads: 2}
		if tune != nil {
			tune(&s)
		}
		e, err := Open(context.Background(), s)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return e
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openAt(nil), storetest.WithQueueBound(func(t *testing.T, rows int) store.Store {
		return openAt(func(s *Settings) { s.QueueSpans = rows })(t)
	}))
}

// TestConformanceSmallWindows runs the suite with search windows of a few
// spans, so the test data sets cross many windows as a large store does.
func TestConformanceSmallWindows(t *testing.T) {
	open := openAt(nil)
	storetest.Run(t, func(t *testing.T) store.Store {
		e := open(t).(*Engine)
		e.windowSpans = 3
		return e
	})
}

// TestSchemaMatchesSpecs keeps the column specs of schema.go and the DDL of
// migrations/ in step (Open checks them), and shows that drift fails Open.
func TestSchemaMatchesSpecs(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(t.Context(), Settings{Dir: dir, MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatalf("Open of a fresh store: %v", err)
	}
	if _, err := e.db.ExecContext(t.Context(), "ALTER TABLE logs ADD COLUMN surprise VARCHAR"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := Open(t.Context(), Settings{Dir: dir, MemoryLimit: "256MB", Threads: 1}); !errors.Is(err, ErrSchemaMismatch) {
		t.Fatalf("Open of a drifted store = %v, want ErrSchemaMismatch", err)
	}
}

func TestMigrations(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Engine, error) {
		return Open(t.Context(), Settings{Dir: dir, MemoryLimit: "256MB", Threads: 1})
	}
	e, err := open()
	if err != nil {
		t.Fatal(err)
	}
	versions := func(e *Engine) int {
		var n int
		if err := e.db.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(e); got != len(ms) {
		t.Fatalf("%d migrations recorded, want %d", got, len(ms))
	}
	e.Close()

	// Reopening applies nothing.
	e, err = open()
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(e); got != len(ms) {
		t.Fatalf("after reopen %d migrations recorded, want %d", got, len(ms))
	}
	// A newer binary migrated this database further.
	if _, err := e.db.ExecContext(t.Context(), "INSERT INTO schema_migrations VALUES (?, 'from_the_future.sql', 0)", len(ms)+1); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := open(); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

// TestSettingsApplied: the settings the spike found necessary reach DuckDB.
func TestSettingsApplied(t *testing.T) {
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "300MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tc := range []struct{ q, want string }{
		{"SELECT current_setting('threads')::VARCHAR", "1"},
		{"SELECT current_setting('wal_autocheckpoint')::VARCHAR", "61.0 MiB"},
		{"SELECT current_setting('memory_limit')::VARCHAR", "286.1 MiB"},
		{"SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'ariadne'", "v1.5.0+"},
	} {
		var got string
		if err := e.db.QueryRowContext(t.Context(), tc.q).Scan(&got); err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.q, got, tc.want)
		}
	}
}
