SELECT min("time"), max("time"), count(*) FROM message_refs
WHERE role = 1 AND "time" BETWEEN -85400000000000 AND 1063600000000 AND "key" IN (
	SELECT "key" FROM message_refs WHERE role = 2 AND "time" >= 1000000000000 AND "time" < 1003600000000 AND trace_id IN ('0af76519-16cd-43dd-8448-eb211c80319c'::UUID))
