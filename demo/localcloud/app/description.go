// Package app starts a whole local serverless application — functions,
// queues, topics and buckets — from a declarative Description, on the local
// Lambda, SQS, SNS and S3 of the sibling packages, all on 127.0.0.1.
//
//	cloud, err := app.Start(ctx, desc, app.Settings{Logs: printLine})
//	defer cloud.Close()
//	client := sqs.NewFromConfig(cloud.AWSConfig(), func(o *sqs.Options) { o.BaseEndpoint = &cloud.SQSEndpoint })
//
// The package wires the services to each other (event source mappings, SNS
// subscriptions, bucket notifications, Lambda destinations) and owns their
// lifecycle; it holds no state of its own beyond that wiring.
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Description is an application as a user writes it (JSON).
type Description struct {
	Region    string         `json:"region,omitempty"`
	Functions []FunctionSpec `json:"functions"`
	Queues    []QueueSpec    `json:"queues,omitempty"`
	Topics    []TopicSpec    `json:"topics,omitempty"`
	Buckets   []BucketSpec   `json:"buckets,omitempty"`
}

// FunctionSpec describes one Lambda function.
type FunctionSpec struct {
	Name string `json:"name"`
	// Binary is the executable (relative paths are relative to the
	// description's directory). Alternatively Package names a Go package
	// that Start builds with "go build".
	Binary              string            `json:"binary,omitempty"`
	Package             string            `json:"package,omitempty"`
	Handler             string            `json:"handler,omitempty"`
	MemoryMB            int               `json:"memoryMB,omitempty"`
	Timeout             Duration          `json:"timeout,omitempty"`
	Env                 map[string]string `json:"env,omitempty"`
	ReservedConcurrency *int              `json:"reservedConcurrency,omitempty"`
	Extensions          []string          `json:"extensions,omitempty"`
	Async               *AsyncSpec        `json:"async,omitempty"`
	Triggers            []TriggerSpec     `json:"triggers,omitempty"`
}

// AsyncSpec is the function's asynchronous invocation configuration.
type AsyncSpec struct {
	MaxRetryAttempts *int     `json:"maxRetryAttempts,omitempty"`
	MaxEventAge      Duration `json:"maxEventAge,omitempty"`
	OnSuccess        *Target  `json:"onSuccess,omitempty"`
	OnFailure        *Target  `json:"onFailure,omitempty"`
	DeadLetter       *Target  `json:"deadLetter,omitempty"`
}

// Target names one resource of the application (exactly one field set).
type Target struct {
	Queue    string `json:"queue,omitempty"`
	Topic    string `json:"topic,omitempty"`
	Function string `json:"function,omitempty"`
}

// TriggerSpec is an event source of a function: a queue (event source
// mapping), a topic (subscription) or a bucket (notification).
type TriggerSpec struct {
	Queue                   string   `json:"queue,omitempty"`
	BatchSize               int      `json:"batchSize,omitempty"`
	BatchingWindow          Duration `json:"batchingWindow,omitempty"`
	ReportBatchItemFailures bool     `json:"reportBatchItemFailures,omitempty"`
	Pollers                 int      `json:"pollers,omitempty"` // concurrent batches, default 1

	Topic        string `json:"topic,omitempty"`
	FilterPolicy string `json:"filterPolicy,omitempty"`

	Bucket string   `json:"bucket,omitempty"`
	Events []string `json:"events,omitempty"` // default s3:ObjectCreated:*
	Prefix string   `json:"prefix,omitempty"`
	Suffix string   `json:"suffix,omitempty"`
}

