"""Session stores: InMemorySessionStore, the conformance kit, summaries, store-backed helpers,
import and materialization."""

from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import trio_claude as tc
from tests.unit._session_builders import Transcript, project_dir, two_turn
from trio_claude._session_store import (
    file_path_to_session_key,
    materialize_session_from_store,
    summary_to_session_info,
)
from trio_claude._sessions import _paths
from trio_claude.testing.session_store_conformance import run_session_store_conformance


@pytest.fixture(autouse=True)
def config(isolated: Path) -> Path:
    """Every test here runs isolated (tests/unit/conftest.py); this is the config directory."""
    return isolated


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


def key_for(project: Path, session_id: str, subpath: str | None = None) -> tc.SessionKey:
    key: tc.SessionKey = {
        "project_key": tc.project_key_for_directory(project),
        "session_id": session_id,
    }
    if subpath is not None:
        key["subpath"] = subpath
    return key


async def store_with(project: Path, *transcripts: Transcript) -> tc.InMemorySessionStore:
    store = tc.InMemorySessionStore()
    for t in transcripts:
        await store.append(key_for(project, t.session_id), [dict(e) for e in t.lines])  # type: ignore[misc]
    return store


class Recording:
    """A minimal store (append/load only) that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], int]] = []
        self.data: dict[tuple[str, str, str | None], list[Any]] = {}

    def _k(self, key: Any) -> tuple[str, str, str | None]:
        return key["project_key"], key["session_id"], key.get("subpath")

    async def append(self, key: Any, entries: list[Any]) -> None:
        self.calls.append(("append", dict(key), len(entries)))
        if entries:
            self.data.setdefault(self._k(key), []).extend(json.loads(json.dumps(entries)))

    async def load(self, key: Any) -> list[Any] | None:
        self.calls.append(("load", dict(key), 0))
        found = self.data.get(self._k(key))
        return None if found is None else list(found)


class Listing(Recording):
    """Recording + list_sessions (no summaries), like a plain key-value store."""

    async def list_sessions(self, project_key: str) -> list[Any]:
        return [
            {"session_id": sid, "mtime": 1_700_000_000_000 + len(self.data[(p, sid, sub)])}
            for (p, sid, sub) in self.data
            if p == project_key and sub is None
        ]


# --- keys ------------------------------------------------------------------------------------


def test_project_key_is_the_cli_project_directory_name(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    expected = _paths.sanitize_path(str(tmp_path.resolve()))
    assert tc.project_key_for_directory(link) == expected
    assert tc.project_key_for_directory(str(tmp_path)) == expected


def test_project_key_defaults_to_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert tc.project_key_for_directory() == _paths.sanitize_path(str(tmp_path.resolve()))


def test_file_path_to_session_key(tmp_path: Path) -> None:
    projects = tmp_path / "projects"
    assert file_path_to_session_key(projects / "-p" / "s1.jsonl", projects) == {
        "project_key": "-p",
        "session_id": "s1",
    }
    assert file_path_to_session_key(
        projects / "-p" / "s1" / "subagents" / "workflows" / "r" / "agent-x.jsonl", projects
    ) == {"project_key": "-p", "session_id": "s1", "subpath": "subagents/workflows/r/agent-x"}
    assert file_path_to_session_key(tmp_path / "elsewhere" / "s.jsonl", projects) is None
    assert file_path_to_session_key(projects / "-p" / "notes.txt", projects) is None
    assert file_path_to_session_key(projects / "-p" / "s1" / "x.jsonl", projects) is None


# --- the in-memory store and the conformance kit ----------------------------------------------


async def test_in_memory_store_passes_every_contract() -> None:
    result = await run_session_store_conformance(tc.InMemorySessionStore)
    assert len(result.passed) == 14 and result.skipped == ()


async def test_kit_accepts_async_factories_and_skips() -> None:
    async def make() -> tc.InMemorySessionStore:
        await trio.lowlevel.checkpoint()
        return tc.InMemorySessionStore()

    result = await run_session_store_conformance(make, skip_optional={"delete"})
    assert set(result.skipped) == {"9 delete-main", "10 delete-cascades", "11 delete-subkey-only"}
    with pytest.raises(ValueError, match="unknown optional"):
        await run_session_store_conformance(make, skip_optional={"nope"})


async def test_kit_skips_missing_and_not_implemented_methods() -> None:
    class NotImplementedDelete(Recording):
        async def delete(self, key: Any) -> None:
            raise NotImplementedError

    result = await run_session_store_conformance(NotImplementedDelete)
    assert len(result.passed) == 6 and len(result.skipped) == 8


class Reversed(tc.InMemorySessionStore):
    async def load(self, key: tc.SessionKey) -> list[tc.SessionStoreEntry] | None:
        found = await super().load(key)
        return None if found is None else found[::-1]


class NoCascade(tc.InMemorySessionStore):
    async def delete(self, key: tc.SessionKey) -> None:
        self._entries.pop(("proj", key["session_id"], key.get("subpath")), None)


class EmptyIsStored(tc.InMemorySessionStore):
    async def load(self, key: tc.SessionKey) -> list[tc.SessionStoreEntry] | None:
        return await super().load(key) or []


class SecondsClock(tc.InMemorySessionStore):
    async def list_sessions(self, project_key: str) -> list[tc.SessionStoreListEntry]:
        listed = await super().list_sessions(project_key)
        return [{**item, "mtime": item["mtime"] // 1000} for item in listed]


class InterpretsSummaries(tc.InMemorySessionStore):
    async def list_session_summaries(self, project_key: str) -> list[tc.SessionSummaryEntry]:
        found = await super().list_session_summaries(project_key)
        return [{**s, "data": {"title": s["data"].get("custom_title")}} for s in found]


@pytest.mark.parametrize(
    ("store", "contract"),
    [
        (Reversed, "1 append-then-load"),
        (EmptyIsStored, "2 load-unknown-is-None"),
        (SecondsClock, "7 list-sessions"),
        (NoCascade, "10 delete-cascades"),
        (InterpretsSummaries, "14 session-summaries"),
    ],
)
async def test_kit_catches_broken_stores(store: type, contract: str) -> None:
    with pytest.raises(AssertionError, match=f"contract {contract} broken"):
        await run_session_store_conformance(store)


async def test_in_memory_store_copies_and_helpers() -> None:
    store = tc.InMemorySessionStore()
    key: tc.SessionKey = {"project_key": "p", "session_id": "s"}
    entry: Any = {"type": "x", "nested": {"n": 1}}
    await store.append(key, [entry])
    entry["nested"]["n"] = 2
    loaded = await store.load(key)
    assert loaded == [{"type": "x", "nested": {"n": 1}}]
    loaded[0]["type"] = "changed"
    assert store.get_entries(key) == [{"type": "x", "nested": {"n": 1}}]
    await store.append({**key, "subpath": "subagents/agent-1"}, [entry])
    assert store.size == 1
    assert store.get_entries({"project_key": "p", "session_id": "none"}) == []
    store.clear()
    assert store.size == 0 and await store.load(key) is None
    with pytest.raises(tc.SessionValueError, match="subpath"):
        await store.append({**key, "subpath": ""}, [entry])


async def test_in_memory_mtimes_are_strictly_increasing() -> None:
    store = tc.InMemorySessionStore()
    for i in range(20):
        await store.append({"project_key": "p", "session_id": f"s{i}"}, [{"type": "x"}])
    listed = await store.list_sessions("p")
    mtimes = [item["mtime"] for item in sorted(listed, key=lambda i: int(i["session_id"][1:]))]
    assert mtimes == sorted(set(mtimes))
    summaries = {s["session_id"]: s["mtime"] for s in await store.list_session_summaries("p")}
    assert summaries == {item["session_id"]: item["mtime"] for item in listed}


# --- fold_session_summary --------------------------------------------------------------------

KEY: tc.SessionKey = {"project_key": "p", "session_id": "s"}


def test_fold_collects_listing_fields() -> None:
    t = Transcript(session_id="s", cwd="/w")
    t.user("<command-name>/init</command-name>")
    t.user("real prompt")
    t.user("second prompt")
    t.meta("ai-title", aiTitle="AI")
    t.meta("tag", tag="one")
    t.meta("last-prompt", lastPrompt="second prompt")
    summary = tc.fold_session_summary(None, KEY, t.lines)  # type: ignore[arg-type]
    assert summary["session_id"] == "s" and summary["mtime"] == 0
    info = summary_to_session_info({**summary, "mtime": 5}, "/fallback")
    assert info == tc.SDKSessionInfo(
        session_id="s",
        summary="AI",
        last_modified=5,
        custom_title="AI",
        first_prompt="real prompt",
        git_branch="main",
        cwd="/w",
        tag="one",
        created_at=1735689601000,
    )
    # Set-once fields keep the first value, as the disk listing reads them from the head.
    later: Any = {"type": "user", "cwd": "/elsewhere", "timestamp": "2030-01-01T00:00:00Z"}
    refolded = tc.fold_session_summary(summary, KEY, [later])
    assert (refolded["data"]["cwd"], refolded["data"]["created_at"]) == ("/w", 1735689601000)
    clear: Any = {"type": "tag", "tag": ""}
    cleared = tc.fold_session_summary(summary, KEY, [clear], mtime=9)
    assert cleared["mtime"] == 9 and "tag" not in cleared["data"]
    assert "tag" in summary["data"]  # prev is not modified


def test_fold_summary_of_a_sidechain_or_empty_session_lists_nothing() -> None:
    side = tc.fold_session_summary(None, KEY, [{"type": "user", "isSidechain": True}])  # type: ignore[typeddict-unknown-key]
    assert summary_to_session_info(side, None) is None
    empty = tc.fold_session_summary(None, KEY, [{"type": "queue-operation"}])
    assert summary_to_session_info(empty, None) is None
    command = tc.fold_session_summary(
        None,
        KEY,
        [{"type": "user", "message": {"content": "<command-name>/x</command-name>"}}],  # type: ignore[typeddict-unknown-key]
    )
    info = summary_to_session_info(command, None)
    assert info is not None and info.first_prompt == "/x"


_ENTRY = st.fixed_dictionaries(
    {"type": st.sampled_from(["user", "assistant", "tag", "custom-title", "x"])},
    optional={
        "timestamp": st.sampled_from(["2024-01-01T00:00:00Z", "2025-06-01T10:00:00.5Z", "bad"]),
        "customTitle": st.text(max_size=3),
        "aiTitle": st.text(max_size=3),
        "lastPrompt": st.text(max_size=3),
        "summary": st.text(max_size=3),
        "gitBranch": st.text(max_size=3),
        "tag": st.text(max_size=3),
        "cwd": st.text(max_size=3),
        "isSidechain": st.booleans(),
        "isMeta": st.booleans(),
        "message": st.fixed_dictionaries(
            {"content": st.one_of(st.text(max_size=5), st.just("<command-name>c</command-name>"))}
        ),
    },
)


@settings(deadline=None)  # pure CPU work: a loaded CI machine must not make it flaky
@given(st.lists(_ENTRY, max_size=12), st.lists(st.integers(0, 12), max_size=4))
def test_folding_in_batches_equals_folding_at_once(entries: list[Any], cuts: list[int]) -> None:
    at_once = tc.fold_session_summary(None, KEY, entries)
    summary = None
    bounds = [0, *sorted(min(c, len(entries)) for c in cuts), len(entries)]
    for start, end in itertools.pairwise(bounds):
        summary = tc.fold_session_summary(summary, KEY, entries[start:end])
    assert summary is not None and summary["data"] == at_once["data"]


# --- store-backed reads ----------------------------------------------------------------------


def same_listing(a: tc.SDKSessionInfo, b: tc.SDKSessionInfo) -> bool:
    ignore = {"last_modified", "file_size"}
    fields = [f for f in a.__attrs_attrs__ if f.name not in ignore]
    return all(getattr(a, f.name) == getattr(b, f.name) for f in fields)


async def test_store_listing_matches_the_disk_listing(config: Path, project: Path) -> None:
    one, two = two_turn(cwd=str(project)), two_turn(cwd=str(project))
    two.meta("custom-title", customTitle="titled")
    two.meta("tag", tag="t")
    sidechain = Transcript(cwd=str(project))
    sidechain.user("side", isSidechain=True)
    for t in (one, two, sidechain):
        t.write(config, project)
    disk = {s.session_id: s for s in await tc.alist_sessions(project)}
    fast = await store_with(project, one, two, sidechain)
    slow = Listing()
    for t in (one, two, sidechain):
        await slow.append(key_for(project, t.session_id), t.lines)
    for store in (fast, slow):
        listed = await tc.list_sessions_from_store(store, project)
        assert {s.session_id for s in listed} == set(disk) == {one.session_id, two.session_id}
        for info in listed:
            assert same_listing(info, disk[info.session_id])
            assert info.file_size is None
    assert not any(call[0] == "load" for call in slow.calls[:3])
    # The in-memory store's listing comes from its summaries: no load at all.
    loads: list[Any] = []
    real_load = fast.load

    async def counting_load(key: tc.SessionKey) -> Any:
        loads.append(key)
        return await real_load(key)

    fast.load = counting_load  # type: ignore[method-assign]
    assert len(await tc.list_sessions_from_store(fast, project)) == 2
    assert loads == []


async def test_store_listing_pages_newest_first(project: Path) -> None:
    transcripts = [two_turn() for _ in range(5)]
    store = await store_with(project, *transcripts)
    newest_first = [t.session_id for t in reversed(transcripts)]
    assert [s.session_id for s in await tc.list_sessions_from_store(store, project)] == (
        newest_first
    )
    page = await tc.list_sessions_from_store(store, project, limit=2, offset=1)
    assert [s.session_id for s in page] == newest_first[1:3]


async def test_stale_and_missing_summaries_are_filled_by_loading(project: Path) -> None:
    a, b = two_turn(), two_turn()

    class Lagging(tc.InMemorySessionStore):
        async def list_session_summaries(self, project_key: str) -> list[Any]:
            found = await super().list_session_summaries(project_key)
            # a's summary is stale (older than its transcript), b's is missing.
            return [{**s, "mtime": s["mtime"] - 10, "data": {}} for s in found
                    if s["session_id"] == a.session_id]  # fmt: skip

    store = Lagging()
    for t in (a, b):
        await store.append(key_for(project, t.session_id), t.lines)  # type: ignore[arg-type]
    listed = await tc.list_sessions_from_store(store, project)
    assert {(s.session_id, s.summary) for s in listed} == {
        (a.session_id, "two"),
        (b.session_id, "two"),
    }


async def test_store_listing_survives_a_failing_load(project: Path) -> None:
    t = two_turn()

    class Flaky(Listing):
        async def load(self, key: Any) -> list[Any] | None:
            raise OSError("backend down")

    store = Flaky()
    await store.append(key_for(project, t.session_id), t.lines)
    (info,) = await tc.list_sessions_from_store(store, project)
    assert (info.session_id, info.summary) == (t.session_id, "")


async def test_store_listing_needs_a_listing_method(project: Path) -> None:
    with pytest.raises(tc.SessionValueError, match="neither"):
        await tc.list_sessions_from_store(Recording(), project)


async def test_store_reads_match_the_disk_reads(config: Path, project: Path) -> None:
    t = two_turn(cwd=str(project))
    t.write(config, project)
    store = await store_with(project, t)
    info = await tc.get_session_info_from_store(store, t.session_id, project)
    disk_info = await tc.aget_session_info(t.session_id, project)
    assert info is not None and disk_info is not None and same_listing(info, disk_info)
    assert info.last_modified == 1735689605000  # the last entry timestamp
    assert await tc.get_session_messages_from_store(
        store, t.session_id, project
    ) == await tc.aget_session_messages(t.session_id, project)
    paged = await tc.get_session_messages_from_store(store, t.session_id, project, 1, 2)
    assert [m.message for m in paged] == [{"role": "user", "content": "two"}]
    assert await tc.get_session_info_from_store(store, "bad", project) is None
    assert await tc.get_session_info_from_store(store, str(uuid.uuid4()), project) is None
    assert await tc.get_session_messages_from_store(store, str(uuid.uuid4()), project) == []


async def test_project_key_override(project: Path) -> None:
    t = two_turn()
    store = tc.InMemorySessionStore()
    await store.append({"project_key": "tenant-7", "session_id": t.session_id}, t.lines)  # type: ignore[arg-type]
    assert await tc.list_sessions_from_store(store, project) == []
    listed = await tc.list_sessions_from_store(store, project_key="tenant-7")
    assert [s.session_id for s in listed] == [t.session_id]
    await tc.rename_session_via_store(store, t.session_id, "T", project_key="tenant-7")
    info = await tc.get_session_info_from_store(store, t.session_id, project_key="tenant-7")
    assert info is not None and info.summary == "T"


async def test_subagents_from_a_store(project: Path) -> None:
    t = two_turn()
    store = await store_with(project, t)
    sub = Transcript(session_id=t.session_id)
    sub.user("subtask", isSidechain=True)
    sub.assistant("done", isSidechain=True)
    nested = "subagents/workflows/r1/agent-n1"
    for subpath in ("subagents/agent-a1", nested):
        await store.append(key_for(project, t.session_id, subpath), sub.lines)  # type: ignore[arg-type]
    await store.append(
        key_for(project, t.session_id, nested),
        [{"type": "agent_metadata", "toolUseId": "toolu_9", "parentAgentId": "a1"}],  # type: ignore[typeddict-unknown-key]
    )
    await store.append(key_for(project, t.session_id, "other/thing"), [{"type": "x"}])
    assert await tc.list_subagents_from_store(store, t.session_id, project) == ["a1", "n1"]
    messages = await tc.get_subagent_messages_from_store(store, t.session_id, "n1", project)
    assert [(m.type, m.parent_tool_use_id, m.parent_agent_id) for m in messages] == [
        ("user", "toolu_9", "a1"),
        ("assistant", "toolu_9", "a1"),
    ]
    plain = await tc.get_subagent_messages_from_store(store, t.session_id, "a1", project)
    assert [m.parent_tool_use_id for m in plain] == [None, None]
    assert await tc.get_subagent_messages_from_store(store, t.session_id, "zz", project) == []

    # Without list_subkeys: listing is refused, the direct path still reads.
    minimal = Recording()
    await minimal.append(key_for(project, t.session_id, "subagents/agent-a1"), sub.lines)
    with pytest.raises(tc.SessionValueError, match="list_subkeys"):
        await tc.list_subagents_from_store(minimal, t.session_id, project)
    direct = await tc.get_subagent_messages_from_store(minimal, t.session_id, "a1", project)
    assert len(direct) == 2


# --- store-backed mutations ------------------------------------------------------------------


async def test_rename_tag_delete_via_store(project: Path) -> None:
    t, other = two_turn(), two_turn()
    store = await store_with(project, t, other)
    await tc.rename_session_via_store(store, t.session_id, " New name ", project)
    await tc.tag_session_via_store(store, t.session_id, "wip", project)
    added = store.get_entries(key_for(project, t.session_id))[-2:]
    assert [(e["type"], e.get("customTitle", e.get("tag"))) for e in added] == [
        ("custom-title", "New name"),
        ("tag", "wip"),
    ]
    assert all(tc.project_key_for_directory(project) and e["uuid"] and e["timestamp"]
               for e in added)  # fmt: skip
    info = await tc.get_session_info_from_store(store, t.session_id, project)
    assert info is not None and (info.summary, info.tag) == ("New name", "wip")
    listed = {s.session_id: s for s in await tc.list_sessions_from_store(store, project)}
    assert (listed[t.session_id].summary, listed[t.session_id].tag) == ("New name", "wip")
    await tc.tag_session_via_store(store, t.session_id, None, project)
    assert (await tc.get_session_info_from_store(store, t.session_id, project)).tag is None  # type: ignore[union-attr]
    with pytest.raises(tc.SessionValueError):
        await tc.rename_session_via_store(store, t.session_id, "", project)
    with pytest.raises(tc.SessionValueError):
        await tc.tag_session_via_store(store, "bad", "x", project)

    await store.append(key_for(project, t.session_id, "subagents/agent-1"), [{"type": "x"}])
    await tc.delete_session_via_store(store, t.session_id, project)
    assert await store.load(key_for(project, t.session_id)) is None
    assert await store.load(key_for(project, t.session_id, "subagents/agent-1")) is None
    assert [s.session_id for s in await tc.list_sessions_from_store(store, project)] == [
        other.session_id
    ]
    minimal = Recording()
    await tc.delete_session_via_store(minimal, t.session_id, project)
    assert [c[0] for c in minimal.calls] == []  # no delete: a no-op


async def test_fork_via_store(project: Path) -> None:
    t = two_turn()
    store = await store_with(project, t)
    source = await tc.get_session_messages_from_store(store, t.session_id, project)
    result = await tc.fork_session_via_store(store, t.session_id, project)
    forked = await tc.get_session_messages_from_store(store, result.session_id, project)
    assert [m.message for m in forked] == [m.message for m in source]
    assert not {m.uuid for m in forked} & {m.uuid for m in source}
    info = await tc.get_session_info_from_store(store, result.session_id, project)
    assert info is not None and info.custom_title == "one (fork)"
    cut = await tc.fork_session_via_store(
        store, t.session_id, project, up_to_message_id=source[0].uuid, title="short"
    )
    assert len(await tc.get_session_messages_from_store(store, cut.session_id, project)) == 1
    with pytest.raises(tc.SessionNotFoundError):
        await tc.fork_session_via_store(store, str(uuid.uuid4()), project)


# --- import and materialization --------------------------------------------------------------


async def test_import_copies_the_session_and_its_subagents(config: Path, project: Path) -> None:
    t = two_turn()
    main = t.write(config, project)
    agents = main.with_suffix("") / "subagents"
    (agents / "workflows" / "r1").mkdir(parents=True)
    sub = Transcript(session_id=t.session_id)
    sub.user("subtask", isSidechain=True)
    sub.assistant("done", isSidechain=True)
    (agents / "agent-a1.jsonl").write_text(sub.text())
    (agents / "agent-a1.meta.json").write_text(json.dumps({"toolUseId": "toolu_1", "type": "s"}))
    (agents / "workflows" / "r1" / "agent-n1.jsonl").write_text(sub.text())
    store = tc.InMemorySessionStore()
    await tc.import_session_to_store(t.session_id, store, directory=project)

    key = key_for(project, t.session_id)
    assert key["project_key"] == project_dir(config, project).name
    assert store.get_entries(key) == t.lines
    a1 = store.get_entries(key_for(project, t.session_id, "subagents/agent-a1"))
    assert a1 == [*sub.lines, {"toolUseId": "toolu_1", "type": "agent_metadata"}]
    assert sorted(await store.list_subkeys(key)) == [
        "subagents/agent-a1",
        "subagents/workflows/r1/agent-n1",
    ]
    messages = await tc.get_subagent_messages_from_store(store, t.session_id, "a1", project)
    assert {m.parent_tool_use_id for m in messages} == {"toolu_1"}
    only_main = tc.InMemorySessionStore()
    await tc.import_session_to_store(t.session_id, only_main, include_subagents=False)
    assert await only_main.list_subkeys(key) == []
    assert only_main.get_entries(key) == t.lines


async def test_import_batches(config: Path, project: Path) -> None:
    t = Transcript()
    for i in range(5):
        t.user(f"q{i}")
    t.write(config, project)
    store = Recording()
    await tc.import_session_to_store(t.session_id, store, batch_size=2)
    assert [n for kind, _, n in store.calls if kind == "append"] == [2, 2, 1]

    big = Transcript()
    for _ in range(3):
        big.user("x" * 600_000)
    big.write(config, project)
    store = Recording()
    await tc.import_session_to_store(big.session_id, store)
    assert [n for kind, _, n in store.calls if kind == "append"] == [2, 1]  # 1 MiB per batch


async def test_import_refuses_corrupt_files_before_appending(config: Path, project: Path) -> None:
    t = two_turn()
    main = t.write(config, project)
    agents = main.with_suffix("") / "subagents"
    agents.mkdir(parents=True)
    (agents / "agent-a1.jsonl").write_text('{"type":"user"}\n{not json\n')
    store = Recording()
    with pytest.raises(tc.SessionValueError, match=r"agent-a1\.jsonl at line 2"):
        await tc.import_session_to_store(t.session_id, store)
    assert store.calls == []
    with pytest.raises(tc.SessionNotFoundError):
        await tc.import_session_to_store(str(uuid.uuid4()), store)
    with pytest.raises(tc.SessionValueError):
        await tc.import_session_to_store("bad", store)


async def test_materialize_round_trips_an_import(
    config: Path, project: Path, tmp_path: Path
) -> None:
    t = two_turn()
    main = t.write(config, project)
    agents = main.with_suffix("") / "subagents"
    agents.mkdir(parents=True)
    sub = Transcript(session_id=t.session_id)
    sub.user("subtask", isSidechain=True)
    (agents / "agent-a1.jsonl").write_text(sub.text())
    (agents / "agent-a1.meta.json").write_text(json.dumps({"toolUseId": "toolu_1"}))
    store = tc.InMemorySessionStore()
    await tc.import_session_to_store(t.session_id, store)

    fresh = tmp_path / "fresh-config"
    key = tc.project_key_for_directory(project)
    path = await materialize_session_from_store(store, t.session_id, fresh, project_key=key)
    assert path == fresh / "projects" / key / f"{t.session_id}.jsonl"
    assert [json.loads(line) for line in path.read_text().splitlines()] == t.lines
    assert await tc.aget_session_messages(
        t.session_id, project, config_dir=fresh
    ) == await tc.aget_session_messages(t.session_id, project)
    restored = await tc.aget_subagent_messages(t.session_id, "a1", project, config_dir=fresh)
    assert [(m.message, m.parent_tool_use_id) for m in restored] == [
        ({"role": "user", "content": "subtask"}, "toolu_1")
    ]
    none = await materialize_session_from_store(store, str(uuid.uuid4()), fresh, project_key=key)
    assert none is None


async def test_a_drivers_error_quoting_a_connection_string_is_masked_in_the_log_and_error(
    caplog: pytest.LogCaptureFixture, autojump_clock: Any
) -> None:
    """``retrying`` (the SQL stores' retry loop) logged the driver's error as it was, and put it
    in ``SessionStoreUnavailableError`` the same way: a connection string in it showed its
    password."""
    import logging

    from trio_claude.stores._common import retrying

    async def down() -> None:
        raise OSError("could not connect to postgresql://agent:hunter2secret@db:5432/app")

    with (
        caplog.at_level(logging.WARNING, logger="trio_claude"),
        pytest.raises(tc.SessionStoreUnavailableError) as info,
    ):
        await retrying(down, operation="append", retry_for=1.0, transient=lambda e: True)
    assert "hunter2secret" not in str(info.value)
    assert "hunter2secret" not in caplog.text
    assert "could not connect" in caplog.text and "could not connect" in str(info.value)
