package clickhouse

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// writer group-commits like the embedded engine's, through the same queue
// (shared.Committer): each commit drops what is already stored, inserts
// one block per table and then acknowledges every batch of the group.
// While an insert runs, new batches pile up and share the next one, so the
// insert rate adapts to ClickHouse's latency (ClickHouse wants few, large
// inserts).
type writer struct {
	e *Engine
	q *shared.Committer
}

func newWriter(e *Engine) *writer {
	w := &writer{e: e}
	w.q = shared.NewCommitter(shared.CommitSettings{
		QueueRows:    e.set.QueueRows,
		MaxBatchRows: e.set.MaxBatchRows,
		Commit:       w.commit,
		// Only refused data can be one batch's fault; an unreachable
		// ClickHouse would fail every retry too.
		Split:    func(err error) bool { return errors.Is(err, store.ErrInvalid) },
		OnCommit: e.set.OnCommit,
		Logger:   e.set.Logger,
	})
	return w
}

// Write implements store.Writer: it queues b and waits until ClickHouse
// accepted every row of it (or refused).
func (e *Engine) Write(ctx context.Context, b *model.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if err := e.Status(); err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	return e.w.q.Write(ctx, b)
}

// run commits queued batches until close.
func (w *writer) run() { w.q.Run() }

// commitTimeout bounds one commit, lookups and inserts with their retries.
const commitTimeout = 2 * time.Minute

// commit stores batches. Rows already stored (a client's retry, on this
// node or another) or repeated within batches are dropped, each table by its own
// key, so that a commit interrupted half-way is completed, not doubled, by
// the client's retry. The trace index goes first: alone it shows nothing
// (reads find a trace by its spans and logs).
func (w *writer) commit(batches []*model.Batch) (rows, dropped int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	e := w.e
	if err := e.Status(); err != nil {
		return 0, 0, fmt.Errorf("commit: %w", err)
	}
	var c batchSet
	for _, b := range batches {
		c.add(b)
	}
	if err := w.dropStored(ctx, &c); err != nil {
		return 0, 0, e.commitErr(err)
	}
	token := newToken()
	sch := e.sch
	steps := []struct {
		name string
		n    int
		fn   func(ctx context.Context, tok string) error
	}{
		{"trace_index", len(c.index), func(ctx context.Context, tok string) error { return insert(ctx, e, &sch.index, c.indexRows(), tok) }},
		{"invocations", len(c.invs), func(ctx context.Context, tok string) error { return insert(ctx, e, &sch.invocations, c.invs, tok) }},
		{"logs", len(c.logs), func(ctx context.Context, tok string) error { return insert(ctx, e, &sch.logs, c.logs, tok) }},
		{"message_refs", len(c.refs), func(ctx context.Context, tok string) error { return insert(ctx, e, &sch.refs, c.refs, tok) }},
		{"spans", len(c.spans), func(ctx context.Context, tok string) error { return insert(ctx, e, &sch.spans, c.spans, tok) }},
	}
	for _, st := range steps {
		if st.n == 0 {
			continue
		}
		if err := e.retry(ctx, "insert "+st.name, func(ctx context.Context) error { return st.fn(ctx, token+"-"+st.name) }); err != nil {
			return 0, 0, e.commitErr(err)
		}
	}
	return len(c.spans) + len(c.logs) + len(c.invs) + len(c.refs), c.dropped, nil
}

// commitErr classifies a failed commit: data ClickHouse refuses is the
// caller's fault; anything else is retryable.
func (e *Engine) commitErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("commit: %w", err)
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case 6, 27, 38, 41, 53, 69, 70, 72, 117, 131, 190, 321:
			return fmt.Errorf("commit: %w: %w", store.ErrInvalid, err)
		}
	}
	if isUnreachable(err) {
		e.setDown(err)
	}
	return fmt.Errorf("commit: %w: %w", store.ErrUnavailable, err)
}

