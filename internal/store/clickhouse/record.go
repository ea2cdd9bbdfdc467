package clickhouse

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// recConn passes every statement to rec before running it: the golden
// tests of the generated SQL record them.
type recConn struct {
	driver.Conn
	rec func(stmt string)
}

func (c *recConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	c.rec(query)
	return c.Conn.Query(ctx, query, args...)
}

func (c *recConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	c.rec(query)
	return c.Conn.QueryRow(ctx, query, args...)
}

func (c *recConn) Exec(ctx context.Context, query string, args ...any) error {
	c.rec(query)
	return c.Conn.Exec(ctx, query, args...)
}

func (c *recConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := c.Conn.PrepareBatch(ctx, query, opts...)
	if err != nil {
		c.rec(query)
		return nil, err
	}
	return &recBatch{Batch: b, query: query, rec: c.rec}, nil
}

type recBatch struct {
	driver.Batch
	query string
	rec   func(string)
}

func (b *recBatch) Send() error {
	b.rec(fmt.Sprintf("%s FORMAT Native -- %d rows", b.query, b.Batch.Rows()))
	return b.Batch.Send()
}
