package sqs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ariadnehq/ariadne/demo/localcloud/internal/httpsvc"
)

// Limits of the service, as on SQS.
const (
	maxBatchEntries = 10
	maxMessageBytes = 256 * 1024
	maxWait         = 20 * time.Second
	// maxMessages bounds a queue: SQS has no such limit, a laptop does.
	maxMessages = 100000
)

// Settings configures the service. Zero values get defaults.
type Settings struct {
	Region    string // default us-east-1
	AccountID string // default 000000000000
	Addr      string // listen address, default 127.0.0.1:0
	Logger    *slog.Logger
}

// Service is a running local SQS. Create it with New, stop it with Close.
type Service struct {
	set      Settings
	srv      *httpsvc.Server
	endpoint string
	ctx      context.Context
	cancel   context.CancelFunc

	mu     sync.Mutex
	queues map[string]*queue

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New starts the service's HTTP listener.
func New(ctx context.Context, set Settings) (*Service, error) {
	httpsvc.Defaults(&set.Region, &set.AccountID, &set.Addr, &set.Logger)
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Service{set: set, queues: map[string]*queue{}, ctx: ctx, cancel: cancel}
	srv, err := httpsvc.Start(ctx, "sqs", set.Addr, http.HandlerFunc(s.serveHTTP), set.Logger)
	if err != nil {
		cancel()
		return nil, err
	}
	s.srv, s.endpoint = srv, srv.Endpoint
	return s, nil
}

// Endpoint is the base URL for aws-sdk-go-v2's sqs client (BaseEndpoint).
func (s *Service) Endpoint() string { return s.endpoint }

// QueueARN returns the ARN of a queue name.
func (s *Service) QueueARN(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s.set.Region, s.set.AccountID, name)
}

// QueueURL returns the URL of a queue name.
func (s *Service) QueueURL(name string) string {
	return s.endpoint + "/" + s.set.AccountID + "/" + name
}

// Close stops the listener and every event source mapping. Idempotent.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.srv.Close()
		s.mu.Lock()
		for _, q := range s.queues {
			q.changed() // wake long polls
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return nil
}

