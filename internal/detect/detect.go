// Package detect finds what went wrong without being asked: errors,
// timeouts, out-of-memory kills, crashes, throttles, retries, dead-lettered
// messages, silent asynchronous failures (through internal/correlate) and
// partial batch failures, each grouped by a fingerprint into an issue with a title,
// a severity and an explanation in plain words.
//
// Every detector is a query over the store (store.DetectReader) followed by
// plain Go grouping, run incrementally over a time window that starts at the
// detector's watermark. The watermark and the issues live in the store
// (store.IssueStore), never in memory: a run's occurrences and its new
// watermark commit together, conditional on the watermark not having moved
// (compare-and-set), so several nodes running the same detector count every
// window exactly once — the loser of a race gets store.ErrConflict, drops
// its work and moves on. The package must not import an engine or the API.
package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
)

// Issue kinds. They are part of the API (GET /api/v1/issues?kind=) and of
// alert rules, so they only ever grow.
const (
	KindError        = "error"
	KindTimeout      = "timeout"
	KindOOM          = "oom"
	KindCrash        = "crash"
	KindThrottle     = "throttle"
	KindRetry        = "retry"
	KindPartialBatch = "partial_batch_failure"
)

// Severities, most urgent first.
const (
	SeverityCritical = "critical"
	SeverityError    = "error"
	SeverityWarning  = "warning"
)

// Store is what the runner needs of an engine.
type Store interface {
	store.DetectReader
	store.IssueStore
}

// Window is the slice of time one detector run looks at: what ended in
// [Start, End). Now decides invocation deadlines; Limit bounds each read.
type Window struct {
	store.TimeRange
	Now   int64
	Limit int
}

// Detector turns one window of telemetry into occurrences. Detect must be
// deterministic for a given store content (several nodes must agree) and
// must not write.
type Detector interface {
	// Name keys the detector's watermark; changing it re-runs the detector
	// from scratch, so a name carries a version.
	Name() string
	Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error)
}

// Detectors returns every detector of the package, in priority order.
func Detectors() []Detector { return DetectorsWith(coldPeriod) }

// DetectorsWith is Detectors with the cold-start detector judging periods
// of coldStartPeriod (0: the default 10 minutes).
func DetectorsWith(coldStartPeriod time.Duration) []Detector {
	if coldStartPeriod <= 0 {
		coldStartPeriod = coldPeriod
	}
	return []Detector{errorsDetector{}, timeoutDetector{}, statusDetector{kind: KindOOM}, statusDetector{kind: KindCrash},
		statusDetector{kind: KindThrottle}, retryDetector{}, deadLetterDetector{}, silentDetector{}, batchDetector{},
		coldDetector{period: coldStartPeriod}, dupDetector{}, contractDetector{}}
}

// Settings configure a Runner. Zero fields take their defaults.
type Settings struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Interval between background runs. Default 30s.
	Interval time.Duration
	// Lag keeps windows this far behind now, so that telemetry exported
	// late (platform reports, batched exporters) is stored before its
	// window is read. Default 30s.
	Lag time.Duration
	// MaxWindow caps one committed window; a detector catching up runs
	// several. Default 10m.
	MaxWindow time.Duration
	// Lookback is where a detector that never ran starts. Default 1h.
	Lookback time.Duration
	// Limit bounds the rows each read of a window returns; a window that
	// hits it is halved (down to one second) before it is processed.
	// Default 20 000.
	Limit int
	// ResolveAfter resolves open issues not seen for this long (after each
	// run), which sends the alerts' "resolved" notifications; 0 leaves
	// resolving to people.
	ResolveAfter time.Duration
	// Detectors to run; default Detectors().
	Detectors []Detector
	// OnCommit, when set, is called after a committed window (for alerts
	// and metrics). It must be quick.
	OnCommit func(detector string, w Window, occurrences int)
}

func (s Settings) withDefaults() Settings {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Interval <= 0 {
		s.Interval = 30 * time.Second
	}
	if s.Lag < 0 {
		s.Lag = 0
	} else if s.Lag == 0 {
		s.Lag = 30 * time.Second
	}
	if s.MaxWindow <= 0 {
		s.MaxWindow = 10 * time.Minute
	}
	if s.Lookback <= 0 {
		s.Lookback = time.Hour
	}
	if s.Limit <= 0 {
		s.Limit = 20_000
	}
	if s.Detectors == nil {
		s.Detectors = Detectors()
	}
	return s
}

// NoLag is a Settings.Lag that means "no lag" (zero means the default).
const NoLag = -1

// Runner runs the detectors in the background and on demand.
type Runner struct {
	st  Store
	set Settings
	// mu serialises runs of this node; other nodes are kept apart by the
	// watermark compare-and-set.
	mu      sync.Mutex
	trigger chan struct{}
	// size remembers, per detector, the window that last fit the read
	// limit, so a busy store is not re-read at every halving. It only
	// tunes this node's work; results do not depend on it.
	size map[string]int64
}

