"""The three facades (``trio_claude.blocking``, ``ClaudeSDKClient``, ``query()``) with session
stores, callbacks and errors, as their users hit them.

The CLI is the in-process fake (``FakeCLITransport``; a hand-driven ``ManualChild`` for the
iterator form of ``query()``), which mirrors its transcript with ``transcript_mirror`` frames
under ``CLAUDE_CONFIG_DIR``. The blocking tests are sync ``def``s (real threads; timeouts only
as hang guards); the async ones run on trio's mock clock where a store is slow or hangs.
"""

from __future__ import annotations

import threading
import time
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
import trio_claude.blocking as tcb
from tests.faults._support import HostedTransport, ManualChild, result_frame
from tests.integration._blocking_support import facade_threads
from trio_claude._session_store import project_key_for_directory
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Text,
)

SID = "22222222-2222-4222-8222-222222222222"
HANG_GUARD = 30.0


def _entries(tag: str, n: int = 2) -> list[dict[str, Any]]:
    return [{"type": "user", "uuid": f"{tag}-{i}", "n": i} for i in range(n)]


def _mirror_frame(
    config: Path, entries: list[dict[str, Any]], project: str = "p"
) -> dict[str, Any]:
    return {
        "type": "transcript_mirror",
        "filePath": str(config / "projects" / project / f"{SID}.jsonl"),
        "entries": entries,
    }


def _key() -> tc.SessionKey:
    return {"project_key": "p", "session_id": SID}


def _mirrored_turn(config: Path, tag: str, *extra: Any, project: str = "p") -> FakeTurn:
    frame = _mirror_frame(config, _entries(tag), project)
    return FakeTurn(steps=[*extra, Emit(frame), Text(tag), Result(text=tag)])


def _options(tmp_path: Path, script: FakeScript, store: Any, **kw: Any) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(
        transport=FakeCLITransport(script),
        session_store=store,
        env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        **kw,
    )


class _RaisingStore(tc.InMemorySessionStore):
    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.lowlevel.checkpoint()
        raise OSError("store down")


class _PlainDefStore(tc.InMemorySessionStore):
    def append(self, key: Any, entries: Any) -> Any:
        return None


class _SlowStore(tc.InMemorySessionStore):
    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.sleep(5)
        await super().append(key, entries)


class _HangingLoadStore(tc.InMemorySessionStore):
    async def load(self, key: tc.SessionKey) -> Any:
        await trio.sleep_forever()


class _HangingStore(tc.InMemorySessionStore):
    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.sleep_forever()


@pytest.fixture
def no_facade_threads() -> Any:
    assert facade_threads() == []
    yield
    assert facade_threads() == []


def _permission_request() -> Request:
    return Request(
        "can_use_tool", {"tool_name": "Bash", "input": {"command": "ls"}, "tool_use_id": "t1"}
    )


class _SpecRecordingFake(FakeCLITransport):
    """Remembers the config dir each CLI was started with (a resume's temporary one)."""

    def __init__(self, script: FakeScript) -> None:
        super().__init__(script)
        self.config_dirs: list[Path] = []

    async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
        self.config_dirs.append(Path(spec.env["CLAUDE_CONFIG_DIR"]))
        return await super().start(spec, nursery)


# ----------------------------------------------------------------- faults (fail today)


def test_blocking_resume_of_a_session_the_store_lacks_names_that_session(
    tmp_path: Path, no_facade_threads: None
) -> None:
    """``tcb.open_session(resume=SID)`` with a store that has no such session raises
    ``SessionNotFoundError`` (good), but ``_mirror.prepare_store_resume`` builds it with a
    whole sentence as its ``session_id``: ``exc.session_id`` is "session <id> is not in the
    session store" and the message reads "Session session <id> is not in the session store not
    found". Code that catches it to start afresh, or logs ``exc.session_id``, gets garbage."""
    options = _options(tmp_path, FakeScript(), tc.InMemorySessionStore(), resume=SID)
    with pytest.raises(tc.SessionNotFoundError) as info:
        tcb.open_session(options)
    assert info.value.session_id == SID
    assert "Session session" not in str(info.value), str(info.value)