// queueName extracts the queue name from a name, URL or ARN.
func queueName(ref string) string {
	if i := strings.LastIndexAny(ref, "/:"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// CreateQueue creates a queue (or returns the existing one when the
// attributes agree) and returns its URL.
func (s *Service) CreateQueue(name string, attrs map[string]string) (string, error) {
	if name == "" || len(name) > 80 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return "", fmt.Errorf("create queue %q: %w", name, errInvalid("InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.queues[name]; ok {
		cur := q.attributes(time.Now())
		for k, v := range attrs {
			if cur[k] != v {
				return "", fmt.Errorf("create queue %q: %w", name, errInvalid("QueueNameExists", "A queue already exists with the same name and a different value for attribute "+k))
			}
		}
		return q.url, nil
	}
	now := time.Now()
	q := &queue{
		name: name, url: s.QueueURL(name), arn: s.QueueARN(name), created: now, modified: now,
		visibility: 30 * time.Second, retention: 4 * 24 * time.Hour, maxSize: maxMessageBytes,
		notify: make(chan struct{}), extraAttrs: map[string]string{}, receiptToMessageID: map[string]string{},
	}
	if err := q.setAttributes(attrs); err != nil {
		return "", fmt.Errorf("create queue %q: %w", name, err)
	}
	s.queues[name] = q
	return q.url, nil
}

// DeleteQueue removes a queue and its messages.
func (s *Service) DeleteQueue(ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(ref)
	if err != nil {
		return err
	}
	q.changed()
	delete(s.queues, q.name)
	return nil
}

func (s *Service) queueLocked(ref string) (*queue, error) {
	q, ok := s.queues[queueName(ref)]
	if !ok {
		return nil, errNoQueue(queueName(ref))
	}
	return q, nil
}

// ListQueues returns the URLs of queues whose name has the prefix.
func (s *Service) ListQueues(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n, q := range s.queues {
		if strings.HasPrefix(n, prefix) {
			out = append(out, q.url)
		}
	}
	sort.Strings(out)
	return out
}

// Attributes returns a queue's attributes, including the approximate counts.
func (s *Service) Attributes(ref string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(ref)
	if err != nil {
		return nil, err
	}
	return q.attributes(time.Now()), nil
}

// SetAttributes changes queue attributes.
func (s *Service) SetAttributes(ref string, attrs map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(ref)
	if err != nil {
		return err
	}
	return q.setAttributes(attrs)
}

// Send puts one message on a queue (name, URL or ARN).
func (s *Service) Send(ref string, in SendInput) (SendOutput, error) {
	if in.Body == "" {
		return SendOutput{}, errInvalid("MissingParameter", "The request must contain the parameter MessageBody.")
	}
	for n, a := range in.Attributes {
		if n == "" || a.DataType == "" || (a.StringValue == nil && a.BinaryValue == nil) {
			return SendOutput{}, errInvalid("InvalidParameterValue", "Message attribute "+n+" must contain a non-empty value of type "+a.DataType+".")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(ref)
	if err != nil {
		return SendOutput{}, err
	}
	size := len(in.Body)
	for n, a := range in.Attributes {
		size += len(n) + len(a.DataType) + len(a.BinaryValue)
		if a.StringValue != nil {
			size += len(*a.StringValue)
		}
	}
	if size > q.maxSize {
		return SendOutput{}, errInvalid("InvalidParameterValue", fmt.Sprintf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.maxSize))
	}
	if len(q.msgs) >= maxMessages {
		return SendOutput{}, &apiError{code: "OverLimit", queryCode: "AWS.SimpleQueueService.OverLimit",
			message: fmt.Sprintf("localcloud holds at most %d messages per queue", maxMessages), status: 403, senderSide: true}
	}
	now := time.Now()
	delay := q.delay
	if in.Delay > 0 {
		delay = in.Delay
	}
	m := &message{
		id: newMessageID(), body: in.Body, attrs: in.Attributes, traceHeader: in.TraceHeader, senderID: in.SenderID,
		md5Body: md5Hex(in.Body), md5Attrs: md5OfAttributes(in.Attributes), sent: now, visibleAt: now.Add(delay),
	}
	if m.senderID == "" {
		m.senderID = "AIDAIENQZJOLO23YVJ4VO"
	}
	if m.traceHeader != "" {
		m.md5Sys = md5OfAttributes(map[string]MessageAttribute{"AWSTraceHeader": StringAttribute(m.traceHeader)})
	}
	q.msgs = append(q.msgs, m)
	q.changed()
	return SendOutput{MessageID: m.id, MD5OfMessageBody: m.md5Body, MD5OfMessageAttributes: m.md5Attrs, MD5OfMessageSystemAttributes: m.md5Sys}, nil
}

// ReceiveInput selects messages to receive.
type ReceiveInput struct {
	Max        int            // 1..10, default 1
	Wait       time.Duration  // long polling; -1 uses the queue's default
	Visibility *time.Duration // overrides the queue's visibility timeout
}

// Receive returns up to Max visible messages, waiting up to Wait for the
// first one. Received messages become invisible for the visibility timeout;
// messages received maxReceiveCount times move to the dead-letter queue.
func (s *Service) Receive(ctx context.Context, ref string, in ReceiveInput) ([]Message, error) {
	if in.Max == 0 {
		in.Max = 1
	}
	if in.Max < 1 || in.Max > maxBatchEntries {
		return nil, errInvalid("InvalidParameterValue", "Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
	}
	s.mu.Lock()
	q, err := s.queueLocked(ref)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	wait := in.Wait
	if wait < 0 {
		wait = q.wait
	}
	s.mu.Unlock()
	deadline := time.Now().Add(min(wait, maxWait))
	for {
		s.mu.Lock()
		q, err := s.queueLocked(ref)
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		now := time.Now()
		msgs, next := s.takeLocked(q, in, now)
		ch := q.notify
		s.mu.Unlock()
		if len(msgs) > 0 || !now.Before(deadline) {
			return msgs, nil
		}
		sleep := time.Until(deadline)
		if !next.IsZero() && time.Until(next) < sleep {
			sleep = time.Until(next)
		}
		t := time.NewTimer(max(sleep, time.Millisecond))
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-s.ctx.Done():
			t.Stop()
			return nil, nil
		}
		t.Stop()
	}
}

// takeLocked receives visible messages; next is when the earliest invisible
// message becomes visible.
func (s *Service) takeLocked(q *queue, in ReceiveInput, now time.Time) (out []Message, next time.Time) {
	vis := q.visibility
	if in.Visibility != nil {
		vis = *in.Visibility
	}
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		if now.Sub(m.sent) > q.retention {
			continue // expired
		}
		if m.visibleAt.After(now) || len(out) >= in.Max {
			if m.visibleAt.After(now) && (next.IsZero() || m.visibleAt.Before(next)) {
				next = m.visibleAt
			}
			kept = append(kept, m)
			continue
		}
		if q.redrive != nil && m.receiveCount >= q.redrive.Max {
			if dlq, ok := s.queues[queueName(q.redrive.TargetARN)]; ok && dlq != q {
				m.dlqSource = q.arn
				m.visibleAt = now
				dlq.msgs = append(dlq.msgs, m)
				dlq.changed()
				continue
			}
		}
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(vis)
		m.receipt = newReceipt()
		q.receiptToMessageID[m.receipt] = m.id
		out = append(out, m.export(q))
		kept = append(kept, m)
	}
	for i := len(kept); i < len(q.msgs); i++ {
		q.msgs[i] = nil
	}
	q.msgs = kept
	return out, next
}

func (m *message) export(q *queue) Message {
	attrs := map[string]string{
		"SenderId":                         m.senderID,
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
	}
	if m.traceHeader != "" {
		attrs["AWSTraceHeader"] = m.traceHeader
	}
	if m.dlqSource != "" {
		attrs["DeadLetterQueueSourceArn"] = m.dlqSource
	}
	return Message{
		MessageID: m.id, ReceiptHandle: m.receipt, Body: m.body, MD5OfBody: m.md5Body,
		MD5OfMessageAttributes: m.md5Attrs, Attributes: attrs, MessageAttributes: m.attrs,
	}
}

func (s *Service) findByReceipt(q *queue, receipt string) (int, *message, error) {
	id, ok := q.receiptToMessageID[receipt]
	if !ok {
		return -1, nil, errInvalid("ReceiptHandleIsInvalid", "The input receipt handle \""+receipt+"\" is not a valid receipt handle.")
	}
	for i, m := range q.msgs {
		if m.id == id {
			return i, m, nil
		}
	}
	return -1, nil, nil // already deleted or moved: deleting again succeeds
}

// Delete removes the message a receipt handle refers to.
func (s *Service) Delete(ref, receipt string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(ref)
	if err != nil {
		return err
	}
	i, m, err := s.findByReceipt(q, receipt)
	if err != nil || m == nil {
		return err
	}
	q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
	for r, id := range q.receiptToMessageID {
		if id == m.id {
			delete(q.receiptToMessageID, r)
		}
	}
	q.changed()
	return nil
}

// ChangeVisibility sets the remaining invisibility of a received message.
func (s *Service) ChangeVisibility(ref, receipt string, d time.Duration) error {
	if d < 0 || d > 12*time.Hour {
		return errInvalid("InvalidParameterValue", "Value for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(ref)
	if err != nil {
		return err
	}
	_, m, err := s.findByReceipt(q, receipt)
	if err != nil {
		return err
	}
	if m == nil || m.receipt != receipt || !m.visibleAt.After(time.Now()) {
		return errInvalid("MessageNotInflight", "The message referred to isn't in flight.")
	}
	m.visibleAt = time.Now().Add(d)
	q.changed()
	return nil
}

// Purge deletes every message of a queue.
func (s *Service) Purge(ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(ref)
	if err != nil {
		return err
	}
	q.msgs = nil
	q.receiptToMessageID = map[string]string{}
	q.changed()
	return nil
}
