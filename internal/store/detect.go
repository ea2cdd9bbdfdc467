package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
)

// ErrConflict: another writer changed the object first (a detector window
// committed by another node, a delivery claimed by another node). Nothing
// was applied; the caller re-reads and decides again. Not an API error.
var ErrConflict = errors.New("conflicting update")

// DetectReader is what internal/detect reads: the raw material of issues,
// selected by time window so that a detector run only looks at what arrived
// since its last watermark. It is separate from Reader, like
// InvocationReader, so that code written against Reader keeps compiling.
// Every method is bounded by the limit the caller passes (clamped to
// MaxCorrelationRows) and says with truncated = true when it stopped there.
//
// Windows bound the END of a span or an invocation, not its start: what a
// detector looks at is finished, and a 10-minute invocation is seen in the
// window where it ended, after the earlier windows were committed. Spans
// and invocations longer than DetectMaxDuration are not guaranteed to be
// found.
type DetectReader interface {
	InvocationReader
	// DetectSpans returns every field of the spans whose end (start_time +
	// duration_ns) lies in r and that match f, ordered by (start_time,
	// span_id).
	DetectSpans(ctx context.Context, r TimeRange, f DetectSpanFilter, limit int) (spans []model.Span, truncated bool, err error)
	// DetectInvocations returns the merged records (as InvocationReader
	// merges them, deciding deadlines at q.Now) of invocations starting in
	// q's range whose merged status is one of q.Statuses or whose attempt is
	// at least q.MinAttempt (when > 0), or that are cold starts when
	// q.ColdStarts, whose end lies in q's range (the
	// latest start + duration of its rows, or, for a start marker never
	// ended, its deadline plus invocation.DeadlineGrace, when it turns
	// into a timeout), oldest first, at most limit.
	DetectInvocations(ctx context.Context, q DetectInvocationQuery, limit int) (invs []model.Invocation, truncated bool, err error)
}

// DetectMaxDuration is the longest span or invocation a detection window
// is sure to see (a Lambda invocation lasts at most 15 minutes).
const DetectMaxDuration = int64(20 * time.Minute)

// DetectSpanFilter selects spans for detection; a span matches when it
// meets any of the set conditions (an empty filter matches nothing).
type DetectSpanFilter struct {
	// Errors selects spans with status ERROR.
	Errors bool
	// AttrKeys selects spans carrying any of these attribute keys.
	AttrKeys []string
	// DestinationContains selects spans whose destination contains any of
	// these substrings, case-insensitively ("dlq": dead-letter queues).
	DestinationContains []string
	// AttrAtLeast selects spans whose integer attribute Key is at least
	// Min (a receive count above 1, say).
	AttrAtLeast []AttrBound
	// Producers selects spans that sent messages: kind PRODUCER, or a
	// messaging operation publish, send or create.
	Producers bool
}

// AttrBound is a lower bound on an integer attribute.
type AttrBound struct {
	Key string
	Min int64
}

// DetectInvocationQuery selects invocation records for detection.
type DetectInvocationQuery struct {
	TimeRange
	Statuses   []model.InvocationStatus
	MinAttempt int32
	// ColdStarts also selects cold starts (any row saying so, or an init
	// duration).
	ColdStarts bool
	// Now decides whether a started invocation has passed its deadline.
	Now int64
}

// IssueStatus is where a user (or the runner) put an issue.
type IssueStatus string

const (
	IssueOpen     IssueStatus = "open"
	IssueResolved IssueStatus = "resolved"
	IssueIgnored  IssueStatus = "ignored"
)

// MaxSampleTraces caps the sample traces kept per issue.
const MaxSampleTraces = 5

// Issue is one detected problem: every occurrence of one fingerprint.
type Issue struct {
	ID          string // 16 hex digits derived from (Kind, Fingerprint)
	Kind        string
	Fingerprint string
	Title       string
	Function    string
	Channel     string
	Severity    string // critical | error | warning | info
	Status      IssueStatus
	FirstSeen   int64
	LastSeen    int64
	Count       int64
	// SampleTraces are the most recent traces of the issue, newest last,
	// at most MaxSampleTraces.
	SampleTraces []model.TraceID
	Explanation  string
	// OpenedAt is when the current episode began: the first occurrence, or
	// the first one after the issue was resolved (a regression).
	OpenedAt    int64
	ResolvedAt  int64 // 0 unless resolved
	Regressions int32 // times a resolved issue came back
	UpdatedAt   int64
}

// IssueOccurrence is what one detector run found for one fingerprint in
// its window; CommitDetection folds it into the issue.
type IssueOccurrence struct {
	Kind        string
	Fingerprint string
	Title       string
	Function    string
	Channel     string
	Severity    string
	Explanation string
	First       int64
	Last        int64
	Count       int64
	Traces      []model.TraceID
}

// IssueQuery selects issues; zero fields do not filter. Issues come newest
// last_seen first.
type IssueQuery struct {
	// TimeRange bounds last_seen.
	TimeRange
	Kind     string
	Status   IssueStatus
	Function string // matches the function or the channel
	Limit    int
}

