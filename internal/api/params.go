package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
)

// Query parameter parsing shared by the endpoints. Every failure is an
// *Error with status 400 whose message starts with the parameter's name.

// maxParamLen bounds any single parameter value; free text and cursors are
// the longest legitimate ones.
const maxParamLen = 4096

// checkParams refuses parameters the endpoint does not know and repeated
// ones (except under a prefix that allows repeats, like attr.), and values
// over maxParamLen.
func checkParams(q url.Values, known []string, repeatPrefix string) error {
	for name, vals := range q {
		prefixed := repeatPrefix != "" && strings.HasPrefix(name, repeatPrefix)
		if !prefixed && !slices.Contains(known, name) {
			return invalid(name, "unknown parameter; this endpoint takes %s", strings.Join(known, ", "))
		}
		if !prefixed && len(vals) > 1 {
			return invalid(name, "given %d times; give it once", len(vals))
		}
		for _, v := range vals {
			if len(v) > maxParamLen {
				return invalid(name, "longer than %d bytes", maxParamLen)
			}
		}
	}
	return nil
}

// parseTime reads a point in time: Unix nanoseconds ("1764111600000000000"),
// RFC 3339 ("2026-11-25T23:00:00Z", fractions allowed), "now", or a time
// relative to now ("-1h", "-30m", "-7d", "now-1h").
func parseTime(name, s string, now time.Time) (int64, error) {
	switch {
	case s == "now":
		return now.UnixNano(), nil
	case strings.HasPrefix(s, "now-") || strings.HasPrefix(s, "now+"):
		s = s[len("now"):]
		fallthrough
	case strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+"):
		d, err := parseRelative(s)
		if err != nil {
			return 0, invalid(name, "relative time %q: want a signed duration like -1h, -15m or -7d", s)
		}
		return now.Add(d).UnixNano(), nil
	case isDigits(s):
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, invalid(name, "%q is out of range for Unix nanoseconds", s)
		}
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, invalid(name, "%q: want Unix nanoseconds, RFC 3339 (2006-01-02T15:04:05Z), \"now\" or a relative time like -1h", s)
	}
	return t.UnixNano(), nil
}

// parseRelative is time.ParseDuration plus a whole-day unit ("-7d"), which
// people type for retention-sized ranges.
func parseRelative(s string) (time.Duration, error) {
	if body, ok := strings.CutSuffix(s, "d"); ok && len(body) > 1 && isDigits(body[1:]) {
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil || n > 100_000 || n < -100_000 {
			return 0, strconv.ErrRange
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// parseDuration reads a non-negative duration: a Go duration ("250ms",
// "1.5s") or an integer number of nanoseconds.
func parseDuration(name, s string) (int64, error) {
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, invalid(name, "%q is out of range", s)
		}
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, invalid(name, "%q: want a duration like 250ms or 2s, or nanoseconds", s)
	}
	if d < 0 {
		return 0, invalid(name, "%q is negative", s)
	}
	return int64(d), nil
}

// parseBool reads true/false/1/0 (and an empty value as true, so that a
// bare ?error works).
func parseBool(name, s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, invalid(name, "%q: want true or false", s)
}

// parseLimit reads a page size in [1, max]; def when absent.
func parseLimit(name, s string, def, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, invalid(name, "%q: want an integer from 1 to %d", s, max)
	}
	return n, nil
}

// parseRange reads start and end. Without start the range begins lookback
// before end (or before now when end is open too); without end it is open,
// so spans from clocks slightly ahead of ours still show.
func parseRange(q url.Values, now time.Time, lookback time.Duration) (store.TimeRange, error) {
	var r store.TimeRange
	var err error
	if s := q.Get("end"); s != "" {
		if r.End, err = parseTime("end", s, now); err != nil {
			return r, err
		}
	}
	if s := q.Get("start"); s != "" {
		if r.Start, err = parseTime("start", s, now); err != nil {
			return r, err
		}
	} else {
		from := now.UnixNano()
		if r.End != 0 {
			from = r.End
		}
		r.Start = from - int64(lookback)
	}
	if r.End != 0 && r.Start >= r.End {
		return r, invalid("start", "must be before end")
	}
	return r, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
