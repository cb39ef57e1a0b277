"""A stdio MCP server for the control-request end-to-end tests (run as a script by the CLI).

Tools: ``echo`` (its ``text`` back, also as structured content), ``fail`` (an ``isError``
result) and ``slow`` (answers after ``seconds``, in a thread of its own). Resources: one MCP Apps
UI resource, :data:`WIDGET_URI`. Every notification the client sends (``notifications/cancelled``
when the CLI aborts a call, say) is appended as a JSON line to the file named by
``CONTROL_MCP_LOG``, if set; so is ``{"started": "slow", "id": ...}`` when a ``slow`` call
starts (a test then knows the call is in flight).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

WIDGET_URI = "ui://control/widget.html"
WIDGET_HTML = "<!doctype html><p>widget</p>"
MIME = "text/html;profile=mcp-app"
_lock = threading.Lock()


def _send(message: dict[str, Any]) -> None:
    with _lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def _log(message: dict[str, Any]) -> None:
    path = os.environ.get("CONTROL_MCP_LOG")
    if path:
        with _lock, open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(message) + "\n")


def _call(msg_id: Any, params: dict[str, Any]) -> None:
    name, args = params.get("name"), params.get("arguments") or {}
    if name == "echo":
        text = str(args.get("text", ""))
        result: dict[str, Any] = {
            "content": [{"type": "text", "text": text}],
            "structuredContent": {"echo": text},
        }
    elif name == "fail":
        result = {"content": [{"type": "text", "text": "it failed"}], "isError": True}
    elif name == "slow":
        _log({"started": "slow", "id": msg_id})
        time.sleep(float(args.get("seconds", 30)))
        result = {"content": [{"type": "text", "text": "slept"}]}
    else:
        _send({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32602, "message": f"no {name}"}})
        return
    _send({"jsonrpc": "2.0", "id": msg_id, "result": result})


def main() -> None:
    """Serves MCP over stdin/stdout until stdin ends."""
    schema = {"type": "object", "properties": {}}
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        method, msg_id = message.get("method"), message.get("id")
        if msg_id is None:
            _log(message)  # a notification
            continue
        if method == "initialize":
            result: dict[str, Any] = {
                "protocolVersion": message["params"].get("protocolVersion", "2025-06-18"),
                "capabilities": {"tools": {}, "resources": {}},
                "serverInfo": {"name": "control", "version": "1"},
            }
        elif method == "tools/list":
            names = ("echo", "fail", "slow")
            result = {
                "tools": [{"name": n, "description": n, "inputSchema": schema} for n in names]
            }
        elif method == "tools/call":
            thread = threading.Thread(target=_call, args=(msg_id, message.get("params") or {}))
            thread.daemon = True
            thread.start()
            continue
        elif method == "resources/list":
            result = {"resources": [{"uri": WIDGET_URI, "name": "widget", "mimeType": MIME}]}
        elif method == "resources/read":
            uri = (message.get("params") or {}).get("uri")
            result = {"contents": [{"uri": uri, "mimeType": MIME, "text": WIDGET_HTML}]}
        else:
            _send({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32601, "message": method}})
            continue
        _send({"jsonrpc": "2.0", "id": msg_id, "result": result})


if __name__ == "__main__":
    main()
