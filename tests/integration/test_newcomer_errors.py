"""What a newcomer trips on gets a clear, typed answer (issue 15, item 7)."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude._options import validate_options
from trio_claude.testing.fake_cli import (
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Sleep,
    Text,
    WaitForInterrupt,
)

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup


def fake_options() -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(
        transport=FakeCLITransport(FakeScript(turns=[FakeTurn.reply("x")]))
    )


@pytest.mark.parametrize(
    ("prompt", "says"),
    [
        (b"hello", "a prompt cannot be bytes"),
        (bytearray(b"hello"), "a prompt cannot be bytearray"),
        (5, "a prompt cannot be int"),
        ([1], "content block cannot be int"),
        ([b"x"], "content block cannot be bytes"),
    ],
)
async def test_a_prompt_of_the_wrong_type_says_what_is_accepted(
    prompt: object, says: str, autojump_clock: trio.testing.MockClock
) -> None:
    async with tc.open_session(fake_options()) as session:
        with pytest.raises(tc.ConfigurationError) as info:
            await session.send(prompt)  # type: ignore[arg-type]
        assert says in str(info.value) and "a str, a list of content blocks" in str(info.value)
        assert (await session.run("still fine")).text == "x"  # nothing was sent


async def test_receiving_after_close_raises_like_sending(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with tc.open_session(fake_options()) as session:
        await session.run("one")
    with pytest.raises(tc.SessionClosedError):
        await session.send("two")
    with pytest.raises(tc.SessionClosedError):
        async for _ in session.receive_response():
            pass
    with pytest.raises(tc.SessionClosedError):
        async for _ in session.receive_messages():
            pass


def test_a_directory_as_cli_path_is_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(tc.CLINotFoundError) as info:
        tc.find_cli(tmp_path)
    assert "it is a directory" in str(info.value)
    assert "install-cli" in str(info.value)


def test_a_bad_explicit_cli_path_gets_the_install_hint(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "claude"
    with pytest.raises(tc.CLINotFoundError) as info:
        tc.find_cli(missing)
    assert "nothing is there" in str(info.value) and "install-cli" in str(info.value)
    not_executable = tmp_path / "claude"
    not_executable.write_text("#!/bin/sh\n")
    os.chmod(not_executable, 0o644)
    with pytest.raises(tc.CLINotFoundError) as info:
        tc.find_cli(not_executable)
    assert "not executable" in str(info.value)


def test_can_use_tool_as_a_string_says_plain_functions_work() -> None:
    with pytest.raises(tc.ConfigurationError) as info:
        validate_options(tc.ClaudeAgentOptions(can_use_tool="allow"))  # type: ignore[arg-type]
    text = str(info.value)
    assert "async, or plain" in text and "not str" in text and "bypassPermissions" in text


def test_an_interrupted_turn_says_so() -> None:
    result = tc.ResultMessage(
        subtype="error_during_execution",
        is_error=True,
        terminal_reason="aborted_streaming",
        errors=["[ede_diagnostic] result_type=user last_content_type=n/a stop_reason=null"],
    )
    text = str(tc.ResultError(result))
    assert text.startswith("Claude Code returned an error result: ")  # (the official words)
    assert text.endswith("(the turn was interrupted: aborted_streaming)")


def test_an_api_failure_names_the_http_status_not_success() -> None:
    result = tc.ResultMessage(
        subtype="success",
        is_error=True,
        api_error_status=404,
        result="API Error: 404 model: claude-nope not found",
    )
    text = str(tc.ResultError(result))
    assert "(success)" not in text
    assert text.startswith("Claude Code returned an error result: API Error: 404")
    assert text.endswith("(the model API refused the request: HTTP 404)")


def test_other_error_results_keep_their_subtype() -> None:
    text = str(tc.ResultError(tc.ResultMessage(subtype="error_max_turns", is_error=True)))
    assert text == "Claude Code returned an error result: error_max_turns"


def prompts(transport: FakeCLITransport) -> list[object]:
    assert transport.fake is not None
    return [f["message"]["content"] for f in transport.fake.received if f.get("type") == "user"]


def turns_options(*answers: str) -> tuple[tc.ClaudeAgentOptions, FakeCLITransport]:
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Text(f"{answer}-part"), Text(answer), Result(text=answer)])
            for answer in answers
        ]
    )
    transport = FakeCLITransport(script)
    return tc.ClaudeAgentOptions(transport=transport), transport


@pytest.mark.parametrize("opener", [tc.open_session, tc.open_resumable_session])
async def test_run_after_a_break_refuses_rather_than_answer_the_earlier_prompt(
    opener: Any, autojump_clock: trio.testing.MockClock
) -> None:
    # Before: run("q2") returned q1's answer, run("q3") q2's, and so on, with no error.
    options, transport = turns_options("answer-1", "answer-2")
    async with opener(options) as session:
        await session.send("q1")
        async for message in session.receive_response():
            if isinstance(message, tc.AssistantMessage):
                break
        with pytest.raises(tc.TurnInProgressError, match="Nothing was sent"):
            await session.run("q2")
        assert prompts(transport) == ["q1"]
        rest = [m async for m in session.receive_response()]  # what the docs say to do
        assert isinstance(rest[-1], tc.ResultMessage) and rest[-1].result == "answer-1"
        assert (await session.run("q2")).result.result == "answer-2"


async def test_run_refuses_while_a_result_read_is_not_received_yet(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The earlier turn has ended in the CLI (its result is read and queued), but nobody has
    # received it: run() would still hand that turn out as its own.
    options, transport = turns_options("answer-1", "answer-2")
    async with tc.open_session(options) as session:
        await session.send("q1")
        await trio.sleep(1)  # the whole turn is read meanwhile
        assert not session._lifecycle.live_turn_open
        with pytest.raises(tc.TurnInProgressError):
            await session.run("q2")
        assert (await session.collect_response()).result.result == "answer-1"
        assert (await session.run("q2")).result.result == "answer-2"
        assert prompts(transport) == ["q1", "q2"]


async def test_run_after_send_refuses_and_back_to_back_runs_do_not(
    autojump_clock: trio.testing.MockClock,
) -> None:
    options, _ = turns_options("answer-1", "answer-2", "answer-3")
    async with tc.open_session(options) as session:
        assert (await session.run("q1")).result.result == "answer-1"
        assert (await session.run("q2")).result.result == "answer-2"
        await session.send("q3")
        with pytest.raises(tc.TurnInProgressError):
            await session.run("q4")
        assert (await session.collect_response()).result.result == "answer-3"


async def test_a_cancelled_run_does_not_make_the_next_run_refuse(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Text("slow"), WaitForInterrupt()]),
            FakeTurn(steps=[Text("new"), Result(text="new")]),
        ]
    )
    async with tc.open_session(tc.ClaudeAgentOptions(transport=FakeCLITransport(script))) as s:
        with trio.move_on_after(3):
            await s.run("first")
        assert (await s.run("second")).result.result == "new"


async def test_two_tasks_receiving_from_one_session_is_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Before: each task silently got some of the messages (one ended without its result).
    script = FakeScript(turns=[FakeTurn(steps=[Sleep(5), Text("a"), Result(text="a")])])
    async with tc.open_session(tc.ClaudeAgentOptions(transport=FakeCLITransport(script))) as s:
        await s.send("go")
        first: list[tc.Message] = []

        async def receive_all() -> None:
            async for message in s.receive_response():
                first.append(message)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(receive_all, name="the first receiver")
            await trio.sleep(1)  # it waits for the turn's messages
            with pytest.raises(tc.ConcurrentReceiveError, match="the first receiver"):
                async for _ in s.receive_response():
                    pass
        assert isinstance(first[-1], tc.ResultMessage) and first[-1].result == "a"
        assert (await s.run("again")).messages  # one receiver at a time is fine


@pytest.mark.parametrize("take_over", ["receive_response", "run"])
async def test_a_receiver_cancelled_just_now_is_not_a_conflict(
    take_over: str, autojump_clock: trio.testing.MockClock
) -> None:
    # The cancelled receiver leaves when it next runs: the task that cancelled it may receive
    # at once (and run() must not send a prompt it then cannot collect).
    script = FakeScript(turns=[FakeTurn(steps=[Sleep(1), Text("a"), Result(text="one")])] * 8)
    async with tc.open_session(tc.ClaudeAgentOptions(transport=FakeCLITransport(script))) as s:
        for _ in range(8):  # trio runs a batch's tasks in random order: try both orders
            scope = trio.CancelScope()

            async def background(scope: trio.CancelScope) -> None:
                with scope:
                    async for _ in s.receive_messages():
                        pass

            async with trio.open_nursery() as nursery:
                nursery.start_soon(background, scope)
                await trio.sleep(0.5)  # it waits in __anext__
                scope.cancel()
                if take_over == "run":
                    assert (await s.run("hi")).result.result == "one"
                else:
                    await s.send("hi")
                    got = [m async for m in s.receive_response()]
                    assert isinstance(got[-1], tc.ResultMessage)


def _openers() -> list[tuple[Any, str, dict[str, Any]]]:
    """Every public ``open_*`` that is an async context manager, with what its block gets and
    the arguments it needs (nothing starts: the result is never entered)."""
    from trio_claude import teams
    from trio_claude.testing import open_claude_test_env, open_fake_model

    return [
        (tc.open_session, "session", {}),
        (tc.open_session_pool, "pool", {}),
        (tc.open_resumable_session, "session", {}),
        (teams.open_team, "team", {"lead": None, "teammates": []}),
        (teams.open_pipeline, "pipeline", {"stages": []}),
        (teams.open_fanout, "fanout", {}),
        (teams.open_supervisor, "supervisor", {}),
        (teams.open_debate, "debate", {"agents": []}),
        (teams.open_blackboard, "team", {"agents": []}),
        (open_fake_model, "model", {}),
        (open_claude_test_env, "env", {"directory": "."}),
    ]


@pytest.mark.parametrize(("opener", "what", "args"), _openers())
async def test_an_open_function_used_without_async_with_says_how_to_use_it(
    opener: Any, what: str, args: dict[str, Any]
) -> None:
    name = opener.__name__
    usage = f"`async with {name}(...) as {what}:`"
    manager = opener(**args)
    with pytest.raises(AttributeError) as info:
        manager.run  # noqa: B018 - the forgotten `async with`: session = open_session()
    assert f"{name}() returns an async context manager" in str(info.value)
    assert usage in str(info.value) and f"`{what}.run`" in str(info.value)
    with pytest.raises(TypeError, match="not a coroutine") as info2:
        await manager
    assert usage in str(info2.value)
    # Not a sync context manager (code that tells the two apart by their methods must see an
    # async one): Python's own error names the class (an AttributeError on 3.10).
    assert not isinstance(manager, contextlib.AbstractContextManager)
    with pytest.raises((TypeError, AttributeError)), manager:
        pass
    assert usage in repr(manager)
    # Dunder lookups (copy, pickle, inspect) see a plain missing attribute.
    assert not hasattr(manager, "__iter__")


async def test_an_opener_entered_twice_says_to_call_it_again() -> None:
    manager = tc.open_session(fake_options())
    async with manager as session:
        assert (await session.run("hi")).result is not None
    with pytest.raises(RuntimeError, match=r"already entered: call open_session\(...\) again"):
        async with manager:
            pass


async def test_open_session_under_async_with_behaves_as_before() -> None:
    # The wrapper delegates: the block gets a session, an error inside comes out unchanged.
    with pytest.raises(KeyError, match="mine"):
        async with tc.open_session(fake_options()) as session:
            assert isinstance(session, tc.Session)
            assert (await session.run("hi")).result is not None
            raise KeyError("mine")
    assert session.closed


def test_every_exported_async_opener_explains_its_misuse() -> None:
    import trio_claude.teams

    exported = {
        name
        for module in (tc, trio_claude.teams)
        for name in module.__all__
        if name.startswith("open_")
    }
    covered = {opener.__name__ for opener, _, _ in _openers()}
    assert exported <= covered, exported - covered


def test_the_sdk_under_asyncio_says_it_runs_on_trio() -> None:
    import asyncio

    async def use_session() -> None:
        async with tc.open_session(fake_options()):
            pass

    async def use_query() -> None:
        async for _ in tc.query(prompt="hi", options=fake_options()):
            pass

    async def use_query_block() -> None:
        async with tc.query(prompt="hi", options=fake_options()):
            pass

    async def use_client() -> None:
        async with tc.ClaudeSDKClient(fake_options()):
            pass

    for use, name in [
        (use_session, "open_session()"),
        (use_query, "query()"),
        (use_query_block, "query()"),
        (use_client, "open_session()"),
    ]:
        with pytest.raises(tc.WrongEventLoopError) as info:
            asyncio.run(use())
        assert f"{name} runs on trio, but this code runs under asyncio" in str(info.value)
        assert "trio.run(main)" in str(info.value)
        assert isinstance(info.value, RuntimeError)


async def test_a_session_used_from_another_trio_run_is_refused_and_stays_usable() -> None:
    script = FakeScript(turns=[FakeTurn.reply("first"), FakeTurn.reply("second")])
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    async with tc.open_session(options) as session:
        assert (await session.run("one")).result is not None

        def elsewhere(call: Any) -> BaseException | None:
            try:
                trio.run(call)
            except BaseException as exc:
                return exc
            return None

        async def receive() -> None:
            async for _ in session.receive_response():
                pass

        calls = [
            lambda: session.run("two"),
            lambda: session.send("two"),
            receive,
            session.interrupt,
            lambda: session.set_permission_mode("plan"),
            session.wait_idle,
            session.aclose,
        ]
        for call in calls:
            error = await trio.to_thread.run_sync(elsewhere, call)
            assert isinstance(error, tc.WrongEventLoopError), error
            assert "belongs to the trio.run() that opened it" in str(error)
        # Nothing was sent or closed: the owner's next turn is the CLI's second.
        assert session.statistics().turns_sent == 1
        assert not session.closed
        assert (await session.run("two")).text == "second"


async def test_awaiting_pool_session_says_how_to_use_it() -> None:
    async with tc.open_session_pool(fake_options(), size=1) as pool:
        with pytest.raises(TypeError, match=r"pool\.session\(\) is an async context manager"):
            await pool.session()  # type: ignore[misc]  # (the misuse mypy also reports)
        async with pool.session() as session:
            assert (await session.run("hi")).result is not None


class _Policy:
    """A callable object: its signature counts without ``self``."""

    async def __call__(self, tool_name: str, tool_input: Any, context: Any) -> Any:
        return tc.PermissionResultAllow()


async def _two_args(a: Any, b: Any) -> None:
    return None


async def _three_args(a: Any, b: Any, c: Any) -> None:
    return None


def _inject_db(function: Any) -> Any:
    """A decorator that passes an argument of its own, and names what it wraps."""

    @functools.wraps(function)
    def wrapper(*args: Any) -> Any:
        return function("db", *args)

    return wrapper


@_inject_db
async def _injected(db: Any, a: Any, b: Any, c: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"can_use_tool": _two_args}, "can_use_tool is called as can_use_tool(tool_name, input"),
        (
            {"hooks": {"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[_two_args])]}},  # type: ignore[list-item]
            "hooks['PreToolUse'] is called as hook(input, tool_use_id, context)",
        ),
        ({"stderr": lambda: None}, "stderr is called as stderr(line)"),
        ({"on_elicitation": _two_args}, "on_elicitation is called as on_elicitation(request)"),
        ({"on_user_dialog": _three_args}, "on_user_dialog is called as on_user_dialog(request)"),
    ],
)
def test_a_callback_with_the_wrong_arguments_is_refused_before_anything_starts(
    fields: dict[str, Any], says: str
) -> None:
    # Before, it failed only when the CLI first called it: a denied tool, a hook error.
    with pytest.raises(tc.ConfigurationError) as info:
        validate_options(tc.ClaudeAgentOptions(**fields))
    assert says in str(info.value)
    assert "cannot take" in str(info.value)


@pytest.mark.parametrize(
    "callback",
    [
        _three_args,
        _Policy(),
        lambda *args: None,
        lambda tool_name, tool_input, context=None, extra=None: None,
        tc.in_thread(lambda tool_name, tool_input, context: None),
        _injected,  # its wrapped signature has four parameters; the wrapper takes any
        print,  # a built-in: its signature is not checked
    ],
)
def test_callbacks_that_take_the_arguments_are_accepted(callback: Any) -> None:
    validate_options(tc.ClaudeAgentOptions(can_use_tool=callback))
    validate_options(
        tc.ClaudeAgentOptions(
            hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[callback])]}
        )
    )


def _blocks() -> list[tuple[str, Any]]:
    """``async with`` forms that collapse their nursery's exception group."""
    from trio_claude import teams

    return [
        ("open_session", lambda: tc.open_session(fake_options())),
        ("query", lambda: tc.query(prompt="hi", options=fake_options())),
        ("open_session_pool", lambda: tc.open_session_pool(fake_options(), size=1)),
        ("open_resumable_session", lambda: tc.open_resumable_session(fake_options())),
        ("open_fanout", lambda: teams.open_fanout()),
    ]


