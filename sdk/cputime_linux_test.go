//go:build linux

package ariadne

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time consumed by the calling OS thread. Latency
// tests lock their goroutine to a thread and use it to tell the SDK's own
// cost from time spent waiting for a CPU on a shared machine.
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
