package otlp

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: servers,
// connections and exporters must all be shut down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
