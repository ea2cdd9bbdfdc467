package shop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
)

// Fault is a failure the traffic can provoke. Each one is an order (or a
// deploy) that makes a function fail for real: a slow call, a large
// allocation, a dying process, a message nobody can process.
type Fault string

// The faults, in the order the schedule injects them.
const (
	FaultTimeout   Fault = "timeout"   // payment: the card processor's risk check stalls past the Lambda timeout
	FaultOOM       Fault = "oom"       // receipt: a wholesale basket rendered line by line exceeds 128 MB
	FaultCrash     Fault = "crash"     // email (no SDK): a customer of a domain without template kills the process
	FaultRetry     Fault = "retry"     // payment: the processor answers 503 once; SQS delivers again and it succeeds
	FaultPoison    Fault = "poison"    // payment: a negative amount fails three receives and lands in payments-dlq
	FaultPartial   Fault = "partial"   // inventory: one message of a batch loses a row lock and is redelivered
	FaultDuplicate Fault = "duplicate" // payment: the charge answer comes after the client gave up; the retry charges again
	FaultDrift     Fault = "drift"     // checkout-api 2.0.0 is deployed, sends total instead of amount; payment breaks
	FaultColdStart Fault = "coldstart" // a burst of concurrent orders starts many new environments
)

// Faults lists every fault.
func Faults() []Fault {
	return []Fault{FaultTimeout, FaultOOM, FaultCrash, FaultRetry, FaultPoison, FaultPartial, FaultDuplicate, FaultDrift, FaultColdStart}
}

// Describe says what the fault does, for humans.
func (f Fault) Describe() string {
	switch f {
	case FaultTimeout:
		return "payment: the card processor's risk check stalls past the 3 s Lambda timeout"
	case FaultOOM:
		return "receipt: a wholesale basket (40 000 posters) rendered line by line exceeds 128 MB"
	case FaultCrash:
		return "email (no SDK): a legacy.example customer has no template; a goroutine panics"
	case FaultRetry:
		return "payment: the card processor answers 503 once; SQS redelivers and it succeeds"
	case FaultPoison:
		return "payment: a negative amount (a refund sent as an order) fails three receives and is dead-lettered to payments-dlq"
	case FaultPartial:
		return "inventory: one message of a batch loses a stock-row lock (batchItemFailures) and is redelivered"
	case FaultDuplicate:
		return "payment: the charge answers after the client's 1 s timeout; the redelivery charges the card again"
	case FaultDrift:
		return "checkout-api 2.0.0 renames amount to total for 10 s of orders; payment cannot charge them"
	case FaultColdStart:
		return "a burst of 12 concurrent orders starts new environments of every function"
	}
	return ""
}

// ParseFault reads one fault name.
func ParseFault(s string) (Fault, error) {
	f := Fault(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Faults(), f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown fault %q (want one of %s)", s, joinFaults(Faults()))
}

// ParseFaults reads a comma-separated list, "all" or "none".
func ParseFaults(s string) ([]Fault, error) {
	switch strings.TrimSpace(s) {
	case "all":
		return Faults(), nil
	case "none", "":
		return nil, nil
	}
	var out []Fault
	for part := range strings.SplitSeq(s, ",") {
		f, err := ParseFault(part)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

func joinFaults(fs []Fault) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// Limits of the generator: orders in flight (clean traffic waits when they
// are reached; a slow shop gets fewer orders, not an unbounded backlog).
const (
	maxInFlight  = 16
	maxFaulty    = 64 // fault orders in flight; on-demand injection beyond it is refused
	burstSize    = 12
	driftFor     = 10 * time.Second
	invokeBudget = 30 * time.Second
)

type product struct {
	sku   string
	price float64
}

func catalogue() []product {
	return []product{
		{"sku-espresso-beans", 14.5}, {"sku-grinder", 89}, {"sku-mug", 9.9}, {"sku-filter-papers", 4.2},
		{"sku-kettle", 49}, {"sku-scale", 29.9}, {"sku-tamper", 19}, {"sku-poster", 12},
	}
}

type invoker interface {
	Invoke(ctx context.Context, in lambda.InvokeInput) (*lambda.Result, error)
}

// traffic sends orders to checkout-api the way API Gateway would: one
// synchronous invocation per HTTP request.
type traffic struct {
	cloud    invoker
	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	inflight chan struct{}
	seq      atomic.Int64
	faulty   atomic.Int64 // fault orders in flight
	driftTil atomic.Int64 // unix ns until which checkout-api-v2 takes the traffic

	mu       sync.Mutex
	rng      *rand.Rand
	products []product
}

func startTraffic(cloud invoker, set Settings) *traffic {
	ctx, cancel := context.WithCancel(context.Background())
	t := &traffic{cloud: cloud, log: set.Logger, ctx: ctx, cancel: cancel, inflight: make(chan struct{}, maxInFlight),
		rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 42)), products: catalogue()}
	t.wg.Go(func() { t.clean(set.Rate) })
	if set.FirstFaults > 0 && len(set.Faults) > 0 {
		t.wg.Go(func() { t.schedule(set.Faults, set.FirstFaults, set.FaultEvery) })
	}
	return t
}

func (t *traffic) stop() {
	t.cancel()
	t.wg.Wait()
}

// clean sends ordinary orders at rate per second with some jitter.
func (t *traffic) clean(rate float64) {
	interval := time.Duration(float64(time.Second) / rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case t.inflight <- struct{}{}:
		case <-t.ctx.Done():
			return
		}
		o, fn := t.order(), "checkout-api"
		if time.Now().UnixNano() < t.driftTil.Load() {
			fn = "checkout-api-v2" // the new release takes the traffic
		}
		t.wg.Go(func() {
			defer func() { <-t.inflight }()
			t.send(fn, o)
		})
	}
}

