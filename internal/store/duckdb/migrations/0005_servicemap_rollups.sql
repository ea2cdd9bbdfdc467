-- Placeholder: version 5 belongs to the service-map rollups of branch
-- wt-map, which carries the real file under this same name. When both
-- branches are merged, keep that branch's file (0006 builds on it).
SELECT 1;
