package duckdb

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// extSpan sets every field that ext holds.
func extSpan() model.Span {
	s := model.Span{
		TraceID: model.TraceID{1, 2, 3}, SpanID: model.SpanID{9, 8}, ParentSpanID: model.SpanID{7},
		TraceState: "k=v", Flags: 0x301, StartTime: 1_700_000_000_000_000_000, DurationNs: 5e6,
		Name: "POST /orders", Kind: model.KindServer, StatusCode: model.StatusError, StatusMessage: "boom \"quoted\"",
		Service: "orders", ScopeName: "scope", ScopeVersion: "1.2.3",
		Function: "checkout", InvocationID: "req-1", ColdStart: true, Trigger: "sqs",
		MessagingSystem: "aws_sqs", MessagingOperation: "process", Destination: "orders-queue",
		MessageIDs: []string{"m1", "", "m\u00e93"}, HTTPMethod: "POST", HTTPRoute: "/orders", HTTPStatus: 502,
		DBSystem: "dynamodb", ErrorType: "Timeout", ErrorMessage: "line1\nline2\t\u2028",
		Attributes: model.Attributes{
			{Key: "n", Value: model.Value{Type: model.TypeInt, Str: "42"}},
			{Key: "s", Value: model.Value{Type: model.TypeString, Str: "x"}},
		},
		ResourceAttributes: model.Attributes{{Key: "service.name", Value: model.Value{Type: model.TypeString, Str: "orders"}}},
		Events: []model.Event{{Time: 1_700_000_000_000_000_100, Name: "exception",
			Attributes: model.Attributes{{Key: "exception.message", Value: model.Value{Type: model.TypeString, Str: "bad"}}}}},
		Links:           []model.Link{{TraceID: model.TraceID{5}, SpanID: model.SpanID{6}, TraceState: "a=b"}},
		RequestPayload:  `{"order":1}`,
		ResponsePayload: "ok",
	}
	return s
}

// TestSpanExtRoundTrip: every field stored in ext comes back, through the
// Go decoder and through the columns of the spans view; a span with none
// stores NULL.
func TestSpanExtRoundTrip(t *testing.T) {
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rich := extSpan()
	plain := model.Span{TraceID: model.TraceID{4}, SpanID: model.SpanID{4}, StartTime: rich.StartTime + 1, DurationNs: 1,
		Name: "op", Service: "svc", Attributes: model.Attributes{{Key: "k", Value: model.Value{Type: model.TypeString, Str: "v"}}}}
	if err := e.Write(t.Context(), &model.Batch{Spans: []model.Span{rich, plain}}); err != nil {
		t.Fatal(err)
	}
	checkStoredSpans(t, e, []model.Span{rich, plain})

	// Free text finds the fields in ext, whether or not it is written
	// as it is in JSON.
	for _, text := range []string{"BOOM", `"quoted"`, "line2", "\n", "order", "dynamo"} {
		r, err := e.SearchTraces(t.Context(), store.TraceQuery{TimeRange: store.TimeRange{Start: rich.StartTime, End: rich.StartTime + 10},
			Text: text})
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if text == "\\n" || text == "dynamo" { // an escape in JSON only; a field free text does not search
			want = 0
		}
		if len(r.Traces) != want {
			t.Errorf("text %q found %d traces, want %d", text, len(r.Traces), want)
		}
	}

	var ext sql.NullString
	if err := e.db.QueryRowContext(t.Context(), "SELECT ext FROM span_rows WHERE trace_id = "+uuidLiteral(plain.TraceID)).Scan(&ext); err != nil {
		t.Fatal(err)
	}
	if ext.Valid {
		t.Errorf("ext of a span without ext fields = %q, want NULL", ext.String)
	}
}

