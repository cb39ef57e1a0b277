# ruff: noqa: E501, RUF007  (official test bodies and names, kept as written)
# mypy: ignore-errors
"""The official SDK's session-store tests (anthropics/claude-agent-sdk-python ``tests/``:
test_session_store_conformance.py, test_session_store_anyio.py, test_session_helpers_store.py,
test_session_summary.py, test_session_import.py, test_transcript_mirror.py,
test_session_resume.py, test_option_warnings.py, test_close_cancellation.py), after the rename
``claude_agent_sdk`` -> ``trio_claude``: a parity probe (see
``tests/unit/test_official_sdk_tests_after_rename.py``).

Ported mechanically: official test bodies are kept but for the import rename, ``anyio`` ->
``trio`` (pytest-trio runs the ``async def`` tests) and the items below; each test names the
official test it ports (``# port of file::Class::name``). A failing test here is a parity gap
(official code would behave differently after the rename); a test changed to a documented
difference says ``KNOWN DIFFERENCE``.

Official tests that call private helpers are ported against the observable surface where one
exists:

- ``validate_session_store_options(options)`` -> the ``query()`` call that runs it (with an
  official-style transport, ``_sst_Canned``);
- ``_warn_if_can_use_tool_shadowed(options)``, ``_get_can_use_tool_shadowed_warning(...)`` and
  ``_whole_tool_allowed(entry)`` -> the warning ``query()`` emits before its transport connects;
- ``summary_entry_to_sdk_info(entry, project_path)`` -> ``list_sessions_from_store`` over a
  store serving that summary (its fast path);
- ``_parse_session_info_from_lite`` (the load fallback) -> ``list_sessions_from_store`` over a
  store without ``list_session_summaries``;
- ``_sessions._STORE_LIST_LOAD_CONCURRENCY`` -> 16, the documented bound (sessions.md);
- ``_canonicalize_path(d)`` -> ``unicodedata.normalize("NFC", os.path.realpath(d))``;
- patching ``SubprocessCLITransport``/``Query.initialize`` and ``_get_projects_dir`` to feed
  canned frames -> an official-style transport yielding those frames (``_sst_Scripted``), with
  ``CLAUDE_CONFIG_DIR`` pointing at the projects dir of the frames;
- ``file_path_to_session_key`` (private officially) -> ``trio_claude._session_store``'s, the
  one sessions.md documents;
- ``transport._process.pid`` -> a pid file the fake CLI script writes.

Left out (official private internals with no observable equivalent): the
``TranscriptMirrorBatcher`` unit tests (threshold/timeout/retry/close of a class trio-claude does
not have; the observable mirror behaviour is ported from ``TestReceiveLoopFramePeeling``),
``session_resume._with_timeout``/``_rmtree_with_retry``/``_write_jsonl``,
``materialize_resume_session``/``MaterializedResume`` called directly (TestHappyPath,
TestSubkeyMaterialization, TestTimeoutsAndErrors, TestSpawnFailureCleanup, which patch
``tempfile``/``shutil``/the transport class; trio-claude's own tests cover that surface:
tests/unit/test_store_resume_settings.py; TestNoMaterialization and TestClientIntegration are
ported against a recording stand-in CLI),
``_store_implements``, ``_sanitize_path``/``_simple_hash``/``MAX_SANITIZED_LENGTH``,
``_get_projects_dir`` given a dict, ``SubprocessCLITransport._build_command`` (``--session-mirror``),
``Query.report_mirror_error``/``_message_receive``, ``_ACTIVE_CHILDREN`` bookkeeping, and the
tests that patch ``anyio.open_process``/``anyio.fail_after``. The example-store tests
(test_example_{postgres,redis,s3}_session_store*.py) test the official repository's
``examples/session_stores`` modules, which are not part of either package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import unicodedata
import uuid as uuid_mod
import warnings
from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, Mock

import pytest
import trio
import trio.lowlevel
import trio.testing

import trio_claude as tc
from trio_claude import (
    AssistantMessage,
    CanUseToolShadowedWarning,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    InMemorySessionStore,
    MirrorErrorMessage,
    PermissionResultAllow,
    ResultMessage,
    SessionKey,
    SessionStore,
    SessionStoreEntry,
    SessionSummaryEntry,
    delete_session_via_store,
    fold_session_summary,
    fork_session_via_store,
    get_session_info_from_store,
    get_session_messages_from_store,
    get_subagent_messages_from_store,
    import_session_to_store,
    list_sessions_from_store,
    list_subagents_from_store,
    project_key_for_directory,
    query,
    rename_session_via_store,
    tag_session_via_store,
)
from trio_claude._session_store import file_path_to_session_key
from trio_claude.testing import run_session_store_conformance

# sessions.md: "list_sessions + one load per session (16 at a time)"
_STORE_LIST_LOAD_CONCURRENCY = 16


def _canonicalize_path(d: str) -> str:
    return unicodedata.normalize("NFC", os.path.realpath(d))


# ---------------------------------------------------------------------------
# Shared: an official-style transport (what official tests build from AsyncMock)
# ---------------------------------------------------------------------------


class _sst_Scripted:
    """Official-style transport: answers every control request with success and, once the
    prompt is written, yields ``frames`` and ends (as the official tests' mock transports do)."""

    def __init__(
        self, frames: list[dict[str, Any]] | None = None, *, yields_between: int = 0
    ) -> None:
        self.frames = list(frames or [])
        self.yields_between = yields_between
        self.written: list[str] = []
        self.connect = AsyncMock(side_effect=self._connect)
        self._send, self._recv = trio.open_memory_channel[dict[str, Any]](1000)
        self._prompted = False

    async def _connect(self) -> None:
        await trio.lowlevel.checkpoint()

    async def write(self, data: str) -> None:
        self.written.append(data)
        frame = json.loads(data)
        if frame.get("type") == "control_request":
            await self._send.send(
                {
                    "type": "control_response",
                    "response": {
                        "request_id": frame.get("request_id"),
                        "subtype": "success",
                        "response": {},
                    },
                }
            )
        elif frame.get("type") == "user" and not self._prompted:
            self._prompted = True
            for f in self.frames:
                await self._send.send({"__frame__": f})
            await self._send.send({"__end__": True})

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        first_frame = True
        async for item in self._recv:
            if "__end__" in item:
                return
            if "__frame__" in item:
                if not first_frame:
                    for _ in range(self.yields_between):
                        await trio.lowlevel.checkpoint()
                first_frame = False
                yield item["__frame__"]
                continue
            yield item

    async def close(self) -> None:
        self._send.close()

    def is_ready(self) -> bool:
        return True

    async def end_input(self) -> None:
        await trio.lowlevel.checkpoint()


def _sst_Canned() -> _sst_Scripted:
    """Initialize answered; the prompt's turn ends with a success result at once."""
    return _sst_Scripted(
        [
            {
                "type": "result",
                "subtype": "success",
                "duration_ms": 1,
                "duration_api_ms": 1,
                "is_error": False,
                "num_turns": 1,
                "session_id": "test",
                "total_cost_usd": 0.0,
            }
        ]
    )


# ===========================================================================
# test_session_store_conformance.py
# ===========================================================================

_KEY: SessionKey = {"project_key": "proj", "session_id": "sess"}


class TestInMemorySessionStore:
    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_conformance
    async def test_conformance(self) -> None:
        await run_session_store_conformance(InMemorySessionStore)

    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_conformance_with_async_factory
    async def test_conformance_with_async_factory(self) -> None:
        async def make() -> SessionStore:
            return InMemorySessionStore()

        await run_session_store_conformance(make)

    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_skip_optional_suppresses_contracts
    async def test_skip_optional_suppresses_contracts(self) -> None:
        """A store implementing only required methods passes when optionals are skipped."""

        class MinimalStore:
            def __init__(self) -> None:
                self._data: dict[str, list] = {}

            async def append(self, key: SessionKey, entries: list) -> None:
                k = f"{key['project_key']}/{key['session_id']}/{key.get('subpath') or ''}"
                self._data.setdefault(k, []).extend(entries)

            async def load(self, key: SessionKey) -> list | None:
                k = f"{key['project_key']}/{key['session_id']}/{key.get('subpath') or ''}"
                return self._data.get(k)

        await run_session_store_conformance(
            MinimalStore,
            skip_optional=frozenset({"list_sessions", "delete", "list_subkeys"}),
        )

    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_auto_skips_unimplemented_optionals
    async def test_auto_skips_unimplemented_optionals(self) -> None:
        """Optional contracts auto-skip when the store doesn't override them."""

        class MinimalStore(SessionStore):
            def __init__(self) -> None:
                self._data: dict[str, list] = {}

            async def append(self, key: SessionKey, entries: list) -> None:
                k = f"{key['project_key']}/{key['session_id']}/{key.get('subpath') or ''}"
                self._data.setdefault(k, []).extend(entries)

            async def load(self, key: SessionKey) -> list | None:
                k = f"{key['project_key']}/{key['session_id']}/{key.get('subpath') or ''}"
                return self._data.get(k)

        # No skip_optional passed — auto-probe should detect missing overrides.
        await run_session_store_conformance(MinimalStore)

    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_store_implements_is_canonical_probe
    # (the private _store_implements probe left out; the public half kept)
    def test_store_implements_is_canonical_probe(self) -> None:
        """SessionStore is intentionally not @runtime_checkable."""
        store = InMemorySessionStore()
        with pytest.raises(TypeError):
            isinstance(store, SessionStore)

    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_get_entries_helper
    async def test_get_entries_helper(self) -> None:
        store = InMemorySessionStore()
        assert store.get_entries(_KEY) == []
        await store.append(_KEY, [{"n": 1}, {"n": 2}])
        assert store.get_entries(_KEY) == [{"n": 1}, {"n": 2}]
        # Returns a copy — mutating the result must not affect the store.
        store.get_entries(_KEY).append({"n": 999})
        assert store.get_entries(_KEY) == [{"n": 1}, {"n": 2}]

    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_size_helper_counts_main_transcripts_only
    async def test_size_helper_counts_main_transcripts_only(self) -> None:
        store = InMemorySessionStore()
        assert store.size == 0
        await store.append({"project_key": "p", "session_id": "a"}, [{"n": 1}])
        await store.append({"project_key": "p", "session_id": "b"}, [{"n": 1}])
        await store.append({"project_key": "p", "session_id": "a", "subpath": "sub/x"}, [{"n": 1}])
        assert store.size == 2

    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_clear_helper
    async def test_clear_helper(self) -> None:
        store = InMemorySessionStore()
        await store.append(_KEY, [{"n": 1}])
        await store.append({**_KEY, "subpath": "sub/x"}, [{"n": 1}])
        store.clear()
        assert store.size == 0
        assert await store.load(_KEY) is None
        assert await store.list_sessions("proj") == []

    # port of test_session_store_conformance.py::TestInMemorySessionStore::test_load_returns_copy
    async def test_load_returns_copy(self) -> None:
        store = InMemorySessionStore()
        await store.append(_KEY, [{"n": 1}])
        loaded = await store.load(_KEY)
        assert loaded is not None
        loaded.append({"n": 999})
        assert await store.load(_KEY) == [{"n": 1}]


async def validate_session_store_options(options: ClaudeAgentOptions) -> None:
    """The official private validator, observed through the ``query()`` that runs it (an
    official-style transport, so no CLI): raises what the validation raises."""
    with trio.fail_after(10):
        async for _ in query(prompt="hi", options=options, transport=_sst_Canned()):
            pass


class TestSessionStoreOptionsValidation:
    # port of test_session_store_conformance.py::TestSessionStoreOptionsValidation::test_no_store_is_always_valid
    async def test_no_store_is_always_valid(self) -> None:
        await validate_session_store_options(
            ClaudeAgentOptions(continue_conversation=True, enable_file_checkpointing=True)
        )

    # port of test_session_store_conformance.py::TestSessionStoreOptionsValidation::test_valid_store_passes
    async def test_valid_store_passes(self) -> None:
        await validate_session_store_options(
            ClaudeAgentOptions(session_store=InMemorySessionStore())
        )

    # port of test_session_store_conformance.py::TestSessionStoreOptionsValidation::test_continue_conversation_requires_list_sessions
    async def test_continue_conversation_requires_list_sessions(self) -> None:
        class MinimalStore(SessionStore):
            async def append(self, key, entries):
                pass

            async def load(self, key):
                return None

        with pytest.raises(ValueError, match="list_sessions"):
            await validate_session_store_options(
                ClaudeAgentOptions(session_store=MinimalStore(), continue_conversation=True)
            )

    # port of test_session_store_conformance.py::TestSessionStoreOptionsValidation::test_continue_conversation_ok_when_store_implements_list_sessions
    async def test_continue_conversation_ok_when_store_implements_list_sessions(self) -> None:
        # InMemorySessionStore implements list_sessions — should pass.
        await validate_session_store_options(
            ClaudeAgentOptions(session_store=InMemorySessionStore(), continue_conversation=True)
        )

    # port of test_session_store_conformance.py::TestSessionStoreOptionsValidation::test_continue_with_resume_and_store_lacking_list_sessions
    async def test_continue_with_resume_and_store_lacking_list_sessions(self) -> None:
        """Parity with TS: when resume is explicitly set, continue=True
        should not require list_sessions() — list_sessions is provably
        never called because resume wins.
        """

        class MinimalStore(SessionStore):
            async def append(self, key, entries):
                pass

            async def load(self, key):
                return None

        await validate_session_store_options(
            ClaudeAgentOptions(
                session_store=MinimalStore(),
                continue_conversation=True,
                resume="00000000-0000-4000-8000-000000000000",
            )
        )

    # port of test_session_store_conformance.py::TestSessionStoreOptionsValidation::test_rejects_file_checkpointing_combo
    async def test_rejects_file_checkpointing_combo(self) -> None:
        with pytest.raises(ValueError, match="enable_file_checkpointing"):
            await validate_session_store_options(
                ClaudeAgentOptions(
                    session_store=InMemorySessionStore(),
                    enable_file_checkpointing=True,
                )
            )


class TestProjectKeyForDirectory:
    # port of test_session_store_conformance.py::TestProjectKeyForDirectory::test_defaults_to_cwd
    def test_defaults_to_cwd(self) -> None:
        assert project_key_for_directory() == project_key_for_directory(Path.cwd())

    # port of test_session_store_conformance.py::TestProjectKeyForDirectory::test_sanitizes_path
    def test_sanitizes_path(self) -> None:
        key = project_key_for_directory("/tmp/my project!")
        assert "/" not in key
        assert " " not in key
        assert "!" not in key

    # port of test_session_store_conformance.py::TestProjectKeyForDirectory::test_stable_for_same_path
    def test_stable_for_same_path(self) -> None:
        assert project_key_for_directory("/a/b/c") == project_key_for_directory("/a/b/c")

    # port of test_session_store_conformance.py::TestProjectKeyForDirectory::test_relative_dir_resolved_to_absolute_before_hashing
    # (the private _sanitize_path is project_key_for_directory of an absolute path)
    def test_relative_dir_resolved_to_absolute_before_hashing(self) -> None:
        key = project_key_for_directory(".")
        assert key == project_key_for_directory(str(Path().resolve()))
        assert key != "."

    # port of test_session_store_conformance.py::TestProjectKeyForDirectory::test_nfc_normalizes_decomposed_unicode
    def test_nfc_normalizes_decomposed_unicode(self, tmp_path) -> None:
        nfc = tmp_path / unicodedata.normalize("NFC", "café")
        nfd = tmp_path / unicodedata.normalize("NFD", "café")
        nfc.mkdir(exist_ok=True)
        assert project_key_for_directory(str(nfc)) == project_key_for_directory(str(nfd))

    # port of test_session_store_conformance.py::TestProjectKeyForDirectory::test_long_path_uses_portable_djb2_suffix
    # (MAX_SANITIZED_LENGTH is 200 officially; _simple_hash is private: the suffix shape is checked)
    def test_long_path_uses_portable_djb2_suffix(self) -> None:
        max_sanitized_length = 200
        long_dir = str(Path("/" + "a" * (max_sanitized_length + 50)).resolve())
        key = project_key_for_directory(long_dir)
        assert len(key) > max_sanitized_length
        prefix, _, suffix = key.rpartition("-")
        assert prefix == ("-" + "a" * (max_sanitized_length + 50))[:max_sanitized_length]
        assert suffix and suffix.isalnum()


# ===========================================================================
# test_session_store_anyio.py (the list_sessions_from_store part)
# ===========================================================================


class _anyio_ListStore:
    def __init__(
        self,
        sessions: dict[str, list[SessionStoreEntry]],
        fail_on: dict[str, Exception] | None = None,
    ) -> None:
        self._sessions = sessions
        self._fail_on = fail_on or {}

    async def list_sessions(self, project_key: str) -> list[dict[str, Any]]:
        return [{"session_id": sid, "mtime": 1000 + i} for i, sid in enumerate(self._sessions)]

    async def load(self, key: SessionKey) -> list[SessionStoreEntry]:
        sid = key["session_id"]
        if sid in self._fail_on:
            raise self._fail_on[sid]
        return self._sessions.get(sid, [])


_SID_A = "00000000-0000-0000-0000-00000000000a"
_SID_B = "00000000-0000-0000-0000-00000000000b"


def _anyio_user_entry(text: str) -> SessionStoreEntry:
    return {
        "uuid": "u",
        "type": "user",
        "message": {"content": text},
        "timestamp": "2024-01-01T00:00:00Z",
    }


# port of test_session_store_anyio.py::test_list_sessions_from_store_one_load_fails
async def test_list_sessions_from_store_one_load_fails(tmp_path: Path) -> None:
    """One adapter failure degrades that row; the listing still succeeds."""
    store = _anyio_ListStore(
        {_SID_A: [_anyio_user_entry("hello")], _SID_B: [_anyio_user_entry("world")]},
        fail_on={_SID_B: RuntimeError("backend down")},
    )

    result = await list_sessions_from_store(store, directory=str(tmp_path))
    sids = {r.session_id for r in result}
    assert sids == {_SID_A, _SID_B}
    by_sid = {r.session_id: r for r in result}
    assert by_sid[_SID_A].summary == "hello"
    assert by_sid[_SID_B].summary == ""


# ===========================================================================
# test_session_helpers_store.py
# ===========================================================================

DIR = "/workspace/project"
PROJECT_KEY = project_key_for_directory(DIR)


def _hs_user(text: str, uid: str, parent: str | None, sid: str) -> dict[str, Any]:
    return {
        "type": "user",
        "uuid": uid,
        "parentUuid": parent,
        "sessionId": sid,
        "timestamp": "2024-01-01T00:00:00.000Z",
        "message": {"role": "user", "content": text},
    }


def _hs_assistant(text: str, uid: str, parent: str, sid: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "uuid": uid,
        "parentUuid": parent,
        "sessionId": sid,
        "timestamp": "2024-01-01T00:00:01.000Z",
        "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
    }


async def _hs_seed_chain(store: InMemorySessionStore, sid: str, n: int = 2) -> list[str]:
    """Append ``n`` user/assistant pairs and return their UUIDs in order."""
    key: SessionKey = {"project_key": PROJECT_KEY, "session_id": sid}
    uuids: list[str] = []
    parent: str | None = None
    entries: list[dict[str, Any]] = []
    for i in range(n):
        u = str(uuid_mod.uuid4())
        a = str(uuid_mod.uuid4())
        entries.append(_hs_user(f"prompt {i}", u, parent, sid))
        entries.append(_hs_assistant(f"reply {i}", a, u, sid))
        uuids.extend([u, a])
        parent = a
    await store.append(key, entries)  # type: ignore[arg-type]
    return uuids


class _hs_MinimalStore(SessionStore):
    """Duck-typed store implementing only the required ``append``/``load``."""

    def __init__(self) -> None:
        self._data: dict[str, list] = {}

    async def append(self, key: SessionKey, entries: list) -> None:
        k = f"{key['project_key']}/{key['session_id']}/{key.get('subpath', '')}"
        self._data.setdefault(k, []).extend(entries)

    async def load(self, key: SessionKey) -> list | None:
        k = f"{key['project_key']}/{key['session_id']}/{key.get('subpath', '')}"
        return self._data.get(k)


# ---------------------------------------------------------------------------
# Read helpers — list_sessions / get_session_info / get_session_messages
# ---------------------------------------------------------------------------


class TestListSessionsFromStore:
    # port of test_session_helpers_store.py::TestListSessionsFromStore::test_lists_seeded_sessions_sorted_by_mtime
    async def test_lists_seeded_sessions_sorted_by_mtime(self) -> None:
        store = InMemorySessionStore()
        sid_a = str(uuid_mod.uuid4())
        sid_b = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid_a)
        await _hs_seed_chain(store, sid_b)

        sessions = await list_sessions_from_store(store, directory=DIR)
        ids = {s.session_id for s in sessions}
        assert ids == {sid_a, sid_b}
        # Summary derived from first prompt via the same lite-parse as disk.
        for s in sessions:
            assert s.summary == "prompt 0"
            assert s.first_prompt == "prompt 0"
        # Sorted by mtime descending (non-increasing).
        mtimes = [s.last_modified for s in sessions]
        assert mtimes == sorted(mtimes, reverse=True)

    # port of test_session_helpers_store.py::TestListSessionsFromStore::test_limit_and_offset
    async def test_limit_and_offset(self) -> None:
        store = InMemorySessionStore()
        for _ in range(3):
            await _hs_seed_chain(store, str(uuid_mod.uuid4()))
        page = await list_sessions_from_store(store, directory=DIR, limit=2, offset=1)
        assert len(page) == 2

    # port of test_session_helpers_store.py::TestListSessionsFromStore::test_raises_when_store_lacks_list_sessions
    async def test_raises_when_store_lacks_list_sessions(self) -> None:
        store = _hs_MinimalStore()
        with pytest.raises(ValueError, match="list_sessions"):
            await list_sessions_from_store(store, directory=DIR)

    # port of test_session_helpers_store.py::TestListSessionsFromStore::test_drops_sidechain_sessions
    async def test_drops_sidechain_sessions(self) -> None:
        """Parity with TS: sidechain sessions are filtered (not surfaced as
        empty-summary rows), matching the filesystem path."""
        store = InMemorySessionStore()
        normal_sid = str(uuid_mod.uuid4())
        sidechain_sid = str(uuid_mod.uuid4())
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": normal_sid},
            [_hs_user("hello world", str(uuid_mod.uuid4()), None, normal_sid)],  # type: ignore[arg-type]
        )
        side_entry = _hs_user("internal", str(uuid_mod.uuid4()), None, sidechain_sid)
        side_entry["isSidechain"] = True
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sidechain_sid},
            [side_entry],  # type: ignore[arg-type]
        )

        sessions = await list_sessions_from_store(store, directory=DIR)
        ids = {s.session_id for s in sessions}
        assert normal_sid in ids
        assert sidechain_sid not in ids
        assert all(s.summary != "" for s in sessions)

    # port of test_session_helpers_store.py::TestListSessionsFromStore::test_limit_offset_applied_after_sidechain_filter
    async def test_limit_offset_applied_after_sidechain_filter(self) -> None:
        """Disk-path parity: ``_read_sessions_from_dir`` filters sidechains
        first and ``_apply_sort_limit_offset`` paginates the filtered set, so
        ``limit=N`` returns N rows even when sidechains exist. The store path
        must do the same — paginating before filtering would return short
        pages and let sidechains consume page slots.

        Pinned to the slow path (``list_session_summaries`` suppressed)
        because the fast path deliberately locks in paginate-THEN-drop for
        sidechain-shaped summary slots (see
        ``test_sidechain_summary_short_pages``); slow-path filter-THEN-
        paginate is what this test covers.
        """

        class SlowPathStore(InMemorySessionStore):
            async def list_session_summaries(self, project_key):  # type: ignore[override]
                raise NotImplementedError

        store = SlowPathStore()
        valid_sids: list[str] = []
        for _ in range(5):
            sid = str(uuid_mod.uuid4())
            await _hs_seed_chain(store, sid, n=1)
            valid_sids.append(sid)
        for _ in range(3):
            sc = str(uuid_mod.uuid4())
            entry = _hs_user("sidechain", str(uuid_mod.uuid4()), None, sc)
            entry["isSidechain"] = True
            await store.append(
                {"project_key": PROJECT_KEY, "session_id": sc},
                [entry],  # type: ignore[arg-type]
            )

        page = await list_sessions_from_store(store, directory=DIR, limit=5)
        assert len(page) == 5
        assert {s.session_id for s in page} == set(valid_sids)

        page2 = await list_sessions_from_store(store, directory=DIR, limit=5, offset=2)
        assert len(page2) == 3
        assert {s.session_id for s in page2}.issubset(set(valid_sids))

    # port of test_session_helpers_store.py::TestListSessionsFromStore::test_does_not_mutate_adapter_returned_list
    async def test_does_not_mutate_adapter_returned_list(self) -> None:
        """Parity with TS: sorting must not mutate the list object returned
        by store.list_sessions() (adapters may return internal state)."""

        class RefStore(SessionStore):
            def __init__(self) -> None:
                self.internal = [
                    {"session_id": "a", "mtime": 1},
                    {"session_id": "b", "mtime": 2},
                ]

            async def append(self, key, entries):  # type: ignore[override]
                pass

            async def load(self, key):  # type: ignore[override]
                return None

            async def list_sessions(self, project_key):  # type: ignore[override]
                return self.internal

        store = RefStore()
        await list_sessions_from_store(store, directory=DIR)
        assert store.internal[0]["session_id"] == "a"
        assert store.internal[1]["session_id"] == "b"

    # port of test_session_helpers_store.py::TestListSessionsFromStore::test_adapter_load_error_degrades_row
    async def test_adapter_load_error_degrades_row(self) -> None:
        """One failing load() degrades that row instead of failing the list."""

        class FlakeyStore(InMemorySessionStore):
            # Force the per-session load() fallback path under test.
            async def list_session_summaries(self, project_key):
                raise NotImplementedError

            async def load(self, key):
                if key["session_id"] == bad_sid:
                    raise RuntimeError("backend down")
                return await super().load(key)

        store = FlakeyStore()
        good_sid = str(uuid_mod.uuid4())
        bad_sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, good_sid)
        await _hs_seed_chain(store, bad_sid)

        sessions = await list_sessions_from_store(store, directory=DIR)
        by_id = {s.session_id: s for s in sessions}
        assert by_id[good_sid].summary == "prompt 0"
        # Degraded row: empty summary, mtime preserved.
        assert by_id[bad_sid].summary == ""

    # port of test_session_helpers_store.py::TestListSessionsFromStore::test_load_concurrency_is_bounded
    async def test_load_concurrency_is_bounded(self) -> None:
        """list_sessions_from_store must not issue unbounded concurrent
        store.load() calls — large listings would otherwise exhaust adapter
        connection pools. Regression for the paginate-after-filter refactor."""

        in_flight = 0
        peak = 0
        gate = trio.Event()

        class SlowStore(InMemorySessionStore):
            # Force the per-session load() fallback path under test.
            async def list_session_summaries(self, project_key):
                raise NotImplementedError

            async def load(self, key):
                nonlocal in_flight, peak
                in_flight += 1
                peak = max(peak, in_flight)
                await gate.wait()
                in_flight -= 1
                return await super().load(key)

        store = SlowStore()
        n = _STORE_LIST_LOAD_CONCURRENCY * 3
        for i in range(n):
            await InMemorySessionStore.append(
                store,
                {"project_key": PROJECT_KEY, "session_id": str(uuid_mod.uuid4())},
                [{"type": "user", "uuid": f"u{i}"}],
            )

        result: list[Any] = []
        peak_at_saturation = 0

        async def _run() -> None:
            result.extend(await list_sessions_from_store(store, directory=DIR))

        async with trio.open_nursery() as tg:
            tg.start_soon(_run)
            # Let the loader schedule and saturate the semaphore.
            # (official: five anyio.sleep(0) turns; trio-claude takes more scheduler turns to
            # reach its loads, so wait for the first load, then until every task is blocked)
            with trio.fail_after(10):
                while peak == 0:
                    await trio.sleep(0.001)
            await trio.testing.wait_all_tasks_blocked()
            peak_at_saturation = peak
            gate.set()
        assert 0 < peak_at_saturation <= _STORE_LIST_LOAD_CONCURRENCY
        assert peak == _STORE_LIST_LOAD_CONCURRENCY
        assert len(result) <= n