// QueueSpec describes an SQS queue.
type QueueSpec struct {
	Name              string            `json:"name"`
	VisibilityTimeout Duration          `json:"visibilityTimeout,omitempty"` // whole seconds
	DeadLetter        *DeadLetterSpec   `json:"deadLetter,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
}

// DeadLetterSpec is a queue's redrive policy.
type DeadLetterSpec struct {
	Queue           string `json:"queue"`
	MaxReceiveCount int    `json:"maxReceiveCount"`
}

// TopicSpec describes an SNS topic and its queue subscriptions (function
// subscriptions are triggers of the function).
type TopicSpec struct {
	Name          string              `json:"name"`
	Subscriptions []QueueSubscription `json:"subscriptions,omitempty"`
}

// QueueSubscription subscribes a queue to a topic.
type QueueSubscription struct {
	Queue        string `json:"queue"`
	Raw          bool   `json:"raw,omitempty"`
	FilterPolicy string `json:"filterPolicy,omitempty"`
}

// BucketSpec describes an S3 bucket.
type BucketSpec struct {
	Name string `json:"name"`
}

// Duration is a time.Duration written in JSON as "1.5s" or as seconds.
type Duration time.Duration

// UnmarshalJSON accepts "300ms", "2s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("parse duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("parse duration %s: want \"1.5s\" or seconds", b)
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// ParseDescription reads a JSON description; unknown fields are errors.
func ParseDescription(r io.Reader) (Description, error) {
	var d Description
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Description{}, fmt.Errorf("parse description: %w", err)
	}
	return d, d.Validate()
}

// LoadFile reads a description file and resolves relative binary, package
// and extension paths against the file's directory.
func LoadFile(path string) (Description, error) {
	f, err := os.Open(path)
	if err != nil {
		return Description{}, fmt.Errorf("open description: %w", err)
	}
	defer f.Close()
	d, err := ParseDescription(f)
	if err != nil {
		return Description{}, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Description{}, fmt.Errorf("resolve description directory: %w", err)
	}
	for i := range d.Functions {
		fn := &d.Functions[i]
		fn.Binary = resolve(dir, fn.Binary)
		if fn.Package != "" && (fn.Package[0] == '.') {
			fn.Package = resolve(dir, fn.Package)
		}
		for j, x := range fn.Extensions {
			fn.Extensions[j] = resolve(dir, x)
		}
	}
	return d, nil
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// Validate checks the description; errors name the offending field.
func (d *Description) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	names := map[string]map[string]bool{"queue": {}, "topic": {}, "function": {}, "bucket": {}}
	add := func(kind, path, name string) {
		if name == "" {
			bad(path+".name", "required")
		} else if names[kind][name] {
			bad(path+".name", "duplicate %s %q", kind, name)
		}
		names[kind][name] = true
	}
	for i, q := range d.Queues {
		add("queue", fmt.Sprintf("queues[%d]", i), q.Name)
	}
	for i, t := range d.Topics {
		add("topic", fmt.Sprintf("topics[%d]", i), t.Name)
	}
	for i, b := range d.Buckets {
		add("bucket", fmt.Sprintf("buckets[%d]", i), b.Name)
	}
	for i, f := range d.Functions {
		add("function", fmt.Sprintf("functions[%d]", i), f.Name)
	}
	ref := func(path, kind, name string) {
		if !names[kind][name] {
			bad(path, "unknown %s %q", kind, name)
		}
	}
	target := func(path string, t *Target) {
		if t == nil {
			return
		}
		n := 0
		for kind, name := range map[string]string{"queue": t.Queue, "topic": t.Topic, "function": t.Function} {
			if name != "" {
				n++
				ref(path+"."+kind, kind, name)
			}
		}
		if n != 1 {
			bad(path, "exactly one of queue, topic, function is required")
		}
	}
	for i, q := range d.Queues {
		if q.DeadLetter != nil {
			p := fmt.Sprintf("queues[%d].deadLetter", i)
			ref(p+".queue", "queue", q.DeadLetter.Queue)
			if q.DeadLetter.MaxReceiveCount < 1 {
				bad(p+".maxReceiveCount", "must be at least 1")
			}
		}
	}
	for i, t := range d.Topics {
		for j, s := range t.Subscriptions {
			ref(fmt.Sprintf("topics[%d].subscriptions[%d].queue", i, j), "queue", s.Queue)
		}
	}
	for i, f := range d.Functions {
		p := fmt.Sprintf("functions[%d]", i)
		if (f.Binary == "") == (f.Package == "") {
			bad(p, "exactly one of binary and package is required")
		}
		if f.MemoryMB != 0 && (f.MemoryMB < 32 || f.MemoryMB > 10240) {
			bad(p+".memoryMB", "must be between 32 and 10240")
		}
		if f.Timeout < 0 || time.Duration(f.Timeout) > 15*time.Minute {
			bad(p+".timeout", "must be at most 15m")
		}
		if f.Async != nil {
			target(p+".async.onSuccess", f.Async.OnSuccess)
			target(p+".async.onFailure", f.Async.OnFailure)
			target(p+".async.deadLetter", f.Async.DeadLetter)
		}
		for j, tr := range f.Triggers {
			tp := fmt.Sprintf("%s.triggers[%d]", p, j)
			set := 0
			if tr.Queue != "" {
				set++
				ref(tp+".queue", "queue", tr.Queue)
			}
			if tr.Topic != "" {
				set++
				ref(tp+".topic", "topic", tr.Topic)
			}
			if tr.Bucket != "" {
				set++
				ref(tp+".bucket", "bucket", tr.Bucket)
			}
			if set != 1 {
				bad(tp, "exactly one of queue, topic, bucket is required")
			}
		}
	}
	return errors.Join(errs...)
}
