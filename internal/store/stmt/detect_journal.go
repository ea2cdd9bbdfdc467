package stmt

// ClickHouse commits a detection window in steps that any node can finish
// (internal/store/clickhouse detect_journal.go): the window's occurrences
// go to detector_journal first, the compare-and-set of detector_state
// commits them, and folding them into issues is redone by whichever node
// finds them committed. These statements are ClickHouse only: DuckDB
// commits a window in one transaction.

// DetectorJournalColumns are the columns of a journal row.
const DetectorJournalColumns = "key, name, token, window_start, window_end, occurrences, committed_at"

// DetectorJournalKey is the key of detector name's journal row written by
// commit token: one row per attempt, so that attempts never overwrite each
// other.
func DetectorJournalKey(name, token string) string { return name + "\x00" + token }

// DetectorJournalValues are the values of DetectorJournalColumns: the
// window [from, to) of detector name, its occurrences (encoded by the
// engine) and the commit's clock reading.
func DetectorJournalValues(d Dialect, name, token string, from, to int64, occurrences string, now int64) string {
	return d.Str(DetectorJournalKey(name, token)) + ", " + d.Str(name) + ", " + d.Str(token) + ", " + Int(from) + ", " + Int(to) + ", " +
		d.Str(occurrences) + ", " + Int(now)
}

// DetectorJournal reads detector name's journal rows as (token,
// window_start, window_end, occurrences, committed_at), oldest window
// first.
func DetectorJournal(d Dialect, name string) string {
	return "SELECT token, window_start, window_end, occurrences, committed_at FROM " + d.Table("detector_journal") +
		" WHERE name = " + d.Str(name) + " ORDER BY window_start, token"
}

// DeleteDetectorJournal deletes the journal row of detector name's commit
// token.
func DeleteDetectorJournal(d Dialect, name, token string) string {
	return "DELETE FROM " + d.Table("detector_journal") + " WHERE key = " + d.Str(DetectorJournalKey(name, token))
}
