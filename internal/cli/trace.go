package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/api"
	"github.com/ariadnehq/ariadne/internal/model"
)

// traceCmd draws one trace as a waterfall: the span tree with duration bars
// on a common time scale, errors marked, and the trace's logs interleaved
// under their spans in time order.
type traceCmd struct{}

func (traceCmd) Name() string     { return "trace" }
func (traceCmd) Synopsis() string { return "show one trace as a waterfall" }

func (traceCmd) Run(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "trace")
	server := serverFlag(fs, env)
	noColor := fs.Bool("no-color", false, "plain text without ANSI colours (also: NO_COLOR)")
	w := fs.Int("width", 0, "output width in columns (default $COLUMNS or 100)")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of the waterfall")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: ariadne trace [flags] <trace-id>")
		fs.PrintDefaults()
	}
	// Accept flags after the id too (`ariadne trace <id> --no-color`).
	args, err := interleaved(fs, args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return &usageError{msg: "want exactly one trace id"}
	}
	id, err := model.ParseTraceID(args[0])
	if err != nil {
		return &usageError{msg: fmt.Sprintf("trace id %q: want 32 hex digits", args[0])}
	}
	c, err := newClient(*server)
	if err != nil {
		return err
	}
	defer c.close()
	if *asJSON {
		raw, err := c.get(ctx, "/api/v1/traces/"+id.String(), nil)
		if err != nil {
			return fmt.Errorf("get trace %s: %w", id, err)
		}
		return printIndented(env.Stdout, raw)
	}
	t, err := c.trace(ctx, id)
	if err != nil {
		return fmt.Errorf("get trace %s: %w", id, err)
	}
	return renderTrace(env.Stdout, t, renderOptions{
		width: termWidth(*w, env),
		style: style{color: useColor(*noColor, env)},
		loc:   location(env),
	})
}

