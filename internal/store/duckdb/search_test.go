package duckdb

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// TestCursorCompatible decodes a cursor as this engine wrote it before
// it took its cursors from internal/store/shared: a page a client holds
// across an upgrade still continues.
func TestCursorCompatible(t *testing.T) {
	tid, _ := model.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	const old = "djEuLTUuMGFmNzY1MTkxNmNkNDNkZDg0NDhlYjIxMWM4MDMxOWM" // v1.-5.<tid>
	c, err := shared.DecodeTraceCursor(old)
	if err != nil || *c != (shared.TraceCursor{Start: -5, Trace: tid}) {
		t.Fatalf("DecodeTraceCursor(%q) = %v, %v", old, c, err)
	}
	if got := shared.EncodeTraceCursor(*c); got != old {
		t.Errorf("EncodeTraceCursor = %q, want %q", got, old)
	}
	for _, bad := range []string{"!", "djE", old[:10]} {
		if _, err := shared.DecodeTraceCursor(bad); err == nil {
			t.Errorf("DecodeTraceCursor(%q) accepted", bad)
		}
	}
}
