"""A consumer that never reads while the CLI sends 10k messages and 100 control requests.

The official SDK deadlocks here (py #779): its reader blocks on a full 100-slot channel and
stops answering the CLI's hook requests. Ours answers every control request it has read,
queues messages in memory up to ``max_buffered_bytes``, and only beyond that stops reading.
Both through a real pipe (the fake CLI as a subprocess), so the CLI really blocks when we stop.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import trio

import trio_claude as tc
from tests._helpers import texts
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Step,
    Text,
)

from ._support import current_rss, wait_until

MESSAGES = 10_000
REQUESTS = 100
PAD = "p" * 200

LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
#: The kinds of CLI->SDK request, in rotation: each must be answered with its own kind of answer.
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("can_use_tool", {"tool_name": "Read", "input": {"file_path": "/x"}}),
    ("hook_callback", {"callback_id": "hook_0", "input": {"hook_event_name": "PreToolUse"}}),
    ("mcp_message", {"server_name": "calc", "message": LIST_TOOLS}),
    ("elicitation", {"mcp_server_name": "gh", "message": "?"}),
    ("not_a_real_request", {}),
]


def flood_turn() -> FakeTurn:
    steps: list[Step] = []
    per_request = MESSAGES // REQUESTS
    for j in range(REQUESTS):
        steps.extend(Text(f"{j * per_request + i:05d} {PAD}") for i in range(per_request))
        subtype, fields = KINDS[j % len(KINDS)]
        steps.append(Request(subtype, fields))  # the fake waits for each answer
    steps.append(Result(text="flooded"))
    return FakeTurn(steps=steps)


def flood_options(
    tmp_path: Path, **kw: Any
) -> tuple[tc.ClaudeAgentOptions, FakeCLIProcessTransport]:
    async def allow(*args: Any) -> tc.PermissionResultAllow:
        return tc.PermissionResultAllow()

    async def hook(*args: Any) -> dict[str, Any]:
        return {}

    @tc.tool("noop", "does nothing")
    async def noop(args: Any) -> str:
        return ""

    transport = FakeCLIProcessTransport(FakeScript(turns=[flood_turn()]), tmp_path)
    options = tc.ClaudeAgentOptions(
        transport=transport,
        can_use_tool=allow,
        hooks={"PreToolUse": [tc.HookMatcher(hooks=[hook])]},
        mcp_servers={"calc": tc.create_sdk_mcp_server("calc", tools=[noop])},
        **kw,
    )
    return options, transport


async def read_everything(session: tc.Session) -> list[tc.Message]:
    return [m async for m in session.receive_response()]


def check_turn(messages: list[tc.Message]) -> None:
    body = texts(messages)
    assert len(body) == MESSAGES
    assert [int(t[:5]) for t in body] == list(range(MESSAGES))  # all of them, in order
    assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].result == "flooded"


async def test_never_reading_consumer_all_control_answered_memory_bounded(tmp_path: Path) -> None:
    options, _ = flood_options(tmp_path)
    async with tc.open_session(options) as session:
        gc.collect()
        rss_before = current_rss()
        await session.send("flood me")
        # Nobody reads; the CLI can only reach its result if all 100 requests were answered,
        # since it waits for each answer before it goes on.
        await wait_until(lambda: session.statistics().results_received == 1, timeout=30)
        stats = session.statistics()
        assert stats.buffered_messages >= MESSAGES + 1
        assert stats.pending_requests == 0 and stats.inflight_callbacks == 0
        assert not stats.reader_paused
        assert stats.buffered_bytes <= stats.max_buffered_bytes
        # The real cost of the queue tracks the estimate the bound is enforced on (typed
        # messages keep their raw dicts: a few times the wire size), plus interpreter noise.
        growth = (current_rss() - rss_before) * 1024
        assert growth <= 4 * stats.buffered_bytes + 8 * 1024 * 1024, (growth, stats)
        check_turn(await read_everything(session))


async def test_beyond_max_buffered_bytes_the_reader_pauses_and_resumes(tmp_path: Path) -> None:
    bound = 256 * 1024
    options, _ = flood_options(tmp_path, max_buffered_bytes=bound)
    async with tc.open_session(options) as session:
        await session.send("flood me")
        await wait_until(lambda: session.statistics().reader_paused, timeout=30)
        await trio.sleep(0.3)  # the CLI is now blocked on a full pipe, not us on anything
        # Every control request that was read is answered: a request read just before the
        # pause has its callback task still running for a moment (bounded wait).
        await wait_until(lambda: session.statistics().inflight_callbacks == 0, timeout=30)
        stats = session.statistics()
        assert stats.reader_paused and stats.results_received == 0
        # the queue holds the bound plus at most one read's worth of messages (64 KiB)
        assert stats.buffered_bytes <= bound + 128 * 1024
        # a consumer that finally reads gets everything, in order, and the CLI finishes
        with trio.fail_after(30):
            messages = await read_everything(session)
        check_turn(messages)
        assert session.statistics().results_received == 1
