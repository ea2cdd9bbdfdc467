package stmt

// The state several ClickHouse nodes share (issues, detector watermarks,
// alert rules and deliveries, contracts) lives in KeeperMap tables, and a
// row that nodes update concurrently changes by compare-and-set. These
// statements are that mechanism; only the ClickHouse engine runs them
// (DuckDB changes the same rows inside transactions), and they live here
// so that every statement text of the product is in one builder.

// KeeperInsertNew inserts one row into a KeeperMap table. Run with
// keeper_map_strict_mode = 1 it fails when the key exists, which is how a
// node learns that another one created the row first. ClickHouse only.
func KeeperInsertNew(d Dialect, table, cols, values string) string {
	return "INSERT INTO " + d.Table(table) + " (" + cols + ") VALUES (" + values + ")"
}

// KeeperRevsPush is the revs of a row after write rev: the last eight
// write ids, enough for a writer to find its own after a few others.
func KeeperRevsPush(d Dialect, rev string) string {
	return "arraySlice(arrayPushBack(revs, " + d.Str(rev) + "), -8)"
}

// KeeperCASUpdate applies set to the row keyCol = key if its rev is still
// old, recording write rev: rev = rev, revs = revsExpr (KeeperRevsPush,
// or the literal a writer computed from the row it read). In strict mode
// Keeper applies it atomically, a concurrent change fails it or makes it
// match nothing; KeeperCASWon then says whether it happened. ClickHouse
// only.
func KeeperCASUpdate(d Dialect, table, keyCol, key, old, set, rev, revsExpr string) string {
	return "ALTER TABLE " + d.Table(table) + " UPDATE " + set + ", rev = " + d.Str(rev) + ", revs = " + revsExpr +
		" WHERE " + keyCol + " = " + d.Str(key) + " AND rev = " + d.Str(old)
}

// KeeperCASWon reads whether write rev is among the last writes of the
// row keyCol = key (another writer may have changed the row again since,
// so its rev alone would not say). ClickHouse only.
func KeeperCASWon(d Dialect, table, keyCol, key, rev string) string {
	return "SELECT has(revs, " + d.Str(rev) + ") FROM " + d.Table(table) + " WHERE " + keyCol + " = " + d.Str(key)
}

// KeeperRevs is the literal of a revs array.
func KeeperRevs(d Dialect, revs []string) string {
	return "[" + d.Strs(revs) + "]"
}
