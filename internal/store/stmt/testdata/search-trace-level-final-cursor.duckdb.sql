WITH m AS (
SELECT DISTINCT trace_id FROM trace_index WHERE span_count > 0 AND span_start < 2000 AND span_end >= 1000
), t AS (
SELECT trace_id,
	min(span_start) FILTER (WHERE span_count > 0) AS ts,
	max(span_end) FILTER (WHERE span_count > 0) AS te,
	sum(span_count) AS n,
	sum(error_count) AS errs,
	arg_min(root_service, (NOT has_root, span_start)) FILTER (WHERE span_count > 0) AS rs,
	arg_min(root_name, (NOT has_root, span_start)) FILTER (WHERE span_count > 0) AS rn
FROM trace_index WHERE trace_id IN (SELECT trace_id FROM m)
GROUP BY trace_id
)
SELECT trace_id, ts, te - ts, n, errs, rs, rn FROM t WHERE n > 0 AND errs > 0 AND te - ts >= 10 AND te - ts <= 20 AND (ts < 1500 OR (ts = 1500 AND trace_id < '0af76519-16cd-43dd-8448-eb211c80319c'::UUID))
ORDER BY ts DESC, trace_id DESC LIMIT 21
