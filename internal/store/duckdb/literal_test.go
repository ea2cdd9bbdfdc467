package duckdb

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/store/stmt"
	"github.com/ariadnehq/ariadne/internal/store/stmt/stmttest"
)

// TestLiteralsOnDuckDB runs the dialect's literals through a real DuckDB
// file.
func TestLiteralsOnDuckDB(t *testing.T) {
	e := openAt(nil)(t).(*Engine)
	defer e.Close()
	stmttest.CheckLiterals(t, stmt.DuckDB(), func(q string) (string, error) {
		var s string
		err := e.db.QueryRowContext(t.Context(), q).Scan(&s)
		return s, err
	})
}
