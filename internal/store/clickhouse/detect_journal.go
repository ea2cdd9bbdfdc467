package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// A detection window commits on ClickHouse in steps, and any node can
// finish the steps another left undone:
//
//  1. journal: the window's occurrences go to detector_journal, in a row
//     of their own (key: a fresh token). Nothing is decided.
//  2. commit: the compare-and-set of detector_state moves the watermark
//     from the window's start to its end and records the token as the
//     row's rev. Exactly one attempt per window start wins it; this single
//     Keeper write is the commit.
//  3. fold: each occurrence is folded into its issue by the issue's own
//     compare-and-set, which also records in the issue's revs the end of
//     the detector's window folded in (a "fold:" marker), so that a fold
//     is never applied twice. Then issue_counts gets the window's counts in
//     one insert deduplicated by the token, and the journal row goes.
//
// Every read of the detector's state (DetectorWatermark, and
// CommitDetection before it decides) settles the journal: a row whose
// token is among the commits of detector_state is folded again, which
// changes only what a dead node had not done; a row whose window start the
// watermark has left was never committed and cannot be, and is deleted.
// A window is committed before the next one of its detector can be, and
// only after the earlier one's journal row was folded and deleted by the
// committer, so a detector has at most one committed row to fold at a
// time and its token is the latest rev of detector_state.
//
// So a node dying before step 2 leaves the window undone (another node
// runs it again; its journal row is deleted later), and a node dying after
// it leaves the occurrences committed in Keeper, folded exactly once by
// whichever node settles next. Two nodes committing one window race on
// step 2; the loser deletes its row and gets store.ErrConflict.

// Where a commit may stop; tests make it stop there (withCommitFault).
const (
	stepJournaled = "journaled" // the occurrences are in the journal
	stepCommitted = "committed" // the watermark moved
	stepFolded    = "folded"    // the first occurrence is in its issue
	stepCounted   = "counted"   // issue_counts has the window, the journal row remains
)

type commitFaultKey struct{}

// withCommitFault makes commits run under ctx call fault after each step;
// an error ends the commit there, as the death of the node would. A test
// seam: nothing else sets it.
func withCommitFault(ctx context.Context, fault func(step string) error) context.Context {
	return context.WithValue(ctx, commitFaultKey{}, fault)
}

func commitFault(ctx context.Context, step string) error {
	if f, ok := ctx.Value(commitFaultKey{}).(func(string) error); ok {
		return f(step)
	}
	return nil
}

// journalEntry is one row of detector_journal.
type journalEntry struct {
	name, token   string
	from, to, now int64
	occ           []store.IssueOccurrence
}

// journalOccurrence is the stored form of an occurrence.
type journalOccurrence struct {
	Kind        string   `json:"kind"`
	Fingerprint string   `json:"fp"`
	Title       string   `json:"title,omitempty"`
	Function    string   `json:"fn,omitempty"`
	Channel     string   `json:"ch,omitempty"`
	Severity    string   `json:"sev,omitempty"`
	Explanation string   `json:"expl,omitempty"`
	First       int64    `json:"first"`
	Last        int64    `json:"last"`
	Count       int64    `json:"n"`
	Traces      []string `json:"traces,omitempty"`
}