// retry runs fn until it succeeds, fails for good, or attempts run out;
// only unreachable-type failures are retried.
func (e *Engine) retry(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	pause := e.set.RetryBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = fn(ctx); err == nil {
			return nil
		}
		if !isUnreachable(err) || attempt >= e.set.InsertAttempts || ctx.Err() != nil {
			return fmt.Errorf("%s (attempt %d): %w", op, attempt, err)
		}
		e.set.Logger.Warn("ClickHouse insert failed; retrying", "op", op, "attempt", attempt, "err", err)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", op, err)
		}
		pause *= 2
	}
}

func newToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// insert sends rows as one block. The deduplication token makes a retry
// of a block that did land a no-op.
func insert[R any](ctx context.Context, e *Engine, t *table[R], rows []R, token string) error {
	ctx = clickhouse.Context(ctx,
		clickhouse.WithColumnNamesAndTypes(t.types()),
		clickhouse.WithSettings(clickhouse.Settings{"insert_deduplicate": 1, "insert_deduplication_token": token}))
	b, err := e.conn.PrepareBatch(ctx, "INSERT INTO "+e.t(t.name)+" ("+t.list()+")")
	if err != nil {
		return err
	}
	defer b.Abort()
	vals := make([]any, 0, len(t.cols))
	for i := range rows {
		vals = t.values(vals, &rows[i])
		if err := b.Append(vals...); err != nil {
			return fmt.Errorf("%w: append to %s: %w", store.ErrInvalid, t.name, err)
		}
	}
	return b.Send()
}

// batchSet is the rows of one commit.
type batchSet struct {
	spans   []spanRow
	logs    []logRow
	invs    []invRow
	refs    []refRow
	index   map[model.TraceID]*indexRow
	dropped int
}

func (c *batchSet) add(b *model.Batch) {
	for i := range b.Spans {
		c.spans = append(c.spans, spanRow{Span: b.Spans[i]})
	}
	for i := range b.Logs {
		c.logs = append(c.logs, logRow{LogRecord: b.Logs[i]})
	}
	for i := range b.Invocations {
		c.invs = append(c.invs, invRow{Invocation: b.Invocations[i]})
	}
	for i := range b.MessageRefs {
		c.refs = append(c.refs, refRow{MessageRef: b.MessageRefs[i]})
	}
}

func (c *batchSet) indexRows() []indexRow {
	out := make([]indexRow, 0, len(c.index))
	for _, x := range c.index {
		out = append(out, *x)
	}
	return out
}

func (c *batchSet) indexEntry(t model.TraceID, start, end int64) *indexRow {
	if c.index == nil {
		c.index = map[model.TraceID]*indexRow{}
	}
	x := c.index[t]
	if x == nil {
		x = &indexRow{TraceID: t, StartMin: start, EndMax: end}
		c.index[t] = x
	}
	x.StartMin, x.EndMax = min(x.StartMin, start), max(x.EndMax, end)
	return x
}

func (c *batchSet) indexSpan(s *model.Span) {
	end := s.EndTime()
	x := c.indexEntry(s.TraceID, s.StartTime, end)
	isRoot := s.ParentSpanID.IsZero()
	if x.SpanCount == 0 {
		x.SpanStart, x.SpanEnd = s.StartTime, end
		x.HasRoot, x.RootService, x.RootName, x.rootAt = isRoot, s.Service, s.Name, s.StartTime
	} else {
		// The root span names the trace; without one, the earliest span.
		if (isRoot && !x.HasRoot) || (isRoot == x.HasRoot && s.StartTime < x.rootAt) {
			x.HasRoot, x.RootService, x.RootName, x.rootAt = isRoot, s.Service, s.Name, s.StartTime
		}
		x.SpanStart, x.SpanEnd = min(x.SpanStart, s.StartTime), max(x.SpanEnd, end)
	}
	x.SpanCount++
	if s.IsError() {
		x.ErrorCount++
	}
}

// lookupChunk bounds the values of one IN list (max_query_size is 256 KiB).
const lookupChunk = 1000

