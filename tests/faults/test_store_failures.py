"""Session stores under hostile conditions: stores that are slow, hang, raise, return the wrong
types; mirroring cut by cancellation; resuming from a store that returns junk. One test per bug
(each fails on the code it was written against)."""

from __future__ import annotations

import functools
from contextlib import aclosing
from pathlib import Path
from typing import Any

import trio
import trio.testing

import trio_claude as tc
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude.testing.fake_cli import FakeCLITransport

from ._support import HostedTransport, ManualChild, result_frame

SID = "11111111-1111-4111-8111-111111111111"


def _key(project: str = "p") -> tc.SessionKey:
    return {"project_key": project, "session_id": SID}


class _SlowStore(tc.InMemorySessionStore):
    """Every append takes ``delay`` seconds (a slow network store); like the SQL stores and
    the in-memory one, it skips entries whose uuid it has already (``idempotent_appends``)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.sleep(self.delay)
        await super().append(key, entries)


async def test_a_cancelled_flush_keeps_the_batch_it_was_appending(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """``query()`` flushes the mirror inline when it delivers a result
    (``_PullQuery._deliver``). ``TranscriptMirror.flush`` first swaps the queued batches into a
    local (``batches, self._batches = self._batches, {}``): when the caller's deadline cancels
    the append, those entries exist nowhere but in that dead frame. The closing flush (shielded,
    10 s, ample for a 2 s store) then sees an empty queue, and ``flush`` *overwrites*
    ``_in_flight``, so ``unmirrored`` reads 0: no ``mirror_error``, no warning, and the turn's
    transcript is missing from the store. Expected: a cancelled flush puts its unwritten batches
    back so the closing flush appends them (or at least counts them as unmirrored)."""
    store = _SlowStore(2.0)
    projects = tmp_path / "config" / "projects"
    file_path = str(projects / "p" / f"{SID}.jsonl")
    entries = [{"type": "user", "uuid": f"u-{n}", "n": n} for n in range(3)]

    async with trio.open_nursery() as nursery:
        transport = HostedTransport(
            nursery, functools.partial(_mirror_then_result, file_path, entries)
        )
        options = tc.ClaudeAgentOptions(
            transport=transport,
            session_store=store,
            env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        )
        with trio.move_on_after(1.0):  # the user's deadline; the result's flush takes 2 s
            async with aclosing(tc.query(prompt="go", options=options)) as messages:
                async for _ in messages:
                    pass
        await trio.sleep(30)  # (mock clock) past every close bound
        nursery.cancel_scope.cancel()
    assert store.get_entries(_key()) == entries, "the turn's transcript never reached the store"


async def _mirror_then_result(file_path: str, entries: list[Any], child: ManualChild) -> None:
    """A CLI that mirrors ``entries`` for its one turn, then gives the turn's result."""
    await child.handshake()
    await child.read_frame()  # the prompt
    await child.write_frame(
        {"type": "transcript_mirror", "filePath": file_path, "entries": entries}
    )
    await child.write_frame(result_frame())
    await child.exit_at_eof()


class _HangingStore(tc.InMemorySessionStore):
    """``append`` never returns (a store whose server stopped answering)."""

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.sleep_forever()


class _SyncLoadStore(tc.InMemorySessionStore):
    """A store whose ``load`` is a plain ``def`` (a common porting mistake)."""

    def load(self, key: tc.SessionKey) -> Any:
        return [{"type": "user", "uuid": "u-1"}]


class _TextLoadStore(tc.InMemorySessionStore):
    """A store whose ``load`` returns the transcript as JSONL text (the file's content) instead
    of a list of entries."""

    async def load(self, key: tc.SessionKey) -> Any:
        await trio.lowlevel.checkpoint()
        return '{"type":"user","uuid":"u-1","message":{"role":"user","content":"hi"}}\n'


def _read_transcripts(config: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in config.rglob("*.jsonl")}


