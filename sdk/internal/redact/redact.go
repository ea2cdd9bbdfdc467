// Package redact removes secrets from captured payloads, headers and log
// attributes before anything leaves the function. It owns the default key
// and value patterns and the size caps; it must never fail or panic on
// malformed input, because it runs on arbitrary user data inside the
// function's hot path.
package redact

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mask replaces a redacted value.
const Mask = "[REDACTED]"

// defaultKeyPatterns are matched as substrings of normalised keys (lowercase,
// without '-', '_', '.' and spaces), so "X-Api-Key" matches "apikey".
var defaultKeyPatterns = []string{
	"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey",
	"accesskey", "privatekey", "key", "credential", "authorization", "auth",
	"cookie", "session", "signature", "cvv", "cardnumber", "creditcard",
}

// exactKeys are too short to match as substrings ("ssn" is inside
// "classname").
var exactKeys = map[string]bool{"ssn": true, "pin": true, "otp": true, "sig": true}

// structuralKeys contain "key" but name AWS structure, not secrets. Masking
// them would hide the DynamoDB keys and S3 object keys that make a payload
// worth reading, while the values underneath are still redacted by their own
// keys and by value patterns.
var structuralKeys = map[string]bool{
	"key": true, "keys": true, "partitionkey": true, "explicithashkey": true,
	"keyconditionexpression": true, "exclusivestartkey": true,
	"lastevaluatedkey": true, "keyschema": true, "objectkey": true,
	"routekey": true, "sortkey": true, "hashkey": true, "rangekey": true,
	"keytype": true, "author": true, "authorid": true, "authorname": true,
}

