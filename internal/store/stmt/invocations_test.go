package stmt

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

func TestInvocationsGolden(t *testing.T) {
	const cols = `request_id, "function", "start"`
	golden(t, "invocations-keys", func(d Dialect) string {
		return InvocationKeys(d, store.InvocationQuery{}, nil, 64)
	})
	cold := true
	golden(t, "invocations-keys-filtered", func(d Dialect) string {
		return InvocationKeys(d, store.InvocationQuery{
			TimeRange:   store.TimeRange{Start: 1000, End: 2000},
			Function:    `o'brien\fn`,
			Statuses:    []model.InvocationStatus{model.InvocationError, model.InvocationTimeout},
			ColdStart:   &cold,
			MinDuration: 5e8,
		}, &shared.InvKey{Start: 1500, ID: "req-'1'"}, 256)
	})
	golden(t, "invocations-rows", func(d Dialect) string {
		return InvocationRows(d, cols, []string{"req-1", "it's", "nul\x00id"}, 1000, 2000)
	})
	golden(t, "invocations-one", func(d Dialect) string { return Invocation(d, cols, `req-%_\'`) })
	golden(t, "invocations-logs", func(d Dialect) string {
		return InvocationLogs(d, "body", "req-1", store.TimeRange{Start: 1000}, 100)
	})
}
