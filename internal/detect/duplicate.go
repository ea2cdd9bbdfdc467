package detect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// KindDuplicateWrite: a retried event performed the same write again.
const KindDuplicateWrite = "duplicate_side_effect"

// dupDetector finds retried events (an SQS message received again, an
// async invocation retried under its request id) whose attempts each
// performed the same non-idempotent write: the same DynamoDB item, the
// same HTTP POST, the same message sent again — the charge that ran twice.
//
// The attempts are found through the consumer refs every attempt records
// ("sqs:<message id>", "lambda:<request id>"); their writes are the client
// and producer spans below each attempt's span.
type dupDetector struct{}

func (dupDetector) Name() string { return "duplicates.v1" }

// write is one write span reduced to what makes it "the same write".
type write struct {
	sig   string // identity of the effect
	label string // how a person names it: "DynamoDB.PutItem orders"
}

// serviceIDKeys are producer keys the service assigns per call (a new
// message id each send), so they never repeat between attempts and must
// not be part of a write's identity; ddb: keys are the item's own.
var serviceIDKeys = []string{"sqs:", "sns:", "events:", "s3:", "lambda:", "kinesis:", "sfn:"}

var writeVerbs = []string{"Put", "Update", "Delete", "Write", "Send", "Publish", "Invoke", "Create", "Charge", "Insert"}

