"""`python -m aifactory.testing.mcp_server`: a tiny MCP server for testing the factory's MCP client.

Shipped beside the simulated model so a user can try `[mcp_servers.NAME]` offline. Its tools are
deterministic: `lookup(term)` answers from a fixed glossary, `add(a, b)` has typed arguments (a
call with a string for an integer gets the SDK's validation error), `whereami()` says the working
directory and whether a secret reached the environment, and `crash()` exits the process mid-call.

    python -m aifactory.testing.mcp_server                 # stdio
    python -m aifactory.testing.mcp_server --http 0        # streamable HTTP on 127.0.0.1, port printed
    python -m aifactory.testing.mcp_server --fail-start    # writes to stderr and exits before serving
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from mcp.server import MCPServer

GLOSSARY = {
    "factory": "a factory turns an ask into verified commits",
    "ledger": "the ledger records every run, attempt and tool call",
}
UNKNOWN = "no entry"


def build() -> MCPServer:
    """The server and its four tools."""
    server = MCPServer("aifactory-test-tools")

    @server.tool()
    def lookup(term: str) -> str:
        """Look a term up in the team's glossary."""
        return GLOSSARY.get(term.strip().lower(), UNKNOWN)

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def whereami() -> str:
        """The server's working directory, and which secret-looking variables it was given."""
        secrets = sorted(name for name in os.environ if name.endswith(("_KEY", "_TOKEN")))
        return f"cwd={Path.cwd()} secrets={','.join(secrets) or 'none'}"

    @server.tool()
    def crash() -> str:
        """Exit the server process at once, as a server that dies mid-call does."""
        sys.stderr.write("test server: crashing on purpose\n")
        sys.stderr.flush()
        os._exit(3)

    return server


def free_port() -> int:
    """A port nobody listens on now, for a server started in another process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aifactory.testing.mcp_server", description=__doc__)
    parser.add_argument("--http", type=int, default=None, help="serve streamable HTTP on this port")
    parser.add_argument("--fail-start", action="store_true", help="exit with an error before serving")
    args = parser.parse_args(argv)
    if args.fail_start:
        sys.stderr.write("test server: cannot open the glossary database\n")
        sys.exit(1)
    server = build()
    if args.http is None:
        server.run()
        return
    port = args.http or free_port()
    print(f"http://127.0.0.1:{port}/mcp", flush=True)
    server.run("streamable-http", host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
