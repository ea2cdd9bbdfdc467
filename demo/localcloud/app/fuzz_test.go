package app_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
)

func TestLoadFile(t *testing.T) {
	d, err := app.LoadFile(filepath.Join("testdata", "shop.json"))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Join("testdata", "bin", "checkout"))
	if d.Region != "eu-west-1" || len(d.Functions) != 4 || d.Functions[0].Binary != abs ||
		time.Duration(d.Functions[0].Timeout) != 6*time.Second || time.Duration(d.Functions[1].Triggers[0].BatchingWindow) != time.Second {
		t.Errorf("description = %+v", d)
	}
}

func FuzzParseDescription(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "shop.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"functions":[{"name":"f","binary":"/x","triggers":[{"queue":"q"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := app.ParseDescription(bytes.NewReader(b))
		if err == nil && d.Validate() != nil {
			t.Errorf("ParseDescription accepted what Validate rejects: %s", b)
		}
	})
}
