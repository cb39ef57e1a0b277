"""A CLI that hogs a resource, for ``resource_limits``. Used through a SubprocessTransport subclass.

``python hog.py MODE [MiB]``. It answers ``initialize`` (after hogging, for ``memory-at-start``)
and then, at the first user message, starts hogging and never answers anything else (so the
turn and any control request stay pending). Modes:

- ``memory-self MiB``: this process fills ``MiB`` of memory, 8 MiB at a time.
- ``memory-tool MiB``: a child in a session of its own (as the real CLI runs a ``Bash`` tool)
  fills ``MiB``; its own child (a grandchild) sleeps, to show the whole tree is killed.
- ``memory-at-start MiB``: fills ``MiB`` before answering ``initialize``.
- ``cpu-tool``: a child in a session of its own spins the CPU.
- ``files``: reports its ``RLIMIT_NOFILE`` on stderr, then opens files until it fails and dies.
- ``idle``: answers every turn with a result (``ok``) and hogs nothing.
"""

import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

MODE = sys.argv[1]
MIB = int(sys.argv[2]) if len(sys.argv) > 2 else 0
hoard: list[bytes] = []


def fill(mib: int) -> None:
    for _ in range(0, mib, 8):
        hoard.append(b"x" * (8 << 20))  # written, so resident
        time.sleep(0.01)


def send(frame: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(frame) + "\n")
    sys.stdout.flush()


def child(code: str) -> None:
    subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


SPIN = "while True: pass"
GROW = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    f"hoard = [b'x' * (8 << 20) for _ in range({MIB} // 8)]\n"
    "time.sleep(120)\n"
)

if MODE == "memory-at-start":
    fill(MIB)
for line in sys.stdin.buffer:
    frame = json.loads(line)
    kind = frame.get("type")
    if kind == "control_request" and frame["request"]["subtype"] == "initialize":
        reply = {"subtype": "success", "request_id": frame["request_id"], "response": {}}
        send({"type": "control_response", "response": reply})
    elif kind == "user":
        if MODE == "idle":
            send(
                {
                    "type": "result",
                    "subtype": "success",
                    "is_error": False,
                    "result": "ok",
                    "session_id": "s",
                    "num_turns": 1,
                    "duration_ms": 1,
                    "duration_api_ms": 1,
                }
            )
        elif MODE == "memory-self":
            fill(MIB)
        elif MODE == "memory-tool":
            child(GROW)
        elif MODE == "cpu-tool":
            child(SPIN)
        elif MODE == "files":
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            sys.stderr.write(f"nofile {soft} {hard}\n")
            sys.stderr.flush()
            files = [open(os.devnull) for _ in range(hard + 1)]  # noqa: SIM115
