"""A CLI that starts a tool the way the real CLI runs a ``Bash`` command, then misbehaves.

``python tool_tree.py [--stubborn]``. It answers ``initialize``; at the first user message it
starts a *tool*: a child in a session of its own (``setsid``, as the real CLI does), which starts
two grandchildren and sleeps:

- ``own_group``: in a process group of its own (as ``bash`` puts a job), so signalling the
  tool's group does not reach it; it inherits the environment;
- ``untagged``: in the tool's group, with the environment minus ``TRIO_CLAUDE_PROCESS_TAG`` (a
  program that rebuilds its children's environment), so only the process tree and the process
  groups lead to it.

Once all three run, it reports their pids in a ``{"type": "system", "subtype": "tool_tree"}``
frame and never ends the turn. None of them is its child once it dies: they are reparented to
init, as a real CLI's tools are when it is SIGKILLed.

At the end of stdin it exits 0 at once, leaving the tool running. With ``--stubborn`` it ignores
both the end of stdin and SIGTERM, so only SIGKILL stops it, and it also starts a fourth
process, reported last: ``untagged_child``, its own child in a session of its own without the
tag, which only the process tree leads to, and only while the CLI lives.
"""

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

STUBBORN = "--stubborn" in sys.argv[1:]
TAG_VARIABLE = "TRIO_CLAUDE_PROCESS_TAG"

TOOL = f"""
import os, subprocess, sys
sleep = [sys.executable, "-c", "import time; time.sleep(300)"]
own_group = subprocess.Popen(sleep, preexec_fn=os.setpgrp)
env = {{k: v for k, v in os.environ.items() if k != {TAG_VARIABLE!r}}}
untagged = subprocess.Popen(sleep, env=env)
print(os.getpid(), own_group.pid, untagged.pid, flush=True)
own_group.wait()
"""


def send(frame: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(frame) + "\n")
    sys.stdout.flush()


def start_tool() -> None:
    tool = subprocess.Popen(
        [sys.executable, "-c", TOOL], start_new_session=True, stdout=subprocess.PIPE, text=True
    )
    assert tool.stdout is not None
    pids = [int(word) for word in tool.stdout.readline().split()]
    if STUBBORN:
        env = {k: v for k, v in os.environ.items() if k != TAG_VARIABLE}
        sleep = [sys.executable, "-c", "import time; time.sleep(300)"]
        pids.append(subprocess.Popen(sleep, env=env, start_new_session=True).pid)
    send({"type": "system", "subtype": "tool_tree", "pids": pids})


if STUBBORN:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
for line in sys.stdin.buffer:
    frame = json.loads(line)
    kind = frame.get("type")
    if kind == "control_request" and frame["request"]["subtype"] == "initialize":
        reply = {"subtype": "success", "request_id": frame["request_id"], "response": {}}
        send({"type": "control_response", "response": reply})
    elif kind == "user":
        start_tool()
while STUBBORN:
    time.sleep(60)
