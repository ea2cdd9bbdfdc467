package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
	"github.com/ariadnehq/ariadne/demo/localcloud/s3"
	"github.com/ariadnehq/ariadne/demo/localcloud/sns"
	"github.com/ariadnehq/ariadne/demo/localcloud/sqs"
)

// Settings are the runtime choices of whoever starts the cloud.
type Settings struct {
	Logger *slog.Logger
	// Logs receives every function's log stream: function and extension
	// output and the platform lines (START, END, REPORT, timeouts).
	Logs func(lambda.LogLine)
	// OnInvocation receives one record per invocation attempt.
	OnInvocation func(lambda.Record)
	// Extensions are extension executables attached to every function (for
	// example Ariadne's own extension), in addition to each function's own.
	Extensions []string
	// Env is added to every function's environment.
	Env map[string]string
	// Addrs fix listen addresses; empty fields use 127.0.0.1:0.
	Addrs Addrs
	// Lambda tunes the local Lambda (retry delays, idle timeout, …). Its
	// Region, Logs, OnInvocation, Deliver and Addr fields are set by Start.
	Lambda lambda.Settings
	// BuildDir receives binaries built from FunctionSpec.Package; default a
	// temporary directory removed by Close.
	BuildDir string
}

// Addrs are listen addresses of the services.
type Addrs struct{ Lambda, SQS, SNS, S3 string }

// AccountID is the account every ARN of the local cloud uses.
const AccountID = "000000000000"

// Cloud is a running application. Its endpoints are base URLs for the
// aws-sdk-go-v2 clients (BaseEndpoint).
type Cloud struct {
	Region         string
	LambdaEndpoint string
	SQSEndpoint    string
	SNSEndpoint    string
	S3Endpoint     string

	Lambda *lambda.Service
	SQS    *sqs.Service
	SNS    *sns.Service
	S3     *s3.Service

	ready     chan struct{} // closed once every service exists
	buildDir  string
	closeOnce sync.Once
}

