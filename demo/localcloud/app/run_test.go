package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
	"github.com/ariadnehq/ariadne/demo/localcloud/localcloudtest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun starts the command on a description whose function is built from
// its Go package, invokes it and stops the command.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	desc := `{"functions":[{"name":"hello","package":"github.com/ariadnehq/ariadne/demo/localcloud/internal/testfn","memoryMB":128}],
		"queues":[{"name":"q"}]}`
	path := filepath.Join(dir, "app.json")
	if err := os.WriteFile(path, []byte(desc), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, []string{"-f", path}, &out, &out) }()
	re := regexp.MustCompile(`export AWS_ENDPOINT_URL_LAMBDA=(\S+)`)
	localcloudtest.Eventually(t, 60*time.Second, "the endpoints", func() bool { return re.MatchString(out.String()) })
	endpoint := re.FindStringSubmatch(out.String())[1]
	client := awslambda.New(awslambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: aws.AnonymousCredentials{}})
	res, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("hello"), Payload: []byte(`{"action":"echo"}`)})
	if err != nil || !strings.Contains(string(res.Payload), `"function":"hello"`) {
		t.Fatalf("invoke: %v %s", err, res.Payload)
	}
	localcloudtest.Eventually(t, 5*time.Second, "the REPORT line", func() bool { return strings.Contains(out.String(), "REPORT RequestId: ") })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
