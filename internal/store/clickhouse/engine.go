// Package clickhouse is Ariadne's scale-out storage engine: the model of the
// embedded engine (internal/store/duckdb) stored in ClickHouse, on one
// server or a cluster, through github.com/ClickHouse/clickhouse-go/v2 (its
// native TCP protocol or its HTTP protocol, as the DSN says).
//
// Every node is stateless: telemetry lives in MergeTree tables and what
// nodes share and update (issues, detector watermarks, alert deliveries,
// contracts) in KeeperMap tables, whose strict mode turns updates into
// compare-and-sets. Writes are group-committed like the embedded engine's
// and acknowledged only once ClickHouse accepted every insert; while
// ClickHouse is unreachable the engine answers store.ErrUnavailable at
// once, and Open succeeds anyway and creates the schema when ClickHouse
// comes up.
//
// It owns its DDL (package ddl); the statements it runs come from the
// query builder both engines share (internal/store/stmt), rendered in
// ClickHouse's dialect, apart from its own bookkeeping (schema checks,
// retention TTL, the rollup job's state). It must not import ingest, api
// or anything above the store.
package clickhouse

import (
	"context"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/clickhouse/ddl"
)

// Settings configure an Engine. Zero values mean the defaults.
type Settings struct {
	// DSN reaches ClickHouse: clickhouse://user:pass@host:9000/db (native
	// protocol) or http://host:8123/db (HTTP); several hosts separated by
	// commas. Required.
	DSN string
	// Database overrides the DSN's database; default "ariadne".
	Database string
	// Cluster, when set, deploys the schema on that cluster of
	// remote_servers: Distributed tables over local ones, DDL ON CLUSTER.
	Cluster string
	// Replicated makes the cluster's local tables Replicated* (the usual
	// deployment); without it the cluster only shards.
	Replicated bool
	// RetentionDays is the TTL of the telemetry tables; 0: none (data goes
	// by DeleteBefore only).
	RetentionDays int
	// KeeperPrefix is the Keeper path of the KeeperMap tables under the
	// server's keeper_map_path_prefix; default /ariadne/<database>.
	KeeperPrefix string
	// QueueRows bounds rows accepted but not yet committed; a Write that
	// would exceed it fails at once with store.ErrOverloaded, and one larger
	// than the whole bound is taken alone, when nothing else is queued
	// (shared.Committer).
	QueueRows int
	// MaxBatchRows caps the rows of one commit.
	MaxBatchRows int
	// InsertAttempts is how often a commit's insert is tried before the
	// commit fails with store.ErrUnavailable (retries reuse the insert's
	// deduplication token, so a retried insert that had landed is not
	// stored twice).
	InsertAttempts int
	// RetryBackoff is the first pause between attempts; it doubles.
	RetryBackoff time.Duration
	// ProbeInterval is how often an unreachable ClickHouse is probed
	// (schema creation at start, recovery after an outage).
	ProbeInterval time.Duration
	// Logger receives the engine's log lines; nil discards them.
	Logger *slog.Logger
	// OnCommit, when set, is called after every commit attempt.
	OnCommit func(store.CommitInfo)
	// Rollups tune the service map rollups (servicemap_rollup.go).
	Rollups RollupSettings

	// noOnCluster renders cluster DDL without ON CLUSTER (tests on chDB,
	// which runs no distributed DDL).
	noOnCluster bool
	// record, when set, sees every statement before it runs (golden tests).
	record func(stmt string)
}

// Defaults for Settings.
const (
	DefaultDatabase       = "ariadne"
	DefaultQueueRows      = 200_000
	DefaultMaxBatchRows   = 50_000
	DefaultInsertAttempts = 3
	DefaultRetryBackoff   = 100 * time.Millisecond
	DefaultProbeInterval  = time.Second
)

