package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPayload(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		in   string
		want string
	}{
		{"key patterns", Config{}, `{"user":"ann","Password":"p","X-Api-Key":"k","nested":{"client_secret":"s","accessToken":"t"}}`,
			`{"user":"ann","Password":"[REDACTED]","X-Api-Key":"[REDACTED]","nested":{"client_secret":"[REDACTED]","accessToken":"[REDACTED]"}}`},
		{"structural keys kept", Config{}, `{"Key":{"pk":{"S":"u1"}},"KeyConditionExpression":"pk = :v"}`,
			`{"Key":{"pk":{"S":"u1"}},"KeyConditionExpression":"pk = :v"}`},
		{"json inside a string", Config{}, `{"body":"{\"password\":\"x\",\"a\":1}"}`,
			`{"body":"{\"password\":\"[REDACTED]\",\"a\":1}"}`},
		{"value patterns", Config{}, `{"note":"card 4111-1111-1111-1111 key AKIAABCDEFGHIJKLMNOP jwt eyJhbGciOiJI.eyJzdWIiOjF9.abc"}`,
			`{"note":"card [REDACTED] key [REDACTED] jwt [REDACTED]"}`},
		{"non-luhn digits kept", Config{}, `{"orderNo":"4234567890123"}`, `{"orderNo":"4234567890123"}`},
		// 1520621625025 passes the Luhn check but is a timestamp.
		{"epoch millis kept", Config{}, `{"SentTimestamp":"1520621625025","t":1520621625025}`, `{"SentTimestamp":"1520621625025","t":1520621625025}`},
		{"card as a JSON number", Config{}, `{"n":4111111111111111}`, `{"n":"[REDACTED]"}`},
		{"ignored keys", Config{IgnoredKeys: []string{"email"}}, `{"userEmail":"a@b.c","name":"n"}`,
			`{"userEmail":"[REDACTED]","name":"n"}`},
		{"allow list", Config{AllowedKeys: []string{"orderId", "qty"}}, `{"orderId":"o1","qty":2,"address":"street","items":[{"qty":1,"sku":"x"}]}`,
			`{"orderId":"o1","qty":2,"address":"[REDACTED]","items":[{"qty":1,"sku":"[REDACTED]"}]}`},
		{"allow list cannot unmask ignored", Config{AllowedKeys: []string{"token"}, IgnoredKeys: []string{"token"}}, `{"token":"t"}`,
			`{"token":"[REDACTED]"}`},
		{"form", Config{}, `user=ann&password=x`, `password=%5BREDACTED%5D&user=ann`},
		{"query string value", Config{}, `{"rawQueryString":"a=1&token=t"}`, `{"rawQueryString":"a=1&token=%5BREDACTED%5D"}`},
		{"text", Config{}, `Authorization: Bearer abcdefghijkl`, `Authorization: Bearer [REDACTED]`},
		{"not json", Config{}, `{broken`, `{broken`},
		{"whitespace and escapes", Config{}, "{ \"a\" : \"x\\\"y\" ,\n \"pass\u0077ord\": [1, 2] }", `{"a":"x\"y","password":"[REDACTED]"}`},
		{"deep nesting", Config{}, strings.Repeat("[", 40) + strings.Repeat("]", 40), strings.Repeat("[", 33) + `"[REDACTED]"` + strings.Repeat("]", 33)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New(tt.cfg).Payload([]byte(tt.in)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCap(t *testing.T) {
	s := strings.Repeat("é", 10) // 20 bytes
	got := CapTo(s, 5)
	if !strings.HasPrefix(got, "éé…[truncated 16 bytes]") || !utf8.ValidString(got) {
		t.Fatalf("got %q", got)
	}
	if CapTo("short", 10) != "short" {
		t.Fatal("short value changed")
	}
}

func TestURL(t *testing.T) {
	r := New(Config{})
	got := r.URL("https://user:pw@api.example.com/v1?sig=abc&page=2")
	if strings.Contains(got, "pw@") || strings.Contains(got, "sig=abc") || !strings.Contains(got, "page=2") {
		t.Fatalf("got %s", got)
	}
}

func FuzzPayload(f *testing.F) {
	for _, s := range []string{`{"password":"x"}`, `[1,"4111111111111111",{"a":"b"}]`, `a=b&token=c`, `eyJx.eyJy.z`, `{"b":"{\"c\":\"[\"}"}`} {
		f.Add([]byte(s))
	}
	r := New(Config{MaxValueBytes: 256, AllowedKeys: []string{"a"}})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = r.Payload(b) // must not panic on anything
		// A card on its own line survives whatever surrounds it.
		out := r.Payload(append(append([]byte(nil), b...), "\n4111 1111 1111 1111\n"...))
		if strings.Contains(out, "4111 1111 1111 1111") {
			t.Fatalf("card survived: %q", out)
		}
	})
}

func TestEscapedKey(t *testing.T) {
	got := New(Config{}).Payload([]byte(`{"pass\u0077ord":"x"}`))
	if got != `{"pass\u0077ord":"[REDACTED]"}` {
		t.Fatalf("got %s", got)
	}
}
