WITH m AS (
SELECT DISTINCT trace_id FROM spans WHERE start_time >= 1000 AND start_time < 1200 AND service = 'cart' AND ((list_contains(attr_values, 'v') AND attr_values[list_position(attr_keys, 'k')] = 'v') OR contains(resource_attributes, '["k","v",'))
UNION
SELECT DISTINCT trace_id FROM spans WHERE start_time >= 1500 AND start_time < 2000 AND service = 'cart' AND ((list_contains(attr_values, 'v') AND attr_values[list_position(attr_keys, 'k')] = 'v') OR contains(resource_attributes, '["k","v",'))
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
SELECT trace_id, ts, te - ts, n, errs, rs, rn FROM t WHERE n > 0 AND ts >= 1000
ORDER BY ts DESC, trace_id DESC LIMIT 21