class _RecordingFake(FakeCLITransport):
    """The in-process fake CLI, remembering the transcripts the resumed CLI was given."""

    def __init__(self) -> None:
        super().__init__()
        self.transcripts: dict[str, str] = {}

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        config = Path(spec.env["CLAUDE_CONFIG_DIR"])
        self.transcripts = await trio.to_thread.run_sync(_read_transcripts, config)
        return await super().start(spec, nursery)


async def test_a_plain_def_load_on_resume_is_a_configuration_error(tmp_path: Path) -> None:
    """``TranscriptMirror._append`` recognises a plain-``def`` ``append`` and reports a
    ``ConfigurationError`` naming the fix ("a session store's methods are async"). Resuming
    from a store whose ``load`` is a plain ``def`` gets no such care: ``_load_main``
    (``_session_store.py``) does ``await store.load(...)`` and ``open_session`` fails with
    Python's bare ``TypeError: object list can't be used in 'await' expression``, not a
    ``ClaudeSDKError``. Expected: the same ``ConfigurationError`` as for ``append``."""
    options = tc.ClaudeAgentOptions(
        transport=_RecordingFake(), session_store=_SyncLoadStore(), resume=SID, cwd=str(tmp_path)
    )
    with trio.fail_after(30):
        try:
            async with tc.open_session(options):
                pass
        except tc.ConfigurationError as exc:
            assert "async" in str(exc)
        except Exception as exc:
            raise AssertionError(f"untyped: {type(exc).__name__}: {exc}") from exc
        else:
            raise AssertionError("resumed from a plain-def load")


async def test_a_load_returning_text_is_a_configuration_error(tmp_path: Path) -> None:
    """``load`` must return a list of entries; one returning the JSONL text instead is not
    checked: ``_load_main`` does ``list(entries)``, which splits the string into characters,
    and ``materialize_session_from_store`` writes each character as a JSON string line
    (``"{"``, ``"\\""``, ``"t"``, ...). The CLI is then started with ``--resume`` on that
    file: the session opens "successfully" on a transcript that holds none of the
    conversation, and nothing says so. Expected: a typed error (``SessionStoreError`` or
    ``ConfigurationError``) naming the wrong return type, before any CLI is started."""
    transport = _RecordingFake()
    options = tc.ClaudeAgentOptions(
        transport=transport, session_store=_TextLoadStore(), resume=SID, cwd=str(tmp_path)
    )
    with trio.fail_after(30):
        try:
            async with tc.open_session(options):
                pass
        except tc.ClaudeSDKError:
            pass
        else:
            given = transport.transcripts.get(f"{SID}.jsonl", "")
            raise AssertionError(f"the CLI resumed from a junk transcript: {given[:60]!r}...")


_SHARED_ACROSS_RUNS = """
import sys, threading, trio
from trio_claude.stores import SQLiteSessionStore
KEY = {"project_key": "p", "session_id": "11111111-1111-4111-8111-111111111111"}
store = SQLiteSessionStore(sys.argv[1], max_connections=1)
errors = []

def session(tag):  # what each blocking session's own trio.run thread does with the store
    async def main():
        for n in range(30):
            await store.append(KEY, [{"type": "user", "uuid": f"{tag}-{n}"}])
    try:
        trio.run(main)
    except BaseException as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=session, args=(t,), daemon=True) for t in "ab"]
for t in threads: t.start()
for t in threads: t.join(20)
hung = sum(t.is_alive() for t in threads)

async def count():
    async with SQLiteSessionStore(sys.argv[1]) as fresh:
        return len(await fresh.load(KEY) or [])

print(f"hung={hung} errors={errors} stored={trio.run(count)}", flush=True)
"""


