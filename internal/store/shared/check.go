package shared

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

func toValid(s string) string { return strings.ToValidUTF8(s, string(utf8.RuneError)) }

// Clamp is the number of rows a read returns for a caller's limit: the
// bound when the limit is unset (≤ 0) or above it.
func Clamp(limit, bound int) int {
	if limit <= 0 || limit > bound {
		return bound
	}
	return limit
}

// CheckRange refuses a range that ends before it starts.
func CheckRange(r store.TimeRange) error {
	if r.Start != 0 && r.End != 0 && r.End < r.Start {
		return fmt.Errorf("time range ends before it starts: %w", store.ErrInvalid)
	}
	return nil
}

// CheckTraceQuery validates a trace search.
func CheckTraceQuery(q store.TraceQuery) error {
	if err := CheckRange(q.TimeRange); err != nil {
		return err
	}
	if q.MinDuration < 0 || q.MaxDuration < 0 {
		return fmt.Errorf("negative duration bound: %w", store.ErrInvalid)
	}
	if q.MaxDuration != 0 && q.MaxDuration < q.MinDuration {
		return fmt.Errorf("max duration below min duration: %w", store.ErrInvalid)
	}
	if q.Limit < 0 {
		return fmt.Errorf("negative limit: %w", store.ErrInvalid)
	}
	for _, a := range q.Attributes {
		if a.Key == "" {
			return fmt.Errorf("attribute condition without a key: %w", store.ErrInvalid)
		}
	}
	return nil
}

// CheckInvocationQuery validates an invocation listing.
func CheckInvocationQuery(q store.InvocationQuery) error {
	if err := CheckRange(q.TimeRange); err != nil {
		return err
	}
	if q.MinDuration < 0 || q.MaxDuration < 0 {
		return fmt.Errorf("negative duration bound: %w", store.ErrInvalid)
	}
	if q.MaxDuration != 0 && q.MaxDuration < q.MinDuration {
		return fmt.Errorf("max duration below min duration: %w", store.ErrInvalid)
	}
	if q.Limit < 0 {
		return fmt.Errorf("negative limit: %w", store.ErrInvalid)
	}
	for _, s := range q.Statuses {
		switch s {
		case model.InvocationOK, model.InvocationError, model.InvocationTimeout, model.InvocationOOM,
			model.InvocationCrash, model.InvocationThrottled, model.InvocationStarted:
		default:
			return fmt.Errorf("unknown invocation status %q: %w", s, store.ErrInvalid)
		}
	}
	return nil
}

// CheckMapQuery validates the range and trace list of a map query.
func CheckMapQuery(r store.TimeRange, traces int) error {
	if err := CheckRange(r); err != nil {
		return err
	}
	if traces > store.MaxMapTraces {
		return fmt.Errorf("%d trace ids, at most %d: %w", traces, store.MaxMapTraces, store.ErrInvalid)
	}
	return nil
}

// MaxREDPoints bounds the buckets of one RED series.
const MaxREDPoints = 10_000

// CheckREDQuery validates a RED query.
func CheckREDQuery(q store.REDQuery) error {
	if err := CheckRange(q.TimeRange); err != nil {
		return err
	}
	if q.Start == 0 || q.End == 0 {
		return fmt.Errorf("RED needs a start and an end: %w", store.ErrInvalid)
	}
	if q.Step <= 0 {
		return fmt.Errorf("RED step must be positive: %w", store.ErrInvalid)
	}
	if (q.End-q.Start)/q.Step > MaxREDPoints {
		return fmt.Errorf("RED step too small: more than %d points: %w", MaxREDPoints, store.ErrInvalid)
	}
	switch q.GroupBy {
	case "", "service", "function", "operation":
	default:
		return fmt.Errorf("RED group by %q: %w", q.GroupBy, store.ErrInvalid)
	}
	return nil
}

