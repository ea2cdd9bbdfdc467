//go:build race

package ariadne

// raceEnabled: the race detector slows everything ~10×, so latency bounds
// are not checked under it (the code paths still run).
const raceEnabled = true
