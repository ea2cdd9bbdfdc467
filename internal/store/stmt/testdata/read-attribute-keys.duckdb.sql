WITH recent AS (
	SELECT attr_keys, resource_attributes FROM spans WHERE start_time >= 1000 AND start_time < 2000)
SELECT 0, k, 0 FROM (SELECT DISTINCT unnest(attr_keys) AS k FROM recent) WHERE starts_with(k, 'http.')
UNION ALL
SELECT 1, resource_attributes, 0 FROM recent WHERE resource_attributes <> '' GROUP BY resource_attributes
