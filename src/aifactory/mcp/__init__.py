"""The MCP front end: the factory's tools and resources for Claude Code and other MCP clients."""
