package stmt

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden statements in testdata/")

// dialects are the two renderings every golden case is checked in; the
// ClickHouse one qualifies tables as a cluster deployment does.
var dialects = []struct {
	name string
	d    Dialect
}{
	{"duckdb", DuckDB()},
	{"clickhouse", ClickHouse(func(t string) string { return "ariadne." + t })},
}

// golden compares the statements render writes for each dialect with
// testdata/<name>.<dialect>.sql (rewritten with -update).
func golden(t *testing.T, name string, render func(Dialect) string) {
	t.Helper()
	for _, dl := range dialects {
		got := render(dl.d)
		path := filepath.Join("testdata", name+"."+dl.name+".sql")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run with -update to create it)", path, err)
		}
		if got+"\n" != string(want) {
			t.Errorf("%s differs from what the builder writes now (run with -update if the change is meant):\n%s", path, got)
		}
	}
}
