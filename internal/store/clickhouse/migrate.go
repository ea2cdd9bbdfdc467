package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ariadnehq/ariadne/internal/store/clickhouse/ddl"
)

// ErrSchemaTooNew: the database was migrated by a newer Ariadne.
var ErrSchemaTooNew = errors.New("ClickHouse schema is newer than this ariadne")

// ErrSchemaMismatch: a table's columns differ from what this binary writes.
var ErrSchemaMismatch = errors.New("ClickHouse schema does not match this ariadne")

// migrate brings the schema to the newest version. Every statement is
// idempotent (IF NOT EXISTS), so nodes starting together may all run them;
// the versions applied are recorded in schema_migrations (KeeperMap).
func migrate(ctx context.Context, conn driver.Conn, l ddl.Layout, log *slog.Logger) error {
	stmts, err := l.Statements()
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if s.Version != 0 {
			break
		}
		if err := conn.Exec(ctx, s.SQL); err != nil {
			return keeperHint(fmt.Errorf("create %s: %w", l.Database, err))
		}
	}
	var have uint32
	if err := conn.QueryRow(ctx, "SELECT max(version) FROM "+l.Table("schema_migrations")).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if int(have) > ddl.Versions() {
		return fmt.Errorf("schema version %d, this binary knows up to %d; upgrade ariadne: %w", have, ddl.Versions(), ErrSchemaTooNew)
	}
	for v := int(have) + 1; v <= ddl.Versions(); v++ {
		name := ""
		for _, s := range stmts {
			if s.Version != v {
				continue
			}
			name = s.File
			if err := conn.Exec(ctx, s.SQL); err != nil {
				return keeperHint(fmt.Errorf("migrate to version %d (%s): %w", v, s.File, err))
			}
		}
		if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s (version, name, applied_at) VALUES (%d, %s, %d)",
			l.Table("schema_migrations"), v, sqlStr(name), time.Now().UnixNano())); err != nil {
			return fmt.Errorf("record schema version %d: %w", v, err)
		}
		log.Info("ClickHouse schema migrated", "version", v, "file", name)
	}
	return checkSchema(ctx, conn, l)
}

// keeperHint explains the usual reason a KeeperMap table cannot be created.
func keeperHint(err error) error {
	if m := err.Error(); strings.Contains(m, "keeper_map_path_prefix") || strings.Contains(m, "NO_ZOOKEEPER") || strings.Contains(m, "ZooKeeper") {
		return fmt.Errorf("%w (Ariadne keeps shared state in KeeperMap tables: configure ClickHouse Keeper and keeper_map_path_prefix, see docs/operations.md)", err)
	}
	return err
}

// checkSchema compares the telemetry tables' columns with the specs the
// writer and the readers use.
func checkSchema(ctx context.Context, conn driver.Conn, l ddl.Layout) error {
	sch := newSchema()
	type spec struct {
		table string
		cols  []struct{ name, typ string }
	}
	for _, sp := range []spec{
		{sch.spans.name, pairs(&sch.spans)},
		{sch.logs.name, pairs(&sch.logs)},
		{sch.invocations.name, pairs(&sch.invocations)},
		{sch.refs.name, pairs(&sch.refs)},
		{sch.index.name, pairs(&sch.index)},
	} {
		table, cols := sp.table, sp.cols
		rows, err := conn.Query(ctx, fmt.Sprintf("SELECT name, type FROM system.columns WHERE database = %s AND table = %s AND default_kind != 'ALIAS' ORDER BY position",
			sqlStr(l.Database), sqlStr(table)))
		if err != nil {
			return fmt.Errorf("read columns of %s: %w", table, err)
		}
		var got []struct{ name, typ string }
		for rows.Next() {
			var n, t string
			if err := rows.Scan(&n, &t); err != nil {
				rows.Close()
				return err
			}
			got = append(got, struct{ name, typ string }{n, t})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if fmt.Sprint(got) != fmt.Sprint(cols) {
			return fmt.Errorf("table %s has columns %v, this binary writes %v: %w", table, got, cols, ErrSchemaMismatch)
		}
	}
	return nil
}

func pairs[R any](t *table[R]) []struct{ name, typ string } {
	out := make([]struct{ name, typ string }, len(t.cols))
	for i, c := range t.cols {
		out[i] = struct{ name, typ string }{c.name, c.typ}
	}
	return out
}
