"""Bookkeeping of a long-lived session: thousands of turns over hours, and nothing piles up.

One session (or pool, or query) is driven through rounds of every kind of traffic by an
in-process scripted CLI: turns with tool use, ``can_use_tool``, hook and ``mcp_message``
requests, a request the CLI withdraws, abandoned and interrupted turns, ``set_model`` /
``set_permission_mode``, cancelled control calls, ``stream_event`` floods, unknown message
types and system subtypes, uuid'd prompts, background results, a new tool-use id and session
id every round. After ``N`` rounds and after ``2N`` rounds, every dict, set, list and deque the
SDK keeps for it has the same size (or stays under its documented bound), and the SDK's own
allocations (``tracemalloc``, filtered to ``trio_claude/``) and the live objects (``gc``) do not
grow with the rounds. A leak detector, not a benchmark: the thresholds are generous.

(Telemetry spans and failed ``set_mcp_servers`` are covered by
``test_spans_and_servers_do_not_pile_up.py``; open/close cycles by ``test_cycles.py``.)
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._callbacks import McpRouter
from trio_claude._protocol import _lifecycle
from trio_claude._transport._base import ChildProcess, LaunchSpec, Transport

from ._support import ManualChild

# ------------------------------------------------------------------------- the scripted CLI


class _Stop(Exception):
    """The SDK closed the CLI's pipes."""