// interleaved parses flags that may come before or after the positional
// arguments, which the flag package alone stops at.
func interleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func printIndented(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("format answer: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

type renderOptions struct {
	width int
	style style
	loc   *time.Location
}

// waterfall holds one trace prepared for drawing.
type waterfall struct {
	opt      renderOptions
	t        *api.TraceResponse
	children map[string][]int // parent span id → span indexes, by start
	logs     map[string][]int // span id → log indexes, by time
	start    int64            // first span start
	total    int64            // last span end − start
	labelW   int
	barW     int
	drawn    []bool // guards against parent cycles, which bad data can hold
}

const durW = 8 // duration column

// renderTrace draws t. It works from the wire types alone, so it renders the
// same whatever engine the server runs.
func renderTrace(out io.Writer, t *api.TraceResponse, opt renderOptions) error {
	wf := &waterfall{opt: opt, t: t, children: map[string][]int{}, logs: map[string][]int{}}
	w := &writer{w: out}
	byID := make(map[string]int, len(t.Spans))
	for i, s := range t.Spans {
		byID[s.SpanID] = i
	}
	var roots []int
	for i, s := range t.Spans {
		// A span whose parent never arrived (or is itself) is drawn as a
		// root rather than dropped.
		if p, ok := byID[s.ParentSpanID]; ok && s.ParentSpanID != "" && p != i {
			wf.children[s.ParentSpanID] = append(wf.children[s.ParentSpanID], i)
		} else {
			roots = append(roots, i)
		}
	}
	bySpanStart := func(a, b int) int {
		return cmp.Or(cmp.Compare(t.Spans[a].StartTime, t.Spans[b].StartTime),
			strings.Compare(t.Spans[a].SpanID, t.Spans[b].SpanID))
	}
	slices.SortStableFunc(roots, bySpanStart)
	for _, c := range wf.children {
		slices.SortStableFunc(c, bySpanStart)
	}
	var loose []int // logs of no span in this trace
	for i, l := range t.Logs {
		if _, ok := byID[l.SpanID]; ok && l.SpanID != "" {
			wf.logs[l.SpanID] = append(wf.logs[l.SpanID], i)
		} else {
			loose = append(loose, i)
		}
	}
	for _, l := range wf.logs {
		slices.SortStableFunc(l, func(a, b int) int { return cmp.Compare(t.Logs[a].Time, t.Logs[b].Time) })
	}
	slices.SortStableFunc(loose, func(a, b int) int { return cmp.Compare(t.Logs[a].Time, t.Logs[b].Time) })

	wf.span()
	wf.layout()
	wf.header(w)
	if len(t.Spans) > 0 {
		w.line(strings.Repeat(" ", wf.labelW) + " " + opt.style.dim(wf.scale()))
	}
	wf.drawn = make([]bool, len(t.Spans))
	for _, r := range roots {
		wf.drawSpan(w, r, "", "", "")
	}
	// Spans on a parent cycle are reachable from no root: draw them too.
	for i := range t.Spans {
		if !wf.drawn[i] {
			wf.drawSpan(w, i, "", "", "")
		}
	}
	if len(loose) > 0 {
		w.line("")
		w.line(opt.style.bold("Logs outside the spans above"))
		for _, i := range loose {
			w.line(wf.logLine(i, "  "))
		}
	}
	if len(t.Invocations) > 0 {
		w.line("")
		w.line(opt.style.bold("Invocations"))
		for _, inv := range t.Invocations {
			line := truncate(wf.invocationLine(inv), opt.width)
			if inv.Status != "ok" && inv.Status != "" && inv.Status != "started" {
				line = opt.style.red(line)
			}
			w.line(line)
		}
	}
	return w.err
}

// span finds the time window of the trace (logs included when there are no
// spans, so that offsets stay meaningful).
func (wf *waterfall) span() {
	first, last := int64(0), int64(0)
	for i, s := range wf.t.Spans {
		if i == 0 || s.StartTime < first {
			first = s.StartTime
		}
		if end := s.StartTime + s.DurationNs; i == 0 || end > last {
			last = end
		}
	}
	if len(wf.t.Spans) == 0 && len(wf.t.Logs) > 0 {
		first = wf.t.Logs[0].Time
		for _, l := range wf.t.Logs {
			first = min(first, l.Time)
			last = max(last, l.Time)
		}
	}
	wf.start, wf.total = first, max(last-first, 0)
}

// layout splits the width: label, bar, duration. The bar gets two fifths
// but never squeezes the label below 16 cells.
func (wf *waterfall) layout() {
	wd := wf.opt.width
	wf.barW = max(10, wd*2/5)
	wf.labelW = wd - wf.barW - durW - 2
	if wf.labelW < 16 {
		wf.labelW = 16
		wf.barW = max(10, wd-wf.labelW-durW-2)
	}
}

func (wf *waterfall) header(w *writer) {
	st := wf.opt.style
	services := map[string]struct{}{}
	errs := 0
	for _, s := range wf.t.Spans {
		services[s.Service] = struct{}{}
		if s.Status.Code == "error" {
			errs++
		}
	}
	id := ""
	switch {
	case len(wf.t.Spans) > 0:
		id = wf.t.Spans[0].TraceID
	case len(wf.t.Logs) > 0:
		id = wf.t.Logs[0].TraceID
	}
	w.line(st.bold("Trace " + id))
	// Errors come early so that a narrow terminal cuts the counts instead.
	parts := []string{fmtTime(wf.start, wf.opt.loc), fmtDuration(wf.total)}
	errText := ""
	if errs > 0 {
		errText = "✗ " + plural(errs, "error")
		parts = append(parts, errText)
	}
	parts = append(parts, plural(len(wf.t.Spans), "span"), plural(len(services), "service"))
	if len(wf.t.Logs) > 0 {
		parts = append(parts, plural(len(wf.t.Logs), "log"))
	}
	line := truncate(strings.Join(parts, " · "), wf.opt.width)
	if errText != "" && strings.Contains(line, errText) {
		line = strings.Replace(line, errText, st.red(errText), 1)
	}
	w.line(line)
	w.line("")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// scale is the time axis above the bars: 0, the middle and the total.
func (wf *waterfall) scale() string {
	cells := []rune(strings.Repeat(" ", wf.barW))
	put := func(at int, s string) {
		r := []rune(s)
		if at < 0 {
			at = 0
		}
		if at+len(r) > len(cells) {
			at = len(cells) - len(r)
		}
		copy(cells[max(at, 0):], r)
	}
	end := fmtDuration(wf.total)
	mid := fmtDuration(wf.total / 2)
	put(0, "0")
	if wf.barW >= len(end)+len(mid)+6 {
		put(wf.barW/2-len([]rune(mid))/2, mid)
	}
	put(wf.barW-len([]rune(end)), end)
	return string(cells)
}

// bar draws [start, start+dur) on the trace's scale, at least one cell.
func (wf *waterfall) bar(start, dur int64) string {
	b := wf.barW
	from, to := 0, b
	if wf.total > 0 {
		off := start - wf.start
		from = int(float64(off) / float64(wf.total) * float64(b))
		to = int(float64(off+dur)/float64(wf.total)*float64(b) + 0.999999)
	}
	from = min(max(from, 0), b-1)
	to = min(max(to, from+1), b)
	return strings.Repeat(" ", from) + strings.Repeat("█", to-from) + strings.Repeat(" ", b-to)
}

// drawSpan draws span i, its error, then its logs and children merged in
// time order. prefix is the tree drawn left of the connector; connector is
// "├─ ", "└─ " or "" for a root; childPrefix continues the tree below.
func (wf *waterfall) drawSpan(w *writer, i int, prefix, connector, childPrefix string) {
	st := wf.opt.style
	s := &wf.t.Spans[i]
	isErr := s.Status.Code == "error"
	wf.drawn[i] = true

	label := s.Service + ": " + s.Name
	if s.ColdStart {
		label += " ❄ cold"
	}
	mark := ""
	if isErr {
		mark = "✗ "
	}
	tree := fitPrefix(prefix+connector, wf.labelW/2)
	plain := truncate(tree+mark+label, wf.labelW)
	text := plain
	// Colour only when the label was not cut, so that codes are never split.
	if st.color && plain == tree+mark+label {
		text = st.dim(tree) + st.red(mark) + st.service(s.Service, s.Service) + ": " + s.Name
		if s.ColdStart {
			text += " ❄ cold"
		}
	}
	bar := wf.bar(s.StartTime, s.DurationNs)
	if isErr {
		bar = st.red(bar)
	} else {
		bar = st.service(s.Service, bar)
	}
	dur := padLeft(fmtDuration(s.DurationNs), durW)
	w.line(text + strings.Repeat(" ", wf.labelW-width(plain)) + " " + bar + " " + dur)

	var kids []int
	for _, k := range wf.children[s.SpanID] {
		if !wf.drawn[k] {
			kids = append(kids, k)
		}
	}
	logs := wf.logs[s.SpanID]

	// below is the tree drawn under this span's label for lines that are
	// not child spans: a vertical line when more children follow.
	below := func(kidsLeft int) string {
		if kidsLeft > 0 {
			return fitPrefix(childPrefix+"│  ", wf.opt.width/2)
		}
		return fitPrefix(childPrefix+"   ", wf.opt.width/2)
	}
	if isErr {
		msg := s.ErrorMessage
		if msg == "" {
			msg = s.Status.Message
		}
		if s.ErrorType != "" {
			msg = s.ErrorType + ": " + msg
		}
		if msg != "" {
			w.line(st.dim(below(len(kids))) + st.red(truncate("✗ "+oneLine(msg), wf.opt.width-width(below(len(kids))))))
		}
	}
	k, l := 0, 0
	for k < len(kids) || l < len(logs) {
		if l < len(logs) && (k == len(kids) || wf.t.Logs[logs[l]].Time <= wf.t.Spans[kids[k]].StartTime) {
			w.line(wf.logLine(logs[l], below(len(kids)-k)))
			l++
			continue
		}
		if wf.drawn[kids[k]] { // reached twice through a cycle
			k++
			continue
		}
		last := k == len(kids)-1
		conn, next := "├─ ", childPrefix+"│  "
		if last {
			conn, next = "└─ ", childPrefix+"   "
		}
		wf.drawSpan(w, kids[k], childPrefix, conn, next)
		k++
	}
}

// fitPrefix keeps the right end of a tree prefix that is wider than n
// cells, so that a very deep span still shows its name.
func fitPrefix(prefix string, n int) string {
	r := []rune(prefix)
	if len(r) <= n {
		return prefix
	}
	return "…" + string(r[len(r)-n+1:])
}

// logLine draws log i after the given tree prefix: offset from the trace
// start, severity and the body on one line.
func (wf *waterfall) logLine(i int, prefix string) string {
	st := wf.opt.style
	l := &wf.t.Logs[i]
	sev := severity(l.SeverityText, l.SeverityNumber)
	off := "+" + fmtDuration(l.Time-wf.start)
	if l.Time < wf.start {
		off = fmtDuration(l.Time - wf.start) // before the first span: "-180ms"
	}
	text := "• " + off + " " + pad(sev, 5) + " " + oneLine(bodyText(l.Body))
	if l.SpanID == "" || wf.logs[l.SpanID] == nil {
		if l.Service != "" {
			text += "  [" + l.Service + "]"
		}
	}
	text = truncate(text, wf.opt.width-width(prefix))
	if l.SeverityNumber >= 17 || sev == "ERROR" || sev == "FATAL" {
		return st.dim(prefix) + st.red(text)
	}
	return st.dim(prefix + text)
}

// severity names a log level from its text, else its OTLP number.
func severity(text string, n uint8) string {
	if text != "" {
		return strings.ToUpper(text)
	}
	switch {
	case n == 0:
		return "-"
	case n <= 4:
		return "TRACE"
	case n <= 8:
		return "DEBUG"
	case n <= 12:
		return "INFO"
	case n <= 16:
		return "WARN"
	case n <= 20:
		return "ERROR"
	default:
		return "FATAL"
	}
}

// bodyText shows a log body: a string as itself, anything else as JSON.
func bodyText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// invocationLine shows one invocation row; the request id comes before the
// details so that a narrow terminal cuts the details, not the id.
func (wf *waterfall) invocationLine(v api.Invocation) string {
	parts := []string{v.Function, v.Status}
	if v.DurationNs > 0 {
		parts = append(parts, fmtDuration(v.DurationNs))
	}
	parts = append(parts, v.RequestID)
	var details []string
	if v.BilledDurationNs > 0 {
		details = append(details, "billed "+fmtDuration(v.BilledDurationNs))
	}
	if v.ColdStart {
		c := "cold start"
		if v.InitDurationNs > 0 {
			c += " (init " + fmtDuration(v.InitDurationNs) + ")"
		}
		details = append(details, c)
	}
	switch {
	case v.MemoryMB > 0 && v.MaxMemoryMB > 0:
		details = append(details, fmt.Sprintf("memory %d/%d MB", v.MaxMemoryMB, v.MemoryMB))
	case v.MemoryMB > 0: // the peak is known only from REPORT lines
		details = append(details, fmt.Sprintf("memory %d MB", v.MemoryMB))
	}
	if v.Attempt > 1 {
		details = append(details, fmt.Sprintf("attempt %d", v.Attempt))
	}
	if v.ErrorType != "" {
		details = append(details, "✗ "+v.ErrorType)
	}
	line := "  " + strings.Join(parts, "  ")
	if len(details) > 0 {
		line += "  " + strings.Join(details, " · ")
	}
	return oneLine(line)
}
