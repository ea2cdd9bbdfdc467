//go:build !linux

package ariadne

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
