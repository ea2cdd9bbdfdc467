package api_test

import (
	"net/url"
	"testing"

	"github.com/ariadnehq/ariadne/internal/api"
	"github.com/ariadnehq/ariadne/internal/api/apitest"
)

// TestLogsPaging follows nextCursor one record at a time: every log of the
// data set once, newest first, the same as one page of them all.
func TestLogsPaging(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	var all api.LogsResponse
	getJSON(t, srv.URL+"/api/v1/logs?limit=1000", &all)
	if len(all.Logs) < 5 || all.NextCursor != "" {
		t.Fatalf("all logs: %d, cursor %q", len(all.Logs), all.NextCursor)
	}
	var paged []api.Log
	cursor := ""
	for page := 0; page <= len(all.Logs); page++ {
		q := url.Values{"limit": {"1"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var res api.LogsResponse
		getJSON(t, srv.URL+"/api/v1/logs?"+q.Encode(), &res)
		paged = append(paged, res.Logs...)
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	if len(paged) != len(all.Logs) {
		t.Fatalf("paged %d logs, want %d", len(paged), len(all.Logs))
	}
	for i := range paged {
		if paged[i].Time != all.Logs[i].Time || string(paged[i].Body) != string(all.Logs[i].Body) {
			t.Errorf("log %d: paged %d %s, want %d %s", i, paged[i].Time, paged[i].Body, all.Logs[i].Time, all.Logs[i].Body)
		}
		if i > 0 && paged[i].Time > paged[i-1].Time {
			t.Errorf("log %d is newer than the one before", i)
		}
	}
}
