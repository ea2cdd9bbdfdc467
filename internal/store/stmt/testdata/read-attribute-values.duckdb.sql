WITH recent AS (
	SELECT attr_keys, attr_values, resource_attributes FROM spans
	WHERE start_time >= 1000 AND start_time < 2000 AND (list_contains(attr_keys, 'http.route') OR contains(resource_attributes, '["http.route",')))
SELECT 0, v, count(*) FROM (SELECT unnest(attr_keys) AS k, unnest(attr_values) AS v FROM recent)
WHERE k = 'http.route' AND starts_with(v, '/a') GROUP BY v
UNION ALL
SELECT 1, resource_attributes, count(*) FROM recent WHERE contains(resource_attributes, '["http.route",') GROUP BY resource_attributes
