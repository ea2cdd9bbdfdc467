// Package chhttp serves ClickHouse's HTTP interface
// (https://clickhouse.com/docs/interfaces/http) over an embedded engine
// that only runs one statement at a time and returns its output: chDB, the
// ClickHouse engine as a library. It exists for tests: a clickhouse-go/v2
// client speaking its HTTP protocol to this handler goes through the real
// driver (batching, Native encoding, exceptions, retries) and the real
// ClickHouse engine, without a ClickHouse server.
//
// What it implements: queries in the body or the query parameter, the
// database and settings parameters (applied with SET and reset after the
// statement), param_* query parameters, INSERT … FORMAT with the data in
// the body (any input format chDB reads from a file), gzip/deflate request
// bodies, Native output re-encoded for the client's
// client_protocol_version, and exceptions as ClickHouse sends them (status
// code, X-ClickHouse-Exception-Code, "Code: N. DB::Exception: …" body).
// Statements run one at a time, as chDB's session requires. Faults can be
// injected (Faults) to test a client's error handling.
//
// It imports no engine: the chdbserver command plugs chDB in.
package chhttp

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// Engine runs one SQL statement in a session and returns its output in
// format ("" for statements without output). Errors carry ClickHouse's
// exception text ("Code: 60. DB::Exception: …").
type Engine interface {
	Query(query, format string) ([]byte, error)
}

// Handler is the HTTP interface. Create it with New.
type Handler struct {
	eng    Engine
	tmpDir string

	mu sync.Mutex // one statement at a time; guards db
	db string     // the session's current database

	// Faults are consulted before every request.
	Faults Faults

	queries, inserts, failed atomic.Int64
}

// New serves eng; tmpDir holds insert data while it is loaded.
func New(eng Engine, tmpDir string) *Handler {
	return &Handler{eng: eng, tmpDir: tmpDir, db: "default"}
}

// Stats counts requests: statements run, INSERTs with data, failures.
type Stats struct {
	Queries, Inserts, Failed int64
}

// Stats returns the counters.
func (h *Handler) Stats() Stats {
	return Stats{Queries: h.queries.Load(), Inserts: h.inserts.Load(), Failed: h.failed.Load()}
}

// Faults makes the next requests fail, for tests of a client's error
// handling. The zero value injects nothing.
type Faults struct {
	mu sync.Mutex
	// failNext requests fail with HTTP status and exception code.
	failNext   int
	failStatus int
	failCode   int
	// delay postpones every request.
	delay time.Duration
	// match, when set, restricts failures to requests whose statement
	// contains it.
	match string
	// after runs the statement before failing (the client's response is
	// lost, the statement took effect).
	after bool
}

// FailNext makes the next n requests (whose statement contains match,
// when set) fail with an exception of code (status 500, or 503 for code
// 0: a proxy in front of an unavailable server).
func (f *Faults) FailNext(n, code int, match string) {
	f.set(n, code, match, false)
}

// FailAfter is FailNext for statements that run before the failure is
// answered: a client that retries must not apply them twice.
func (f *Faults) FailAfter(n, code int, match string) {
	f.set(n, code, match, true)
}

func (f *Faults) set(n, code int, match string, after bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext, f.failCode, f.match, f.after = n, code, match, after
	f.failStatus = http.StatusInternalServerError
	if code == 0 {
		f.failStatus = http.StatusServiceUnavailable
	}
}

// Delay postpones every request by d (0 stops).
func (f *Faults) Delay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

// take decides the fault of one request.
func (f *Faults) take(stmt string) (status, code int, after bool, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delay = f.delay
	if f.failNext > 0 && (f.match == "" || strings.Contains(stmt, f.match)) {
		f.failNext--
		return f.failStatus, f.failCode, f.after, delay
	}
	return 0, 0, false, delay
}

// Parameters that are not settings.
var notSettings = map[string]bool{
	"query": true, "database": true, "default_format": true, "client_protocol_version": true,
	"query_id": true, "quota_key": true, "session_id": true, "session_timeout": true, "session_check": true,
	"compress": true, "decompress": true, "user": true, "password": true, "buffer_size": true,
	"wait_end_of_query": true, "add_http_cors_header": true,
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ping" || (r.Method == http.MethodGet && r.URL.RawQuery == "") {
		io.WriteString(w, "Ok.\n")
		return
	}
	params := r.URL.Query()
	body, err := readBody(r)
	if err != nil {
		h.fail(w, http.StatusBadRequest, fmt.Errorf("Code: 33. DB::Exception: Cannot read request body: %v. (CANNOT_READ_ALL_DATA)", err))
		return
	}
	stmt, data := params.Get("query"), []byte(nil)
	switch {
	case stmt == "":
		stmt = string(body)
	case len(body) > 0 && insertFormat(stmt) != "":
		data = body
	case len(body) > 0:
		stmt += "\n" + string(body)
	}
	status, code, after, delay := h.Faults.take(stmt)
	time.Sleep(delay)
	if status != 0 && !after {
		h.fail(w, status, fmt.Errorf("Code: %d. DB::Exception: Injected fault before %.40q. (INJECTED_FAULT)", code, stmt))
		return
	}
	out, format, err := h.run(params, stmt, data)
	if status != 0 && err == nil {
		h.fail(w, status, fmt.Errorf("Code: %d. DB::Exception: Injected fault after %.40q. (INJECTED_FAULT)", code, stmt))
		return
	}
	if err != nil {
		h.fail(w, statusOf(err), err)
		return
	}
	if format == "Native" {
		if rev, _ := strconv.ParseUint(params.Get("client_protocol_version"), 10, 64); rev > 0 && len(out) > 0 {
			if out, err = transcodeNative(out, rev); err != nil {
				h.fail(w, http.StatusInternalServerError, fmt.Errorf("Code: 1001. DB::Exception: re-encode Native output: %v. (STD_EXCEPTION)", err))
				return
			}
		}
	}
	w.Header().Set("X-ClickHouse-Format", format)
	w.Header().Set("X-ClickHouse-Summary", `{"read_rows":"0","read_bytes":"0","written_rows":"0","written_bytes":"0","total_rows_to_read":"0","result_rows":"0","result_bytes":"0"}`)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
}

