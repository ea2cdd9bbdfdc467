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
		span          model.SpanID
	}
	var consumers []*model.Span
	var ctraces []model.TraceID
	for i := range failed {
		s := &failed[i]
		if s.Kind != model.KindConsumer || s.Destination == "" || len(s.MessageIDs) == 0 || len(consumers) >= maxWalks {
			continue
		}
		consumers = append(consumers, s)
		if !slices.Contains(ctraces, s.TraceID) {
			ctraces = append(ctraces, s.TraceID)
		}
	}
	if len(consumers) == 0 {
		return nil, nil
	}
	// The keys a failed message is known by: its SQS id, and the keys its
	// span or, for a one-message invocation, the invocation's span recorded
	// (the SNS message a subscription delivered, an EventBridge event).
	crefs, _, err := cr.RefsOfTraces(ctx, ctraces, 20*maxWalks)
	if err != nil {
		return nil, fmt.Errorf("read keys of failed messages: %w", err)
	}
	byKey := map[string]failure{}
	var keys []string
	for _, s := range consumers {
		f := failure{functionOf(s), s.ErrorMessage, s.EndTime(), s.TraceID, s.SpanID}
		for _, k := range messageKeys(s, crefs) {
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = f
		}
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
	judged := map[model.SpanID]bool{}
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
		base, cur := contractPair(cs, service, version)
		if cur == nil || base == nil {
			continue
		}
		words, fields := diff(base.Fields, cur.Fields)
		if len(words) == 0 {
			continue // the shape did not change: the failure is another issue
		}
		f := byKey[k]
		if judged[f.span] {
			continue // the message is known by another key already judged
		}
		judged[f.span] = true
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

// messageKeys returns the keys of the message a failed consumer span
// processed: "sqs:" and its message id, the consumer keys recorded on the
// span itself, and those on its parent (the invocation's span) when the
// parent recorded one key of each kind, that is, received one message. A
// batch's invocation span holds every message's keys, which can't be told
// apart.
func messageKeys(s *model.Span, refs []model.MessageRef) []string {
	keys := []string{"sqs:" + s.MessageIDs[0]}
	var parent []string
	kinds := map[string]int{}
	for _, r := range refs {
		if r.Role != model.RoleConsumer || r.TraceID != s.TraceID {
			continue
		}
		switch r.SpanID {
		case s.SpanID:
			if !slices.Contains(keys, r.Key) {
				keys = append(keys, r.Key)
			}
		case s.ParentSpanID:
			if !slices.Contains(parent, r.Key) {
				parent = append(parent, r.Key)
				kind, _, _ := strings.Cut(r.Key, ":")
				kinds[kind]++
			}
		}
	}
	for _, n := range kinds {
		if n > 1 {
			return keys
		}
	}
	for _, k := range parent {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// contractPair finds, among the contracts of one channel, the producer's
// (service, version) and the one the channel carried before it: the latest
// first seen earlier, preferring an earlier version of the same service.
// Either is nil when there is none.
func contractPair(cs []store.Contract, service, version string) (base, cur *store.Contract) {
	for i := range cs {
		if cs[i].Service == service && cs[i].Version == version {
			cur = &cs[i]
		}
	}
	if cur == nil {
		return nil, nil
	}
	for i := range cs {
		c := &cs[i]
		if c != cur && c.FirstSeen < cur.FirstSeen && (base == nil || c.FirstSeen > base.FirstSeen) &&
			(c.Service == service || base == nil || base.Service != service) {
			base = c
		}
	}
	return base, cur
}

// DriftSource is what a contract drift issue's fingerprint names: the
// channel, the producer that changed its shape, and the failing consumer.
type DriftSource struct {
	Channel, Service, Version, Consumer string
}

// ParseDriftFingerprint reads the fingerprint of a KindContractDrift issue.
func ParseDriftFingerprint(fp string) (DriftSource, bool) {
	p := strings.Split(fp, "\x1f")
	if len(p) != 5 || p[0] == "" {
		return DriftSource{}, false
	}
	return DriftSource{Channel: p[0], Service: p[1], Version: p[2], Consumer: p[3]}, true
}

// DriftContracts returns the two contracts a drift compares, chosen as
// the detector chose them: the producer's, and the one the channel carried
// before it. ok is false when either is no longer stored.
func DriftContracts(src DriftSource, cs []store.Contract) (before, after store.Contract, ok bool) {
	base, cur := contractPair(cs, src.Service, src.Version)
	if base == nil || cur == nil {
		return before, after, false
	}
	return *base, *cur, true
}

// Field changes of a SchemaDiff.
const (
	FieldSame    = "same"
	FieldAdded   = "added"
	FieldRemoved = "removed"
	FieldChanged = "changed" // the type changed
)

// FieldDiff is one field path of two payload shapes side by side.
type FieldDiff struct {
	Path   string
	Change string // FieldSame, FieldAdded, FieldRemoved or FieldChanged
	Before string // the type before; "" when added
	After  string // the type after; "" when removed
	// RenamedTo (on a removed field) and RenamedFrom (on an added one)
	// pair a top-level field that went with one of the same type that
	// came, as the drift's title says.
	RenamedTo, RenamedFrom string
}

// SchemaDiff lines up every field path of two shapes in tree order (a
// parent before its children, siblings by name), saying how each changed.
func SchemaDiff(before, after map[string]string) []FieldDiff {
	paths := make([]string, 0, len(before)+len(after))
	for p := range before {
		paths = append(paths, p)
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.SortFunc(paths, comparePaths)
	out := make([]FieldDiff, 0, len(paths))
	at := map[string]int{}
	for _, p := range paths {
		b, inB := before[p]
		a, inA := after[p]
		d := FieldDiff{Path: p, Before: b, After: a}
		switch {
		case !inA:
			d.Change = FieldRemoved
		case !inB:
			d.Change = FieldAdded
		case a != b:
			d.Change = FieldChanged
		default:
			d.Change = FieldSame
		}
		at[p] = len(out)
		out = append(out, d)
	}
	// Renames, as the detector names them (diff): top-level fields only.
	words, _ := diff(before, after)
	for _, w := range words {
		var from, to string
		if n, _ := fmt.Sscanf(w, "renamed %q to %q", &from, &to); n == 2 {
			if i, ok := at[from]; ok {
				out[i].RenamedTo = to
			}
			if i, ok := at[to]; ok {
				out[i].RenamedFrom = from
			}
		}
	}
	return out
}

// comparePaths orders field paths as a tree: "a" < "a.b" < "a[]" < "a[].c" < "b".
func comparePaths(x, y string) int {
	sx, sy := splitPath(x), splitPath(y)
	for i := 0; i < len(sx) && i < len(sy); i++ {
		if c := strings.Compare(sx[i], sy[i]); c != 0 {
			return c
		}
	}
	return len(sx) - len(sy)
}

// splitPath cuts "a.b[].c" into its steps "a", ".b", "[]", ".c" so that a
// field's own steps sort before its siblings'.
func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 1; i < len(p); i++ {
		if p[i] == '.' || (p[i] == '[' && strings.HasPrefix(p[i:], "[]")) {
			out = append(out, p[start:i])
			start = i
		}
	}
	return append(out, p[start:])
}
