WITH recent AS (
	SELECT attributes, resource_attributes FROM ariadne.spans WHERE start_time >= 1000 AND start_time < 2000 ORDER BY start_time DESC LIMIT 20000)
SELECT 0, k, toUInt64(0) FROM (SELECT DISTINCT arrayJoin(mapKeys(attributes)) AS k FROM recent) WHERE startsWith(k, 'http.')
UNION ALL
SELECT 1, toString(resource_attributes), toUInt64(0) FROM recent WHERE resource_attributes != '' GROUP BY resource_attributes
