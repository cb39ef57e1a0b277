"""A sixth adversarial look, at sitting 17 (``2ccc908..51022c1``): background agent task
tracking, the ``ResultError`` for an exit over an error result, continue from a session store
by ``list_sessions`` mtime, and ``CLAUDE_CODE_STREAM_CLOSE_TIMEOUT``. Each failing test says
what went wrong; the short passing ones (``test_guard_...``) keep probes that found nothing."""

from __future__ import annotations

import json
import math
import uuid as uuid_module
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude.testing.fake_cli import Emit, Exit, FakeScript, FakeTurn, Raw, Result, Text

SID = "00000000-0000-4000-8000-000000000001"  # the fake CLI's session id
MAX_TURNS = Result(
    subtype="error_max_turns",
    is_error=True,
    extra={"errors": ["Reached maximum number of turns (1)"]},
)


# ------------------------------------------------------------------ official-style frames


def _init() -> dict[str, Any]:
    return {"type": "system", "subtype": "init", "session_id": SID}


def _assistant(text: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": text}],
        },
        "parent_tool_use_id": None,
        "session_id": SID,
    }


def _error_result() -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "error_max_turns",
        "is_error": True,
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
        "session_id": SID,
        "total_cost_usd": 0.0,
        "errors": ["Reached maximum number of turns (1)"],
    }


def _success_result() -> dict[str, Any]:
    return {**_error_result(), "subtype": "success", "is_error": False, "result": "ok"}


def _task(subtype: str, task_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": "system", "subtype": subtype, "task_id": task_id, "session_id": SID, **fields}


class _Crash:
    """Not a frame: ``read_messages()`` raises here (the CLI died: exit status 1)."""


class Remote:
    """An official-style transport (``connect``/``write``/``read_messages``/``close``/
    ``end_input``): the prompt is answered with ``frames``; a :class:`_Crash` in them makes
    ``read_messages()`` raise; without one, the output ends when stdin is closed."""

    def __init__(self, *frames: dict[str, Any] | _Crash) -> None:
        self.frames = frames
        self.ended_input = False
        self._send, self._recv = trio.open_memory_channel[Any](math.inf)

    async def connect(self) -> None:
        await trio.lowlevel.checkpoint()

    async def write(self, data: str) -> None:
        frame = json.loads(data)
        await trio.lowlevel.checkpoint()
        if frame["type"] == "control_request":
            reply = {"subtype": "success", "request_id": frame["request_id"], "response": {}}
            self._send.send_nowait({"type": "control_response", "response": reply})
        elif frame["type"] == "user":
            for item in self.frames:
                self._send.send_nowait(item)

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        async for item in self._recv:
            if isinstance(item, _Crash):
                raise RuntimeError("Command failed with exit code 1: the CLI crashed")
            yield item

    async def close(self) -> None:
        self._send.close()
        await trio.lowlevel.checkpoint()

    async def end_input(self) -> None:
        self.ended_input = True
        self._send.close()
        await trio.lowlevel.checkpoint()


async def _iterate(transport: Remote) -> tuple[list[Any], BaseException | None]:
    """The iterator form of ``query()`` over ``transport``: the messages, and what it raised."""
    got: list[Any] = []
    with trio.fail_after(900):
        try:
            async for message in tc.query(prompt="go", transport=transport):
                got.append(message)
        except Exception as exc:
            return got, exc
    return got, None


async def _client_messages(script: FakeScript) -> tuple[list[Any], BaseException | None]:
    """``ClaudeSDKClient``: ``query()``, then ``receive_messages()`` to the output's end."""
    options, _ = options_for(script)
    got: list[Any] = []
    with trio.fail_after(900):
        try:
            async with tc.ClaudeSDKClient(options) as client:
                await client.query("go")
                async for message in client.receive_messages():
                    got.append(message)
        except Exception as exc:
            return got, exc
    return got, None


# ===================================================== background agent task bookkeeping


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "system", "subtype": ["task_started"]},
        {"type": "system", "subtype": {"name": "task_started"}},
        _task("task_started", "t1", task_type=["local_agent"]),
        _task("task_updated", "t1", patch={"status": ["completed"]}),
    ],
    ids=["subtype-list", "subtype-object", "task_type-list", "patch-status-list"],
)
async def test_a_task_frame_with_an_unhashable_field_does_not_stop_the_session(
    frame: dict[str, Any], autojump_clock: trio.testing.MockClock
) -> None:
    """One ``system`` frame whose ``subtype`` (or a task's ``task_type``, or a
    ``task_updated`` patch's ``status``) is a JSON array or object: the new task bookkeeping
    tests it with ``in`` against a frozenset (``_connection.py`` ``_on_system``,
    ``subtype in _TASK_FRAMES``; ``_track_agent_task``, ``in _DEFERRING_TASK_TYPES`` /
    ``in _TERMINAL_TASK_STATUSES``), which raises ``TypeError: unhashable type``. The whole
    session stops ("handling the CLI's output failed") and the healthy turn's result is lost.
    Before sitting 17 the same frame was a message like any other (the official parser
    compares ``subtype`` with ``==``)."""
    turn = FakeTurn(steps=[Emit(frame), Text("answer"), Result(text="ok"), Exit(0)])
    got, error = await _client_messages(FakeScript(turns=[turn]))
    assert error is None, f"one odd task frame stopped the session: {error!r}"
    results = [m for m in got if isinstance(m, tc.ResultMessage)]
    assert [r.result for r in results] == ["ok"]


