-- The journal of detection commits: a window's occurrences, written before
-- the compare-and-set of detector_state that commits the window (whose rev
-- is then the row's token) and deleted once they are folded into issues and
-- issue_counts. Any node finding a committed row folds it again, which is
-- idempotent (issue rows remember the last window of each detector folded
-- in), so a node dying between the commit and the fold loses nothing and
-- counts nothing twice. A row whose window was never committed is deleted
-- once the watermark has moved past its start. Key: the attempt's token.
CREATE TABLE IF NOT EXISTS {{table "detector_journal"}}{{onCluster}}
(
    token               String,
    name                String,
    window_start        Int64,
    window_end          Int64,
    occurrences         String,
    committed_at        Int64
)
ENGINE = KeeperMap({{keeperPath "detector_journal"}})
PRIMARY KEY token;
