package duckdb

import (
	"fmt"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// BenchmarkInvocations measures the invocation reads over 100 000
// invocations of 20 functions in an hour, two rows each (telemetry and
// logs), every tenth a timeout: a first page, a page filtered by a rare
// status, and one invocation by request id.
func BenchmarkInvocations(b *testing.B) {
	e, err := Open(b.Context(), Settings{Dir: b.TempDir(), MemoryLimit: "1GB"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	const n = 100_000
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano()
	for first := 0; first < n; first += 10_000 {
		var batch model.Batch
		for i := first; i < first+10_000; i++ {
			st := model.InvocationOK
			if i%10 == 0 {
				st = model.InvocationTimeout
			}
			row := model.Invocation{RequestID: fmt.Sprintf("req-%07d", i), Function: fmt.Sprintf("fn-%02d", i%20), Source: "telemetry",
				Start: base + int64(i)*int64(time.Hour)/n, DurationNs: 1e8, BilledDurationNs: 1e8, MemoryMB: 128, MaxMemoryMB: 40, Status: st}
			logs := row
			logs.Source = "logs"
			batch.Invocations = append(batch.Invocations, row, logs)
		}
		if err := e.Write(b.Context(), &batch); err != nil {
			b.Fatal(err)
		}
	}
	now := base + int64(2*time.Hour)
	for _, bc := range []struct {
		name string
		q    store.InvocationQuery
	}{
		{"first-page", store.InvocationQuery{Limit: 50}},
		{"function", store.InvocationQuery{Function: "fn-07", Limit: 50}},
		{"status-timeout", store.InvocationQuery{Statuses: []model.InvocationStatus{model.InvocationTimeout}, Limit: 50}},
		{"status-none", store.InvocationQuery{Statuses: []model.InvocationStatus{model.InvocationOOM}, Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.q.Now = now
			for b.Loop() {
				if _, _, err := e.Invocations(b.Context(), bc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("by-request-id", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := e.Invocation(b.Context(), fmt.Sprintf("req-%07d", (i*7919)%n), now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
