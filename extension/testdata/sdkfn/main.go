// Command sdkfn is a Lambda function instrumented with Ariadne's SDK for the
// extension's end-to-end test. Like localcloud's testfn, the event chooses
// what it does:
//
//	{"action":"echo"}                 returns
//	{"action":"error","message":"m"}  returns an error
//	{"action":"sleep","ms":N}         sleeps (past the timeout: the SDK's
//	                                  timer fires, then Lambda kills it)
//	{"action":"alloc","mb":N,"ms":M}  waits M ms, touches N MB (killed for memory)
//	{"action":"crash","code":N,"ms":M} waits M ms, exits without answering
//
// (The waits let the SDK's start marker leave before the process dies.)
//
// It is its own module, built in a temporary workspace with ../../../sdk,
// because the server's module must not depend on the SDK.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	ariadne "github.com/ariadnehq/ariadne/sdk"
)

type request struct {
	Action  string `json:"action"`
	MS      int    `json:"ms"`
	MB      int    `json:"mb"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

var hoard [][]byte

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	fmt.Printf("sdkfn handling %s\n", req.Action)
	switch req.Action {
	case "error":
		return nil, errors.New(req.Message)
	case "sleep":
		select {
		case <-time.After(time.Duration(req.MS) * time.Millisecond):
		case <-ctx.Done():
			time.Sleep(time.Duration(req.MS) * time.Millisecond) // ignore the deadline, as slow code does
		}
	case "alloc":
		time.Sleep(time.Duration(req.MS) * time.Millisecond)
		for range req.MB {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(j)
			}
			hoard = append(hoard, b)
		}
	case "crash":
		time.Sleep(time.Duration(req.MS) * time.Millisecond)
		os.Exit(req.Code)
	}
	return map[string]string{"ok": req.Action}, nil
}

func main() {
	sdk, err := ariadne.New(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ariadne:", err)
	}
	lambda.Start(sdk.Wrap(handle))
}
