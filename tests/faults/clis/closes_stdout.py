"""A misbehaving CLI: answers ``initialize``, then at the first user message closes its stdout
and keeps running (until signalled). Used by the fault suite through ``ScriptTransport``."""

import json
import os
import sys
import time

for line in sys.stdin.buffer:
    frame = json.loads(line)
    if frame.get("type") == "control_request" and frame["request"]["subtype"] == "initialize":
        reply = {
            "type": "control_response",
            "response": {"subtype": "success", "request_id": frame["request_id"], "response": {}},
        }
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    elif frame.get("type") == "user":
        sys.stderr.write("closing stdout now\n")
        sys.stderr.flush()
        os.close(1)
        time.sleep(120)
