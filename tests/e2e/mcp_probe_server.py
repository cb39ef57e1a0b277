"""A minimal stdio MCP server for end-to-end tests (run as a script by the CLI).

It has one tool, ``env_report``, which answers with a short SHA-256 digest of each of its
``PROBE_*`` environment variables: a test can tell that a secret reached the server without the
secret itself ever appearing in a tool result, a transcript or a log.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any


def digest(value: str) -> str:
    """The first 12 hex digits of the SHA-256 of ``value`` (what ``env_report`` reports)."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def _send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    """Serves MCP over stdin/stdout until stdin ends."""
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        method, msg_id = message.get("method"), message.get("id")
        if msg_id is None:
            continue  # a notification
        if method == "initialize":
            result: dict[str, Any] = {
                "protocolVersion": message["params"].get("protocolVersion", "2025-06-18"),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "probe", "version": "1"},
            }
        elif method == "tools/list":
            schema = {"type": "object", "properties": {}}
            result = {
                "tools": [{"name": "env_report", "description": "env", "inputSchema": schema}]
            }
        elif method == "tools/call":
            report = {k: digest(v) for k, v in os.environ.items() if k.startswith("PROBE_")}
            result = {"content": [{"type": "text", "text": json.dumps(report, sort_keys=True)}]}
        else:
            _send({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32601, "message": method}})
            continue
        _send({"jsonrpc": "2.0", "id": msg_id, "result": result})


if __name__ == "__main__":
    main()
