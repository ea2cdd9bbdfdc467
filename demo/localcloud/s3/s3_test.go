package s3_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ariadnehq/ariadne/demo/localcloud/s3"
)

func TestPutObjectNotifiesFunction(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	got := map[string][][]byte{}
	svc, err := s3.New(ctx, s3.Settings{InvokeFunction: func(_ context.Context, arn string, payload []byte) error {
		mu.Lock()
		got[arn] = append(got[arn], payload)
		mu.Unlock()
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	const images = "arn:aws:lambda:us-east-1:000000000000:function:thumbnail"
	const deletes = "arn:aws:lambda:us-east-1:000000000000:function:cleanup"
	if err := svc.CreateBucket("uploads"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []s3.Notification{
		{ID: "thumbs", Bucket: "uploads", FunctionARN: images, Prefix: "img/", Suffix: ".jpg"},
		{Bucket: "uploads", FunctionARN: deletes, Events: []string{"s3:ObjectRemoved:*"}},
	} {
		if err := svc.AddNotification(n); err != nil {
			t.Fatal(err)
		}
	}
	client := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(svc.Endpoint()), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		})})

	put, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("img/red flower.jpg"), Body: strings.NewReader("jpeg bytes")})
	if err != nil {
		t.Fatal(err)
	}
	reqID, _ := awsmiddleware.GetRequestIDMetadata(put.ResultMetadata)
	if _, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("doc/readme.txt"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("uploads"), Key: aws.String("doc/readme.txt")}); err != nil {
		t.Fatal(err)
	}
	obj, err := client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("img/red flower.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	_ = obj.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	if len(got[images]) != 1 || len(got[deletes]) != 1 {
		t.Fatalf("invocations: %d thumbnail (want 1), %d cleanup (want 1)", len(got[images]), len(got[deletes]))
	}
	var ev events.S3Event
	if err := json.Unmarshal(got[images][0], &ev); err != nil {
		t.Fatal(err)
	}
	r := ev.Records[0]
	if reqID == "" || r.ResponseElements["x-amz-request-id"] != reqID {
		t.Errorf("responseElements x-amz-request-id = %q, PutObject returned %q", r.ResponseElements["x-amz-request-id"], reqID)
	}
	if r.EventSource != "aws:s3" || r.EventName != "ObjectCreated:Put" || r.S3.Bucket.Name != "uploads" || r.S3.Bucket.Arn != "arn:aws:s3:::uploads" ||
		r.S3.ConfigurationID != "thumbs" || r.EventTime.IsZero() {
		t.Errorf("record = %+v", r)
	}
	if r.S3.Object.Key != "img/red+flower.jpg" || r.S3.Object.URLDecodedKey != "img/red flower.jpg" || r.S3.Object.Size != int64(len("jpeg bytes")) ||
		`"`+r.S3.Object.ETag+`"` != aws.ToString(put.ETag) {
		t.Errorf("object = %+v, PutObject ETag %s", r.S3.Object, aws.ToString(put.ETag))
	}
	var del events.S3Event
	_ = json.Unmarshal(got[deletes][0], &del)
	if del.Records[0].EventName != "ObjectRemoved:Delete" || del.Records[0].S3.Object.Key != "doc/readme.txt" {
		t.Errorf("delete record = %+v", del.Records[0])
	}
}
