package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/api/apitest"
)

// TestAlertsCommand adds, lists and removes rules against a real server.
func TestAlertsCommand(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	ctx := context.Background()
	steps := []struct {
		name       string
		args       []string
		code       int
		wantStdout string // regexp
		wantStderr string
	}{
		{"empty", []string{"alerts", "list", "--server", srv.URL}, 0, `^no alert rules\n$`, ""},
		{"add any-new", []string{"alerts", "add", "--server", srv.URL, "--name", "timeouts", "--kind", "timeout", "--any-new",
			"--target", "slack", "--url", "https://hooks.example/T1"}, 0, `^added alert rule [0-9a-f]{16}\n$`, ""},
		{"add threshold", []string{"alerts", "add", "--server", srv.URL, "--function", "checkout", "--threshold", "5", "--window", "10m",
			"--target", "email", "--to", "ops@example.com"}, 0, `^added alert rule [0-9a-f]{16}\n$`, ""},
		// Both rules were created at the API's fixed clock: any order.
		{"list", []string{"alerts", "list", "--server", srv.URL}, 0, `^ID +NAME +WHEN +KIND +FUNCTION +TARGET\n([0-9a-f]{16} .*\n){2}$`, ""},
		{"list timeouts", []string{"alerts", "list", "--server", srv.URL}, 0, `(?m)^[0-9a-f]{16} +timeouts +any new issue +timeout +any +slack https://hooks.example/T1$`, ""},
		{"list threshold", []string{"alerts", "list", "--server", srv.URL}, 0, `(?m)^[0-9a-f]{16} +- +≥ 5 in 10m0s +any +checkout +email ops@example.com$`, ""},
		{"invalid", []string{"alerts", "add", "--server", srv.URL, "--target", "pager", "--any-new"}, 1, ``, `target: "pager"`},
		{"rm unknown", []string{"alerts", "rm", "--server", srv.URL, "nope"}, 1, ``, "404 not_found"},
		{"no subcommand", []string{"alerts"}, 2, ``, "want a subcommand"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, errOut, code := run(ctx, t, nil, st.args...)
			if code != st.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, st.code, errOut)
			}
			if st.wantStdout != "" && !regexp.MustCompile(st.wantStdout).MatchString(out) {
				t.Errorf("stdout %q does not match %q", out, st.wantStdout)
			}
			if st.wantStderr != "" && !strings.Contains(errOut, st.wantStderr) {
				t.Errorf("stderr %q lacks %q", errOut, st.wantStderr)
			}
		})
	}
	out, _, _ := run(ctx, t, nil, "alerts", "list", "--server", srv.URL)
	id := regexp.MustCompile(`(?m)^([0-9a-f]{16}) +timeouts`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no rule in %q", out)
	}
	if out, errOut, code := run(ctx, t, nil, "alerts", "rm", "--server", srv.URL, id[1]); code != 0 || out != "removed alert rule "+id[1]+"\n" {
		t.Errorf("rm: %d %q %q", code, out, errOut)
	}
	if out, _, _ := run(ctx, t, nil, "alerts", "list", "--server", srv.URL); strings.Contains(out, "timeouts") {
		t.Errorf("removed rule still listed: %q", out)
	}
}