// clusterGap splits a lookup by time, so that one late row in a commit
// does not make the lookup read everything written in between.
const clusterGap = int64(5 * time.Minute)

type spanKey struct {
	trace model.TraceID
	span  uint64
}

// logKey identifies a log record for retry detection, as in the embedded
// engine: equal time, observed time, trace, span, severity and body.
type logKey struct {
	time, observed int64
	trace          model.TraceID
	span           uint64
	severity       uint8
	body           [md5.Size]byte
}

func newLogKey(l *model.LogRecord) logKey {
	return logKey{l.Time, l.ObservedTime, l.TraceID, spanU64(l.SpanID), l.SeverityNumber, md5.Sum([]byte(l.Body.Str))}
}

// timeGroups splits times (with their item indexes) into groups of nearby
// times, each with its bounds.
type timeGroup struct {
	lo, hi int64
	idx    []int
}

func timeGroups(times []int64) []timeGroup {
	order := make([]int, len(times))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(times[a], times[b]) })
	var out []timeGroup
	for _, i := range order {
		t := times[i]
		if n := len(out); n > 0 && t-out[n-1].hi <= clusterGap && len(out[n-1].idx) < lookupChunk {
			out[n-1].hi = t
			out[n-1].idx = append(out[n-1].idx, i)
			continue
		}
		out = append(out, timeGroup{lo: t, hi: t, idx: []int{i}})
	}
	return out
}

