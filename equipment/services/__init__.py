"""Equipment state changes: each checks ``labqms.permissions``, validates, runs in one
transaction and writes an audit event with old → new values (R-EQP-9)."""