class TestGetSessionInfoFromStore:
    # port of test_session_helpers_store.py::TestGetSessionInfoFromStore::test_returns_info_for_seeded_session
    async def test_returns_info_for_seeded_session(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)

        info = await get_session_info_from_store(store, sid, directory=DIR)
        assert info is not None
        assert info.session_id == sid
        assert info.summary == "prompt 0"
        # created_at parsed from first entry's timestamp.
        assert info.created_at is not None

    # port of test_session_helpers_store.py::TestGetSessionInfoFromStore::test_returns_none_for_unknown
    async def test_returns_none_for_unknown(self) -> None:
        store = InMemorySessionStore()
        info = await get_session_info_from_store(store, str(uuid_mod.uuid4()), directory=DIR)
        assert info is None

    # port of test_session_helpers_store.py::TestGetSessionInfoFromStore::test_reflects_custom_title
    async def test_reflects_custom_title(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        await rename_session_via_store(store, sid, "My Title", directory=DIR)

        info = await get_session_info_from_store(store, sid, directory=DIR)
        assert info is not None
        assert info.custom_title == "My Title"
        assert info.summary == "My Title"

    # port of test_session_helpers_store.py::TestGetSessionInfoFromStore::test_cwd_falls_back_to_directory_when_entries_lack_cwd
    async def test_cwd_falls_back_to_directory_when_entries_lack_cwd(self) -> None:
        """Disk-path parity: when transcript entries omit ``cwd`` (the
        ``_hs_seed_chain`` helper writes none), ``SDKSessionInfo.cwd`` must fall
        back to the canonical project directory, not None."""
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        canonical = _canonicalize_path(DIR)

        info = await get_session_info_from_store(store, sid, directory=DIR)
        assert info is not None
        assert info.cwd == canonical

        listed = await list_sessions_from_store(store, directory=DIR)
        assert listed and listed[0].cwd == canonical


class TestGetSessionMessagesFromStore:
    # port of test_session_helpers_store.py::TestGetSessionMessagesFromStore::test_returns_chain_in_order
    async def test_returns_chain_in_order(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        uuids = await _hs_seed_chain(store, sid, n=2)

        msgs = await get_session_messages_from_store(store, sid, directory=DIR)
        assert len(msgs) == 4
        assert [m.uuid for m in msgs] == uuids
        assert msgs[0].type == "user"
        assert msgs[1].type == "assistant"

    # port of test_session_helpers_store.py::TestGetSessionMessagesFromStore::test_ignores_metadata_entries
    async def test_ignores_metadata_entries(self) -> None:
        """custom-title/tag entries from rename/tag don't appear as messages."""
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid, n=1)
        await rename_session_via_store(store, sid, "Title", directory=DIR)
        await tag_session_via_store(store, sid, "exp", directory=DIR)

        msgs = await get_session_messages_from_store(store, sid, directory=DIR)
        assert len(msgs) == 2

    # port of test_session_helpers_store.py::TestGetSessionMessagesFromStore::test_limit_offset
    async def test_limit_offset(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid, n=3)
        msgs = await get_session_messages_from_store(store, sid, directory=DIR, limit=2, offset=2)
        assert len(msgs) == 2

    # port of test_session_helpers_store.py::TestGetSessionMessagesFromStore::test_unknown_session_empty
    async def test_unknown_session_empty(self) -> None:
        store = InMemorySessionStore()
        msgs = await get_session_messages_from_store(store, str(uuid_mod.uuid4()), directory=DIR)
        assert msgs == []


# ---------------------------------------------------------------------------
# Subagent helpers — list_subagents / get_subagent_messages
# ---------------------------------------------------------------------------


class TestSubagentsFromStore:
    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_list_and_get_subagent_messages
    async def test_list_and_get_subagent_messages(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        # Seed a subagent transcript at the standard subpath.
        sub_key: SessionKey = {
            "project_key": PROJECT_KEY,
            "session_id": sid,
            "subpath": "subagents/agent-abc123",
        }
        u = str(uuid_mod.uuid4())
        a = str(uuid_mod.uuid4())
        await store.append(
            sub_key,
            [
                _hs_user("sub prompt", u, None, sid),
                _hs_assistant("sub reply", a, u, sid),
            ],  # type: ignore[arg-type]
        )

        ids = await list_subagents_from_store(store, sid, directory=DIR)
        assert ids == ["abc123"]

        msgs = await get_subagent_messages_from_store(store, sid, "abc123", directory=DIR)
        assert len(msgs) == 2
        assert msgs[0].type == "user"
        assert msgs[1].type == "assistant"

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_nested_workflow_subpath
    async def test_nested_workflow_subpath(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        sub_key: SessionKey = {
            "project_key": PROJECT_KEY,
            "session_id": sid,
            "subpath": "subagents/workflows/run-1/agent-nested",
        }
        u = str(uuid_mod.uuid4())
        await store.append(sub_key, [_hs_user("hi", u, None, sid)])  # type: ignore[arg-type]

        ids = await list_subagents_from_store(store, sid, directory=DIR)
        assert ids == ["nested"]

        msgs = await get_subagent_messages_from_store(store, sid, "nested", directory=DIR)
        assert len(msgs) == 1

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_filters_agent_metadata_entries
    async def test_filters_agent_metadata_entries(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        sub_key: SessionKey = {
            "project_key": PROJECT_KEY,
            "session_id": sid,
            "subpath": "subagents/agent-x",
        }
        u = str(uuid_mod.uuid4())
        await store.append(
            sub_key,
            [
                {"type": "agent_metadata", "name": "x"},
                _hs_user("hi", u, None, sid),
            ],  # type: ignore[arg-type]
        )
        msgs = await get_subagent_messages_from_store(store, sid, "x", directory=DIR)
        assert len(msgs) == 1
        assert msgs[0].parent_tool_use_id is None
        assert msgs[0].parent_agent_id is None

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_parent_ids_recovered_from_agent_metadata_entry
    async def test_parent_ids_recovered_from_agent_metadata_entry(self) -> None:
        """toolUseId / parentAgentId on the agent_metadata entry (the store's
        copy of the .meta.json sidecar) are stamped on every message; when the
        metadata was rewritten (e.g. on resume) the last entry wins."""
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        sub_key: SessionKey = {
            "project_key": PROJECT_KEY,
            "session_id": sid,
            "subpath": "subagents/agent-x",
        }
        u = str(uuid_mod.uuid4())
        a = str(uuid_mod.uuid4())
        await store.append(
            sub_key,
            [
                {"type": "agent_metadata", "agentType": "gp", "toolUseId": "toolu_old"},
                _hs_user("hi", u, None, sid),
                _hs_assistant("hello", a, u, sid),
                {
                    "type": "agent_metadata",
                    "agentType": "gp",
                    "toolUseId": "toolu_new",
                    "parentAgentId": "a-parent",
                },
            ],  # type: ignore[arg-type]
        )
        msgs = await get_subagent_messages_from_store(store, sid, "x", directory=DIR)
        assert [m.uuid for m in msgs] == [u, a]
        assert all(m.parent_tool_use_id == "toolu_new" for m in msgs)
        assert all(m.parent_agent_id == "a-parent" for m in msgs)

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_parent_ids_ignore_non_string_metadata
    async def test_parent_ids_ignore_non_string_metadata(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        sub_key: SessionKey = {
            "project_key": PROJECT_KEY,
            "session_id": sid,
            "subpath": "subagents/agent-x",
        }
        u = str(uuid_mod.uuid4())
        await store.append(
            sub_key,
            [
                {"type": "agent_metadata", "toolUseId": 7, "parentAgentId": None},
                _hs_user("hi", u, None, sid),
            ],  # type: ignore[arg-type]
        )
        msgs = await get_subagent_messages_from_store(store, sid, "x", directory=DIR)
        assert len(msgs) == 1
        assert msgs[0].parent_tool_use_id is None
        assert msgs[0].parent_agent_id is None

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_session_messages_parent_ids_are_none
    async def test_session_messages_parent_ids_are_none(self) -> None:
        """Top-level get_session_messages_from_store never sets parent ids."""
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid, n=1)
        msgs = await get_session_messages_from_store(store, sid, directory=DIR)
        assert len(msgs) == 2
        assert all(m.parent_tool_use_id is None for m in msgs)
        assert all(m.parent_agent_id is None for m in msgs)

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_list_subagents_dedupes_agent_id_across_subpaths
    async def test_list_subagents_dedupes_agent_id_across_subpaths(self) -> None:
        """Parity with TS: the same agent ID under multiple subpaths
        (direct + nested workflow) is returned once."""
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        u = str(uuid_mod.uuid4())
        for sp in (
            "subagents/agent-abc",
            "subagents/workflows/run-1/agent-abc",
        ):
            await store.append(
                {"project_key": PROJECT_KEY, "session_id": sid, "subpath": sp},
                [_hs_user("x", u, None, sid)],  # type: ignore[arg-type]
            )
        ids = await list_subagents_from_store(store, sid, directory=DIR)
        assert ids == ["abc"]

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_subagent_helpers_non_uuid_session_id
    async def test_subagent_helpers_non_uuid_session_id(self) -> None:
        """Parity with TS: list_subagents/get_subagent_messages return []
        for a non-UUID session_id (no exception)."""
        store = InMemorySessionStore()
        assert await list_subagents_from_store(store, "not-a-uuid", directory=DIR) == []
        assert await get_subagent_messages_from_store(store, "not-a-uuid", "x", directory=DIR) == []

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_list_subagents_raises_when_store_lacks_list_subkeys
    async def test_list_subagents_raises_when_store_lacks_list_subkeys(self) -> None:
        store = _hs_MinimalStore()
        sid = str(uuid_mod.uuid4())
        with pytest.raises(ValueError, match="does not implement list_subkeys"):
            await list_subagents_from_store(store, sid, directory=DIR)

    # port of test_session_helpers_store.py::TestSubagentsFromStore::test_get_subagent_messages_direct_path_without_list_subkeys
    async def test_get_subagent_messages_direct_path_without_list_subkeys(self) -> None:
        """Without list_subkeys, falls back to the direct subagents/agent-<id> path."""
        store = _hs_MinimalStore()
        sid = str(uuid_mod.uuid4())
        u = str(uuid_mod.uuid4())
        await store.append(
            {
                "project_key": PROJECT_KEY,
                "session_id": sid,
                "subpath": "subagents/agent-direct",
            },
            [_hs_user("hi", u, None, sid)],
        )
        msgs = await get_subagent_messages_from_store(store, sid, "direct", directory=DIR)
        assert len(msgs) == 1


# ---------------------------------------------------------------------------
# Mutation helpers — rename / tag / delete / fork
# ---------------------------------------------------------------------------


class TestRenameSessionViaStore:
    # port of test_session_helpers_store.py::TestRenameSessionViaStore::test_appends_custom_title_entry
    async def test_appends_custom_title_entry(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)

        await rename_session_via_store(store, sid, "  New Title  ", directory=DIR)

        entries = store.get_entries({"project_key": PROJECT_KEY, "session_id": sid})
        last = entries[-1]
        assert last["type"] == "custom-title"
        assert last["customTitle"] == "New Title"
        assert last["sessionId"] == sid
        assert isinstance(last["uuid"], str)
        assert isinstance(last["timestamp"], str)

    # port of test_session_helpers_store.py::TestRenameSessionViaStore::test_invalid_inputs_raise
    async def test_invalid_inputs_raise(self) -> None:
        store = InMemorySessionStore()
        with pytest.raises(ValueError):
            await rename_session_via_store(store, "not-a-uuid", "t")
        with pytest.raises(ValueError):
            await rename_session_via_store(store, str(uuid_mod.uuid4()), "  ")


class TestTagSessionViaStore:
    # port of test_session_helpers_store.py::TestTagSessionViaStore::test_appends_tag_entry
    async def test_appends_tag_entry(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)

        await tag_session_via_store(store, sid, "experiment", directory=DIR)

        last = store.get_entries({"project_key": PROJECT_KEY, "session_id": sid})[-1]
        assert last["type"] == "tag"
        assert last["tag"] == "experiment"
        assert last["sessionId"] == sid

    # port of test_session_helpers_store.py::TestTagSessionViaStore::test_none_clears_tag
    async def test_none_clears_tag(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        await tag_session_via_store(store, sid, None, directory=DIR)

        last = store.get_entries({"project_key": PROJECT_KEY, "session_id": sid})[-1]
        assert last["type"] == "tag"
        assert last["tag"] == ""

    # port of test_session_helpers_store.py::TestTagSessionViaStore::test_tag_reflected_in_session_info
    async def test_tag_reflected_in_session_info(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        await tag_session_via_store(store, sid, "exp", directory=DIR)

        info = await get_session_info_from_store(store, sid, directory=DIR)
        assert info is not None
        assert info.tag == "exp"

    # port of test_session_helpers_store.py::TestTagSessionViaStore::test_tag_survives_adapter_key_reordering
    async def test_tag_survives_adapter_key_reordering(self) -> None:
        """The ``SessionStore.load`` contract permits adapters to reorder
        object keys (Postgres JSONB does this). The tag extractor must not
        depend on ``type`` being the first key in the serialized line."""

        class ReorderingStore(InMemorySessionStore):
            async def load(self, key):  # type: ignore[override]
                entries = await super().load(key)
                if entries is None:
                    return None
                # Sort keys alphabetically — deep-equal but different order.
                return [dict(sorted(e.items())) for e in entries]

        store = ReorderingStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        await tag_session_via_store(store, sid, "exp", directory=DIR)

        info = await get_session_info_from_store(store, sid, directory=DIR)
        assert info is not None
        assert info.tag == "exp"


class TestDeleteSessionViaStore:
    # port of test_session_helpers_store.py::TestDeleteSessionViaStore::test_removes_session
    async def test_removes_session(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        assert store.size == 1

        await delete_session_via_store(store, sid, directory=DIR)
        assert store.size == 0
        assert await store.load({"project_key": PROJECT_KEY, "session_id": sid}) is None

    # port of test_session_helpers_store.py::TestDeleteSessionViaStore::test_noop_when_store_lacks_delete
    async def test_noop_when_store_lacks_delete(self) -> None:
        """Per the SessionStore contract, missing delete() is a no-op."""
        store = _hs_MinimalStore()
        sid = str(uuid_mod.uuid4())
        # Should not raise.
        await delete_session_via_store(store, sid, directory=DIR)

    # port of test_session_helpers_store.py::TestDeleteSessionViaStore::test_rejects_non_uuid_session_id
    async def test_rejects_non_uuid_session_id(self) -> None:
        """Parity with TS: delete/tag reject non-UUID without touching the store."""
        appended = False

        class SpyStore(InMemorySessionStore):
            async def append(self, key, entries):
                nonlocal appended
                appended = True
                await super().append(key, entries)

        store = SpyStore()
        with pytest.raises(ValueError, match="not-a-uuid"):
            await delete_session_via_store(store, "not-a-uuid", directory=DIR)
        with pytest.raises(ValueError, match="not-a-uuid"):
            await tag_session_via_store(store, "not-a-uuid", "tag", directory=DIR)
        assert appended is False


class TestForkSessionViaStore:
    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_round_trips_with_new_uuids
    async def test_round_trips_with_new_uuids(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        src_uuids = await _hs_seed_chain(store, sid, n=2)

        result = await fork_session_via_store(store, sid, directory=DIR)
        assert result.session_id != sid

        forked = store.get_entries({"project_key": PROJECT_KEY, "session_id": result.session_id})
        # 4 messages + custom-title trailer
        msg_entries = [e for e in forked if e["type"] in ("user", "assistant")]
        assert len(msg_entries) == 4
        for e in msg_entries:
            assert e["sessionId"] == result.session_id
            assert e["uuid"] not in src_uuids
            assert e["forkedFrom"]["sessionId"] == sid
        # Chain integrity: each message's parentUuid is the previous uuid.
        assert msg_entries[0]["parentUuid"] is None
        for prev, cur in zip(msg_entries, msg_entries[1:], strict=False):
            assert cur["parentUuid"] == prev["uuid"]
        # Trailing custom-title entry present with uuid + timestamp.
        trailer = forked[-1]
        assert trailer["type"] == "custom-title"
        assert isinstance(trailer["uuid"], str) and trailer["uuid"]
        assert isinstance(trailer["timestamp"], str) and trailer["timestamp"]

    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_derives_title_from_original_custom_title
    async def test_derives_title_from_original_custom_title(self) -> None:
        """P0-1 regression: title scan must read ORIGINAL store entries, not
        the already-partitioned transcript (which drops custom-title entries).
        """
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid, n=1)
        # Append a custom-title entry as rename_session_via_store would.
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid},
            [{"type": "custom-title", "customTitle": "My Title", "sessionId": sid}],  # type: ignore[list-item]
        )

        result = await fork_session_via_store(store, sid, directory=DIR)
        forked = store.get_entries({"project_key": PROJECT_KEY, "session_id": result.session_id})
        assert forked[-1]["type"] == "custom-title"
        assert forked[-1]["customTitle"] == "My Title (fork)"

    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_derives_title_from_ai_title_when_no_custom
    async def test_derives_title_from_ai_title_when_no_custom(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid, n=1)
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid},
            [{"type": "ai-title", "aiTitle": "Generated", "sessionId": sid}],  # type: ignore[list-item]
        )

        result = await fork_session_via_store(store, sid, directory=DIR)
        forked = store.get_entries({"project_key": PROJECT_KEY, "session_id": result.session_id})
        assert forked[-1]["customTitle"] == "Generated (fork)"

    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_content_replacement_entry_has_uuid_and_timestamp
    async def test_content_replacement_entry_has_uuid_and_timestamp(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid, n=1)
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid},
            [
                {
                    "type": "content-replacement",
                    "sessionId": sid,
                    "replacements": [{"toolUseId": "t1", "value": "redacted"}],
                }
            ],  # type: ignore[list-item]
        )

        result = await fork_session_via_store(store, sid, directory=DIR)
        forked = store.get_entries({"project_key": PROJECT_KEY, "session_id": result.session_id})
        cr = next(e for e in forked if e["type"] == "content-replacement")
        assert cr["sessionId"] == result.session_id
        assert isinstance(cr["uuid"], str) and cr["uuid"]
        assert isinstance(cr["timestamp"], str) and cr["timestamp"]

    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_fork_readable_via_get_session_messages
    async def test_fork_readable_via_get_session_messages(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid, n=2)

        result = await fork_session_via_store(store, sid, directory=DIR, title="Forked")
        msgs = await get_session_messages_from_store(store, result.session_id, directory=DIR)
        assert len(msgs) == 4

    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_up_to_message_id
    async def test_up_to_message_id(self) -> None:
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        uuids = await _hs_seed_chain(store, sid, n=3)

        result = await fork_session_via_store(store, sid, directory=DIR, up_to_message_id=uuids[1])
        forked = store.get_entries({"project_key": PROJECT_KEY, "session_id": result.session_id})
        msg_entries = [e for e in forked if e["type"] in ("user", "assistant")]
        assert len(msg_entries) == 2

    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_not_found_raises
    async def test_not_found_raises(self) -> None:
        store = InMemorySessionStore()
        with pytest.raises(FileNotFoundError):
            await fork_session_via_store(store, str(uuid_mod.uuid4()), directory=DIR)

    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_rejects_non_uuid_session_id_and_up_to
    async def test_rejects_non_uuid_session_id_and_up_to(self) -> None:
        """Parity with TS: fork rejects a non-UUID session_id and a
        non-UUID up_to_message_id."""
        store = InMemorySessionStore()
        with pytest.raises(ValueError, match="Invalid session_id"):
            await fork_session_via_store(store, "not-a-uuid", directory=DIR)
        sid = str(uuid_mod.uuid4())
        await _hs_seed_chain(store, sid)
        with pytest.raises(ValueError, match="Invalid up_to_message_id"):
            await fork_session_via_store(store, sid, directory=DIR, up_to_message_id="not-a-uuid")

    # port of test_session_helpers_store.py::TestForkSessionViaStore::test_fork_preserves_chain_and_stamps_synthetic_entries
    async def test_fork_preserves_chain_and_stamps_synthetic_entries(self) -> None:
        """Parity with TS forkSession test: UUIDs remapped, parentUuid chain
        preserved, content-replacement carried with new sessionId, and both
        synthetic entries (custom-title + content-replacement) carry
        uuid+timestamp for the SessionStore.append dedup contract."""
        store = InMemorySessionStore()
        sid = str(uuid_mod.uuid4())
        u1 = _hs_user("one", str(uuid_mod.uuid4()), None, sid)
        a1 = _hs_assistant("two", str(uuid_mod.uuid4()), u1["uuid"], sid)
        u2 = _hs_user("three", str(uuid_mod.uuid4()), a1["uuid"], sid)
        cr = {
            "type": "content-replacement",
            "sessionId": sid,
            "replacements": [{"toolUseId": "tu_1", "newContent": "x"}],
        }
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid},
            [u1, a1, u2, cr],  # type: ignore[arg-type]
        )

        result = await fork_session_via_store(
            store, sid, directory=DIR, up_to_message_id=a1["uuid"], title="My Fork"
        )
        assert result.session_id != sid
        forked = store.get_entries({"project_key": PROJECT_KEY, "session_id": result.session_id})
        # 2 transcript entries (sliced at a1) + 1 content-replacement + 1 custom-title
        assert len(forked) == 4
        f0, f1, cr_out, title = forked

        # UUIDs remapped, chain preserved.
        assert f0["uuid"] != u1["uuid"]
        assert f0["parentUuid"] is None
        assert f1["parentUuid"] == f0["uuid"]
        assert f0["sessionId"] == result.session_id
        assert f0["forkedFrom"]["messageUuid"] == u1["uuid"]

        # Custom-title entry carries uuid+timestamp.
        assert title["type"] == "custom-title"
        assert title["customTitle"] == "My Fork"
        assert isinstance(title["uuid"], str) and title["uuid"]
        assert isinstance(title["timestamp"], str)

        # Content-replacement entry rewritten and stamped.
        assert cr_out["type"] == "content-replacement"
        assert cr_out["sessionId"] == result.session_id
        assert isinstance(cr_out["uuid"], str) and cr_out["uuid"]
        assert isinstance(cr_out["timestamp"], str)


