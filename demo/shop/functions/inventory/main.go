// Command inventory takes orders from the SQS queue "inventory" (SNS
// envelopes from the topic "orders") in batches, reserves stock and writes
// the receipt to the S3 bucket "receipts". A reservation that meets a
// locked stock row fails only that message (batchItemFailures); SQS
// delivers it again and it goes through.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ariadnehq/ariadne/demo/shop/internal/order"
	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

type handler struct {
	s3     *s3.Client
	bucket string
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
	h := &handler{s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), bucket: os.Getenv("RECEIPTS_BUCKET"),
		log: slog.New(sdk.SlogHandler(slog.NewJSONHandler(os.Stdout, nil), slog.LevelInfo))}
	lambda.Start(sdk.Wrap(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return ariadne.ProcessSQS(ctx, ev, h.reserve), nil
	}))
}

func (h *handler) reserve(ctx context.Context, m events.SQSMessage) error {
	var env events.SNSEntity
	if err := json.Unmarshal([]byte(m.Body), &env); err != nil {
		return fmt.Errorf("decode notification %s: %w", m.MessageId, err)
	}
	var o order.Order
	if err := json.Unmarshal([]byte(env.Message), &o); err != nil {
		return fmt.Errorf("decode order: %w", err)
	}
	units := 0
	for _, it := range o.Items {
		// A best-seller's stock row is hot: the first attempt loses the
		// row lock to another reservation.
		if strings.HasPrefix(it.SKU, "sku-hot") && m.Attributes["ApproximateReceiveCount"] == "1" {
			return fmt.Errorf("reserve %s for order %s: stock row locked by another reservation", it.SKU, o.OrderID)
		}
		units += it.Qty
	}
	body, err := json.Marshal(order.Receipt{OrderID: o.OrderID, Customer: o.Customer, Items: o.Items, Currency: o.Currency})
	if err != nil {
		return fmt.Errorf("encode receipt %s: %w", o.OrderID, err)
	}
	if _, err := h.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(h.bucket), Key: aws.String("receipts/" + o.OrderID + ".json"),
		Body: strings.NewReader(string(body)), ContentType: aws.String("application/json")}); err != nil {
		return fmt.Errorf("write receipt %s: %w", o.OrderID, err)
	}
	h.log.InfoContext(ctx, "stock reserved", "orderId", o.OrderID, "units", units)
	return nil
}
