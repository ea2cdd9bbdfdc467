//go:build !race

package ariadne

const raceEnabled = false
