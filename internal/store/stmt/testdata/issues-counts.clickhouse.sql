INSERT INTO ariadne.issue_counts (issue_id, bucket, count) VALUES ('a', 60000000000, 2), ('b\'', 120000000000, 1);
SELECT issue_id, CAST(sum(count) AS BIGINT) FROM ariadne.issue_counts WHERE bucket >= 60000000000 GROUP BY issue_id
