package detect

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/correlate"
	"github.com/ariadnehq/ariadne/internal/model"
)

func TestOneLifePerDelivery(t *testing.T) {
	tr := func(b byte) model.TraceID { return model.TraceID{15: b} }
	// life is a message dead-lettered from src to dlq: two failed attempts
	// on src, then the DLQ's delivery in invocation inv of trace dlqTrace.
	life := func(channel, id, src string, dlqTrace byte, inv string, producer string) *correlate.Message {
		m := &correlate.Message{ID: id, Channel: channel, Destination: src, State: correlate.MessageDeadLettered, DeadLetter: src + "-dlq",
			Attempts: []correlate.MessageEvent{
				{TraceID: tr(1), InvocationID: "a1", Destination: "q", Outcome: correlate.OutcomeBatchItemFailure},
				{TraceID: tr(2), InvocationID: "a2", Destination: "q", Outcome: correlate.OutcomeBatchItemFailure},
				{TraceID: tr(dlqTrace), InvocationID: inv, Destination: src + "-dlq", Outcome: correlate.OutcomeOK},
			}}
		if producer != "" {
			m.Producers = []correlate.MessageEvent{{Service: producer, Destination: src}}
		}
		return m
	}
	tests := []struct {
		name  string
		lives []*correlate.Message
		want  []string // ids kept, with their producer after a colon
	}{
		{"sns via sqs is the queue's dead letter", []*correlate.Message{
			life("sns", "n1", "q", 9, "d1", "api"), life("sqs", "s1", "q", 9, "d1", ""),
		}, []string{"s1:api"}},
		// Which SNS id is which SQS message's is not known in a batch.
		{"a batch in the dlq keeps each queue message", []*correlate.Message{
			life("sqs", "s1", "q", 9, "d1", ""), life("sns", "n1", "q", 9, "d1", "api"),
			life("sqs", "s2", "q", 9, "d1", ""), life("sns", "n2", "q", 9, "d1", "api"),
		}, []string{"s1:", "s2:"}},
		{"separate dlq invocations are separate dead letters", []*correlate.Message{
			life("sqs", "s1", "q", 9, "d1", ""), life("sns", "n1", "q", 9, "d1", "api"),
			life("sqs", "s2", "q", 8, "d2", ""), life("sns", "n2", "q", 8, "d2", "api"),
		}, []string{"s1:api", "s2:api"}},
		{"an sns life without its queue's is kept", []*correlate.Message{
			life("sns", "n1", "q", 9, "d1", "api"),
		}, []string{"n1:api"}},
		{"plain sqs is untouched", []*correlate.Message{
			life("sqs", "s1", "q", 9, "d1", "api"), life("sqs", "s2", "q", 9, "d1", ""),
		}, []string{"s1:api", "s2:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range oneLifePerDelivery(tc.lives) {
				p := ""
				if len(m.Producers) > 0 {
					p = m.Producers[0].Service
				}
				got = append(got, m.ID+":"+p)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("kept %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("kept %v, want %v", got, tc.want)
					break
				}
			}
		})
	}
}