@pytest.mark.parametrize(("name", "block"), _blocks())
async def test_an_error_leaving_a_block_keeps_its_own_cause_and_context(
    name: str, block: Any
) -> None:
    # `raise ... from None` at the collapse erased the cause, and the group became the context.
    with pytest.raises(ValueError) as info:
        async with block():
            try:
                raise KeyError("missing")
            except KeyError as original:
                raise ValueError("mine") from original
    assert isinstance(info.value.__cause__, KeyError)
    assert isinstance(info.value.__context__, KeyError)
    with pytest.raises(ValueError) as info2:
        async with block():
            try:
                raise KeyError("missing")
            except KeyError:
                raise ValueError("implicit")  # noqa: B904 - the implicit chain is the point
    assert info2.value.__cause__ is None
    assert isinstance(info2.value.__context__, KeyError)
    assert not info2.value.__suppress_context__


async def _two_prompts() -> Any:
    yield "one"
    yield "two"


def _blocks_around_a_body() -> list[tuple[str, Any]]:
    """Every ``async with`` of the SDK a user's code runs in, nested forms included."""

    @asynccontextmanager
    async def pool_session() -> Any:
        async with tc.open_session_pool(fake_options(), size=1) as pool, pool.session() as s:
            yield s

    return [
        *_blocks(),
        ("query, streamed input", lambda: tc.query(prompt=_two_prompts(), options=fake_options())),
        ("pool.session", pool_session),
    ]


