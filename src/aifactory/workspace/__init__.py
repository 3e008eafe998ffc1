"""Everything that touches git and processes: typed git calls, worktrees, bounded subprocesses."""
