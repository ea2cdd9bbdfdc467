// Command testext is an external Lambda extension used by the localcloud
// tests. It registers through the Extensions API for INVOKE and SHUTDOWN,
// subscribes to platform, function and extension telemetry over HTTP, and
// appends every lifecycle event and every telemetry event it receives as one
// JSON line to the file named by TESTEXT_OUT:
//
//	{"source":"lifecycle","event":{...}}   an event from /extension/event/next
//	{"source":"telemetry","event":{...}}   one Telemetry API event
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
)

type recorder struct {
	mu   sync.Mutex
	path string
}

func (r *recorder) write(source string, ev json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line, _ := json.Marshal(map[string]any{"source": source, "event": ev})
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testext:", err)
		return
	}
	_, _ = f.Write(append(line, '\n'))
	_ = f.Close()
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testext:", err)
		os.Exit(1)
	}
}

func run() error {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API")
	rec := &recorder{path: os.Getenv("TESTEXT_OUT")}
	name := filepath.Base(os.Args[0])

	req, _ := http.NewRequest(http.MethodPost, api+"/2020-01-01/extension/register",
		bytes.NewReader([]byte(`{"events":["INVOKE","SHUTDOWN"]}`)))
	req.Header.Set("Lambda-Extension-Name", name)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	_ = resp.Body.Close()
	id := resp.Header.Get("Lambda-Extension-Identifier")
	if resp.StatusCode != http.StatusOK || id == "" {
		return fmt.Errorf("register: status %d", resp.StatusCode)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var batch []json.RawMessage
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, &batch); err != nil {
				fmt.Fprintln(os.Stderr, "testext: bad telemetry batch:", err)
			}
			for _, ev := range batch {
				rec.write("telemetry", ev)
			}
		}))
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	sub := fmt.Sprintf(`{"schemaVersion":"2022-12-13","types":["platform","function","extension"],
		"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},
		"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:%d/telemetry"}}`, port)
	req, _ = http.NewRequest(http.MethodPut, api+"/2022-07-01/telemetry", bytes.NewReader([]byte(sub)))
	req.Header.Set("Lambda-Extension-Identifier", id)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("subscribe: status %d", resp.StatusCode)
	}
	fmt.Println("testext subscribed")

	for {
		req, _ := http.NewRequest(http.MethodGet, api+"/2020-01-01/extension/event/next", nil)
		req.Header.Set("Lambda-Extension-Identifier", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("next: %w", err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("next: status %d", resp.StatusCode)
		}
		rec.write("lifecycle", body)
		var ev struct {
			EventType string `json:"eventType"`
		}
		_ = json.Unmarshal(body, &ev)
		if ev.EventType == "SHUTDOWN" {
			return nil
		}
	}
}
