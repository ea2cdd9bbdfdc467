// Package ddl holds the ClickHouse engine's schema as .sql templates and
// renders them for one deployment: one server, or a cluster (Distributed
// tables over local tables, Replicated* when the cluster replicates).
package ddl

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

//go:embed *.sql
var files embed.FS

// Layout says where and how the schema is deployed.
type Layout struct {
	// Database holds every table. Required.
	Database string
	// Cluster is the cluster name of remote_servers; "" for one server.
	Cluster string
	// Replicated makes the local tables of a cluster Replicated*; without
	// it they are plain MergeTree on each shard (sharding only).
	Replicated bool
	// TTLDays is the retention of the telemetry tables; 0 keeps data until
	// DeleteBefore removes it.
	TTLDays int
	// KeeperPrefix is the Keeper path of the KeeperMap tables, under the
	// server's keeper_map_path_prefix; default "/ariadne/<database>".
	KeeperPrefix string
	// NoOnCluster renders cluster DDL without ON CLUSTER, to run it on each
	// node by hand or where distributed DDL is off (chDB runs none).
	NoOnCluster bool
}

// Statement is one DDL statement of one schema version.
type Statement struct {
	Version int
	File    string
	SQL     string
}

// Distributed describes a Distributed table of a cluster.
type Distributed struct {
	Name     string
	ShardKey string
}

// distributed lists the telemetry tables and how rows spread over shards:
// a trace's spans and index rows on one shard, refs by key (the map joins
// producers to consumers on it), invocations by request id.
var distributed = []Distributed{
	{"spans", "cityHash64(trace_id)"},
	{"logs", "rand()"},
	{"invocations", "cityHash64(request_id)"},
	{"message_refs", "cityHash64(key)"},
	{"trace_index", "cityHash64(trace_id)"},
	{"issue_counts", "cityHash64(issue_id)"},
}

// QuoteIdent quotes a ClickHouse identifier.
func QuoteIdent(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

// QuoteString is a ClickHouse string literal.
func QuoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func (l Layout) check() error {
	if l.Database == "" {
		return fmt.Errorf("ddl: no database")
	}
	if l.Replicated && l.Cluster == "" {
		return fmt.Errorf("ddl: replicated tables need a cluster")
	}
	if l.TTLDays < 0 {
		return fmt.Errorf("ddl: negative TTL")
	}
	return nil
}

// Table is the name queries use for table t, qualified by the database.
func (l Layout) Table(t string) string {
	return QuoteIdent(l.Database) + "." + QuoteIdent(t)
}

func (l Layout) localName(t string) string {
	if l.Cluster != "" {
		return t + "_local"
	}
	return t
}

func (l Layout) keeperPrefix() string {
	if l.KeeperPrefix != "" {
		return strings.TrimRight(l.KeeperPrefix, "/")
	}
	return "/ariadne/" + l.Database
}

// OnCluster is " ON CLUSTER `c`" when DDL is distributed.
func (l Layout) OnCluster() string {
	if l.Cluster == "" || l.NoOnCluster {
		return ""
	}
	return " ON CLUSTER " + QuoteIdent(l.Cluster)
}

func (l Layout) funcs() template.FuncMap {
	return template.FuncMap{
		"table":     l.Table,
		"local":     func(t string) string { return QuoteIdent(l.Database) + "." + QuoteIdent(l.localName(t)) },
		"localName": func(t string) string { return QuoteString(l.localName(t)) },
		"db":        func() string { return QuoteString(l.Database) },
		"cluster":   func() string { return QuoteString(l.Cluster) },
		"onCluster": l.OnCluster,
		"engine": func(engine, t string) string {
			if !l.Replicated {
				return engine
			}
			path := "/clickhouse/tables/{shard}/" + l.Database + "/" + l.localName(t)
			return "Replicated" + engine + "(" + QuoteString(path) + ", '{replica}')"
		},
		"ttl": func(col string) string {
			if l.TTLDays == 0 {
				return ""
			}
			return fmt.Sprintf("TTL toDateTime(intDiv(%s, 1000000000)) + INTERVAL %d DAY\n", col, l.TTLDays)
		},
		"dedupWindow": func() string {
			// Inserts retried with the same deduplication token are
			// dropped: Replicated tables keep the tokens by default.
			if l.Replicated {
				return ""
			}
			return ", non_replicated_deduplication_window = 1000"
		},
		"distributed": func() []Distributed {
			if l.Cluster == "" {
				return nil
			}
			return distributed
		},
		"keeperPath": func(t string) string { return QuoteString(l.keeperPrefix() + "/" + t) },
	}
}

// Statements renders every migration, in version order, split into
// statements without their comments. Version 0 creates the database and
// schema_migrations.
func (l Layout) Statements() ([]Statement, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := []Statement{
		{Version: 0, SQL: "CREATE DATABASE IF NOT EXISTS " + QuoteIdent(l.Database) + l.OnCluster()},
		{Version: 0, SQL: l.MigrationsTable()},
	}
	for i, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("ddl: file %s: want %04d_name.sql", name, i+1)
		}
		src, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(name).Funcs(l.funcs()).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("ddl: %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, nil); err != nil {
			return nil, fmt.Errorf("ddl: %s: %w", name, err)
		}
		for _, s := range Split(buf.String()) {
			out = append(out, Statement{Version: v, File: name, SQL: s})
		}
	}
	return out, nil
}

// MigrationsTable creates schema_migrations, the versions applied: in
// Keeper, so that every node of a cluster sees one list.
func (l Layout) MigrationsTable() string {
	return "CREATE TABLE IF NOT EXISTS " + l.Table("schema_migrations") + l.OnCluster() +
		"\n(\n    version             UInt32,\n    name                String,\n    applied_at          Int64\n)\n" +
		"ENGINE = KeeperMap(" + QuoteString(l.keeperPrefix()+"/schema_migrations") + ")\nPRIMARY KEY version"
}

// Versions is the number of schema versions (migration files).
func Versions() int {
	names, _ := fs.Glob(files, "*.sql")
	return len(names)
}

// Split cuts a script into statements at semicolons that end a line,
// dropping whole-line "--" comments and blank lines.
func Split(script string) []string {
	var out []string
	var cur []string
	for _, line := range strings.Split(script, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		line = strings.TrimRight(line, " \t")
		if strings.HasSuffix(line, ";") {
			cur = append(cur, strings.TrimSuffix(line, ";"))
			out = append(out, strings.Join(cur, "\n"))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
}