async def test_query_continue_with_no_session_in_the_store_names_the_directory(
    tmp_path: Path,
) -> None:
    """``query(continue_conversation=True)`` with an empty store: the ``SessionNotFoundError``
    carries "the session store has no session for <dir>" as its ``session_id`` and ``None`` as
    its ``directory`` (``_mirror.prepare_store_resume``), so the message says "Session the
    session store has no session for <dir> not found"."""
    options = _options(
        tmp_path,
        FakeScript(),
        tc.InMemorySessionStore(),
        continue_conversation=True,
        cwd=str(tmp_path),
    )
    with trio.fail_after(HANG_GUARD), pytest.raises(tc.SessionNotFoundError) as info:
        async with aclosing(tc.query(prompt="go", options=options)) as messages:
            async for _ in messages:
                pass
    assert info.value.directory == str(tmp_path)
    assert "the session store has no session" not in info.value.session_id


async def test_client_disconnect_under_a_deadline_while_the_store_hangs(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """With a store that hangs, a user bounds ``disconnect()`` as the migration guide maps
    ``asyncio.wait_for(x, t)``: ``with trio.fail_after(t): await client.disconnect()``. The
    session's nursery, opened by ``connect()`` outside that scope, is exited inside it: trio
    raises "Cancel scope stack corrupted" (the same for ``fail_after`` around ``connect()``).
    Expected: the client closes (the close is bounded on its own), or refuses up front with a
    clear error; never corrupts trio's scope stack."""
    config = tmp_path / "config"
    script = FakeScript(turns=[_mirrored_turn(config, "a")])
    client = tc.ClaudeSDKClient(_options(tmp_path, script, _HangingStore()))
    await client.connect()
    await client.query("go")
    with trio.move_on_after(5):  # the result waits for the store, which never answers
        async for _ in client.receive_response():
            pass
    try:
        with trio.fail_after(120):
            await client.disconnect()
    except RuntimeError as exc:
        assert "corrupted" not in str(exc), f"trio's cancel scope stack was corrupted: {exc}"
        assert "Call disconnect() again outside that scope" in str(exc)
        assert client.session.lifecycle in (tc.LifecycleState.CLOSED, tc.LifecycleState.FAILED)
        await client.disconnect()  # as the error says: outside the deadline, it finishes


# ------------------------------------------------------------------ blocking (guards)


def test_blocking_run_reports_a_failing_store_before_the_result(
    tmp_path: Path, no_facade_threads: None
) -> None:
    config = tmp_path / "config"
    script = FakeScript(turns=[_mirrored_turn(config, "a")])
    with tcb.open_session(_options(tmp_path, script, _RaisingStore())) as session:
        turn = session.run("go")
    errors = [m for m in turn.messages if isinstance(m, tc.MirrorErrorMessage)]
    assert errors and "store down" in errors[0].error
    assert isinstance(turn.messages[-1], tc.ResultMessage)
    assert turn.messages.index(errors[0]) == len(turn.messages) - 2


def test_blocking_stream_names_a_plain_def_store(tmp_path: Path, no_facade_threads: None) -> None:
    config = tmp_path / "config"
    script = FakeScript(turns=[_mirrored_turn(config, "a")])
    with tcb.open_session(_options(tmp_path, script, _PlainDefStore())) as session:
        session.send("go")
        messages = list(session.receive_response())
    errors = [m for m in messages if isinstance(m, tc.MirrorErrorMessage)]
    assert errors and "ConfigurationError" in errors[0].error and "async" in errors[0].error
    assert messages[-2:] == [errors[0], messages[-1]]
    assert isinstance(messages[-1], tc.ResultMessage)


def test_blocking_query_and_ask_store_the_turn_before_the_result(
    tmp_path: Path, no_facade_threads: None
) -> None:
    config = tmp_path / "config"
    store = tc.InMemorySessionStore()
    script = FakeScript(turns=[_mirrored_turn(config, "a")])
    with tcb.query("go", options=_options(tmp_path, script, store)) as messages:
        for message in messages:
            if isinstance(message, tc.ResultMessage):
                assert store.get_entries(_key()) == _entries("a")
    script = FakeScript(turns=[_mirrored_turn(config, "b")])
    turn = tcb.ask("go", options=_options(tmp_path, script, store))
    assert turn.text == "b"
    assert store.get_entries(_key()) == _entries("a") + _entries("b")


def test_blocking_resume_from_a_sqlite_store_another_blocking_session_filled(
    tmp_path: Path, no_facade_threads: None
) -> None:
    from trio_claude.stores import SQLiteSessionStore

    config = tmp_path / "config"
    store = SQLiteSessionStore(tmp_path / "s.db")
    project = project_key_for_directory(str(tmp_path))
    script = FakeScript(turns=[_mirrored_turn(config, "a", project=project)], session_id=SID)
    with tcb.open_session(_options(tmp_path, script, store, cwd=str(tmp_path))) as session:
        session.run("go")
    transport = _SpecRecordingFake(FakeScript(session_id=SID))
    resumed = tc.ClaudeAgentOptions(
        transport=transport, session_store=store, resume=SID, cwd=str(tmp_path)
    )
    with tcb.open_session(resumed) as session:
        assert session.run("again").text
        temp = transport.config_dirs[0]
        assert (temp / "projects" / project / f"{SID}.jsonl").exists()
    assert not temp.exists(), "the resume's temporary config dir was left behind"
    trio.run(store.aclose)


def test_blocking_resume_with_a_hanging_load_is_a_typed_error(
    tmp_path: Path, no_facade_threads: None
) -> None:
    options = _options(tmp_path, FakeScript(), _HangingLoadStore(), resume=SID, load_timeout_ms=300)
    with pytest.raises(tc.SessionStoreError, match="load_timeout_ms"):
        tcb.open_session(options)


def test_blocking_close_from_another_thread_frees_a_run_waiting_for_a_hanging_store(
    tmp_path: Path, no_facade_threads: None
) -> None:
    config = tmp_path / "config"
    script = FakeScript(turns=[_mirrored_turn(config, "a")])
    session = tcb.open_session(_options(tmp_path, script, _HangingStore()))
    outcome: list[object] = []

    def runner() -> None:
        try:
            outcome.append(session.run("go"))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=runner, name="test-runner")
    thread.start()
    deadline = time.monotonic() + HANG_GUARD
    while session.statistics().results_received == 0:  # the result waits for the store
        assert time.monotonic() < deadline, "the result never arrived"
        time.sleep(0.02)
    session.close()  # bounded: the closing flush gives a hanging store 10 s
    thread.join(HANG_GUARD)
    assert not thread.is_alive()
    assert isinstance(outcome[0], tc.SessionClosedError), outcome


