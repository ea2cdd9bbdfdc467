// Package order is the shop's message contract and the AWS client setup
// its functions share. It owns nothing at run time; functions must not
// keep state here.
package order

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Order is what checkout-api publishes on the topic "orders" (schema v1).
// Amount is raw because clients send it as they please; consumers decide
// what they accept.
type Order struct {
	OrderID  string   `json:"orderId"`
	Customer Customer `json:"customer"`
	Items    []Item   `json:"items"`
	Amount   any      `json:"amount,omitempty"`
	Total    any      `json:"total,omitempty"` // schema v2's name for Amount
	Currency string   `json:"currency"`
	Card     string   `json:"card"`
	PlacedAt string   `json:"placedAt,omitempty"`
}

// Customer is who ordered.
type Customer struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// Item is one line of the basket.
type Item struct {
	SKU   string  `json:"sku"`
	Qty   int     `json:"qty"`
	Price float64 `json:"price"`
}

// Receipt is what inventory writes to the bucket "receipts".
type Receipt struct {
	OrderID  string   `json:"orderId"`
	Customer Customer `json:"customer"`
	Items    []Item   `json:"items"`
	Currency string   `json:"currency"`
}

// Email is the asynchronous request receipt sends to email.
type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	OrderID string `json:"orderId"`
	Lines   int    `json:"lines"`
}

// AWSConfig loads the default configuration: the local cloud sets
// AWS_ENDPOINT_URL_* and test credentials in every function's environment.
func AWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}