// writeOf says whether s is a write and what identifies it.
func writeOf(s *model.Span) (write, bool) {
	if s.Kind != model.KindClient && s.Kind != model.KindProducer {
		return write{}, false
	}
	isWrite := s.Kind == model.KindProducer || s.MessagingOperation == "publish" || s.MessagingOperation == "send" ||
		s.MessagingOperation == "create"
	switch s.HTTPMethod {
	case "POST", "PUT", "PATCH", "DELETE":
		isWrite = true
	}
	op := s.Name
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	for _, v := range writeVerbs {
		isWrite = isWrite || strings.HasPrefix(op, v)
	}
	if !isWrite {
		return write{}, false
	}
	var keys []string
	if v, ok := s.Attributes.Get("ariadne.refs.producer"); ok {
		var ks []string
		if json.Unmarshal([]byte(v.Str), &ks) != nil {
			ks = []string{v.Str}
		}
		for _, k := range ks {
			if !slices.ContainsFunc(serviceIDKeys, func(p string) bool { return strings.HasPrefix(k, p) }) {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	target := s.Destination
	for _, k := range []string{"aws.dynamodb.table_names", "db.collection.name", "url.full", "http.url"} {
		if v, ok := s.Attributes.Get(k); ok && target == "" {
			target = text(v)
		}
	}
	if target == "" {
		target = s.HTTPRoute
	}
	payload := sha256.Sum256([]byte(s.RequestPayload))
	sig := strings.Join([]string{s.Name, s.HTTPMethod, target, strings.Join(keys, ","), hex.EncodeToString(payload[:8])}, "\x1f")
	label := strings.TrimSpace(s.Name + " " + target)
	return write{sig: sig, label: label}, true
}

// text is an attribute value as words: arrays (OTLP/JSON AnyValue form)
// joined with commas.
func text(v model.Value) string {
	if v.Type != model.TypeArray {
		return v.Str
	}
	var a struct {
		ArrayValue struct {
			Values []struct {
				StringValue string `json:"stringValue"`
			} `json:"values"`
		} `json:"arrayValue"`
	}
	if json.Unmarshal([]byte(v.Str), &a) != nil {
		return v.Str
	}
	var out []string
	for _, x := range a.ArrayValue.Values {
		out = append(out, x.StringValue)
	}
	return strings.Join(out, ",")
}

func (dupDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	cr, ok := r.(store.CorrelationReader)
	if !ok {
		return nil, nil // no refs: attempts cannot be joined
	}
	// The retried events of the window, each once.
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] && len(keys) < maxWalks {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	spans, trunc, err := r.DetectSpans(ctx, w.TimeRange, store.DetectSpanFilter{AttrAtLeast: []store.AttrBound{{Key: attrReceiveCount, Min: 2}}}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	for i := range spans {
		if s := &spans[i]; len(s.MessageIDs) > 0 && !isEntry(s) {
			add("sqs:" + s.MessageIDs[0])
		}
	}
	invs, trunc, err := r.DetectInvocations(ctx, store.DetectInvocationQuery{TimeRange: w.TimeRange, MinAttempt: 2, Now: w.Now}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	for _, inv := range invs {
		add("lambda:" + inv.RequestID)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	refs, _, err := cr.RefsByKeys(ctx, keys, 20*maxWalks)
	if err != nil {
		return nil, fmt.Errorf("read attempts: %w", err)
	}
	type attempt struct {
		trace model.TraceID
		span  model.SpanID
		time  int64
	}
	attempts := map[string][]attempt{}
	var traces []model.TraceID
	for _, ref := range refs {
		if ref.Role != model.RoleConsumer {
			continue
		}
		attempts[ref.Key] = append(attempts[ref.Key], attempt{ref.TraceID, ref.SpanID, ref.Time})
		if !slices.Contains(traces, ref.TraceID) {
			traces = append(traces, ref.TraceID)
		}
	}
	if len(traces) == 0 {
		return nil, nil
	}
	all, _, err := cr.SpansOfTraces(ctx, traces, store.SpanFull, 50_000)
	if err != nil {
		return nil, fmt.Errorf("read spans of attempts: %w", err)
	}
	type sk struct {
		t model.TraceID
		s model.SpanID
	}
	children := map[sk][]*model.Span{}
	byID := map[sk]*model.Span{}
	for i := range all {
		s := &all[i]
		byID[sk{s.TraceID, s.SpanID}] = s
		children[sk{s.TraceID, s.ParentSpanID}] = append(children[sk{s.TraceID, s.ParentSpanID}], s)
	}
	g := newGroups()
	labels := map[string]string{}
	for _, key := range keys {
		as := attempts[key]
		if len(as) < 2 {
			continue
		}
		// An attempt records the key on its invocation span and on its
		// per-message span below it: keep the innermost of such a pair.
		inner := map[sk]bool{}
		for _, a := range as {
			inner[sk{a.trace, a.span}] = true
		}
		for _, a := range as {
			for p, n := byID[sk{a.trace, a.span}], 0; p != nil && n < 64; n++ {
				up := sk{p.TraceID, p.ParentSpanID}
				if p.ParentSpanID.IsZero() {
					break
				}
				delete(inner, up) // an ancestor of another attempt's span
				p = byID[up]
			}
		}
		// Which attempts performed each write.
		done := map[string]map[int]bool{}
		var fn string
		var last int64
		for ai, a := range as {
			root := byID[sk{a.trace, a.span}]
			if root == nil || !inner[sk{a.trace, a.span}] {
				continue
			}
			if fn == "" {
				fn = functionOf(root)
			}
			last = max(last, root.EndTime())
			stack := []*model.Span{root}
			for n := 0; len(stack) > 0 && n < 10_000; n++ {
				s := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if wr, ok := writeOf(s); ok && s != root {
					if done[wr.sig] == nil {
						done[wr.sig] = map[int]bool{}
					}
					done[wr.sig][ai] = true
					labels[wr.sig] = wr.label
				}
				stack = append(stack, children[sk{s.TraceID, s.SpanID}]...)
			}
		}
		var sigs []string
		for sig, by := range done {
			if len(by) >= 2 {
				sigs = append(sigs, sig)
			}
		}
		sort.Strings(sigs)
		channel := ""
		if strings.HasPrefix(key, "sqs:") {
			for _, ref := range refs {
				if ref.Key == key && ref.Destination != "" {
					channel = ref.Destination
				}
			}
		}
		for _, sig := range sigs {
			label := labels[sig]
			gr := g.add(KindDuplicateWrite, fn+"\x1f"+label, last, as[0].trace, func(o *store.IssueOccurrence) {
				o.Function, o.Channel, o.Severity = fn, channel, SeverityCritical
				o.Title = fmt.Sprintf("%s repeated %s when an event was retried", fn, label)
			})
			gr.extra["attempts"] = max(gr.extra["attempts"], int64(len(done[sig])))
			if gr.example == "" {
				gr.example = strings.SplitN(key, ":", 2)[0]
			}
		}
	}
	return g.list(func(gr *group) {
		o := &gr.occ
		label := strings.SplitN(o.Fingerprint, "\x1f", 2)[1]
		what := "an asynchronous invocation retried under the same request id"
		if gr.example == "sqs" {
			what = "a message delivered again"
			if o.Channel != "" {
				what += " by " + o.Channel
			}
		}
		o.Explanation = fmt.Sprintf("%s performed the same write (%s) in %d attempts of %s (last at %s): the first attempt's effect was not undone when it failed, so the retry did it again. Make the write idempotent (a condition on the item, an idempotency key) or record that the event was handled.",
			o.Function, label, gr.extra["attempts"], what, when(o.Last))
	}), nil
}