# ===========================================================================
# test_session_summary.py
# ===========================================================================

_SUM_KEY: SessionKey = {
    "project_key": PROJECT_KEY,
    "session_id": "11111111-1111-4111-8111-111111111111",
}


def _sum_user(
    text: str | list[dict[str, Any]], ts: str = "2024-01-01T00:00:00.000Z", **extra: Any
) -> dict[str, Any]:
    return {
        "type": "user",
        "timestamp": ts,
        "message": {"role": "user", "content": text},
        **extra,
    }


class _sum_ServingStore:
    """Serves fixed listings: ``summary`` (fast path) or ``entries`` via ``load()`` (slow path)."""

    def __init__(
        self, session_id: str, mtime: int, summary: Any = None, entries: Any = None
    ) -> None:
        self.session_id, self.mtime, self.summary, self.entries = (
            session_id,
            mtime,
            summary,
            entries,
        )

    async def append(self, key, entries) -> None:
        raise AssertionError("not called")

    async def load(self, key):
        return None if self.entries is None else json.loads(json.dumps(self.entries))

    async def list_sessions(self, project_key):
        return [{"session_id": self.session_id, "mtime": self.mtime}]

    async def list_session_summaries(self, project_key):
        if self.summary is None:
            raise NotImplementedError
        return [json.loads(json.dumps(self.summary))]


async def summary_entry_to_sdk_info(entry: SessionSummaryEntry, project_path: str | None):
    """The official private converter, observed through ``list_sessions_from_store``'s fast
    path over a store serving ``entry`` (None when the listing drops it)."""
    store = _sum_ServingStore(entry["session_id"], entry["mtime"], summary=entry)
    infos = await list_sessions_from_store(store, directory=project_path)
    assert len(infos) <= 1
    return infos[0] if infos else None


