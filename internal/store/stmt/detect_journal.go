package stmt

// ClickHouse commits a detection window in steps that any node can finish
// (internal/store/clickhouse detect_journal.go): the window's occurrences
// go to detector_journal first, the compare-and-set of detector_state
// commits them, and folding them into issues is redone by whichever node
// finds them committed. These statements are ClickHouse only: DuckDB
// commits a window in one transaction.

// DetectorJournalColumns are the columns of a journal row. Its key is the
// commit's token, fresh for every attempt, so that attempts never
// overwrite each other.
const DetectorJournalColumns = "token, name, window_start, window_end, occurrences, committed_at"

// DetectorJournalValues are the values of DetectorJournalColumns: the
// window [from, to) of detector name, its occurrences (encoded by the
// engine) and the commit's clock reading.
func DetectorJournalValues(d Dialect, name, token string, from, to int64, occurrences string, now int64) string {
	return d.Str(token) + ", " + d.Str(name) + ", " + Int(from) + ", " + Int(to) + ", " +
		d.Str(occurrences) + ", " + Int(now)
}

// DetectorJournal reads detector name's journal rows as (token,
// window_start, window_end, occurrences, committed_at), oldest window
// first.
func DetectorJournal(d Dialect, name string) string {
	return "SELECT token, window_start, window_end, occurrences, committed_at FROM " + d.Table("detector_journal") +
		" WHERE name = " + d.Str(name) + " ORDER BY window_start, token"
}

// DeleteDetectorJournal deletes the journal row of commit token.
func DeleteDetectorJournal(d Dialect, token string) string {
	return "DELETE FROM " + d.Table("detector_journal") + " WHERE token = " + d.Str(token)
}