@pytest.mark.parametrize(("name", "block"), _blocks_around_a_body())
@pytest.mark.parametrize("shape", ["group of two", "group of one", "a nursery of the user's"])
async def test_an_exception_group_the_body_raises_comes_out_as_it_was_raised(
    name: str, block: Any, shape: str
) -> None:
    """Only the SDK's own nursery layers come off: a user's group of two came out wrapped in
    the SDK's nursery group, and a group of one (a user's nursery with one failed child, say)
    was flattened to its leaf, so the user's ``except*`` / ``except ExceptionGroup`` missed."""
    raised: list[BaseException] = []
    with pytest.raises(BaseExceptionGroup) as info:
        async with block():
            if shape == "group of two":
                raised.append(ExceptionGroup("mine", [ValueError("v"), KeyError("k")]))
                raise raised[0]
            if shape == "group of one":
                raised.append(ExceptionGroup("mine", [ValueError("v")]))
                raise raised[0]

            async def fail() -> None:
                raise ValueError("in my nursery")

            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(fail)
            except BaseExceptionGroup as group:
                raised.append(group)
                raise
    assert info.value is raised[0]


async def _from_another_run(call: Any) -> BaseException | None:
    """What ``call()`` raises when awaited in a new ``trio.run`` in a worker thread."""

    def elsewhere() -> BaseException | None:
        try:
            trio.run(call)
        except BaseException as exc:
            return exc
        return None

    return await trio.to_thread.run_sync(elsewhere)


