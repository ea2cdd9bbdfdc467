package duckdb

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// TestInvocationChunks pages through filters that SQL cannot decide alone
// (an SDK error under a platform ok) across several growing chunks.
func TestInvocationChunks(t *testing.T) {
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "512MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const n = 3000
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano()
	var b model.Batch
	var want []string
	for i := range n {
		id := fmt.Sprintf("req-%05d", i)
		row := model.Invocation{RequestID: id, Function: "f", Source: "telemetry", Start: base + int64(i)*int64(time.Second),
			DurationNs: 1e6, BilledDurationNs: 1e6, MemoryMB: 128, Status: model.InvocationOK}
		if i%97 != 0 {
			row.InitDurationNs = 1e6 // cold; SQL cannot pick out the warm ones
		}
		b.Invocations = append(b.Invocations, row)
		// Every row says ok somewhere; only some SDK rows say error, and
		// every tenth invocation has an SDK row that says ok.
		switch {
		case i%97 == 0:
			b.Invocations = append(b.Invocations, model.Invocation{RequestID: id, Source: "sdk", Start: row.Start + 1, Status: model.InvocationError})
			want = append(want, id)
		case i%10 == 0:
			b.Invocations = append(b.Invocations, model.Invocation{RequestID: id, Source: "sdk", Start: row.Start + 1, Status: model.InvocationOK})
		}
	}
	if err := e.Write(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(want)
	warm := false
	var got []string
	cur := ""
	for range 100 {
		recs, next, err := e.Invocations(t.Context(), store.InvocationQuery{ColdStart: &warm, Limit: 7, Cursor: cur, Now: base})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			got = append(got, r.RequestID)
		}
		if cur = next; cur == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("warm starts: %v, want %v", got, want)
	}
	for _, st := range [][]model.InvocationStatus{{model.InvocationError}, {model.InvocationOK}} {
		var got []string
		cur := ""
		for range 2000 {
			recs, next, err := e.Invocations(t.Context(), store.InvocationQuery{Statuses: st, Limit: 7, Cursor: cur, Now: base})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				got = append(got, r.RequestID)
			}
			if cur = next; cur == "" {
				break
			}
		}
		wantN := len(want)
		if st[0] == model.InvocationOK {
			wantN = n - len(want)
		}
		if len(got) != wantN || (st[0] == model.InvocationError && !slices.Equal(got, want)) {
			t.Errorf("status %s: %d records, want %d", st[0], len(got), wantN)
		}
		if !slices.IsSortedFunc(got, func(a, b string) int { return -cmpStr(a, b) }) {
			t.Errorf("status %s: not newest first", st[0])
		}
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
