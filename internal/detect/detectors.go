package detect

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Attribute keys of the SDK (docs/attributes.md) the detectors read.
const (
	attrTimeout       = "ariadne.timeout"
	attrReceiveCount  = "ariadne.sqs.receive_count"
	attrBatchFailed   = "ariadne.batch.failed"
	eventInflight     = "ariadne.inflight"
	attrInflightName  = "ariadne.inflight.name"
	attrInflightNs    = "ariadne.inflight.elapsed_ns"
	eventException    = "exception"
	attrExceptionType = "exception.type"
	attrStacktrace    = "exception.stacktrace"
)

// group accumulates the occurrences of one fingerprint in a window.
type group struct {
	occ     store.IssueOccurrence
	extra   map[string]int64 // detector-specific tallies for the explanation
	callers []string         // throttled callers, at most 5
	example string
}

func examplesOf(g *group) string { return g.example }

// throttleCodes are the error codes of a refused call (AWS API error codes).
var throttleCodes = []string{"TooManyRequestsException", "ThrottlingException", "Throttling", "ThrottledException",
	"ProvisionedThroughputExceededException", "RequestLimitExceeded", "SlowDown", "RequestThrottled"}

// throttledCalls adds the window's client spans that were refused for a
// limit: a Lambda Invoke refused with 429 is the throttled function's
// occurrence (fingerprint: its name, as for a throttled invocation row);
// another service's throttling is the caller's, per service.
func throttledCalls(ctx context.Context, r store.DetectReader, w Window, g *groups) error {
	spans, trunc, err := r.DetectSpans(ctx, w.TimeRange, store.DetectSpanFilter{Errors: true}, w.limit())
	if err != nil {
		return err
	}
	if err := truncated(w, trunc); err != nil {
		return err
	}
	for i := range spans {
		s := &spans[i]
		if s.Kind != model.KindClient && s.Kind != model.KindProducer {
			continue
		}
		code := s.Attributes.String("error.type")
		throttled := slices.Contains(throttleCodes, code) || s.HTTPStatus == 429
		for _, c := range throttleCodes {
			throttled = throttled || strings.Contains(s.ErrorMessage, c)
		}
		if !throttled {
			continue
		}
		caller := functionOf(s)
		svc := s.Attributes.String("rpc.service")
		callee := s.Attributes.String("faas.invoked_name")
		fp, fn := caller+"\x1f"+svc, caller
		if callee != "" {
			fp, fn = callee, callee
		}
		gr := g.add(KindThrottle, fp, s.EndTime(), s.TraceID, func(o *store.IssueOccurrence) {
			o.Function, o.Severity = fn, SeverityWarning
		})
		if callee != "" && caller != "" && !slices.Contains(gr.callers, caller) && len(gr.callers) < 5 {
			gr.callers = append(gr.callers, caller)
		}
		gr.example = truncate(s.ErrorMessage, 200)
	}
	return nil
}

type groups struct {
	byFP  map[string]*group
	order []string
}

func newGroups() *groups { return &groups{byFP: map[string]*group{}} }

// add records one occurrence at t of trace under fp; init fills a new group.
func (g *groups) add(kind, fp string, t int64, trace model.TraceID, init func(*store.IssueOccurrence)) *group {
	gr, ok := g.byFP[fp]
	if !ok {
		gr = &group{occ: store.IssueOccurrence{Kind: kind, Fingerprint: fp, First: t, Last: t}, extra: map[string]int64{}}
		init(&gr.occ)
		g.byFP[fp] = gr
		g.order = append(g.order, fp)
	}
	gr.occ.Count++
	gr.occ.First, gr.occ.Last = min(gr.occ.First, t), max(gr.occ.Last, t)
	if !trace.IsZero() && !slices.Contains(gr.occ.Traces, trace) {
		gr.occ.Traces = append(gr.occ.Traces, trace)
		if len(gr.occ.Traces) > store.MaxSampleTraces {
			gr.occ.Traces = gr.occ.Traces[1:]
		}
	}
	return gr
}

// list returns the occurrences, explained by explain, in fingerprint order
// (deterministic across nodes).
func (g *groups) list(explain func(*group)) []store.IssueOccurrence {
	sort.Strings(g.order)
	out := make([]store.IssueOccurrence, 0, len(g.order))
	for _, fp := range g.order {
		gr := g.byFP[fp]
		if explain != nil {
			explain(gr)
		}
		out = append(out, gr.occ)
	}
	return out
}

