package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/api"
)

// searchCmd searches traces with flags that mirror GET /api/v1/traces and
// prints them as a table, newest first.
type searchCmd struct{}

func (searchCmd) Name() string { return "search" }
func (searchCmd) Synopsis() string {
	return "search traces by service, operation, error, duration, attributes, text"
}

// attrFlags collects repeated --attr key=value flags.
type attrFlags []string

func (a *attrFlags) String() string { return strings.Join(*a, ",") }

func (a *attrFlags) Set(s string) error {
	k, _, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	*a = append(*a, s)
	return nil
}

// dayDuration is a flag.Value for a positive duration that also takes
// whole days ("7d"), the unit of retention.
type dayDuration time.Duration

func (d *dayDuration) String() string { return time.Duration(*d).String() }

func (d *dayDuration) Set(s string) error {
	var v time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 10_000 {
			return fmt.Errorf("want a duration like 30m, 6h or 7d")
		}
		v = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if v, err = time.ParseDuration(s); err != nil {
			return fmt.Errorf("want a duration like 30m, 6h or 7d")
		}
	}
	if v < 0 {
		return fmt.Errorf("want a positive duration")
	}
	*d = dayDuration(v)
	return nil
}

// filterFlags are the search conditions shared by search and tail.
type filterFlags struct {
	service, operation, minDur, maxDur, text string
	errOnly                                  bool
	attrs                                    attrFlags
}

func (f *filterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.service, "service", "", "only traces with a span of this `service`")
	fs.StringVar(&f.operation, "operation", "", "only traces with a span of this `name` (with --service: of that service)")
	fs.BoolVar(&f.errOnly, "error", false, "only traces with at least one span in error")
	fs.StringVar(&f.minDur, "min-duration", "", "only traces lasting at least this `duration` (250ms, 2s)")
	fs.StringVar(&f.maxDur, "max-duration", "", "only traces lasting at most this `duration`")
	fs.Var(&f.attrs, "attr", "only traces with a span whose attribute `key=value` (repeatable; all must hold)")
	fs.StringVar(&f.text, "q", "", "free `text` in log bodies, payloads, span names and error messages")
}

// query turns the flags into API parameters; the server checks the values
// and its 400 names the parameter, which maps back to the flag.
func (f *filterFlags) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("service", f.service)
	set("operation", f.operation)
	set("minDuration", f.minDur)
	set("maxDuration", f.maxDur)
	set("q", f.text)
	if f.errOnly {
		q.Set("error", "true")
	}
	for _, kv := range f.attrs {
		k, v, _ := strings.Cut(kv, "=")
		q.Add("attr."+k, v)
	}
	return q
}

func (searchCmd) Run(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "search")
	server := serverFlag(fs, env)
	var f filterFlags
	f.register(fs)
	var since dayDuration
	fs.Var(&since, "since", "search the last `duration` (30m, 6h, 7d); default: the server's, 24h")
	start := fs.String("start", "", "range start: RFC 3339, Unix ns or relative (-2h)")
	end := fs.String("end", "", "range end: RFC 3339, Unix ns, relative or now (default open)")
	limit := fs.Int("limit", 20, "at most `n` traces (1…1000)")
	cursor := fs.String("cursor", "", "continue a previous search from its next-page `cursor`")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	w := fs.Int("width", 0, "output width in columns (default $COLUMNS or 100)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: ariadne search [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q (free text goes in --q)", fs.Arg(0))}
	}
	if since > 0 && *start != "" {
		return &usageError{msg: "give --since or --start, not both"}
	}
	if *limit < 1 || *limit > 1000 {
		return &usageError{msg: "--limit: want 1 to 1000"}
	}
	q := f.query()
	if since > 0 {
		q.Set("start", "-"+time.Duration(since).String())
	}
	if *start != "" {
		q.Set("start", *start)
	}
	if *end != "" {
		q.Set("end", *end)
	}
	q.Set("limit", strconv.Itoa(*limit))
	if *cursor != "" {
		q.Set("cursor", *cursor)
	}
	c, err := newClient(*server)
	if err != nil {
		return err
	}
	defer c.close()
	res, raw, err := c.search(ctx, q)
	if err != nil {
		return searchError(err)
	}
	if *asJSON {
		return printIndented(env.Stdout, raw)
	}
	out := &writer{w: env.Stdout}
	tbl := summaryTable{width: termWidth(*w, env), loc: location(env)}
	if len(res.Traces) == 0 {
		out.line("No traces found.")
		return out.err
	}
	out.line(tbl.header())
	for _, t := range res.Traces {
		out.line(tbl.row(t))
	}
	if res.NextCursor != "" {
		// On stderr so that stdout stays a clean table for pipes.
		fmt.Fprintf(env.Stderr, "More traces: add --cursor %s\n", res.NextCursor)
	}
	return out.err
}

// summaryTable lays out trace summaries, one per line; search and tail share it.
type summaryTable struct {
	width int
	loc   *time.Location
}

// Column widths; the root (service: operation) takes what is left. The id
// comes first and whole, since it is what one copies into `ariadne trace`.
const (
	colID    = 32
	colStart = 18
	colDur   = 8
	colSpans = 5
	colErrs  = 4
)

func (t summaryTable) header() string {
	return t.join("TRACE ID", "START", "DURATION", "SPANS", "ERR", "ROOT")
}

func (t summaryTable) row(s api.TraceSummary) string {
	errs := "-"
	if s.ErrorCount > 0 {
		errs = "✗" + strconv.Itoa(s.ErrorCount)
	}
	root := s.RootService + ": " + s.RootName
	if s.RootService == "" && s.RootName == "" {
		root = "(root span not received)"
	}
	start := time.Unix(0, s.StartTime).In(t.loc).Format("01-02 15:04:05.000")
	return t.join(s.TraceID, start, fmtDuration(s.DurationNs), strconv.Itoa(s.SpanCount), errs, oneLine(root))
}

func (t summaryTable) join(id, start, dur, spans, errs, root string) string {
	const fixed = colID + 2 + colStart + 2 + colDur + 1 + colSpans + 1 + colErrs + 2
	rootW := max(t.width-fixed, 10)
	return strings.TrimRight(pad(id, colID)+"  "+pad(start, colStart)+"  "+padLeft(dur, colDur)+" "+
		padLeft(spans, colSpans)+" "+padLeft(errs, colErrs)+"  "+truncate(root, rootW), " ")
}

// paramFlags names the flag behind each search parameter.
var paramFlags = map[string]string{
	"start": "--start", "end": "--end", "service": "--service", "operation": "--operation",
	"error": "--error", "minDuration": "--min-duration", "maxDuration": "--max-duration",
	"q": "--q", "limit": "--limit", "cursor": "--cursor",
}

// searchError turns the server's 400 about a parameter into a usage error
// about the flag the user typed; other errors pass through.
func searchError(err error) error {
	var ae *apiError
	if !errors.As(err, &ae) || ae.Code != api.CodeInvalidArgument {
		return fmt.Errorf("search traces: %w", err)
	}
	param, rest, ok := strings.Cut(ae.Message, ": ")
	if f, known := paramFlags[param]; ok && known {
		return &usageError{msg: f + ": " + rest}
	}
	if ok && strings.HasPrefix(param, "attr.") {
		return &usageError{msg: "--attr " + strings.TrimPrefix(param, "attr.") + ": " + rest}
	}
	return &usageError{msg: ae.Message}
}
