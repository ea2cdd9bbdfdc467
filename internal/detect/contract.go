package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// KindContractDrift: a consumer fails on messages whose shape a producer
// changed.
const KindContractDrift = "contract_drift"

// contractDetector learns the shape of the payloads every producer
// (service and service.version) sends on every channel, from the payloads
// the SDK captured on its send spans, and when a consumer fails on a
// message whose producer's shape differs from the one the same channel
// carried before (the previous producer version), raises one issue naming
// the field, the producer and since when.
//
// Learning writes contracts (store.ContractStore) during Detect; the
// observations are idempotent, so a run that loses the commit race and is
// redone changes nothing.
type contractDetector struct{}

func (contractDetector) Name() string { return "contracts.v1" }

// maxShapeFields bounds the fields one payload contributes.
const maxShapeFields = 200

// shape flattens a JSON document into field paths and types, two levels
// deep ("a", "a.b"; arrays as "a[]").
func shape(doc any, prefix string, depth int, out map[string]string) {
	if len(out) >= maxShapeFields {
		return
	}
	switch v := doc.(type) {
	case map[string]any:
		if prefix != "" {
			out[prefix] = "object"
		}
		if depth >= 2 {
			return
		}
		for k, x := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			shape(x, p, depth+1, out)
		}
	case []any:
		out[prefix] = "array"
		if len(v) > 0 && depth < 2 {
			shape(v[0], prefix+"[]", depth+1, out)
		}
	case string:
		out[prefix] = "string"
	case float64, json.Number:
		out[prefix] = "number"
	case bool:
		out[prefix] = "bool"
	case nil:
		out[prefix] = "null"
	}
}

// messageBody extracts the message a send span's captured input carried
// (SQS SendMessage MessageBody, SNS Publish Message, EventBridge Detail),
// or the payload itself when it is the message.
func messageBody(payload string) (map[string]string, bool) {
	var in map[string]any
	if json.Unmarshal([]byte(payload), &in) != nil {
		return nil, false
	}
	body := ""
	for _, k := range []string{"MessageBody", "Message", "Detail"} {
		if s, ok := in[k].(string); ok {
			body = s
			break
		}
	}
	if entries, ok := in["Entries"].([]any); ok && body == "" && len(entries) > 0 {
		if e, ok := entries[0].(map[string]any); ok {
			for _, k := range []string{"MessageBody", "Message", "Detail"} {
				if s, ok := e[k].(string); ok {
					body = s
				}
			}
		}
	}
	var doc any
	if body == "" || json.Unmarshal([]byte(body), &doc) != nil {
		return nil, false
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, false
	}
	out := map[string]string{}
	shape(doc, "", 0, out)
	return out, true
}

func versionOf(s *model.Span) string {
	if v := s.ResourceAttributes.String("service.version"); v != "" {
		return v
	}
	return s.Attributes.String("service.version")
}

// diff says how cur differs from base, in words, and names the fields.
func diff(base, cur map[string]string) (words []string, fields []string) {
	var missing, added []string
	for f := range base {
		if _, ok := cur[f]; !ok && !strings.Contains(f, ".") && !strings.Contains(f, "[]") {
			missing = append(missing, f)
		}
	}
	for f := range cur {
		if _, ok := base[f]; !ok && !strings.Contains(f, ".") && !strings.Contains(f, "[]") {
			added = append(added, f)
		}
	}
	sort.Strings(missing)
	sort.Strings(added)
	for _, m := range slices.Clone(missing) {
		// A field gone and one of the same type new: a rename.
		for i, a := range added {
			if base[m] == cur[a] {
				words = append(words, fmt.Sprintf("renamed %q to %q", m, a))
				fields = append(fields, m)
				missing = slices.DeleteFunc(missing, func(x string) bool { return x == m })
				added = slices.Delete(added, i, i+1)
				break
			}
		}
	}
	for _, m := range missing {
		words = append(words, fmt.Sprintf("dropped %q (%s)", m, base[m]))
		fields = append(fields, m)
	}
	var changed []string
	for f, t := range cur {
		if bt, ok := base[f]; ok && bt != t && !strings.Contains(store.JoinTypes(bt, ""), t) {
			changed = append(changed, f)
		}
	}
	sort.Strings(changed)
	for _, f := range changed {
		words = append(words, fmt.Sprintf("changed %q from %s to %s", f, base[f], cur[f]))
		fields = append(fields, f)
	}
	return words, fields
}

