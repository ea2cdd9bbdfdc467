package correlate

import "testing"

// TestMessageState is the table of message outcomes: the last attempt per
// destination decides, a DLQ-named destination means dead-lettered.
func TestMessageState(t *testing.T) {
	ev := func(dest, outcome string) MessageEvent { return MessageEvent{Destination: dest, Outcome: outcome} }
	tests := []struct {
		name      string
		producers []MessageEvent
		attempts  []MessageEvent
		want      string
		wantDLQ   string
	}{
		{"sent, not delivered", []MessageEvent{ev("orders", OutcomeOK)}, nil, MessageProduced, ""},
		{"sent straight to a DLQ", []MessageEvent{ev("orders-dlq", OutcomeOK)}, nil, MessageDeadLettered, "orders-dlq"},
		{"processed", nil, []MessageEvent{ev("orders", OutcomeOK)}, MessageProcessed, ""},
		{"retried then processed", nil, []MessageEvent{ev("orders", OutcomeError), ev("orders", OutcomeOK)}, MessageProcessed, ""},
		{"failed last", nil, []MessageEvent{ev("orders", OutcomeOK), ev("orders", OutcomeError)}, MessageFailed, ""},
		{"batch item failure", nil, []MessageEvent{ev("orders", OutcomeBatchItemFailure)}, MessagePartiallyFailed, ""},
		{"outcome unknown", nil, []MessageEvent{ev("orders", OutcomeUnknown)}, MessageDelivered, ""},
		{"fan-out, one queue failed", nil, []MessageEvent{ev("billing", OutcomeOK), ev("shipping", OutcomeError)}, MessageFailed, ""},
		{"fan-out, both processed", nil, []MessageEvent{ev("billing", OutcomeOK), ev("shipping", OutcomeOK)}, MessageProcessed, ""},
		{"redriven", nil, []MessageEvent{ev("jobs", OutcomeError), ev("jobs", OutcomeError), ev("jobs-dlq", OutcomeOK)}, MessageDeadLettered, "jobs-dlq"},
		{"consumed from its own DLQ", []MessageEvent{ev("jobs-dead-letter", OutcomeOK)}, []MessageEvent{ev("jobs-dead-letter", OutcomeOK)}, MessageProcessed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Message{Producers: tc.producers, Attempts: tc.attempts}
			if len(tc.producers) > 0 {
				m.Destination = tc.producers[0].Destination
			} else if len(tc.attempts) > 0 {
				m.Destination = tc.attempts[0].Destination
			}
			state, dlq := messageState(m)
			if state != tc.want || dlq != tc.wantDLQ {
				t.Errorf("state %q, dlq %q; want %q, %q", state, dlq, tc.want, tc.wantDLQ)
			}
		})
	}
}

func TestCandidateKeys(t *testing.T) {
	for _, tc := range []struct {
		id    string
		first string
		n     int
	}{
		{"abc", "sqs:abc", 10},
		{"kinesis:shardId-1:49", "kinesis:shardId-1:49", 11},
		{"shardId-1:49", "sqs:shardId-1:49", 10},
	} {
		got := candidateKeys(tc.id)
		if got[0] != tc.first || len(got) != tc.n {
			t.Errorf("candidateKeys(%q) = %v", tc.id, got)
		}
	}
}