func (s Settings) withDefaults() Settings {
	if s.QueueRows <= 0 {
		s.QueueRows = DefaultQueueRows
	}
	if s.MaxBatchRows <= 0 {
		s.MaxBatchRows = DefaultMaxBatchRows
	}
	if s.InsertAttempts <= 0 {
		s.InsertAttempts = DefaultInsertAttempts
	}
	if s.RetryBackoff <= 0 {
		s.RetryBackoff = DefaultRetryBackoff
	}
	if s.ProbeInterval <= 0 {
		s.ProbeInterval = DefaultProbeInterval
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.Rollups = s.Rollups.withDefaults()
	return s
}

// Engine is the ClickHouse store. Create it with Open; safe for concurrent use.
type Engine struct {
	set    Settings
	layout ddl.Layout
	opts   *clickhouse.Options
	conn   driver.Conn
	sch    *schema
	w      *writer
	roll   *rollupJob

	// ready is set once the schema is in place; down while ClickHouse is
	// found unreachable (writes then fail at once).
	ready     atomic.Bool
	down      atomic.Bool
	lastErr   atomic.Pointer[error]
	readyCh   chan struct{}
	stop      chan struct{}
	bg        sync.WaitGroup
	probeMu   sync.Mutex
	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Store            = (*Engine)(nil)
	_ store.MessageRefReader = (*Engine)(nil)
	_ store.StatsReporter    = (*Engine)(nil)
)

// Open connects to ClickHouse, creates or migrates the schema and starts
// the writer. When ClickHouse cannot be reached, Open still returns the
// engine: it answers store.ErrUnavailable until a background probe has
// reached ClickHouse and created the schema. Configuration mistakes (a bad
// DSN, a schema ClickHouse refuses) fail Open.
func Open(ctx context.Context, s Settings) (*Engine, error) {
	if s.DSN == "" {
		return nil, fmt.Errorf("open ClickHouse store: no DSN: %w", store.ErrInvalid)
	}
	s = s.withDefaults()
	opts, err := clickhouse.ParseDSN(s.DSN)
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse store: %w: %w", store.ErrInvalid, err)
	}
	db := s.Database
	if db == "" {
		db = opts.Auth.Database
	}
	if db == "" || db == "default" {
		db = DefaultDatabase
	}
	e := &Engine{
		set: s,
		layout: ddl.Layout{Database: db, Cluster: s.Cluster, Replicated: s.Replicated, TTLDays: s.RetentionDays,
			KeeperPrefix: s.KeeperPrefix, NoOnCluster: s.noOnCluster},
		readyCh: make(chan struct{}),
		stop:    make(chan struct{}),
		sch:     newSchema(),
	}
	if _, err := e.layout.Statements(); err != nil {
		return nil, fmt.Errorf("open ClickHouse store: %w: %w", store.ErrInvalid, err)
	}
	opts.Auth.Database = db
	if opts.Settings == nil {
		opts.Settings = clickhouse.Settings{}
	}
	if s.Cluster != "" {
		// IN and JOIN over Distributed tables send the subquery's result
		// to the shards; inserts return once the shards hold the rows.
		opts.Settings["distributed_product_mode"] = "global"
		opts.Settings["distributed_foreground_insert"] = 1
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 16
	}
	e.opts = opts
	e.conn, err = clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse store: %w: %w", store.ErrInvalid, err)
	}
	if s.record != nil {
		e.conn = &recConn{Conn: e.conn, rec: s.record}
	}
	e.w = newWriter(e)
	go e.w.run()

	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = e.initSchema(ictx)
	cancel()
	switch {
	case err == nil:
	case isUnreachable(err):
		s.Logger.Warn("ClickHouse unreachable; serving 503 until it is", "err", err)
		e.setDown(err)
	default:
		e.Close()
		return nil, fmt.Errorf("open ClickHouse store: %w", err)
	}
	e.bg.Add(1)
	go e.probeLoop()
	e.roll = startRollups(e)
	return e, nil
}

// initSchema creates the database and migrates the schema through a
// connection without a database (the database may not exist yet).
func (e *Engine) initSchema(ctx context.Context) error {
	e.probeMu.Lock()
	defer e.probeMu.Unlock()
	if e.ready.Load() {
		return nil
	}
	o := *e.opts
	o.Auth.Database = ""
	var admin driver.Conn
	admin, err := clickhouse.Open(&o)
	if err != nil {
		return err
	}
	defer admin.Close()
	if e.set.record != nil {
		admin = &recConn{Conn: admin, rec: e.set.record}
	}
	if err := migrate(ctx, admin, e.layout, e.set.Logger); err != nil {
		return err
	}
	if err := syncRetention(ctx, admin, e.layout, e.set.Logger); err != nil {
		return err
	}
	e.ready.Store(true)
	e.down.Store(false)
	close(e.readyCh)
	e.set.Logger.Info("ClickHouse store ready", "database", e.layout.Database, "cluster", e.layout.Cluster)
	return nil
}