async def _parse_session_info_from_lite(
    sid: str, entries: list[dict[str, Any]], mtime: int, project_path: str
):
    """The official load fallback (lite-parse of the JSONL), observed through
    ``list_sessions_from_store`` over a store without summaries."""
    store = _sum_ServingStore(sid, mtime, entries=entries)
    infos = await list_sessions_from_store(store, directory=project_path)
    assert len(infos) <= 1
    return infos[0] if infos else None


# ---------------------------------------------------------------------------
# fold_session_summary unit tests
# ---------------------------------------------------------------------------


class TestFoldSessionSummary:
    # port of test_session_summary.py::TestFoldSessionSummary::test_init_from_none
    def test_init_from_none(self) -> None:
        s = fold_session_summary(None, _SUM_KEY, [])
        assert s == {"session_id": _SUM_KEY["session_id"], "mtime": 0, "data": {}}

    # port of test_session_summary.py::TestFoldSessionSummary::test_set_once_fields_freeze
    def test_set_once_fields_freeze(self) -> None:
        s = fold_session_summary(
            None,
            _SUM_KEY,
            [
                {
                    "type": "x",
                    "timestamp": "2024-01-01T00:00:00.000Z",
                    "cwd": "/a",
                    "isSidechain": False,
                },
                {"type": "x", "timestamp": "2024-01-01T00:00:05.000Z", "cwd": "/b"},
            ],
        )
        assert s["data"]["created_at"] == 1704067200000
        assert s["data"]["cwd"] == "/a"
        assert s["data"]["is_sidechain"] is False
        # Second append must not overwrite set-once fields.
        s2 = fold_session_summary(
            s,
            _SUM_KEY,
            [
                {
                    "type": "x",
                    "timestamp": "2024-01-02T00:00:00.000Z",
                    "cwd": "/c",
                    "isSidechain": True,
                }
            ],
        )
        assert s2["data"]["created_at"] == 1704067200000
        assert s2["data"]["cwd"] == "/a"
        assert s2["data"]["is_sidechain"] is False

    # port of test_session_summary.py::TestFoldSessionSummary::test_last_wins_overwrite
    def test_last_wins_overwrite(self) -> None:
        s = fold_session_summary(
            None,
            _SUM_KEY,
            [
                {
                    "type": "x",
                    "timestamp": "2024-01-01T00:00:00Z",
                    "customTitle": "t1",
                    "gitBranch": "main",
                },
                {"type": "x", "timestamp": "2024-01-01T00:00:01Z", "customTitle": "t2"},
            ],
        )
        assert s["data"]["custom_title"] == "t2"
        assert s["data"]["git_branch"] == "main"
        s2 = fold_session_summary(
            s,
            _SUM_KEY,
            [
                {
                    "type": "x",
                    "aiTitle": "ai",
                    "lastPrompt": "lp",
                    "summary": "sm",
                    "gitBranch": "dev",
                }
            ],
        )
        assert s2["data"]["custom_title"] == "t2"
        assert s2["data"]["ai_title"] == "ai"
        assert s2["data"]["last_prompt"] == "lp"
        assert s2["data"]["summary_hint"] == "sm"
        assert s2["data"]["git_branch"] == "dev"

    # port of test_session_summary.py::TestFoldSessionSummary::test_mtime_not_derived_from_entries
    def test_mtime_not_derived_from_entries(self) -> None:
        """The fold must not touch mtime — it is the sidecar's storage write
        time, stamped by the adapter at persist time, on the same clock as
        list_sessions().mtime. Deriving it from entry ISO timestamps would
        make every batched-write sidecar appear strictly older than the
        session's current mtime, defeating the fast-path staleness check."""
        s = fold_session_summary(
            None,
            _SUM_KEY,
            [
                {"type": "x", "timestamp": "2024-01-01T00:00:05.000Z"},
                {"type": "x", "timestamp": "2024-01-01T00:00:01.000Z"},
            ],
        )
        # New session: fold returns mtime=0 placeholder, adapter must stamp.
        assert s["mtime"] == 0

        # Carry-over: prev mtime is preserved verbatim regardless of entry
        # timestamps in the new batch.
        prev: SessionSummaryEntry = {
            "session_id": _SUM_KEY["session_id"],
            "mtime": 42,
            "data": {},
        }
        s2 = fold_session_summary(
            prev, _SUM_KEY, [{"type": "x", "timestamp": "2024-01-01T00:00:10.000Z"}]
        )
        assert s2["mtime"] == 42

    # port of test_session_summary.py::TestFoldSessionSummary::test_tag_set_and_clear
    def test_tag_set_and_clear(self) -> None:
        s = fold_session_summary(None, _SUM_KEY, [{"type": "tag", "tag": "wip"}])
        assert s["data"]["tag"] == "wip"
        s2 = fold_session_summary(s, _SUM_KEY, [{"type": "tag", "tag": ""}])
        assert "tag" not in s2["data"]
        # Non-tag entries with a "tag" key (e.g. tool_use input) are ignored.
        s3 = fold_session_summary(s, _SUM_KEY, [{"type": "user", "tag": "ignored"}])
        assert s3["data"]["tag"] == "wip"

    # port of test_session_summary.py::TestFoldSessionSummary::test_sidechain_from_first_entry
    def test_sidechain_from_first_entry(self) -> None:
        s = fold_session_summary(
            None,
            _SUM_KEY,
            [{"type": "x", "timestamp": "2024-01-01T00:00:00Z", "isSidechain": True}],
        )
        assert s["data"]["is_sidechain"] is True

    # port of test_session_summary.py::TestFoldSessionSummary::test_sidechain_latched_when_first_entry_lacks_timestamp
    def test_sidechain_latched_when_first_entry_lacks_timestamp(self) -> None:
        """Regression: is_sidechain must latch on entry 0 even if its timestamp
        is absent/unparseable, so entry 1 cannot overwrite it to False."""
        s = fold_session_summary(
            None,
            _SUM_KEY,
            [
                {"type": "user", "isSidechain": True},
                {"type": "x", "timestamp": "2024-01-01T00:00:00Z"},
            ],
        )
        assert s["data"]["is_sidechain"] is True
        # created_at still picks up the first parseable timestamp.
        assert s["data"]["created_at"] == 1704067200000

    # port of test_session_summary.py::TestFoldSessionSummary::test_first_prompt_skips_meta_tool_result_and_compact
    def test_first_prompt_skips_meta_tool_result_and_compact(self) -> None:
        s = fold_session_summary(
            None,
            _SUM_KEY,
            [
                _sum_user("ignored meta", isMeta=True),
                _sum_user("ignored compact", isCompactSummary=True),
                _sum_user([{"type": "tool_result", "tool_use_id": "x", "content": "res"}]),
                _sum_user("real first"),
                _sum_user("not me"),
            ],
        )
        assert s["data"]["first_prompt"] == "real first"
        assert s["data"]["first_prompt_locked"] is True

    # port of test_session_summary.py::TestFoldSessionSummary::test_first_prompt_command_fallback
    def test_first_prompt_command_fallback(self) -> None:
        s = fold_session_summary(
            None,
            _SUM_KEY,
            [
                _sum_user("<command-name>/init</command-name> stuff"),
                _sum_user("<command-name>/second</command-name>"),
            ],
        )
        assert s["data"].get("first_prompt_locked") is not True
        assert s["data"]["command_fallback"] == "/init"
        # A later real prompt locks it.
        s2 = fold_session_summary(s, _SUM_KEY, [_sum_user("now real")])
        assert s2["data"]["first_prompt"] == "now real"
        assert s2["data"]["first_prompt_locked"] is True

    # port of test_session_summary.py::TestFoldSessionSummary::test_first_prompt_skip_pattern
    def test_first_prompt_skip_pattern(self) -> None:
        s = fold_session_summary(
            None,
            _SUM_KEY,
            [_sum_user("<local-command-stdout> some output"), _sum_user("hello")],
        )
        assert s["data"]["first_prompt"] == "hello"

    # port of test_session_summary.py::TestFoldSessionSummary::test_first_prompt_truncated
    def test_first_prompt_truncated(self) -> None:
        s = fold_session_summary(None, _SUM_KEY, [_sum_user("x" * 300)])
        assert len(s["data"]["first_prompt"]) <= 201
        assert s["data"]["first_prompt"].endswith("\u2026")

    # port of test_session_summary.py::TestFoldSessionSummary::test_prev_is_not_mutated
    def test_prev_is_not_mutated(self) -> None:
        prev: SessionSummaryEntry = {"session_id": "a", "mtime": 5, "data": {}}
        fold_session_summary(prev, _SUM_KEY, [{"type": "x", "customTitle": "t"}])
        assert prev == {"session_id": "a", "mtime": 5, "data": {}}


# ---------------------------------------------------------------------------
# summary_entry_to_sdk_info
# ---------------------------------------------------------------------------


class TestSummaryEntryToSdkInfo:
    # port of test_session_summary.py::TestSummaryEntryToSdkInfo::test_sidechain_returns_none
    async def test_sidechain_returns_none(self) -> None:
        assert (
            await summary_entry_to_sdk_info(
                {
                    "session_id": "s",
                    "mtime": 1,
                    "data": {"is_sidechain": True, "custom_title": "t"},
                },
                None,
            )
            is None
        )

    # port of test_session_summary.py::TestSummaryEntryToSdkInfo::test_empty_summary_returns_none
    async def test_empty_summary_returns_none(self) -> None:
        assert (
            await summary_entry_to_sdk_info({"session_id": "s", "mtime": 1, "data": {}}, None)
            is None
        )

    # port of test_session_summary.py::TestSummaryEntryToSdkInfo::test_precedence_chain
    async def test_precedence_chain(self) -> None:
        data: dict[str, Any] = {
            "first_prompt": "fp",
            "first_prompt_locked": True,
            "command_fallback": "/cmd",
            "summary_hint": "sh",
            "last_prompt": "lp",
            "ai_title": "ai",
            "custom_title": "ct",
        }
        base: SessionSummaryEntry = {"session_id": "s", "mtime": 1, "data": data}
        info = await summary_entry_to_sdk_info(base, None)
        assert info is not None and info.summary == "ct" and info.custom_title == "ct"

        del data["custom_title"]
        info = await summary_entry_to_sdk_info(base, None)
        assert info is not None and info.summary == "ai" and info.custom_title == "ai"

        del data["ai_title"]
        info = await summary_entry_to_sdk_info(base, None)
        assert info is not None and info.summary == "lp" and info.custom_title is None

        del data["last_prompt"]
        info = await summary_entry_to_sdk_info(base, None)
        assert info is not None and info.summary == "sh"

        del data["summary_hint"]
        info = await summary_entry_to_sdk_info(base, None)
        assert info is not None and info.summary == "fp" and info.first_prompt == "fp"

        data["first_prompt_locked"] = False
        info = await summary_entry_to_sdk_info(base, None)
        assert info is not None and info.summary == "/cmd" and info.first_prompt == "/cmd"

    # port of test_session_summary.py::TestSummaryEntryToSdkInfo::test_cwd_fallback_to_project_path
    async def test_cwd_fallback_to_project_path(self) -> None:
        info = await summary_entry_to_sdk_info(
            {"session_id": "s", "mtime": 1, "data": {"custom_title": "t"}}, "/proj"
        )
        assert info is not None and info.cwd == "/proj"
        info2 = await summary_entry_to_sdk_info(
            {
                "session_id": "s",
                "mtime": 1,
                "data": {"custom_title": "t", "cwd": "/own"},
            },
            "/proj",
        )
        assert info2 is not None and info2.cwd == "/own"

    # port of test_session_summary.py::TestSummaryEntryToSdkInfo::test_field_passthrough
    async def test_field_passthrough(self) -> None:
        info = await summary_entry_to_sdk_info(
            {
                "session_id": "s",
                "mtime": 99,
                "data": {
                    "custom_title": "t",
                    "git_branch": "main",
                    "tag": "wip",
                    "created_at": 50,
                },
            },
            None,
        )
        assert info is not None
        assert info.session_id == "s"
        assert info.last_modified == 99
        assert info.git_branch == "main"
        assert info.tag == "wip"
        assert info.created_at == 50
        # file_size is local-JSONL-only; store-backed summaries always None.
        assert info.file_size is None


# ---------------------------------------------------------------------------
# InMemorySessionStore.list_session_summaries
# ---------------------------------------------------------------------------


class TestInMemoryListSessionSummaries:
    # port of test_session_summary.py::TestInMemoryListSessionSummaries::test_tracks_appends
    async def test_tracks_appends(self) -> None:
        store = InMemorySessionStore()
        a: SessionKey = {"project_key": PROJECT_KEY, "session_id": "a"}
        b: SessionKey = {"project_key": PROJECT_KEY, "session_id": "b"}
        await store.append(a, [_sum_user("hello a", ts="2024-01-01T00:00:00Z")])
        await store.append(a, [{"type": "x", "customTitle": "Title A"}])
        await store.append(b, [_sum_user("hello b", ts="2024-01-02T00:00:00Z")])
        summaries = {s["session_id"]: s for s in await store.list_session_summaries(PROJECT_KEY)}
        assert set(summaries) == {"a", "b"}
        assert summaries["a"]["data"]["custom_title"] == "Title A"
        assert summaries["a"]["data"]["first_prompt"] == "hello a"
        assert summaries["b"]["data"]["first_prompt"] == "hello b"

    # port of test_session_summary.py::TestInMemoryListSessionSummaries::test_subpath_appends_ignored
    async def test_subpath_appends_ignored(self) -> None:
        store = InMemorySessionStore()
        main: SessionKey = {"project_key": PROJECT_KEY, "session_id": "m"}
        sub: SessionKey = {
            "project_key": PROJECT_KEY,
            "session_id": "m",
            "subpath": "subagents/agent-1",
        }
        await store.append(main, [_sum_user("main prompt")])
        await store.append(sub, [_sum_user("sub prompt"), {"type": "x", "customTitle": "sub"}])
        summaries = await store.list_session_summaries(PROJECT_KEY)
        assert len(summaries) == 1
        assert summaries[0]["data"]["first_prompt"] == "main prompt"
        assert "custom_title" not in summaries[0]["data"]

    # port of test_session_summary.py::TestInMemoryListSessionSummaries::test_delete_drops_summary
    async def test_delete_drops_summary(self) -> None:
        store = InMemorySessionStore()
        k: SessionKey = {"project_key": PROJECT_KEY, "session_id": "x"}
        await store.append(k, [_sum_user("hi")])
        assert len(await store.list_session_summaries(PROJECT_KEY)) == 1
        await store.delete(k)
        assert await store.list_session_summaries(PROJECT_KEY) == []

    # port of test_session_summary.py::TestInMemoryListSessionSummaries::test_project_isolation
    async def test_project_isolation(self) -> None:
        store = InMemorySessionStore()
        await store.append({"project_key": "A", "session_id": "s"}, [_sum_user("a")])
        await store.append({"project_key": "B", "session_id": "s"}, [_sum_user("b")])
        assert len(await store.list_session_summaries("A")) == 1
        assert len(await store.list_session_summaries("B")) == 1
        assert await store.list_session_summaries("C") == []


# ---------------------------------------------------------------------------
# list_sessions_from_store integration — fast path
# ---------------------------------------------------------------------------