def test_blocking_sync_callbacks_run_on_the_sessions_thread(
    tmp_path: Path, no_facade_threads: None
) -> None:
    seen: list[str] = []

    def allow(tool: str, input: dict[str, Any], context: Any) -> Any:
        seen.append(threading.current_thread().name)
        return tc.PermissionResultAllow()

    script = FakeScript(turns=[FakeTurn(steps=[_permission_request(), Result(text="done")])])
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), can_use_tool=allow)
    with tcb.open_session(options) as session:
        assert session.run("go").text == "done"
    assert seen and seen[0].startswith(tcb.THREAD_NAME_PREFIX)


def test_blocking_in_thread_callback_closing_its_own_session_does_not_hang(
    tmp_path: Path, no_facade_threads: None
) -> None:
    holder: list[tcb.BlockingSession] = []

    @tc.in_thread
    def deny_and_close(tool: str, input: dict[str, Any], context: Any) -> Any:
        holder[0].close()
        return tc.PermissionResultDeny(message="closed")

    script = FakeScript(turns=[FakeTurn(steps=[_permission_request(), Result(text="done")])])
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), can_use_tool=deny_and_close)
    session = tcb.open_session(options)
    holder.append(session)
    with pytest.raises(tc.SessionClosedError):
        session.run("go")
    session.close()


def test_blocking_raising_callback_and_raising_store_in_one_turn(
    tmp_path: Path, no_facade_threads: None
) -> None:
    config = tmp_path / "config"
    answers: list[Any] = []

    def boom(tool: str, input: dict[str, Any], context: Any) -> Any:
        raise ValueError("policy down")

    script = FakeScript(turns=[_mirrored_turn(config, "a", _permission_request())])
    transport = FakeCLITransport(script)
    options = tc.ClaudeAgentOptions(
        transport=transport,
        session_store=_RaisingStore(),
        env={"CLAUDE_CONFIG_DIR": str(config)},
        can_use_tool=boom,
    )
    with tcb.open_session(options) as session:
        turn = session.run("go")
        assert transport.fake is not None
        answers = list(transport.fake.responses.values())
    assert isinstance(turn.messages[-2], tc.MirrorErrorMessage)
    assert isinstance(turn.messages[-1], tc.ResultMessage)
    assert "deny" in repr(answers), answers  # fails closed


