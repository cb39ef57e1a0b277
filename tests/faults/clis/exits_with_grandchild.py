"""A CLI that exits mid-turn while a grandchild it started keeps its stdout open.

``python exits_with_grandchild.py CODE MODE PIDFILE``. It answers ``initialize``; at the first
user message it writes one assistant message, starts ``sleep 300`` (a background process a tool
left behind), which inherits its stdin, stdout and stderr, writes the grandchild's pid to
``PIDFILE``, and exits with ``CODE`` without writing a result. ``MODE`` is ``group`` (the
grandchild stays in the CLI's process group) or ``session`` (it gets a session of its own,
``setsid``, as the real CLI's ``Bash`` tools do). The pipe's write end stays open in the
grandchild, so the SDK never reads an end of file on stdout.
"""

import json
import os
import subprocess
import sys
from typing import Any

CODE = int(sys.argv[1])
MODE = sys.argv[2]
PIDFILE = sys.argv[3]


def send(frame: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(frame) + "\n")
    sys.stdout.flush()


for line in sys.stdin.buffer:
    frame = json.loads(line)
    kind = frame.get("type")
    if kind == "control_request" and frame["request"]["subtype"] == "initialize":
        response = {
            "commands": [],
            "agents": [],
            "models": [{"value": "claude-fake-1", "displayName": "Fake"}],
            "account": {},
            "output_style": "default",
            "available_output_styles": ["default"],
            "pid": os.getpid(),
            "current_permission_mode": "default",
        }
        reply = {"subtype": "success", "request_id": frame["request_id"], "response": response}
        send({"type": "control_response", "response": reply})
    elif kind == "user":
        text = {"type": "text", "text": "starting a background job"}
        message = {"role": "assistant", "model": "claude-fake-1", "content": [text]}
        send({"type": "assistant", "message": message, "parent_tool_use_id": None})
        grandchild = subprocess.Popen(["sleep", "300"], start_new_session=(MODE == "session"))
        with open(PIDFILE + ".tmp", "w") as f:
            f.write(str(grandchild.pid))
        os.rename(PIDFILE + ".tmp", PIDFILE)
        sys.stderr.write(f"exiting with {CODE}, grandchild {grandchild.pid} keeps stdout\n")
        sys.stderr.flush()
        os._exit(CODE)
