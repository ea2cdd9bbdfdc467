package sqs

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// serveHTTP implements the AWS JSON 1.0 protocol: POST /, the operation in
// X-Amz-Target ("AmazonSQS.SendMessage"), JSON in and out, errors as
// {"__type":"com.amazonaws.sqs#Code","message":…} with x-amzn-query-error.
func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AmazonSQS.")
	if r.Method != http.MethodPost || !ok {
		writeError(w, &apiError{code: "UnsupportedOperation", queryCode: "AWS.SimpleQueueService.UnsupportedOperation",
			message: "only the AWS JSON 1.0 protocol is supported (X-Amz-Target: AmazonSQS.<Operation>)", status: 400, senderSide: true})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		writeError(w, errInvalid("InvalidRequest", err.Error()))
		return
	}
	h, ok := s.operations()[op]
	if !ok {
		writeError(w, &apiError{code: "UnsupportedOperation", queryCode: "AWS.SimpleQueueService.UnsupportedOperation",
			message: op + " is not supported by localcloud", status: 400, senderSide: true})
		return
	}
	out, err := h(r, body)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", newMessageID())
	if out == nil {
		out = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{code: "InternalError", queryCode: "InternalError", message: err.Error(), status: 500}
	}
	fault := "Receiver"
	if ae.senderSide {
		fault = "Sender"
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", ae.queryCode+";"+fault)
	w.Header().Set("x-amzn-RequestId", newMessageID())
	w.WriteHeader(ae.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + ae.code, "message": ae.message})
}

type handlerFunc func(r *http.Request, body []byte) (any, error)

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errInvalid("SerializationException", "cannot decode request: "+err.Error())
	}
	return nil
}

func (s *Service) operations() map[string]handlerFunc {
	return map[string]handlerFunc{
		"CreateQueue":                  s.opCreateQueue,
		"GetQueueUrl":                  s.opGetQueueURL,
		"ListQueues":                   s.opListQueues,
		"DeleteQueue":                  s.opDeleteQueue,
		"PurgeQueue":                   s.opPurgeQueue,
		"GetQueueAttributes":           s.opGetQueueAttributes,
		"SetQueueAttributes":           s.opSetQueueAttributes,
		"SendMessage":                  s.opSendMessage,
		"SendMessageBatch":             s.opSendMessageBatch,
		"ReceiveMessage":               s.opReceiveMessage,
		"DeleteMessage":                s.opDeleteMessage,
		"DeleteMessageBatch":           s.opDeleteMessageBatch,
		"ChangeMessageVisibility":      s.opChangeMessageVisibility,
		"ChangeMessageVisibilityBatch": s.opChangeMessageVisibilityBatch,
	}
}

func (s *Service) opCreateQueue(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueName  string
		Attributes map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	url, err := s.CreateQueue(in.QueueName, in.Attributes)
	if err != nil {
		return nil, err
	}
	return map[string]string{"QueueUrl": url}, nil
}

