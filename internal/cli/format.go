package cli

import (
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Terminal output shared by trace, search and tail.

const (
	defaultWidth = 100
	minWidth     = 40
)

// termWidth picks the output width: the flag, else $COLUMNS, else 100.
func termWidth(flagWidth int, env Env) int {
	w := flagWidth
	if w <= 0 {
		if n, err := strconv.Atoi(env.Getenv("COLUMNS")); err == nil && n > 0 {
			w = n
		}
	}
	if w <= 0 {
		w = defaultWidth
	}
	return max(w, minWidth)
}

// useColor decides on ANSI colours: only on a terminal, and never when the
// user said no (--no-color, NO_COLOR, TERM=dumb). Tests write to buffers and
// so always get plain text.
func useColor(noColor bool, env Env) bool {
	if noColor || env.Getenv("NO_COLOR") != "" || env.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := env.Stdout.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// location is where times are shown: $TZ read through Env (so tests choose),
// else the process's local zone.
func location(env Env) *time.Location {
	if tz := env.Getenv("TZ"); tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc
		}
	}
	return time.Local
}

// style wraps text in ANSI colours when enabled.
type style struct{ color bool }

func (s style) wrap(code, text string) string {
	if !s.color || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) red(t string) string  { return s.wrap("31", t) }
func (s style) dim(t string) string  { return s.wrap("2", t) }
func (s style) bold(t string) string { return s.wrap("1", t) }

// serviceColors avoid red, which means error.
var serviceColors = [...]string{"32", "33", "34", "35", "36", "92", "93", "94", "95", "96"}

// service colours text by the service name, stable across runs.
func (s style) service(name, text string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return s.wrap(serviceColors[h.Sum32()%uint32(len(serviceColors))], text)
}

// fmtDuration shows ns with about three significant digits: 850ns, 12.3µs,
// 45.2ms, 1.23s, 2m03s.
func fmtDuration(ns int64) string {
	if ns < 0 {
		return "-" + fmtDuration(-ns)
	}
	d := float64(ns)
	switch {
	case ns < 1_000:
		return strconv.FormatInt(ns, 10) + "ns"
	case ns < 1_000_000:
		return sig3(d/1e3) + "µs"
	case ns < 1_000_000_000:
		return sig3(d/1e6) + "ms"
	case ns < 60_000_000_000:
		return sig3(d/1e9) + "s"
	case ns < 3600_000_000_000:
		s := ns / 1_000_000_000
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		m := ns / 60_000_000_000
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	}
}

func sig3(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// fmtTime shows a Unix ns time to the millisecond.
func fmtTime(ns int64, loc *time.Location) string {
	return time.Unix(0, ns).In(loc).Format("2006-01-02 15:04:05.000")
}

// width is the number of terminal cells of s; the CLI's own glyphs and most
// text are one cell per rune.
func width(s string) int { return utf8.RuneCountInString(s) }

// truncate cuts s to at most n cells, marking the cut with "…".
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if width(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// pad truncates or right-pads s to exactly n cells.
func pad(s string, n int) string {
	s = truncate(s, n)
	return s + strings.Repeat(" ", n-width(s))
}

// padLeft right-aligns s in n cells.
func padLeft(s string, n int) string {
	s = truncate(s, n)
	return strings.Repeat(" ", n-width(s)) + s
}

// oneLine makes text safe for a single terminal line: newlines and other
// control characters (which could also carry terminal escapes from
// untrusted log bodies) become spaces or are dropped.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		}
		return r
	}, s)
}

// writer remembers the first write error so rendering code can stay linear.
type writer struct {
	w   io.Writer
	err error
}

func (w *writer) line(s string) {
	if w.err != nil {
		return
	}
	_, w.err = io.WriteString(w.w, s+"\n")
}