func (contractDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	cst, ok := r.(store.ContractStore)
	cr, ok2 := r.(store.CorrelationReader)
	if !ok || !ok2 {
		return nil, nil
	}
	// Learn what every producer sent in the window.
	prods, trunc, err := r.DetectSpans(ctx, w.TimeRange, store.DetectSpanFilter{Producers: true}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	type ckey struct{ channel, service, version string }
	learned := map[ckey]*store.Contract{}
	var order []ckey
	for i := range prods {
		s := &prods[i]
		if s.Destination == "" || s.RequestPayload == "" {
			continue
		}
		fields, ok := messageBody(s.RequestPayload)
		if !ok {
			continue
		}
		k := ckey{s.Destination, s.Service, versionOf(s)}
		c := learned[k]
		if c == nil {
			c = &store.Contract{Channel: k.channel, Service: k.service, Version: k.version, Fields: map[string]string{},
				FirstSeen: s.EndTime(), LastSeen: s.EndTime()}
			learned[k] = c
			order = append(order, k)
		}
		c.FirstSeen, c.LastSeen = min(c.FirstSeen, s.EndTime()), max(c.LastSeen, s.EndTime())
		for f, t := range fields {
			c.Fields[f] = store.JoinTypes(c.Fields[f], t)
		}
	}
	obs := make([]store.Contract, 0, len(order))
	for _, k := range order {
		obs = append(obs, *learned[k])
	}
	if err := cst.ObserveContracts(ctx, obs); err != nil {
		return nil, err
	}

	// Consumers that failed on a message in the window.
	failed, trunc, err := r.DetectSpans(ctx, w.TimeRange, store.DetectSpanFilter{Errors: true}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	type failure struct {
		consumer, msg string
		at            int64
		trace         model.TraceID
	}
	byKey := map[string]failure{}
	var keys []string
	for i := range failed {
		s := &failed[i]
		if s.Kind != model.KindConsumer || s.Destination == "" || len(s.MessageIDs) == 0 || len(keys) >= maxWalks {
			continue
		}
		k := "sqs:" + s.MessageIDs[0]
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = failure{functionOf(s), s.ErrorMessage, s.EndTime(), s.TraceID}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	refs, _, err := cr.RefsByKeys(ctx, keys, 20*maxWalks)
	if err != nil {
		return nil, fmt.Errorf("read producers of failed messages: %w", err)
	}
	var ptraces []model.TraceID
	prodOf := map[string]model.MessageRef{}
	for _, ref := range refs {
		if ref.Role == model.RoleProducer {
			prodOf[ref.Key] = ref
			if !slices.Contains(ptraces, ref.TraceID) {
				ptraces = append(ptraces, ref.TraceID)
			}
		}
	}
	if len(ptraces) == 0 {
		return nil, nil
	}
	pspans, _, err := cr.SpansOfTraces(ctx, ptraces, store.SpanFull, 20_000)
	if err != nil {
		return nil, fmt.Errorf("read producer spans: %w", err)
	}
	spanOf := map[model.SpanID]*model.Span{}
	for i := range pspans {
		spanOf[pspans[i].SpanID] = &pspans[i]
	}
	contracts := map[string][]store.Contract{}
	g := newGroups()
	examples := map[string]failure{}
	for _, k := range keys {
		ref, ok := prodOf[k]
		p := spanOf[ref.SpanID]
		if !ok || p == nil {
			continue
		}
		channel, service, version := p.Destination, p.Service, versionOf(p)
		if channel == "" {
			channel = ref.Destination
		}
		cs, ok := contracts[channel]
		if !ok {
			if cs, err = cst.Contracts(ctx, channel); err != nil {
				return nil, err
			}
			contracts[channel] = cs
		}
		// The producer's contract and the one the channel carried before it.
		var cur, base *store.Contract
		for i := range cs {
			if cs[i].Service == service && cs[i].Version == version {
				cur = &cs[i]
			}
		}
		if cur == nil {
			continue
		}
		for i := range cs {
			c := &cs[i]
			if c != cur && c.FirstSeen < cur.FirstSeen && (base == nil || c.FirstSeen > base.FirstSeen) &&
				(c.Service == service || base == nil || base.Service != service) {
				base = c
			}
		}
		if base == nil {
			continue
		}
		words, fields := diff(base.Fields, cur.Fields)
		if len(words) == 0 {
			continue // the shape did not change: the failure is another issue
		}
		f := byKey[k]
		fp := strings.Join([]string{channel, service, version, f.consumer, strings.Join(fields, ",")}, "\x1f")
		from := service
		if version != "" {
			from += " " + version
		}
		before := base.Service
		if base.Version != "" {
			before += " " + base.Version
		}
		since := cur.FirstSeen
		g.add(KindContractDrift, fp, f.at, f.trace, func(o *store.IssueOccurrence) {
			o.Function, o.Channel, o.Severity = f.consumer, channel, SeverityError
			o.Title = fmt.Sprintf("contract drift on %s: %s %s", channel, from, strings.Join(words, ", "))
			o.Explanation = fmt.Sprintf("Since %s, when %s started sending on %s, %s fails on its messages. Compared with what %s sent before, the payload %s. Fix the producer or make %s accept both shapes.",
				when(since), from, channel, f.consumer, before, strings.Join(words, ", "), f.consumer)
		})
		examples[fp] = f
	}
	return g.list(func(gr *group) {
		if e := examples[gr.occ.Fingerprint]; e.msg != "" && !strings.Contains(gr.occ.Explanation, "Last error") {
			gr.occ.Explanation += fmt.Sprintf(" Last error: %q.", truncate(e.msg, 300))
		}
	}), nil
}