class TestListSessionsFromStoreFastPath:
    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_fast_path_skips_load
    async def test_fast_path_skips_load(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With list_session_summaries() available, load() must NOT be called."""
        store = InMemorySessionStore()
        sid_a = str(uuid_mod.uuid4())
        sid_b = str(uuid_mod.uuid4())
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_a},
            [_sum_user("first a", ts="2024-01-01T00:00:00Z", cwd=DIR)],
        )
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_b},
            [_sum_user("first b", ts="2024-01-02T00:00:00Z", cwd=DIR)],
        )

        async def _boom(self, key):
            raise AssertionError("load() must not be called on the fast path")

        monkeypatch.setattr(InMemorySessionStore, "load", _boom)

        sessions = await list_sessions_from_store(store, directory=DIR)
        assert {s.session_id for s in sessions} == {sid_a, sid_b}
        # Sorted by last_modified descending — sid_b's timestamp is newer.
        assert sessions[0].session_id == sid_b
        assert sessions[0].summary == "first b"
        assert sessions[1].first_prompt == "first a"

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_fast_path_filters_sidechain_and_empty
    async def test_fast_path_filters_sidechain_and_empty(self) -> None:
        store = InMemorySessionStore()
        sid_main = str(uuid_mod.uuid4())
        sid_side = str(uuid_mod.uuid4())
        sid_empty = str(uuid_mod.uuid4())
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_main},
            [_sum_user("hello", ts="2024-01-01T00:00:00Z")],
        )
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_side},
            [
                {
                    "type": "user",
                    "timestamp": "2024-01-01T00:00:00Z",
                    "isSidechain": True,
                    "message": {"content": "x"},
                }
            ],
        )
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_empty},
            [{"type": "x", "timestamp": "2024-01-01T00:00:00Z"}],
        )
        sessions = await list_sessions_from_store(store, directory=DIR)
        assert {s.session_id for s in sessions} == {sid_main}

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_fast_path_limit_offset
    async def test_fast_path_limit_offset(self) -> None:
        store = InMemorySessionStore()
        sids = [str(uuid_mod.uuid4()) for _ in range(5)]
        for i, sid in enumerate(sids):
            await store.append(
                {"project_key": PROJECT_KEY, "session_id": sid},
                [_sum_user(f"p{i}", ts=f"2024-01-0{i + 1}T00:00:00Z")],
            )
        page = await list_sessions_from_store(store, directory=DIR, limit=2, offset=1)
        assert len(page) == 2
        assert page[0].session_id == sids[3]
        assert page[1].session_id == sids[2]

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_not_implemented_falls_back_to_load
    async def test_not_implemented_falls_back_to_load(self) -> None:
        """A store that overrides list_session_summaries but raises
        NotImplementedError must fall back to the per-session load() path."""

        class FallbackStore(InMemorySessionStore):
            async def list_session_summaries(self, project_key: str):
                raise NotImplementedError

        store = FallbackStore()
        sid = str(uuid_mod.uuid4())
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid},
            [_sum_user("hi", ts="2024-01-01T00:00:00Z")],
        )
        sessions = await list_sessions_from_store(store, directory=DIR)
        assert len(sessions) == 1
        assert sessions[0].summary == "hi"

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_mixed_sessions_gap_filled
    async def test_mixed_sessions_gap_filled(self) -> None:
        """A store with summaries for only SOME sessions (e.g. adopted the
        method mid-stream) must have the rest gap-filled via per-session
        load() so old sessions aren't silently dropped."""
        sid_with = str(uuid_mod.uuid4())
        sid_without = str(uuid_mod.uuid4())

        class PartialStore(InMemorySessionStore):
            load_calls: list[str] = []

            async def list_session_summaries(self, project_key: str):
                full = await super().list_session_summaries(project_key)
                return [s for s in full if s["session_id"] == sid_with]

            async def load(self, key):
                self.load_calls.append(key["session_id"])
                return await super().load(key)

        store = PartialStore()
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_with},
            [_sum_user("has sidecar", ts="2024-01-02T00:00:00Z")],
        )
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_without},
            [_sum_user("no sidecar", ts="2024-01-01T00:00:00Z")],
        )

        sessions = await list_sessions_from_store(store, directory=DIR)
        by_id = {s.session_id: s for s in sessions}
        assert set(by_id) == {sid_with, sid_without}
        assert by_id[sid_with].summary == "has sidecar"
        assert by_id[sid_without].summary == "no sidecar"
        # Only the missing session should have been load()ed.
        assert store.load_calls == [sid_without]
        # Merged result sorts on a single clock (storage write time). In
        # InMemorySessionStore, that's a strictly monotonic counter, so
        # sid_without (appended second) sorts newest.
        assert sessions[0].session_id == sid_without

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_gap_fill_load_bounded_by_limit
    async def test_gap_fill_load_bounded_by_limit(self) -> None:
        """Gap-fill paginates BEFORE per-session load(), so load() count is
        bounded by page size, not total missing."""

        class CountingStore(InMemorySessionStore):
            def __init__(self) -> None:
                super().__init__()
                self.load_calls: list[str] = []

            async def list_session_summaries(self, project_key: str):
                full = await super().list_session_summaries(project_key)
                return [s for s in full if s["session_id"] == sid_with]

            async def load(self, key):
                self.load_calls.append(key["session_id"])
                return await super().load(key)

        store = CountingStore()
        sid_with = str(uuid_mod.uuid4())
        # 5 sessions without sidecars. InMemorySessionStore stamps storage
        # mtime strictly monotonically per append, so these first 5 appends
        # are all older than sid_with below.
        sids_without = [str(uuid_mod.uuid4()) for _ in range(5)]
        for i, sid in enumerate(sids_without):
            await store.append(
                {"project_key": PROJECT_KEY, "session_id": sid},
                [_sum_user(f"without {i}", ts=f"2024-01-0{i + 1}T00:00:00Z")],
            )
        # Append sid_with last so storage mtime makes it the newest session.
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_with},
            [_sum_user("with", ts="2024-01-10T00:00:00Z")],
        )

        page = await list_sessions_from_store(store, directory=DIR, limit=2)
        # Page = newest 2: sid_with (sidecar) + newest 1 missing.
        assert len(page) == 2
        assert page[0].session_id == sid_with
        # load() bounded by page size (≤2), not total missing (5).
        assert len(store.load_calls) <= 2
        # Specifically, only the one placeholder in the page was loaded.
        assert len(store.load_calls) == 1

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_sidechain_summary_does_not_consume_page_slot
    async def test_sidechain_summary_does_not_consume_page_slot(self) -> None:
        """Summary-backed sidechain/empty sessions are dropped BEFORE
        pagination (free — already determined from the sidecar) so they don't
        consume offset/limit positions. Matches the disk and slow-path
        filter-then-paginate semantics. Only gap-fill placeholders that
        resolve to None after load can short-page."""
        store = InMemorySessionStore()
        sids = [str(uuid_mod.uuid4()) for _ in range(3)]
        # Append order determines storage mtime (InMemorySessionStore
        # monotonic counter). We append the two real sessions first and the
        # sidechain LAST so the sidechain is the newest-by-storage-mtime.
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sids[2]},
            [_sum_user("real 2", ts="2024-01-01T00:00:00Z")],
        )
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sids[1]},
            [_sum_user("real 1", ts="2024-01-02T00:00:00Z")],
        )
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sids[0]},
            [
                {
                    "type": "user",
                    "timestamp": "2024-01-03T00:00:00Z",
                    "isSidechain": True,
                    "message": {"content": "x"},
                }
            ],
        )

        page = await list_sessions_from_store(store, directory=DIR, limit=2)
        # The sidechain summary is pre-filtered, so limit=2 returns both real
        # sessions — full page, matching the slow path. sids[1] was appended
        # after sids[2] and is therefore newer by storage mtime.
        assert len(page) == 2
        assert [s.session_id for s in page] == [sids[1], sids[2]]

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_stale_sidecar_triggers_gap_fill
    async def test_stale_sidecar_triggers_gap_fill(self) -> None:
        """A sidecar whose mtime lags the session's current mtime from
        list_sessions must be treated as missing: route it through gap-fill so
        the SDK re-folds from source entries and the result reflects fresh
        transcript state, not the stale sidecar values."""
        sid = str(uuid_mod.uuid4())
        stale_mtime = 1_704_067_260_000  # 2024-01-01T00:01:00Z
        fresh_mtime = 1_704_153_660_000  # 2024-01-02T00:01:00Z

        class StaleSidecarStore(InMemorySessionStore):
            """Reports fresh transcript state but a stale summary sidecar."""

            def __init__(self) -> None:
                super().__init__()
                self.load_calls: list[str] = []

            async def list_session_summaries(self, project_key):
                # Serve a stale summary reflecting T1 state.
                if project_key != PROJECT_KEY:
                    return []
                return [
                    {
                        "session_id": sid,
                        "mtime": stale_mtime,
                        "data": {
                            "custom_title": "old",
                            "first_prompt": "old prompt",
                            "first_prompt_locked": True,
                            "created_at": stale_mtime,
                        },
                    }
                ]

            async def load(self, key):
                self.load_calls.append(key["session_id"])
                return await super().load(key)

        store = StaleSidecarStore()
        # Populate the real transcript with fresh entries so list_sessions()
        # reports the fresh mtime and a gap-fill load() yields fresh info.
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid},
            [
                _sum_user("fresh prompt", ts="2024-01-02T00:00:00Z"),
                {
                    "type": "x",
                    "timestamp": "2024-01-02T00:01:00Z",
                    "customTitle": "fresh",
                },
            ],
        )
        # Sanity-check the setup: list_sessions reports fresh mtime.
        listed = await InMemorySessionStore.list_sessions(store, PROJECT_KEY)
        assert listed[0]["mtime"] > stale_mtime

        sessions = await list_sessions_from_store(store, directory=DIR)
        assert len(sessions) == 1
        info = sessions[0]
        assert info.session_id == sid
        # Fresh transcript state wins — stale customTitle must NOT leak through.
        assert info.custom_title == "fresh"
        assert info.summary == "fresh"
        assert info.last_modified >= fresh_mtime
        # Stale entry was routed into gap-fill, so load() was called for it.
        assert store.load_calls == [sid]

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_fresh_sidecar_with_storage_newer_mtime_not_gap_filled
    async def test_fresh_sidecar_with_storage_newer_mtime_not_gap_filled(self) -> None:
        """The sidecar's mtime is storage write time, not entry time. For
        adapters that use native storage mtime (file mtime, S3 LastModified,
        Postgres updated_at), every successful batched append records a
        storage mtime strictly later than the last entry's ISO timestamp
        (~100ms batch cadence + network latency). The staleness check must
        NOT flag these fresh sidecars as stale — otherwise every slot routes
        through gap-fill load() and the fast path's N->1 goal is defeated.
        """
        sid = str(uuid_mod.uuid4())
        # T1: entry ISO timestamp embedded in the transcript.
        t1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
        # T2: storage write time for both list_sessions and sidecar —
        # strictly later than T1 (batcher + network delay). The point of
        # this test is that T2 > T1 does NOT by itself mark the sidecar
        # stale: both list_sessions().mtime and sidecar.mtime come from
        # the same storage clock (T2), so summary.mtime == known.mtime.
        t2 = 1_704_067_200_250  # +250ms of persist latency

        class StorageMtimeStore(InMemorySessionStore):
            """Adapter that stamps both list_sessions and the sidecar with
            storage-native mtime — strictly later than entry ISO timestamps.
            """

            def __init__(self) -> None:
                super().__init__()
                self.load_calls: list[str] = []

            async def list_sessions(self, project_key: str):
                # Pretend storage mtime is T2 for every session.
                full = await super().list_sessions(project_key)
                return [{"session_id": e["session_id"], "mtime": t2} for e in full]

            async def list_session_summaries(self, project_key: str):
                # Sidecar mtime is also T2 (same clock).
                full = await super().list_session_summaries(project_key)
                return [
                    {"session_id": s["session_id"], "mtime": t2, "data": s["data"]} for s in full
                ]

            async def load(self, key):
                self.load_calls.append(key["session_id"])
                return await super().load(key)

        store = StorageMtimeStore()
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid},
            [
                _sum_user("fresh prompt", ts="2024-01-01T00:00:00.000Z"),
                {
                    "type": "x",
                    "timestamp": "2024-01-01T00:00:00.000Z",
                    "customTitle": "fresh",
                },
            ],
        )
        # Entries carry ISO timestamps at T1; storage records the write at T2.
        # Sanity-check the adapter reports T2 from both surfaces.
        listed = await store.list_sessions(PROJECT_KEY)
        assert listed[0]["mtime"] == t2
        summ = await store.list_session_summaries(PROJECT_KEY)
        assert summ[0]["mtime"] == t2
        # Entry timestamps are at T1, strictly older than T2.
        assert t2 > t1

        sessions = await list_sessions_from_store(store, directory=DIR)
        assert len(sessions) == 1
        info = sessions[0]
        assert info.session_id == sid
        assert info.summary == "fresh"
        assert info.last_modified == t2
        # Fast path: load() must NOT have been called — summary.mtime ==
        # known.mtime means not stale, so the slot returns its summary-derived
        # info directly.
        assert store.load_calls == []

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_summary_without_listing_is_dropped
    async def test_summary_without_listing_is_dropped(self) -> None:
        """A summary for a session that list_sessions() no longer reports must
        be dropped from the fast-path result."""
        sid_real = str(uuid_mod.uuid4())
        sid_ghost = str(uuid_mod.uuid4())

        class GhostStore(InMemorySessionStore):
            async def list_sessions(self, project_key: str):
                full = await super().list_sessions(project_key)
                return [s for s in full if s["session_id"] != sid_ghost]

        store = GhostStore()
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_real},
            [_sum_user("real", ts="2024-01-02T00:00:00Z")],
        )
        await store.append(
            {"project_key": PROJECT_KEY, "session_id": sid_ghost},
            [_sum_user("ghost", ts="2024-01-01T00:00:00Z")],
        )

        sessions = await list_sessions_from_store(store, directory=DIR)
        assert {s.session_id for s in sessions} == {sid_real}

    # port of test_session_summary.py::TestListSessionsFromStoreFastPath::test_gap_fill_bounded_concurrency
    async def test_gap_fill_bounded_concurrency(self) -> None:
        """Gap-fill reuses the bounded per-session load helper, so
        ``_STORE_LIST_LOAD_CONCURRENCY`` applies to the missing-session set."""
        in_flight = 0
        peak = 0
        gate = trio.Event()

        class PartialSlowStore(InMemorySessionStore):
            async def list_session_summaries(self, project_key: str):
                return []  # everything is "missing"

            async def load(self, key):
                nonlocal in_flight, peak
                in_flight += 1
                peak = max(peak, in_flight)
                await gate.wait()
                in_flight -= 1
                return await super().load(key)

        store = PartialSlowStore()
        n = _STORE_LIST_LOAD_CONCURRENCY * 2
        for i in range(n):
            await InMemorySessionStore.append(
                store,
                {"project_key": PROJECT_KEY, "session_id": str(uuid_mod.uuid4())},
                [_sum_user(f"p{i}")],
            )

        peak_at_saturation = 0
        async with trio.open_nursery() as tg:
            tg.start_soon(partial(list_sessions_from_store, store, directory=DIR))
            # (official: five anyio.sleep(0) turns; trio-claude takes more scheduler turns to
            # reach its loads, so wait for the first load, then until every task is blocked)
            with trio.fail_after(10):
                while peak == 0:
                    await trio.sleep(0.001)
            await trio.testing.wait_all_tasks_blocked()
            peak_at_saturation = peak
            gate.set()
        assert 0 < peak_at_saturation <= _STORE_LIST_LOAD_CONCURRENCY
        assert peak == _STORE_LIST_LOAD_CONCURRENCY


# ---------------------------------------------------------------------------
# Parity: incremental fold == batch lite-parse
# ---------------------------------------------------------------------------


class TestParityWithLiteParse:
    # port of test_session_summary.py::TestParityWithLiteParse::test_incremental_equals_batch
    async def test_incremental_equals_batch(self) -> None:
        """``await summary_entry_to_sdk_info(fold(...))`` must equal
        ``_parse_session_info_from_lite`` on the same entry stream."""
        sid = "22222222-2222-4222-8222-222222222222"
        k: SessionKey = {"project_key": PROJECT_KEY, "session_id": sid}
        entries: list[dict[str, Any]] = [
            _sum_user(
                "<command-name>/clear</command-name>",
                ts="2024-01-01T00:00:00.000Z",
                cwd="/work",
                gitBranch="main",
            ),
            _sum_user("ignored", ts="2024-01-01T00:00:01.000Z", isMeta=True),
            _sum_user("real prompt here", ts="2024-01-01T00:00:02.000Z"),
            {
                "type": "assistant",
                "timestamp": "2024-01-01T00:00:03.000Z",
                "message": {"content": [{"type": "text", "text": "ok"}]},
            },
            {
                "type": "x",
                "timestamp": "2024-01-01T00:00:04.000Z",
                "aiTitle": "AI Named",
            },
            {"type": "tag", "timestamp": "2024-01-01T00:00:05.000Z", "tag": "wip"},
            {
                "type": "x",
                "timestamp": "2024-01-01T00:00:06.000Z",
                "customTitle": "User Named",
                "gitBranch": "feature",
            },
        ]

        # Incremental — fold across two append batches to exercise carry-over.
        folded = fold_session_summary(None, k, entries[:3])
        folded = fold_session_summary(folded, k, entries[3:])
        incremental = await summary_entry_to_sdk_info(folded, "/work")

        # Batch — same path list_sessions_from_store fallback uses.
        batch = await _parse_session_info_from_lite(sid, entries, folded["mtime"], "/work")

        assert incremental is not None and batch is not None
        # file_size is a byte count only meaningful for the JSONL path.
        batch = replace(batch, file_size=None)
        assert incremental == batch

    # port of test_session_summary.py::TestParityWithLiteParse::test_parity_first_prompt_only
    async def test_parity_first_prompt_only(self) -> None:
        sid = "33333333-3333-4333-8333-333333333333"
        k: SessionKey = {"project_key": PROJECT_KEY, "session_id": sid}
        entries: list[dict[str, Any]] = [
            _sum_user("just a prompt", ts="2024-02-01T00:00:00.000Z", cwd="/w"),
        ]
        folded = fold_session_summary(None, k, entries)
        incremental = await summary_entry_to_sdk_info(folded, "/w")
        batch = await _parse_session_info_from_lite(sid, entries, folded["mtime"], "/w")
        assert incremental is not None and batch is not None
        batch = replace(batch, file_size=None)
        assert incremental == batch


# ===========================================================================
# test_session_import.py
# ===========================================================================

_IMP_SESSION_ID = "550e8400-e29b-41d4-a716-446655440000"


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    d = tmp_path / "project"
    d.mkdir()
    return d


@pytest.fixture
def project_key(cwd: Path) -> str:
    return project_key_for_directory(cwd)


@pytest.fixture
def claude_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project_key: str) -> Path:
    """Create an isolated ~/.claude/projects/<project_key>/ tree."""
    config = tmp_path / "claude_config"
    project_dir = config / "projects" / project_key
    project_dir.mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    return project_dir


def _imp_entry(i: int) -> SessionStoreEntry:
    return {"type": "user", "uuid": f"u{i}", "timestamp": f"2026-01-01T00:00:{i:02d}Z"}


