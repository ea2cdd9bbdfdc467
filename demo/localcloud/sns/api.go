package sns

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// el renders <name>inner</name>; inner must already be XML.
func el(name, inner string) string { return "<" + name + ">" + inner + "</" + name + ">" }

func text(name, value string) string { return el(name, esc(value)) }

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, errInvalid(err.Error()))
		return
	}
	action := r.Form.Get("Action")
	op, ok := s.operations()[action]
	if !ok {
		writeError(w, &apiError{code: "InvalidAction", message: "The action " + action + " is not valid for this endpoint.", status: 400})
		return
	}
	result, err := op(r)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	reqID := newUUID()
	w.Header().Set("x-amzn-RequestId", reqID)
	_, _ = w.Write([]byte(`<` + action + `Response xmlns="` + xmlns + `">` + el(action+"Result", result) +
		el("ResponseMetadata", text("RequestId", reqID)) + `</` + action + `Response>`))
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{code: "InternalError", message: err.Error(), status: 500}
	}
	typ := "Sender"
	if ae.status >= 500 {
		typ = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(ae.status)
	_, _ = w.Write([]byte(`<ErrorResponse xmlns="` + xmlns + `">` +
		el("Error", text("Type", typ)+text("Code", ae.code)+text("Message", ae.message)) + text("RequestId", newUUID()) + `</ErrorResponse>`))
}

type operation func(r *http.Request) (string, error)

func (s *Service) operations() map[string]operation {
	return map[string]operation{
		"CreateTopic":               s.opCreateTopic,
		"DeleteTopic":               s.opDeleteTopic,
		"ListTopics":                s.opListTopics,
		"GetTopicAttributes":        s.opGetTopicAttributes,
		"SetTopicAttributes":        s.opSetTopicAttributes,
		"Subscribe":                 s.opSubscribe,
		"Unsubscribe":               s.opUnsubscribe,
		"ListSubscriptions":         s.opListSubscriptions,
		"ListSubscriptionsByTopic":  s.opListSubscriptions,
		"GetSubscriptionAttributes": s.opGetSubscriptionAttributes,
		"SetSubscriptionAttributes": s.opSetSubscriptionAttributes,
		"Publish":                   s.opPublish,
		"PublishBatch":              s.opPublishBatch,
	}
}

// keyValues reads a Query-protocol map: prefix.entry.N.key / .value.
func keyValues(f url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		p := prefix + ".entry." + strconv.Itoa(i) + "."
		k := f.Get(p + "key")
		if k == "" {
			return out
		}
		out[k] = f.Get(p + "value")
	}
}

// messageAttributes reads prefix.entry.N.Name / .Value.DataType / …
func messageAttributes(f url.Values, prefix string) (map[string]Attribute, error) {
	out := map[string]Attribute{}
	for i := 1; ; i++ {
		p := prefix + ".entry." + strconv.Itoa(i) + "."
		name := f.Get(p + "Name")
		if name == "" {
			break
		}
		a := Attribute{DataType: f.Get(p + "Value.DataType"), StringValue: f.Get(p + "Value.StringValue")}
		if b := f.Get(p + "Value.BinaryValue"); b != "" {
			v, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				return nil, errInvalid("MessageAttributes " + name + " binary value")
			}
			a.BinaryValue = v
		}
		if a.DataType == "" || (a.StringValue == "" && a.BinaryValue == nil) {
			return nil, errInvalid("The message attribute '" + name + "' must contain non-empty message attribute value")
		}
		out[name] = a
	}
	if len(out) > 10 {
		return nil, errInvalid("Too many message attributes")
	}
	return out, nil
}

func (s *Service) opCreateTopic(r *http.Request) (string, error) {
	arn, err := s.CreateTopic(r.Form.Get("Name"), keyValues(r.Form, "Attributes"))
	if err != nil {
		return "", err
	}
	return text("TopicArn", arn), nil
}

func (s *Service) opDeleteTopic(r *http.Request) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.topics, r.Form.Get("TopicArn"))
	return "", nil
}

func (s *Service) opListTopics(*http.Request) (string, error) {
	s.mu.Lock()
	arns := make([]string, 0, len(s.topics))
	for arn := range s.topics {
		arns = append(arns, arn)
	}
	s.mu.Unlock()
	sort.Strings(arns)
	var b strings.Builder
	for _, arn := range arns {
		b.WriteString(el("member", text("TopicArn", arn)))
	}
	return el("Topics", b.String()), nil
}

func (s *Service) opGetTopicAttributes(r *http.Request) (string, error) {
	arn := r.Form.Get("TopicArn")
	s.mu.Lock()
	t, ok := s.topics[arn]
	var attrs map[string]string
	if ok {
		attrs = map[string]string{"TopicArn": t.arn, "DisplayName": t.name, "Owner": s.set.AccountID,
			"SubscriptionsConfirmed": strconv.Itoa(len(t.subs)), "SubscriptionsPending": "0", "SubscriptionsDeleted": "0"}
		for k, v := range t.attrs {
			attrs[k] = v
		}
	}
	s.mu.Unlock()
	if !ok {
		return "", errNotFound("Topic")
	}
	return el("Attributes", entries(attrs)), nil
}

func entries(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(el("entry", text("key", k)+text("value", m[k])))
	}
	return b.String()
}

func (s *Service) opSetTopicAttributes(r *http.Request) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[r.Form.Get("TopicArn")]
	if !ok {
		return "", errNotFound("Topic")
	}
	t.attrs[r.Form.Get("AttributeName")] = r.Form.Get("AttributeValue")
	return "", nil
}

