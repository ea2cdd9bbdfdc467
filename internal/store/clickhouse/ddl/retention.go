package ddl

import (
	"fmt"
	"regexp"
	"strconv"
)

// TTLTable is a local table whose rows expire with the retention, and the
// Unix-ns column their age is read from.
type TTLTable struct {
	// Name is the local table's name, unquoted, as system.tables has it.
	Name   string
	Column string
}

// createTTL finds, in a rendered CREATE TABLE statement, the table and the
// column of its TTL clause (the "ttl" template function's text).
var createTTL = regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS ` + "`[^`]*`\\.`([^`]*)`" + `.*\nTTL toDateTime\(intDiv\((\w+), 1000000000\)\)`)

// TTLTables are the tables the retention applies to, as the migrations
// create them.
func (l Layout) TTLTables() ([]TTLTable, error) {
	withTTL := l
	withTTL.TTLDays = 1
	stmts, err := withTTL.Statements()
	if err != nil {
		return nil, err
	}
	var out []TTLTable
	for _, s := range stmts {
		if !hasTTL.MatchString(s.SQL) {
			continue
		}
		m := createTTL.FindStringSubmatch(s.SQL)
		if m == nil {
			return nil, fmt.Errorf("ddl: %s: a TTL this package cannot read back: %.60s…", s.File, s.SQL)
		}
		out = append(out, TTLTable{Name: m[1], Column: m[2]})
	}
	return out, nil
}

// ModifyTTL is the statement that gives table t the layout's retention:
// the TTL a new table would get, or none when retention is off. Parts
// older than a shortened retention are dropped by the TTL's
// materialisation, which ClickHouse runs as a mutation after the change.
func (l Layout) ModifyTTL(t TTLTable) string {
	target := QuoteIdent(l.Database) + "." + QuoteIdent(t.Name) + l.OnCluster()
	if l.TTLDays == 0 {
		return "ALTER TABLE " + target + " REMOVE TTL"
	}
	return fmt.Sprintf("ALTER TABLE %s MODIFY TTL toDateTime(intDiv(%s, 1000000000)) + INTERVAL %d DAY", target, t.Column, l.TTLDays)
}

var hasTTL = regexp.MustCompile(`\bTTL\b`)

// engineTTLDays reads the days of a retention TTL back from a table's
// engine_full (system.tables), where ClickHouse writes the interval as
// toIntervalDay(N).
var engineTTLDays = regexp.MustCompile(`\bTTL\b.*?toIntervalDay\((\d+)\)`)

// TTLDaysOf is the retention in days that a table's engine_full states;
// 0 when it has no TTL; ok false when it has a TTL of another form.
func TTLDaysOf(engineFull string) (days int, ok bool) {
	if !hasTTL.MatchString(engineFull) {
		return 0, true
	}
	m := engineTTLDays.FindStringSubmatch(engineFull)
	if m == nil {
		return 0, false
	}
	d, err := strconv.Atoi(m[1])
	return d, err == nil
}