func functionOf(s *model.Span) string {
	if s.Function != "" {
		return s.Function
	}
	return s.Service
}

func attrOf(as model.Attributes, key string) (model.Value, bool) { return as.Get(key) }

// intOf reads an int attribute (canonical decimal form); 0 when absent.
func intOf(v model.Value) int64 {
	n, _ := strconv.ParseInt(v.Str, 10, 64)
	return n
}

func when(t int64) string { return time.Unix(0, t).UTC().Format(time.RFC3339) }

// seconds writes a duration as people read one in a sentence: "2.8 s",
// "340 ms", "95 µs".
func seconds(ns int64) string {
	switch {
	case ns >= int64(time.Second) || ns <= -int64(time.Second):
		return strconv.FormatFloat(float64(ns)/1e9, 'f', 1, 64) + " s"
	case ns >= int64(time.Millisecond) || ns <= -int64(time.Millisecond):
		return strconv.FormatInt(ns/int64(time.Millisecond), 10) + " ms"
	}
	return strconv.FormatInt(ns/int64(time.Microsecond), 10) + " µs"
}

// ---- errors ----

// errorsDetector groups failed entry spans (the span of an invocation or
// a request) by function, exception type, masked message and top frame.
// Timeouts and partial batch failures have their own detectors.
type errorsDetector struct{}

func (errorsDetector) Name() string { return "errors.v1" }

var (
	reUUID   = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	reHex    = regexp.MustCompile(`\b(?:0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b`)
	reNumber = regexp.MustCompile(`\d+(?:\.\d+)?`)
	reQuoted = regexp.MustCompile(`"[^"]{0,200}"|'[^']{0,200}'`)
)

// MaskMessage replaces what varies between occurrences of one error — ids,
// uuids, numbers, quoted values — so that they group together.
func MaskMessage(m string) string {
	if len(m) > 1024 {
		m = m[:1024]
	}
	m = reUUID.ReplaceAllString(m, "<uuid>")
	m = reQuoted.ReplaceAllString(m, "<str>")
	m = reHex.ReplaceAllStringFunc(m, func(s string) string {
		if len(s) >= 8 {
			return "<id>"
		}
		return s
	})
	m = reNumber.ReplaceAllString(m, "<n>")
	return strings.TrimSpace(m)
}

// TopFrame returns the first frame of a Go stack trace (exception.stacktrace)
// that is not the runtime's, the panic machinery's or the SDK's, "" when
// there is none.
func TopFrame(stack string) string {
	for _, line := range strings.Split(stack, "\n") {
		if line == "" || strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "goroutine ") || strings.HasPrefix(line, " ") {
			continue
		}
		fn := line
		if i := strings.LastIndex(fn, "("); i > 0 {
			fn = fn[:i]
		}
		switch {
		case strings.HasPrefix(fn, "runtime."), strings.HasPrefix(fn, "runtime/"), strings.HasPrefix(fn, "panic"),
			strings.HasPrefix(fn, "github.com/ariadnehq/ariadne/sdk"), strings.HasPrefix(fn, "created by"):
			continue
		}
		return fn
	}
	return ""
}

func isEntry(s *model.Span) bool {
	return s.Trigger != "" || s.Kind == model.KindServer || s.ParentSpanID.IsZero()
}

