package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/api"
	"github.com/ariadnehq/ariadne/internal/model"
)

// defaultServer is where `ariadne serve` listens by default (DESIGN.md §6).
const defaultServer = "http://127.0.0.1:7070"

// maxResponseBytes bounds what the CLI reads of one answer; a trace of a
// few hundred thousand spans still fits.
const maxResponseBytes = 256 << 20

// serverFlag registers --server, defaulting to $ARIADNE_SERVER.
func serverFlag(fs *flag.FlagSet, env Env) *string {
	def := env.Getenv("ARIADNE_SERVER")
	if def == "" {
		def = defaultServer
	}
	return fs.String("server", def, "Ariadne server `URL` (env ARIADNE_SERVER)")
}

// client talks to a running server's API v1.
type client struct {
	base *url.URL
	http *http.Client
}

func newClient(server string) (*client, error) {
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &usageError{msg: fmt.Sprintf("--server %q: want a URL like %s", server, defaultServer)}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	// The context bounds each call; the client timeout is a backstop for a
	// server that accepts and never answers.
	// An own transport, not http.DefaultTransport: its idle connections are
	// the command's to close.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &client{base: u, http: &http.Client{Timeout: 2 * time.Minute, Transport: tr}}, nil
}

// close lets go of idle keep-alive connections, so that a command run
// inside a longer-lived process (tests, a future REPL) leaves nothing behind.
func (c *client) close() { c.http.CloseIdleConnections() }

// apiError is an error answer of the server.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

// permanent reports whether retrying the same request cannot help.
func (e *apiError) permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}

// get fetches path?q and returns the raw JSON body of a 200 answer.
func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("reach server %s (is `ariadne serve` running? see --server): %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s: %w", u.Path, err)
	}
	if len(body) > maxResponseBytes {
		return nil, fmt.Errorf("read answer of %s: larger than %d MiB", u.Path, maxResponseBytes>>20)
	}
	if resp.StatusCode != http.StatusOK {
		var eb api.ErrorBody
		if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
			return nil, &apiError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
		}
		return nil, &apiError{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(firstLine(string(body)))}
	}
	return body, nil
}

func (c *client) getJSON(ctx context.Context, path string, q url.Values, out any) ([]byte, error) {
	body, err := c.get(ctx, path, q)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("decode answer of %s: %w", path, err)
	}
	return body, nil
}

// trace fetches one trace.
func (c *client) trace(ctx context.Context, id model.TraceID) (*api.TraceResponse, error) {
	var t api.TraceResponse
	if _, err := c.getJSON(ctx, "/api/v1/traces/"+id.String(), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// search runs a trace search and returns the decoded and the raw answer.
func (c *client) search(ctx context.Context, q url.Values) (*api.SearchResponse, []byte, error) {
	var r api.SearchResponse
	raw, err := c.getJSON(ctx, "/api/v1/traces", q, &r)
	if err != nil {
		return nil, nil, err
	}
	return &r, raw, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
