// Package invocation merges what several sources know about one Lambda
// invocation into the single record users see (DESIGN.md §2), classifies
// the platform's status values and prices an invocation.
//
// Sources (model.Invocation.Source) and what each is trusted for:
//
//   - "telemetry": Telemetry API events forwarded by the extension
//     (platform.start, platform.runtimeDone, platform.report).
//   - "logs": platform log lines (START, END, REPORT, "Task timed out …",
//     "Runtime exited with error …") from CloudWatch Logs or the extension.
//   - "sdk": the function's entry span exported by Ariadne's SDK (or any
//     OpenTelemetry Lambda instrumentation).
//   - "sdk-start": the SDK's start marker, sent when the invocation begins.
//
// Precedence, field by field (first source that knows wins):
//
//	status      platform fate first: timeout, oom, crash or throttled from
//	            telemetry, then from logs; then error from any source (the
//	            SDK sees handled errors the platform does not); then sdk,
//	            telemetry, logs; a start marker alone is "started" until its
//	            deadline passes, then timeout
//	error type  the source that decided the status; else sdk
//	duration, billed duration, memory, max memory, init duration
//	            telemetry, logs, sdk (the platform measures what is billed)
//	start       telemetry, sdk, sdk-start, logs
//	trace id    sdk, sdk-start, telemetry, logs (the SDK's trace is the one
//	            holding the spans; the platform's is the X-Ray trace)
//	cold start  sdk, sdk-start, telemetry, logs (the platform knows it from
//	            an init duration; true from any source wins)
//	deadline    sdk-start, then any
//	function    sdk, sdk-start, telemetry, logs
//	attempt     the largest reported, or the number of attempts seen
//
// Rows of the same source are folded first (a source may send one request
// in pieces: START and REPORT lines in different deliveries); within a
// source a later non-zero field fills a zero one and the most final status
// wins. Lambda's async retries reuse the request id: rows of one source
// that start more than AttemptGap after the previous rows ended are a later
// attempt, and the record describes the last attempt (attempt = the number
// of attempts seen, or the SDK's count when higher).
//
// The package imports only the model, so every storage engine merges the
// same way; it must not do I/O.
package invocation

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
)

// Source names (model.Invocation.Source).
const (
	SourceTelemetry = "telemetry"
	SourceLogs      = "logs"
	SourceSDK       = "sdk"
	SourceSDKStart  = "sdk-start"
)

// sourceOrder is the order sources are listed in a merged record's Source.
var sourceOrder = [...]string{SourceSDK, SourceSDKStart, SourceTelemetry, SourceLogs}

// DeadlineGrace is how long after its deadline a started invocation with no
// end is declared timed out: the end (an SDK span, a platform report) may
// still be on its way.
const DeadlineGrace = int64(30e9)

// AttemptGap separates the attempts of one request id: Lambda retries an
// async invocation a minute or more after the failure, while the rows of
// one attempt lie within its duration.
const AttemptGap = int64(1e9)

// lastAttempt returns the rows of the last attempt among rows of one source
// and how many attempts they show.
func lastAttempt(rows []model.Invocation) ([]model.Invocation, int32) {
	if len(rows) < 2 {
		return rows, 1
	}
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b model.Invocation) int { return cmp.Compare(a.Start, b.Start) })
	n, first := int32(1), 0
	end := sorted[0].Start + sorted[0].DurationNs
	for i := 1; i < len(sorted); i++ {
		r := &sorted[i]
		if r.Start > end+AttemptGap {
			n, first = n+1, i
		}
		end = max(end, r.Start+r.DurationNs)
	}
	return sorted[first:], n
}

// Finality ranks statuses within one source: a more final status replaces a
// less final one when rows of the same source are folded (decoders that
// assemble one row from several lines use the same order).
func Finality(s model.InvocationStatus) int {
	switch s {
	case model.InvocationTimeout, model.InvocationOOM, model.InvocationCrash, model.InvocationThrottled:
		return 4
	case model.InvocationError:
		return 3
	case model.InvocationOK:
		return 2
	case model.InvocationStarted:
		return 1
	}
	return 0
}

// isFate reports whether s is a fate only the platform can be sure of.
func isFate(s model.InvocationStatus) bool { return Finality(s) == 4 }

// fold combines rows of one source into one.
func fold(rows []model.Invocation) model.Invocation {
	out := rows[0]
	for _, r := range rows[1:] {
		fillStr(&out.Function, r.Function)
		if out.Start == 0 || (r.Start != 0 && r.Start < out.Start) {
			out.Start = r.Start
		}
		fill(&out.DurationNs, r.DurationNs)
		fill(&out.BilledDurationNs, r.BilledDurationNs)
		fill(&out.InitDurationNs, r.InitDurationNs)
		fill(&out.Deadline, r.Deadline)
		fill(&out.MemoryMB, r.MemoryMB)
		fill(&out.MaxMemoryMB, r.MaxMemoryMB)
		if Finality(r.Status) > Finality(out.Status) {
			out.Status, out.ErrorType = r.Status, r.ErrorType
		}
		fillStr(&out.ErrorType, r.ErrorType)
		out.ColdStart = out.ColdStart || r.ColdStart
		out.Attempt = max(out.Attempt, r.Attempt)
		if out.TraceID.IsZero() {
			out.TraceID, out.SpanID = r.TraceID, r.SpanID
		}
	}
	return out
}

