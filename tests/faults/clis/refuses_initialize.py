"""A misbehaving CLI: answers ``initialize`` with an error reply (with an API key in its text)
and waits for stdin to close. Used by the fault suite through ``ScriptTransport``."""

import json
import sys

for line in sys.stdin.buffer:
    frame = json.loads(line)
    if frame.get("type") == "control_request" and frame["request"]["subtype"] == "initialize":
        reply = {
            "type": "control_response",
            "response": {
                "subtype": "error",
                "request_id": frame["request_id"],
                "error": "bad settings for key sk-ant-api03-" + "x" * 40,
                "error_code": "invalid_settings",
            },
        }
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
