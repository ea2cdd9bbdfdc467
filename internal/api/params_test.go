package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
)

var testNow = time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "now", want: testNow},
		{in: "-1h", want: testNow.Add(-time.Hour)},
		{in: "-90s", want: testNow.Add(-90 * time.Second)},
		{in: "+5m", want: testNow.Add(5 * time.Minute)},
		{in: "now-15m", want: testNow.Add(-15 * time.Minute)},
		{in: "-7d", want: testNow.Add(-7 * 24 * time.Hour)},
		{in: "1764111600000000000", want: time.Unix(0, 1764111600000000000)},
		{in: "2026-11-25T22:00:00Z", want: testNow.Add(-time.Hour)},
		{in: "2026-11-25T23:00:00.5+01:00", want: testNow.Add(-time.Hour + 500*time.Millisecond)},
		{in: "yesterday", wantErr: `start: "yesterday": want Unix nanoseconds`},
		{in: "-1", wantErr: `start: relative time "-1"`},
		{in: "-1x", wantErr: `start: relative time "-1x"`},
		{in: "99999999999999999999", wantErr: "out of range"},
		{in: "2026-11-25", wantErr: "RFC 3339"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTime("start", tt.in, testNow)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseTime(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				var ae *Error
				if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
					t.Fatalf("parseTime(%q) error %v is not a 400", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTime(%q): %v", tt.in, err)
			}
			if got != tt.want.UnixNano() {
				t.Errorf("parseTime(%q) = %v, want %v", tt.in, time.Unix(0, got).UTC(), tt.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "250ms", want: int64(250 * time.Millisecond)},
		{in: "1.5s", want: int64(1500 * time.Millisecond)},
		{in: "1500", want: 1500},
		{in: "0", want: 0},
		{in: "-1s", wantErr: true},
		{in: "fast", wantErr: true},
		{in: "1e3", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseDuration("minDuration", tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseDuration(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil && !strings.HasPrefix(err.Error(), CodeInvalidArgument+": minDuration: ") {
			t.Errorf("parseDuration(%q) error %q does not name the parameter", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("parseDuration(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		query   string
		want    store.TimeRange
		wantErr string
	}{
		{query: "", want: store.TimeRange{Start: testNow.Add(-day).UnixNano()}},
		{query: "start=-1h", want: store.TimeRange{Start: testNow.Add(-time.Hour).UnixNano()}},
		{query: "start=-2h&end=-1h", want: store.TimeRange{Start: testNow.Add(-2 * time.Hour).UnixNano(), End: testNow.Add(-time.Hour).UnixNano()}},
		// Without start, the lookback counts back from end.
		{query: "end=-48h", want: store.TimeRange{Start: testNow.Add(-72 * time.Hour).UnixNano(), End: testNow.Add(-48 * time.Hour).UnixNano()}},
		{query: "start=-1h&end=-2h", wantErr: "start: must be before end"},
		{query: "end=soon", wantErr: "end: "},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := parseRange(q, testNow, day)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseSearch(t *testing.T) {
	a := New(nil, Settings{Now: func() time.Time { return testNow }})
	tests := []struct {
		query   string
		check   func(t *testing.T, q store.TraceQuery)
		wantErr string
	}{
		{query: "", check: func(t *testing.T, q store.TraceQuery) {
			if q.Limit != 20 || q.ErrorOnly || q.Start != testNow.Add(-24*time.Hour).UnixNano() || q.End != 0 {
				t.Errorf("defaults: %+v", q)
			}
		}},
		{query: "service=orders&operation=GET+%2Forders&error=true&minDuration=250ms&maxDuration=2000000000&q=timeout&limit=1000&cursor=abc",
			check: func(t *testing.T, q store.TraceQuery) {
				if q.Service != "orders" || q.Operation != "GET /orders" || !q.ErrorOnly ||
					q.MinDuration != int64(250*time.Millisecond) || q.MaxDuration != int64(2*time.Second) ||
					q.Text != "timeout" || q.Limit != 1000 || q.Cursor != "abc" {
					t.Errorf("parsed %+v", q)
				}
			}},
		{query: "attr.http.route=%2Forders&attr.b=2&attr.b=1", check: func(t *testing.T, q store.TraceQuery) {
			got := ""
			for _, a := range q.Attributes {
				got += a.Key + "=" + a.Value.Str + ";"
			}
			if got != "b=1;b=2;http.route=/orders;" {
				t.Errorf("attributes %s", got)
			}
		}},
		{query: "error", check: func(t *testing.T, q store.TraceQuery) {
			if !q.ErrorOnly {
				t.Error("bare error should mean error=true")
			}
		}},
		{query: "error=false", check: func(t *testing.T, q store.TraceQuery) {
			if q.ErrorOnly {
				t.Error("error=false should not filter")
			}
		}},
		{query: "limit=1001", wantErr: "limit: \"1001\": want an integer from 1 to 1000"},
		{query: "limit=0", wantErr: "limit: "},
		{query: "serivce=orders", wantErr: "serivce: unknown parameter"},
		{query: "service=a&service=b", wantErr: "service: given 2 times"},
		{query: "attr.=x", wantErr: "attr.: want attr.KEY=VALUE"},
		{query: "error=maybe", wantErr: "error: \"maybe\""},
		{query: "minDuration=2s&maxDuration=1s", wantErr: "minDuration: is larger than maxDuration"},
		{query: "maxDuration=soon", wantErr: "maxDuration: "},
		{query: "q=" + strings.Repeat("x", maxParamLen+1), wantErr: "q: longer than"},
	}
	for _, tt := range tests {
		name := tt.query
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, "/api/v1/traces?"+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			q, err := a.parseSearch(r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, q)
		})
	}
}
