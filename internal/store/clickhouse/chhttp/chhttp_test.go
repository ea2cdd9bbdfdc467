package chhttp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// fakeEngine records statements and answers from a table.
type fakeEngine struct {
	stmts   []string
	answers map[string][]byte
	fail    map[string]error
}

func (f *fakeEngine) Query(q, format string) ([]byte, error) {
	f.stmts = append(f.stmts, q+" /"+format)
	for k, err := range f.fail {
		if strings.Contains(q, k) {
			return nil, err
		}
	}
	for k, v := range f.answers {
		if strings.Contains(q, k) {
			return v, nil
		}
	}
	return nil, nil
}

func TestInsertFormat(t *testing.T) {
	for q, want := range map[string]string{
		"INSERT INTO t (a, b) FORMAT Native":       "Native",
		"insert into t format  TabSeparated\n":     "TabSeparated",
		"INSERT INTO t VALUES (1)":                 "",
		"SELECT 1 FORMAT Native":                   "",
		"INSERT INTO t SETTINGS x=1 FORMAT Native": "Native",
	} {
		if got := insertFormat(q); got != want {
			t.Errorf("insertFormat(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestRequests(t *testing.T) {
	f := &fakeEngine{answers: map[string][]byte{"SELECT 1": []byte("1\n")},
		fail: map[string]error{"nope": errors.New("Code: 60. DB::Exception: Unknown table expression identifier 'nope'. (UNKNOWN_TABLE)")}}
	h := New(f, t.TempDir())
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(q url.Values, body string) *http.Response {
		res, err := http.Post(srv.URL+"/?"+q.Encode(), "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := do(url.Values{"database": {"db"}, "max_threads": {"2"}, "param_x": {"it's"}}, "SELECT 1")
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "1\n" {
		t.Errorf("query: %s %q", res.Status, b)
	}
	got := strings.Join(f.stmts, "\n")
	for _, want := range []string{"USE `db`", "SET `max_threads` = '2'", `SET ` + "`param_x`" + ` = 'it\'s'`, "SELECT 1 /TabSeparated", "SET `max_threads` = DEFAULT"} {
		if !strings.Contains(got, want) {
			t.Errorf("statements lack %q:\n%s", want, got)
		}
	}
	res = do(url.Values{}, "SELECT * FROM nope")
	b, _ = io.ReadAll(res.Body)
	if res.StatusCode != 404 || res.Header.Get("X-ClickHouse-Exception-Code") != "60" || !strings.HasPrefix(string(b), "Code: 60.") {
		t.Errorf("exception: %s %s %q", res.Status, res.Header.Get("X-ClickHouse-Exception-Code"), b)
	}
	f.stmts = nil
	res = do(url.Values{"query": {"INSERT INTO t (a) FORMAT Native"}}, "\x01\x00binary")
	if res.StatusCode != 200 || len(f.stmts) != 1 || !strings.Contains(f.stmts[0], "INSERT INTO t (a) SELECT * FROM file('") ||
		!strings.Contains(f.stmts[0], "'Native')") {
		t.Errorf("insert: %s %q", res.Status, f.stmts)
	}
	h.Faults.FailNext(1, 0, "")
	if res := do(url.Values{}, "SELECT 1"); res.StatusCode != 503 {
		t.Errorf("injected proxy fault: %s", res.Status)
	}
	if st := h.Stats(); st.Inserts != 1 || st.Failed != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestTranscode: chDB's revision-0 Native output is re-encoded with block
// info and serialization kinds for a client of a recent revision.
func TestTranscode(t *testing.T) {
	var in chproto.Buffer
	b := proto.Block{ServerContext: &column.ServerContext{}}
	if err := b.AddColumn("x", "UInt8"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddColumn("s", "String"); err != nil {
		t.Fatal(err)
	}
	b.Append(uint8(1), "ab")
	b.Append(uint8(2), "cd")
	if err := b.Encode(&in, 0); err != nil {
		t.Fatal(err)
	}
	const rev = 54460
	out, err := transcodeNative(in.Buf, rev)
	if err != nil {
		t.Fatal(err)
	}
	got := proto.Block{ServerContext: &column.ServerContext{}}
	if err := got.Decode(chproto.NewReader(bytes.NewReader(out)), rev); err != nil {
		t.Fatal(err)
	}
	if got.Rows() != 2 || got.Columns[1].Row(1, false) != "cd" {
		t.Errorf("decoded %d rows", got.Rows())
	}
}