func encodeOccurrences(occ []store.IssueOccurrence) string {
	out := make([]journalOccurrence, len(occ))
	for i, o := range occ {
		out[i] = journalOccurrence{Kind: o.Kind, Fingerprint: o.Fingerprint, Title: o.Title, Function: o.Function, Channel: o.Channel,
			Severity: o.Severity, Explanation: o.Explanation, First: o.First, Last: o.Last, Count: o.Count}
		for _, t := range o.Traces {
			out[i].Traces = append(out[i].Traces, t.String())
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func decodeOccurrences(s string) ([]store.IssueOccurrence, error) {
	var in []journalOccurrence
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode journal occurrences: %w", err)
	}
	out := make([]store.IssueOccurrence, len(in))
	for i, o := range in {
		out[i] = store.IssueOccurrence{Kind: o.Kind, Fingerprint: o.Fingerprint, Title: o.Title, Function: o.Function, Channel: o.Channel,
			Severity: o.Severity, Explanation: o.Explanation, First: o.First, Last: o.Last, Count: o.Count}
		for _, t := range o.Traces {
			id, err := model.ParseTraceID(t)
			if err != nil {
				return nil, fmt.Errorf("decode journal occurrences: %w", err)
			}
			out[i].Traces = append(out[i].Traces, id)
		}
	}
	return out, nil
}

// detectorState is a detector's row of detector_state.
type detectorState struct {
	wm    int64
	rev   string
	revs  []string
	found bool
}

func (e *Engine) detectorState(ctx context.Context, name string) (detectorState, error) {
	var st detectorState
	err := e.each(ctx, stmt.DetectorState(e.detectSQL(), name), func(scan func(...any) error) error {
		st.found = true
		return scan(&st.wm, &st.rev, &st.revs)
	})
	return st, err
}

// settle folds detector name's committed journal rows and deletes the
// rows that can no longer commit, as of its state st.
func (e *Engine) settle(ctx context.Context, name string, st detectorState) error {
	var entries []journalEntry
	err := e.each(ctx, stmt.DetectorJournal(e.detectSQL(), name), func(scan func(...any) error) error {
		j := journalEntry{name: name}
		var occ string
		if err := scan(&j.token, &j.from, &j.to, &occ, &j.now); err != nil {
			return err
		}
		var err error
		j.occ, err = decodeOccurrences(occ)
		entries = append(entries, j)
		return err
	})
	if err != nil {
		return err
	}
	for i := range entries {
		j := &entries[i]
		switch {
		case slices.Contains(st.revs, j.token):
			if err := e.foldWindow(ctx, j); err != nil {
				return err
			}
		case j.from != st.wm:
			// Its compare-and-set expected the state of its window start,
			// which has gone for good.
			if err := e.conn.Exec(ctx, stmt.DeleteDetectorJournal(e.detectSQL(), j.token)); err != nil {
				return err
			}
		}
		// Otherwise its commit may be under way on another node.
	}
	return nil
}

// DetectorWatermark implements store.IssueStore. It settles the detector's
// journal first, so that a window committed by a node that died is folded
// before the next one runs.
func (e *Engine) DetectorWatermark(ctx context.Context, name string) (int64, error) {
	if err := e.readable("read detector watermark"); err != nil {
		return 0, err
	}
	st, err := e.detectorState(ctx, name)
	if err != nil {
		return 0, e.fail("read detector watermark", err)
	}
	if err := e.settle(ctx, name, st); err != nil {
		return 0, e.fail("read detector watermark: settle the journal", err)
	}
	return st.wm, nil
}

// CommitDetection implements store.IssueStore in the steps described
// above. After it returns nil the window is committed and folded. When it
// fails after the commit (the watermark moved), the occurrences are safe
// in the journal and the next settle folds them.
func (e *Engine) CommitDetection(ctx context.Context, name string, from, to int64, occ []store.IssueOccurrence, now int64) error {
	if err := e.readable("commit detection"); err != nil {
		return err
	}
	d := e.detectSQL()
	st, err := e.detectorState(ctx, name)
	if err != nil {
		return e.fail("commit detection", err)
	}
	if err := e.settle(ctx, name, st); err != nil {
		return e.fail("commit detection: settle the journal", err)
	}
	if st.wm != from {
		return fmt.Errorf("commit detection %s: watermark is %d, not %d: %w", name, st.wm, from, store.ErrConflict)
	}
	j := journalEntry{name: name, token: newToken(), from: from, to: to, now: now, occ: occ}
	ok, err := e.insertNew(ctx, "detector_journal", stmt.DetectorJournalColumns,
		stmt.DetectorJournalValues(d, name, j.token, from, to, encodeOccurrences(occ), now))
	if err == nil && !ok {
		err = fmt.Errorf("journal token %s exists", j.token)
	}
	if err != nil {
		return e.fail("commit detection: journal", err)
	}
	if err := commitFault(ctx, stepJournaled); err != nil {
		return err
	}
	var won bool
	if st.found {
		won, err = e.casUpdateRev(ctx, "detector_state", "name", name, st.rev, stmt.DetectorStateSets(to, now), j.token, stmt.KeeperRevsPush(d, j.token))
	} else {
		won, err = e.insertNew(ctx, "detector_state", stmt.DetectorStateColumns, stmt.DetectorStateValues(d, name, to, now, j.token))
	}
	if err != nil {
		// Whether it committed is unknown: the journal row stays for the
		// next settle to judge.
		return e.fail("commit detection", err)
	}
	if !won {
		// Best effort: a row left here is deleted by a later settle.
		_ = e.conn.Exec(ctx, stmt.DeleteDetectorJournal(d, j.token))
		return fmt.Errorf("commit detection %s: another node committed the window from %d: %w", name, from, store.ErrConflict)
	}
	if err := commitFault(ctx, stepCommitted); err != nil {
		return err
	}
	if err := e.foldWindow(ctx, &j); err != nil {
		return e.fail("commit detection: fold the window", err)
	}
	return nil
}

// foldWindow folds a committed journal row into the issues and
// issue_counts and deletes it. Redoing it changes nothing already done.
func (e *Engine) foldWindow(ctx context.Context, j *journalEntry) error {
	d := e.detectSQL()
	for i := range j.occ {
		if err := e.foldOccurrence(ctx, j, &j.occ[i]); err != nil {
			return err
		}
		if i == 0 {
			if err := commitFault(ctx, stepFolded); err != nil {
				return err
			}
		}
	}
	if q := stmt.AddIssueCounts(d, stmt.OccurrenceCounts(j.occ)); q != "" {
		// The token makes a second insert of the window's counts, by this
		// node or another, a no-op.
		cctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
			"insert_deduplicate": 1, "insert_deduplication_token": "detect:" + j.token}))
		if err := e.conn.Exec(cctx, q); err != nil {
			return fmt.Errorf("count occurrences: %w", err)
		}
	}
	if err := commitFault(ctx, stepCounted); err != nil {
		return err
	}
	return e.conn.Exec(ctx, stmt.DeleteDetectorJournal(d, j.token))
}

