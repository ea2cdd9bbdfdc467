package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ariadnehq/ariadne/internal/api/apitest"
)

// TestInvocationsGolden runs the invocation endpoints over the shared data
// set and compares status and JSON with testdata/invocations_*.golden.
func TestInvocationsGolden(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	for _, tt := range []struct {
		name, path string
		status     int
	}{
		{"invocations_all", "/api/v1/invocations", 200},
		{"invocations_function", "/api/v1/invocations?function=payments", 200},
		{"invocations_status", "/api/v1/invocations?status=timeout,oom", 200},
		{"invocations_cold", "/api/v1/invocations?coldStart=true", 200},
		{"invocations_duration", "/api/v1/invocations?minDuration=400ms&maxDuration=1s", 200},
		{"invocations_page", "/api/v1/invocations?limit=1", 200},
		{"invocations_bad_status", "/api/v1/invocations?status=fine", 400},
		{"invocations_bad_param", "/api/v1/invocations?fn=x", 400},
		{"invocations_bad_duration", "/api/v1/invocations?minDuration=2s&maxDuration=1s", 400},
		{"invocation_one", "/api/v1/invocations/3d9e7c55-0000-4000-8000-000000000004", 200},
		{"invocation_not_found", "/api/v1/invocations/nope", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, srv.URL+tt.path)
			if status != tt.status {
				t.Errorf("GET %s: status %d, want %d: %s", tt.path, status, tt.status, body)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatalf("GET %s: body is not JSON: %v: %s", tt.path, err, body)
			}
			golden(t, tt.name+".golden", []byte(fmt.Sprintf("GET %s\n%d\n%s", tt.path, status, pretty.Bytes())))
		})
	}
}

// TestInvocationsPages follows cursors through every record.
func TestInvocationsPages(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	var ids []string
	next := ""
	for range 5 {
		var page struct {
			Invocations []struct{ RequestID string }
			NextCursor  string
		}
		getJSON(t, srv.URL+"/api/v1/invocations?limit=2&cursor="+next, &page)
		for _, inv := range page.Invocations {
			ids = append(ids, inv.RequestID)
		}
		if next = page.NextCursor; next == "" {
			break
		}
	}
	if len(ids) != 3 || ids[0] != "3d9e7c55-0000-4000-8000-000000000004" {
		t.Errorf("pages gave %v", ids)
	}
}