async def test_a_pool_used_from_another_trio_run_is_refused_and_stays_usable() -> None:
    async with tc.open_session_pool(fake_options(), size=1, idle_ttl=30) as pool:
        await pool.wait_ready()

        async def take() -> None:
            async with pool.session():
                pass

        for call in (take, pool.wait_ready, pool.aclose):
            error = await _from_another_run(call)
            assert isinstance(error, tc.WrongEventLoopError), error
        stats = pool.statistics()
        assert stats.ready == 1 and stats.in_use == 0 and stats.handed_out == 0
        async with pool.session() as session:
            assert (await session.run("hi")).result is not None


async def test_a_resumable_session_used_from_another_trio_run_is_refused_and_stays_usable() -> None:
    script = FakeScript(turns=[FakeTurn.reply("first"), FakeTurn.reply("second")])
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    async with tc.open_resumable_session(options) as session:
        assert (await session.run("one")).text == "first"
        for call in (lambda: session.run("two"), session.release, session.aclose):
            error = await _from_another_run(call)
            assert isinstance(error, tc.WrongEventLoopError), error
        assert not session.closed and session.connected
        assert (await session.run("two")).text == "second"


async def test_a_team_used_from_another_trio_run_is_refused_and_stays_usable() -> None:
    from trio_claude import teams

    async with teams.open_fanout() as fan:

        async def submit() -> None:
            fan.submit("elsewhere", options=fake_options())

        async def cancel() -> None:
            fan.cancel()

        # Outstanding, on a permission this run grants only after the other run has called
        # gather() (which would then wait).
        refused_all = trio.Event()

        async def allow_later(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
            await refused_all.wait()
            return tc.PermissionResultAllow()

        ask = Request("can_use_tool", {"tool_name": "Bash", "input": {}, "tool_use_id": "t1"})
        slow = FakeScript(turns=[FakeTurn(steps=[ask, Result(text="x")])])
        fan.submit(
            "here",
            options=tc.ClaudeAgentOptions(
                transport=FakeCLITransport(slow), can_use_tool=allow_later
            ),
        )
        for call in (submit, cancel, fan.gather):
            error = await _from_another_run(call)
            assert isinstance(error, tc.WrongEventLoopError), error
        refused_all.set()
        outcomes = await fan.gather()
    assert [outcome.text for outcome in outcomes] == ["x"]


async def _iterate_query(options: Any) -> None:
    async for _ in tc.query(prompt="hi", options=options):
        pass


async def _enter(opener: Any) -> None:
    async with opener:
        pass


@pytest.mark.parametrize(
    "call",
    [
        lambda o: tc.ask("hi", options=o),
        _iterate_query,
        lambda o: _enter(tc.query("hi", options=o)),
        lambda o: _enter(tc.open_session(o)),
        lambda o: _enter(tc.open_session_pool(o, size=1)),
        lambda o: _enter(tc.open_resumable_session(o)),
        lambda o: _enter(tc.ClaudeSDKClient(o)),
    ],
    ids=["ask", "query-iterator", "query-with", "session", "pool", "resumable", "client"],
)
async def test_options_as_a_dict_are_a_configuration_error_everywhere(call: Any) -> None:
    options = {"transport": FakeCLITransport(FakeScript()), "max_budget_usd": 1.0}
    with pytest.raises(tc.ConfigurationError, match=r"ClaudeAgentOptions\(\*\*d\)"):
        await call(options)


async def test_a_test_env_used_from_another_trio_run_says_so(tmp_path: Path) -> None:
    """Hypothesis runs each example in a trio.run of its own: a claude_env fixture's fake
    model (tasks of the first run) never answered there, and the test hung with no word."""
    from trio_claude.testing import Turn, open_claude_test_env

    async with open_claude_test_env(tmp_path) as env:

        async def in_another_run() -> None:
            env.options([Turn("hi")])

        error = await _from_another_run(in_another_run)
        assert isinstance(error, tc.WrongEventLoopError), error
        assert "open the environment inside the example" in str(error)
        # From a thread with no trio.run at all (open_claude_test_env_blocking's users) it works.
        options = await trio.to_thread.run_sync(lambda: env.options([Turn("hi")]))
        assert options.env is not None


def test_the_blocking_test_env_serves_any_trio_run(tmp_path: Path) -> None:
    """Its fake model runs on a thread of its own: a trio.run may use it (no false alarm)."""
    from trio_claude.testing import Turn, open_claude_test_env_blocking

    async def main() -> tc.ClaudeAgentOptions:
        return env.options([Turn("hi")])

    with open_claude_test_env_blocking(tmp_path) as env:
        assert trio.run(main).env is not None


@pytest.mark.parametrize(
    ("kwargs", "meant"),
    [
        ({"allowed_tool": ["Read"]}, ["'allowed_tool' (did you mean 'allowed_tools'?)"]),
        ({"include_partial_message": True}, ["(did you mean 'include_partial_messages'?)"]),
        ({"Model": "m"}, ["'Model' (did you mean 'model'?)"]),
        (
            {"max_turn": 3, "permision_mode": "plan"},
            ["(did you mean 'max_turns'?)", "(did you mean 'permission_mode'?)"],
        ),
        ({"zzzqqq": 1}, ["unexpected keyword argument 'zzzqqq'"]),
    ],
)
def test_a_misspelt_option_names_the_one_meant(kwargs: dict[str, Any], meant: list[str]) -> None:
    """Python's own TypeError named the unknown keyword only, among ~90 options."""
    with pytest.raises(TypeError) as info:
        tc.ClaudeAgentOptions(**kwargs)
    for text in meant:
        assert text in str(info.value)
    assert str(info.value).startswith("ClaudeAgentOptions() got unexpected keyword argument")


def test_a_misspelt_agent_field_names_the_one_meant_and_good_calls_are_untouched() -> None:
    with pytest.raises(TypeError, match=r"'tool' \(did you mean 'tools'\?\)"):
        tc.AgentDefinition(description="d", prompt="p", tool=["Read"])  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional"):  # other TypeErrors are Python's own
        tc.ClaudeAgentOptions("positional")  # type: ignore[call-arg]
    options = tc.ClaudeAgentOptions(model="a", allowed_tools=["Read"])
    import dataclasses
    import inspect

    assert dataclasses.replace(options, model="b").model == "b"  # type: ignore[type-var]
    assert "allowed_tools" in inspect.signature(tc.ClaudeAgentOptions).parameters


def test_an_agents_official_camelcase_keyword_is_not_reported_as_unexpected() -> None:
    """``AgentDefinition`` takes the official camelCase keywords (``maxTurns``...): another
    mistake in the same call (the missing ``prompt``) was reported as "unexpected keyword
    argument 'maxTurns'", hiding it."""
    with pytest.raises(TypeError) as info:
        tc.AgentDefinition(description="d", maxTurns=3)  # type: ignore[call-arg]
    assert "prompt" in str(info.value) and "maxTurns" not in str(info.value)


def test_a_misspelt_options_error_shows_no_option_value_and_formats_with_its_locals() -> None:
    """The suggesting wrapper's frame held the options as given (env values) and an instance
    whose ``__init__`` never ran (its repr raises): ``TracebackException(capture_locals=True)``
    crashed on 3.10/3.11 and showed the secret."""
    import traceback

    secret = "sk-review-GATEWAY-0123456789abcdef"
    with pytest.raises(TypeError) as info:
        tc.ClaudeAgentOptions(env={"GATEWAY_TOKEN": secret}, modle="m")  # type: ignore[call-arg]
    shown = traceback.TracebackException.from_exception(info.value, capture_locals=True)
    text = "".join(shown.format())
    assert "repr() failed" not in text
    sdk_locals = [
        value
        for exc in (shown, shown.__cause__)
        if exc is not None
        for frame in exc.stack
        if "trio_claude" in frame.filename
        for value in (frame.locals or {}).values()
    ]
    assert sdk_locals and not any(secret in value for value in sdk_locals)