func (s *Service) opSubscribe(r *http.Request) (string, error) {
	arn, err := s.Subscribe(r.Form.Get("TopicArn"), r.Form.Get("Protocol"), r.Form.Get("Endpoint"), keyValues(r.Form, "Attributes"))
	if err != nil {
		return "", err
	}
	return text("SubscriptionArn", arn), nil
}

func (s *Service) opUnsubscribe(r *http.Request) (string, error) {
	arn := r.Form.Get("SubscriptionArn")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.topics {
		for i, sub := range t.subs {
			if sub.ARN == arn {
				t.subs = append(t.subs[:i], t.subs[i+1:]...)
				return "", nil
			}
		}
	}
	return "", errNotFound("Subscription")
}

func (s *Service) opListSubscriptions(r *http.Request) (string, error) {
	topicARN := r.Form.Get("TopicArn")
	if topicARN != "" {
		s.mu.Lock()
		_, ok := s.topics[topicARN]
		s.mu.Unlock()
		if !ok {
			return "", errNotFound("Topic")
		}
	}
	var b strings.Builder
	for _, sub := range s.Subscriptions(topicARN) {
		b.WriteString(el("member", text("Endpoint", sub.Endpoint)+text("Owner", s.set.AccountID)+text("Protocol", sub.Protocol)+
			text("SubscriptionArn", sub.ARN)+text("TopicArn", sub.TopicARN)))
	}
	return el("Subscriptions", b.String()), nil
}

func (s *Service) findSub(arn string) *Subscription {
	for _, t := range s.topics {
		for _, sub := range t.subs {
			if sub.ARN == arn {
				return sub
			}
		}
	}
	return nil
}

func (s *Service) opGetSubscriptionAttributes(r *http.Request) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.findSub(r.Form.Get("SubscriptionArn"))
	if sub == nil {
		return "", errNotFound("Subscription")
	}
	attrs := map[string]string{"SubscriptionArn": sub.ARN, "TopicArn": sub.TopicARN, "Protocol": sub.Protocol,
		"Endpoint": sub.Endpoint, "Owner": s.set.AccountID, "RawMessageDelivery": strconv.FormatBool(sub.Raw),
		"ConfirmationWasAuthenticated": "true", "PendingConfirmation": "false"}
	if sub.FilterPolicy != "" {
		attrs["FilterPolicy"] = sub.FilterPolicy
	}
	return el("Attributes", entries(attrs)), nil
}

func (s *Service) opSetSubscriptionAttributes(r *http.Request) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.findSub(r.Form.Get("SubscriptionArn"))
	if sub == nil {
		return "", errNotFound("Subscription")
	}
	return "", sub.set(map[string]string{r.Form.Get("AttributeName"): r.Form.Get("AttributeValue")})
}

func (s *Service) opPublish(r *http.Request) (string, error) {
	f := r.Form
	arn := f.Get("TopicArn")
	if arn == "" {
		arn = f.Get("TargetArn")
	}
	if arn == "" {
		return "", errInvalid("TopicArn or TargetArn Reason: no value for required parameter (SMS is not supported)")
	}
	attrs, err := messageAttributes(f, "MessageAttributes")
	if err != nil {
		return "", err
	}
	id, err := s.Publish(r.Context(), PublishInput{TopicARN: arn, Message: f.Get("Message"), Subject: f.Get("Subject"),
		MessageStructure: f.Get("MessageStructure"), Attributes: attrs, TraceHeader: r.Header.Get("X-Amzn-Trace-Id")})
	if err != nil {
		return "", err
	}
	return text("MessageId", id), nil
}

func (s *Service) opPublishBatch(r *http.Request) (string, error) {
	f := r.Form
	arn := f.Get("TopicArn")
	var ok, failed strings.Builder
	seen := map[string]bool{}
	n := 0
	for i := 1; ; i++ {
		p := "PublishBatchRequestEntries.member." + strconv.Itoa(i) + "."
		id := f.Get(p + "Id")
		if id == "" {
			break
		}
		n++
		if seen[id] {
			return "", &apiError{code: "BatchEntryIdsNotDistinct", message: "Two or more batch entries in the request have the same Id.", status: 400}
		}
		seen[id] = true
	}
	switch {
	case n == 0:
		return "", &apiError{code: "EmptyBatchRequest", message: "The batch request doesn't contain any entries.", status: 400}
	case n > 10:
		return "", &apiError{code: "TooManyEntriesInBatchRequest", message: "The batch request contains more entries than permissible.", status: 400}
	}
	for i := 1; i <= n; i++ {
		p := "PublishBatchRequestEntries.member." + strconv.Itoa(i) + "."
		id := f.Get(p + "Id")
		attrs, err := messageAttributes(f, p+"MessageAttributes")
		var msgID string
		if err == nil {
			msgID, err = s.Publish(r.Context(), PublishInput{TopicARN: arn, Message: f.Get(p + "Message"), Subject: f.Get(p + "Subject"),
				MessageStructure: f.Get(p + "MessageStructure"), Attributes: attrs, TraceHeader: r.Header.Get("X-Amzn-Trace-Id")})
		}
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.code == "NotFound" {
				return "", err
			}
			code, msg := "InternalError", err.Error()
			if ae != nil {
				code, msg = ae.code, ae.message
			}
			failed.WriteString(el("member", text("Code", code)+text("Id", id)+text("Message", msg)+text("SenderFault", "true")))
			continue
		}
		ok.WriteString(el("member", text("Id", id)+text("MessageId", msgID)))
	}
	return el("Failed", failed.String()) + el("Successful", ok.String()), nil
}
