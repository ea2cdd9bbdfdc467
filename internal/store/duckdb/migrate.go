package duckdb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew: the database was written by a newer Ariadne whose
// schema this binary does not know. Opening it could corrupt it.
var ErrSchemaTooNew = errors.New("database schema is newer than this ariadne")

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded NNNN_name.sql files in version order.
func migrations() ([]migration, error) {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("read migrations: bad file name %q, want NNNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("read migrations: %s: want version %d", m.name, i+1)
		}
	}
	return out, nil
}

// migrate brings the schema to the newest embedded version. Each migration
// runs in its own transaction together with its schema_migrations row, so a
// crash leaves the database at a whole version.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var cur sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	have := int(cur.Int64)
	if have > len(ms) {
		return fmt.Errorf("schema version %d, this binary knows up to %d; upgrade ariadne: %w", have, len(ms), ErrSchemaTooNew)
	}
	for _, m := range ms[have:] {
		if err := apply(ctx, db, m); err != nil {
			return err
		}
		log.Info("store schema migrated", "version", m.version, "name", m.name)
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	return nil
}

// ErrSchemaMismatch: the tables differ from what this binary writes, as
// when a data directory was created by a development build whose first
// migration has since changed. Writing would fail on every commit.
var ErrSchemaMismatch = errors.New("database tables differ from this ariadne's schema")

// checkSchema compares each table with its column spec (names, order,
// types), so drift fails Open with a clear message instead of every commit.
func checkSchema(ctx context.Context, db *sql.DB, s *schema) error {
	for _, t := range []struct {
		name string
		cols []string // "name TYPE"
	}{
		{s.spans.name, specCols(s.spans.cols)},
		{s.logs.name, specCols(s.logs.cols)},
		{s.invocations.name, specCols(s.invocations.cols)},
		{s.refs.name, specCols(s.refs.cols)},
		{s.index.name, specCols(s.index.cols)},
	} {
		rs, err := db.QueryContext(ctx,
			"SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", t.name)
		if err != nil {
			return fmt.Errorf("read columns of %s: %w", t.name, err)
		}
		var got []string
		for rs.Next() {
			var c string
			if err := rs.Scan(&c); err != nil {
				rs.Close()
				return fmt.Errorf("read columns of %s: %w", t.name, err)
			}
			got = append(got, c)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("read columns of %s: %w", t.name, err)
		}
		if !slices.Equal(got, t.cols) {
			return fmt.Errorf("table %s has columns (%s), want (%s); move the data directory away: %w",
				t.name, strings.Join(got, ", "), strings.Join(t.cols, ", "), ErrSchemaMismatch)
		}
	}
	return nil
}

func specCols[T any](cs []column[T]) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name + " " + c.typ
	}
	return out
}
