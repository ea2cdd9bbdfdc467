package lambda

import (
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzSubscribeRequest checks that any accepted Telemetry API subscription
// has a usable HTTP destination and buffering within the documented limits.
func FuzzSubscribeRequest(f *testing.F) {
	f.Add(`{"schemaVersion":"2022-12-13","types":["platform","function"],"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:8080/t"}}`)
	f.Add(`{"schemaVersion":"2022-07-01","types":["extension"],"destination":{"protocol":"TCP","URI":"tcp://sandbox:9000"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		var r subscribeRequest
		if json.Unmarshal([]byte(body), &r) != nil {
			return
		}
		uri, err := r.validate()
		if err != nil {
			return
		}
		u, perr := url.Parse(uri)
		if perr != nil || u.Port() == "" || r.Destination.Protocol != "HTTP" || len(r.Types) == 0 {
			t.Errorf("accepted %s as %q", body, uri)
		}
		if b := r.Buffering; b.TimeoutMs < 25 || b.MaxItems < 1000 || b.MaxBytes < 262144 {
			t.Errorf("accepted buffering %+v", b)
		}
	})
}
