SELECT request_id, "function", "start" FROM invocations WHERE request_id = 'req-%_\'''
