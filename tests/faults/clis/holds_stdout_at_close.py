"""A CLI that, when its stdin closes, exits leaving a process that still holds its stdout.

``python holds_stdout_at_close.py PIDFILE``. It answers ``initialize``; at the end of its stdin
it starts ``sleep 300`` in a session of its own and without the SDK's process tag (nothing the
SDK does at the exit can find it), which inherits stdout, writes its pid to ``PIDFILE`` and exits
with 0. The SDK never reads an end of file on stdout: closing must not wait for one.
"""

import json
import os
import subprocess
import sys
from typing import Any

PIDFILE = sys.argv[1]


def send(frame: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(frame) + "\n")
    sys.stdout.flush()


for line in sys.stdin.buffer:
    frame = json.loads(line)
    if frame.get("type") == "control_request" and frame["request"]["subtype"] == "initialize":
        response = {"commands": [], "agents": [], "models": [], "account": {}, "pid": os.getpid()}
        reply = {"subtype": "success", "request_id": frame["request_id"], "response": response}
        send({"type": "control_response", "response": reply})

env = {k: v for k, v in os.environ.items() if k != "TRIO_CLAUDE_PROCESS_TAG"}
holder = subprocess.Popen(["sleep", "300"], start_new_session=True, env=env)
with open(PIDFILE + ".tmp", "w") as f:
    f.write(str(holder.pid))
os.rename(PIDFILE + ".tmp", PIDFILE)
os._exit(0)
