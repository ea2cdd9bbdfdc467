package sqs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzServeHTTP feeds arbitrary bodies to every operation: the service must
// answer with a client error or success, never fail or panic.
func FuzzServeHTTP(f *testing.F) {
	s, err := New(context.Background(), Settings{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	if _, err := s.CreateQueue("q", nil); err != nil {
		f.Fatal(err)
	}
	url := s.QueueURL("q")
	seeds := map[string]string{
		"SendMessage":             `{"QueueUrl":"` + url + `","MessageBody":"hi","MessageAttributes":{"a":{"DataType":"String","StringValue":"v"}}}`,
		"SendMessageBatch":        `{"QueueUrl":"` + url + `","Entries":[{"Id":"1","MessageBody":"x"}]}`,
		"DeleteMessageBatch":      `{"QueueUrl":"` + url + `","Entries":[{"Id":"1","ReceiptHandle":"r"}]}`,
		"CreateQueue":             `{"QueueName":"z","Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:q\",\"maxReceiveCount\":\"2\"}"}}`,
		"ChangeMessageVisibility": `{"QueueUrl":"` + url + `","ReceiptHandle":"r","VisibilityTimeout":5}`,
		"GetQueueAttributes":      `{"QueueUrl":"` + url + `","AttributeNames":["All"]}`,
	}
	for op, body := range seeds {
		f.Add(op, body)
	}
	f.Fuzz(func(t *testing.T, op, body string) {
		if op == "ReceiveMessage" || op == "DeleteQueue" || op == "PurgeQueue" {
			return // long polls and destroying the fixture are not what this fuzzes
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AmazonSQS."+op)
		rec := httptest.NewRecorder()
		s.serveHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Errorf("%s %s: status %d %s", op, body, rec.Code, rec.Body)
		}
	})
}
