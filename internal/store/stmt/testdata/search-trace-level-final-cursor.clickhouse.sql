WITH m AS (
SELECT DISTINCT trace_id FROM ariadne.trace_index WHERE span_count > 0 AND span_start < 2000 AND span_end >= 1000
), t AS (
SELECT trace_id,
	minIf(span_start, span_count > 0) AS ts,
	maxIf(span_end, span_count > 0) AS te,
	sum(span_count) AS n,
	sum(error_count) AS errs,
	argMinIf(root_service, (NOT has_root, span_start), span_count > 0) AS rs,
	argMinIf(root_name, (NOT has_root, span_start), span_count > 0) AS rn
FROM ariadne.trace_index WHERE trace_id IN (SELECT trace_id FROM m)
GROUP BY trace_id
)
SELECT trace_id, ts, te - ts, n, errs, toString(rs), toString(rn) FROM t WHERE n > 0 AND errs > 0 AND te - ts >= 10 AND te - ts <= 20 AND (ts < 1500 OR (ts = 1500 AND trace_id < unhex('0af7651916cd43dd8448eb211c80319c')))
ORDER BY ts DESC, trace_id DESC LIMIT 21
