// Command email sends receipts. It is the shop's one function WITHOUT
// Ariadne's SDK (plain aws-lambda-go): what Ariadne knows about it comes
// from the platform alone, through the Lambda extension. Customers of the
// old "legacy.example" domain have no template, and rendering one crashes
// the process from a background goroutine.
package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ariadnehq/ariadne/demo/shop/internal/order"
)

type template struct{ greeting string }

func templates() map[string]*template {
	return map[string]*template{"example.com": {"Thank you for your order"}, "example.org": {"Merci pour votre commande"}}
}

func main() {
	tpl := templates()
	lambda.Start(func(ctx context.Context, e order.Email) (string, error) {
		domain := e.To[strings.LastIndexByte(e.To, '@')+1:]
		var wg sync.WaitGroup
		var text string
		wg.Add(1)
		go func() { // rendering runs beside the SMTP dial in the real thing
			defer wg.Done()
			text = tpl[domain].greeting + ", " + e.OrderID // nil template: the process dies
		}()
		wg.Wait()
		fmt.Printf("sent %q to %s (%d lines)\n", text, e.To, e.Lines)
		return "sent", nil
	})
}
