"""The official SDK's ``query()`` form, written as official example code uses it (issue 12,
items 1, 2, 3 and 8): ``async for message in query(prompt=..., options=...)``.

The fake CLI runs in the test's nursery (``HostedFakeCLI``), as a real CLI runs beside the
program rather than inside the SDK: the iterator form owns no task between iterations, so it
cannot host the in-process fake itself (that is refused, see the last tests).
"""

from __future__ import annotations

import math
import os
import pickle
import signal
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc
from tests.faults._support import ManualChild
from trio_claude._query import _BudgetGate
from trio_claude._transport._base import ChildProcess, LaunchSpec, Transport
from trio_claude.testing.fake_cli import (
    Emit,
    Exit,
    FakeCLI,
    FakeCLIProcessTransport,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Hang,
    Request,
    Result,
    Sleep,
    Stderr,
    Step,
    Text,
    WaitForInterrupt,
    _InProcessChild,
)


class HostedFakeCLI(Transport):
    """Starts a :class:`FakeCLI` (or a subclass) as a task of the test's own nursery."""

    def __init__(
        self, script: FakeScript, nursery: trio.Nursery, fake_class: type[FakeCLI] = FakeCLI
    ) -> None:
        self.script = script
        self.nursery = nursery
        self.fake_class = fake_class
        self.fake: FakeCLI | None = None
        self.child: _InProcessChild | None = None

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        fake = self.fake_class(self.script)
        fake.argv = list(spec.argv)
        self.fake, self.child = fake, _InProcessChild(fake)
        self.nursery.start_soon(self.child.run)
        await trio.lowlevel.checkpoint()
        return self.child


class RecordingTransport(Transport):
    """Starts the fake CLI as a real subprocess and remembers its pid."""

    def __init__(self, script: FakeScript, directory: Path) -> None:
        self.inner = FakeCLIProcessTransport(script, directory)
        self.pids: list[int | None] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        proc = await self.inner.start(spec, nursery)
        self.pids.append(proc.pid)
        return proc


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def result_turn(text: str) -> FakeTurn:
    return FakeTurn(steps=[Text(text), Result(text=text)])


# ------------------------------------------------------------------ item 1: the iterator


async def test_async_for_over_query_yields_every_message(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    transport = HostedFakeCLI(FakeScript(turns=[result_turn("4")]), nursery)
    options = tc.ClaudeAgentOptions(transport=transport, max_turns=1)

    messages: list[Any] = []
    async for message in tc.query(prompt="What is 2 + 2?", options=options):
        messages.append(message)

    assert [type(m) for m in messages] == [tc.InitMessage, tc.AssistantMessage, tc.ResultMessage]
    assert isinstance(messages[1].content[0], tc.TextBlock)
    assert messages[1].content[0].text == "4"
    assert transport.child is not None and transport.child.returncode == 0  # exited on its own
    (prompt,) = [f for f in transport.fake.received if f["type"] == "user"]  # type: ignore[union-attr]
    assert prompt["message"]["content"] == "What is 2 + 2?"


async def test_query_streams_an_async_iterable_of_message_dicts(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    async def prompts() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "Hello"}}
        yield {"type": "user", "message": {"role": "user", "content": "How are you?"}}

    transport = HostedFakeCLI(FakeScript(turns=[result_turn("hi"), result_turn("fine")]), nursery)
    results = [
        message.result
        async for message in tc.query(
            prompt=prompts(), options=tc.ClaudeAgentOptions(transport=transport)
        )
        if isinstance(message, tc.ResultMessage)
    ]

    assert results == ["hi", "fine"]
    assert transport.fake is not None
    sent = [f["message"]["content"] for f in transport.fake.received if f["type"] == "user"]
    assert sent == ["Hello", "How are you?"]


