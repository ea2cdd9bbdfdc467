// Command receipt runs on every receipt written to the S3 bucket
// "receipts": it renders the receipt and asks the email function,
// asynchronously, to send it. Rendering keeps every unit's line in memory,
// which is fine for a basket and fatal for a wholesale order.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ariadnehq/ariadne/demo/shop/internal/order"
	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

// lineBytes is one rendered receipt line (layout, font metrics, glyphs).
const lineBytes = 8 << 10

type handler struct {
	s3     *s3.Client
	lambda *awslambda.Client
	email  string
	log    *slog.Logger
}

func main() {
	ctx := context.Background()
	sdk, err := ariadne.New(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ariadne:", err)
	}
	cfg, err := order.AWSConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	awsv2.Instrument(&cfg, sdk)
	h := &handler{s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), lambda: awslambda.NewFromConfig(cfg),
		email: os.Getenv("EMAIL_FUNCTION"), log: slog.New(sdk.SlogHandler(slog.NewJSONHandler(os.Stdout, nil), slog.LevelInfo))}
	lambda.Start(sdk.Wrap(h.handle))
}

func (h *handler) handle(ctx context.Context, ev events.S3Event) error {
	for _, r := range ev.Records {
		if err := h.render(ctx, r.S3.Bucket.Name, r.S3.Object.Key); err != nil {
			return err
		}
	}
	return nil
}

func (h *handler) render(ctx context.Context, bucket, key string) error {
	obj, err := h.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer obj.Body.Close()
	var rc order.Receipt
	if err := json.NewDecoder(io.LimitReader(obj.Body, 1<<20)).Decode(&rc); err != nil {
		return fmt.Errorf("decode receipt %s: %w", key, err)
	}
	var lines [][]byte
	for _, it := range rc.Items {
		for range it.Qty {
			line := make([]byte, lineBytes)
			for i := range line { // touch it: rendering writes every byte
				line[i] = byte(i)
			}
			lines = append(lines, line)
		}
	}
	body, _ := json.Marshal(order.Email{To: rc.Customer.Email, Subject: "Your order " + rc.OrderID, OrderID: rc.OrderID, Lines: len(lines)})
	if _, err := h.lambda.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(h.email), InvocationType: types.InvocationTypeEvent, Payload: body}); err != nil {
		return fmt.Errorf("send receipt %s: %w", rc.OrderID, err)
	}
	h.log.InfoContext(ctx, "receipt rendered", "orderId", rc.OrderID, "lines", len(lines))
	return nil
}
