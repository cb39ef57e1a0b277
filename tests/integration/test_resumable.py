"""The resumable session over the in-process fake CLI: respawn with --resume, bounds, idle release.

A "crash" is ``child.kill()`` on the in-process fake (its streams close and it reports -SIGKILL,
as a killed process would) or a ``Kill()`` step in a scripted turn. Every start can get its own
script (:class:`ScriptsTransport`), so a respawned CLI behaves differently from the one it
replaces.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest
import trio
import trio.testing
from trio.testing import wait_all_tasks_blocked

import trio_claude as tc
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude.testing.fake_cli import (
    Exit,
    FakeCLI,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Hang,
    Kill,
    Result,
    Sleep,
    Text,
    WaitForInterrupt,
)

SID = FakeScript().session_id


class ScriptsTransport(FakeCLITransport):
    """The in-process fake CLI; the n-th start runs the n-th script (the last one repeats)."""

    def __init__(self, *scripts: FakeScript) -> None:
        super().__init__(scripts[0])
        self.scripts = scripts
        self.children: list[ChildProcess] = []
        self.fakes: list[FakeCLI] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.script = self.scripts[min(len(self.specs), len(self.scripts) - 1)]
        child = await super().start(spec, nursery)
        assert self.fake is not None
        self.children.append(child)
        self.fakes.append(self.fake)
        return child

    def argv(self, index: int) -> list[str]:
        return list(self.specs[index].argv)


def reply(*texts: str) -> FakeScript:
    return FakeScript(turns=[FakeTurn.reply(text) for text in texts])


def dies_on_turn(turn: int, *before: str) -> FakeScript:
    """Answers ``before``, then dies (SIGKILL) during turn number ``turn`` (0-based)."""
    turns = [FakeTurn.reply(text) for text in before]
    assert len(turns) == turn
    turns.append(FakeTurn(steps=[Text("partial"), Kill()]))
    return FakeScript(turns=turns)


def prompts(fake: FakeCLI) -> list[Any]:
    return [f["message"]["content"] for f in fake.received if f.get("type") == "user"]


def flag(argv: list[str], name: str) -> str | None:
    """The value of ``--name value`` or ``--name=value`` in ``argv``."""
    for i, token in enumerate(argv):
        if token == name:
            return argv[i + 1]
        if token.startswith(name + "="):
            return token.split("=", 1)[1]
    return None


def has_resume_flags(argv: list[str]) -> bool:
    return any(
        t.startswith(("--resume", "--continue", "--session-id", "--fork-session")) for t in argv
    )


async def kill_cli(transport: ScriptsTransport, session: tc.ResumableSession) -> None:
    transport.children[-1].kill()
    await wait_all_tasks_blocked()
    assert not session.connected and session.pid is None


async def test_a_cli_killed_while_idle_is_resumed_by_the_next_send() -> None:
    transport = ScriptsTransport(reply("one"), reply("two"))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options) as session:
        assert session.connected
        assert (await session.run("first")).text == "one"
        assert session.session_id == SID
        await kill_cli(transport, session)
        assert transport.children[0].returncode == -signal.SIGKILL
        assert (await session.run("second")).text == "two"
        assert session.connected and session.session_id == SID and session.respawns == 1
        stats = session.statistics()
        assert (stats.starts, stats.respawns, stats.consecutive_failures) == (2, 1, 0)
        assert stats.session is not None and stats.session.results_received == 1
    assert not has_resume_flags(transport.argv(0))
    assert flag(transport.argv(1), "--resume") == SID
    assert not any(t.startswith(("--fork-session", "--session-id")) for t in transport.argv(1))
    assert prompts(transport.fakes[1]) == ["second"]


async def test_a_cli_that_dies_mid_turn_fails_that_turn_and_the_prompt_is_not_replayed() -> None:
    transport = ScriptsTransport(dies_on_turn(1, "one"), reply("after"))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options) as session:
        assert (await session.run("first")).text == "one"
        with pytest.raises(tc.ProcessError) as info:
            await session.run("with side effects")
        assert info.value.exit_code == -signal.SIGKILL
        assert not session.connected and session.respawns == 0  # nothing restarted by itself
        assert (await session.run("next")).text == "after"
        assert session.respawns == 1
    assert flag(transport.argv(1), "--resume") == SID
    # The new CLI got only the new prompt: the one whose turn died was not sent again.
    assert prompts(transport.fakes[1]) == ["next"]


async def test_receive_response_after_a_death_mid_turn_raises_the_typed_error() -> None:
    transport = ScriptsTransport(dies_on_turn(0), reply("back"))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.send("go")
        seen = []
        with pytest.raises(tc.ProcessError):
            async for message in session.receive_response():
                seen.append(message)
        assert any(isinstance(m, tc.AssistantMessage) for m in seen)
        await session.send("again")
        texts = [
            m.result async for m in session.receive_response() if isinstance(m, tc.ResultMessage)
        ]
        assert texts == ["back"]


@pytest.mark.parametrize(
    "original",
    [
        {"resume": "11111111-1111-4111-8111-111111111111", "fork_session": True},
        {
            "resume": "11111111-1111-4111-8111-111111111111",
            "fork_session": True,
            "session_id": "22222222-2222-4222-8222-222222222222",
        },
        {"continue_conversation": True},
        {"session_id": "22222222-2222-4222-8222-222222222222"},
    ],
)
async def test_a_respawn_resumes_the_conversation_and_drops_conflicting_options(
    original: dict[str, Any],
) -> None:
    transport = ScriptsTransport(reply("one"), reply("two"))
    options = tc.ClaudeAgentOptions(transport=transport, **original)
    async with tc.open_resumable_session(options) as session:
        await session.run("first")
        await kill_cli(transport, session)
        await session.run("second")
    assert has_resume_flags(transport.argv(0))
    respawned = transport.argv(1)
    assert flag(respawned, "--resume") == SID  # the id the CLI reported, not the original
    assert not any(
        t.startswith(("--fork-session", "--session-id", "--continue", "--resume-session-at"))
        for t in respawned
    )


async def test_a_hung_cli_closed_as_broken_is_replaced_by_the_next_send(
    autojump_clock: trio.testing.MockClock,
) -> None:
    hung = FakeScript(
        turns=[FakeTurn.reply("one"), FakeTurn(steps=[Text("x"), Hang()])],
        unanswered=("interrupt",),
    )
    transport = ScriptsTransport(hung, reply("fresh CLI"))
    options = tc.ClaudeAgentOptions(transport=transport, stall_timeout=30, interrupt_timeout=5)
    async with tc.open_resumable_session(options) as session:
        await session.run("first")
        with pytest.raises(tc.StallTimeoutError):
            await session.run("hangs")
        # The interrupt is never answered: the session closes that CLI as broken, and the
        # next send (which waited for it) goes to a new CLI that resumes the conversation.
        assert (await session.run("next")).text == "fresh CLI"
        assert session.respawns == 1
    assert flag(transport.argv(1), "--resume") == SID
    assert prompts(transport.fakes[1]) == ["next"]


async def test_a_cli_that_dies_before_any_turn_is_answered_is_started_afresh() -> None:
    transport = ScriptsTransport(dies_on_turn(0), reply("fresh"))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        with pytest.raises(tc.ProcessError):
            await session.run("first")
        assert (await session.run("second")).text == "fresh"
        assert session.respawns == 1
    # No turn was ever answered: there is no conversation to resume.
    assert not has_resume_flags(transport.argv(1))


async def test_a_cli_killed_right_after_it_started_is_started_afresh() -> None:
    transport = ScriptsTransport(reply("never"), reply("fresh"))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        assert session.session_id is None
        await kill_cli(transport, session)
        assert (await session.run("hello")).text == "fresh"
    assert not has_resume_flags(transport.argv(1))


async def test_original_resume_is_kept_until_a_turn_is_answered() -> None:
    original = "11111111-1111-4111-8111-111111111111"
    transport = ScriptsTransport(reply("never"), reply("resumed"))
    options = tc.ClaudeAgentOptions(transport=transport, resume=original)
    async with tc.open_resumable_session(options) as session:
        await kill_cli(transport, session)
        await session.run("hello")
    assert flag(transport.argv(1), "--resume") == original


async def test_respawns_in_a_row_are_bounded_then_the_session_is_broken() -> None:
    transport = ScriptsTransport(dies_on_turn(0))  # every CLI dies on its first turn
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options, max_respawns=2) as session:
        for _ in range(3):  # the first CLI, then two respawns: each turn dies
            with pytest.raises(tc.ProcessError):
                await session.run("go")
        assert session.respawns == 2
        assert session.statistics().consecutive_failures == 2
        with pytest.raises(tc.ProcessError) as info:  # a third respawn would be needed
            await session.run("go")
        assert info.value.exit_code == -signal.SIGKILL  # the last death's error
        assert session.closed
        with pytest.raises(tc.SessionClosedError, match="gave up after 2 respawns"):
            await session.send("go")
    assert len(transport.specs) == 3


async def test_a_completed_turn_resets_the_respawn_count() -> None:
    transport = ScriptsTransport(
        dies_on_turn(0),
        dies_on_turn(1, "ok 1"),
        dies_on_turn(1, "ok 2"),
        reply("ok 3"),
    )
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options, max_respawns=1) as session:
        outcomes = []
        for _ in range(6):
            try:
                outcomes.append((await session.run("go")).text)
            except tc.ProcessError:
                outcomes.append("died")
        assert outcomes == ["died", "ok 1", "died", "ok 2", "died", "ok 3"]
        assert session.respawns == 3  # more than max_respawns: never two deaths in a row
        assert not session.closed


async def test_max_respawns_zero_never_respawns() -> None:
    transport = ScriptsTransport(dies_on_turn(0))
    async with tc.open_resumable_session(
        tc.ClaudeAgentOptions(transport=transport), max_respawns=0
    ) as session:
        with pytest.raises(tc.ProcessError):
            await session.run("go")
        with pytest.raises(tc.ProcessError):
            await session.run("go")
        with pytest.raises(tc.SessionClosedError):
            await session.run("go")
    assert len(transport.specs) == 1


async def test_failed_restarts_count_toward_the_bound(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = ScriptsTransport(reply("one"), FakeScript(on_initialize=[Exit(3, "no memory")]))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options, max_respawns=2) as session:
        await session.run("first")
        await kill_cli(transport, session)
        for _ in range(2):  # two attempts, each a start that fails
            with pytest.raises(tc.ProcessError) as info:
                await session.run("again")
            assert info.value.exit_code == 3
        with pytest.raises(tc.ProcessError) as info:
            await session.run("again")
        assert info.value.exit_code == 3 and session.closed
    assert len(transport.specs) == 3


async def test_runtime_settings_survive_a_respawn() -> None:
    transport = ScriptsTransport(reply("one"), reply("two"), reply("three"))
    options = tc.ClaudeAgentOptions(
        transport=transport, model="claude-a", fallback_model="claude-b"
    )
    async with tc.open_resumable_session(options) as session:
        await session.run("first")
        await session.set_model("claude-b")
        await session.set_permission_mode("acceptEdits")
        assert (transport.fakes[0].model, transport.fakes[0].permission_mode) == (
            "claude-b",
            "acceptEdits",
        )
        await kill_cli(transport, session)
        await session.run("second")
        # While no CLI is live a setting is only recorded: no CLI is started for it.
        await kill_cli(transport, session)
        await session.set_model("claude-c")
        await session.set_permission_mode("plan")
        assert session.statistics().starts == 2
        await session.run("third")
        assert session.options.model == "claude-c"
    second, third = transport.argv(1), transport.argv(2)
    assert (flag(second, "--model"), flag(second, "--permission-mode")) == (
        "claude-b",
        "acceptEdits",
    )
    assert flag(second, "--fallback-model") is None  # equal to the model: the CLI would refuse
    assert (flag(third, "--model"), flag(third, "--permission-mode")) == ("claude-c", "plan")


async def test_interrupt_and_collect_without_a_live_cli() -> None:
    transport = ScriptsTransport(reply("one"), reply("two"))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await kill_cli(transport, session)
        assert await session.interrupt() == tc.InterruptResult()  # nothing to interrupt
        assert await session.release() is False
        assert session.statistics().starts == 1
        await session.send("x")
        turn = await session.collect_response()
        assert turn.text == "two"


def slow_start(*turns: FakeTurn) -> FakeScript:
    """A CLI that takes 10 s to start (to answer ``initialize``), then plays ``turns``."""
    return FakeScript(on_initialize=[Sleep(10)], turns=list(turns))


def sent_frames(fake: FakeCLI) -> list[str]:
    """What the SDK sent the fake, in order: ``user`` frames and control request subtypes."""
    return [
        f["type"] if f.get("type") == "user" else f["request"]["subtype"]
        for f in fake.received
        if f.get("type") == "user"
        or (f.get("type") == "control_request" and f["request"]["subtype"] != "initialize")
    ]


def long_turn() -> FakeTurn:
    return FakeTurn(steps=[Text("working"), Sleep(1000), Result(text="ran to completion")])


async def run_and_interrupt(
    session: tc.Session | tc.ResumableSession, after: float
) -> tuple[object, tc.InterruptResult, float]:
    """``run()`` in a task, ``interrupt()`` ``after`` seconds later; returns the outcome of the
    run (its result or its error), the receipt, and when ``interrupt()`` returned."""
    outcome: list[object] = []

    async def run() -> None:
        try:
            outcome.append(await session.run("second"))
        except tc.ClaudeSDKError as exc:
            outcome.append(exc)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        await trio.sleep(after)
        receipt = await session.interrupt()
        returned_at = trio.current_time()
    return outcome[0], receipt, returned_at


@pytest.mark.parametrize("gone", ["killed", "released"])
async def test_interrupt_during_a_respawn_interrupts_the_turn_being_started(
    autojump_clock: trio.testing.MockClock, gone: str
) -> None:
    transport = ScriptsTransport(reply("one"), slow_start(long_turn(), FakeTurn.reply("three")))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.run("first")
        if gone == "killed":
            await kill_cli(transport, session)
        else:
            await wait_all_tasks_blocked()
            assert await session.release() is True
        assert not session.connected
        start = trio.current_time()
        error, receipt, interrupted_at = await run_and_interrupt(session, 5)  # while it starts
        assert isinstance(receipt, tc.InterruptResult)
        assert interrupted_at - start >= 10  # it waited for the new CLI, then interrupted it
        assert trio.current_time() - start < 1000  # the turn did not run its course
        fake = transport.fakes[1]
        assert fake.interrupts == 1
        # The prompt first, then the interrupt: the interrupt stops that prompt's turn.
        assert sent_frames(fake) == ["user", "interrupt"]
        assert (await session.run("third")).text == "three"  # the session goes on
    # What an interrupted run() gives on a plain session: the same error, from the same result.
    plain = FakeCLITransport(FakeScript(turns=[long_turn()]))
    async with tc.open_session(tc.ClaudeAgentOptions(transport=plain)) as s:
        reference, _, _ = await run_and_interrupt(s, 5)
    assert isinstance(error, tc.ResultError) and isinstance(reference, tc.ResultError)
    assert (error.subtype, error.terminal_reason, str(error)) == (
        reference.subtype,
        reference.terminal_reason,
        str(reference),
    )
    assert error.subtype == "error_during_execution"


async def test_interrupt_during_a_respawn_by_send_interrupts_that_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    waits = FakeTurn(steps=[Text("working"), WaitForInterrupt()])
    transport = ScriptsTransport(reply("one"), slow_start(waits))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.run("first")
        await kill_cli(transport, session)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(session.send, "second")
            await trio.sleep(5)
            await session.interrupt()
        with trio.fail_after(100):  # without the interrupt, the turn would never end
            results = [
                m async for m in session.receive_response() if isinstance(m, tc.ResultMessage)
            ]
        assert [(r.is_error, r.subtype) for r in results] == [(True, "error_during_execution")]
        assert sent_frames(transport.fakes[1]) == ["user", "interrupt"]


async def test_interrupt_with_no_cli_and_no_start_under_way_has_nothing_to_interrupt(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = ScriptsTransport(reply("one"), reply("two"))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.run("first")
        await wait_all_tasks_blocked()
        assert await session.release() is True
        start = trio.current_time()
        assert await session.interrupt() == tc.InterruptResult()  # at once, starting nothing
        assert trio.current_time() == start
        assert session.statistics().starts == 1 and not session.connected
        assert (await session.run("second")).text == "two"
        assert transport.fakes[1].interrupts == 0  # nothing was carried over to the next CLI


async def test_interrupt_waiting_for_a_start_that_fails_has_nothing_to_interrupt(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fails = FakeScript(on_initialize=[Sleep(10), Exit(3, "no memory")])
    transport = ScriptsTransport(reply("one"), fails, reply("three"))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.run("first")
        await kill_cli(transport, session)
        error, receipt, interrupted_at = await run_and_interrupt(session, 5)
        # The start failed: no turn ran, the run() says why, the interrupt had nothing to stop.
        assert isinstance(error, tc.ProcessError) and error.exit_code == 3
        assert receipt == tc.InterruptResult()
        assert interrupted_at >= 10
        assert (await session.run("third")).text == "three"
        assert transport.fakes[2].interrupts == 0


async def test_an_interrupt_cancelled_while_waiting_for_a_start_sends_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    turn = FakeTurn(steps=[Text("working"), Sleep(100), Result(text="ran to completion")])
    transport = ScriptsTransport(reply("one"), slow_start(turn))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.run("first")
        await kill_cli(transport, session)
        texts: list[str | None] = []

        async def run() -> None:
            texts.append((await session.run("second")).text)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run)
            await trio.sleep(5)
            with trio.move_on_after(2) as scope:
                await session.interrupt()
            assert scope.cancelled_caught
        assert texts == ["ran to completion"]
        assert transport.fakes[1].interrupts == 0
        assert sent_frames(transport.fakes[1]) == ["user"]
        assert session.statistics().consecutive_failures == 0  # the turn completed


# ------------------------------------------------------------------------- idle release


async def test_idle_timeout_releases_the_cli_and_the_next_send_resumes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = ScriptsTransport(reply("one"), reply("two"))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options, idle_timeout=60) as session:
        assert (await session.run("first")).text == "one"
        await trio.sleep(59)
        assert session.connected
        await trio.sleep(2)
        assert not session.connected and session.session_id == SID
        assert transport.children[0].returncode == 0  # closed gracefully (stdin closed)
        assert session.statistics().idle_releases == 1
        assert (await session.run("second")).text == "two"
        assert session.respawns == 0 and session.statistics().consecutive_failures == 0
    assert flag(transport.argv(1), "--resume") == SID


async def test_an_idle_session_that_never_had_a_turn_is_released_and_starts_afresh(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = ScriptsTransport(reply("unused"), reply("fresh"))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options, idle_timeout=10) as session:
        await trio.sleep(11)
        assert not session.connected
        assert (await session.run("hi")).text == "fresh"
    assert not has_resume_flags(transport.argv(1))


async def test_idle_timeout_never_releases_a_running_or_unread_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    slow = FakeTurn(steps=[Text("thinking"), Sleep(1000), Result(text="slow")])
    transport = ScriptsTransport(FakeScript(turns=[slow, slow]))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_resumable_session(options, idle_timeout=10) as session:
        # A caller waiting for a long turn.
        assert (await session.run("one")).text == "slow"
        # A turn nobody is waiting for: sent, then left running, then left unread.
        await session.send("two")
        await trio.sleep(500)
        assert session.connected
        await trio.sleep(1000)  # its result is in, unread
        assert session.connected
        assert [
            m.result async for m in session.receive_response() if isinstance(m, tc.ResultMessage)
        ] == ["slow"]
        assert session.connected
        await trio.sleep(11)
        assert not session.connected
        assert session.statistics().idle_releases == 1
    assert len(transport.specs) == 1


async def test_a_call_in_progress_keeps_the_cli(autojump_clock: trio.testing.MockClock) -> None:
    transport = ScriptsTransport(reply("one"), FakeScript(unanswered=("set_model",)))
    options = tc.ClaudeAgentOptions(transport=transport, control_timeout=100)
    async with tc.open_resumable_session(options, idle_timeout=10) as session:
        await session.run("first")
        await kill_cli(transport, session)
        await session.run("second")  # on the second fake, which never answers set_model
        with pytest.raises(tc.ControlTimeoutError):
            await session.set_model("other")  # 100 s without an answer, with the CLI kept
        assert session.connected
        await trio.sleep(11)
        assert not session.connected


async def test_release_closes_only_an_idle_cli(autojump_clock: trio.testing.MockClock) -> None:
    slow = FakeTurn(steps=[Text("x"), Sleep(10), Result(text="done")])
    transport = ScriptsTransport(FakeScript(turns=[slow]), reply("again"))
    async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.send("go")
        assert await session.release() is False  # a turn is open
        assert [m async for m in session.receive_response()]
        await wait_all_tasks_blocked()  # the CLI reports itself idle right after the result
        assert await session.release() is True
        assert await session.release() is False  # nothing left to release
        assert (await session.run("more")).text == "again"
        assert session.statistics().idle_releases == 1


# -------------------------------------------------------------------------- lifecycle


async def test_closing_is_final_and_leaves_nothing_running() -> None:
    transport = ScriptsTransport(reply("one"))
    async with tc.open_resumable_session(
        tc.ClaudeAgentOptions(transport=transport), idle_timeout=5
    ) as session:
        await session.run("first")
        await session.aclose()
        await session.aclose()  # idempotent
        assert session.closed and not session.connected
        with pytest.raises(tc.SessionClosedError, match="closed"):
            await session.send("more")
    assert transport.children[0].returncode == 0


async def test_a_start_failure_at_open_is_raised_unwrapped() -> None:
    transport = ScriptsTransport(FakeScript(on_initialize=[Exit(2)]))
    with pytest.raises(tc.ProcessError):
        async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport)):
            pytest.fail("opened")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_respawns": -1}, "max_respawns"),
        ({"max_respawns": True}, "max_respawns"),
        ({"idle_timeout": 0}, "idle_timeout"),
        ({"idle_timeout": float("nan")}, "idle_timeout"),
    ],
)
async def test_bad_arguments_are_configuration_errors(kwargs: dict[str, Any], match: str) -> None:
    transport = ScriptsTransport(reply("x"))
    with pytest.raises(tc.ConfigurationError, match=match):
        async with tc.open_resumable_session(tc.ClaudeAgentOptions(transport=transport), **kwargs):
            pass
    assert transport.specs == []
