"""Intake state changes.  Each checks permission through ``labqms.permissions``, checks
its invariants, runs in one transaction and records what happened (audit events,
custody events, notices)."""