async def test_callbacks_are_answered_while_iterating(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    asked: list[str] = []

    async def can_use_tool(tool_name: str, input: dict[str, Any], context: Any) -> Any:
        asked.append(tool_name)
        await trio.sleep(1)  # a slow policy: the CLI waits, nothing else runs meanwhile
        return tc.PermissionResultDeny(message="read-only agent")

    permission = Request(
        "can_use_tool", {"tool_name": "Write", "input": {"file_path": "x"}, "tool_use_id": "t1"}
    )
    script = FakeScript(turns=[FakeTurn(steps=[permission, Text("denied"), Result(text="ok")])])
    transport = HostedFakeCLI(script, nursery)
    options = tc.ClaudeAgentOptions(transport=transport, can_use_tool=can_use_tool)

    async for _ in tc.query(prompt="write x", options=options):
        pass

    assert asked == ["Write"]
    assert transport.fake is not None
    (answer,) = transport.fake.responses.values()
    assert answer["subtype"] == "success" and answer["response"]["behavior"] == "deny"


async def test_break_stops_the_cli_at_once(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("one"), Hang()])])
    transport = RecordingTransport(script, tmp_path)
    options = tc.ClaudeAgentOptions(transport=transport)

    with trio.fail_after(20):
        async for message in tc.query(prompt="go", options=options):
            if isinstance(message, tc.AssistantMessage):
                break

    # Dropped without aclose(): the CLI was killed and reaped by then, not left running.
    (pid,) = transport.pids
    assert pid is not None and not is_running(pid)


async def test_break_kills_a_hosted_fake_too(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    transport = HostedFakeCLI(FakeScript(turns=[FakeTurn(steps=[Text("one"), Hang()])]), nursery)
    async for _ in tc.query(prompt="go", options=tc.ClaudeAgentOptions(transport=transport)):
        break
    assert transport.child is not None
    with trio.fail_after(1):
        assert await transport.child.wait() == -signal.SIGKILL


async def test_aclosing_interrupts_the_turn_and_stops_the_cli(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("working"), WaitForInterrupt()])])
    transport = HostedFakeCLI(script, nursery)
    options = tc.ClaudeAgentOptions(transport=transport)

    async with aclosing(tc.query(prompt="long task", options=options)) as messages:
        async for message in messages:
            if isinstance(message, tc.AssistantMessage):
                break

    assert transport.fake is not None and transport.fake.interrupts == 1
    assert transport.child is not None and transport.child.returncode == 0  # exited on EOF


async def test_cancellation_interrupts_the_turn(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("working"), WaitForInterrupt()])])
    transport = HostedFakeCLI(script, nursery)
    seen = []
    with trio.move_on_after(30) as timer:
        async for message in tc.query(
            prompt="long task", options=tc.ClaudeAgentOptions(transport=transport)
        ):
            seen.append(message)
    assert timer.cancelled_caught
    assert any(isinstance(m, tc.AssistantMessage) for m in seen)
    assert transport.fake is not None and transport.fake.interrupts == 1
    assert transport.child is not None and transport.child.returncode == 0


async def test_a_callback_may_outlive_the_message_it_follows(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """A hook still running when a message is ready: the iteration waits for the hook (no
    task is left behind), and the hook's answer is written before the message is returned."""

    async def hook(input: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        await trio.sleep(5)
        return {}

    call = Request(
        "hook_callback",
        {"callback_id": "hook_0", "input": {"hook_event_name": "Stop"}, "tool_use_id": None},
        wait=False,
    )
    script = FakeScript(turns=[FakeTurn(steps=[call, Text("meanwhile"), Result(text="r")])])
    transport = HostedFakeCLI(script, nursery)
    options = tc.ClaudeAgentOptions(
        transport=transport, hooks={"Stop": [tc.HookMatcher(hooks=[hook])]}
    )
    async for message in tc.query(prompt="go", options=options):
        if isinstance(message, tc.AssistantMessage):
            assert transport.fake is not None and len(transport.fake.responses) == 1


async def test_stall_timeout_interrupts_a_silent_turn(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("thinking"), WaitForInterrupt()])])
    transport = HostedFakeCLI(script, nursery)
    options = tc.ClaudeAgentOptions(transport=transport, stall_timeout=30)
    start = trio.current_time()
    with pytest.raises(tc.StallTimeoutError):
        async for message in tc.query(prompt="go", options=options):
            if isinstance(message, tc.AssistantMessage):
                await trio.sleep(100)  # the caller's own time is not the CLI's silence
    assert trio.current_time() - start == pytest.approx(130, abs=1)
    assert transport.fake is not None and transport.fake.interrupts == 1


# ------------------------------------------------ item 2: the run goes on after a result


