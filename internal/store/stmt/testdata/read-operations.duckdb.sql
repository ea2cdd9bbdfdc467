SELECT DISTINCT name FROM spans WHERE start_time >= 1000 AND start_time < 2000 AND name <> '' AND service = 'cart' ORDER BY name;
SELECT DISTINCT name FROM spans WHERE start_time >= 1000 AND name <> '' ORDER BY name