func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	switch r.Header.Get("Content-Encoding") {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		rd = zr
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		rd = zr
	default:
		return nil, fmt.Errorf("content encoding %q not supported", r.Header.Get("Content-Encoding"))
	}
	if r.URL.Query().Get("decompress") == "1" {
		return nil, errors.New("native (lz4/zstd) compressed bodies are not supported; use no compression or gzip")
	}
	return io.ReadAll(rd)
}

var formatRe = regexp.MustCompile(`(?is)\s+FORMAT\s+([A-Za-z0-9_]+)\s*$`)

// insertFormat is the input format of an INSERT whose data follows the
// statement, "" for anything else.
func insertFormat(stmt string) string {
	s := strings.TrimSpace(stmt)
	if len(s) < 6 || !strings.EqualFold(s[:6], "INSERT") {
		return ""
	}
	m := formatRe.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// run executes stmt with the request's database and settings, holding the
// session for the whole sequence.
func (h *Handler) run(params url.Values, stmt string, data []byte) (out []byte, format string, err error) {
	format = params.Get("default_format")
	if format == "" {
		format = "TabSeparated"
	}
	db := params.Get("database")
	if db == "" {
		db = "default"
	}
	var sets []string
	for k, vs := range params {
		if notSettings[k] || len(vs) == 0 {
			continue
		}
		sets = append(sets, k)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if db != h.db {
		if _, err := h.eng.Query("USE "+quoteIdent(db), ""); err != nil {
			return nil, "", err
		}
		h.db = db
	}
	for _, k := range sets {
		if _, err := h.eng.Query("SET "+quoteIdent(k)+" = "+quoteString(params.Get(k)), ""); err != nil {
			h.reset(sets)
			return nil, "", err
		}
	}
	defer h.reset(sets)
	h.queries.Add(1)
	if data != nil {
		h.inserts.Add(1)
		return nil, format, h.insert(stmt, data)
	}
	out, err = h.eng.Query(stmt, format)
	if err != nil {
		return nil, "", err
	}
	return out, format, nil
}

func (h *Handler) reset(sets []string) {
	for _, k := range sets {
		h.eng.Query("SET "+quoteIdent(k)+" = DEFAULT", "")
	}
}

// insert loads data through a file, the only way into chDB's session: the
// statement "INSERT INTO t (cols) FORMAT F" becomes "INSERT INTO t (cols)
// SELECT * FROM file('…', 'F')", whose column order is the data's.
func (h *Handler) insert(stmt string, data []byte) error {
	format := insertFormat(stmt)
	f, err := os.CreateTemp(h.tmpDir, "insert-*.data")
	if err != nil {
		return fmt.Errorf("Code: 1001. DB::Exception: %v. (STD_EXCEPTION)", err)
	}
	path := f.Name()
	defer os.Remove(path)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("Code: 1001. DB::Exception: %v. (STD_EXCEPTION)", err)
	}
	head := formatRe.ReplaceAllString(strings.TrimSpace(stmt), "")
	abs, _ := filepath.Abs(path)
	_, err = h.eng.Query(head+" SELECT * FROM file("+quoteString(abs)+", "+quoteString(format)+")", "")
	return err
}

func quoteIdent(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(s) + "`"
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer("\\", "\\\\", "'", "\\'").Replace(s) + "'"
}

var codeRe = regexp.MustCompile(`Code:\s*(\d+)\.`)

// exceptionCode is the ClickHouse error code in an exception text, 1001
// (STD_EXCEPTION) when there is none.
func exceptionCode(err error) int {
	if m := codeRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 1001
}

// statusOf maps an exception to the status ClickHouse's HTTP handler
// answers with (a subset of its table).
func statusOf(err error) int {
	switch exceptionCode(err) {
	case 62, 47, 46, 36, 43, 53, 6, 27, 26, 38, 72, 70, 117, 16, 10, 44, 15, 33, 49, 352, 386, 48:
		return http.StatusBadRequest
	case 60, 81, 390, 211, 497:
		return http.StatusNotFound
	case 159, 160:
		return http.StatusGatewayTimeout
	case 516, 192, 194:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func (h *Handler) fail(w http.ResponseWriter, status int, err error) {
	h.failed.Add(1)
	msg := err.Error()
	if !codeRe.MatchString(msg) {
		msg = "Code: 1001. DB::Exception: " + msg + ". (STD_EXCEPTION)"
	}
	w.Header().Set("X-ClickHouse-Exception-Code", strconv.Itoa(exceptionCode(errors.New(msg))))
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// transcodeNative re-encodes chDB's Native output (written for protocol
// revision 0: no block info, no serialization kinds) for a client that
// asked for revision rev, as ClickHouse's HTTP handler does.
func transcodeNative(in []byte, rev uint64) ([]byte, error) {
	rd := chproto.NewReader(bytes.NewReader(in))
	var buf chproto.Buffer
	for {
		block := proto.Block{ServerContext: &column.ServerContext{Timezone: time.UTC}}
		err := block.Decode(rd, 0)
		if errors.Is(err, io.EOF) {
			return buf.Buf, nil
		}
		if err != nil {
			return nil, err
		}
		if err := block.Encode(&buf, rev); err != nil {
			return nil, err
		}
	}
}
