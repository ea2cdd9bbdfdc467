package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/ariadnehq/ariadne/internal/api"
)

// tailCmd follows new traces: it polls the search API and prints each trace
// once, the first time a search returns it, until Ctrl-C.
//
// A trace is "new" when its id was not printed before, not when it started
// after the last poll: spans reach the server late (batching exporters,
// retries), so every poll looks back --lag and the seen set removes repeats.
// A trace printed while its spans were still arriving shows the span count
// of that moment.
type tailCmd struct{}

func (tailCmd) Name() string     { return "tail" }
func (tailCmd) Synopsis() string { return "print new traces as they arrive" }

const (
	tailPageSize = 200
	tailMaxPages = 5
)

func (tailCmd) Run(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tail")
	server := serverFlag(fs, env)
	var f filterFlags
	f.register(fs)
	interval := fs.Duration("interval", 2*time.Second, "how often to poll the server")
	lag := fs.Duration("lag", time.Minute, "how far back each poll looks, for traces whose spans arrive late")
	var since dayDuration
	fs.Var(&since, "since", "first print the traces of the last `duration` (default: only new ones)")
	w := fs.Int("width", 0, "output width in columns (default $COLUMNS or 100)")
	asJSON := fs.Bool("json", false, "print each new trace as one line of JSON (the API's trace summary)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: ariadne tail [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if *interval < 10*time.Millisecond {
		return &usageError{msg: "--interval: want at least 10ms"}
	}
	if *lag < time.Second {
		return &usageError{msg: "--lag: want at least 1s"}
	}
	c, err := newClient(*server)
	if err != nil {
		return err
	}
	defer c.close()
	t := &tailer{
		c:     c,
		env:   env,
		base:  f.query(),
		lag:   *lag,
		since: time.Duration(since),
		out:   &writer{w: env.Stdout},
		table: summaryTable{width: termWidth(*w, env), loc: location(env)},
		json:  *asJSON,
		seen:  map[string]int64{},
	}
	return t.run(ctx, *interval)
}

type tailer struct {
	c          *client
	env        Env
	base       url.Values
	lag, since time.Duration
	out        *writer
	table      summaryTable
	seen       map[string]int64 // trace id → start time
	newest     int64            // latest start time seen
	printed    int
	json       bool // JSON lines instead of the table
}

func (t *tailer) run(ctx context.Context, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	first, failing := true, false
	for {
		err := t.poll(ctx, first)
		switch {
		case err == nil:
			if failing {
				fmt.Fprintln(t.env.Stderr, "ariadne tail: server reachable again")
				failing = false
			}
			if first {
				fmt.Fprintln(t.env.Stderr, "Waiting for new traces (Ctrl-C to stop)…")
				first = false
			}
		case ctx.Err() != nil:
			return nil
		default:
			var ae *apiError
			if errors.As(err, &ae) && ae.permanent() {
				return searchError(err)
			}
			// The server may be restarting: say so once and keep polling.
			if !failing {
				fmt.Fprintf(t.env.Stderr, "ariadne tail: %v (still trying)\n", err)
				failing = true
			}
		}
		if t.out.err != nil {
			return fmt.Errorf("write output: %w", t.out.err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// poll runs one search and prints the traces not seen before, oldest first.
// The first poll only records what exists, unless --since asks to show it.
func (t *tailer) poll(ctx context.Context, first bool) error {
	window := t.lag
	if first && t.since > 0 {
		window = t.since
	}
	q := url.Values{}
	for k, v := range t.base {
		q[k] = v
	}
	q.Set("start", "-"+window.String())
	q.Set("limit", strconv.Itoa(tailPageSize))
	var fresh []api.TraceSummary
	for page := 0; page < tailMaxPages; page++ {
		res, _, err := t.c.search(ctx, q)
		if err != nil {
			return err
		}
		unseen := 0
		for _, s := range res.Traces {
			if _, ok := t.seen[s.TraceID]; ok {
				continue
			}
			unseen++
			t.seen[s.TraceID] = s.StartTime
			t.newest = max(t.newest, s.StartTime)
			fresh = append(fresh, s)
		}
		// Newest first: a page of only known traces means the rest is known.
		if res.NextCursor == "" || unseen == 0 {
			break
		}
		q.Set("cursor", res.NextCursor)
	}
	t.forget()
	if first && t.since == 0 {
		return nil
	}
	slices.SortStableFunc(fresh, func(a, b api.TraceSummary) int { return cmp.Compare(a.StartTime, b.StartTime) })
	for _, s := range fresh {
		switch {
		case t.json:
			b, err := json.Marshal(s)
			if err != nil {
				return fmt.Errorf("encode trace summary: %w", err)
			}
			t.out.line(string(b))
		case t.printed == 0:
			t.out.line(t.table.header())
			fallthrough
		default:
			t.out.line(t.table.row(s))
		}
		t.printed++
	}
	return nil
}

// forget drops ids that no later poll can return, bounding the seen set by
// the traffic of a few lag windows.
func (t *tailer) forget() {
	cutoff := t.newest - 2*int64(max(t.lag, t.since))
	for id, start := range t.seen {
		if start < cutoff {
			delete(t.seen, id)
		}
	}
}
