package clickhouse

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ariadnehq/ariadne/internal/store/clickhouse/ddl"
)

// syncRetention gives every telemetry table the configured retention.
// Tables take their TTL when they are created; a node started later with
// another --retention changes it here, so that the setting, not the first
// node's, is what holds. Every node may run it: the ALTER is idempotent,
// and a node whose tables already agree sends none.
func syncRetention(ctx context.Context, conn driver.Conn, l ddl.Layout, log *slog.Logger) error {
	tables, err := l.TTLTables()
	if err != nil {
		return err
	}
	have := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT name, engine_full FROM system.tables WHERE database = "+sqlStr(l.Database))
	if err != nil {
		return fmt.Errorf("read retention: %w", err)
	}
	for rows.Next() {
		var name, engine string
		if err := rows.Scan(&name, &engine); err != nil {
			rows.Close()
			return fmt.Errorf("read retention: %w", err)
		}
		have[name] = engine
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read retention: %w", err)
	}
	for _, t := range tables {
		engine, ok := have[t.Name]
		if !ok {
			return fmt.Errorf("read retention: table %s.%s is missing", l.Database, t.Name)
		}
		days, known := ddl.TTLDaysOf(engine)
		if known && days == l.TTLDays {
			continue
		}
		if !known {
			// A TTL set by hand: the setting still decides, but say so.
			log.Warn("ClickHouse table has a TTL Ariadne did not write; replacing it with the retention setting",
				"table", t.Name, "engine", engine)
		}
		if err := conn.Exec(ctx, l.ModifyTTL(t)); err != nil {
			return fmt.Errorf("set retention of %s to %d days: %w", t.Name, l.TTLDays, err)
		}
		log.Info("ClickHouse retention changed", "table", t.Name, "from_days", days, "to_days", l.TTLDays)
	}
	return nil
}