async def test_guard_a_task_left_open_when_the_cli_exits_ends_the_iterator(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: a ``local_agent`` task started and never reported ended, the CLI's output
    ends: the iterator form of ``query()`` ends cleanly (no wait for the task), at once."""
    transport = Remote(
        _init(),
        _task("task_started", "agent-1", task_type="local_agent"),
        _assistant("a"),
        _success_result(),
        {"type": "system", "subtype": "session_state_changed", "state": "idle"},
    )

    async def cli_exits() -> None:
        # The CLI exits by itself (its background agent dies with it): the output ends.
        await trio.sleep(5)
        transport._send.close()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli_exits)
        start = trio.current_time()
        got, error = await _iterate(transport)
    assert error is None
    assert not transport.ended_input, "stdin closed while the agent ran"
    assert sum(isinstance(m, tc.ResultMessage) for m in got) == 1
    assert trio.current_time() - start <= 10


async def test_guard_a_background_agent_keeps_stdin_open_until_it_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: the iterator form keeps stdin open while a ``local_agent`` task runs past the
    result, and closes it once the follow-up turn's result arrives with no task left."""

    transport = Remote(
        _init(),
        _task("task_started", "agent-1", task_type="local_agent"),
        _assistant("first"),
        _success_result(),
        {"type": "system", "subtype": "session_state_changed", "state": "idle"},
    )

    async def finish_the_agent() -> None:
        await trio.sleep(30)
        assert not transport.ended_input, "stdin closed while the agent ran"
        transport._send.send_nowait(_task("task_notification", "agent-1", status="completed"))
        transport._send.send_nowait(_assistant("follow-up"))
        transport._send.send_nowait(_success_result())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(finish_the_agent)
        got, error = await _iterate(transport)
    assert error is None
    assert transport.ended_input
    assert sum(isinstance(m, tc.ResultMessage) for m in got) == 2


# ====================================================== the exit over an error result


async def test_iterator_a_crash_after_the_conversation_moved_on_is_a_process_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The iterator form of ``query()``: an error result, then the CLI goes on (a follow-up
    turn after a background agent: an assistant message), then dies (exit 1). The official
    SDK resets its last error result on any later message ("a ProcessError now is a fresh
    crash") and raises ``ProcessError``; ``_PullQuery._deliver`` resets
    ``_last_error_result`` the same way, but ``_exit.process_error`` (new in sitting 17)
    builds a ``ResultError`` from ``OutputEnd.last_result``, the last result ever read: the
    crash of the later turn is reported as the old turn's "maximum number of turns"."""
    transport = Remote(_init(), _assistant("a"), _error_result(), _assistant("later"), _Crash())
    got, error = await _iterate(transport)
    assert [type(m).__name__ for m in got] == [
        "InitMessage",
        "AssistantMessage",
        "ResultMessage",
        "AssistantMessage",
    ]
    assert isinstance(error, tc.ProcessError)
    assert not isinstance(error, tc.ResultError), (
        f"a crash after the conversation moved on is blamed on the old error result: {error}"
    )


async def test_guard_iterator_an_exit_right_over_an_error_result_is_a_result_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard (the official behaviour): the error result is the last message before the exit:
    ``ResultError`` with the exit status."""
    got, error = await _iterate(Remote(_init(), _assistant("a"), _error_result(), _Crash()))
    assert isinstance(error, tc.ResultError)
    assert error.exit_code == 1
    assert isinstance(got[-1], tc.ResultMessage)


@pytest.mark.parametrize("code", [1, 2])
async def test_client_a_crash_after_the_conversation_moved_on_is_a_process_error(
    code: int, autojump_clock: trio.testing.MockClock
) -> None:
    """``ClaudeSDKClient.receive_messages()``: an error result, then a later message (the
    conversation moved on), then the CLI dies. The official client raises the crash as a
    ``ProcessError``. Here ``Session._last_result`` is the last result ever read, never
    reset by later messages: exit 1 is swallowed as "the exit over an error result"
    (``Session._raise_end_error``), so the crash is lost and the stream just ends; exit 2
    becomes a ``ResultError`` quoting the old result (``_exit.process_error``)."""
    turn = FakeTurn(
        steps=[Text("a"), MAX_TURNS, Text("a later turn"), Exit(code, stderr="the CLI crashed")]
    )
    got, error = await _client_messages(FakeScript(turns=[turn]))
    assert [type(m).__name__ for m in got][-2:] == ["ResultMessage", "AssistantMessage"]
    assert isinstance(error, tc.ProcessError), f"the crash (exit {code}) was lost"
    assert not isinstance(error, tc.ResultError), (
        f"a crash after the conversation moved on is blamed on the old error result: {error}"
    )


def _result_line(depth: int) -> str:
    inner = "[" * depth + '"deep"' + "]" * depth
    return (
        '{"type":"result","subtype":"error_during_execution","is_error":true,'
        '"duration_ms":1,"duration_api_ms":1,"num_turns":1,'
        f'"session_id":"{SID}","total_cost_usd":0,"errors":[{inner}]}}\n'
    )


async def test_an_error_result_with_deeply_nested_errors_then_an_exit_is_a_process_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An error result whose ``errors`` holds a value nested 1,000 deep (valid JSON, read by
    orjson, decoded since ``errors`` is ``list[Any]``), then the CLI exits 2.
    ``_exit.process_error`` (line 111) runs ``str(e)`` on every entry: ``RecursionError``.
    The session stops with "handling the CLI's output failed (RecursionError...)": the exit's
    ``ProcessError`` (or ``ResultError``) is lost. The result text already reads only the
    string entries (``_error_entries``); the diagnosis should too."""
    turn = FakeTurn(steps=[Text("a"), Raw(_result_line(1000)), Exit(2, stderr="crash")])
    got, error = await _client_messages(FakeScript(turns=[turn]))
    assert isinstance(error, tc.ProcessError), f"the exit's error was lost: {error!r}"
    assert any(isinstance(m, tc.ResultMessage) for m in got)


# ======================================================== continue from a session store


def _entry(session_id: str, *, sidechain: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "user",
        "uuid": str(uuid_module.uuid4()),
        "sessionId": session_id,
        "parentUuid": None,
        "timestamp": "2024-01-01T00:00:00Z",
        "message": {"role": "user", "content": "hi"},
    }
    if sidechain:
        entry["isSidechain"] = True
    return entry


class ListingStore:
    """A session store whose ``list_sessions`` answers ``listing`` as given."""

    def __init__(self, listing: Any, sessions: dict[str, list[Any]] | None = None) -> None:
        self.listing = listing
        self.sessions = sessions or {}

    async def append(self, key: tc.SessionKey, entries: list[Any]) -> None:
        await trio.lowlevel.checkpoint()

    async def load(self, key: tc.SessionKey) -> list[Any] | None:
        await trio.lowlevel.checkpoint()
        return self.sessions.get(key["session_id"])

    async def list_sessions(self, project_key: str) -> Any:
        await trio.lowlevel.checkpoint()
        return self.listing


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home: nothing of the real user's configuration is copied."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return path


async def _resumed(store: Any, tmp_path: Path) -> str | None:
    """Opens a session continuing from ``store``; the ``--resume`` the CLI was started with.
    (Real clock: the resume copies files in threads.)"""
    options, transport = options_for(
        FakeScript(), session_store=store, continue_conversation=True, cwd=str(tmp_path)
    )
    with trio.fail_after(60):
        async with tc.open_session(options):
            pass
    for arg in transport.specs[0].argv:
        if arg.startswith("--resume="):
            return arg.removeprefix("--resume=")
    return None


MAIN = str(uuid_module.uuid4())
NEWER = str(uuid_module.uuid4())


@pytest.mark.parametrize(
    ("newest_id", "newest_entries"),
    [
        (NEWER, [_entry(NEWER, sidechain=True)]),
        ("not-a-session-uuid", [_entry(MAIN)]),
        (NEWER, []),
    ],
    ids=["sidechain", "not-a-uuid", "empty"],
)
async def test_continue_from_a_store_skips_a_newer_session_it_cannot_resume(
    newest_id: str, newest_entries: list[Any], tmp_path: Path, home: Path
) -> None:
    """``continue_conversation`` with a store: the newest session by mtime is a subagent's
    sidechain transcript (the official test says they "often have the highest mtime"), or
    has an id that is not a UUID, or has no entries. The official SDK
    (``_resolve_continue_candidate``) walks newest to oldest and skips each, resuming the
    user's main session. ``_mirror.prepare_store_resume`` (rewritten in sitting 17 to take
    ``max(mtime)`` instead of ``list_sessions_from_store``, which dropped sidechains) takes
    the newest whatever it is: it resumes the subagent's transcript, or refuses
    (``SessionValueError`` / ``SessionNotFoundError``) though a session to continue is there."""
    store = ListingStore(
        [{"session_id": MAIN, "mtime": 1000}, {"session_id": newest_id, "mtime": 2000}],
        {MAIN: [_entry(MAIN)], newest_id: newest_entries},
    )
    try:
        resumed = await _resumed(store, tmp_path)
    except tc.ClaudeSDKError as exc:
        pytest.fail(f"continue refused though {MAIN} can be continued: {exc!r}")
    assert resumed == MAIN, f"continued {resumed}, not the newest main session {MAIN}"


@pytest.mark.parametrize("listing", [None, 42], ids=["none", "a-number"])
async def test_continue_from_a_store_whose_list_sessions_answers_no_list_is_typed(
    listing: Any, tmp_path: Path, home: Path
) -> None:
    """A store whose ``list_sessions`` answers ``None`` (no sessions, as some stores say it;
    the official SDK reads any falsy answer as none) or something else that is not a list:
    ``prepare_store_resume`` iterates it and a raw ``TypeError`` ("'NoneType' object is not
    iterable") escapes ``open_session``, from trio-claude's own code, not the store's."""
    with pytest.raises(tc.ClaudeSDKError):
        await _resumed(ListingStore(listing), tmp_path)


async def test_guard_continue_from_a_store_picks_the_newest_main_session(
    tmp_path: Path, home: Path
) -> None:
    """Guard: two main sessions, odd entries in the listing (no mtime, a string mtime, not a
    dict) ignored: the newer one is continued."""
    store = ListingStore(
        [
            {"session_id": MAIN, "mtime": 1000},
            {"session_id": NEWER, "mtime": 2000},
            {"session_id": str(uuid_module.uuid4())},
            {"session_id": str(uuid_module.uuid4()), "mtime": "3000"},
            "junk",
        ],
        {MAIN: [_entry(MAIN)], NEWER: [_entry(NEWER)]},
    )
    assert await _resumed(store, tmp_path) == NEWER


async def test_guard_continue_from_a_store_whose_list_sessions_hangs_is_bounded(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Guard: ``list_sessions`` never answers: ``SessionStoreError`` at ``load_timeout_ms``."""

    class Hanging(ListingStore):
        async def list_sessions(self, project_key: str) -> Any:
            await trio.sleep_forever()

    options, _ = options_for(
        FakeScript(),
        session_store=Hanging([]),
        continue_conversation=True,
        load_timeout_ms=5000,
        cwd=str(tmp_path),
    )
    start = trio.current_time()
    with trio.fail_after(60), pytest.raises(tc.SessionStoreError):
        async with tc.open_session(options):
            pass
    assert trio.current_time() - start <= 6


# ================================================ CLAUDE_CODE_STREAM_CLOSE_TIMEOUT


@pytest.mark.parametrize("value", ["abc", "", "nan", "inf", "-inf", "1e400", "-5000", "0x10"])
async def test_guard_a_garbage_stream_close_timeout_keeps_the_initialize_timeout(
    value: str, monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    """Guard: ``CLAUDE_CODE_STREAM_CLOSE_TIMEOUT`` set to garbage, a CLI that never answers
    ``initialize``: the session fails, typed, at ``initialize_timeout`` (no hang)."""
    monkeypatch.setenv("CLAUDE_CODE_STREAM_CLOSE_TIMEOUT", value)
    options, _ = options_for(FakeScript(answer_initialize=False), initialize_timeout=10)
    start = trio.current_time()
    with trio.fail_after(600), pytest.raises(tc.CLIConnectionError):
        async with tc.open_session(options):
            pass
    assert trio.current_time() - start <= 20


async def test_guard_a_longer_stream_close_timeout_lengthens_the_initialize_wait(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    """Guard: ``CLAUDE_CODE_STREAM_CLOSE_TIMEOUT=120000`` (ms) waits 120 s, not 10."""
    monkeypatch.setenv("CLAUDE_CODE_STREAM_CLOSE_TIMEOUT", "120000")
    options, _ = options_for(FakeScript(answer_initialize=False), initialize_timeout=10)
    start = trio.current_time()
    with trio.fail_after(600), pytest.raises(tc.CLIConnectionError):
        async with tc.open_session(options):
            pass
    assert 110 <= trio.current_time() - start <= 200
