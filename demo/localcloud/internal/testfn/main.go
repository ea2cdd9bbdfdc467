// Command testfn is the function the localcloud tests deploy. It is an
// ordinary aws-lambda-go function whose behaviour the event chooses:
//
//	{"action":"echo"}                 returns request id, pid, cold start, trace
//	{"action":"sleep","ms":N}         sleeps N ms, then echoes
//	{"action":"alloc","mb":N}         touches N MB quickly (for OOM kills)
//	{"action":"crash","code":N}       exits the process without answering
//	{"action":"error","message":"m"}  returns an error
//	{"action":"send","queue":"q"}     sends a message to queue q with
//	                                  aws-sdk-go-v2's default configuration
//
// Event-source records (SQS, SNS, S3) are appended as one JSON line to the
// file named by TESTFN_OUT. An SQS record whose body contains "fail" fails:
// reported in batchItemFailures when TESTFN_PARTIAL=1, else as an error for
// the whole batch. TESTFN_FAIL=1 makes every record-event invocation fail;
// TESTFN_SLEEP_MS delays every record-event invocation.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

type request struct {
	Action  string            `json:"action"`
	MS      int               `json:"ms"`
	MB      int               `json:"mb"`
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Queue   string            `json:"queue"`
	Records []json.RawMessage `json:"Records"`
}

type handler struct {
	mu    sync.Mutex
	warm  bool
	hoard [][]byte
}

func (h *handler) handle(ctx context.Context, raw json.RawMessage) (any, error) {
	h.mu.Lock()
	cold := !h.warm
	h.warm = true
	h.mu.Unlock()
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if req.Records != nil {
		return h.records(raw)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	fmt.Printf("handling %s\n", req.Action)
	switch req.Action {
	case "sleep":
		time.Sleep(time.Duration(req.MS) * time.Millisecond)
	case "alloc":
		for i := 0; i < req.MB; i++ {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(j)
			}
			h.hoard = append(h.hoard, b)
		}
	case "crash":
		fmt.Fprintln(os.Stderr, "crashing on purpose")
		os.Exit(req.Code)
	case "error":
		return nil, errors.New(req.Message)
	case "send":
		id, err := send(ctx, req.Queue)
		if err != nil {
			return nil, err
		}
		return map[string]any{"messageId": id, "trace": os.Getenv("_X_AMZN_TRACE_ID")}, nil
	}
	return map[string]any{
		"requestId": lc.AwsRequestID,
		"pid":       os.Getpid(),
		"coldStart": cold,
		"trace":     os.Getenv("_X_AMZN_TRACE_ID"),
		"function":  os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		"memory":    os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
		"arn":       lc.InvokedFunctionArn,
	}, nil
}

func (h *handler) records(raw json.RawMessage) (any, error) {
	if ms, err := strconv.Atoi(os.Getenv("TESTFN_SLEEP_MS")); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if out := os.Getenv("TESTFN_OUT"); out != "" {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open output: %w", err)
		}
		_, err = f.Write(append(append([]byte(nil), raw...), '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("write output: %w", err)
		}
	}
	if os.Getenv("TESTFN_FAIL") == "1" {
		return nil, errors.New("failing on purpose")
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("decode records: %w", err)
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, r := range ev.Records {
		if r.EventSource == "aws:sqs" && strings.Contains(r.Body, "fail") {
			if os.Getenv("TESTFN_PARTIAL") != "1" {
				return nil, fmt.Errorf("message %s failed", r.MessageId)
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// send uses the environment the local cloud gives functions
// (AWS_ENDPOINT_URL_SQS, AWS_REGION, credentials).
func send(ctx context.Context, queue string) (string, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", fmt.Errorf("load aws config: %w", err)
	}
	client := sqs.NewFromConfig(cfg)
	url, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &queue})
	if err != nil {
		return "", fmt.Errorf("get queue url: %w", err)
	}
	body := "from " + os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	out, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: &body})
	if err != nil {
		return "", fmt.Errorf("send message: %w", err)
	}
	return *out.MessageId, nil
}

func main() {
	h := &handler{}
	lambda.Start(h.handle)
}
