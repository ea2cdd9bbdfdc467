package lambda

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
)

// cwPayload is a CloudWatch Logs subscription payload once decoded.
type cwPayload struct {
	MessageType string `json:"messageType"`
	LogGroup    string `json:"logGroup"`
	LogStream   string `json:"logStream"`
	LogEvents   []struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"` // Unix ms
		Message   string `json:"message"`
	} `json:"logEvents"`
}

// cwEnvelope is any of the shapes a subscription payload arrives in: the
// Lambda/HTTP form {"awslogs":{"data":…}}, a Firehose HTTP endpoint
// delivery {"requestId":…,"records":[{"data":…}]}, or the decoded payload.
type cwEnvelope struct {
	AWSLogs *struct {
		Data string `json:"data"`
	} `json:"awslogs"`
	RequestID string `json:"requestId"`
	Records   []struct {
		Data string `json:"data"`
	} `json:"records"`
	cwPayload
}

// CloudWatchResult is what ParseCloudWatch read.
type CloudWatchResult struct {
	Batch *model.Batch
	Stats Stats
	// FirehoseRequestID is set for a Firehose delivery, whose answer must
	// echo it.
	FirehoseRequestID string
}

// ParseCloudWatch reads a CloudWatch Logs subscription delivery (any shape
// of cwEnvelope) of Lambda log groups. The function name comes from the log
// group (/aws/lambda/<name>) unless meta names it. Invocation rows get
// source "logs".
func ParseCloudWatch(body []byte, meta Meta, lim Limits) (*CloudWatchResult, error) {
	var env cwEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode CloudWatch Logs delivery: %w", err)
	}
	budget := lim.MaxDecodedBytes
	var payloads []cwPayload
	decode := func(data string) error {
		raw, err := decodeData(data, &budget)
		if err != nil {
			return err
		}
		var p cwPayload
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("decode CloudWatch Logs payload: %w", err)
		}
		payloads = append(payloads, p)
		return nil
	}
	res := &CloudWatchResult{}
	switch {
	case env.AWSLogs != nil:
		if err := decode(env.AWSLogs.Data); err != nil {
			return nil, err
		}
	case env.Records != nil:
		res.FirehoseRequestID = env.RequestID
		for i, r := range env.Records {
			if err := decode(r.Data); err != nil {
				return nil, fmt.Errorf("record %d: %w", i, err)
			}
		}
	case env.LogEvents != nil || env.MessageType != "":
		payloads = append(payloads, env.cwPayload)
	default:
		return nil, errors.New("decode CloudWatch Logs delivery: no awslogs.data, records or logEvents")
	}
	total := 0
	for _, p := range payloads {
		total += len(p.LogEvents)
	}
	if lim.MaxEvents > 0 && total > lim.MaxEvents {
		return nil, fmt.Errorf("CloudWatch Logs delivery of %d events, limit %d: %w", total, lim.MaxEvents, ErrTooLarge)
	}
	out := &model.Batch{}
	for _, p := range payloads {
		if p.MessageType == "CONTROL_MESSAGE" {
			continue // the subscription's own reachability check
		}
		m := meta
		if m.Function == "" {
			m.Function = functionOfLogGroup(p.LogGroup)
		}
		b := newBuilder(invocation.SourceLogs, m, lim.MaxLogBytes)
		for i, ev := range p.LogEvents {
			if err := b.line(ev.Timestamp*1e6, ev.Message); err != nil {
				return nil, fmt.Errorf("log event %d of %s: %w", i, p.LogGroup, err)
			}
		}
		batch, st := b.finish()
		out.Invocations = append(out.Invocations, batch.Invocations...)
		out.Logs = append(out.Logs, batch.Logs...)
		res.Stats.Events += st.Events
		res.Stats.Invocations += st.Invocations
		res.Stats.Logs += st.Logs
		res.Stats.Ignored += st.Ignored
	}
	res.Batch = out
	return res, nil
}

// decodeData undoes base64 and gzip (when the data is gzipped), charging
// the expanded size to budget.
func decodeData(data string, budget *int64) ([]byte, error) {
	if int64(base64.StdEncoding.DecodedLen(len(data))) > *budget {
		return nil, fmt.Errorf("data of %d base64 bytes: %w", len(data), ErrTooLarge)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("decode base64 data: %w", err)
	}
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		*budget -= int64(len(raw))
		return raw, nil
	}
	return gunzip(raw, budget)
}

// gunzip expands at most *budget bytes (a gzip bomb stops at the budget).
func gunzip(raw []byte, budget *int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decode gzip data: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, *budget+1))
	if err != nil {
		return nil, fmt.Errorf("decode gzip data: %w", err)
	}
	if int64(len(out)) > *budget {
		return nil, fmt.Errorf("gzip data expands beyond %d bytes: %w", *budget, ErrTooLarge)
	}
	*budget -= int64(len(out))
	return out, nil
}

// functionOfLogGroup takes the function name out of /aws/lambda/<name>; a
// custom log group is the best name there is.
func functionOfLogGroup(g string) string {
	if name, ok := strings.CutPrefix(g, "/aws/lambda/"); ok {
		return name
	}
	return g
}
