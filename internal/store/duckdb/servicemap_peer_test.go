package duckdb

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store/rollup/rolluptest"
)

// peerSpans are spans that reach every branch of the peer rules: every
// kind, messaging systems with and without a destination, databases, and
// attributes (repeated, empty, absent) of buckets, RPC systems and hosts.
func peerSpans(n int) []model.Span {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	kinds := []model.SpanKind{model.KindClient, model.KindClient, model.KindProducer, model.KindServer, model.KindInternal, model.KindConsumer}
	out := make([]model.Span, n)
	for i := range out {
		s := model.Span{TraceID: rolluptest.Trace(900_000 + i), SpanID: rolluptest.Span(900_000+i, 1), StartTime: rolluptest.Base + int64(i)*1e6,
			DurationNs: 1e6, Name: "op", Service: "svc", Kind: kinds[rng.IntN(len(kinds))]}
		if rng.IntN(4) == 0 {
			s.MessagingSystem = pick("aws_sqs", "aws_sns", "kafka", "gcp_pubsub", "aws_kinesis", "aws_eventbridge", "rabbitmq")
		}
		if rng.IntN(3) == 0 {
			s.Destination = pick("orders", "a:b", "q")
		}
		if rng.IntN(5) == 0 {
			s.DBSystem = pick("postgresql", "dynamodb")
		}
		for range rng.IntN(5) {
			k := pick("aws.s3.bucket", "rpc.system", "rpc.service", "server.address", "net.peer.name", "http.host", "other")
			var v string
			switch k {
			case "rpc.system":
				v = pick("aws-api", "grpc", "")
			case "rpc.service":
				v = pick("Lambda", "SFN", "DynamoDB", "")
			default:
				v = pick("x.example.com", "", "bucket-1", "host:8080")
			}
			s.Attributes = append(s.Attributes, model.Attr{Key: k, Value: rolluptest.Str(v)})
		}
		out[i] = s
	}
	return out
}

// TestSpanPeerMatchesSQL holds the ingest-time peer column equal to its
// SQL twin (peerExprs) and to migration 0005's backfill of older rows.
func TestSpanPeerMatchesSQL(t *testing.T) {
	e := openRollupStore(t)
	ctx := t.Context()
	spans := peerSpans(3000)
	writeBatch(t, e, model.Batch{Spans: spans})
	kinds := map[string]int{}
	for i := range spans {
		if p := spanPeer(&spans[i]); p != "" {
			kinds[p[:strings.IndexByte(p, ':')]]++
		}
	}
	if len(kinds) < 8 {
		t.Fatalf("the test data reaches only %v", kinds)
	}
	kind, name := peerExprs()
	var bad int
	if err := e.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM spans
WHERE peer IS DISTINCT FROM (CASE WHEN kind IN (3, 4) THEN (%s) || ':' || coalesce(%s, '') END)`, kind, name)).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d spans whose peer differs from peerExprs", bad)
	}
	// The migration's backfill, run again over the same rows.
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var backfill string
	for _, m := range ms {
		if m.version == 5 {
			i := strings.Index(m.sql, "UPDATE spans SET peer")
			backfill = m.sql[i : i+strings.Index(m.sql[i:], ";")]
		}
	}
	// spans is a view over span_rows since migration 0006: the backfill
	// runs on a table with the columns it had then.
	for _, q := range []string{
		"CREATE TABLE peer_go AS SELECT trace_id, span_id, peer FROM spans",
		"CREATE TABLE spans_v5 AS SELECT * FROM spans",
		"UPDATE spans_v5 SET peer = NULL",
		strings.Replace(backfill, "UPDATE spans SET", "UPDATE spans_v5 SET", 1),
	} {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM spans_v5 s JOIN peer_go g USING (trace_id, span_id)
WHERE s.peer IS DISTINCT FROM g.peer`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d spans whose backfilled peer differs from spanPeer's", bad)
	}
}

// BenchmarkSpanPeer is the ingest-time cost of the peer column for a
// client span with the store benchmark's 11 attributes, none a peer's.
func BenchmarkSpanPeer(b *testing.B) {
	s := model.Span{Kind: model.KindClient}
	for i := range 11 {
		s.Attributes = append(s.Attributes, model.Attr{Key: fmt.Sprintf("k%d", i*7), Value: rolluptest.Str("v")})
	}
	for b.Loop() {
		if spanPeer(&s) != "" {
			b.Fatal("peer")
		}
	}
}