// foldOccurrence folds o, of journal row j, into its issue unless the
// issue has it already.
func (e *Engine) foldOccurrence(ctx context.Context, j *journalEntry, o *store.IssueOccurrence) error {
	marker := foldMarker(j.name, j.to)
	_, err := e.updateIssue(ctx, store.IssueID(o.Kind, o.Fingerprint), marker, func(is *store.Issue, revs []string, found bool) (store.Issue, bool) {
		if !found {
			return shared.FoldOccurrence(nil, o, j.now), true
		}
		if foldedThrough(revs, j.name) >= j.to {
			return *is, false
		}
		return shared.FoldOccurrence(is, o, j.now), true
	})
	return err
}

// An issue's revs hold, besides the ids of its last writes, one marker per
// detector that folded into it: "fold:<window end>:<detector>", the end of
// the last window of that detector folded in. Windows of a detector fold in
// order, so a window whose end the marker reaches is in the issue.
const foldPrefix = "fold:"

func foldMarker(name string, end int64) string {
	return foldPrefix + strconv.FormatInt(end, 10) + ":" + name
}

func parseFoldMarker(s string) (name string, end int64, ok bool) {
	rest, ok := strings.CutPrefix(s, foldPrefix)
	if !ok {
		return "", 0, false
	}
	n, name, ok := strings.Cut(rest, ":")
	if !ok {
		return "", 0, false
	}
	end, err := strconv.ParseInt(n, 10, 64)
	return name, end, err == nil
}

// foldedThrough is the end of the last window of detector name folded
// into an issue with revs; 0 when none.
func foldedThrough(revs []string, name string) int64 {
	for _, r := range revs {
		if n, end, ok := parseFoldMarker(r); ok && n == name {
			return end
		}
	}
	return 0
}

// issueRevs is the revs of an issue after write rev: its fold markers
// (marker, when set, replacing its detector's), then its last eight write
// ids. Markers are never dropped for room: they are what makes a fold
// happen once.
func issueRevs(old []string, rev, marker string) []string {
	mname, _, setting := parseFoldMarker(marker)
	var markers, writes []string
	for _, r := range old {
		if n, _, ok := parseFoldMarker(r); ok {
			if !setting || n != mname {
				markers = append(markers, r)
			}
			continue
		}
		writes = append(writes, r)
	}
	if setting {
		markers = append(markers, marker)
	}
	writes = append(writes, rev)
	if len(writes) > 8 {
		writes = writes[len(writes)-8:]
	}
	return append(markers, writes...)
}