def background_turn_script() -> FakeScript:
    # The CLI's own turn after a background job: its result names no prompt uuid.
    own_result = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "result": "the agent is done",
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
        "total_cost_usd": 0.0,
    }
    steps: list[Step] = [
        Text("waiting for the agent"),
        Result(text="waiting for the agent"),
        Sleep(10),
        Text("the agent is done"),
        Emit(own_result),
    ]
    return FakeScript(turns=[FakeTurn(steps=steps)])


async def test_no_stall_while_the_cli_waits_for_our_callback(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """The CLI is silent because it waits for us; the clock starts again at our answer."""

    async def approve_slowly(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        await trio.sleep(100)  # a human deciding
        return tc.PermissionResultAllow()

    ask = Request("can_use_tool", {"tool_name": "Write", "input": {}, "tool_use_id": "t1"})
    steps: list[Step] = [Text("may I?"), Sleep(1), ask, Sleep(20), Result(text="done")]
    script = FakeScript(turns=[FakeTurn(steps=steps)])
    options = tc.ClaudeAgentOptions(
        transport=HostedFakeCLI(script, nursery), stall_timeout=30, can_use_tool=approve_slowly
    )
    results = [
        m.result
        async for m in tc.query(prompt="go", options=options)
        if isinstance(m, tc.ResultMessage)
    ]
    assert results == ["done"]


async def test_a_stall_says_what_it_saw_last(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("thinking..."), Hang()])])
    options = tc.ClaudeAgentOptions(transport=HostedFakeCLI(script, nursery), stall_timeout=30)
    with pytest.raises(tc.StallTimeoutError) as info:
        async for _ in tc.query(prompt="go", options=options):
            pass
    assert info.value.last_seen is not None and "assistant" in info.value.last_seen