def _imp_write_jsonl(path: Path, entries: list[SessionStoreEntry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------
# Main transcript import
# ---------------------------------------------------------------------------


class TestMainTranscript:
    # port of test_session_import.py::TestMainTranscript::test_imports_main_transcript
    async def test_imports_main_transcript(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        entries = [_imp_entry(i) for i in range(7)]
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", entries)

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        key: SessionKey = {"project_key": project_key, "session_id": _IMP_SESSION_ID}
        assert store.get_entries(key) == entries

    # port of test_session_import.py::TestMainTranscript::test_batching_calls_append_per_chunk
    async def test_batching_calls_append_per_chunk(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        entries = [_imp_entry(i) for i in range(5)]
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", entries)

        store = InMemorySessionStore()
        spy = AsyncMock(wraps=store.append)
        store.append = spy  # type: ignore[method-assign]

        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd), batch_size=2)

        # 5 entries / batch_size 2 → 3 append() calls (2 + 2 + 1).
        assert spy.await_count == 3
        key: SessionKey = {"project_key": project_key, "session_id": _IMP_SESSION_ID}
        assert spy.await_args_list[0].args == (key, entries[0:2])
        assert spy.await_args_list[1].args == (key, entries[2:4])
        assert spy.await_args_list[2].args == (key, entries[4:5])
        assert store.get_entries(key) == entries

    # port of test_session_import.py::TestMainTranscript::test_skips_blank_lines
    async def test_skips_blank_lines(self, claude_dir: Path, cwd: Path, project_key: str) -> None:
        path = claude_dir / f"{_IMP_SESSION_ID}.jsonl"
        path.write_text(
            json.dumps(_imp_entry(0)) + "\n\n" + json.dumps(_imp_entry(1)) + "\n",
            encoding="utf-8",
        )

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        key: SessionKey = {"project_key": project_key, "session_id": _IMP_SESSION_ID}
        assert store.get_entries(key) == [_imp_entry(0), _imp_entry(1)]

    # port of test_session_import.py::TestMainTranscript::test_nonpositive_batch_size_uses_default
    async def test_nonpositive_batch_size_uses_default(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        entries = [_imp_entry(i) for i in range(3)]
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", entries)

        store = InMemorySessionStore()
        spy = AsyncMock(wraps=store.append)
        store.append = spy  # type: ignore[method-assign]

        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd), batch_size=0)

        assert spy.await_count == 1
        key: SessionKey = {"project_key": project_key, "session_id": _IMP_SESSION_ID}
        assert store.get_entries(key) == entries


# ---------------------------------------------------------------------------
# Subagent transcripts
# ---------------------------------------------------------------------------


class TestSubagents:
    # port of test_session_import.py::TestSubagents::test_imports_subagent_transcripts_with_subpath
    async def test_imports_subagent_transcripts_with_subpath(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])
        sub_entries = [_imp_entry(10), _imp_entry(11)]
        _imp_write_jsonl(
            claude_dir / _IMP_SESSION_ID / "subagents" / "agent-abc.jsonl", sub_entries
        )

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        sub_key: SessionKey = {
            "project_key": project_key,
            "session_id": _IMP_SESSION_ID,
            "subpath": "subagents/agent-abc",
        }
        assert store.get_entries(sub_key) == sub_entries
        assert await store.list_subkeys(
            {"project_key": project_key, "session_id": _IMP_SESSION_ID}
        ) == ["subagents/agent-abc"]

    # port of test_session_import.py::TestSubagents::test_imports_nested_subagent_transcripts
    async def test_imports_nested_subagent_transcripts(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])
        nested = claude_dir / _IMP_SESSION_ID / "subagents" / "workflows" / "run-1"
        _imp_write_jsonl(nested / "agent-def.jsonl", [_imp_entry(20)])

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        sub_key: SessionKey = {
            "project_key": project_key,
            "session_id": _IMP_SESSION_ID,
            "subpath": "subagents/workflows/run-1/agent-def",
        }
        assert store.get_entries(sub_key) == [_imp_entry(20)]

    # port of test_session_import.py::TestSubagents::test_imports_meta_json_sidecar_as_agent_metadata
    async def test_imports_meta_json_sidecar_as_agent_metadata(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])
        sub_dir = claude_dir / _IMP_SESSION_ID / "subagents"
        _imp_write_jsonl(sub_dir / "agent-abc.jsonl", [_imp_entry(10)])
        (sub_dir / "agent-abc.meta.json").write_text(
            json.dumps({"agentType": "coder", "worktreePath": "/tmp/wt"}),
            encoding="utf-8",
        )

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        sub_key: SessionKey = {
            "project_key": project_key,
            "session_id": _IMP_SESSION_ID,
            "subpath": "subagents/agent-abc",
        }
        stored = store.get_entries(sub_key)
        assert stored[0] == _imp_entry(10)
        assert stored[1] == {
            "type": "agent_metadata",
            "agentType": "coder",
            "worktreePath": "/tmp/wt",
        }

    # port of test_session_import.py::TestSubagents::test_meta_json_type_key_cannot_shadow_agent_metadata_marker
    async def test_meta_json_type_key_cannot_shadow_agent_metadata_marker(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])
        sub_dir = claude_dir / _IMP_SESSION_ID / "subagents"
        _imp_write_jsonl(sub_dir / "agent-abc.jsonl", [_imp_entry(10)])
        (sub_dir / "agent-abc.meta.json").write_text(
            json.dumps({"type": "something-else", "toolUseId": "toolu_1"}),
            encoding="utf-8",
        )

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        sub_key: SessionKey = {
            "project_key": project_key,
            "session_id": _IMP_SESSION_ID,
            "subpath": "subagents/agent-abc",
        }
        assert store.get_entries(sub_key)[1] == {
            "type": "agent_metadata",
            "toolUseId": "toolu_1",
        }

    # port of test_session_import.py::TestSubagents::test_unusable_meta_json_sidecar_is_treated_as_absent
    @pytest.mark.parametrize("sidecar", ["not json {", "[1, 2]", "42"])
    async def test_unusable_meta_json_sidecar_is_treated_as_absent(
        self, claude_dir: Path, cwd: Path, project_key: str, sidecar: str
    ) -> None:
        """A corrupt or non-object sidecar must not abort the import midway
        (previously json errors / TypeError escaped after the transcripts had
        already been appended); it degrades to a missing sidecar."""
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])
        sub_dir = claude_dir / _IMP_SESSION_ID / "subagents"
        _imp_write_jsonl(sub_dir / "agent-abc.jsonl", [_imp_entry(10)])
        (sub_dir / "agent-abc.meta.json").write_text(sidecar, encoding="utf-8")

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        sub_key: SessionKey = {
            "project_key": project_key,
            "session_id": _IMP_SESSION_ID,
            "subpath": "subagents/agent-abc",
        }
        assert store.get_entries(sub_key) == [_imp_entry(10)]

    # port of test_session_import.py::TestSubagents::test_include_subagents_false_skips_subagents
    async def test_include_subagents_false_skips_subagents(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])
        _imp_write_jsonl(
            claude_dir / _IMP_SESSION_ID / "subagents" / "agent-abc.jsonl", [_imp_entry(10)]
        )

        store = InMemorySessionStore()
        await import_session_to_store(
            _IMP_SESSION_ID, store, directory=str(cwd), include_subagents=False
        )

        assert (
            await store.list_subkeys({"project_key": project_key, "session_id": _IMP_SESSION_ID})
            == []
        )

    # port of test_session_import.py::TestSubagents::test_no_subagents_dir_is_noop
    async def test_no_subagents_dir_is_noop(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])

        store = InMemorySessionStore()
        # include_subagents defaults to True; absence of the dir must not raise.
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        key: SessionKey = {"project_key": project_key, "session_id": _IMP_SESSION_ID}
        assert store.get_entries(key) == [_imp_entry(0)]


# ---------------------------------------------------------------------------
# Validation / errors
# ---------------------------------------------------------------------------


class TestValidation:
    # port of test_session_import.py::TestValidation::test_invalid_uuid_raises
    async def test_invalid_uuid_raises(self) -> None:
        with pytest.raises(ValueError, match="Invalid session_id"):
            await import_session_to_store("../../etc/passwd", InMemorySessionStore())

    # port of test_session_import.py::TestValidation::test_session_not_found_raises
    async def test_session_not_found_raises(self, claude_dir: Path, cwd: Path) -> None:
        with pytest.raises(FileNotFoundError, match="not found"):
            await import_session_to_store(
                _IMP_SESSION_ID, InMemorySessionStore(), directory=str(cwd)
            )


# ---------------------------------------------------------------------------
# Round-trip with file_path_to_session_key
# ---------------------------------------------------------------------------


