// Package stmttest checks package stmt's literals on a real engine: the
// golden files of stmt show what a statement says, only an engine shows
// what a literal means. Each engine's tests call it with a way to run one
// statement; it imports no engine.
package stmttest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// trickyTexts are user texts a literal must carry unchanged: quotes,
// backslashes, NUL, LIKE wildcards, non-ASCII, invalid UTF-8 (which comes
// back replaced, as ingest stores it) and statement syntax.
var trickyTexts = []string{
	"", "plain", "it's", "''", `back\slash`, `\'`, `'\`, `\\'\\`, "nul\x00byte", "\x00", "\x00'\x00",
	"50%_off", `%\_`, "é café ∑ 😀", "caf\xff\xfe", "line\nbreak\ttab\r", `"quoted"`, "?", "$1",
	"--comment", "/* x */", "'; DROP TABLE span_rows; --", "'||chr(0)||'",
}

// containsCases are substring tests whose wildcards, escapes and quotes
// must be taken literally; want is with case, fold without.
var containsCases = []struct {
	hay, needle string
	want, fold  bool
}{
	{"get 50%_off now", "50%_off", true, true},
	{"get 50 percent xoff", "50%_off", false, false}, // % and _ as wildcards would match
	{"get 50%xoff", "50%_off", false, false},
	{`a\b`, `a\b`, true, true},
	{"ab", `a\b`, false, false}, // \ as LIKE escape would match
	{`a\\b`, `\\`, true, true},
	{`a\b`, `\\`, false, false},
	{"it's", "IT'S", false, true},
	{"it''s", "it's", false, false},
	{"TIMEOUT upstream", "timeout", false, true},
	{"nul\x00byte", "l\x00b", true, true},
	{"nulbyte", "l\x00b", false, false},
	{"école", "éCOLE", false, true},
	{"école", "ÉCOLE", false, true},
	{"caf\uFFFD", "caf\xff", true, true}, // the needle's invalid byte is replaced as the stored text's was
	{"anything", "", true, true},
}

// CheckLiterals runs d's literals through the engine behind query, which
// runs one SELECT and returns its single string value: each literal must
// come back as the text it was made of, each list element in its place,
// and each Contains and ContainsFold condition must hold exactly when the
// needle is in the haystack.
//
// The statements use only what both dialects share (list literals indexed
// from 1, CASE), so that query needs no per-engine conversion.
func CheckLiterals(t *testing.T, d stmt.Dialect, query func(sql string) (string, error)) {
	t.Helper()
	check := func(what, q, want string) {
		t.Helper()
		got, err := query(q)
		switch {
		case err != nil:
			t.Errorf("%s: %v", what, err)
		case got != want:
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	for _, s := range trickyTexts {
		q := "SELECT " + d.Str(s)
		check(q, q, strings.ToValidUTF8(s, "\uFFFD"))
	}
	// An element that leaks into its neighbour shifts every one after it.
	list := "[" + d.Strs(trickyTexts) + "]"
	for i, s := range trickyTexts {
		check(fmt.Sprintf("element %d of Strs %q", i+1, s), fmt.Sprintf("SELECT %s[%d]", list, i+1), strings.ToValidUTF8(s, "\uFFFD"))
	}
	for _, c := range containsCases {
		for _, fold := range []bool{false, true} {
			cond, want := d.Contains(d.Str(c.hay), c.needle), c.want
			if fold {
				cond, want = d.ContainsFold(d.Str(c.hay), c.needle), c.fold
			}
			q := "SELECT CASE WHEN " + cond + " THEN 'true' ELSE 'false' END"
			check(q, q, fmt.Sprint(want))
		}
	}
}
