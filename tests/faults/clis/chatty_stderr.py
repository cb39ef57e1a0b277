"""A CLI that writes a line to stderr every 20 ms, from start to exit.

``python chatty_stderr.py``. It answers ``initialize``; at each user message it writes
``system/init``, one assistant message and a result. At the end of its stdin it goes on
writing to stderr for 0.3 s (finishing its work), then exits with 0; it exits with 9 as soon as
writing to stderr fails (a session that closed stderr under it).
"""

import json
import os
import sys
import threading
import time
from typing import Any

SID = "00000000-0000-4000-8000-000000000001"


def send(frame: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(frame) + "\n")
    sys.stdout.flush()


def chatter() -> None:
    i = 0
    while True:
        try:
            sys.stderr.write(f"chatter {i}\n")
            sys.stderr.flush()
        except OSError:
            os._exit(9)
        i += 1
        time.sleep(0.02)


threading.Thread(target=chatter, daemon=True).start()
for line in sys.stdin.buffer:
    frame = json.loads(line)
    if frame.get("type") == "control_request":
        response = {"commands": [], "agents": [], "models": [], "account": {}, "pid": os.getpid()}
        reply = {"subtype": "success", "request_id": frame["request_id"], "response": response}
        send({"type": "control_response", "response": reply})
    elif frame.get("type") == "user":
        send({"type": "system", "subtype": "init", "session_id": SID, "model": "m", "tools": []})
        text = {"type": "text", "text": "hi"}
        message = {"role": "assistant", "model": "m", "content": [text]}
        send({"type": "assistant", "message": message, "parent_tool_use_id": None})
        result = {"type": "result", "subtype": "success", "is_error": False, "result": "done"}
        send({**result, "duration_ms": 1, "duration_api_ms": 1, "num_turns": 1, "session_id": SID})
time.sleep(0.3)
sys.exit(0)