// schedule injects every fault once after first, then one in turn every
// every.
func (t *traffic) schedule(faults []Fault, first, every time.Duration) {
	timer := time.NewTimer(first)
	defer timer.Stop()
	select {
	case <-t.ctx.Done():
		return
	case <-timer.C:
	}
	for _, f := range faults {
		_, _ = t.inject(t.ctx, f)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
			_, _ = t.inject(t.ctx, faults[i%len(faults)])
		}
	}
}

// inject sends the orders of one fault in the background and returns
// their ids.
func (t *traffic) inject(_ context.Context, f Fault) ([]string, error) {
	if t.ctx.Err() != nil {
		return nil, errors.New("inject fault: the shop is stopping")
	}
	t.log.Info("injecting fault", "fault", f, "what", f.Describe())
	var orders []map[string]any
	switch f {
	case FaultTimeout:
		o := t.order()
		o["card"] = cardSlowRisk
		orders = append(orders, o)
	case FaultRetry:
		o := t.order()
		o["card"] = cardBusy
		orders = append(orders, o)
	case FaultDuplicate:
		o := t.order()
		o["card"] = cardLagging
		orders = append(orders, o)
	case FaultPoison:
		o := t.order()
		o["amount"] = -o["amount"].(float64) // a client bug: a refund sent as an order
		orders = append(orders, o)
	case FaultOOM:
		o := t.order()
		o["items"] = []map[string]any{{"sku": "sku-poster", "qty": 40000, "price": 12.0}}
		o["amount"] = 480000.0
		orders = append(orders, o)
	case FaultCrash:
		o := t.order()
		o["customer"] = map[string]any{"id": "c-legacy-7", "email": "margaret@legacy.example"}
		orders = append(orders, o)
	case FaultPartial:
		hot := t.order()
		hot["items"] = []map[string]any{{"sku": "sku-hot-grinder", "qty": 1, "price": 89.0}}
		hot["amount"] = 89.0
		orders = append(orders, t.order(), hot, t.order())
	case FaultColdStart:
		for range burstSize {
			orders = append(orders, t.order())
		}
	case FaultDrift:
		t.driftTil.Store(time.Now().Add(driftFor).UnixNano())
		return nil, nil // the clean traffic carries the fault for driftFor
	default:
		return nil, fmt.Errorf("inject fault: unknown fault %q", f)
	}
	if t.faulty.Add(int64(len(orders))) > maxFaulty {
		t.faulty.Add(-int64(len(orders)))
		return nil, fmt.Errorf("inject fault %s: %d fault orders are still in flight", f, maxFaulty)
	}
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o["orderId"].(string)
		// Fault orders do not wait for a clean-traffic slot: a burst is
		// the point.
		t.wg.Go(func() {
			defer t.faulty.Add(-1)
			t.send("checkout-api", o)
		})
	}
	return ids, nil
}

// order is a plausible basket: one to four catalogue items.
func (t *traffic) order() map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.seq.Add(1)
	var items []map[string]any
	amount := 0.0
	for range 1 + t.rng.IntN(4) {
		c := t.products[t.rng.IntN(len(t.products))]
		qty := 1 + t.rng.IntN(3)
		items = append(items, map[string]any{"sku": c.sku, "qty": qty, "price": c.price})
		amount += float64(qty) * c.price
	}
	cust := 1 + t.rng.IntN(400)
	domain := []string{"example.com", "example.org"}[cust%2]
	return map[string]any{
		"orderId":  fmt.Sprintf("o-%d-%04d", time.Now().Unix()%100000, n),
		"customer": map[string]any{"id": fmt.Sprintf("c-%d", cust), "email": fmt.Sprintf("customer%d@%s", cust, domain)},
		"items":    items, "amount": float64(int(amount*100)) / 100, "currency": "EUR",
		"card": []string{"tok_visa", "tok_mastercard", "tok_amex"}[t.rng.IntN(3)],
	}
}

// send invokes fn (checkout-api or, during a drift, its 2.0.0
// deployment) with an API Gateway HTTP API event.
func (t *traffic) send(fn string, o map[string]any) {
	body, _ := json.Marshal(o)
	id := o["orderId"].(string)
	ev, _ := json.Marshal(map[string]any{
		"version": "2.0", "routeKey": "POST /orders", "rawPath": "/orders",
		"headers": map[string]string{"content-type": "application/json", "user-agent": "shop-web/3.2"},
		"requestContext": map[string]any{"http": map[string]string{"method": "POST", "path": "/orders", "sourceIp": "203.0.113.9"},
			"requestId": "req-" + id, "stage": "$default", "routeKey": "POST /orders"},
		"body": string(body), "isBase64Encoded": false,
	})
	ctx, cancel := context.WithTimeout(t.ctx, invokeBudget)
	defer cancel()
	res, err := t.cloud.Invoke(ctx, lambda.InvokeInput{Function: fn, Payload: ev})
	switch {
	case err != nil:
		if t.ctx.Err() == nil {
			t.log.Warn("send order", "order", id, "err", err)
		}
	case res.FunctionError != "":
		t.log.Warn("order failed", "order", id, "response", string(res.Payload))
	}
}
