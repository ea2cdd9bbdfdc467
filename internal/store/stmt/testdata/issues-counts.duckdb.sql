INSERT INTO issue_counts (issue_id, bucket, count) VALUES ('a', 60000000000, 2), ('b''', 120000000000, 1) ON CONFLICT (issue_id, bucket) DO UPDATE SET count = issue_counts.count + excluded.count;
SELECT issue_id, CAST(sum(count) AS BIGINT) FROM issue_counts WHERE bucket >= 60000000000 GROUP BY issue_id
