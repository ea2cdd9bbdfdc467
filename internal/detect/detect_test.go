package detect

import "testing"

func TestMaskMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"charge order o-1001: card declined (code 4021)", "charge order o-<n>: card declined (code <n>)"},
		{"job 1a62657d-945a-43ca-b3d9-b93901899d03 failed", "job <uuid> failed"},
		{`user "alice" not found in table t1`, "user <str> not found in table t<n>"},
		{"request 5f2b9c0e7a1d4e3f timed out after 2.5s", "request <id> timed out after <n>s"},
		{"no digits here", "no digits here"},
	} {
		if got := MaskMessage(tc.in); got != tc.want {
			t.Errorf("MaskMessage(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTopFrame(t *testing.T) {
	stack := "goroutine 7 [running]:\nruntime/debug.Stack()\n\t/go/src/runtime/debug/stack.go:26 +0x5e\n" +
		"github.com/ariadnehq/ariadne/sdk.(*SDK).Wrap.func1.1()\n\t/sdk/lambda.go:290 +0x45\npanic({0x1, 0x2})\n\t/go/src/runtime/panic.go:785\n" +
		"main.charge(...)\n\t/app/main.go:40\nmain.handle({0x3})\n\t/app/main.go:20 +0x1\n"
	if got := TopFrame(stack); got != "main.charge" {
		t.Errorf("TopFrame = %q, want main.charge", got)
	}
	if got := TopFrame(""); got != "" {
		t.Errorf("TopFrame of nothing = %q", got)
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		ns   int64
		want string
	}{{2_800_000_000, "2.8 s"}, {340_000_000, "340 ms"}, {95_000, "95 µs"}} {
		if got := seconds(tc.ns); got != tc.want {
			t.Errorf("seconds(%d) = %q, want %q", tc.ns, got, tc.want)
		}
	}
}