// dropStored removes from c the rows already stored or repeated within c,
// and builds the trace index of what remains plus the spans dropped (an
// index row is idempotent but for its counts, which reads do not trust).
func (w *writer) dropStored(ctx context.Context, c *batchSet) error {
	e := w.e
	// Spans.
	if len(c.spans) > 0 {
		times := make([]int64, len(c.spans))
		for i := range c.spans {
			times[i] = c.spans[i].StartTime
		}
		stored := map[spanKey]bool{}
		for _, g := range timeGroups(times) {
			ids := map[model.TraceID]bool{}
			for _, i := range g.idx {
				ids[c.spans[i].TraceID] = true
			}
			q := fmt.Sprintf("SELECT trace_id, span_id FROM %s WHERE start_time BETWEEN %d AND %d AND trace_id IN (%s)",
				e.t("spans"), g.lo, g.hi, e.dialect().Traces(keys(ids)))
			err := e.each(ctx, q, func(scan func(...any) error) error {
				var t string
				var s uint64
				if err := scan(&t, &s); err != nil {
					return err
				}
				stored[spanKey{asTraceID(t), s}] = true
				return nil
			})
			if err != nil {
				return fmt.Errorf("look up stored spans: %w", err)
			}
		}
		kept := c.spans[:0]
		seen := map[spanKey]bool{}
		for i := range c.spans {
			s := &c.spans[i]
			c.indexSpan(&s.Span)
			k := spanKey{s.TraceID, spanU64(s.SpanID)}
			if stored[k] || seen[k] {
				c.dropped++
				continue
			}
			seen[k] = true
			kept = append(kept, *s)
		}
		c.spans = kept
	}
	// Logs: equal lines within one batch are real and kept.
	if len(c.logs) > 0 {
		times := make([]int64, len(c.logs))
		for i := range c.logs {
			times[i] = c.logs[i].Time
		}
		stored := map[logKey]bool{}
		for _, g := range timeGroups(times) {
			var ts []string
			seen := map[int64]bool{}
			for _, i := range g.idx {
				if t := c.logs[i].Time; !seen[t] {
					seen[t] = true
					ts = append(ts, strconv.FormatInt(t, 10))
				}
			}
			q := fmt.Sprintf("SELECT time, observed_time, trace_id, span_id, severity, MD5(body) FROM %s WHERE time BETWEEN %d AND %d AND time IN (%s)",
				e.t("logs"), g.lo, g.hi, strings.Join(ts, ","))
			err := e.each(ctx, q, func(scan func(...any) error) error {
				var (
					k        logKey
					t, md    string
					sid      uint64
					severity uint8
				)
				if err := scan(&k.time, &k.observed, &t, &sid, &severity, &md); err != nil {
					return err
				}
				k.trace, k.span, k.severity = asTraceID(t), sid, severity
				copy(k.body[:], md)
				stored[k] = true
				return nil
			})
			if err != nil {
				return fmt.Errorf("look up stored logs: %w", err)
			}
		}
		kept := c.logs[:0]
		for i := range c.logs {
			l := &c.logs[i]
			if stored[newLogKey(&l.LogRecord)] {
				c.dropped++
				continue
			}
			if !l.TraceID.IsZero() {
				c.indexEntry(l.TraceID, l.Time, l.Time).LogCount++
			}
			kept = append(kept, *l)
		}
		c.logs = kept
	}
	// Invocation rows and message refs: whole rows, by request id / key.
	if len(c.invs) > 0 {
		ids := map[string]bool{}
		lo, hi := c.invs[0].Start, c.invs[0].Start
		for i := range c.invs {
			ids[c.invs[i].RequestID] = true
			lo, hi = min(lo, c.invs[i].Start), max(hi, c.invs[i].Start)
		}
		stored := map[model.Invocation]bool{}
		t := &e.sch.invocations
		for _, chunk := range chunks(keys(ids), lookupChunk) {
			q := fmt.Sprintf("SELECT %s FROM %s WHERE request_id IN (%s) AND start BETWEEN %d AND %d",
				t.list(), e.t(t.name), e.dialect().Strs(chunk), lo, hi)
			rows, err := selectRows(ctx, e, t, q, (*invRow).fix)
			if err != nil {
				return fmt.Errorf("look up stored invocations: %w", err)
			}
			for _, r := range rows {
				stored[r.Invocation] = true
			}
		}
		kept := c.invs[:0]
		for i := range c.invs {
			inv := c.invs[i].Invocation
			if stored[inv] {
				c.dropped++
				continue
			}
			stored[inv] = true
			if !inv.TraceID.IsZero() {
				c.indexEntry(inv.TraceID, inv.Start, inv.Start+inv.DurationNs).InvCount++
			}
			kept = append(kept, c.invs[i])
		}
		c.invs = kept
	}
	if len(c.refs) > 0 {
		ks := map[string]bool{}
		for i := range c.refs {
			ks[c.refs[i].Key] = true
		}
		stored := map[model.MessageRef]bool{}
		t := &e.sch.refs
		for _, chunk := range chunks(keys(ks), lookupChunk) {
			q := fmt.Sprintf("SELECT %s FROM %s WHERE key IN (%s)", t.list(), e.t(t.name), e.dialect().Strs(chunk))
			rows, err := selectRows(ctx, e, t, q, (*refRow).fix)
			if err != nil {
				return fmt.Errorf("look up stored message refs: %w", err)
			}
			for _, r := range rows {
				stored[r.MessageRef] = true
			}
		}
		kept := c.refs[:0]
		for i := range c.refs {
			m := c.refs[i].MessageRef
			if stored[m] {
				c.dropped++
				continue
			}
			stored[m] = true
			kept = append(kept, c.refs[i])
		}
		c.refs = kept
	}
	return nil
}

// keys lists a set's members in order, so that statements are
// deterministic (golden tests).
func keys[K interface{ ~string | model.TraceID }](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b K) int { return strings.Compare(string(asBytes(a)), string(asBytes(b))) })
	return out
}

func asBytes[K interface{ ~string | model.TraceID }](k K) []byte {
	switch x := any(k).(type) {
	case model.TraceID:
		return x[:]
	case string:
		return []byte(x)
	}
	return []byte(fmt.Sprint(k))
}

func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

func (w *writer) stats() store.WriteStats { return w.q.Stats() }

// close refuses new writes and lets the writer commit what was accepted.
func (w *writer) close() error {
	w.q.Close()
	return nil
}
