package clickhouse

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/store/stmt"
	"github.com/ariadnehq/ariadne/internal/store/stmt/stmttest"
)

// TestLiteralsOnClickHouse runs the dialect's literals through the real
// ClickHouse engine (chDB).
func TestLiteralsOnClickHouse(t *testing.T) {
	e := openAt(nil)(t).(*Engine)
	defer e.Close()
	stmttest.CheckLiterals(t, stmt.ClickHouse(e.t), func(q string) (string, error) {
		var s string
		err := e.conn.QueryRow(t.Context(), q).Scan(&s)
		return s, err
	})
}
