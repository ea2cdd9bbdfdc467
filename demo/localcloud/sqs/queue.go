// Package sqs is a local stand-in for Amazon SQS speaking the AWS JSON 1.0
// protocol that current aws-sdk-go-v2 clients use. Standard queues only:
// visibility timeout, delay, long polling, batch operations, message and
// system attributes (ApproximateReceiveCount, SentTimestamp, AWSTraceHeader
// …), redrive to a dead-letter queue after maxReceiveCount, and event
// source mappings that invoke a function with batches of messages
// (ReportBatchItemFailures included).
//
// The package keeps all state in memory and owns only its listener and the
// pollers of its event source mappings; invoking a function is delegated to
// the Invoker given with each mapping.
package sqs

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MessageAttribute is an SQS message attribute (the JSON shape of the API).
type MessageAttribute struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

// StringAttribute returns a String attribute.
func StringAttribute(v string) MessageAttribute {
	return MessageAttribute{DataType: "String", StringValue: &v}
}

// Message is a received message.
type Message struct {
	MessageID              string
	ReceiptHandle          string
	Body                   string
	MD5OfBody              string
	MD5OfMessageAttributes string
	Attributes             map[string]string // system attributes
	MessageAttributes      map[string]MessageAttribute
}

// SendInput is one message to send.
type SendInput struct {
	Body        string
	Attributes  map[string]MessageAttribute
	TraceHeader string // becomes the AWSTraceHeader system attribute
	Delay       time.Duration
	SenderID    string
}

// SendOutput is the outcome of a send.
type SendOutput struct {
	MessageID                    string
	MD5OfMessageBody             string
	MD5OfMessageAttributes       string
	MD5OfMessageSystemAttributes string
}

// apiError is an SQS error with its protocol code.
type apiError struct {
	code       string // shape name, e.g. QueueDoesNotExist
	queryCode  string // legacy code for x-amzn-query-error
	message    string
	status     int
	senderSide bool
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// Is makes errors.Is(err, ErrQueueDoesNotExist) work for unknown queues.
func (e *apiError) Is(target error) bool {
	return target == ErrQueueDoesNotExist && e.code == "QueueDoesNotExist"
}

// ErrQueueDoesNotExist is wrapped by errors for unknown queues.
var ErrQueueDoesNotExist = errors.New("the specified queue does not exist")

func errNoQueue(name string) error {
	return fmt.Errorf("queue %s: %w", name, &apiError{code: "QueueDoesNotExist", queryCode: "AWS.SimpleQueueService.NonExistentQueue",
		message: "The specified queue does not exist.", status: 400, senderSide: true})
}

func errInvalid(code, msg string) error {
	return &apiError{code: code, queryCode: code, message: msg, status: 400, senderSide: true}
}

type message struct {
	id           string
	body         string
	attrs        map[string]MessageAttribute
	traceHeader  string
	senderID     string
	md5Body      string
	md5Attrs     string
	md5Sys       string
	sent         time.Time
	visibleAt    time.Time
	receiveCount int
	firstReceive time.Time
	receipt      string
	dlqSource    string
}

type redrive struct {
	TargetARN string
	Max       int
}

type queue struct {
	name, url, arn     string
	created, modified  time.Time
	visibility         time.Duration
	delay              time.Duration
	retention          time.Duration
	wait               time.Duration
	maxSize            int
	redrive            *redrive
	redrivePolicy      string
	msgs               []*message
	notify             chan struct{}
	extraAttrs         map[string]string
	receiptToMessageID map[string]string
}

func (q *queue) changed() {
	close(q.notify)
	q.notify = make(chan struct{})
}

// setAttributes applies queue attributes in their API string form.
func (q *queue) setAttributes(attrs map[string]string) error {
	for k, v := range attrs {
		switch k {
		case "VisibilityTimeout", "DelaySeconds", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return errInvalid("InvalidAttributeValue", fmt.Sprintf("Invalid value for the parameter %s.", k))
			}
			d := time.Duration(n) * time.Second
			switch k {
			case "VisibilityTimeout":
				if n > 43200 {
					return errInvalid("InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.")
				}
				q.visibility = d
			case "DelaySeconds":
				q.delay = d
			case "MessageRetentionPeriod":
				q.retention = d
			case "ReceiveMessageWaitTimeSeconds":
				q.wait = d
			case "MaximumMessageSize":
				q.maxSize = n
			}
		case "RedrivePolicy":
			if v == "" {
				q.redrive, q.redrivePolicy = nil, ""
				continue
			}
			var p struct {
				TargetARN string          `json:"deadLetterTargetArn"`
				Max       json.RawMessage `json:"maxReceiveCount"`
			}
			if err := json.Unmarshal([]byte(v), &p); err != nil {
				return errInvalid("InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy.")
			}
			max, err := strconv.Atoi(strings.Trim(string(p.Max), `"`))
			if err != nil || max < 1 || p.TargetARN == "" {
				return errInvalid("InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.")
			}
			q.redrive = &redrive{TargetARN: p.TargetARN, Max: max}
			q.redrivePolicy = v
		case "Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "RedriveAllowPolicy":
			q.extraAttrs[k] = v
		case "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit":
			if v == "true" || k != "FifoQueue" {
				return errInvalid("InvalidAttributeName", "FIFO queues are not supported by localcloud.")
			}
		default:
			return errInvalid("InvalidAttributeName", "Unknown Attribute "+k+".")
		}
	}
	q.modified = time.Now()
	return nil
}

func (q *queue) attributes(now time.Time) map[string]string {
	visible, inflight, delayed := 0, 0, 0
	for _, m := range q.msgs {
		switch {
		case m.visibleAt.After(now) && m.receiveCount == 0:
			delayed++
		case m.visibleAt.After(now):
			inflight++
		default:
			visible++
		}
	}
	a := map[string]string{
		"QueueArn":                              q.arn,
		"VisibilityTimeout":                     strconv.Itoa(int(q.visibility.Seconds())),
		"DelaySeconds":                          strconv.Itoa(int(q.delay.Seconds())),
		"MessageRetentionPeriod":                strconv.Itoa(int(q.retention.Seconds())),
		"ReceiveMessageWaitTimeSeconds":         strconv.Itoa(int(q.wait.Seconds())),
		"MaximumMessageSize":                    strconv.Itoa(q.maxSize),
		"CreatedTimestamp":                      strconv.FormatInt(q.created.Unix(), 10),
		"LastModifiedTimestamp":                 strconv.FormatInt(q.modified.Unix(), 10),
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inflight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"SqsManagedSseEnabled":                  "false",
	}
	if q.redrivePolicy != "" {
		a["RedrivePolicy"] = q.redrivePolicy
	}
	for k, v := range q.extraAttrs {
		a[k] = v
	}
	return a
}

// md5OfAttributes computes the checksum SQS returns for message (or system)
// attributes: names sorted, each as length-prefixed name, data type, a
// transport byte (1 string, 2 binary) and length-prefixed value.
func md5OfAttributes(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	put := func(b []byte) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			v := ""
			if a.StringValue != nil {
				v = *a.StringValue
			}
			put([]byte(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func newReceipt() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
