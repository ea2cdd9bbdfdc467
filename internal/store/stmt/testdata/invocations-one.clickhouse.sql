SELECT DISTINCT request_id, "function", "start" FROM ariadne.invocations WHERE request_id = 'req-%_\\\''
