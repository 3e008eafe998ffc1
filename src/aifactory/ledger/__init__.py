"""The ledger: a SQLite record of runs, attempts, steps, model calls, findings and verdicts."""