def test_one_sqlite_store_shared_by_two_trio_runs_at_once_works(tmp_path: Path) -> None:
    """Every blocking session (``trio_claude.blocking``) runs its own ``trio.run`` in its own
    thread, so one ``SQLiteSessionStore`` passed to two of them (``ClaudeAgentOptions`` are
    routinely shared) is used from two trio runs at once. Its ``trio.CapacityLimiter`` and its
    ``trio.Lock``s belonged to no run and woke a task of the other run: under contention one
    run died with a bare ``AssertionError`` from trio's internals and the other waited forever.
    Those are now one set per run (``RunVar``s), and the database keeps the appends whole:
    both runs finish and every entry is stored. (In a subprocess: a hung thread could not be
    freed.)"""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _SHARED_ACROSS_RUNS, str(tmp_path / "s.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout.strip()
    # No crash, no hang, nothing lost: 30 appends from each run.
    assert out == "hung=0 errors=[] stored=60", out + proc.stderr[-2000:]


class _BatchCappedStore(tc.InMemorySessionStore):
    """Writes at most 25 entries per ``append`` and drops the rest without a word: DynamoDB's
    ``BatchWriteItem`` limit with its ``UnprocessedItems`` ignored, a classic store bug."""

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await super().append(key, entries[:25])


async def test_the_conformance_kit_fails_a_store_that_drops_big_batches() -> None:
    """The conformance kit (``trio_claude/testing/session_store_conformance.py``) is how docs
    tell store authors to check "load returns entries deep-equal to what was appended", but
    its biggest ``append`` holds two entries, while the live mirror and
    ``import_session_to_store`` append up to ``MAX_BATCH_ENTRIES`` (500) entries / 1 MiB per
    call. A store that silently keeps only the first 25 entries of a batch passes all 14
    contracts and then loses most of every turn's transcript. Expected: a contract that
    round-trips a ``MAX_BATCH_ENTRIES``-entry batch (and one near ``MAX_BATCH_BYTES``)."""
    import pytest

    from trio_claude._session_store import MAX_BATCH_ENTRIES
    from trio_claude.testing.session_store_conformance import run_session_store_conformance

    store = _BatchCappedStore()
    batch = [{"type": "user", "uuid": f"u-{n}"} for n in range(MAX_BATCH_ENTRIES)]
    await store.append(_key(), batch)  # type: ignore[arg-type]
    assert len(store.get_entries(_key())) == 25  # the store is lossy...
    with pytest.raises(AssertionError, match="contract"):  # ...and the kit should say so
        await run_session_store_conformance(_BatchCappedStore)


async def test_the_conformance_kit_names_a_plain_def_store_method() -> None:
    """A store whose ``load`` is a plain ``def`` failed the kit with a bare ``TypeError``
    (``object list can't be used in 'await' expression``), naming no contract."""
    import pytest

    from trio_claude.testing.session_store_conformance import run_session_store_conformance

    class Sync(tc.InMemorySessionStore):
        def load(self, key: Any) -> Any:
            return None

    with pytest.raises(AssertionError, match="load must be async"):
        await run_session_store_conformance(Sync)


async def test_a_receiver_cancelled_while_its_result_waits_for_the_store_loses_nothing(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A result is handed out only once the store holds the turn (as the official SDKs). A
    receiver cancelled while that flush runs must not lose the result: the next receive gets
    it, after the store has the entries; and an error of the store comes before it."""
    store = _SlowStore(2.0)
    projects = tmp_path / "config" / "projects"
    file_path = str(projects / "p" / f"{SID}.jsonl")
    entries = [{"type": "user", "uuid": f"u-{n}", "n": n} for n in range(3)]

    async with trio.open_nursery() as nursery:
        transport = HostedTransport(
            nursery, functools.partial(_mirror_then_result, file_path, entries)
        )
        options = tc.ClaudeAgentOptions(
            transport=transport,
            session_store=store,
            env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        )
        async with tc.open_session(options) as session:
            await session.send("go")
            seen: list[tc.Message] = []
            with trio.move_on_after(1.0) as deadline:  # the flush takes 2 s
                async for message in session.receive_messages():
                    seen.append(message)
            assert deadline.cancelled_caught
            assert not any(isinstance(m, tc.ResultMessage) for m in seen)
            with trio.fail_after(30):
                async for message in session.receive_response():
                    seen.append(message)
            assert isinstance(seen[-1], tc.ResultMessage)
            assert store.get_entries(_key()) == entries  # in the store when the result is seen
        nursery.cancel_scope.cancel()
