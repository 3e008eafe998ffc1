"""The one facade: every front end (CLI now; MCP server and dashboard later) calls these modules.

`project` opens a repository, `setup` initialises it, `planning` and `running` drive the loop,
`inspect` reads the ledger, `branches` merges and cleans up, `lessons` records the
user's decisions about lessons.
"""