// checkStoredSpans compares the spans table (in start order) with want,
// both decoded in Go and as the view's columns.
func checkStoredSpans(t *testing.T, e *Engine, want []model.Span) {
	t.Helper()
	rows, err := selectRows(t.Context(), e.db, &e.schema.spans, "SELECT "+e.schema.spans.columnList("")+" FROM spans ORDER BY start_time")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d spans, want %d", len(rows), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(rows[i].Span, want[i]) {
			t.Errorf("span %d:\n got %+v\nwant %+v", i, rows[i].Span, want[i])
		}
	}
	// The view's columns, as SQL readers (detectors, service map) see them.
	type viewRow struct {
		fn, inv, trig, msys, mop, dest, method, route, db, etype, emsg, smsg, tstate, sver sql.NullString
		cold                                                                               bool
		status                                                                             int32
		ids                                                                                any
		events, links, req, resp, types                                                    sql.NullString
	}
	rs, err := e.db.QueryContext(t.Context(), `SELECT "function", invocation_id, "trigger", messaging_system, messaging_operation,
		destination, http_method, http_route, db_system, error_type, error_message, status_message, trace_state, scope_version,
		cold_start, http_status, message_ids, events, links, request_payload, response_payload, attr_types
		FROM spans ORDER BY start_time`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for i := 0; rs.Next(); i++ {
		var v viewRow
		if err := rs.Scan(&v.fn, &v.inv, &v.trig, &v.msys, &v.mop, &v.dest, &v.method, &v.route, &v.db, &v.etype, &v.emsg,
			&v.smsg, &v.tstate, &v.sver, &v.cold, &v.status, &v.ids, &v.events, &v.links, &v.req, &v.resp, &v.types); err != nil {
			t.Fatal(err)
		}
		w := want[i]
		ids, err := asStrings(v.ids)
		if err != nil {
			t.Fatal(err)
		}
		got := []any{v.fn.String, v.inv.String, v.trig.String, v.msys.String, v.mop.String, v.dest.String, v.method.String,
			v.route.String, v.db.String, v.etype.String, v.emsg.String, v.smsg.String, v.tstate.String, v.sver.String,
			v.cold, v.status, ids, v.events.String, v.links.String, v.req.String, v.resp.String, v.types.String}
		exp := []any{w.Function, w.InvocationID, w.Trigger, w.MessagingSystem, w.MessagingOperation, w.Destination, w.HTTPMethod,
			w.HTTPRoute, w.DBSystem, w.ErrorType, w.ErrorMessage, w.StatusMessage, w.TraceState, w.ScopeVersion,
			w.ColdStart, w.HTTPStatus, w.MessageIDs, shared.EncodeEvents(w.Events), shared.EncodeLinks(w.Links),
			w.RequestPayload, w.ResponsePayload, shared.TypesString(w.Attributes)}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("view row %d:\n got %q\nwant %q", i, got, exp)
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationSpanExt: a store written before migration 0006 keeps every
// span field when its spans move into span_rows.
func TestMigrationSpanExt(t *testing.T) {
	dir := t.TempDir()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", filepath.Join(dir, FileName)+"?storage_compatibility_version=v1.5.0")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:5] {
		if err := apply(ctx, db, m); err != nil {
			t.Fatal(err)
		}
	}
	rich := extSpan()
	plain := model.Span{TraceID: model.TraceID{4}, SpanID: model.SpanID{4}, StartTime: rich.StartTime + 1, DurationNs: 1,
		Name: "op", Service: "svc"}
	// The spans table of version 5, as the writer of that version filled it.
	for _, s := range []model.Span{rich, plain} {
		var ids any
		if len(s.MessageIDs) > 0 {
			l := make([]any, len(s.MessageIDs))
			for i, id := range s.MessageIDs {
				l[i] = id
			}
			ids = l
		}
		_, err := db.ExecContext(ctx, `INSERT INTO spans (trace_id, span_id, parent_span_id, trace_state, flags, start_time, duration_ns,
			name, kind, status_code, status_message, service, scope_name, scope_version, "function", invocation_id, cold_start, "trigger",
			messaging_system, messaging_operation, destination, message_ids, http_method, http_route, http_status, db_system,
			error_type, error_message, attr_keys, attr_values, attr_types, resource_attributes, events, links, request_payload, response_payload)
			VALUES (`+uuidLiteral(s.TraceID)+`, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::VARCHAR[], ?, ?, ?, ?, ?, ?,
			?::VARCHAR[], ?::VARCHAR[], ?, ?, ?, ?, ?, ?)`,
			spanU64(s.SpanID), spanU64(s.ParentSpanID), nullIfEmpty(s.TraceState), s.Flags, s.StartTime, s.DurationNs,
			nullIfEmpty(s.Name), uint8(s.Kind), uint8(s.StatusCode), nullIfEmpty(s.StatusMessage), nullIfEmpty(s.Service),
			nullIfEmpty(s.ScopeName), nullIfEmpty(s.ScopeVersion), nullIfEmpty(s.Function), nullIfEmpty(s.InvocationID), s.ColdStart,
			nullIfEmpty(s.Trigger), nullIfEmpty(s.MessagingSystem), nullIfEmpty(s.MessagingOperation), nullIfEmpty(s.Destination),
			ids, nullIfEmpty(s.HTTPMethod), nullIfEmpty(s.HTTPRoute), s.HTTPStatus, nullIfEmpty(s.DBSystem),
			nullIfEmpty(s.ErrorType), nullIfEmpty(s.ErrorMessage), (&scratch{}).keys(0, s.Attributes), (&scratch{}).values(1, s.Attributes),
			nullIfEmpty(shared.TypesString(s.Attributes)), (&scratch{}).resource(s.ResourceAttributes),
			nullIfEmpty(shared.EncodeEvents(s.Events)), nullIfEmpty(shared.EncodeLinks(s.Links)),
			nullIfEmpty(s.RequestPayload), nullIfEmpty(s.ResponsePayload))
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	e, err := Open(t.Context(), Settings{Dir: dir, MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	checkStoredSpans(t, e, []model.Span{rich, plain})
}
