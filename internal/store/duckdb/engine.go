// Package duckdb is Ariadne's embedded storage engine: one DuckDB file in
// the data directory holding spans, logs, invocations and message refs,
// written by a single group-committing writer and read through a pool of
// connections (DuckDB's MVCC keeps readers off the writer's back).
//
// It owns the DuckDB schema, its migrations and all DuckDB-specific SQL.
// It must stay the only package that imports DuckDB (a large cgo library),
// and it must not import ingest, api or anything above the store.
package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/ariadnehq/ariadne/internal/store"
)

// FileName is the database file inside Settings.Dir.
const FileName = "ariadne.duckdb"

// Settings configure an Engine. The zero value of every field but Dir
// means "use the default" (see Default*).
type Settings struct {
	// Dir is the data directory; created if missing.
	Dir string
	// MemoryLimit is DuckDB's memory_limit, e.g. "2GB".
	MemoryLimit string
	// Threads is DuckDB's thread count; default one less than the cores,
	// at least one (defaultThreads).
	Threads int
	// QueueSpans bounds the rows (spans, logs, invocations, refs) accepted
	// but not yet committed. A Write that would exceed it fails at once with
	// store.ErrOverloaded; one larger than the whole bound is taken alone,
	// when nothing else is queued (shared.Committer). Size it to hold about a second of ingest or more:
	// every automatic checkpoint stalls commits for 0.3–0.5 s.
	QueueSpans int
	// MaxBatchRows caps the rows of one commit; more queued rows wait for
	// the next commit.
	MaxBatchRows int
	// WALAutocheckpoint is DuckDB's wal_autocheckpoint; 64MB halves ingest
	// CPU against the 16MB default (spike).
	WALAutocheckpoint string
	// Logger receives the engine's own log lines; nil discards them.
	Logger *slog.Logger
	// OnCommit, when set, is called by the writer after every commit
	// attempt, for metrics. It must be quick and must not call the engine.
	OnCommit func(store.CommitInfo)
	// Rollups tune the service map's rollup job (servicemap_rollup.go).
	Rollups RollupSettings
}

// Defaults for Settings.
const (
	DefaultMemoryLimit       = "2GB"
	DefaultQueueSpans        = 200_000
	DefaultMaxBatchRows      = 20_000
	DefaultWALAutocheckpoint = "64MB"
)

func (s Settings) withDefaults() Settings {
	if s.MemoryLimit == "" {
		s.MemoryLimit = DefaultMemoryLimit
	}
	if s.Threads <= 0 {
		s.Threads = defaultThreads(runtime.NumCPU())
	}
	if s.QueueSpans <= 0 {
		s.QueueSpans = DefaultQueueSpans
	}
	if s.MaxBatchRows <= 0 {
		s.MaxBatchRows = DefaultMaxBatchRows
	}
	if s.WALAutocheckpoint == "" {
		s.WALAutocheckpoint = DefaultWALAutocheckpoint
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.Rollups = s.Rollups.withDefaults()
	return s
}

// defaultThreads leaves one core to the thread that runs each statement:
// while DuckDB's workers run the last tasks of a statement (a commit's
// checkpoint, a scan), the calling thread busy-waits for them. With as many
// threads as cores that wait took 17% of the server's CPU during ingest on 2
// cores (profile); with one thread the caller does the work itself, and a
// commit costs 15% less CPU. Reads still run concurrently, one per
// connection.
func defaultThreads(cores int) int { return max(1, cores-1) }

// Engine is the DuckDB store. Create it with Open; it is safe for
// concurrent use.
type Engine struct {
	set    Settings
	schema *schema
	db     *sql.DB
	w      *writer
	bounds spanBounds
	roll   *rollupJob
	af     *attrFilters // the minutes whose attribute filters the writer fills
	// windowSpans sizes the first search window (windowSpans const); tests
	// shrink it so that small data sets exercise the window logic.
	windowSpans int64

	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Store            = (*Engine)(nil)
	_ store.MessageRefReader = (*Engine)(nil)
	_ store.StatsReporter    = (*Engine)(nil)
)

// Open opens (creating if needed) the store in s.Dir, migrates its schema
// and starts the writer.
func Open(ctx context.Context, s Settings) (*Engine, error) {
	if s.Dir == "" {
		return nil, fmt.Errorf("open store: no data directory: %w", store.ErrInvalid)
	}
	s = s.withDefaults()
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path := filepath.Join(s.Dir, FileName)
	// storage_compatibility_version=v1.5.0 selects DICT_FSST string
	// compression: 4-5x faster attribute and text search (spike).
	dsn := fmt.Sprintf("%s?storage_compatibility_version=v1.5.0&memory_limit=%s&threads=%d&wal_autocheckpoint=%s",
		path, s.MemoryLimit, s.Threads, s.WALAutocheckpoint)
	conn, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := sql.OpenDB(conn)
	e := &Engine{set: s, schema: newSchema(), db: db, windowSpans: windowSpans, af: newAttrFilters()}
	if err := migrate(ctx, db, s.Logger); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := checkSchema(ctx, db, e.schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w, err := newWriter(ctx, e)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	e.w = w
	go w.run()
	e.roll = startRollups(e)
	s.Logger.Info("store opened", "path", path, "memory_limit", s.MemoryLimit, "threads", s.Threads)
	return e, nil
}

// Close stops accepting writes (they fail with store.ErrUnavailable),
// commits every write already accepted, checkpoints so the next open
// replays no WAL, and closes the database. Idempotent.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.roll.close()
		errW := e.w.close()
		_, errC := e.db.ExecContext(context.Background(), "CHECKPOINT")
		if errC != nil {
			errC = fmt.Errorf("checkpoint: %w", errC)
		}
		errD := e.db.Close()
		e.closeErr = errors.Join(errW, errC, errD)
		if e.closeErr != nil {
			e.closeErr = fmt.Errorf("close store: %w", e.closeErr)
		}
	})
	return e.closeErr
}

// WriteStats returns a snapshot of the write path.
func (e *Engine) WriteStats() store.WriteStats { return e.w.stats() }

// Checkpoint folds the WAL into the database file. Benchmarks use it to
// measure the settled file size; the engine itself relies on DuckDB's
// automatic checkpoints and the one in Close.
func (e *Engine) Checkpoint(ctx context.Context) error {
	if _, err := e.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// unavailable wraps a database failure of a read so the API answers 503.
func unavailable(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
}