var (
	// AWS access key ids: the prefixes AWS documents for user, role and
	// temporary credentials, then 16 upper-case alphanumerics.
	awsKeyRE = regexp.MustCompile(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b`)
	jwtRE    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)
	bearerRE = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)
	cardRE   = regexp.MustCompile(`\b\d(?:[ -]?\d){12,18}\b`)
)

// Config selects what a Redactor masks and how much it keeps.
type Config struct {
	// IgnoredKeys are extra key patterns (substring, normalised) to mask.
	IgnoredKeys []string
	// AllowedKeys, when non-empty, switches to allow-list mode: only scalar
	// values under these keys (exact, normalised) are kept; ignored keys
	// still win.
	AllowedKeys []string
	// MaxValueBytes caps one captured value; 0 means no cap.
	MaxValueBytes int
}

// Redactor is safe for concurrent use.
type Redactor struct {
	defaults [][]byte
	user     [][]byte
	allowed  map[string]bool
	maxValue int
}

// New returns a Redactor with the default key patterns plus cfg's.
func New(cfg Config) *Redactor {
	r := &Redactor{maxValue: cfg.MaxValueBytes}
	for _, p := range defaultKeyPatterns {
		r.defaults = append(r.defaults, []byte(p))
	}
	for _, k := range cfg.IgnoredKeys {
		if n := normalise(k); n != "" {
			r.user = append(r.user, []byte(n))
		}
	}
	if len(cfg.AllowedKeys) > 0 {
		r.allowed = make(map[string]bool, len(cfg.AllowedKeys))
		for _, k := range cfg.AllowedKeys {
			if n := normalise(k); n != "" {
				r.allowed[n] = true
			}
		}
	}
	return r
}

func normalise(k string) string {
	var buf [64]byte
	return string(normaliseTo(buf[:0], k))
}

// normaliseTo appends the normalised key to dst (lowercase, without '-',
// '_', '.' and spaces); SensitiveKey uses a stack buffer so the hot path
// does not allocate.
func normaliseTo(dst []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// SensitiveKey reports whether a value stored under key must be masked
// whatever it looks like.
func (r *Redactor) SensitiveKey(key string) bool {
	var buf [64]byte
	n := normaliseTo(buf[:0], key)
	for _, p := range r.user {
		if bytes.Contains(n, p) {
			return true
		}
	}
	if r.allowed[string(n)] {
		return false
	}
	if structuralKeys[string(n)] {
		return false
	}
	if exactKeys[string(n)] {
		return true
	}
	for _, p := range r.defaults {
		if bytes.Contains(n, p) {
			return true
		}
	}
	return false
}

// keepScalar reports whether a scalar under key survives allow-list mode.
func (r *Redactor) keepScalar(key string) bool {
	if r.allowed == nil {
		return true
	}
	return r.allowed[normalise(key)]
}

// String masks secret-shaped substrings (card numbers, AWS access key ids,
// JWTs, bearer credentials) in free text.
func (r *Redactor) String(s string) string {
	if len(s) < 8 {
		return s
	}
	if strings.Contains(s, "eyJ") {
		s = jwtRE.ReplaceAllString(s, Mask)
	}
	if hasUpperRun(s) {
		s = awsKeyRE.ReplaceAllString(s, Mask)
	}
	if strings.ContainsAny(s, "bB") && (strings.Contains(s, "earer") || strings.Contains(s, "asic") || strings.Contains(s, "EARER") || strings.Contains(s, "ASIC")) {
		s = bearerRE.ReplaceAllString(s, "$1 "+Mask)
	}
	if digitCount(s) >= 13 {
		s = cardRE.ReplaceAllStringFunc(s, func(m string) string {
			if luhn(m) {
				return Mask
			}
			return m
		})
	}
	return s
}

func hasUpperRun(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			run++
			if run >= 20 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// luhn reports whether m's digits form a plausible payment card number:
// 13–19 digits, a major network's first digit (2–6: Mastercard, Amex,
// Diners, JCB, Visa, Discover) and a valid Luhn check digit. The first-digit
// rule keeps epoch-millisecond timestamps (which start with 1) unmasked.
func luhn(m string) bool {
	for i := 0; i < len(m); i++ {
		if c := m[i]; c >= '0' && c <= '9' {
			if c < '2' || c > '6' {
				return false
			}
			break
		}
	}
	sum, n, double := 0, 0, false
	for i := len(m) - 1; i >= 0; i-- {
		c := m[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
		double = !double
	}
	return n >= 13 && sum%10 == 0
}

// Value masks a value stored under key: the whole value if the key is
// sensitive, else its secret-shaped substrings.
func (r *Redactor) Value(key, v string) string {
	if r.SensitiveKey(key) {
		return Mask
	}
	return r.String(v)
}

// Payload redacts a captured payload: JSON is walked (including JSON held in
// string values, such as an SQS body inside an event), form-encoded text is
// redacted per field, anything else gets value patterns. The result is capped
// at MaxValueBytes.
func (r *Redactor) Payload(p []byte) string {
	return r.Cap(r.payload(p, 0))
}

const maxDepth = 32

func (r *Redactor) payload(p []byte, depth int) string {
	t := bytes.TrimSpace(p)
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
		return string(r.appendJSON(make([]byte, 0, len(t)+64), t, depth))
	}
	s := string(p)
	if looksLikeForm(s) {
		if q, err := url.ParseQuery(s); err == nil && len(q) > 0 {
			return r.Query(q).Encode()
		}
	}
	return r.String(s)
}

func looksLikeForm(s string) bool {
	return strings.Contains(s, "=") && !strings.ContainsAny(s, " \n\t{}\"")
}

// Query redacts URL query or form values by key and by value pattern.
func (r *Redactor) Query(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		nv := make([]string, len(vs))
		for i, v := range vs {
			if r.SensitiveKey(k) || !r.keepScalar(k) {
				nv[i] = Mask
			} else {
				nv[i] = r.String(v)
			}
		}
		out[k] = nv
	}
	return out
}

// URL redacts the query string and user info of a URL string.
func (r *Redactor) URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return r.String(raw)
	}
	if u.User != nil {
		u.User = url.User(Mask)
	}
	if u.RawQuery != "" {
		u.RawQuery = r.Query(u.Query()).Encode()
	}
	return r.String(u.String())
}

// Cap truncates s to MaxValueBytes on a UTF-8 boundary and says how much was
// cut, so a reader knows the payload is incomplete.
func (r *Redactor) Cap(s string) string { return CapTo(s, r.maxValue) }

// CapTo truncates s to at most n bytes plus a marker; n <= 0 means no cap.
func CapTo(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[truncated " + strconv.Itoa(len(s)-cut) + " bytes]"
}
