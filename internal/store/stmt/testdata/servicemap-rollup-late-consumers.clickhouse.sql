SELECT DISTINCT (intDiv("time", 60000000000) * 60000000000) FROM ariadne.message_refs
WHERE role = 2 AND "time" >= 1000020000000 AND "time" < 1003600000000 AND "key" IN (
	SELECT "key" FROM ariadne.message_refs WHERE role = 1 AND (intDiv("time", 60000000000) * 60000000000) IN (1000020000000,1000260000000))
