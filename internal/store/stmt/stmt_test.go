package stmt

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

func TestStr(t *testing.T) {
	ch := ClickHouse(nil)
	for _, c := range []struct{ in, duck, ch string }{
		{"plain", "'plain'", "'plain'"},
		{"it's", "'it''s'", `'it\'s'`},
		{`back\slash`, `'back\slash'`, `'back\\slash'`},
		{"nul\x00here", "('nul' || chr(0) || 'here')", `'nul\0here'`},
		{"bad\xffutf8", "'bad\uFFFDutf8'", "'bad\uFFFDutf8'"},
	} {
		if got := DuckDB().Str(c.in); got != c.duck {
			t.Errorf("DuckDB Str(%q) = %s, want %s", c.in, got, c.duck)
		}
		if got := ch.Str(c.in); got != c.ch {
			t.Errorf("ClickHouse Str(%q) = %s, want %s", c.in, got, c.ch)
		}
	}
}

func TestLiterals(t *testing.T) {
	id := model.TraceID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	if got, want := DuckDB().Trace(id), "'01234567-89ab-cdef-0123-456789abcdef'::UUID"; got != want {
		t.Errorf("DuckDB Trace = %s, want %s", got, want)
	}
	if got, want := ClickHouse(nil).Trace(id), "unhex('0123456789abcdef0123456789abcdef')"; got != want {
		t.Errorf("ClickHouse Trace = %s, want %s", got, want)
	}
	if got, want := Range("t", store.TimeRange{Start: 5}), "t >= 5"; got != want {
		t.Errorf("Range = %s, want %s", got, want)
	}
	if got, want := DuckDB().Like("50%_off"), `'%50\%\_off%'`; got != want {
		t.Errorf("Like = %s, want %s", got, want)
	}
	tbl := ClickHouse(func(s string) string { return "`db`.`" + s + "`" })
	if got, want := tbl.Table("spans"), "`db`.`spans`"; got != want {
		t.Errorf("Table = %s, want %s", got, want)
	}
	if got, want := DuckDB().AggIf("min", "x", "n > 0"), "min(x) FILTER (WHERE n > 0)"; got != want {
		t.Errorf("AggIf = %s, want %s", got, want)
	}
	if got, want := tbl.AggIf("min", "x", "n > 0"), "minIf(x, n > 0)"; got != want {
		t.Errorf("AggIf = %s, want %s", got, want)
	}
}