class ScriptedCLI:
    """A CLI that plays a turn per prompt, chosen by the prompt's first word.

    ``tools``: stream events, a tool call approved through ``can_use_tool``, a ``PreToolUse``
    hook and an in-process MCP tool, its result, unknown frames, a fresh session id.
    ``withdrawn``: a ``can_use_tool`` whose callback never answers, withdrawn by the CLI.
    ``slow``: a turn that runs until it is interrupted. Anything else: a one-line reply.
    After every turn's result the CLI reports a background job's result (it ends no turn).

    Control requests: ``interrupt`` stops the running turn; ``set_model`` with model ``hold``
    is never answered (its caller gives up); ``mcp_set_servers`` replaces the CLI's dynamic
    servers (unless ``refuse_mcp``); anything else succeeds.
    """

    def __init__(self, die_after: float | None = None) -> None:
        self.die_after = die_after
        self.child: ManualChild | None = None
        self._write_lock = trio.Lock()
        self._prompts_send, self._prompts_recv = trio.open_memory_channel[dict[str, Any]](1000)
        self._answers: dict[str, trio.Event] = {}
        self._interrupted = trio.Event()
        self._counter = 0
        self.dynamic_servers: set[str] = set()
        self.turns = 0
        # Batch sizes of turns the CLI runs on its own (no prompt of the SDK's starts them).
        self.autonomous, self._autonomous_recv = trio.open_memory_channel[int](100)

    async def write(self, frame: dict[str, Any]) -> None:
        assert self.child is not None
        async with self._write_lock:
            with trio.CancelScope(shield=True):
                try:
                    await self.child.write(orjson.dumps(frame) + b"\n")
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    raise _Stop from None

    async def play(self, child: ManualChild) -> None:
        self.child = child
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._turns)
                nursery.start_soon(self._autonomous_turns)
                if self.die_after is not None:
                    nursery.start_soon(self._die, child, self.die_after)
                try:
                    while True:
                        frame = await child.read_frame()
                        await self._handle(frame, nursery)
                except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError, _Stop):
                    pass
                nursery.cancel_scope.cancel()
        except _Stop:
            pass
        child.exit(0)

    @staticmethod
    async def _die(child: ManualChild, after: float) -> None:
        await trio.sleep(after)
        child.exit(1)  # crashed (an OOM kill, a dropped connection to a remote CLI...)

    async def _autonomous_turns(self) -> None:
        """Turns the CLI runs on its own (a background task's follow-up, a scheduled run):
        an assistant message and a result that names no prompt of the SDK's."""
        number = 0
        async for count in self._autonomous_recv:
            for _ in range(count):
                number += 1
                sid = f"auto-{number}"
                await self.write(_assistant(f"on my own {number}", sid, f"msg_auto_{number}"))
                await self.write(_result(sid, "success"))

    async def _handle(self, frame: dict[str, Any], nursery: trio.Nursery) -> None:
        kind = frame.get("type")
        if kind == "user":
            self._prompts_send.send_nowait(frame)
        elif kind == "control_response":
            waiter = self._answers.pop(frame["response"]["request_id"], None)
            if waiter is not None:
                waiter.set()
        elif kind == "control_request":
            nursery.start_soon(self._answer, frame["request_id"], frame["request"])

    async def _answer(self, request_id: str, request: dict[str, Any]) -> None:
        subtype = request.get("subtype")
        response: dict[str, Any] = {}
        body: dict[str, Any] = {"request_id": request_id, "subtype": "success"}
        if subtype == "initialize":
            response = {"commands": [], "models": [], "pid": 1}
        elif subtype == "interrupt":
            self._interrupted.set()
            response = {"still_queued": []}
        elif subtype == "set_model" and request.get("model") == "hold":
            return  # never answered: the caller gives up and withdraws it
        elif subtype == "set_permission_mode":
            response = {"mode": request.get("mode")}
        elif subtype == "mcp_set_servers":
            wanted = set(request.get("servers", {}))
            if any(name.startswith("held") for name in wanted):
                return  # never answered (its caller gives up), never applied
            removed = sorted(self.dynamic_servers - wanted)
            added = sorted(wanted - self.dynamic_servers)
            self.dynamic_servers = wanted
            response = {"added": added, "removed": removed, "errors": {}}
        body["response"] = response
        await self.write({"type": "control_response", "response": body})

    async def request(self, subtype: str, **fields: Any) -> None:
        """Sends a CLI->SDK control request and waits for its answer."""
        self._counter += 1
        request_id = f"cli-{self._counter}"
        answered = self._answers[request_id] = trio.Event()
        await self.write(
            {
                "type": "control_request",
                "request_id": request_id,
                "request": {"subtype": subtype, **fields},
            }
        )
        await answered.wait()

    async def _turns(self) -> None:
        async for prompt in self._prompts_recv:
            self.turns += 1
            await self._turn(prompt)

    async def _turn(self, prompt: dict[str, Any]) -> None:
        uuid = prompt["uuid"]
        content = prompt["message"]["content"]
        text = content if isinstance(content, str) else content[0]["text"]
        word, _, number = text.partition(" ")
        sid = f"session-{number or self.turns}"
        self._interrupted = trio.Event()  # an interrupt from now on stops this turn
        await self.write(_state("running", sid))
        await self.write(
            {
                "type": "system",
                "subtype": "init",
                "session_id": sid,
                "model": "m",
                "tools": [],
                "mcp_servers": [],
                "cwd": "/",
                "permissionMode": "default",
                "apiKeySource": "none",
                "claude_code_version": "2.1.329",
            }
        )
        await self.write({"type": "command_lifecycle", "command_uuid": uuid, "state": "started"})
        subtype = "success"
        if word == "tools":
            await self._tools_turn(number, sid)
        elif word == "withdrawn":
            self._counter += 1
            request_id = f"cli-{self._counter}"
            await self.write(
                {
                    "type": "control_request",
                    "request_id": request_id,
                    "request": {
                        "subtype": "can_use_tool",
                        "tool_name": "Slow",
                        "input": {},
                        "tool_use_id": f"toolu_slow_{number}",
                    },
                }
            )
            await trio.sleep(1)
            await self.write({"type": "control_cancel_request", "request_id": request_id})
        elif word == "slow":
            await self.write(_assistant(f"working {number}", sid, f"msg_slow_{number}"))
            await self._interrupted.wait()
            await self.write(
                {
                    "type": "user",
                    "message": {"role": "user", "content": "[Request interrupted by user]"},
                    "parent_tool_use_id": None,
                    "session_id": sid,
                }
            )
            subtype = "error_during_execution"
        else:
            await self.write(_assistant(f"reply {number}", sid, f"msg_reply_{number}"))
        result = _result(sid, subtype)
        result["user_message_uuids"] = [uuid]
        await self.write(result)
        await self.write(_state("idle", sid))
        # A background job finishing after the turn: a result that ends no turn of the SDK's.
        background = _result(sid, "success")
        background["user_message_uuids"] = [f"bg-{number}"]
        await self.write(background)

    async def _tools_turn(self, number: str, sid: str) -> None:
        tool_id = f"toolu_{number}"
        for index in range(20):
            await self.write(
                {
                    "type": "stream_event",
                    "uuid": f"se-{number}-{index}",
                    "session_id": sid,
                    "parent_tool_use_id": None,
                    "event": {"type": "content_block_delta", "index": 0},
                }
            )
        block = {"type": "tool_use", "id": tool_id, "name": "mcp__calc__add", "input": {"a": 1}}
        assistant = _assistant("", sid, f"msg_tool_{number}")
        assistant["message"]["content"] = [block]
        await self.write(assistant)
        await self.request(
            "can_use_tool",
            tool_name="mcp__calc__add",
            input={"a": 1, "b": 2},
            tool_use_id=tool_id,
            permission_suggestions=[],
        )
        await self.request(
            "hook_callback",
            callback_id="hook_0",
            tool_use_id=tool_id,
            input={
                "hook_event_name": "PreToolUse",
                "session_id": sid,
                "transcript_path": "/t.jsonl",
                "cwd": "/",
                "tool_name": "mcp__calc__add",
                "tool_input": {"a": 1, "b": 2},
                "tool_use_id": tool_id,
            },
        )
        await self.request(
            "mcp_message",
            server_name="calc",
            message={
                "jsonrpc": "2.0",
                "id": int(number or 0),
                "method": "tools/call",
                "params": {"name": "add", "arguments": {"a": 1, "b": 2}},
            },
        )
        await self.write(
            {
                "type": "user",
                "message": {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": "3"}],
                },
                "parent_tool_use_id": None,
                "session_id": sid,
            }
        )
        await self.write({"type": f"brand_new_kind_{number}", "session_id": sid, "n": number})
        await self.write({"type": "system", "subtype": f"new_subtype_{number}", "session_id": sid})
        await self.write({"type": "keep_alive"})
        await self.write(
            {
                "type": "rate_limit_event",
                "rate_limit_info": {"status": "allowed"},
                "uuid": f"rl-{number}",
                "session_id": sid,
            }
        )
        await self.write(_assistant(f"the sum is 3 ({number})", sid, f"msg_sum_{number}"))