// IssueStore keeps issues and the detectors' watermarks. All methods are
// safe for concurrent use, also from several nodes sharing one store.
type IssueStore interface {
	// DetectorWatermark returns the end of the last window detector name
	// committed, 0 when it never ran.
	DetectorWatermark(ctx context.Context, name string) (int64, error)
	// CommitDetection folds occ into the issues and moves name's watermark
	// from `from` to `to`, atomically. When the stored watermark is not
	// `from` (another node committed that window first) nothing is applied
	// and the error is ErrConflict, so a window is counted exactly once
	// however many nodes run it. Folding an occurrence: count adds up,
	// first/last seen widen, title and explanation take the newest text,
	// sample traces keep the newest MaxSampleTraces; a resolved issue with
	// an occurrence after ResolvedAt reopens (Regressions+1, OpenedAt =
	// the occurrence's First); an ignored issue stays ignored. now stamps
	// UpdatedAt.
	CommitDetection(ctx context.Context, name string, from, to int64, occ []IssueOccurrence, now int64) error
	// Issues lists issues matching q, newest last_seen first, at most
	// q.Limit (capped at MaxLimit).
	Issues(ctx context.Context, q IssueQuery) ([]Issue, error)
	// Issue returns one issue; ErrNotFound when unknown.
	Issue(ctx context.Context, id string) (Issue, error)
	// SetIssueStatus changes an issue's status (stamping ResolvedAt when it
	// becomes resolved) and returns it; ErrNotFound when unknown.
	SetIssueStatus(ctx context.Context, id string, s IssueStatus, now int64) (Issue, error)
	// ResolveStale resolves the open issues last seen before `before`
	// (stamping ResolvedAt = now) and returns how many. Idempotent.
	ResolveStale(ctx context.Context, before, now int64) (int, error)
	// IssueCounts returns, per issue id, the occurrences counted in
	// [since, now) (at one-minute resolution: an occurrence is counted in
	// the minute of its Last), for issues seen since then.
	IssueCounts(ctx context.Context, since int64) (map[string]int64, error)
}

// AlertRule says which issues notify whom.
type AlertRule struct {
	ID   string
	Name string
	// Kind, Function (function or channel) narrow the issues; "" = any.
	Kind     string
	Function string
	// AnyNew fires once per new issue (and per regression); otherwise the
	// rule fires when an issue counts at least Threshold occurrences within
	// WindowNs.
	AnyNew    bool
	Threshold int64
	WindowNs  int64
	// Target: "webhook", "slack" or "email"; URL for the first two, To
	// (comma-separated addresses) for e-mail.
	Target  string
	URL     string
	To      string
	Created int64
}

// AlertEvent is one notification to deliver (or delivered).
type AlertEvent struct {
	ID      string
	RuleID  string
	IssueID string
	Type    string // "firing" or "resolved"
	// Episode is the issue's OpenedAt when the event was raised: one firing
	// and one resolved notification per rule, issue and episode.
	Episode     int64
	State       string // "pending", "delivered", "failed"
	Attempts    int32
	NextAttempt int64
	LastError   string
	Created     int64
	DeliveredAt int64
}

// AlertStore keeps alert rules and their delivery state, so that several
// nodes deliver each notification once.
type AlertStore interface {
	AlertRules(ctx context.Context) ([]AlertRule, error)
	// AlertRule returns one rule; ErrNotFound when unknown.
	AlertRule(ctx context.Context, id string) (AlertRule, error)
	// PutAlertRule creates or replaces the rule with r.ID.
	PutAlertRule(ctx context.Context, r AlertRule) error
	// DeleteAlertRule removes a rule and its events; ErrNotFound when unknown.
	DeleteAlertRule(ctx context.Context, id string) error
	// EnqueueAlert stores e as pending unless an event with the same (rule,
	// issue, type, episode) exists, and says whether it did. A "resolved"
	// event is only stored when the matching "firing" one exists.
	EnqueueAlert(ctx context.Context, e AlertEvent) (bool, error)
	// ClaimAlerts leases up to limit pending events due at now (next
	// attempt reached, no live lease) to holder until leaseUntil and returns
	// them; an event is leased to one holder at a time.
	ClaimAlerts(ctx context.Context, holder string, now, leaseUntil int64, limit int) ([]AlertEvent, error)
	// FinishAlert records a delivery attempt by holder: delivered, or
	// failed with errMsg and retried at nextAttempt (0 = give up: state
	// "failed"). ErrConflict when holder no longer holds the lease.
	FinishAlert(ctx context.Context, id, holder string, delivered bool, errMsg string, nextAttempt, now int64) error
	// AlertEvents lists the events of a rule ("" = all), newest first, at
	// most limit.
	AlertEvents(ctx context.Context, ruleID string, limit int) ([]AlertEvent, error)
}

// IssueID derives an issue's id from its kind and fingerprint, the same in
// every engine and on every node, so that concurrent detector runs fold
// into one row.
func IssueID(kind, fingerprint string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + fingerprint))
	return hex.EncodeToString(h[:8])
}

// Contract is the inferred shape of the payloads one producer (service and
// version) sent on one channel: every field path seen ("a", "a.b",
// "items[]") with its JSON type ("string", "number", "bool", "object",
// "array", "null"; "number|string" when it varied).
type Contract struct {
	Channel   string
	Service   string
	Version   string
	Fields    map[string]string
	FirstSeen int64
	LastSeen  int64
}

// ContractStore keeps inferred payload contracts (DESIGN.md §2 contracts).
type ContractStore interface {
	// ObserveContracts merges observations into the stored contracts of
	// the same (channel, service, version): fields are united (types of a
	// field seen differently are joined), first/last seen widen. Merging
	// the same observation twice changes nothing, so detector runs that
	// lose their commit race may have observed already.
	ObserveContracts(ctx context.Context, cs []Contract) error
	// Contracts returns the contracts of a channel, oldest first seen first.
	Contracts(ctx context.Context, channel string) ([]Contract, error)
}

// JoinTypes unites two type sets written "a|b" (sorted, no repeats), so
// that every engine merges contracts alike.
func JoinTypes(a, b string) string {
	set := map[string]bool{}
	for _, s := range []string{a, b} {
		for _, t := range strings.Split(s, "|") {
			if t != "" {
				set[t] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return strings.Join(out, "|")
}
