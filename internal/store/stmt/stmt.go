// Package stmt is the one query builder of both storage engines. Every
// statement the product runs against its data (search, trace, transactions,
// detectors, map, RED, cost, the views) is written here once and rendered
// for a Dialect: DuckDB's (internal/store/duckdb) or ClickHouse's
// (internal/store/clickhouse).
//
// It owns SQL text and the constants its statements and their readers
// must share (the service map's minute and histogram resolution, whose
// Go side is package rollup): it opens no connection, scans no row, holds
// no state and keeps no logic of reading results. Where the two engines
// need a different plan for the same answer (DuckDB's attribute filter
// ranges, ClickHouse's deduplicating counts), the difference is written
// here too, next to the shared text, so that a change to a query is one
// change.
//
// User text is rendered as an escaped literal in both dialects, never
// spliced: Str, Strs and Like are the only ways a string enters a
// statement. Numbers are formatted in.
package stmt

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// Dialect is the engine a statement is rendered for, and where its tables
// are.
type Dialect struct {
	ch    bool
	table func(string) string
}

// DuckDB is the embedded engine's dialect; its tables are unqualified.
func DuckDB() Dialect { return Dialect{} }

// ClickHouse is the scale-out engine's dialect; table qualifies a table
// name (database, and the Distributed table of a cluster).
func ClickHouse(table func(string) string) Dialect {
	return Dialect{ch: true, table: table}
}

// Table is the name a statement uses for table t.
func (d Dialect) Table(t string) string {
	if d.table == nil {
		return t
	}
	return d.table(t)
}

// Str is s as a string literal. Invalid UTF-8 is replaced, as it is at
// ingest; NUL, which would end the statement at a C API, is escaped.
func (d Dialect) Str(s string) string {
	s = shared.ValidUTF8(s)
	if d.ch {
		return "'" + chEscaper.Replace(s) + "'"
	}
	// DuckDB literals know no backslash escapes: a quote is doubled and
	// a NUL is concatenated in.
	s = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.IndexByte(s, 0) >= 0 {
		s = "(" + strings.ReplaceAll(s, "\x00", "' || chr(0) || '") + ")"
	}
	return s
}

var chEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`)

// Strs is ss as a comma-separated list of literals.
func (d Dialect) Strs(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = d.Str(s)
	}
	return strings.Join(out, ", ")
}

// Int is n formatted in.
func Int(n int64) string { return strconv.FormatInt(n, 10) }

// Trace is the literal of a trace_id value: a UUID in DuckDB, 16 bytes in
// ClickHouse.
func (d Dialect) Trace(id model.TraceID) string {
	h := hex.EncodeToString(id[:])
	if d.ch {
		return "unhex('" + h + "')"
	}
	return "'" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + "'::UUID"
}

// Traces is ids as a comma-separated list of literals.
func (d Dialect) Traces(ids []model.TraceID) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = d.Trace(id)
	}
	return strings.Join(out, ", ")
}

// Range is the condition that col lies in r; an open end is no condition.
func Range(col string, r store.TimeRange) string {
	var c []string
	if r.Start != 0 {
		c = append(c, col+" >= "+Int(r.Start))
	}
	if r.End != 0 {
		c = append(c, col+" < "+Int(r.End))
	}
	if len(c) == 0 {
		return "true"
	}
	return strings.Join(c, " AND ")
}

// AggIf is the aggregate fn of x over the rows where cond holds.
func (d Dialect) AggIf(fn, x, cond string) string {
	if d.ch {
		return fmt.Sprintf("%sIf(%s, %s)", fn, x, cond)
	}
	return fmt.Sprintf("%s(%s) FILTER (WHERE %s)", fn, x, cond)
}

// ArgMin is x of the row with the least by.
func (d Dialect) ArgMin(x, by string) string {
	if d.ch {
		return fmt.Sprintf("argMin(%s, %s)", x, by)
	}
	return fmt.Sprintf("arg_min(%s, %s)", x, by)
}

// ArgMinIf is ArgMin over the rows where cond holds.
func (d Dialect) ArgMinIf(x, by, cond string) string {
	if d.ch {
		return fmt.Sprintf("argMinIf(%s, %s, %s)", x, by, cond)
	}
	return fmt.Sprintf("arg_min(%s, %s) FILTER (WHERE %s)", x, by, cond)
}

// ArgMaxIf is ArgMax over the rows where cond holds.
func (d Dialect) ArgMaxIf(x, by, cond string) string {
	if d.ch {
		return fmt.Sprintf("argMaxIf(%s, %s, %s)", x, by, cond)
	}
	return fmt.Sprintf("arg_max(%s, %s) FILTER (WHERE %s)", x, by, cond)
}

// CountIf is the number of rows where cond holds.
func (d Dialect) CountIf(cond string) string {
	if d.ch {
		return "countIf(" + cond + ")"
	}
	return "count_if(" + cond + ")"
}

// AnyRow is the aggregate that holds when cond holds on some row of the
// group. ClickHouse has no bool_or; the max of its 0/1 booleans says the
// same.
func (d Dialect) AnyRow(cond string) string {
	if d.ch {
		return "max(" + cond + ")"
	}
	return "bool_or(" + cond + ")"
}

// IntDiv is the integer quotient a / b, for a, b ≥ 0 (where both engines
// round down).
func (d Dialect) IntDiv(a, b string) string {
	if d.ch {
		return "intDiv(" + a + ", " + b + ")"
	}
	return "((" + a + ") // (" + b + "))"
}

// CountDistinct is the exact number of distinct values of x.
func (d Dialect) CountDistinct(x string) string {
	if d.ch {
		return "uniqExact(" + x + ")"
	}
	return "count(DISTINCT " + x + ")"
}

// ContainsFold is the condition that col contains text, ignoring case.
func (d Dialect) ContainsFold(col, text string) string {
	if d.ch {
		return "positionCaseInsensitiveUTF8(" + col + ", " + d.Str(text) + ") > 0"
	}
	return col + " ILIKE " + d.Like(text) + ` ESCAPE '\'`
}

// Like is the literal of a LIKE pattern matching any text containing text.
func (d Dialect) Like(text string) string {
	return d.Str("%" + likeEscaper.Replace(text) + "%")
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Contains is the condition that col contains text (case counts).
func (d Dialect) Contains(col, text string) string {
	if d.ch {
		return "position(" + col + ", " + d.Str(text) + ") > 0"
	}
	return "contains(" + col + ", " + d.Str(text) + ")"
}

// AttrEq is the condition that a span's attribute key has the string value
// v. DuckDB keeps attributes as two parallel lists, ClickHouse as a Map;
// both test the values first, which their indexes can prune on.
func (d Dialect) AttrEq(key, v string) string {
	k, vl := d.Str(key), d.Str(v)
	if d.ch {
		return fmt.Sprintf("has(mapValues(attributes), %s) AND mapContains(attributes, %s) AND attributes[%s] = %s", vl, k, k, vl)
	}
	return fmt.Sprintf("list_contains(attr_values, %s) AND attr_values[list_position(attr_keys, %s)] = %s", vl, k, vl)
}