def _state(state: str, sid: str) -> dict[str, Any]:
    return {
        "type": "system",
        "subtype": "session_state_changed",
        "state": state,
        "sdk_host_only": True,
        "session_id": sid,
    }


def _assistant(text: str, sid: str, message_id: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {
            "id": message_id,
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": 3, "output_tokens": 2},
        },
        "parent_tool_use_id": None,
        "session_id": sid,
    }


def _result(sid: str, subtype: str) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "result",
        "subtype": subtype,
        "is_error": subtype != "success",
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
        "session_id": sid,
        "total_cost_usd": 0.0,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    if subtype == "success":
        frame["result"] = "ok"
    return frame


class ScriptedTransport(Transport):
    """Starts a :class:`ScriptedCLI` (in the session's nursery) for each launch."""

    def __init__(self, die_after: float | None = None) -> None:
        self.die_after = die_after
        self.clis: list[ScriptedCLI] = []
        self.started = 0

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.started += 1
        child = ManualChild()
        cli = ScriptedCLI(self.die_after)
        self.clis = [cli]  # only the current one (the test's own record stays flat)
        nursery.start_soon(cli.play, child)
        await trio.lowlevel.checkpoint()
        return child


# -------------------------------------------------------------------------- the options


@tc.tool("add", "Add two numbers", {"a": float, "b": float})
async def _add(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}