async def test_a_callback_still_running_when_the_cli_dies_is_cancelled(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """Nothing can take its answer; the iterator waited for it (for good, here)."""
    ended: list[str] = []

    async def policy(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        try:
            await trio.sleep(math.inf)
        except trio.Cancelled:
            ended.append("cancelled")
            raise
        return tc.PermissionResultAllow()  # pragma: no cover

    fields = {"tool_name": "Write", "input": {}, "tool_use_id": "t1"}
    steps: list[Step] = [Request("can_use_tool", fields, wait=False), Sleep(1), Exit(3)]
    options = tc.ClaudeAgentOptions(
        transport=HostedFakeCLI(FakeScript(turns=[FakeTurn(steps=steps)]), nursery),
        can_use_tool=policy,
    )
    with trio.fail_after(100), pytest.raises(tc.ProcessError):
        async for _ in tc.query(prompt="go", options=options):
            pass
    assert ended == ["cancelled"]


async def test_the_turn_the_cli_starts_after_background_work_is_delivered(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    transport = HostedFakeCLI(background_turn_script(), nursery)
    results = [
        message.result
        async for message in tc.query(
            prompt="start the agent", options=tc.ClaudeAgentOptions(transport=transport)
        )
        if isinstance(message, tc.ResultMessage)
    ]
    assert results == ["waiting for the agent", "the agent is done"]


async def test_the_session_form_still_streams_one_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The ``async with`` form keeps its documented contract: the prompt's turn."""
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(background_turn_script()))
    async with tc.query("start the agent", options=options) as messages:
        results = [m.result async for m in messages if isinstance(m, tc.ResultMessage)]
    assert results == ["waiting for the agent"]


async def test_an_exit_during_initialize_is_the_clis_process_error(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """As ``open_session`` says it: the exit code and the stderr tail, not "output ended"."""
    dies = FakeScript(on_initialize=[Stderr("Error: Invalid API key - please run /login"), Exit(1)])
    transport = HostedFakeCLI(dies, nursery)
    with pytest.raises(tc.ProcessError) as caught:
        async for _ in tc.query(prompt="hi", options=tc.ClaudeAgentOptions(transport=transport)):
            pass
    assert caught.value.exit_code == 1
    assert "Invalid API key" in (caught.value.stderr or "")


# ---------------------------------------------------------- item 3: error results raise


def error_then_exit_1() -> FakeScript:
    error = Result(
        subtype="success",
        is_error=True,
        text="API Error: 401 Invalid API key",
        extra={"terminal_reason": "api_error", "api_error_status": 401},
    )
    return FakeScript(turns=[FakeTurn(steps=[error, Exit(1)])])


async def test_error_result_is_yielded_then_raised_as_result_error(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    transport = HostedFakeCLI(error_then_exit_1(), nursery)
    seen = []
    with pytest.raises(tc.ResultError) as caught:
        async for message in tc.query(
            prompt="hi", options=tc.ClaudeAgentOptions(transport=transport)
        ):
            seen.append(message)

    assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].is_error
    error = caught.value
    assert isinstance(error, tc.ProcessError)
    assert error.exit_code == 1
    assert error.result == "API Error: 401 Invalid API key"
    assert error.session_id == transport.script.session_id
    assert error.data["terminal_reason"] == "api_error" and error.data == seen[-1].raw
    assert (error.subtype, error.api_error_status, error.terminal_reason) == (
        "success",
        401,
        "api_error",
    )
    assert error.result_message is seen[-1]
    assert "Invalid API key" in str(error)


async def test_except_process_error_catches_an_error_result(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    transport = HostedFakeCLI(error_then_exit_1(), nursery)
    try:
        async for _ in tc.query(prompt="hi", options=tc.ClaudeAgentOptions(transport=transport)):
            pass
    except tc.ProcessError as exc:
        assert exc.exit_code == 1
    else:
        raise AssertionError("no error raised")


async def test_an_error_result_followed_by_a_good_turn_raises_nothing(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    async def prompts() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "one"}}
        yield {"type": "user", "message": {"role": "user", "content": "two"}}

    bad = FakeTurn(steps=[Result(subtype="error_during_execution", is_error=True)])
    transport = HostedFakeCLI(FakeScript(turns=[bad, result_turn("good")]), nursery)
    subtypes = [
        (m.subtype, m.is_error)
        async for m in tc.query(
            prompt=prompts(), options=tc.ClaudeAgentOptions(transport=transport)
        )
        if isinstance(m, tc.ResultMessage)
    ]
    assert subtypes == [("error_during_execution", True), ("success", False)]


def test_result_error_is_a_process_error_with_the_official_attributes() -> None:
    raw = {"type": "result", "subtype": "error_max_turns", "is_error": True, "session_id": "s1"}
    result = tc.ResultMessage(
        subtype="error_max_turns",
        is_error=True,
        session_id="s1",
        errors=["Reached maximum number of turns (1)"],
        terminal_reason="max_turns",
        raw=raw,
    )
    error = tc.ResultError(result, exit_code=1, reason="session_not_found", hint="resume elsewhere")
    assert isinstance(error, tc.ProcessError) and isinstance(error, tc.ClaudeSDKError)
    assert (error.exit_code, error.session_id, error.data, error.result) == (1, "s1", raw, None)
    assert error.errors == ["Reached maximum number of turns (1)"]
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is tc.ResultError
    assert (copy.exit_code, copy.subtype, copy.errors) == (1, "error_max_turns", error.errors)
    assert (copy.reason, copy.hint, copy.data) == ("session_not_found", "resume elsewhere", raw)
    assert str(copy) == str(error)


# ------------------------------------------------------------ item 8: the budget gate


class UsageReportingFake(FakeCLI):
    """Answers ``get_usage`` with a session spend, as the real CLI does."""

    spent = 0.0

    async def _answer(self, request_id: str, request: dict[str, Any]) -> None:
        if request.get("subtype") != "get_usage":
            await super()._answer(request_id, request)
            return
        body = {
            "request_id": request_id,
            "subtype": "success",
            "response": {"session": {"total_cost_usd": self.spent}},
        }
        await self.write_frame({"type": "control_response", "response": body})


def pre_tool_use(callback_id: str = "hook_0") -> Request:
    hook_input = {
        "hook_event_name": "PreToolUse",
        "session_id": "s",
        "transcript_path": "/t",
        "cwd": "/",
        "tool_name": "Write",
        "tool_input": {"file_path": "out.txt", "content": "x"},
        "tool_use_id": "toolu_1",
    }
    fields = {"callback_id": callback_id, "input": hook_input, "tool_use_id": "toolu_1"}
    return Request("hook_callback", fields)


@pytest.mark.parametrize(("spent", "denied"), [(1.4, True), (0.01, False)])
async def test_max_budget_usd_denies_a_tool_once_the_budget_is_spent(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, spent: float, denied: bool
) -> None:
    class Fake(UsageReportingFake):
        pass

    Fake.spent = spent
    script = FakeScript(turns=[FakeTurn(steps=[Text("writing"), pre_tool_use(), Result()])])
    transport = HostedFakeCLI(script, nursery, Fake)
    options = tc.ClaudeAgentOptions(transport=transport, max_budget_usd=0.5)

    async for _ in tc.query(prompt="write the file", options=options):
        pass

    assert transport.fake is not None
    (answer,) = transport.fake.responses.values()
    decision = answer["response"].get("hookSpecificOutput", {}).get("permissionDecision")
    assert decision == ("deny" if denied else None)


async def test_the_budget_gate_sits_beside_the_users_own_hooks(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    calls: list[str] = []

    async def audit(input: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        calls.append(input["tool_name"])
        return {}

    class Fake(UsageReportingFake):
        spent = 2.0

    # The user's hook is hook_0, the gate hook_1.
    steps: list[Step] = [pre_tool_use("hook_0"), pre_tool_use("hook_1"), Result()]
    transport = HostedFakeCLI(FakeScript(turns=[FakeTurn(steps=steps)]), nursery, Fake)
    options = tc.ClaudeAgentOptions(
        transport=transport,
        max_budget_usd=1.0,
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Write", hooks=[audit])]},
    )
    async for _ in tc.query(prompt="write", options=options):
        pass
    assert calls == ["Write"]
    assert transport.fake is not None
    user, gate = (r["response"] for r in transport.fake.responses.values())
    assert user == {} and gate["hookSpecificOutput"]["permissionDecision"] == "deny"


async def test_the_budget_gate_fails_open() -> None:
    gate = _BudgetGate(1.0)
    assert await gate.hook({}, None, None) == {}  # not bound yet

    async def broken() -> dict[str, Any]:
        raise tc.ControlRequestError("get_usage", "Unsupported control request subtype")

    gate.bind(broken)
    assert await gate.hook({}, None, None) == {}


# --------------------------------------------------- what the iterator form cannot do


async def test_a_transport_that_needs_a_nursery_is_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(FakeScript(turns=[result_turn("x")]))
    with pytest.raises(tc.ConfigurationError, match="async with query"):
        async for _ in tc.query(prompt="x", options=tc.ClaudeAgentOptions(transport=transport)):
            pass


async def test_a_budget_is_refused(nursery: trio.Nursery) -> None:
    transport = HostedFakeCLI(FakeScript(), nursery)
    options = tc.ClaudeAgentOptions(transport=transport, budget=tc.Budget(max_usd=1.0))
    with pytest.raises(tc.ConfigurationError, match="budget"):
        async for _ in tc.query(prompt="x", options=options):
            pass
    assert transport.fake is None  # refused before anything started


async def test_one_query_object_is_used_one_way_once(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    q = tc.query(
        prompt="x", options=tc.ClaudeAgentOptions(transport=HostedFakeCLI(FakeScript(), nursery))
    )
    async for _ in q:
        pass
    with pytest.raises(RuntimeError, match="already used"):
        async with q:
            pass
    with pytest.raises(StopAsyncIteration):
        await q.__anext__()


async def test_an_official_transport_object_is_refused() -> None:
    class OfficialStyleTransport:
        async def connect(self) -> None: ...

    with pytest.raises(tc.ConfigurationError, match="Transport"):
        tc.query(prompt="x", transport=OfficialStyleTransport())  # type: ignore[arg-type]


async def test_the_client_takes_a_transport_and_gates_the_budget_too(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    class Fake(UsageReportingFake):
        spent = 2.0

    script = FakeScript(turns=[FakeTurn(steps=[pre_tool_use(), Result(text="r")])])
    transport = HostedFakeCLI(script, nursery, Fake)
    options = tc.ClaudeAgentOptions(max_budget_usd=1.0)
    async with tc.ClaudeSDKClient(options=options, transport=transport) as client:
        await client.query("write the file")
        async for _ in client.receive_response():
            pass
    assert transport.fake is not None
    (answer,) = transport.fake.responses.values()
    assert answer["response"]["hookSpecificOutput"]["permissionDecision"] == "deny"


async def test_the_client_is_disconnected_by_the_task_that_connected_it() -> None:
    """connect() holds the session's nursery in its task: disconnect() from another task
    would corrupt trio's nursery stack; it says what to do instead, and closes nothing."""
    script = FakeScript(turns=[result_turn("hi"), result_turn("again")])
    client = tc.ClaudeSDKClient(tc.ClaudeAgentOptions(transport=FakeCLITransport(script)))
    await client.connect()
    errors: list[BaseException] = []

    async def elsewhere() -> None:
        await client.query("hi")  # using it from another task is fine
        async for _ in client.receive_response():
            pass
        try:
            await client.disconnect()
        except RuntimeError as exc:
            errors.append(exc)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(elsewhere)
    assert errors and "the task that called connect()" in str(errors[0])
    assert not client.session.closed
    await client.query("again")
    await client.disconnect()


async def test_migrations_recipe_for_a_client_shared_between_start_up_and_shut_down() -> None:
    script = FakeScript(turns=[result_turn("hi")])
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))

    async def hold(task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with tc.ClaudeSDKClient(options) as client:
            stop = trio.Event()
            task_status.started((client, stop))
            await stop.wait()

    async with trio.open_nursery() as nursery:
        client, stop = await nursery.start(hold)  # a start-up hook

        async def handler() -> None:  # a request, in a task of its own
            await client.query("hi")
            async for _ in client.receive_response():
                pass

        nursery.start_soon(handler)
        await trio.testing.wait_all_tasks_blocked()
        session = client.session
        stop.set()  # the shut-down hook
    assert session.closed


class PipedChild(ManualChild):
    """A hand-driven CLI whose stdout is a real pipe, as the CLI's is: what it writes waits
    there, read or not. Its size is the kernel's default: 64 KiB, or 8 KiB for a user over
    ``fs.pipe-user-pages-soft`` (several test runs at once), who may not grow it either."""

    def __init__(self) -> None:
        super().__init__()
        read_end, write_end = os.pipe()
        self.stdout = trio.lowlevel.FdStream(read_end)
        self.cli_stdout = trio.lowlevel.FdStream(write_end)  # type: ignore[assignment]


async def test_a_request_behind_unread_messages_is_answered_without_waiting_for_them(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """User-pain item 1 in the iterator form: with a slow loop body, a hook request written
    behind 40 unread messages was answered only after the loop had worked through them all
    (40 s here), counting against the CLI's hook timeout."""
    child = PipedChild()
    consumed: list[int] = []
    hook_ran_after: list[int] = []

    async def hook(hook_input: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        hook_ran_after.append(len(consumed))
        return {}

    class Piped(Transport):
        async def start(self, spec: LaunchSpec, nursery_: trio.Nursery) -> ChildProcess:
            nursery.start_soon(play)
            await trio.lowlevel.checkpoint()
            return child

    async def play() -> None:
        await child.handshake()
        await child.read_frame()  # the prompt
        text = {"type": "text", "text": "x" * 50}
        message = {"role": "assistant", "model": "m", "content": [text]}
        line = orjson.dumps({"type": "assistant", "message": message}) + b"\n"
        await child.write(line * 40)  # ~6 KB at once: within the smallest pipe (8 KiB)
        await trio.sleep(0.5)  # the loop body is busy with the first message meanwhile
        request = {"subtype": "hook_callback", "callback_id": "hook_0", "input": {}}
        await child.write_frame({"type": "control_request", "request_id": "h1", "request": request})
        await child.read_frame()  # the hook's answer
        await child.write_frame({"type": "result", "subtype": "success", "is_error": False})
        await child.exit_at_eof()

    options = tc.ClaudeAgentOptions(
        transport=Piped(), hooks={"PreToolUse": [tc.HookMatcher(hooks=[hook])]}
    )
    async for _ in tc.query(prompt="go", options=options):
        consumed.append(1)
        await trio.sleep(1)  # a slow loop body
    assert len(consumed) == 41
    assert hook_ran_after and hook_ran_after[0] <= 2
