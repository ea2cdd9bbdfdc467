WITH m AS (
SELECT DISTINCT trace_id FROM trace_index WHERE span_count > 0
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
SELECT trace_id, ts, te - ts, n, errs, rs, rn FROM t WHERE n > 0
ORDER BY ts DESC, trace_id DESC LIMIT 21
