"""The on-disk session helpers under the official names are synchronous, as in the official SDK;
the ``a``-prefixed forms are their ``async`` twins (same arguments, same results)."""

from __future__ import annotations

import inspect
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from tests.unit._session_builders import project_dir, two_turn
from trio_claude._sessions import _local

# The official SDK's (claude-agent-sdk 0.2.186) positional parameters and defaults.
OFFICIAL_SIGNATURES: dict[str, list[tuple[str, Any]]] = {
    "list_sessions": [
        ("directory", None), ("limit", None), ("offset", 0), ("include_worktrees", True)
    ],
    "get_session_info": [("session_id", inspect.Parameter.empty), ("directory", None)],
    "get_session_messages": [
        ("session_id", inspect.Parameter.empty), ("directory", None), ("limit", None),
        ("offset", 0),
    ],
    "list_subagents": [("session_id", inspect.Parameter.empty), ("directory", None)],
    "get_subagent_messages": [
        ("session_id", inspect.Parameter.empty), ("agent_id", inspect.Parameter.empty),
        ("directory", None), ("limit", None), ("offset", 0),
    ],
    "rename_session": [
        ("session_id", inspect.Parameter.empty), ("title", inspect.Parameter.empty),
        ("directory", None),
    ],
    "tag_session": [
        ("session_id", inspect.Parameter.empty), ("tag", inspect.Parameter.empty),
        ("directory", None),
    ],
    "delete_session": [("session_id", inspect.Parameter.empty), ("directory", None)],
    "fork_session": [
        ("session_id", inspect.Parameter.empty), ("directory", None), ("up_to_message_id", None),
        ("title", None),
    ],
}  # fmt: skip


@pytest.fixture(autouse=True)
def config(isolated: Path) -> Path:
    """Every test here runs isolated (tests/unit/conftest.py); this is the config directory."""
    return isolated


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


def _positional(function: Any) -> list[tuple[str, Any]]:
    return [
        (p.name, p.default)
        for p in inspect.signature(function).parameters.values()
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]


@pytest.mark.parametrize("name", sorted(OFFICIAL_SIGNATURES))
def test_official_names_have_the_official_calling_convention(name: str) -> None:
    sync, async_ = getattr(tc, name), getattr(tc, f"a{name}")
    assert not inspect.iscoroutinefunction(sync)
    assert inspect.iscoroutinefunction(async_)
    assert _positional(sync) == OFFICIAL_SIGNATURES[name]
    # the async twin takes exactly the same arguments
    assert inspect.signature(async_).parameters.keys() == inspect.signature(sync).parameters.keys()
    for parameter in inspect.signature(sync).parameters.values():
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:  # trio-claude additions
            assert parameter.default is not inspect.Parameter.empty
    assert getattr(tc._sessions, name) is sync


def test_the_official_flow_runs_without_an_event_loop(config: Path, project: Path) -> None:
    t = two_turn()
    t.write(config, project)
    (info,) = tc.list_sessions(str(project))
    assert info.session_id == t.session_id and info.summary == "two"
    assert tc.get_session_info(t.session_id, str(project)) == info
    messages = tc.get_session_messages(t.session_id, str(project))
    assert [m.type for m in messages] == ["user", "assistant", "user", "assistant"]
    assert tc.get_session_messages(t.session_id, str(project), 1, 1) == messages[1:2]
    assert tc.list_subagents(t.session_id, str(project)) == []
    assert tc.get_subagent_messages(t.session_id, "none", str(project)) == []
    tc.rename_session(t.session_id, "Renamed", str(project))
    tc.tag_session(t.session_id, "kept", str(project))
    found = tc.get_session_info(t.session_id)
    assert found is not None and (found.custom_title, found.tag) == ("Renamed", "kept")
    fork = tc.fork_session(t.session_id, str(project), messages[1].uuid, "Branch")
    assert [m.message for m in tc.get_session_messages(fork.session_id)] == [
        m.message for m in messages[:2]
    ]
    tc.delete_session(fork.session_id, str(project))
    assert [s.session_id for s in tc.list_sessions()] == [t.session_id]


def test_errors_are_the_same_as_the_async_forms(project: Path) -> None:
    with pytest.raises(tc.SessionValueError):
        tc.rename_session("not-a-uuid", "x")
    missing = "11111111-1111-4111-8111-111111111111"
    for call in (
        lambda: tc.tag_session(missing, "x"),
        lambda: tc.delete_session(missing, str(project)),
        lambda: tc.fork_session(missing),
    ):
        with pytest.raises(FileNotFoundError):  # a SessionNotFoundError
            call()
    assert tc.get_session_info("not-a-uuid") is None
    assert tc.get_session_messages("not-a-uuid") == []


async def test_the_async_twins_give_the_same_results(config: Path, project: Path) -> None:
    t = two_turn()
    t.write(config, project)
    assert await tc.alist_sessions(project) == tc.list_sessions(project)
    assert await tc.aget_session_info(t.session_id) == tc.get_session_info(t.session_id)
    assert await tc.aget_session_messages(
        t.session_id, project, include_system_messages=True
    ) == tc.get_session_messages(t.session_id, project, include_system_messages=True)
    assert await tc.alist_subagents(t.session_id) == tc.list_subagents(t.session_id)
    assert await tc.aget_subagent_messages(t.session_id, "x") == []
    await tc.arename_session(t.session_id, "Async title", project)
    await tc.atag_session(t.session_id, None, project)
    info = tc.get_session_info(t.session_id)
    assert info is not None and info.custom_title == "Async title" and info.tag is None
    fork = await tc.afork_session(t.session_id, project, title="copy")
    assert tc.get_session_info(fork.session_id) is not None
    await tc.adelete_session(fork.session_id, project)
    assert tc.get_session_info(fork.session_id) is None


async def test_the_async_twins_read_in_a_worker_thread(
    config: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = two_turn()
    t.write(config, project)
    threads: list[int] = []
    original = _local._read_entries

    def recording(*args: Any) -> list[dict[str, Any]] | None:
        threads.append(threading.get_ident())
        return original(*args)

    monkeypatch.setattr(_local, "_read_entries", recording)
    await tc.aget_session_messages(t.session_id, project)
    tc.get_session_messages(t.session_id, project)
    assert threads[0] != threading.get_ident()  # the async twin: a worker thread
    assert threads[1] == threading.get_ident()  # the official name: the caller's thread


async def test_a_cancelled_async_write_still_completes(
    config: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = two_turn()
    path = t.write(config, project)
    original = _local._append_entry
    started = threading.Event()

    def slow(*args: Any) -> None:
        started.set()
        time.sleep(0.3)
        original(*args)

    monkeypatch.setattr(_local, "_append_entry", slow)
    with trio.move_on_after(0.05) as scope:
        await tc.arename_session(t.session_id, "Done anyway", project)
    assert scope.cancel_called and started.is_set()
    # the deadline passed mid-write, and the call still returned only once the write finished
    last = json.loads(path.read_text().splitlines()[-1])
    assert last == {"type": "custom-title", "customTitle": "Done anyway", "sessionId": t.session_id}
    assert (project_dir(config, project) / f"{t.session_id}.jsonl") == path
