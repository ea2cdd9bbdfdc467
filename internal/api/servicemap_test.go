package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ariadnehq/ariadne/internal/api/apitest"
)

// TestServiceMapGolden runs the service map, RED and cost endpoints over
// the shared data set and compares status and JSON with
// testdata/servicemap_*.golden, red_*.golden and cost_*.golden.
func TestServiceMapGolden(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	for _, tt := range []struct {
		name, path string
		status     int
	}{
		{"servicemap_all", "/api/v1/servicemap", 200},
		{"servicemap_range", "/api/v1/servicemap?start=-1h&end=-55m", 200},
		{"servicemap_environment_none", "/api/v1/servicemap?environment=staging", 200},
		{"servicemap_transaction", "/api/v1/servicemap?traceId=" + apitest.Fulfil.String(), 200},
		{"servicemap_bad_trace", "/api/v1/servicemap?traceId=xyz", 400},
		{"servicemap_trace_and_range", "/api/v1/servicemap?traceId=" + apitest.Fulfil.String() + "&start=-1h", 400},
		{"servicemap_bad_param", "/api/v1/servicemap?env=prod", 400},
		{"red_function", "/api/v1/metrics/red?function=orders-api&start=-1h&end=-50m&step=5m", 200},
		{"red_by_service", "/api/v1/metrics/red?groupBy=service&start=-1h&end=-50m&step=10m", 200},
		{"red_operation", "/api/v1/metrics/red?service=health&operation=GET%20/health&start=-1h&end=-30m&step=10m", 200},
		{"red_bad_step", "/api/v1/metrics/red?start=-1h&step=1s", 400},
		{"red_bad_group", "/api/v1/metrics/red?groupBy=region", 400},
		{"cost_all", "/api/v1/cost?start=-2h", 200},
		{"cost_function", "/api/v1/cost?start=-2h&function=inventory-sync", 200},
		{"cost_transaction", "/api/v1/cost?traceId=" + apitest.Checkout.String(), 200},
		{"cost_bad_group", "/api/v1/cost?groupBy=service", 400},
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