// Start starts the services, creates every resource of the description and
// wires triggers and destinations. On error everything started is stopped.
func Start(ctx context.Context, desc Description, set Settings) (*Cloud, error) {
	if err := desc.Validate(); err != nil {
		return nil, err
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	region := desc.Region
	if region == "" {
		region = "us-east-1"
	}
	c := &Cloud{Region: region, ready: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			close(c.readyOnce())
			_ = c.Close()
		}
	}()
	var err error
	if c.SQS, err = sqs.New(ctx, sqs.Settings{Region: region, AccountID: AccountID, Addr: set.Addrs.SQS, Logger: set.Logger}); err != nil {
		return nil, fmt.Errorf("start sqs: %w", err)
	}
	if c.SNS, err = sns.New(ctx, sns.Settings{Region: region, AccountID: AccountID, Addr: set.Addrs.SNS, Logger: set.Logger,
		SendToQueue: c.sendFromSNS, InvokeFunction: c.invokeAsync}); err != nil {
		return nil, fmt.Errorf("start sns: %w", err)
	}
	if c.S3, err = s3.New(ctx, s3.Settings{Region: region, AccountID: AccountID, Addr: set.Addrs.S3, Logger: set.Logger,
		InvokeFunction: func(ctx context.Context, arn string, payload []byte) error {
			return c.invokeAsync(ctx, arn, payload, "")
		}}); err != nil {
		return nil, fmt.Errorf("start s3: %w", err)
	}
	c.SQSEndpoint, c.SNSEndpoint, c.S3Endpoint = c.SQS.Endpoint(), c.SNS.Endpoint(), c.S3.Endpoint()

	ls := set.Lambda
	ls.Region, ls.AccountID, ls.Addr, ls.Logger = region, AccountID, set.Addrs.Lambda, set.Logger
	ls.Logs, ls.OnInvocation, ls.Deliver = set.Logs, set.OnInvocation, c.deliver
	ls.Env = map[string]string{}
	for k, v := range c.awsEnv() {
		ls.Env[k] = v
	}
	for k, v := range set.Env {
		ls.Env[k] = v
	}
	if c.Lambda, err = lambda.New(ctx, ls); err != nil {
		return nil, fmt.Errorf("start lambda: %w", err)
	}
	c.LambdaEndpoint = c.Lambda.Endpoint()
	close(c.ready)

	if err := c.create(ctx, desc, set); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// readyOnce returns c.ready if it is still open (for the error path).
func (c *Cloud) readyOnce() chan struct{} {
	select {
	case <-c.ready:
		return make(chan struct{})
	default:
		return c.ready
	}
}

func (c *Cloud) create(ctx context.Context, desc Description, set Settings) error {
	for _, q := range desc.Queues {
		attrs := map[string]string{}
		for k, v := range q.Attributes {
			attrs[k] = v
		}
		if q.VisibilityTimeout > 0 {
			attrs["VisibilityTimeout"] = strconv.Itoa(int(time.Duration(q.VisibilityTimeout).Round(time.Second).Seconds()))
		}
		if _, err := c.SQS.CreateQueue(q.Name, attrs); err != nil {
			return err
		}
	}
	for _, q := range desc.Queues { // dead-letter queues exist now
		if q.DeadLetter != nil {
			policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, c.QueueARN(q.DeadLetter.Queue), q.DeadLetter.MaxReceiveCount)
			if err := c.SQS.SetAttributes(q.Name, map[string]string{"RedrivePolicy": policy}); err != nil {
				return fmt.Errorf("set redrive policy of %s: %w", q.Name, err)
			}
		}
	}
	for _, t := range desc.Topics {
		arn, err := c.SNS.CreateTopic(t.Name, nil)
		if err != nil {
			return fmt.Errorf("create topic %s: %w", t.Name, err)
		}
		for _, s := range t.Subscriptions {
			attrs := map[string]string{"RawMessageDelivery": strconv.FormatBool(s.Raw), "FilterPolicy": s.FilterPolicy}
			if _, err := c.SNS.Subscribe(arn, "sqs", c.QueueARN(s.Queue), attrs); err != nil {
				return fmt.Errorf("subscribe %s to %s: %w", s.Queue, t.Name, err)
			}
		}
	}
	for _, b := range desc.Buckets {
		if err := c.S3.CreateBucket(b.Name); err != nil {
			return err
		}
	}
	for _, f := range desc.Functions {
		if err := c.createFunction(ctx, f, set); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cloud) createFunction(ctx context.Context, f FunctionSpec, set Settings) error {
	bin := f.Binary
	if f.Package != "" {
		var err error
		if bin, err = c.build(ctx, f, set.BuildDir); err != nil {
			return err
		}
	}
	fn := lambda.Function{
		Name: f.Name, Binary: bin, Handler: f.Handler, MemoryMB: f.MemoryMB, Timeout: time.Duration(f.Timeout),
		Env: f.Env, ReservedConcurrency: f.ReservedConcurrency,
		Extensions: append(append([]string(nil), set.Extensions...), f.Extensions...),
	}
	if a := f.Async; a != nil {
		fn.Async = lambda.AsyncConfig{MaxRetryAttempts: a.MaxRetryAttempts, MaxEventAge: time.Duration(a.MaxEventAge),
			OnSuccess: c.targetARN(a.OnSuccess), OnFailure: c.targetARN(a.OnFailure), DeadLetterTarget: c.targetARN(a.DeadLetter)}
	}
	if err := c.Lambda.CreateFunction(fn); err != nil {
		return err
	}
	arn := c.FunctionARN(f.Name)
	for _, t := range f.Triggers {
		var err error
		switch {
		case t.Queue != "":
			err = c.SQS.AddEventSource(sqs.EventSource{Queue: t.Queue, Function: f.Name, BatchSize: t.BatchSize,
				MaximumBatchingWindow: time.Duration(t.BatchingWindow), ReportBatchItemFailures: t.ReportBatchItemFailures, Pollers: t.Pollers, Invoke: c.invokeSync})
		case t.Topic != "":
			_, err = c.SNS.Subscribe(c.TopicARN(t.Topic), "lambda", arn, map[string]string{"FilterPolicy": t.FilterPolicy})
		case t.Bucket != "":
			err = c.S3.AddNotification(s3.Notification{Bucket: t.Bucket, FunctionARN: arn, Events: t.Events, Prefix: t.Prefix, Suffix: t.Suffix})
		}
		if err != nil {
			return fmt.Errorf("add trigger of %s: %w", f.Name, err)
		}
	}
	return nil
}

// build compiles a function's Go package for the local machine.
func (c *Cloud) build(ctx context.Context, f FunctionSpec, dir string) (string, error) {
	if dir == "" {
		if c.buildDir == "" {
			d, err := os.MkdirTemp("", "localcloud-build")
			if err != nil {
				return "", fmt.Errorf("create build directory: %w", err)
			}
			c.buildDir = d
		}
		dir = c.buildDir
	}
	out := filepath.Join(dir, f.Name, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, f.Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if strings.HasPrefix(f.Package, "/") {
		cmd.Dir = f.Package
		cmd.Args[len(cmd.Args)-1] = "."
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build function %s from %s: %w: %s", f.Name, f.Package, err, msg)
	}
	return out, nil
}

func (c *Cloud) targetARN(t *Target) string {
	switch {
	case t == nil:
		return ""
	case t.Queue != "":
		return c.QueueARN(t.Queue)
	case t.Topic != "":
		return c.TopicARN(t.Topic)
	default:
		return c.FunctionARN(t.Function)
	}
}

// QueueARN returns the ARN of a queue.
func (c *Cloud) QueueARN(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", c.Region, AccountID, name)
}

// QueueURL returns the URL of a queue.
func (c *Cloud) QueueURL(name string) string { return c.SQS.QueueURL(name) }

// TopicARN returns the ARN of a topic.
func (c *Cloud) TopicARN(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", c.Region, AccountID, name)
}

// FunctionARN returns the ARN of a function.
func (c *Cloud) FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.Region, AccountID, name)
}

