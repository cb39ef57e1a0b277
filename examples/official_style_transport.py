"""An official-style transport: code written for the official SDK's ``Transport`` runs as is.

The official SDK's custom transports implement ``connect``, ``write``, ``read_messages``,
``close``, ``is_ready`` and ``end_input`` (a remote CLI over some channel, say). Such a class,
subclassing ``trio_claude.Transport``, is accepted by ``query(transport=...)`` and
``ClaudeSDKClient(options, transport=...)``. This one runs trio-claude's fake CLI as a local
subprocess, so the example runs offline: ``python examples/official_style_transport.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import trio

import trio_claude as tc
from trio_claude.testing.fake_cli import FakeScript, FakeTurn, Request, Result, Text


class PipeTransport(tc.Transport):
    """Speaks NDJSON to a CLI process over its pipes, through the official interface."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self._proc: trio.Process | None = None

    async def connect(self) -> None:
        self._proc = await trio.lowlevel.open_process(self.command, stdin=-1, stdout=-1)

    async def write(self, data: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        await self._proc.stdin.send_all(data.encode())

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        assert self._proc is not None and self._proc.stdout is not None
        buffer = b""
        async for chunk in self._proc.stdout:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    yield json.loads(line)

    async def end_input(self) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        await self._proc.stdin.aclose()

    async def close(self) -> None:
        # The SDK gives up on close() after 5 s, and does not call end_input() first when the
        # run is cancelled or read_messages() fails. So, as the official SDK's transport does:
        # close stdin here (a no-op if end_input() did), give the CLI 2 s to exit, then kill
        # it and reap it.
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            await proc.stdin.aclose()
        with trio.move_on_after(2):
            await proc.wait()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    def is_ready(self) -> bool:
        return self._proc is not None


async def allow(tool: str, input: dict[str, Any], context: tc.ToolPermissionContext) -> Any:
    print("allowed:", tool)
    return tc.PermissionResultAllow()


async def main() -> None:
    ask = Request("can_use_tool", {"tool_name": "Bash", "input": {"command": "ls"}})
    script = FakeScript(turns=[FakeTurn(steps=[ask, Text("listed"), Result(text="listed")])])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.json"
        path.write_bytes(script.to_json())
        command = [sys.executable, "-m", "trio_claude.testing.fake_cli", "--script", str(path)]
        options = tc.ClaudeAgentOptions(can_use_tool=allow)

        async def prompt() -> AsyncIterator[dict[str, Any]]:
            yield {"type": "user", "message": {"role": "user", "content": "list the files"}}

        # The official form, unchanged after the rename (the callback needs streamed input).
        async for message in tc.query(
            prompt=prompt(), options=options, transport=PipeTransport(command)
        ):
            if isinstance(message, tc.ResultMessage):
                print("result:", message.subtype, repr(message.result))


if __name__ == "__main__":
    trio.run(main)
