SELECT min("time"), max("time"), count(*) FROM ariadne.message_refs
WHERE role = 1 AND "time" BETWEEN -85400000000000 AND 1063600000000 AND "key" IN (
	SELECT "key" FROM ariadne.message_refs WHERE role = 2 AND "time" >= 1000000000000 AND "time" < 1003600000000 AND trace_id IN (unhex('0af7651916cd43dd8448eb211c80319c')))