func (errorsDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	spans, trunc, err := r.DetectSpans(ctx, w.TimeRange, store.DetectSpanFilter{Errors: true}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	g := newGroups()
	examples := map[string]string{}
	for i := range spans {
		s := &spans[i]
		if !isEntry(s) {
			continue
		}
		if _, ok := attrOf(s.Attributes, attrTimeout); ok {
			continue
		}
		if _, ok := attrOf(s.Attributes, attrBatchFailed); ok {
			continue
		}
		fn := functionOf(s)
		typ, msg, frame := s.ErrorType, s.ErrorMessage, ""
		for _, ev := range s.Events {
			if ev.Name != eventException {
				continue
			}
			if v, ok := attrOf(ev.Attributes, attrStacktrace); ok {
				frame = TopFrame(v.Str)
			}
			if v, ok := attrOf(ev.Attributes, attrExceptionType); ok && typ == "" {
				typ = v.Str
			}
		}
		if msg == "" {
			msg = s.StatusMessage
		}
		if typ == "" {
			typ = "error"
		}
		masked := MaskMessage(msg)
		fp := strings.Join([]string{fn, typ, masked, frame}, "\x1f")
		g.add(KindError, fp, s.EndTime(), s.TraceID, func(o *store.IssueOccurrence) {
			o.Function, o.Severity = fn, SeverityError
			o.Title = fmt.Sprintf("%s in %s", truncate(masked, 120), fn)
			if !genericType(typ) {
				o.Title = typ + ": " + o.Title
			}
		})
		examples[fp] = msg
		if frame != "" {
			examples[fp+"\x00frame"] = frame
		}
	}
	return g.list(func(gr *group) {
		o := &gr.occ
		o.Explanation = fmt.Sprintf("%s failed with %s: %q (last at %s).", o.Function,
			strings.Split(o.Fingerprint, "\x1f")[1], truncate(examples[o.Fingerprint], 300), when(o.Last))
		if f := examples[o.Fingerprint+"\x00frame"]; f != "" {
			o.Explanation += " It was raised in " + f + "."
		}
	}), nil
}

// genericType reports whether an error type says nothing a reader wants
// in a title (Go's anonymous error values).
func genericType(t string) bool {
	switch t {
	case "error", "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
		return true
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ---- timeouts ----

// timeoutDetector groups timed-out invocations by function and by what
// the function was waiting on at the deadline: the longest call the SDK
// reported in flight (ariadne.inflight events on the timeout marker).
type timeoutDetector struct{}

func (timeoutDetector) Name() string { return "timeouts.v1" }

type inflight struct {
	name    string
	elapsed int64
}

// displayCall turns an SDK span name ("DynamoDB.Query") into words.
func displayCall(n string) string { return strings.Replace(n, ".", " ", 1) }

func (timeoutDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	invs, trunc, err := r.DetectInvocations(ctx, store.DetectInvocationQuery{TimeRange: w.TimeRange,
		Statuses: []model.InvocationStatus{model.InvocationTimeout}, Now: w.Now}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	if len(invs) == 0 {
		return nil, nil
	}
	// The SDK ends its invocation span at its pre-deadline timer, a little
	// before the platform's end; widen the span window by a minute.
	sr := w.TimeRange
	sr.Start -= int64(time.Minute)
	markers, trunc, err := r.DetectSpans(ctx, sr, store.DetectSpanFilter{AttrKeys: []string{attrTimeout}}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	waited := map[string]inflight{}
	for i := range markers {
		s := &markers[i]
		var best inflight
		for _, ev := range s.Events {
			if ev.Name != eventInflight {
				continue
			}
			n, _ := attrOf(ev.Attributes, attrInflightName)
			e, _ := attrOf(ev.Attributes, attrInflightNs)
			if intOf(e) >= best.elapsed && n.Str != "" {
				best = inflight{name: n.Str, elapsed: intOf(e)}
			}
		}
		waited[s.InvocationID] = best
	}
	g := newGroups()
	for i := range invs {
		inv := &invs[i]
		wt := waited[inv.RequestID]
		end := inv.Start + inv.DurationNs
		if inv.Deadline > 0 {
			end = max(end, inv.Deadline)
		}
		gr := g.add(KindTimeout, inv.Function+"\x1f"+wt.name, end, inv.TraceID, func(o *store.IssueOccurrence) {
			o.Function, o.Severity = inv.Function, SeverityError
		})
		gr.extra["elapsed"] = wt.elapsed
		if inv.Deadline > inv.Start {
			gr.extra["limit"] = inv.Deadline - inv.Start
		}
	}
	return g.list(func(gr *group) {
		o := &gr.occ
		call := strings.Split(o.Fingerprint, "\x1f")[1]
		limit := ""
		if l := gr.extra["limit"]; l > 0 {
			limit = " of " + seconds(l)
		}
		if call == "" {
			o.Title = fmt.Sprintf("%s timed out", o.Function)
			o.Explanation = fmt.Sprintf("%s ran into its timeout%s (last at %s); no call was reported in flight at the deadline, so the time went into the function's own code or an uninstrumented call.",
				o.Function, limit, when(o.Last))
			return
		}
		o.Title = fmt.Sprintf("%s timed out waiting on %s (%s)", o.Function, displayCall(call), seconds(gr.extra["elapsed"]))
		o.Explanation = fmt.Sprintf("%s ran into its timeout%s (last at %s). At the deadline it was still waiting on %s, in flight for %s: make that call faster, give it a deadline shorter than the function's, or raise the timeout.",
			o.Function, limit, when(o.Last), displayCall(call), seconds(gr.extra["elapsed"]))
	}), nil
}

// ---- out of memory, crashes, throttles ----

// statusDetector groups invocations of one terminal platform status.
type statusDetector struct{ kind string }

func (d statusDetector) Name() string { return d.kind + ".v1" }

func (d statusDetector) status() model.InvocationStatus {
	switch d.kind {
	case KindOOM:
		return model.InvocationOOM
	case KindCrash:
		return model.InvocationCrash
	}
	return model.InvocationThrottled
}

func (d statusDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	invs, trunc, err := r.DetectInvocations(ctx, store.DetectInvocationQuery{TimeRange: w.TimeRange,
		Statuses: []model.InvocationStatus{d.status()}, Now: w.Now}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	g := newGroups()
	if d.kind == KindThrottle {
		// Lambda refuses a throttled invocation before any code runs: no
		// telemetry of the function exists, only the caller's failed call.
		if err := throttledCalls(ctx, r, w, g); err != nil {
			return nil, err
		}
	}
	for i := range invs {
		inv := &invs[i]
		fp := inv.Function
		if d.kind == KindCrash {
			fp += "\x1f" + inv.ErrorType
		}
		gr := g.add(d.kind, fp, inv.Start+inv.DurationNs, inv.TraceID, func(o *store.IssueOccurrence) {
			o.Function = inv.Function
			o.Severity = SeverityError
			if d.kind == KindThrottle {
				o.Severity = SeverityWarning
			}
		})
		gr.extra["max"] = max(gr.extra["max"], int64(inv.MaxMemoryMB))
		gr.extra["size"] = max(gr.extra["size"], int64(inv.MemoryMB))
		if d.kind == KindOOM && gr.extra["first"] == 0 {
			gr.extra["first"] = inv.Start
		}
	}
	trends := map[string]string{}
	if d.kind == KindOOM {
		for _, fp := range g.order {
			t, err := memoryTrend(ctx, r, fp, g.byFP[fp].extra["first"], w.Now)
			if err != nil {
				return nil, err
			}
			trends[fp] = t
		}
	}
	return g.list(func(gr *group) {
		o := &gr.occ
		switch d.kind {
		case KindOOM:
			o.Title = fmt.Sprintf("%s ran out of memory", o.Function)
			mem := ""
			if gr.extra["size"] > 0 {
				o.Title += fmt.Sprintf(" (%d MB used of %d MB)", gr.extra["max"], gr.extra["size"])
				mem = fmt.Sprintf(" It used %d MB of its %d MB.", gr.extra["max"], gr.extra["size"])
			}
			o.Explanation = fmt.Sprintf("%s was killed for exceeding its memory size (last at %s).%s%s The invocation's work was lost; give the function more memory or find what grows (a large payload read whole, a cache without a bound).",
				o.Function, when(o.Last), mem, trends[o.Fingerprint])
		case KindCrash:
			et := strings.Split(o.Fingerprint, "\x1f")[1]
			if et == "" {
				et = "no error reported"
			}
			o.Title = fmt.Sprintf("%s crashed (%s)", o.Function, et)
			o.Explanation = fmt.Sprintf("The runtime of %s exited without answering (%s; last at %s): a panic outside the handler, os.Exit, or a fatal signal.",
				o.Function, et, when(o.Last))
		default:
			if svc := strings.TrimPrefix(o.Fingerprint, o.Function+"\x1f"); svc != o.Fingerprint {
				// A throttled call to another service (DynamoDB, SQS …).
				o.Title = fmt.Sprintf("%s was throttled by %s", o.Function, svc)
				o.Explanation = fmt.Sprintf("Calls from %s to %s were refused for exceeding its rate or capacity (%s; last at %s). Retry with back-off, raise the limit, or spread the load.",
					o.Function, svc, examplesOf(gr), when(o.Last))
				return
			}
			o.Title = fmt.Sprintf("%s was throttled", o.Function)
			o.Explanation = fmt.Sprintf("Lambda refused to run %s (last at %s) because its concurrency limit was reached; synchronous callers got 429 TooManyRequestsException, asynchronous events and queue messages were delayed.",
				o.Function, when(o.Last))
			if c := gr.callers; len(c) > 0 {
				o.Explanation += " Refused callers: " + strings.Join(c, ", ") + "."
			}
		}
	}), nil
}

// trendInvocations is how many invocations before an OOM kill the trend
// looks at.
const trendInvocations = 50

// memoryTrend describes the max memory used by the function's last
// invocations before t: rising (a leak across warm invocations) or flat
// (one invocation's input was too big).
func memoryTrend(ctx context.Context, r store.DetectReader, fn string, t, now int64) (string, error) {
	invs, _, err := r.Invocations(ctx, store.InvocationQuery{TimeRange: store.TimeRange{Start: t - int64(time.Hour), End: t},
		Function: fn, Limit: trendInvocations, Now: now})
	if err != nil {
		return "", fmt.Errorf("read invocations before the kill: %w", err)
	}
	var mems []int32 // oldest first
	for i := len(invs) - 1; i >= 0; i-- {
		if invs[i].MaxMemoryMB > 0 && invs[i].Status != model.InvocationOOM {
			mems = append(mems, invs[i].MaxMemoryMB)
		}
	}
	if len(mems) < 2 {
		return "", nil
	}
	lo, hi := slices.Min(mems), slices.Max(mems)
	first, last := mems[0], mems[len(mems)-1]
	if last > first && hi-lo >= max(8, lo/5) {
		return fmt.Sprintf(" Before it, max memory used rose from %d MB to %d MB over %d invocations: memory kept across warm invocations grows (a leak).", first, last, len(mems)), nil
	}
	return fmt.Sprintf(" The %d invocations before it used %d–%d MB: not a slow leak, one invocation's work needed more than the memory size.", len(mems), lo, hi), nil
}

// ---- retries ----

// retryDetector finds events processed more than once: async invocations
// retried under the same request id, and SQS messages received more than
// once (ApproximateReceiveCount > 1), and says whether the last attempt
// succeeded.
type retryDetector struct{}

// redeliveryLookback is how far before a window the retry detector looks
// for the SQS spans of an invocation that ended in it.
const redeliveryLookback = int64(time.Minute)

func (retryDetector) Name() string { return "retries.v1" }

func (retryDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	redeliveries := store.DetectSpanFilter{AttrAtLeast: []store.AttrBound{{Key: attrReceiveCount, Min: 2}}}
	spans, trunc, err := r.DetectSpans(ctx, w.TimeRange, redeliveries, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	invs, trunc, err := r.DetectInvocations(ctx, store.DetectInvocationQuery{TimeRange: w.TimeRange, MinAttempt: 2, Now: w.Now}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	// An invocation for one SQS message carries the message's receive
	// count as its attempt: that is a redelivery (counted below, by
	// message), not Lambda retrying an asynchronous event. The platform's
	// record of an invocation ends after the SDK's spans, so the spans may
	// lie in the window before.
	redelivered := map[model.TraceID]bool{}
	if len(invs) > 0 {
		before, _, err := r.DetectSpans(ctx, store.TimeRange{Start: w.Start - redeliveryLookback, End: w.Start}, redeliveries, w.limit())
		if err != nil {
			return nil, err
		}
		for _, s := range slices.Concat(spans, before) {
			redelivered[s.TraceID] = true
		}
	}
	g := newGroups()
	for i := range invs {
		inv := &invs[i]
		if redelivered[inv.TraceID] {
			continue
		}
		gr := g.add(KindRetry, inv.Function+"\x1fasync", inv.Start+inv.DurationNs, inv.TraceID, func(o *store.IssueOccurrence) {
			o.Function = inv.Function
		})
		gr.extra["attempts"] = max(gr.extra["attempts"], int64(inv.Attempt))
		if inv.Status == model.InvocationOK {
			gr.extra["succeeded"]++
		}
	}
	// The SDK puts the receive count on the per-message processing span
	// and, for a one-message batch, on the invocation span too: count each
	// (message, receive) once, preferring the processing span, whose
	// status is the message's own.
	seen := map[string]bool{}
	slices.SortStableFunc(spans, func(a, b model.Span) int {
		if isEntry(&a) == isEntry(&b) {
			return 0
		}
		if isEntry(&a) {
			return 1
		}
		return -1
	})
	for i := range spans {
		s := &spans[i]
		rc, _ := attrOf(s.Attributes, attrReceiveCount)
		if intOf(rc) < 2 {
			continue
		}
		if len(s.MessageIDs) > 0 {
			k := s.MessageIDs[0] + "\x00" + rc.Str
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		if isDeadLetterQueue(s.Destination) {
			// A message moved to a dead-letter queue keeps the receive
			// count of its source queue: its first receive there is no
			// retry (the dead-letter detector reports how it got there).
			continue
		}
		fn := functionOf(s)
		gr := g.add(KindRetry, fn+"\x1fsqs\x1f"+s.Destination, s.EndTime(), s.TraceID, func(o *store.IssueOccurrence) {
			o.Function, o.Channel = fn, s.Destination
		})
		gr.extra["attempts"] = max(gr.extra["attempts"], intOf(rc))
		if !s.IsError() {
			gr.extra["succeeded"]++
		}
	}
	return g.list(func(gr *group) {
		o := &gr.occ
		ok := gr.extra["succeeded"]
		o.Severity = SeverityWarning
		if ok < o.Count {
			o.Severity = SeverityError
		}
		outcome := fmt.Sprintf("in the latest window %d of %d retried deliveries succeeded, %d failed again", ok, o.Count, o.Count-ok)
		if o.Channel == "" {
			o.Title = fmt.Sprintf("%s retried asynchronous events (up to %d attempts)", o.Function, gr.extra["attempts"])
			o.Explanation = fmt.Sprintf("Lambda ran %s again for events it had already tried (same request id; up to %d attempts, last at %s): %s. Every retry repeats the handler's side effects unless it is idempotent.",
				o.Function, gr.extra["attempts"], when(o.Last), outcome)
			return
		}
		o.Title = fmt.Sprintf("%s received messages from %s more than once (up to %d receives)", o.Function, o.Channel, gr.extra["attempts"])
		o.Explanation = fmt.Sprintf("%s processed messages of %s that had been received before (ApproximateReceiveCount up to %d, last at %s): %s. A failed or slow earlier attempt made SQS deliver them again.",
			o.Function, o.Channel, gr.extra["attempts"], when(o.Last), outcome)
	}), nil
}

// ---- partial batch failures ----

// batchDetector groups the messages a consumer reported in
// batchItemFailures (ariadne.batch.failed) by function, queue and error.
type batchDetector struct{}

func (batchDetector) Name() string { return "batch.v1" }

func (batchDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	spans, trunc, err := r.DetectSpans(ctx, w.TimeRange, store.DetectSpanFilter{AttrKeys: []string{attrBatchFailed}}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	g := newGroups()
	examples := map[string]string{}
	for i := range spans {
		s := &spans[i]
		if v, _ := attrOf(s.Attributes, attrBatchFailed); v.Str != "true" {
			continue
		}
		fn := functionOf(s)
		masked := MaskMessage(s.ErrorMessage)
		fp := fn + "\x1f" + s.Destination + "\x1f" + masked
		g.add(KindPartialBatch, fp, s.EndTime(), s.TraceID, func(o *store.IssueOccurrence) {
			o.Function, o.Channel, o.Severity = fn, s.Destination, SeverityError
			o.Title = fmt.Sprintf("%s failed messages of %s: %s", fn, s.Destination, truncate(masked, 100))
		})
		examples[fp] = s.ErrorMessage
	}
	return g.list(func(gr *group) {
		o := &gr.occ
		o.Explanation = fmt.Sprintf("%s reported messages of %s as failed in batchItemFailures (last at %s) with %q; the rest of each batch succeeded. SQS delivers the failed messages again and, after the queue's maxReceiveCount, moves them to its dead-letter queue.",
			o.Function, o.Channel, when(o.Last), truncate(examples[o.Fingerprint], 300))
	}), nil
}
