WITH m AS (
SELECT DISTINCT trace_id FROM ariadne.spans WHERE start_time >= 1000 AND start_time < 2000 AND service = 'it\'s' AND (positionCaseInsensitiveUTF8(name, 'a\\b"c/é') > 0 OR (positionCaseInsensitiveUTF8(status_message, 'a\\b"c/é') > 0 OR positionCaseInsensitiveUTF8(error_message, 'a\\b"c/é') > 0 OR positionCaseInsensitiveUTF8(request_payload, 'a\\b"c/é') > 0 OR positionCaseInsensitiveUTF8(response_payload, 'a\\b"c/é') > 0) OR trace_id IN (SELECT trace_id FROM ariadne.logs WHERE "time" >= 1000 AND "time" < 2000 AND positionCaseInsensitiveUTF8(body, 'a\\b"c/é') > 0))
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
SELECT trace_id, ts, te - ts, n, errs, toString(rs), toString(rn) FROM t WHERE n > 0 AND ts >= 1000
ORDER BY ts DESC, trace_id DESC LIMIT 21
