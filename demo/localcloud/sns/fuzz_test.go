package sns

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzServeHTTP feeds arbitrary forms to the Query API: answers are client
// errors or success, never server errors or panics.
func FuzzServeHTTP(f *testing.F) {
	s, err := New(context.Background(), Settings{
		SendToQueue:    func(context.Context, string, string, map[string]Attribute, string) error { return nil },
		InvokeFunction: func(context.Context, string, []byte, string) error { return nil },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	arn, _ := s.CreateTopic("t", nil)
	if _, err := s.Subscribe(arn, "sqs", "arn:aws:sqs:us-east-1:000000000000:q", nil); err != nil {
		f.Fatal(err)
	}
	f.Add("Action=Publish&TopicArn=" + arn + "&Message=hi&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=v")
	f.Add("Action=PublishBatch&TopicArn=" + arn + "&PublishBatchRequestEntries.member.1.Id=1&PublishBatchRequestEntries.member.1.Message=m")
	f.Add("Action=Subscribe&TopicArn=" + arn + "&Protocol=lambda&Endpoint=arn:aws:lambda:us-east-1:000000000000:function:f&Attributes.entry.1.key=FilterPolicy&Attributes.entry.1.value={}")
	f.Add("Action=Publish&TopicArn=" + arn + "&MessageStructure=json&Message={\"default\":\"x\"}")
	f.Fuzz(func(t *testing.T, form string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.serveHTTP(rec, req)
		if rec.Code >= 500 {
			t.Errorf("%s: status %d %s", form, rec.Code, rec.Body)
		}
	})
}
