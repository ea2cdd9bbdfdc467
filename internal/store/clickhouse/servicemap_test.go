package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup/rolluptest"
)

// TestCostMatchesPick holds the shared cost statement (stmt.Cost, one
// aggregate per field) equal on ClickHouse to the rule this engine ran
// before (a coalesce over one maxIf per source), on requests with several
// records from every source, values missing, zero and set.
func TestCostMatchesPick(t *testing.T) {
	e := openAt(nil)(t).(*Engine)
	defer e.Close()
	base := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC).UnixNano()
	b := rolluptest.Invocations(base)
	if err := e.Write(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	pick := func(col string, sources ...string) string {
		s := "coalesce("
		for _, src := range sources {
			s += fmt.Sprintf("nullIf(maxIf(%s, source = '%s' AND %s != 0), 0), ", col, src, col)
		}
		return s + fmt.Sprintf("nullIf(maxIf(%s, %s != 0), 0))", col, col)
	}
	fn := func(src string) string {
		return fmt.Sprintf("nullIf(maxIf(toString(function), source = '%s' AND function != ''), '')", src)
	}
	billed := "coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0"
	old := fmt.Sprintf(`WITH r AS (
	SELECT request_id,
		coalesce(%s, %s, %s, nullIf(max(toString(function)), '')) AS fn,
		%s AS billed,
		%s AS mem
	FROM %s GROUP BY request_id
)
SELECT coalesce(fn, '') AS f, count() AS n, countIf(%s), coalesce(sumIf(billed / 1e9 * mem / 1024.0, %s), 0) AS gbs, toFloat64(coalesce(sumIf(billed, %s), 0))
FROM r GROUP BY f ORDER BY gbs DESC, n DESC, f`,
		fn("sdk"), fn("sdk-start"), fn("telemetry"),
		pick("billed_duration", "telemetry", "logs", "sdk"),
		pick("memory_mb", "telemetry", "logs", "sdk", "sdk-start"),
		e.t("invocations"), billed, billed, billed)
	var want []store.CostRow
	err := e.each(t.Context(), old, func(scan func(...any) error) error {
		var (
			r             store.CostRow
			n, nb         uint64
			gbs, billedNs float64
		)
		if err := scan(&r.Function, &n, &nb, &gbs, &billedNs); err != nil {
			return err
		}
		r.Invocations, r.Billed, r.GBSeconds, r.BilledNs = int64(n), int64(nb), gbs, int64(billedNs)
		want = append(want, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := e.Cost(t.Context(), store.CostQuery{})
	if err != nil {
		t.Fatal(err)
	}
	rolluptest.CompareCost(t, got, want)
}
