WITH recent AS (
	SELECT attributes, resource_attributes FROM ariadne.spans
	WHERE start_time >= 1000 AND start_time < 2000 AND (mapContains(attributes, 'http.route') OR position(resource_attributes, '["http.route",') > 0)
	ORDER BY start_time DESC LIMIT 200000)
SELECT 0, v, count() FROM (SELECT arrayJoin(arrayFilter((v, k) -> k = 'http.route', mapValues(attributes), mapKeys(attributes))) AS v FROM recent)
WHERE startsWith(v, '/a') GROUP BY v
UNION ALL
SELECT 1, toString(resource_attributes), count() FROM recent WHERE position(resource_attributes, '["http.route",') > 0 GROUP BY resource_attributes