// TraceCursor is where a trace search page stopped: the (start, trace id)
// of its last trace.
type TraceCursor struct {
	Start int64
	Trace model.TraceID
}

// EncodeTraceCursor: "v1.<start>.<trace id hex>" in URL-safe base64,
// opaque to clients, versioned for us.
func EncodeTraceCursor(c TraceCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1." + strconv.FormatInt(c.Start, 10) + "." + c.Trace.String()))
}

// DecodeTraceCursor reverses EncodeTraceCursor; nil for "".
func DecodeTraceCursor(s string) (*TraceCursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("bad cursor: %w", store.ErrInvalid)
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, fmt.Errorf("bad cursor: %w", store.ErrInvalid)
	}
	start, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad cursor: %w", store.ErrInvalid)
	}
	t, err := model.ParseTraceID(parts[2])
	if err != nil {
		return nil, fmt.Errorf("bad cursor: %w", store.ErrInvalid)
	}
	return &TraceCursor{Start: start, Trace: t}, nil
}

// InvKey is the sort key of one invocation in a listing: the earliest
// start of its rows, and its request id.
type InvKey struct {
	Start int64
	ID    string
}

// EncodeInvCursor is the cursor after k.
func EncodeInvCursor(k InvKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.Start, 10) + ":" + k.ID))
}

// DecodeInvCursor reverses EncodeInvCursor; nil for "".
func DecodeInvCursor(s string) (*InvKey, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("malformed cursor: %w", store.ErrInvalid)
	}
	ts, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return nil, fmt.Errorf("malformed cursor: %w", store.ErrInvalid)
	}
	return &InvKey{Start: n, ID: id}, nil
}

// ParseTraces reads sample traces stored as space-separated hex ids.
func ParseTraces(s string) []model.TraceID {
	out := []model.TraceID{}
	for _, f := range strings.Fields(s) {
		if id, err := model.ParseTraceID(f); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// FormatTraces reverses ParseTraces.
func FormatTraces(ids []model.TraceID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, " ")
}

// MergeTraces appends add to have, dropping repeats, and keeps the newest
// store.MaxSampleTraces.
func MergeTraces(have, add []model.TraceID) []model.TraceID {
	for _, id := range add {
		if id.IsZero() {
			continue
		}
		if i := slices.Index(have, id); i >= 0 {
			have = slices.Delete(have, i, i+1)
		}
		have = append(have, id)
	}
	if len(have) > store.MaxSampleTraces {
		have = have[len(have)-store.MaxSampleTraces:]
	}
	return have
}

// FoldOccurrence folds one detector occurrence into an issue as
// store.IssueStore.CommitDetection describes; is == nil for a new issue.
func FoldOccurrence(is *store.Issue, o *store.IssueOccurrence, now int64) store.Issue {
	if is == nil {
		return store.Issue{
			ID: store.IssueID(o.Kind, o.Fingerprint), Kind: o.Kind, Fingerprint: o.Fingerprint, Title: o.Title,
			Function: o.Function, Channel: o.Channel, Severity: o.Severity, Status: store.IssueOpen,
			FirstSeen: o.First, LastSeen: o.Last, Count: o.Count, SampleTraces: MergeTraces(nil, o.Traces),
			Explanation: o.Explanation, OpenedAt: o.First, UpdatedAt: now,
		}
	}
	out := *is
	if out.Status == store.IssueResolved && o.Last > out.ResolvedAt {
		out.Status, out.Regressions, out.OpenedAt, out.ResolvedAt = store.IssueOpen, out.Regressions+1, max(o.First, out.ResolvedAt), 0
	}
	out.Title, out.Severity, out.Explanation = o.Title, o.Severity, o.Explanation
	out.FirstSeen, out.LastSeen = min(out.FirstSeen, o.First), max(out.LastSeen, o.Last)
	out.Count += o.Count
	out.SampleTraces = MergeTraces(slices.Clone(out.SampleTraces), o.Traces)
	out.UpdatedAt = now
	return out
}