async def _allow(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
    if tool_name == "Slow":
        await trio.sleep_forever()
    return tc.PermissionResultAllow()


async def _pre_tool_use(hook_input: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
    await trio.lowlevel.checkpoint()
    return {}


def _options(transport: Transport, **more: Any) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(
        transport=transport,
        can_use_tool=_allow,
        hooks={"PreToolUse": [tc.HookMatcher(matcher=None, hooks=[_pre_tool_use])]},
        mcp_servers={"calc": tc.create_sdk_mcp_server("calc", tools=[_add])},
        **more,
    )


# ------------------------------------------------------------------------------ rounds


async def _round(session: tc.Session, i: int) -> None:
    """One round of every kind of traffic."""
    # A turn with a tool call, its permission, hook and MCP requests, unknown frames.
    turn = await session.run(f"tools {i}")
    assert turn.result.subtype == "success"
    # A uuid'd prompt (the caller's uuid), received to its end.
    await session.send(f"plain {i}", uuid=f"caller-uuid-{i}")
    async for _ in session.receive_response():
        pass
    # A permission request the CLI withdraws while its callback still runs.
    await session.run(f"withdrawn {i}")
    # An abandoned turn: its receiver is cancelled mid-turn (the turn is interrupted).
    await session.send(f"slow {i}")
    with trio.CancelScope() as scope:
        async for _ in session.receive_response():
            scope.cancel()
    # A turn interrupted with interrupt(), its rest received.
    await session.send(f"slow {i}")
    async for message in session.receive_response():
        if isinstance(message, tc.AssistantMessage):
            await session.interrupt()
    # A receive loop left with break, the rest given up.
    await session.send(f"plain {i}")
    async for _ in session.receive_response():
        break
    session.abandon_turn()
    # Control requests: answered, and one whose caller gives up.
    await session.set_model(f"model-{i % 3}")
    await session.set_permission_mode("acceptEdits" if i % 2 else "default")
    with trio.move_on_after(5):
        await session.set_model("hold")


def _sizes(session: tc.Session) -> dict[str, int]:
    """The size of every per-session structure that could grow with traffic."""
    proto = session._proto
    lifecycle = session._lifecycle
    router = session._request_handlers()["mcp_message"]
    assert isinstance(router, McpRouter)
    return {
        "inflight callbacks": len(session._inflight),
        "pending requests": len(proto._control._pending),
        "background result ids": len(proto._background),
        "protocol events ready": len(proto._ready),
        "results waiting": proto.turn_results_waiting,
        "inbox": len(session._inbox.queue),
        "open turns": len(lifecycle._open),
        "abandoned turns": len(lifecycle._abandoned),
        "started turns": len(lifecycle._started),
        "meter messages": len(session._meter._per_message),
        "mcp routes": len(router.connections),
        "mcp calls": sum(len(c._calls) for c in router.connections.values()),
        "unwritten frames": session._unwritten,
    }


def _bounded_sizes(session: tc.Session) -> dict[str, tuple[int, int]]:
    """Structures with a documented bound: (size, bound)."""
    return {
        "sdk-chosen uuids": (len(session._lifecycle._auto_uuids), _lifecycle._MAX_AUTO_UUIDS),
        "stderr tail": (len(session._stderr._lines), 200),
    }


def _sdk_bytes(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes allocated by the SDK's own code (not its test fakes)."""
    filtered = snapshot.filter_traces(
        (
            tracemalloc.Filter(True, "*trio_claude*"),
            tracemalloc.Filter(False, "*trio_claude/testing/*"),
            tracemalloc.Filter(False, "*tests/*"),
        )
    )
    return sum(stat.size for stat in filtered.statistics("filename"))


class Measure:
    """Sizes, SDK-allocated bytes and live objects at a point in time."""

    def __init__(self, sizes: Callable[[], dict[str, int]]) -> None:
        gc.collect()
        self.sizes = sizes()
        self.objects = len(gc.get_objects())
        self.bytes = _sdk_bytes(tracemalloc.take_snapshot())


# ------------------------------------------------------------------------------- tests

ROUNDS = 12  # N; each round is ~10 frames' worth of every kind of traffic (see _round)


async def test_a_session_through_every_kind_of_traffic_keeps_its_bookkeeping_flat(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK remembers the uuids it chose (a documented bound, 1024): lowered, so that the
    # bound is reached within the warm-up and the memory measurement sees the steady state.
    monkeypatch.setattr(_lifecycle, "_MAX_AUTO_UUIDS", 16)
    transport = ScriptedTransport()
    async with tc.open_session(_options(transport)) as session:
        tracemalloc.start(1)
        try:
            for i in range(ROUNDS):  # warm-up: first-use caches, the bounds reached
                await _round(session, i)
            at_n = Measure(lambda: _sizes(session))
            for i in range(ROUNDS, 2 * ROUNDS):
                await _round(session, i)
            at_2n = Measure(lambda: _sizes(session))
        finally:
            tracemalloc.stop()
        bounded = _bounded_sizes(session)
    assert at_2n.sizes == at_n.sizes, f"after {ROUNDS} rounds {at_n.sizes}, after 2x {at_2n.sizes}"
    for name, (size, bound) in bounded.items():
        assert size <= bound, f"{name}: {size} > its bound {bound}"
    # Measured: < 1 KiB and a handful of objects over 50 rounds (each round allocates ~100
    # messages). One leaked message per round would be ~1 KiB and ~10 objects per round.
    grown = at_2n.bytes - at_n.bytes
    assert grown < 16 * 1024, f"the SDK's allocations grew by {grown} bytes in {ROUNDS} rounds"
    more = at_2n.objects - at_n.objects
    assert more < 100, f"{more} more live objects after {ROUNDS} more rounds"


async def test_cancelled_set_mcp_servers_leave_no_route_once_the_cli_has_a_new_set(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``set_mcp_servers`` routes its in-process servers before it asks the CLI, and keeps the
    routes when its caller gives up (a deadline): the CLI may have applied them. But a later
    ``set_mcp_servers`` that succeeds *replaces* the CLI's dynamic servers, and its answer only
    lists as ``removed`` those the CLI had: the routes of servers the CLI never took stay
    for the session's life, one server (its tools, their closures) per call given up."""
    transport = ScriptedTransport()
    routes: list[int] = []
    async with tc.open_session(_options(transport)) as session:
        router = session._request_handlers()["mcp_message"]
        assert isinstance(router, McpRouter)
        calls = 0
        for _ in range(2):
            for _ in range(ROUNDS):
                calls += 1
                config = tc.create_sdk_mcp_server(f"held{calls}", tools=[_add])
                with trio.move_on_after(5):  # the caller's deadline: the CLI never answers
                    await session.set_mcp_servers({f"held{calls}": config})
                # The CLI now has exactly these dynamic servers.
                current = tc.create_sdk_mcp_server(f"current{calls}", tools=[_add])
                await session.set_mcp_servers({"current": current})
            routes.append(len(router.connections))
        kept = sorted(router.connections)
    # "calc" (of mcp_servers at the start) stays: this CLI never reports it removed.
    assert kept == ["calc", "current"], (
        f"after {calls} set_mcp_servers calls given up, each followed by one that replaced the "
        f"CLI's servers, the session routes {len(kept)} servers: {kept[:6]}..."
    )
    assert routes[0] == routes[1]


async def test_an_idle_pool_does_not_keep_the_sessions_whose_clis_died_parked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A warm session whose CLI dies while parked is closed and replaced, and remembered in
    ``_dead_parked``; it also stays in the ready channel until a ``pool.session()`` call
    receives it. A pool nobody asks for a session keeps every such dead session (its inbox,
    protocol state, stderr tail...) for as long as it stays idle: one per CLI death."""
    transport = ScriptedTransport(die_after=60)  # each CLI dies a minute after it started
    kept: list[tuple[int, int]] = []
    async with tc.open_session_pool(_options(transport), size=1) as pool:
        for _ in range(2):
            await trio.sleep(30 * 60)  # half an hour without demand
            kept.append((len(pool._dead_parked), pool._ready_recv.statistics().current_buffer_used))
        started = transport.started
    assert started > 40  # the CLIs did die and were replaced
    assert kept[1] == kept[0] and kept[1][0] <= 1, (
        f"{started} CLIs died parked; the idle pool holds (dead parked, sessions in its ready "
        f"channel) = {kept[0]} after 30 minutes, {kept[1]} after 60"
    )


async def test_turns_the_cli_runs_on_its_own_do_not_pile_up_in_the_budget_meter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With a budget, the session meters each assistant message by its API message id (the
    CLI repeats a message's usage once per content block) and forgets the ids at the result
    that ends a turn. A result that ends no turn of the SDK's (the CLI ran the turn on its own:
    a background task's follow-up, a scheduled run) leaves them, so a session that listens to
    a CLI working on its own keeps one id per message until a prompt of its own ends."""
    transport = ScriptedTransport()
    budget = tc.Budget(max_usd=1000.0)
    sizes: list[int] = []
    async with tc.open_session(_options(transport, budget=budget)) as session:
        await session.run("plain 0")
        cli = transport.clis[0]
        messages = session.receive_messages()
        for _ in range(2):
            cli.autonomous.send_nowait(10 * ROUNDS)
            results = 0
            async for message in messages:
                if isinstance(message, tc.ResultMessage):
                    results += 1
                    if results == 10 * ROUNDS:
                        break
            sizes.append(len(session._meter._per_message))
    assert sizes[1] == sizes[0] and sizes[0] <= 1, (
        f"message ids kept by the budget's meter: {sizes[0]} after {10 * ROUNDS} turns the CLI "
        f"ran on its own, {sizes[1]} after {20 * ROUNDS}"
    )


async def test_a_budget_shared_by_sessions_opened_one_after_another_stays_flat(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Each session subscribes to its budget and unsubscribes at its end; ``scope()`` blocks
    leave no scope behind."""
    budget = tc.Budget(max_usd=1000.0)
    transport = ScriptedTransport()
    kept: list[tuple[int, int]] = []
    for _ in range(2):
        for i in range(ROUNDS):
            with budget.scope():
                async with tc.open_session(_options(transport, budget=budget)) as session:
                    await session.run(f"tools {i}")
        kept.append((len(budget._listeners), len(budget._scopes)))
    assert kept == [(0, 0), (0, 0)]


def test_the_secret_caches_stay_under_their_bound() -> None:
    """Every session start asks which of its environment's values are secrets (and their
    encoded forms): the answers are cached, and a process whose sessions each get a fresh
    credential (a token per tenant, rotated) must not keep them all."""
    from trio_claude import _redact

    bound = _redact._ENV_SECRETS_MAX
    for i in range(bound + 500):
        _redact.secret_values({"ANTHROPIC_API_KEY": f"sk-ant-rotated-{i:08d}", "HOME": "/h"})
    assert len(_redact._ENV_SECRETS) <= bound
    assert len(_redact._FORMS) <= bound
