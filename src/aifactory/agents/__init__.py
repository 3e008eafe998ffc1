"""Agents that carry out one step of a task list inside a worktree: the built-in one, later external CLIs."""