func (s *Service) opGetQueueURL(_ *http.Request, body []byte) (any, error) {
	var in struct{ QueueName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[in.QueueName]
	if !ok {
		return nil, errNoQueue(in.QueueName)
	}
	return map[string]string{"QueueUrl": q.url}, nil
}

func (s *Service) opListQueues(_ *http.Request, body []byte) (any, error) {
	var in struct{ QueueNamePrefix string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return map[string][]string{"QueueUrls": s.ListQueues(in.QueueNamePrefix)}, nil
}

type queueRef struct{ QueueUrl string }

func (s *Service) opDeleteQueue(_ *http.Request, body []byte) (any, error) {
	var in queueRef
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return nil, s.DeleteQueue(in.QueueUrl)
}

func (s *Service) opPurgeQueue(_ *http.Request, body []byte) (any, error) {
	var in queueRef
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return nil, s.Purge(in.QueueUrl)
}

func (s *Service) opGetQueueAttributes(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl       string
		AttributeNames []string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	all, err := s.Attributes(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			out = all
			break
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return map[string]any{"Attributes": out}, nil
}

func (s *Service) opSetQueueAttributes(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl   string
		Attributes map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return nil, s.SetAttributes(in.QueueUrl, in.Attributes)
}

type sendEntry struct {
	Id                      string
	MessageBody             string
	DelaySeconds            int
	MessageAttributes       map[string]MessageAttribute
	MessageSystemAttributes map[string]MessageAttribute
}

func (e sendEntry) input(r *http.Request) SendInput {
	in := SendInput{Body: e.MessageBody, Attributes: e.MessageAttributes, Delay: time.Duration(e.DelaySeconds) * time.Second}
	if a, ok := e.MessageSystemAttributes["AWSTraceHeader"]; ok && a.StringValue != nil {
		in.TraceHeader = *a.StringValue
	} else if h := r.Header.Get("X-Amzn-Trace-Id"); h != "" {
		// SQS takes the caller's X-Ray header (set by the SDK inside Lambda).
		in.TraceHeader = h
	}
	return in
}

func sendResult(out SendOutput) map[string]string {
	m := map[string]string{"MessageId": out.MessageID, "MD5OfMessageBody": out.MD5OfMessageBody}
	if out.MD5OfMessageAttributes != "" {
		m["MD5OfMessageAttributes"] = out.MD5OfMessageAttributes
	}
	if out.MD5OfMessageSystemAttributes != "" {
		m["MD5OfMessageSystemAttributes"] = out.MD5OfMessageSystemAttributes
	}
	return m
}

func (s *Service) opSendMessage(r *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl string
		sendEntry
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := s.Send(in.QueueUrl, in.sendEntry.input(r))
	if err != nil {
		return nil, err
	}
	return sendResult(out), nil
}

type batchFailure struct {
	Id          string
	SenderFault bool
	Code        string
	Message     string
}

func failure(id string, err error) batchFailure {
	var ae *apiError
	if errors.As(err, &ae) {
		return batchFailure{Id: id, SenderFault: ae.senderSide, Code: ae.code, Message: ae.message}
	}
	return batchFailure{Id: id, Code: "InternalError", Message: err.Error()}
}

func checkBatch(n int, ids []string) error {
	if n == 0 {
		return errInvalid("EmptyBatchRequest", "There should be at least one entry in the request.")
	}
	if n > maxBatchEntries {
		return errInvalid("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10.")
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return errInvalid("BatchEntryIdsNotDistinct", "Id "+id+" repeated.")
		}
		seen[id] = true
	}
	return nil
}

func (s *Service) opSendMessageBatch(r *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []sendEntry
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatch(len(in.Entries), ids); err != nil {
		return nil, err
	}
	if _, err := s.Attributes(in.QueueUrl); err != nil {
		return nil, err
	}
	ok := []map[string]string{}
	failed := []batchFailure{}
	for _, e := range in.Entries {
		out, err := s.Send(in.QueueUrl, e.input(r))
		if err != nil {
			failed = append(failed, failure(e.Id, err))
			continue
		}
		res := sendResult(out)
		res["Id"] = e.Id
		ok = append(ok, res)
	}
	return map[string]any{"Successful": ok, "Failed": failed}, nil
}

// wantAttr reports whether a requested name list selects name.
func wantAttr(list []string, name string) bool {
	for _, n := range list {
		if n == "All" || n == ".*" || n == name || (strings.HasSuffix(n, ".*") && strings.HasPrefix(name, strings.TrimSuffix(n, "*"))) {
			return true
		}
	}
	return false
}

func (s *Service) opReceiveMessage(r *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl                    string
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
		MaxNumberOfMessages         int
		VisibilityTimeout           *int
		WaitTimeSeconds             *int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	rin := ReceiveInput{Max: in.MaxNumberOfMessages, Wait: -1}
	if in.WaitTimeSeconds != nil {
		if *in.WaitTimeSeconds < 0 || *in.WaitTimeSeconds > 20 {
			return nil, errInvalid("InvalidParameterValue", "Value for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")
		}
		rin.Wait = time.Duration(*in.WaitTimeSeconds) * time.Second
	}
	if in.VisibilityTimeout != nil {
		d := time.Duration(*in.VisibilityTimeout) * time.Second
		rin.Visibility = &d
	}
	msgs, err := s.Receive(r.Context(), in.QueueUrl, rin)
	if err != nil {
		return nil, err
	}
	sysNames := append(in.AttributeNames, in.MessageSystemAttributeNames...)
	out := make([]map[string]any, 0, len(msgs))
	for _, m := range msgs {
		o := map[string]any{"MessageId": m.MessageID, "ReceiptHandle": m.ReceiptHandle, "Body": m.Body, "MD5OfBody": m.MD5OfBody}
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			if wantAttr(sysNames, k) {
				attrs[k] = v
			}
		}
		if len(attrs) > 0 {
			o["Attributes"] = attrs
		}
		mattrs := map[string]MessageAttribute{}
		for k, v := range m.MessageAttributes {
			if wantAttr(in.MessageAttributeNames, k) {
				mattrs[k] = v
			}
		}
		if len(mattrs) > 0 {
			o["MessageAttributes"] = mattrs
			o["MD5OfMessageAttributes"] = md5OfAttributes(mattrs)
		}
		out = append(out, o)
	}
	return map[string]any{"Messages": out}, nil
}

func (s *Service) opDeleteMessage(_ *http.Request, body []byte) (any, error) {
	var in struct{ QueueUrl, ReceiptHandle string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return nil, s.Delete(in.QueueUrl, in.ReceiptHandle)
}

func (s *Service) opDeleteMessageBatch(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []struct{ Id, ReceiptHandle string }
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatch(len(in.Entries), ids); err != nil {
		return nil, err
	}
	ok := []map[string]string{}
	failed := []batchFailure{}
	for _, e := range in.Entries {
		if err := s.Delete(in.QueueUrl, e.ReceiptHandle); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.code == "QueueDoesNotExist" {
				return nil, err
			}
			failed = append(failed, failure(e.Id, err))
			continue
		}
		ok = append(ok, map[string]string{"Id": e.Id})
	}
	return map[string]any{"Successful": ok, "Failed": failed}, nil
}

func (s *Service) opChangeMessageVisibility(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl, ReceiptHandle string
		VisibilityTimeout       int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return nil, s.ChangeVisibility(in.QueueUrl, in.ReceiptHandle, time.Duration(in.VisibilityTimeout)*time.Second)
}

func (s *Service) opChangeMessageVisibilityBatch(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []struct {
			Id, ReceiptHandle string
			VisibilityTimeout int
		}
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatch(len(in.Entries), ids); err != nil {
		return nil, err
	}
	ok := []map[string]string{}
	failed := []batchFailure{}
	for _, e := range in.Entries {
		if err := s.ChangeVisibility(in.QueueUrl, e.ReceiptHandle, time.Duration(e.VisibilityTimeout)*time.Second); err != nil {
			failed = append(failed, failure(e.Id, err))
			continue
		}
		ok = append(ok, map[string]string{"Id": e.Id})
	}
	return map[string]any{"Successful": ok, "Failed": failed}, nil
}