// probeLoop brings the engine up (schema) and back (after an outage).
func (e *Engine) probeLoop() {
	defer e.bg.Done()
	t := time.NewTicker(e.set.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		if !e.ready.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := e.initSchema(ctx)
			cancel()
			if err != nil {
				e.setDown(err)
				if !isUnreachable(err) {
					e.set.Logger.Error("ClickHouse schema creation failed; retrying", "err", err)
				}
			}
			continue
		}
		if e.down.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := e.conn.Ping(ctx)
			cancel()
			if err == nil {
				e.down.Store(false)
				e.set.Logger.Info("ClickHouse reachable again")
			}
		}
	}
}

func (e *Engine) setDown(err error) {
	e.lastErr.Store(&err)
	if !e.down.Swap(true) {
		e.set.Logger.Warn("ClickHouse unreachable", "err", err)
	}
}

// Status is nil while the engine can serve: schema in place and ClickHouse
// reachable at the last attempt.
func (e *Engine) Status() error {
	if e.ready.Load() && !e.down.Load() {
		return nil
	}
	msg := "ClickHouse not reached yet"
	if p := e.lastErr.Load(); p != nil {
		msg = (*p).Error()
	}
	return fmt.Errorf("%w: %s", store.ErrUnavailable, msg)
}

// WaitReady blocks until the schema is in place or ctx ends.
func (e *Engine) WaitReady(ctx context.Context) error {
	select {
	case <-e.readyCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for ClickHouse: %w: %w", store.ErrUnavailable, ctx.Err())
	}
}

// Database is the database holding the tables.
func (e *Engine) Database() string { return e.layout.Database }

// Close stops accepting writes, commits every accepted write (or fails it
// with store.ErrUnavailable when ClickHouse is gone) and closes the
// connections. Idempotent.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		close(e.stop)
		if e.roll != nil {
			e.roll.close()
		}
		errW := e.w.close()
		e.bg.Wait()
		errC := e.conn.Close()
		e.closeErr = errors.Join(errW, errC)
		if e.closeErr != nil {
			e.closeErr = fmt.Errorf("close ClickHouse store: %w", e.closeErr)
		}
	})
	return e.closeErr
}

// WriteStats returns a snapshot of the write path.
func (e *Engine) WriteStats() store.WriteStats { return e.w.stats() }

// t is the name of table name in queries.
func (e *Engine) t(name string) string { return e.layout.Table(name) }

// readable says whether reads can go to ClickHouse.
func (e *Engine) readable(op string) error {
	if !e.ready.Load() {
		return fmt.Errorf("%s: %w", op, e.Status())
	}
	return nil
}

// isUnreachable reports errors that say ClickHouse (or the way to it) is
// not there, as opposed to a statement it refused.
func isUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return retryableCode(ex.Code)
	}
	var he *clickhouse.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, sqldriver.ErrBadConn) ||
		errors.Is(err, clickhouse.ErrAcquireConnTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "no such host")
}

// retryableCode lists the exceptions a later attempt may not meet: the
// server or Keeper busy, unreachable or restarting.
func retryableCode(code int32) bool {
	switch code {
	case 3, // UNEXPECTED_END_OF_FILE
		159,  // TIMEOUT_EXCEEDED
		164,  // READONLY
		202,  // TOO_MANY_SIMULTANEOUS_QUERIES
		203,  // NO_FREE_CONNECTION
		209,  // SOCKET_TIMEOUT
		210,  // NETWORK_ERROR
		225,  // NO_ZOOKEEPER
		242,  // TABLE_IS_READ_ONLY
		252,  // TOO_MANY_PARTS
		279,  // ALL_CONNECTION_TRIES_FAILED
		285,  // TOO_FEW_LIVE_REPLICAS
		319,  // UNKNOWN_STATUS_OF_INSERT
		394,  // QUERY_WAS_CANCELLED
		425,  // SYSTEM_ERROR
		999,  // KEEPER_EXCEPTION
		1000: // POCO_EXCEPTION
		return true
	}
	return false
}

// fail classifies an error of a read (or of a write outside the writer):
// unreachable → store.ErrUnavailable (and the engine is marked down),
// cancellation as is, anything else as an internal failure that is still
// reported as unavailable so the API answers 503 rather than a wrong 400.
func (e *Engine) fail(op string, err error) error {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) ||
		errors.Is(err, store.ErrUnavailable):
		return fmt.Errorf("%s: %w", op, err)
	case isUnreachable(err):
		e.setDown(err)
	}
	return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
}
