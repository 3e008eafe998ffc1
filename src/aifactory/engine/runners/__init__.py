"""Runners execute attempts: locally with asyncio now, on a cluster later."""