class TestKeyParity:
    # port of test_session_import.py::TestKeyParity::test_subpath_matches_file_path_to_session_key
    async def test_subpath_matches_file_path_to_session_key(
        self, claude_dir: Path, cwd: Path, project_key: str
    ) -> None:
        """Import keys must match what TranscriptMirrorBatcher would have
        produced for the same on-disk file, so an imported session is
        indistinguishable from a live-mirrored one."""
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])
        sub_file = claude_dir / _IMP_SESSION_ID / "subagents" / "agent-xyz.jsonl"
        _imp_write_jsonl(sub_file, [_imp_entry(1)])

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=str(cwd))

        projects_dir = str(claude_dir.parent)
        expected_main = file_path_to_session_key(
            str(claude_dir / f"{_IMP_SESSION_ID}.jsonl"), projects_dir
        )
        expected_sub = file_path_to_session_key(str(sub_file), projects_dir)

        assert expected_main is not None and expected_sub is not None
        assert store.get_entries(expected_main) == [_imp_entry(0)]
        assert store.get_entries(expected_sub) == [_imp_entry(1)]

    # port of test_session_import.py::TestKeyParity::test_directory_none_keys_from_resolved_path_not_cwd
    async def test_directory_none_keys_from_resolved_path_not_cwd(
        self,
        claude_dir: Path,
        project_key: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """When ``directory=None`` the resolver searches all project dirs;
        the destination key must come from where the file was *found*, not
        the process cwd. Regression for divergence with
        ``file_path_to_session_key()``."""
        _imp_write_jsonl(claude_dir / f"{_IMP_SESSION_ID}.jsonl", [_imp_entry(0)])

        # Run the import from an unrelated cwd.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        assert project_key_for_directory(None) != project_key  # precondition

        store = InMemorySessionStore()
        await import_session_to_store(_IMP_SESSION_ID, store, directory=None)

        key: SessionKey = {"project_key": project_key, "session_id": _IMP_SESSION_ID}
        assert store.get_entries(key) == [_imp_entry(0)]


# ===========================================================================
# test_transcript_mirror.py
# ===========================================================================

PROJECTS_DIR = str(Path(os.sep, "home", "user", ".claude", "projects"))


def _p(*parts: str) -> str:
    """Join path parts under PROJECTS_DIR using the native separator."""
    return str(Path(PROJECTS_DIR, *parts))


class TestFilePathToSessionKey:
    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_main_transcript
    def test_main_transcript(self) -> None:
        assert file_path_to_session_key(_p("-home-user-repo", "abc-123.jsonl"), PROJECTS_DIR) == {
            "project_key": "-home-user-repo",
            "session_id": "abc-123",
        }

    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_subagent_transcript
    def test_subagent_transcript(self) -> None:
        path = _p("-home-user-repo", "abc-123", "subagents", "agent-xyz.jsonl")
        assert file_path_to_session_key(path, PROJECTS_DIR) == {
            "project_key": "-home-user-repo",
            "session_id": "abc-123",
            "subpath": "subagents/agent-xyz",
        }

    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_nested_subagent_subpath
    def test_nested_subagent_subpath(self) -> None:
        path = _p("proj", "sess", "subagents", "nested", "agent-1.jsonl")
        assert file_path_to_session_key(path, PROJECTS_DIR) == {
            "project_key": "proj",
            "session_id": "sess",
            "subpath": "subagents/nested/agent-1",
        }

    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_outside_projects_dir_returns_none
    def test_outside_projects_dir_returns_none(self) -> None:
        elsewhere = str(Path(os.sep, "elsewhere", "proj", "sess.jsonl"))
        assert file_path_to_session_key(elsewhere, PROJECTS_DIR) is None

    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_too_few_parts_returns_none
    def test_too_few_parts_returns_none(self) -> None:
        assert file_path_to_session_key(_p("proj-only.jsonl"), PROJECTS_DIR) is None

    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_three_parts_returns_none
    def test_three_parts_returns_none(self) -> None:
        assert file_path_to_session_key(_p("proj", "sess", "weird.jsonl"), PROJECTS_DIR) is None

    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_main_transcript_without_jsonl_suffix_returns_none
    def test_main_transcript_without_jsonl_suffix_returns_none(self) -> None:
        assert file_path_to_session_key(_p("proj", "sess.txt"), PROJECTS_DIR) is None

    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_relpath_value_error_returns_none
    # (the official patches os.path.relpath; here: two Windows drives, which no relative path joins)
    def test_relpath_value_error_returns_none(self) -> None:
        assert file_path_to_session_key("D:\\cfg\\p\\s.jsonl", "C:\\home") is None

    # port of test_transcript_mirror.py::TestFilePathToSessionKey::test_projects_dir_with_trailing_separator
    def test_projects_dir_with_trailing_separator(self) -> None:
        with_slash = PROJECTS_DIR + os.sep
        assert file_path_to_session_key(_p("-home-user-repo", "abc-123.jsonl"), with_slash) == {
            "project_key": "-home-user-repo",
            "session_id": "abc-123",
        }
        path = _p("-home-user-repo", "abc-123", "subagents", "agent-xyz.jsonl")
        assert file_path_to_session_key(path, with_slash) == {
            "project_key": "-home-user-repo",
            "session_id": "abc-123",
            "subpath": "subagents/agent-xyz",
        }


class _tm_RecordingStore(InMemorySessionStore):
    """InMemorySessionStore that records each append call separately."""

    def __init__(self) -> None:
        super().__init__()
        self.append_calls: list[tuple[SessionKey, list[Any]]] = []

    async def append(self, key: SessionKey, entries: list[Any]) -> None:
        self.append_calls.append((key, list(entries)))
        await super().append(key, entries)


_ASSISTANT_MSG = {
    "type": "assistant",
    "message": {
        "role": "assistant",
        "content": [{"type": "text", "text": "Hi"}],
        "model": "claude-3-5-sonnet-20241022",
    },
}

_RESULT_MSG = {
    "type": "result",
    "subtype": "success",
    "duration_ms": 100,
    "duration_api_ms": 80,
    "is_error": False,
    "num_turns": 1,
    "session_id": "test",
    "total_cost_usd": 0.001,
}


@pytest.fixture
def tm_projects_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where the official tests patch ``_get_projects_dir``: ``CLAUDE_CONFIG_DIR/projects``."""
    config = tmp_path / "cfg"
    (config / "projects").mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    return str(config / "projects")


def _tm_main_path(projects_dir: str, project: str = "proj", session: str = "sess") -> str:
    return str(Path(projects_dir, project, f"{session}.jsonl"))


class TestGetProjectsDirEnvOverride:
    # port of test_transcript_mirror.py::TestGetProjectsDirEnvOverride::test_env_override_takes_precedence
    # (observed: mirror frames under options.env's CLAUDE_CONFIG_DIR reach the store while
    # os.environ's CLAUDE_CONFIG_DIR points elsewhere)
    async def test_env_override_takes_precedence(
        self, tmp_path: Path, tm_projects_dir: str
    ) -> None:
        override = tmp_path / "override"
        (override / "projects").mkdir(parents=True)
        store = _tm_RecordingStore()
        frame = {
            "type": "transcript_mirror",
            "filePath": _tm_main_path(str(override / "projects")),
            "entries": [{"type": "user", "uuid": "u1"}],
        }
        with trio.fail_after(10):
            messages = [
                m
                async for m in query(
                    prompt="Hello",
                    options=ClaudeAgentOptions(
                        session_store=store, env={"CLAUDE_CONFIG_DIR": str(override)}
                    ),
                    transport=_sst_Scripted([frame, _RESULT_MSG]),
                )
            ]
        assert isinstance(messages[-1], ResultMessage)
        assert store.append_calls == [
            ({"project_key": "proj", "session_id": "sess"}, [{"type": "user", "uuid": "u1"}])
        ]


class TestBuildMirrorBatcherFlushMode:
    # port of test_transcript_mirror.py::TestBuildMirrorBatcherFlushMode::test_options_default_is_batched
    def test_options_default_is_batched(self) -> None:
        assert ClaudeAgentOptions().session_store_flush == "batched"


class TestReceiveLoopFramePeeling:
    # port of test_transcript_mirror.py::TestReceiveLoopFramePeeling::test_transcript_mirror_frames_not_yielded_and_store_appended
    async def test_transcript_mirror_frames_not_yielded_and_store_appended(
        self, tm_projects_dir: str
    ) -> None:
        store = _tm_RecordingStore()
        mirror_frame = {
            "type": "transcript_mirror",
            "filePath": _tm_main_path(tm_projects_dir, "myproj", "mysess"),
            "entries": [{"type": "user", "uuid": "u1"}],
        }
        mock_transport = _sst_Scripted([mirror_frame, _ASSISTANT_MSG, mirror_frame, _RESULT_MSG])
        messages = []
        with trio.fail_after(10):
            async for msg in query(
                prompt="Hello",
                options=ClaudeAgentOptions(session_store=store),
                transport=mock_transport,
            ):
                messages.append(msg)

        # transcript_mirror frames must not surface to consumers
        assert len(messages) == 2
        assert isinstance(messages[0], AssistantMessage)
        assert isinstance(messages[1], ResultMessage)

        # Both frames flushed (coalesced) to the store before result yields
        assert len(store.append_calls) == 1
        key, entries = store.append_calls[0]
        assert key == {"project_key": "myproj", "session_id": "mysess"}
        assert entries == [
            {"type": "user", "uuid": "u1"},
            {"type": "user", "uuid": "u1"},
        ]

    # port of test_transcript_mirror.py::TestReceiveLoopFramePeeling::test_flush_happens_before_result_yields
    async def test_flush_happens_before_result_yields(self, tm_projects_dir: str) -> None:
        """Store must be up-to-date by the time the consumer sees ResultMessage."""
        store = _tm_RecordingStore()
        mock_transport = _sst_Scripted(
            [
                {
                    "type": "transcript_mirror",
                    "filePath": _tm_main_path(tm_projects_dir),
                    "entries": [{"type": "user", "uuid": "u1"}],
                },
                _RESULT_MSG,
            ]
        )
        appended_before_result = None
        with trio.fail_after(10):
            async for msg in query(
                prompt="Hello",
                options=ClaudeAgentOptions(session_store=store),
                transport=mock_transport,
            ):
                if isinstance(msg, ResultMessage):
                    appended_before_result = len(store.append_calls)

        assert appended_before_result == 1

    # port of test_transcript_mirror.py::TestReceiveLoopFramePeeling::test_late_mirror_frames_after_result_still_flushed
    async def test_late_mirror_frames_after_result_still_flushed(
        self, tm_projects_dir: str
    ) -> None:
        """Parity with TS: transcript_mirror frames arriving AFTER the
        result message (late subagent writes) are still enqueued and
        flushed by the read-loop's finally-block flush on stream end."""
        store = _tm_RecordingStore()
        mock_transport = _sst_Scripted(
            [
                _RESULT_MSG,
                {
                    "type": "transcript_mirror",
                    "filePath": _tm_main_path(tm_projects_dir, "late", "sess"),
                    "entries": [{"type": "user", "uuid": "late-u1"}],
                },
            ]
        )
        with trio.fail_after(10):
            messages = [
                m
                async for m in query(
                    prompt="Hello",
                    options=ClaudeAgentOptions(session_store=store),
                    transport=mock_transport,
                )
            ]

        assert any(isinstance(m, ResultMessage) for m in messages)
        # Late frame must have been flushed via the finally-block flush.
        assert len(store.append_calls) == 1
        key, entries = store.append_calls[0]
        assert key == {"project_key": "late", "session_id": "sess"}
        assert entries == [{"type": "user", "uuid": "late-u1"}]

    # port of test_transcript_mirror.py::TestReceiveLoopFramePeeling::test_eager_flush_mode_appends_per_frame_before_result
    async def test_eager_flush_mode_appends_per_frame_before_result(
        self, tm_projects_dir: str
    ) -> None:
        """With ``session_store_flush="eager"`` each ``transcript_mirror`` frame
        is flushed as it arrives, so the store sees one ``append()`` per frame
        rather than a single coalesced batch at ``result`` time."""
        store = _tm_RecordingStore()
        frame1 = {
            "type": "transcript_mirror",
            "filePath": _tm_main_path(tm_projects_dir, "p", "s"),
            "entries": [{"type": "user", "uuid": "u1"}],
        }
        frame2 = {
            "type": "transcript_mirror",
            "filePath": _tm_main_path(tm_projects_dir, "p", "s"),
            "entries": [{"type": "assistant", "uuid": "a1"}],
        }
        mock_transport = _sst_Scripted(
            [frame1, frame2, _ASSISTANT_MSG, _RESULT_MSG], yields_between=10
        )

        appends_at_assistant = None
        with trio.fail_after(10):
            async for msg in query(
                prompt="Hello",
                options=ClaudeAgentOptions(session_store=store, session_store_flush="eager"),
                transport=mock_transport,
            ):
                if isinstance(msg, AssistantMessage):
                    appends_at_assistant = len(store.append_calls)

        assert appends_at_assistant == 2
        assert len(store.append_calls) == 2
        assert store.append_calls[0][1] == [{"type": "user", "uuid": "u1"}]
        assert store.append_calls[1][1] == [{"type": "assistant", "uuid": "a1"}]

    # port of test_transcript_mirror.py::TestReceiveLoopFramePeeling::test_mirror_frames_dropped_when_no_session_store
    async def test_mirror_frames_dropped_when_no_session_store(self, tm_projects_dir: str) -> None:
        """Without a session_store the batcher isn't attached; frames are
        peeled and dropped (still not yielded), normal messages flow."""
        mock_transport = _sst_Scripted(
            [
                {
                    "type": "transcript_mirror",
                    "filePath": _tm_main_path(tm_projects_dir),
                    "entries": [{"type": "user"}],
                },
                _ASSISTANT_MSG,
                _RESULT_MSG,
            ]
        )
        with trio.fail_after(10):
            messages = [
                m
                async for m in query(
                    prompt="Hello", options=ClaudeAgentOptions(), transport=mock_transport
                )
            ]

        assert len(messages) == 2
        assert isinstance(messages[0], AssistantMessage)
        assert isinstance(messages[1], ResultMessage)

    # port of test_transcript_mirror.py::TestReceiveLoopFramePeeling::test_store_append_failure_yields_mirror_error_message
    async def test_store_append_failure_yields_mirror_error_message(
        self, tm_projects_dir: str
    ) -> None:
        class FailingStore(InMemorySessionStore):
            async def append(self, key, entries):
                raise RuntimeError("disk full")

        mock_transport = _sst_Scripted(
            [
                {
                    "type": "transcript_mirror",
                    "filePath": _tm_main_path(tm_projects_dir),
                    "entries": [{"type": "user"}],
                },
                _RESULT_MSG,
            ]
        )
        with trio.fail_after(10):
            messages = [
                m
                async for m in query(
                    prompt="Hello",
                    options=ClaudeAgentOptions(session_store=FailingStore()),
                    transport=mock_transport,
                )
            ]

        mirror_errors = [m for m in messages if isinstance(m, MirrorErrorMessage)]
        assert len(mirror_errors) == 1
        assert mirror_errors[0].subtype == "mirror_error"
        assert "disk full" in mirror_errors[0].error
        assert mirror_errors[0].key == {"project_key": "proj", "session_id": "sess"}
        # Non-fatal: result still yielded
        assert any(isinstance(m, ResultMessage) for m in messages)


# ===========================================================================
# test_session_resume.py (the custom-transport gates)
# ===========================================================================

_RES_SESSION_ID = "550e8400-e29b-41d4-a716-446655440000"


# (the cwd and project_key fixtures are test_session_import.py's, defined identically there)


@pytest.fixture
def track_resume_dirs(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Spy on ``tempfile.mkdtemp``/``TemporaryDirectory`` to capture the directories made."""
    import tempfile

    real_mkdtemp = tempfile.mkdtemp
    created: list[Path] = []

    def spy(*a: Any, **kw: Any) -> str:
        d = real_mkdtemp(*a, **kw)
        created.append(Path(d))
        return d

    monkeypatch.setattr(tempfile, "mkdtemp", spy)
    return created


def _res_make_mock_transport() -> Any:
    mock_transport = AsyncMock()

    async def mock_receive():
        return
        yield  # pragma: no cover

    mock_transport.read_messages = mock_receive
    mock_transport.connect = AsyncMock()
    mock_transport.close = AsyncMock()
    mock_transport.end_input = AsyncMock()
    mock_transport.write = AsyncMock()
    mock_transport.is_ready = Mock(return_value=True)
    return mock_transport


class TestClientIntegration:
    # port of test_session_resume.py::TestClientIntegration::test_custom_transport_skips_materialization
    # (Query.initialize is patched officially; here the official-style transport answers it;
    # client._materialized is private and left out)
    async def test_custom_transport_skips_materialization(
        self, cwd: Path, project_key: str, track_resume_dirs: list[Path]
    ) -> None:
        class SpyStore(InMemorySessionStore):
            load_calls = 0

            async def load(self, key):  # type: ignore[override]
                SpyStore.load_calls += 1
                return await super().load(key)

        store = SpyStore()
        await store.append(
            {"project_key": project_key, "session_id": _RES_SESSION_ID},
            [{"type": "user", "uuid": "u1"}],
        )

        opts = ClaudeAgentOptions(cwd=cwd, session_store=store, resume=_RES_SESSION_ID)
        client = ClaudeSDKClient(options=opts, transport=_sst_Canned())
        with trio.fail_after(
            10
        ):  # around connect() .. disconnect() (migration.md, "Your own async code")
            await client.connect()
            try:
                assert SpyStore.load_calls == 0
                assert not track_resume_dirs  # mkdtemp never ran
            finally:
                await client.disconnect()

    # port of test_session_resume.py::TestClientIntegration::test_query_custom_transport_skips_materialization
    async def test_query_custom_transport_skips_materialization(
        self, cwd: Path, project_key: str, track_resume_dirs: list[Path]
    ) -> None:
        """Same gate for the one-shot ``query()`` path."""

        class SpyStore(InMemorySessionStore):
            load_calls = 0

            async def load(self, key):  # type: ignore[override]
                SpyStore.load_calls += 1
                return await super().load(key)

        store = SpyStore()
        await store.append(
            {"project_key": project_key, "session_id": _RES_SESSION_ID},
            [{"type": "user", "uuid": "u1"}],
        )

        opts = ClaudeAgentOptions(cwd=cwd, session_store=store, resume=_RES_SESSION_ID)
        custom = _res_make_mock_transport()
        custom.connect = AsyncMock(side_effect=OSError("spawn failed"))
        with trio.fail_after(10), pytest.raises(OSError, match="spawn failed"):
            async for _ in query(prompt="hi", options=opts, transport=custom):
                pass  # pragma: no cover

        # Gate runs before transport.connect(); materialization never happened.
        assert SpyStore.load_calls == 0
        assert not track_resume_dirs


# ===========================================================================
# test_option_warnings.py
# ===========================================================================


async def _ow_can_use_tool(tool_name, input_data, context):
    return PermissionResultAllow()


class _StopBeforeConnectError(Exception):
    """Sentinel raised from the transport to end query() early."""


def _failing_transport():
    """Transport that aborts at connect(), after options validation has run."""
    transport = AsyncMock()
    transport.connect = AsyncMock(side_effect=_StopBeforeConnectError)
    return transport


async def _prompt_stream():
    yield {"type": "user", "message": {"role": "user", "content": "hi"}}


async def _ow_emitted(options: ClaudeAgentOptions) -> list[str]:
    """The official private ``_warn_if_can_use_tool_shadowed(options)``, observed where it runs:
    ``query()`` before its transport connects. The messages of the shadowing warnings."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with trio.fail_after(10):
            try:
                async for _ in query(
                    prompt=_prompt_stream(), options=options, transport=_failing_transport()
                ):
                    pass
            except Exception:  # the sentinel, however it is wrapped: the warnings are the point
                pass
    return [str(w.message) for w in record if issubclass(w.category, CanUseToolShadowedWarning)]


async def _get_can_use_tool_shadowed_warning(permission_mode, allowed_tools) -> str | None:
    """The official private message builder, observed through the warning it feeds."""
    emitted = await _ow_emitted(
        ClaudeAgentOptions(
            can_use_tool=_ow_can_use_tool,
            permission_mode=permission_mode,
            allowed_tools=allowed_tools,
        )
    )
    assert len(emitted) <= 1
    return emitted[0] if emitted else None


class TestWholeToolAllowed:
    # port of test_option_warnings.py::TestWholeToolAllowed::test_whole_tool_allowed
    # (the private _whole_tool_allowed(entry) observed: allowed_tools=[entry] warns "invoked for: <tool>.")
    @pytest.mark.parametrize(
        ("entry", "expected"),
        [
            ("Read", "Read"),
            ("mcp__server__tool", "mcp__server__tool"),
            ("Read(*)", "Read"),
            ("Read()", "Read"),
            ("mcp__server__tool(*)", "mcp__server__tool"),
            ("Bash(ls:*)", None),
            ("Bash(git log:*)", None),
            ("Bash(*.py)", None),
            ("", None),
            ("   ", None),
            ("Bash(ls:*", None),
            ("Bash(ls)x", None),
            ("(foo)", None),
            ("(*)", None),
            ("Read(*x", None),
        ],
    )
    async def test_whole_tool_allowed(self, entry, expected):
        message = await _get_can_use_tool_shadowed_warning(None, [entry])
        if expected is None:
            assert message is None
        else:
            assert message is not None and f"invoked for: {expected}." in message


class TestGetCanUseToolShadowedWarning:
    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_bypass_permissions_message
    async def test_bypass_permissions_message(self):
        message = await _get_can_use_tool_shadowed_warning("bypassPermissions", [])
        assert message is not None
        assert "bypassPermissions" in message
        assert "PreToolUse" in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_bare_entries_message
    async def test_bare_entries_message(self):
        message = await _get_can_use_tool_shadowed_warning(
            None, ["Read", "mcp__server__tool", "Bash(ls:*)"]
        )
        assert message is not None
        assert "Read, mcp__server__tool" in message
        assert "Bash(ls:*)" not in message
        assert "PreToolUse" in message
        assert "settings files" in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_bypass_permissions_takes_precedence_over_bare_entries
    async def test_bypass_permissions_takes_precedence_over_bare_entries(self):
        message = await _get_can_use_tool_shadowed_warning("bypassPermissions", ["Read", "Write"])
        assert message is not None
        assert "bypassPermissions" in message
        assert "Read" not in message
        assert "Write" not in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_preserves_allowed_tools_order
    async def test_preserves_allowed_tools_order(self):
        message = await _get_can_use_tool_shadowed_warning(None, ["Write", "Read"])
        assert message is not None
        assert "Write, Read" in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_accept_edits_without_bare_entries_returns_none
    async def test_accept_edits_without_bare_entries_returns_none(self):
        assert await _get_can_use_tool_shadowed_warning("acceptEdits", []) is None

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_accept_edits_still_reports_bare_entries
    async def test_accept_edits_still_reports_bare_entries(self):
        """acceptEdits alone is silent, but bare entries shadow in any mode."""
        message = await _get_can_use_tool_shadowed_warning("acceptEdits", ["Read"])
        assert message is not None
        assert "Read" in message
        assert "bypassPermissions" not in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_wildcard_and_empty_specifiers_are_whole_tool_allows
    async def test_wildcard_and_empty_specifiers_are_whole_tool_allows(self):
        message = await _get_can_use_tool_shadowed_warning(None, ["Read(*)", "Write()"])
        assert message is not None
        assert "invoked for: Read, Write." in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_blank_entries_never_reach_the_message
    async def test_blank_entries_never_reach_the_message(self):
        message = await _get_can_use_tool_shadowed_warning(None, ["   ", "Read"])
        assert message is not None
        assert "invoked for: Read." in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_entries_resolving_to_the_same_tool_are_reported_once
    async def test_entries_resolving_to_the_same_tool_are_reported_once(self):
        message = await _get_can_use_tool_shadowed_warning(None, ["Read", "Read()", "Read(*)"])
        assert message is not None
        assert "invoked for: Read." in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_dedup_preserves_first_seen_order
    async def test_dedup_preserves_first_seen_order(self):
        message = await _get_can_use_tool_shadowed_warning(None, ["Write", "Read", "Write()"])
        assert message is not None
        assert "invoked for: Write, Read." in message

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_specifier_and_empty_entries_return_none
    async def test_specifier_and_empty_entries_return_none(self):
        assert (
            await _get_can_use_tool_shadowed_warning(
                None,
                ["Bash(ls:*)", "Bash(git log:*)", "mcp__server__tool(param:value)", ""],
            )
            is None
        )

    # port of test_option_warnings.py::TestGetCanUseToolShadowedWarning::test_empty_allowed_tools_default_mode_returns_none
    async def test_empty_allowed_tools_default_mode_returns_none(self):
        assert await _get_can_use_tool_shadowed_warning(None, []) is None


class TestSkillsShadowing:
    # port of test_option_warnings.py::TestSkillsShadowing::test_skills_all_shadows_the_skill_tool
    async def test_skills_all_shadows_the_skill_tool(self):
        options = ClaudeAgentOptions(can_use_tool=_ow_can_use_tool, skills="all")
        emitted = await _ow_emitted(options)
        assert len(emitted) == 1 and "invoked for: Skill" in emitted[0]

    # port of test_option_warnings.py::TestSkillsShadowing::test_named_skills_do_not_shadow
    async def test_named_skills_do_not_shadow(self):
        options = ClaudeAgentOptions(can_use_tool=_ow_can_use_tool, skills=["reviewer"])
        assert await _ow_emitted(options) == []

    # port of test_option_warnings.py::TestSkillsShadowing::test_skills_all_does_not_duplicate_explicit_skill_entry
    async def test_skills_all_does_not_duplicate_explicit_skill_entry(self):
        options = ClaudeAgentOptions(
            can_use_tool=_ow_can_use_tool, skills="all", allowed_tools=["Skill"]
        )
        emitted = await _ow_emitted(options)
        assert emitted and "invoked for: Skill." in emitted[0]

    # port of test_option_warnings.py::TestSkillsShadowing::test_skills_all_with_wildcard_skill_entry_reports_skill_once
    async def test_skills_all_with_wildcard_skill_entry_reports_skill_once(self):
        options = ClaudeAgentOptions(
            can_use_tool=_ow_can_use_tool, skills="all", allowed_tools=["Skill(*)"]
        )
        emitted = await _ow_emitted(options)
        assert emitted and "invoked for: Skill." in emitted[0]

    # port of test_option_warnings.py::TestSkillsShadowing::test_skills_all_leaves_caller_allowed_tools_untouched
    async def test_skills_all_leaves_caller_allowed_tools_untouched(self):
        allowed = ["Read"]
        options = ClaudeAgentOptions(
            can_use_tool=_ow_can_use_tool, skills="all", allowed_tools=allowed
        )
        emitted = await _ow_emitted(options)
        assert emitted and "Read, Skill" in emitted[0]
        assert allowed == ["Read"]


class TestWarnIfCanUseToolShadowed:
    # port of test_option_warnings.py::TestWarnIfCanUseToolShadowed::test_warns_when_callback_set_with_bypass
    async def test_warns_when_callback_set_with_bypass(self):
        options = ClaudeAgentOptions(
            can_use_tool=_ow_can_use_tool, permission_mode="bypassPermissions"
        )
        emitted = await _ow_emitted(options)
        assert emitted and "bypassPermissions" in emitted[0]

    # port of test_option_warnings.py::TestWarnIfCanUseToolShadowed::test_no_warning_without_callback
    async def test_no_warning_without_callback(self):
        options = ClaudeAgentOptions(
            permission_mode="bypassPermissions", allowed_tools=["Read", "Bash"]
        )
        assert await _ow_emitted(options) == []

    # port of test_option_warnings.py::TestWarnIfCanUseToolShadowed::test_warns_when_callback_set_with_wildcard_specifier
    async def test_warns_when_callback_set_with_wildcard_specifier(self):
        options = ClaudeAgentOptions(can_use_tool=_ow_can_use_tool, allowed_tools=["Read(*)"])
        emitted = await _ow_emitted(options)
        assert emitted and "invoked for: Read" in emitted[0]

    # port of test_option_warnings.py::TestWarnIfCanUseToolShadowed::test_no_warning_for_accept_edits_with_specifier_entries
    async def test_no_warning_for_accept_edits_with_specifier_entries(self):
        options = ClaudeAgentOptions(
            can_use_tool=_ow_can_use_tool,
            permission_mode="acceptEdits",
            allowed_tools=["Bash(ls:*)"],
        )
        assert await _ow_emitted(options) == []


class TestConstructionIsSilent:
    # port of test_option_warnings.py::TestConstructionIsSilent::test_constructing_shadowed_options_emits_no_warning
    def test_constructing_shadowed_options_emits_no_warning(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error", CanUseToolShadowedWarning)
            ClaudeAgentOptions(
                can_use_tool=_ow_can_use_tool,
                permission_mode="bypassPermissions",
                allowed_tools=["Read"],
            )

    # port of test_option_warnings.py::TestConstructionIsSilent::test_replace_on_shadowed_options_emits_no_warning
    def test_replace_on_shadowed_options_emits_no_warning(self):
        options = ClaudeAgentOptions(can_use_tool=_ow_can_use_tool, allowed_tools=["Read"])
        with warnings.catch_warnings():
            warnings.simplefilter("error", CanUseToolShadowedWarning)
            replace(options, model="x")  # official: permission_prompt_tool_name="stdio"


def _create_mock_transport():
    """Mock transport that answers every control request with success."""
    transport = AsyncMock()
    transport.connect = AsyncMock()
    transport.close = AsyncMock()
    transport.end_input = AsyncMock()
    transport.is_ready = Mock(return_value=True)

    written_messages: list[str] = []

    async def mock_write(data):
        written_messages.append(data)

    transport.write = AsyncMock(side_effect=mock_write)

    async def control_protocol_generator():
        last_check = 0
        timeout_counter = 0
        while timeout_counter < 200:  # Avoid infinite loop
            await trio.sleep(0.01)
            timeout_counter += 1
            for msg_str in written_messages[last_check:]:
                try:
                    msg = json.loads(msg_str.strip())
                    if msg.get("type") == "control_request":
                        yield {
                            "type": "control_response",
                            "response": {
                                "request_id": msg.get("request_id"),
                                "subtype": "success",
                                "response": {},
                            },
                        }
                except (json.JSONDecodeError, KeyError, AttributeError):
                    pass
            last_check = len(written_messages)

    transport.read_messages = control_protocol_generator
    return transport


class TestConnectEmitsWarning:
    # port of test_option_warnings.py::TestConnectEmitsWarning::test_connect_warns_once_for_shadowed_config
    async def test_connect_warns_once_for_shadowed_config(self):
        options = ClaudeAgentOptions(can_use_tool=_ow_can_use_tool, allowed_tools=["Read"])
        client = ClaudeSDKClient(options, transport=_create_mock_transport())
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            with trio.fail_after(
                10
            ):  # around connect() .. disconnect() (migration.md, "Your own async code")
                try:
                    await client.connect()
                finally:
                    await client.disconnect()
        shadow_warnings = [w for w in record if issubclass(w.category, CanUseToolShadowedWarning)]
        assert len(shadow_warnings) == 1
        assert "Read" in str(shadow_warnings[0].message)

    # port of test_option_warnings.py::TestConnectEmitsWarning::test_connect_silent_for_non_shadowed_config
    async def test_connect_silent_for_non_shadowed_config(self):
        options = ClaudeAgentOptions(can_use_tool=_ow_can_use_tool, allowed_tools=["Bash(ls:*)"])
        client = ClaudeSDKClient(options, transport=_create_mock_transport())
        with warnings.catch_warnings():
            warnings.simplefilter("error", CanUseToolShadowedWarning)
            with trio.fail_after(
                10
            ):  # around connect() .. disconnect() (migration.md, "Your own async code")
                try:
                    await client.connect()
                finally:
                    await client.disconnect()


class TestQueryEmitsWarning:
    # port of test_option_warnings.py::TestQueryEmitsWarning::test_query_warns_for_shadowed_config
    async def test_query_warns_for_shadowed_config(self):
        options = ClaudeAgentOptions(
            can_use_tool=_ow_can_use_tool, permission_mode="bypassPermissions"
        )
        with (
            trio.fail_after(10),
            pytest.warns(CanUseToolShadowedWarning, match="bypassPermissions"),
            pytest.raises(_StopBeforeConnectError),
        ):
            async for _ in query(
                prompt=_prompt_stream(), options=options, transport=_failing_transport()
            ):
                pass

    # port of test_option_warnings.py::TestQueryEmitsWarning::test_query_silent_for_non_shadowed_config
    async def test_query_silent_for_non_shadowed_config(self):
        options = ClaudeAgentOptions(
            can_use_tool=_ow_can_use_tool,
            permission_mode="acceptEdits",
            allowed_tools=["Bash(ls:*)"],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", CanUseToolShadowedWarning)
            with trio.fail_after(10), pytest.raises(_StopBeforeConnectError):
                async for _ in query(
                    prompt=_prompt_stream(), options=options, transport=_failing_transport()
                ):
                    pass


# ===========================================================================
# test_close_cancellation.py
# ===========================================================================

posix_only = pytest.mark.skipif(
    sys.platform == "win32", reason="spawns a shebang script / reads `ps` state"
)

# A stand-in `claude` CLI: answers `-v`, replies to control requests so connect() completes,
# and exits on stdin EOF. (Added: it writes its pid to $FAKE_CLI_PID_FILE, the observable
# stand-in for the official test's transport._process.pid.)
FAKE_CLI = textwrap.dedent(
    f"""
    #!{sys.executable}
    import json, os, sys

    if "-v" in sys.argv or "--version" in sys.argv:
        print("2.0.0 (Claude Code)")
        sys.exit(0)

    if os.environ.get("FAKE_CLI_PID_FILE"):
        with open(os.environ["FAKE_CLI_PID_FILE"], "w") as f:
            f.write(str(os.getpid()))

    print(json.dumps({{"type": "system", "subtype": "init", "session_id": "s",
                      "model": "m", "cwd": ".", "tools": [], "mcp_servers": [],
                      "permissionMode": "default", "apiKeySource": "none"}}), flush=True)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("type") == "control_request":
            print(json.dumps({{"type": "control_response",
                              "response": {{"subtype": "success",
                                           "request_id": msg["request_id"],
                                           "response": {{}}}}}}), flush=True)
    """
).lstrip()


def _write_fake_cli(tmp_path: Path) -> Path:
    script = tmp_path / "fake_claude.py"
    script.write_text(FAKE_CLI)
    script.chmod(0o755)
    return script


def _process_state(pid: int) -> str:
    """'gone', 'zombie', or 'alive'."""
    out = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True
    ).stdout.strip()
    if not out:
        return "gone"
    return "zombie" if out.startswith("Z") else "alive"


# port of test_close_cancellation.py::test_cancelled_client_context_leaves_no_child
@posix_only
async def test_cancelled_client_context_leaves_no_child(tmp_path: Path) -> None:
    """A cancelled `async with ClaudeSDKClient()` must not leak the CLI child."""
    pid_file = tmp_path / "pid"
    pid = -1
    with trio.fail_after(20):
        with trio.CancelScope() as scope:
            options = ClaudeAgentOptions(
                cli_path=str(_write_fake_cli(tmp_path)), env={"FAKE_CLI_PID_FILE": str(pid_file)}
            )
            async with ClaudeSDKClient(options=options) as client:
                assert client is not None
                pid = int(pid_file.read_text())
                scope.cancel()
                await trio.sleep(30)  # raises immediately; __aexit__ runs cancelled

    assert scope.cancelled_caught
    assert pid > 0
    assert _process_state(pid) == "gone"


# port of test_close_cancellation.py::test_fake_cli_speaks_the_protocol
@posix_only
def test_fake_cli_speaks_the_protocol(tmp_path: Path) -> None:
    """Guard the fixture itself: a broken fake CLI would make the tests above
    pass for the wrong reason."""
    script = _write_fake_cli(tmp_path)
    out = subprocess.run([str(script), "-v"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("2.0.0")

    proc = subprocess.run(
        [str(script)],
        input=json.dumps({"type": "control_request", "request_id": "1"}) + "\n",
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0]["subtype"] == "init"
    assert lines[1]["response"]["request_id"] == "1"


# ===========================================================================
# test_session_resume.py (the client integration, against a recording stand-in CLI)
# ===========================================================================

_RECORDING_CLI = FAKE_CLI.replace(
    'if os.environ.get("FAKE_CLI_PID_FILE"):',
    textwrap.dedent(
        """\
        if os.environ.get("FAKE_CLI_RECORD"):
            cfg = os.environ.get("CLAUDE_CONFIG_DIR")
            files = sorted(os.path.relpath(os.path.join(d, n), cfg) for d, _, ns in os.walk(cfg) for n in ns) if cfg else []
            with open(os.environ["FAKE_CLI_RECORD"], "w") as f:
                json.dump({"argv": sys.argv[1:], "config_dir": cfg, "files": files}, f)

        if os.environ.get("FAKE_CLI_PID_FILE"):"""
    ),
)


# port of test_session_resume.py::TestClientIntegration::test_connect_passes_config_dir_resume_and_suppresses_continue
# (official: patches SubprocessCLITransport and Query.initialize and reads the captured options
# and _build_command(); here a stand-in CLI records its argv, CLAUDE_CONFIG_DIR and the files
# there. The private batcher.projects_dir assertion is left out.)
@posix_only
async def test_connect_passes_config_dir_resume_and_suppresses_continue(
    cwd: Path, project_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("CLAUDE_CODE_OAUTH_TOKEN", raising=False)

    store = InMemorySessionStore()
    await store.append(
        {"project_key": project_key, "session_id": _RES_SESSION_ID},
        [{"type": "user", "uuid": "u1"}],
    )

    script = tmp_path / "recording_claude.py"
    script.write_text(_RECORDING_CLI)
    script.chmod(0o755)
    record = tmp_path / "record.json"
    opts = ClaudeAgentOptions(
        cwd=cwd,
        session_store=store,
        continue_conversation=True,
        cli_path=str(script),
        env={"FAKE_CLI_RECORD": str(record)},
    )
    with trio.fail_after(20):
        async with ClaudeSDKClient(options=opts):
            captured = json.loads(record.read_text())
            config_dir = captured["config_dir"]
            assert config_dir is not None
            assert Path(config_dir).is_dir()  # noqa: ASYNC240
            assert f"projects/{project_key}/{_RES_SESSION_ID}.jsonl" in captured["files"]
            cmd = captured["argv"]
            # official: f"--resume={SESSION_ID}" (trio-claude may pass it as two arguments)
            assert f"--resume={_RES_SESSION_ID}" in cmd or any(
                a == "--resume" and b == _RES_SESSION_ID for a, b in zip(cmd, cmd[1:], strict=False)
            )
            assert "--continue" not in cmd

    # Original options object untouched.
    assert opts.continue_conversation is True
    assert opts.resume is None
    assert "CLAUDE_CONFIG_DIR" not in opts.env

    # Cleanup removed the temp dir.
    assert not Path(config_dir).exists()  # noqa: ASYNC240


async def _res_connect_and_record(opts: ClaudeAgentOptions, tmp_path: Path) -> dict[str, Any]:
    """Connects a client with ``opts`` to the recording stand-in CLI; what the CLI saw."""
    script = tmp_path / "recording_claude.py"
    script.write_text(_RECORDING_CLI)
    script.chmod(0o755)
    record = tmp_path / "record.json"
    opts = replace(opts, cli_path=str(script), env={**opts.env, "FAKE_CLI_RECORD": str(record)})
    with trio.fail_after(20):
        async with ClaudeSDKClient(options=opts):
            return json.loads(record.read_text())


def _res_resume_arg(cmd: list[str]) -> str | None:
    for i, a in enumerate(cmd):
        if a.startswith("--resume="):
            return a.split("=", 1)[1]
        if a == "--resume" and i + 1 < len(cmd):
            return cmd[i + 1]
    return None


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Redirect ~ and clear auth env so tests don't touch the real config."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("CLAUDE_CODE_OAUTH_TOKEN", raising=False)
    return home


class TestNoMaterialization:
    """Official: ``materialize_resume_session(opts) is None``, i.e. the CLI starts with the options
    as given (no ``CLAUDE_CONFIG_DIR`` override). Observed: what a stand-in CLI receives."""

    # port of test_session_resume.py::TestNoMaterialization::test_no_store
    @posix_only
    async def test_no_store(self, cwd: Path, tmp_path: Path, isolated_home: Path) -> None:
        opts = ClaudeAgentOptions(cwd=cwd, resume=_RES_SESSION_ID)
        captured = await _res_connect_and_record(opts, tmp_path)
        assert captured["config_dir"] is None
        assert _res_resume_arg(captured["argv"]) == _RES_SESSION_ID

    # port of test_session_resume.py::TestNoMaterialization::test_no_resume_or_continue
    @posix_only
    async def test_no_resume_or_continue(
        self, cwd: Path, tmp_path: Path, isolated_home: Path
    ) -> None:
        opts = ClaudeAgentOptions(cwd=cwd, session_store=InMemorySessionStore())
        captured = await _res_connect_and_record(opts, tmp_path)
        assert captured["config_dir"] is None

    # port of test_session_resume.py::TestNoMaterialization::test_non_uuid_session_id
    @posix_only
    async def test_non_uuid_session_id(
        self, cwd: Path, tmp_path: Path, isolated_home: Path
    ) -> None:
        store = InMemorySessionStore()
        opts = ClaudeAgentOptions(cwd=cwd, session_store=store, resume="../../etc/passwd")
        # KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks and permissions"): a store
        # resume with nothing to resume is refused before any CLI starts.
        with pytest.raises(tc.SessionValueError):
            await _res_connect_and_record(opts, tmp_path)

    # port of test_session_resume.py::TestNoMaterialization::test_load_returns_none
    @posix_only
    async def test_load_returns_none(self, cwd: Path, tmp_path: Path, isolated_home: Path) -> None:
        opts = ClaudeAgentOptions(
            cwd=cwd, session_store=InMemorySessionStore(), resume=_RES_SESSION_ID
        )
        # KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks and permissions"): a store
        # resume with nothing to resume is refused before any CLI starts.
        with pytest.raises(tc.SessionNotFoundError):
            await _res_connect_and_record(opts, tmp_path)

    # port of test_session_resume.py::TestNoMaterialization::test_load_returns_empty
    @posix_only
    async def test_load_returns_empty(
        self, cwd: Path, project_key: str, tmp_path: Path, isolated_home: Path
    ) -> None:
        store = InMemorySessionStore()
        await store.append({"project_key": project_key, "session_id": _RES_SESSION_ID}, [])
        opts = ClaudeAgentOptions(cwd=cwd, session_store=store, resume=_RES_SESSION_ID)
        # KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks and permissions"): a store
        # resume with nothing to resume is refused before any CLI starts.
        with pytest.raises(tc.SessionNotFoundError):
            await _res_connect_and_record(opts, tmp_path)

    # port of test_session_resume.py::TestNoMaterialization::test_continue_with_empty_list_sessions
    @posix_only
    async def test_continue_with_empty_list_sessions(
        self, cwd: Path, tmp_path: Path, isolated_home: Path
    ) -> None:
        opts = ClaudeAgentOptions(
            cwd=cwd, session_store=InMemorySessionStore(), continue_conversation=True
        )
        # KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks and permissions"): a store
        # resume with nothing to resume is refused before any CLI starts.
        with pytest.raises(tc.SessionNotFoundError):
            await _res_connect_and_record(opts, tmp_path)
