"""Official-style transports (``connect``/``write``/``read_messages``/``close``/``is_ready``/
``end_input``, the official SDK's ``Transport`` ABC) driving ``query()`` in both forms and
``ClaudeSDKClient``: canned dicts, the fake CLI as a real subprocess, failures, cancellation."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Text,
    WaitForInterrupt,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "official_style_transport.py"
SID = "00000000-0000-4000-8000-00000000abcd"


def _assistant(text: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {
            "role": "assistant",
            "model": "claude-canned",
            "content": [{"type": "text", "text": text}],
        },
        "parent_tool_use_id": None,
        "session_id": SID,
    }


def _result(text: str) -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
        "session_id": SID,
        "total_cost_usd": 0.0,
        "result": text,
    }


class Canned(tc.Transport):
    """A test double as official tests write them: canned dicts answering what is written."""

    def __init__(self, *, hang_turn: bool = False, fail_read: bool = False) -> None:
        self.written: list[str] = []
        self.calls: list[str] = []
        self.hang_turn = hang_turn
        self.fail_read = fail_read
        self._send, self._recv = trio.open_memory_channel[dict[str, Any]](100)

    async def connect(self) -> None:
        self.calls.append("connect")
        await trio.lowlevel.checkpoint()

    async def write(self, data: str) -> None:
        self.written.append(data)
        frame = json.loads(data)
        if frame["type"] == "control_request":
            self.calls.append(frame["request"]["subtype"])
            response = {"subtype": "success", "request_id": frame["request_id"], "response": {}}
            await self._send.send({"type": "control_response", "response": response})
        elif frame["type"] == "user":
            await self._send.send({"type": "system", "subtype": "init", "session_id": SID})
            if self.fail_read:
                await self._send.send({"type": "boom"})
                return
            await self._send.send(_assistant("canned answer"))
            if not self.hang_turn:
                await self._send.send(_result("canned answer"))

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        async for message in self._recv:
            if message["type"] == "boom":
                raise ConnectionError("the remote end went away")
            yield message

    async def close(self) -> None:
        self.calls.append("close")
        await self._send.aclose()

    def is_ready(self) -> bool:
        return True

    async def end_input(self) -> None:
        self.calls.append("end_input")
        await self._send.aclose()


def _frames(transport: Canned) -> list[dict[str, Any]]:
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in transport.written)
    return [json.loads(line) for line in transport.written]


def _check_written_like_the_official_sdk(transport: Canned, prompt: str) -> None:
    frames = _frames(transport)
    first = frames[0]
    assert first["type"] == "control_request" and first["request"]["subtype"] == "initialize"
    assert isinstance(first["request_id"], str)
    user = [f for f in frames if f["type"] == "user"]
    assert len(user) == 1
    assert user[0]["message"] == {"role": "user", "content": prompt}
    # (the official query() sends session_id "", its client "default": the CLI ignores it)
    assert user[0]["parent_tool_use_id"] is None and isinstance(user[0]["session_id"], str)


def _tasks() -> list[trio.lowlevel.Task]:
    found: list[trio.lowlevel.Task] = []

    def walk(task: trio.lowlevel.Task) -> None:
        found.append(task)
        for nursery in task.child_nurseries:
            for child in nursery.child_tasks:
                walk(child)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    walk(root)
    return found


# ---------------------------------------------------------------------- canned dicts


async def test_query_iterator_form_with_canned_dicts() -> None:
    transport = Canned()
    messages = [m async for m in tc.query(prompt="hello", transport=transport)]
    assert [type(m).__name__ for m in messages][-2:] == ["AssistantMessage", "ResultMessage"]
    assert isinstance(messages[0], tc.SystemMessage) and messages[0].subtype == "init"
    _check_written_like_the_official_sdk(transport, "hello")
    assert transport.calls[0] == "connect" and transport.calls.count("close") == 1
    assert transport.calls.index("end_input") < transport.calls.index("close")


async def test_query_session_form_with_canned_dicts() -> None:
    transport = Canned()
    async with tc.query("hello", options=tc.ClaudeAgentOptions(transport=transport)) as stream:
        messages = [m async for m in stream]
    assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].result == "canned answer"
    _check_written_like_the_official_sdk(transport, "hello")
    assert transport.calls.count("close") == 1


async def test_client_with_canned_dicts() -> None:
    transport = Canned()
    client = tc.ClaudeSDKClient(tc.ClaudeAgentOptions(), transport=transport)
    await client.connect()
    try:
        await client.query("hello")
        messages = [m async for m in client.receive_response()]
    finally:
        await client.disconnect()
    assert isinstance(messages[-1], tc.ResultMessage)
    assert tc.TextBlock(text="canned answer") in [
        b for m in messages if isinstance(m, tc.AssistantMessage) for b in m.content
    ]
    assert transport.calls.count("close") == 1


async def test_a_duck_typed_transport_is_accepted() -> None:
    inner = Canned()

    class Duck:  # not a subclass: the official ABC, say
        connect = inner.connect
        write = inner.write
        read_messages = inner.read_messages
        close = inner.close
        end_input = inner.end_input
        is_ready = inner.is_ready

    messages = [m async for m in tc.query(prompt="hi", transport=Duck())]
    assert isinstance(messages[-1], tc.ResultMessage)
    with pytest.raises(tc.ConfigurationError, match="official SDK's transport methods"):
        tc.query(prompt="hi", transport=object())  # type: ignore[arg-type]


async def test_a_subclass_with_neither_interface_fails_naming_the_methods() -> None:
    class Neither(tc.Transport):
        pass

    with pytest.raises(TypeError, match=r"start\(spec, nursery\).*connect\(\), write\(\)"):
        Neither()

    class Own(tc.Transport):  # trio-claude's interface: unchanged
        async def start(self, spec: tc.LaunchSpec, nursery: trio.Nursery) -> tc.ChildProcess:
            raise AssertionError

    Own()
    await trio.lowlevel.checkpoint()


async def test_resource_limits_are_refused() -> None:
    options = tc.ClaudeAgentOptions(
        transport=Canned(), resource_limits=tc.ResourceLimits(max_open_files=100)
    )
    with pytest.raises(tc.ConfigurationError, match="resource_limits"):
        async with tc.open_session(options):
            pass


# ---------------------------------------------------------------------- failures


async def test_read_messages_raising_is_a_typed_error_with_the_reason() -> None:
    transport = Canned(fail_read=True)
    with pytest.raises(tc.ClaudeSDKError) as info:
        async for _ in tc.query(prompt="hi", transport=transport):
            pass
    assert type(info.value).__name__ not in ("ExceptionGroup", "BaseExceptionGroup")
    assert "the remote end went away" in str(info.value)
    assert transport.calls.count("close") == 1

    transport = Canned(fail_read=True)
    with pytest.raises(tc.ClaudeSDKError) as info:
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
            await session.run("hi")
    assert type(info.value).__name__ not in ("ExceptionGroup", "BaseExceptionGroup")
    assert "the remote end went away" in str(info.value)


async def test_connect_raising_comes_out_as_it_is() -> None:
    # The transport is the application's code: its error comes out unwrapped (as in the
    # official SDK, whose callers catch it by its own type), never in an exception group.
    class Refusing(Canned):
        async def connect(self) -> None:
            raise OSError("no route to host")

    for attempt in ("iterator", "session", "client"):
        with pytest.raises(OSError, match="no route to host"):
            if attempt == "iterator":
                async for _ in tc.query(prompt="hi", transport=Refusing()):
                    pass
            elif attempt == "session":
                async with tc.open_session(tc.ClaudeAgentOptions(transport=Refusing())):
                    pass
            else:
                async with tc.ClaudeSDKClient(transport=Refusing()):
                    pass


async def test_a_hanging_close_is_bounded(autojump_clock: trio.testing.MockClock) -> None:
    class Stuck(Canned):
        async def close(self) -> None:
            self.calls.append("close")
            await trio.sleep_forever()

    transport = Stuck(hang_turn=True)
    start = trio.current_time()
    with trio.move_on_after(100) as guard:
        async with tc.open_session(
            tc.ClaudeAgentOptions(transport=transport, close_timeout=1, interrupt_timeout=1)
        ) as session:
            await session.send("hi")
            async for message in session.receive_messages():
                if isinstance(message, tc.AssistantMessage):
                    break
    assert not guard.cancelled_caught
    assert trio.current_time() - start < 30
    assert transport.calls.count("close") == 1


# ---------------------------------------------------------------------- cancellation


async def test_cancelling_the_iterator_mid_turn_closes_once_and_leaves_no_task(
    autojump_clock: trio.testing.MockClock,
) -> None:
    before = len(_tasks())
    transport = Canned(hang_turn=True)
    seen: list[Any] = []
    with trio.move_on_after(5) as scope:
        async for message in tc.query(
            prompt="hi", transport=transport, options=tc.ClaudeAgentOptions(interrupt_timeout=1)
        ):
            seen.append(message)
    assert scope.cancelled_caught
    assert any(isinstance(m, tc.AssistantMessage) for m in seen)
    # The pending read was given up (a read_messages() cancelled mid-way cannot go on), so the
    # turn is not interrupted and drained first: close() stops it, as in the official SDK.
    assert transport.calls.count("close") == 1
    assert len(_tasks()) == before


async def test_leaving_the_block_mid_turn_closes_once_and_leaves_no_task(
    autojump_clock: trio.testing.MockClock,
) -> None:
    before = len(_tasks())
    transport = Canned(hang_turn=True)
    options = tc.ClaudeAgentOptions(transport=transport, interrupt_timeout=1)
    with pytest.raises(KeyError):
        async with tc.query("hi", options=options) as stream:
            async for message in stream:
                if isinstance(message, tc.AssistantMessage):
                    raise KeyError("leave")
    assert transport.calls.count("close") == 1
    assert len(_tasks()) == before


# ---------------------------------------------------------------------- a real subprocess


class FakeCLIBridge(tc.Transport):
    """Runs the repo's fake CLI as a subprocess and speaks to it through the official
    interface, as a transport to a remote CLI would."""

    def __init__(self, script: FakeScript, directory: Path) -> None:
        self.path = directory / "script.json"
        self.path.write_bytes(script.to_json())
        self.closes = 0
        self._proc: trio.Process | None = None

    async def connect(self) -> None:
        self._proc = await trio.lowlevel.open_process(
            [sys.executable, "-m", "trio_claude.testing.fake_cli", "--script", str(self.path)],
            stdin=-1,
            stdout=-1,
        )

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
        self.closes += 1
        assert self._proc is not None
        self._proc.kill()
        await self._proc.wait()

    def is_ready(self) -> bool:
        return self._proc is not None


async def test_fake_cli_subprocess_can_use_tool_and_interrupt(tmp_path: Path) -> None:
    ask = Request("can_use_tool", {"tool_name": "Bash", "input": {"command": "ls"}})
    script = FakeScript(
        turns=[
            FakeTurn(steps=[ask, Text("allowed"), Result(text="one")]),
            FakeTurn(steps=[Text("stale"), WaitForInterrupt()]),
            FakeTurn.reply("fresh"),
        ]
    )
    asked: list[str] = []

    async def can_use_tool(
        tool: str, input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResultAllow:
        asked.append(tool)
        return tc.PermissionResultAllow()

    transport = FakeCLIBridge(script, tmp_path)
    options = tc.ClaudeAgentOptions(can_use_tool=can_use_tool)
    with trio.fail_after(60):  # a hang guard (two interpreters start)
        async with tc.ClaudeSDKClient(options, transport=transport) as client:
            await client.query("one")
            first = [m async for m in client.receive_response()]
            assert asked == ["Bash"]
            assert "allowed" in repr(first)
            await client.query("two")
            async for message in client.receive_response():
                if isinstance(message, tc.AssistantMessage):
                    await client.interrupt()
            await client.query("three")
            third = [m async for m in client.receive_response()]
            assert "fresh" in repr(third) and "stale" not in repr(third)
    assert transport.closes == 1


async def test_fake_cli_subprocess_in_the_iterator_form(tmp_path: Path) -> None:
    ask = Request("can_use_tool", {"tool_name": "Write", "input": {}})
    script = FakeScript(turns=[FakeTurn(steps=[ask, Text("written"), Result(text="done")])])

    async def can_use_tool(tool: str, input: dict[str, Any], context: Any) -> Any:
        await trio.lowlevel.checkpoint()
        return tc.PermissionResultAllow()

    transport = FakeCLIBridge(script, tmp_path)
    options = tc.ClaudeAgentOptions(can_use_tool=can_use_tool)
    with trio.fail_after(60):

        async def prompts() -> AsyncIterator[dict[str, Any]]:
            yield {"type": "user", "message": {"role": "user", "content": "go"}}

        messages = [
            m async for m in tc.query(prompt=prompts(), options=options, transport=transport)
        ]
    assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].result == "done"
    assert transport.closes == 1


async def test_the_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLE
    spec = importlib.util.spec_from_file_location("example_official_style_transport", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with trio.fail_after(60):
        await module.main()
    out = capsys.readouterr().out
    assert "allowed: Bash" in out and "result: success" in out