// New returns a runner over st.
func New(st Store, s Settings) *Runner {
	return &Runner{st: st, set: s.withDefaults(), trigger: make(chan struct{}, 1), size: map[string]int64{}}
}

// Trigger asks the background loop for a run now; it never blocks.
func (r *Runner) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Run runs the detectors every Interval (and when triggered) until ctx is
// done. Errors are logged: the next run retries from the watermark.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.set.Interval)
	defer t.Stop()
	for {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.set.Logger.Warn("detection run failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.trigger:
		}
	}
}

// Result says what one RunOnce did.
type Result struct {
	Windows     int // windows committed
	Occurrences int
	Conflicts   int // windows another node committed first
	Resolved    int // stale issues resolved
}

// RunOnce brings every detector up to now − Lag.
func (r *Runner) RunOnce(ctx context.Context) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var res Result
	var errs []error
	for _, d := range r.set.Detectors {
		if err := r.catchUp(ctx, d, &res); err != nil {
			errs = append(errs, fmt.Errorf("run detector %s: %w", d.Name(), err))
		}
	}
	if r.set.ResolveAfter > 0 && len(errs) == 0 {
		// Only after a complete run: an issue is stale when the windows up
		// to now − lag were all read and it was in none of them.
		now := r.set.Now()
		n, err := r.st.ResolveStale(ctx, now.Add(-r.set.Lag-r.set.ResolveAfter).UnixNano(), now.UnixNano())
		if err != nil && !errors.Is(err, store.ErrConflict) {
			errs = append(errs, fmt.Errorf("resolve stale issues: %w", err))
		}
		res.Resolved = n
	}
	return res, errors.Join(errs...)
}

func (r *Runner) catchUp(ctx context.Context, d Detector, res *Result) error {
	now := r.set.Now()
	until := now.Add(-r.set.Lag).UnixNano()
	for {
		wm, err := r.st.DetectorWatermark(ctx, d.Name())
		if err != nil {
			return err
		}
		from := wm
		if from == 0 {
			from = now.Add(-r.set.Lookback).UnixNano()
		}
		end := min(until, from+int64(r.set.MaxWindow))
		if p, ok := d.(Periodic); ok {
			// Whole periods only, aligned, so that every node judges the
			// same invocations.
			per := int64(p.Period())
			from -= from % per
			end = min(until-until%per, from+per)
		}
		if from >= end {
			return nil
		}
		occ, w, err := r.detect(ctx, d, from, end, now.UnixNano())
		if errors.Is(err, store.ErrConflict) {
			// A write of the detector's own (contract observations) met
			// another node's: redo the window.
			res.Conflicts++
			if res.Conflicts > 1000 {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		err = r.st.CommitDetection(ctx, d.Name(), wm, w.End, occ, now.UnixNano())
		switch {
		case errors.Is(err, store.ErrConflict):
			// Another node committed this window: re-read its watermark.
			res.Conflicts++
			continue
		case err != nil:
			return err
		}
		res.Windows++
		res.Occurrences += len(occ)
		if r.set.OnCommit != nil {
			r.set.OnCommit(d.Name(), w, len(occ))
		}
	}
}

// errTruncated is how a detector says a read hit the window's limit.
var errTruncated = errors.New("window read truncated")

// detect runs d over [from, end), halving the window while a read is
// truncated, so that a burst is processed in smaller pieces rather than
// partly.
func (r *Runner) detect(ctx context.Context, d Detector, from, end, now int64) ([]store.IssueOccurrence, Window, error) {
	if sz := r.size[d.Name()]; sz > 0 {
		end = min(end, from+sz)
	}
	for {
		w := Window{TimeRange: store.TimeRange{Start: from, End: end}, Now: now, Limit: r.set.Limit}
		occ, err := d.Detect(ctx, r.st, w)
		_, periodic := d.(Periodic) // its window is its statistic's period: never cut
		if errors.Is(err, errTruncated) && end-from > int64(time.Second) && !periodic {
			end = from + (end-from)/2
			r.size[d.Name()] = end - from
			continue
		}
		if err == nil && r.size[d.Name()] > 0 {
			r.size[d.Name()] *= 2 // try a larger window next time
			if r.size[d.Name()] >= int64(r.set.MaxWindow) {
				delete(r.size, d.Name())
			}
		}
		if errors.Is(err, errTruncated) {
			r.set.Logger.Warn("detection window over the row limit; processing the first rows", "detector", d.Name(), "limit", r.set.Limit)
			w.Limit = -1 // tell the detector to accept a truncated read
			occ, err = d.Detect(ctx, r.st, w)
		}
		return occ, w, err
	}
}

// truncated maps a truncated read to errTruncated unless the window
// accepts it.
func truncated(w Window, t bool) error {
	if t && w.Limit >= 0 {
		return errTruncated
	}
	return nil
}

// limit is the read limit of a window.
func (w Window) limit() int {
	if w.Limit < 0 {
		return store.MaxCorrelationRows
	}
	return w.Limit
}