func fill[T int64 | int32](dst *T, v T) {
	if *dst == 0 {
		*dst = v
	}
}

func fillStr(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// Merge returns the one record of an invocation from all rows stored for its
// request id (any order; rows of other request ids must not be passed). now
// (Unix ns) decides whether a started invocation has passed its deadline.
// The merged record's Source lists the contributing sources, comma
// separated, in the order sdk, sdk-start, telemetry, logs. Rows of unknown
// sources are folded in with the lowest precedence.
func Merge(rows []model.Invocation, now int64) model.Invocation {
	if len(rows) == 0 {
		return model.Invocation{}
	}
	by := map[string][]model.Invocation{}
	var unknown []model.Invocation
	for _, r := range rows {
		if slices.Contains(sourceOrder[:], r.Source) {
			by[r.Source] = append(by[r.Source], r)
		} else {
			unknown = append(unknown, r)
		}
	}
	src := map[string]*model.Invocation{}
	var names []string
	var attempts int32
	for _, s := range sourceOrder {
		if rs := by[s]; len(rs) > 0 {
			last, n := lastAttempt(rs)
			attempts = max(attempts, n)
			f := fold(last)
			src[s] = &f
			names = append(names, s)
		}
	}
	var other *model.Invocation
	if len(unknown) > 0 {
		f := fold(unknown)
		other = &f
		names = append(names, f.Source)
	}
	pick := func(order ...string) []*model.Invocation {
		var out []*model.Invocation
		for _, s := range order {
			if r := src[s]; r != nil {
				out = append(out, r)
			}
		}
		if other != nil {
			out = append(out, other)
		}
		return out
	}
	tel, logs, sdk := src[SourceTelemetry], src[SourceLogs], src[SourceSDK]

	out := model.Invocation{RequestID: rows[0].RequestID, Source: strings.Join(names, ",")}
	if attempts > 1 {
		out.Attempt = attempts
	}
	for _, r := range pick(SourceSDK, SourceSDKStart, SourceTelemetry, SourceLogs) {
		fillStr(&out.Function, r.Function)
		if out.TraceID.IsZero() && !r.TraceID.IsZero() {
			out.TraceID, out.SpanID = r.TraceID, r.SpanID
		}
		out.ColdStart = out.ColdStart || r.ColdStart
		out.Attempt = max(out.Attempt, r.Attempt)
	}
	for _, r := range pick(SourceTelemetry, SourceSDK, SourceSDKStart, SourceLogs) {
		fill(&out.Start, r.Start)
	}
	for _, r := range pick(SourceTelemetry, SourceLogs, SourceSDK, SourceSDKStart) {
		fill(&out.DurationNs, r.DurationNs)
		fill(&out.BilledDurationNs, r.BilledDurationNs)
		fill(&out.InitDurationNs, r.InitDurationNs)
		fill(&out.MemoryMB, r.MemoryMB)
		fill(&out.MaxMemoryMB, r.MaxMemoryMB)
	}
	for _, r := range pick(SourceSDKStart, SourceSDK, SourceTelemetry, SourceLogs) {
		fill(&out.Deadline, r.Deadline)
	}
	if out.InitDurationNs > 0 {
		out.ColdStart = true
	}

	// Status: the platform's fate, then any error, then the best witness.
	decided := false
	decide := func(r *model.Invocation) {
		out.Status, out.ErrorType, decided = r.Status, r.ErrorType, true
	}
	for _, r := range []*model.Invocation{tel, logs} {
		if !decided && r != nil && isFate(r.Status) {
			decide(r)
		}
	}
	// The SDK's own timeout marker is a prediction (its timer fires before
	// the deadline); the platform's word on ok or error overrides it.
	if !decided && sdk != nil && sdk.Status == model.InvocationTimeout && tel == nil && logs == nil {
		decide(sdk)
	}
	for _, r := range pick(SourceSDK, SourceTelemetry, SourceLogs) {
		if !decided && r.Status == model.InvocationError {
			decide(r)
		}
	}
	for _, r := range pick(SourceSDK, SourceTelemetry, SourceLogs) {
		if !decided && r.Status == model.InvocationOK {
			decide(r)
		}
	}
	if !decided {
		out.Status = model.InvocationStarted
	}
	if sdk != nil && out.ErrorType == "" && out.Status == model.InvocationError {
		out.ErrorType = sdk.ErrorType
	}
	if out.Status == model.InvocationStarted && out.Deadline != 0 && now > out.Deadline+DeadlineGrace {
		// The start marker promised an end by the deadline; nothing came,
		// and the platform said nothing either: the runtime was stopped.
		out.Status, out.ErrorType = model.InvocationTimeout, "Sandbox.Timedout"
		if out.DurationNs == 0 && out.Start != 0 {
			out.DurationNs = out.Deadline - out.Start
		}
	}
	return out
}

// MergeAll groups rows by request id and merges each group; the result is in
// the order of each request id's first row.
func MergeAll(rows []model.Invocation, now int64) []model.Invocation {
	idx := map[string]int{}
	var groups [][]model.Invocation
	for _, r := range rows {
		i, ok := idx[r.RequestID]
		if !ok {
			i = len(groups)
			idx[r.RequestID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	out := make([]model.Invocation, len(groups))
	for i, g := range groups {
		out[i] = Merge(g, now)
	}
	return out
}

// Pricing is Lambda's price list for one architecture, in USD.
type Pricing struct {
	PerGBSecond float64
	PerRequest  float64
}

// DefaultPricing is Lambda's published on-demand price for x86 in us-east-1
// (first pricing tier): $0.0000166667 per GB-second and $0.20 per million
// requests. Settings that know the region or architecture replace it.
func DefaultPricing() Pricing {
	return Pricing{PerGBSecond: 0.0000166667, PerRequest: 0.20 / 1e6}
}

// ARMPricing is the published price for arm64 (Graviton) in us-east-1.
func ARMPricing() Pricing {
	return Pricing{PerGBSecond: 0.0000133334, PerRequest: 0.20 / 1e6}
}

// Cost is the price of one invocation: billed duration × configured memory
// at the GB-second price, plus the request price. It is 0 when the billed
// duration or the memory is unknown, because a guess would mislead.
func (p Pricing) Cost(inv *model.Invocation) float64 {
	if inv.BilledDurationNs <= 0 || inv.MemoryMB <= 0 {
		return 0
	}
	gbSeconds := float64(inv.MemoryMB) / 1024 * float64(inv.BilledDurationNs) / 1e9
	c := gbSeconds*p.PerGBSecond + p.PerRequest
	// Round to a pico-dollar so JSON shows stable figures.
	return math.Round(c*1e12) / 1e12
}

// PlatformStatus maps a Telemetry API status ("success", "failure", "error",
// "timeout") and errorType, or a REPORT line's "Status:"/"Error Type:", to an
// invocation status.
func PlatformStatus(status, errorType string) model.InvocationStatus {
	switch strings.ToLower(status) {
	case "success", "ok", "":
		if errorType == "" {
			return model.InvocationOK
		}
	case "timeout":
		return model.InvocationTimeout
	}
	return ErrorTypeStatus(errorType)
}

// ErrorTypeStatus classifies a platform error type: Runtime.OutOfMemory is
// out of memory, Sandbox.Timedout a timeout, a runtime or sandbox that
// exited or failed a crash, anything else (a handled function error, which
// runtimes report as errorType) an error.
func ErrorTypeStatus(errorType string) model.InvocationStatus {
	switch {
	case strings.Contains(errorType, "OutOfMemory"):
		return model.InvocationOOM
	case strings.EqualFold(errorType, "Sandbox.Timedout"):
		return model.InvocationTimeout
	case strings.HasPrefix(errorType, "Runtime.ExitError"),
		strings.HasPrefix(errorType, "Runtime.Unknown"),
		strings.HasPrefix(errorType, "Runtime.InvalidEntrypoint"),
		strings.HasPrefix(errorType, "Runtime.InitError"),
		strings.HasPrefix(errorType, "Runtime.CrashError"),
		strings.HasPrefix(errorType, "Extension."),
		strings.HasPrefix(errorType, "Sandbox."):
		return model.InvocationCrash
	}
	return model.InvocationError
}

// TraceIDFromXRay converts an X-Ray trace header or id ("Root=1-5759e988-
// bd862e3fe1be46a994272793;Parent=…" or "1-5759e988-bd862e3fe1be46a994272793")
// into the W3C trace id X-Ray maps it to (the 8 hex digits of time followed
// by the 24 of the unique part). ok is false when there is no valid root.
func TraceIDFromXRay(s string) (model.TraceID, bool) {
	root := s
	for part := range strings.SplitSeq(s, ";") {
		if v, found := strings.CutPrefix(strings.TrimSpace(part), "Root="); found {
			root = v
			break
		}
	}
	root = strings.TrimSpace(root)
	if len(root) != 35 || root[0] != '1' || root[1] != '-' || root[10] != '-' {
		return model.TraceID{}, false
	}
	id, err := model.ParseTraceID(root[2:10] + root[11:])
	if err != nil || id.IsZero() {
		return model.TraceID{}, false
	}
	return id, true
}
