"""A CLI whose JSON holds lone surrogates (a JavaScript string cut inside an emoji), and a
malformed ``transcript_mirror`` frame. It answers ``initialize`` with a command named so, asks
``can_use_tool`` for an input holding one, and ends each turn with a result whose text is the
answer it got. Used by the fault suite through ``ScriptTransport``."""

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

CUT = "cut \ud83d"  # json.dumps writes it as the escape the CLI would: "cut \\ud83d"
SESSION = "00000000-0000-4000-8000-0000000000e1"


def write(frame: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(frame) + "\n")
    sys.stdout.flush()


def frames() -> Iterator[Any]:
    for line in sys.stdin:
        yield json.loads(line)


incoming = frames()
for frame in incoming:
    if frame.get("type") == "control_request" and frame["request"]["subtype"] == "initialize":
        commands = [{"name": CUT, "description": "", "argumentHint": ""}]
        response = {"commands": commands, "models": [], "account": {}}
        write(
            {
                "type": "control_response",
                "response": {
                    "subtype": "success",
                    "request_id": frame["request_id"],
                    "response": response,
                },
            }
        )
    elif frame.get("type") == "user":
        write({"type": "transcript_mirror", "filePath": 5, "entries": [{"x": 1}]})
        projects = os.path.join(os.environ.get("CLAUDE_CONFIG_DIR", "/nonexistent"), "projects")
        path = os.path.join(projects, "p", SESSION + ".jsonl")
        write({"type": "transcript_mirror", "filePath": path, "entries": [{"text": CUT}]})
        request = {"subtype": "can_use_tool", "tool_name": "Write", "input": {"content": CUT}}
        write({"type": "control_request", "request_id": "perm-1", "request": request})
        answer = next(f for f in incoming if f.get("type") == "control_response")
        text = json.dumps(answer["response"].get("response"))
        write(
            {
                "type": "result",
                "subtype": "success",
                "is_error": False,
                "result": text,
                "session_id": SESSION,
            }
        )
