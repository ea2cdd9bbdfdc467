package cli

import (
	"context"
	"strings"
	"testing"
)

// TestDemoFlags: bad choices are usage errors (exit 2) before anything
// starts or is built.
func TestDemoFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--app", "lambda"}, `--app must be shop or synthetic, got "lambda"`},
		{[]string{"demo", "--faults", "timeout,bogus"}, `--faults: unknown fault "bogus"`},
		{[]string{"demo", "--rate", "0"}, "--rate must be in (0, 1000]"},
	} {
		_, errOut, code := run(context.Background(), t, nil, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
