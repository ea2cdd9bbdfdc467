// Command payment takes charge commands (orders) from the SQS queue
// "payments", asks the card processor for a risk
// score and charges the card. Its two flaws are the ordinary ones: the
// risk call has no timeout of its own (a slow processor runs the function
// into its Lambda timeout), and the charge is retried by SQS without an
// idempotency key (a charge whose answer came too late is made again).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ariadnehq/ariadne/demo/shop/internal/order"
	ariadne "github.com/ariadnehq/ariadne/sdk"
)

type handler struct {
	processor string
	risk      *http.Client // no timeout: the bug behind the demo's timeouts
	charge    *http.Client
	log       *slog.Logger
}

func main() {
	sdk, err := ariadne.New(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ariadne:", err)
	}
	tr := sdk.HTTPTransport(http.DefaultTransport)
	h := &handler{
		processor: os.Getenv("CARD_PROCESSOR_URL"),
		risk:      &http.Client{Transport: tr},
		charge:    &http.Client{Transport: tr, Timeout: time.Second},
		log:       slog.New(sdk.SlogHandler(slog.NewJSONHandler(os.Stdout, nil), slog.LevelInfo)),
	}
	lambda.Start(sdk.Wrap(h.handle))
}

// handle processes the batch (size 1 in the shop) and fails the whole
// batch on an error, so SQS delivers the message again.
func (h *handler) handle(ctx context.Context, ev events.SQSEvent) error {
	for _, m := range ev.Records {
		if err := h.pay(ariadne.MessageContext(ctx, m.MessageId), m); err != nil {
			h.log.ErrorContext(ctx, "payment failed", "messageId", m.MessageId, "receiveCount", m.Attributes["ApproximateReceiveCount"], "err", err)
			return err
		}
	}
	return nil
}

func (h *handler) pay(ctx context.Context, m events.SQSMessage) error {
	var o order.Order
	if err := json.Unmarshal([]byte(m.Body), &o); err != nil {
		return fmt.Errorf("decode order: %w", err)
	}
	var amount float64
	switch v := o.Amount.(type) {
	case nil:
		return fmt.Errorf("charge order %s: no amount in the order", o.OrderID)
	case float64:
		if v <= 0 {
			return fmt.Errorf("charge order %s: amount %.2f is not positive", o.OrderID, v)
		}
		amount = v
	default:
		return fmt.Errorf("charge order %s: amount %v is not a number", o.OrderID, v)
	}
	q := url.Values{"card": {o.Card}, "order": {o.OrderID}}
	// The risk call ignores the invocation's deadline (the bug): it waits
	// as long as the processor takes.
	rreq, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, h.processor+"/v1/risk?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("score order %s: %w", o.OrderID, err)
	}
	resp, err := h.risk.Do(rreq)
	if err != nil {
		return fmt.Errorf("score order %s: %w", o.OrderID, err)
	}
	_ = resp.Body.Close()

	body, _ := json.Marshal(map[string]any{"order": o.OrderID, "card": o.Card, "amount": amount, "currency": o.Currency})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.processor+"/v1/charges", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("charge order %s: %w", o.OrderID, err)
	}
	req.Header.Set("content-type", "application/json")
	resp, err = h.charge.Do(req)
	if err != nil {
		return fmt.Errorf("charge order %s: %w", o.OrderID, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("charge order %s: card processor answered %d: %w", o.OrderID, resp.StatusCode, errors.New(string(bytes.TrimSpace(msg))))
	}
	h.log.InfoContext(ctx, "payment captured", "orderId", o.OrderID, "amount", amount, "currency", o.Currency)
	return nil
}
