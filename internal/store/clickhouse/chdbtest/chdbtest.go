// Package chdbtest starts ClickHouse-protocol endpoints backed by chDB (the
// ClickHouse engine as a library) for tests: the chdbserver command, built
// once per test process and run as a child process per Start.
//
// libchdb.so comes from CHDB_LIB_PATH or from build/chdb, where `make chdb`
// (a prerequisite of `make test`) installs it. When it is absent the tests
// that need it fail, saying how to install it, unless ARIADNE_CHDB_SKIP=1,
// which makes them skip instead.
package chdbtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/store/clickhouse/chhttp"
)

// SkipEnv, set to 1, makes tests skip when libchdb.so is absent.
const SkipEnv = "ARIADNE_CHDB_SKIP"

// LibEnv names libchdb.so explicitly.
const LibEnv = "CHDB_LIB_PATH"

// moduleRoot is the directory holding go.mod, found from this file.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Lib finds libchdb.so: CHDB_LIB_PATH, else the copy `make chdb` installs
// under build/chdb.
func Lib() (string, error) {
	if p := os.Getenv(LibEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", LibEnv, p, err)
		}
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join(moduleRoot(), "build", "chdb", "node_modules", "@chdb", "lib-*", "libchdb.so"))
	if len(matches) == 0 {
		return "", errors.New("libchdb.so not found: run `make chdb` (installs it under build/chdb) or set " + LibEnv)
	}
	return matches[0], nil
}

// Require returns libchdb.so's path, or ends the test: skipped when
// ARIADNE_CHDB_SKIP=1, failed otherwise.
func Require(t testing.TB) string {
	t.Helper()
	lib, err := Lib()
	if err == nil {
		return lib
	}
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("ClickHouse engine tests skipped (%s=1): %v", SkipEnv, err)
	}
	t.Fatalf("%v; set %s=1 to skip the ClickHouse engine tests", err, SkipEnv)
	return ""
}

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// binary builds the chdbserver command once per test process.
func binary() (string, error) {
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "ariadne-chdbserver-")
		if buildErr != nil {
			return
		}
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if p, err := exec.LookPath("go"); err == nil {
			gobin = p
		}
		buildBin = filepath.Join(buildDir, "chdbserver")
		cmd := exec.Command(gobin, "build", "-o", buildBin, "./internal/store/clickhouse/chdbserver")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build chdbserver: %v\n%s", err, out)
		}
	})
	return buildBin, buildErr
}

// Main runs a package's tests and removes the built server afterwards;
// call it from TestMain.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// Server is one running chdbserver.
type Server struct {
	// Addr is host:port of the ClickHouse HTTP interface.
	Addr  string
	admin string
	dir   string
	cmd   *exec.Cmd
	logs  *os.File
}

// Start runs a chdbserver with its data in a fresh directory; the test's
// cleanup stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartIn(t, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// StartIn runs a chdbserver over dir (a restart finds its MergeTree data;
// the test Keeper, and so KeeperMap tables, live in memory only).
func StartIn(t testing.TB, dir string) (*Server, error) {
	t.Helper()
	Require(t)
	s, err := Launch(dir)
	if s != nil {
		t.Cleanup(s.Stop)
	}
	return s, err
}

// Launch runs a chdbserver over dir for a whole test binary (TestMain);
// the caller stops it.
func Launch(dir string) (*Server, error) {
	lib, err := Lib()
	if err != nil {
		return nil, err
	}
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	logs, err := os.Create(filepath.Join(dir, "chdbserver.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-path", filepath.Join(dir, "chdb"))
	cmd.Env = append(os.Environ(), LibEnv+"="+lib)
	cmd.Stderr = logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start chdbserver: %w", err)
	}
	s := &Server{dir: dir, cmd: cmd, logs: logs}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		var main, admin string
		if _, err := fmt.Sscanf(l, "listening http://%s admin http://%s", &main, &admin); !ok || err != nil {
			s.Stop()
			b, _ := os.ReadFile(logs.Name())
			return nil, fmt.Errorf("chdbserver did not start (%q): %s", l, b)
		}
		s.Addr, s.admin = main, admin
	case <-time.After(2 * time.Minute):
		s.Stop()
		return nil, errors.New("chdbserver did not start within 2 minutes")
	}
	return s, nil
}

// Stop kills the server. Idempotent.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd.Process = nil
	}
	if s.logs != nil {
		s.logs.Close()
	}
}

// DSN is a clickhouse-go DSN for database db over HTTP.
func (s *Server) DSN(db string) string {
	return "http://" + s.Addr + "/" + url.PathEscape(db)
}

func (s *Server) post(path string, q url.Values) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.admin+path+"?"+q.Encode(), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("chdbserver %s: %s: %s", path, res.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// FailNext makes the next n statements containing match ("" = any) fail
// with exception code (0: HTTP 503 as from a proxy).
func (s *Server) FailNext(t testing.TB, n, code int, match string) {
	t.Helper()
	if err := s.post("/fail", url.Values{"n": {fmt.Sprint(n)}, "code": {fmt.Sprint(code)}, "match": {match}}); err != nil {
		t.Fatal(err)
	}
}

// FailAfter is FailNext for statements that take effect before the
// failure is answered (a lost response).
func (s *Server) FailAfter(t testing.TB, n, code int, match string) {
	t.Helper()
	if err := s.post("/fail", url.Values{"n": {fmt.Sprint(n)}, "code": {fmt.Sprint(code)}, "match": {match}, "after": {"1"}}); err != nil {
		t.Fatal(err)
	}
}

// Delay postpones every request by d (0 stops).
func (s *Server) Delay(t testing.TB, d time.Duration) {
	t.Helper()
	if err := s.post("/delay", url.Values{"d": {d.String()}}); err != nil {
		t.Fatal(err)
	}
}

// Down closes the ClickHouse listener: connections are refused, as when
// the server is down; the engine and its data stay.
func (s *Server) Down(t testing.TB) {
	t.Helper()
	if err := s.post("/down", nil); err != nil {
		t.Fatal(err)
	}
}

// Up listens again on the same address.
func (s *Server) Up(t testing.TB) {
	t.Helper()
	if err := s.post("/up", nil); err != nil {
		t.Fatal(err)
	}
}

// Stats reads the server's counters.
func (s *Server) Stats(t testing.TB) chhttp.Stats {
	t.Helper()
	res, err := http.Get("http://" + s.admin + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st chhttp.Stats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