// awsEnv is what a process needs for aws-sdk-go-v2 (config.LoadDefaultConfig)
// to talk to this cloud.
func (c *Cloud) awsEnv() map[string]string {
	env := map[string]string{
		"AWS_REGION": c.Region, "AWS_DEFAULT_REGION": c.Region,
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_ENDPOINT_URL_SQS": c.SQSEndpoint, "AWS_ENDPOINT_URL_SNS": c.SNSEndpoint, "AWS_ENDPOINT_URL_S3": c.S3Endpoint,
	}
	if c.LambdaEndpoint != "" {
		env["AWS_ENDPOINT_URL_LAMBDA"] = c.LambdaEndpoint
	}
	return env
}

// Env returns environment variables that point aws-sdk-go-v2's default
// configuration (and the AWS CLI) at this cloud.
func (c *Cloud) Env() map[string]string { return c.awsEnv() }

// AWSConfig returns an aws.Config with the region and static test
// credentials; set each client's BaseEndpoint from the Cloud's fields.
func (c *Cloud) AWSConfig() aws.Config {
	return aws.Config{
		Region: c.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "localcloud"}, nil
		}),
		RetryMaxAttempts: 1,
	}
}

// Close stops every service: functions' environments are shut down
// (extensions get SHUTDOWN), pollers and listeners stop. Idempotent.
func (c *Cloud) Close() error {
	c.closeOnce.Do(func() {
		// Lambda first: it may still deliver to queues and topics.
		if c.Lambda != nil {
			_ = c.Lambda.Close()
		}
		if c.SQS != nil {
			_ = c.SQS.Close()
		}
		if c.SNS != nil {
			_ = c.SNS.Close()
		}
		if c.S3 != nil {
			_ = c.S3.Close()
		}
		if c.buildDir != "" {
			_ = os.RemoveAll(c.buildDir)
		}
	})
	return nil
}

// lambdaService waits until Start created the Lambda service; callbacks of
// the other services may run before that.
func (c *Cloud) lambdaService() *lambda.Service {
	<-c.ready
	return c.Lambda
}

func (c *Cloud) invokeSync(ctx context.Context, fn string, payload []byte, trace string) ([]byte, bool, error) {
	l := c.lambdaService()
	if l == nil {
		return nil, false, lambda.ErrClosed
	}
	res, err := l.Invoke(ctx, lambda.InvokeInput{Function: fn, Payload: payload, TraceHeader: trace})
	if err != nil {
		return nil, false, err
	}
	return res.Payload, res.FunctionError != "", nil
}

func (c *Cloud) invokeAsync(ctx context.Context, arn string, payload []byte, trace string) error {
	l := c.lambdaService()
	if l == nil {
		return lambda.ErrClosed
	}
	_, err := l.InvokeAsync(ctx, lambda.InvokeInput{Function: arn, Payload: payload, TraceHeader: trace})
	return err
}

func (c *Cloud) sendFromSNS(_ context.Context, queueARN, body string, attrs map[string]sns.Attribute, trace string) error {
	in := sqs.SendInput{Body: body, TraceHeader: trace}
	if len(attrs) > 0 {
		in.Attributes = map[string]sqs.MessageAttribute{}
		for k, a := range attrs {
			ma := sqs.MessageAttribute{DataType: a.DataType, BinaryValue: a.BinaryValue}
			if a.BinaryValue == nil {
				v := a.StringValue
				ma.StringValue = &v
			}
			in.Attributes[k] = ma
		}
	}
	_, err := c.SQS.Send(queueARN, in)
	return err
}

// deliver routes a Lambda destination or dead-letter message by ARN.
func (c *Cloud) deliver(ctx context.Context, arn string, body []byte, attrs map[string]string) error {
	switch {
	case strings.HasPrefix(arn, "arn:aws:sqs:"):
		in := sqs.SendInput{Body: string(body)}
		if len(attrs) > 0 {
			in.Attributes = map[string]sqs.MessageAttribute{}
			for k, v := range attrs {
				in.Attributes[k] = sqs.StringAttribute(v)
			}
		}
		_, err := c.SQS.Send(arn, in)
		return err
	case strings.HasPrefix(arn, "arn:aws:sns:"):
		in := sns.PublishInput{TopicARN: arn, Message: string(body), Attributes: map[string]sns.Attribute{}}
		for k, v := range attrs {
			in.Attributes[k] = sns.Attribute{DataType: "String", StringValue: v}
		}
		_, err := c.SNS.Publish(ctx, in)
		return err
	case strings.HasPrefix(arn, "arn:aws:lambda:"):
		return c.invokeAsync(ctx, arn, body, "")
	}
	return errors.New("deliver to " + arn + ": unsupported destination")
}