# -------------------------------------------------------------------- client (guards)


async def test_client_receive_response_gives_the_mirror_error_before_the_result(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config"
    script = FakeScript(turns=[_mirrored_turn(config, "a")])
    async with tc.ClaudeSDKClient(_options(tmp_path, script, _RaisingStore())) as client:
        await client.query("go")
        got = [m async for m in client.receive_response()]
    assert isinstance(got[-1], tc.ResultMessage)
    assert isinstance(got[-2], tc.MirrorErrorMessage)


async def test_client_timeout_while_the_result_waits_for_the_store_loses_nothing(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    config = tmp_path / "config"
    store = _SlowStore()
    script = FakeScript(turns=[_mirrored_turn(config, "a"), _mirrored_turn(config, "b")])
    async with tc.ClaudeSDKClient(_options(tmp_path, script, store)) as client:
        await client.query("go")
        with trio.move_on_after(1):  # the store takes 5 s
            async for _ in client.receive_response():
                pass
        await client.query("again")
        with trio.fail_after(HANG_GUARD):
            second = [m async for m in client.receive_response()]
        assert isinstance(second[-1], tc.ResultMessage) and second[-1].result == "b"
        assert store.get_entries(_key()) == _entries("a") + _entries("b")


async def test_client_disconnect_is_bounded_while_the_store_hangs(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    config = tmp_path / "config"
    script = FakeScript(turns=[_mirrored_turn(config, "a")])
    client = tc.ClaudeSDKClient(_options(tmp_path, script, _HangingStore()))
    await client.connect()
    await client.query("go")
    with trio.move_on_after(5):
        async for _ in client.receive_response():
            pass
    start = trio.current_time()
    await client.disconnect()
    assert trio.current_time() - start < 60  # (mock clock) the closing flush's 10 s bound


async def test_client_resume_from_a_store_and_its_temporary_dir_is_removed(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config"
    store = tc.InMemorySessionStore()
    project = project_key_for_directory(str(tmp_path))
    script = FakeScript(turns=[_mirrored_turn(config, "a", project=project)], session_id=SID)
    async with tc.ClaudeSDKClient(_options(tmp_path, script, store, cwd=str(tmp_path))) as c:
        await c.query("go")
        async for _ in c.receive_response():
            pass
    transport = _SpecRecordingFake(FakeScript(session_id=SID))
    options = tc.ClaudeAgentOptions(
        transport=transport, session_store=store, resume=SID, cwd=str(tmp_path)
    )
    async with tc.ClaudeSDKClient(options) as client:
        await client.query("again")
        async for _ in client.receive_response():
            pass
    assert transport.config_dirs and not transport.config_dirs[0].exists()


# --------------------------------------------------------------------- query() (guards)


async def test_query_iterator_gives_the_mirror_error_before_the_result(tmp_path: Path) -> None:
    config = tmp_path / "config"

    async def play(child: ManualChild) -> None:
        await child.handshake()
        await child.read_frame()  # the prompt
        await child.write_frame(_mirror_frame(config, _entries("a")))
        await child.write_frame(result_frame())
        await child.exit_at_eof()

    got: list[tc.Message] = []
    async with trio.open_nursery() as nursery:
        options = tc.ClaudeAgentOptions(
            transport=HostedTransport(nursery, play),
            session_store=_RaisingStore(),
            env={"CLAUDE_CONFIG_DIR": str(config)},
        )
        with trio.fail_after(HANG_GUARD):
            async with aclosing(tc.query(prompt="go", options=options)) as messages:
                async for message in messages:
                    got.append(message)
        nursery.cancel_scope.cancel()
    assert isinstance(got[-1], tc.ResultMessage)
    assert isinstance(got[-2], tc.MirrorErrorMessage)


async def test_query_session_form_cut_by_a_deadline_still_stores_the_turn(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    config = tmp_path / "config"
    store = _SlowStore()
    script = FakeScript(turns=[_mirrored_turn(config, "a")])
    with trio.move_on_after(1):  # the store takes 5 s; the closing flush has 10 s
        async with tc.query("go", options=_options(tmp_path, script, store)) as messages:
            async for _ in messages:
                pass
    assert store.get_entries(_key()) == _entries("a")
