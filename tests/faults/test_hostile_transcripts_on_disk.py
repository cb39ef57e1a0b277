"""The on-disk session helpers (and their store twins) against hostile transcripts and layouts.

Each test builds a transcript shaped like the CLI's (``tests/unit/_session_builders.py``) in a
temporary config dir, then damages it: corrupt lines, cycles, FIFOs, decoy directories, deep or
looping subagent trees, hostile ids. Promised (docs/sessions.md): damaged lines are skipped,
errors are typed (``SessionNotFoundError`` / ``SessionValueError``, both ``ClaudeSDKError``),
nothing outside the config dir is touched, and nothing hangs or blows up.

Runaway loops are caught deterministically, not with timeouts: entries are dicts that count
their lookups and raise ``_Runaway`` once a generous, size-proportional budget is spent.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import trio_claude as tc
from tests.unit._session_builders import Transcript, project_dir, two_turn
from trio_claude._sessions import _transcript

# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated CLAUDE_CONFIG_DIR (the real ~/.claude is never read)."""
    path = tmp_path / "config"
    path.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


class _Runaway(Exception):
    """Raised by a counting entry once the lookup budget is spent: a runaway loop."""


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self) -> None:
        self.used += 1
        if self.used > self.limit:
            raise _Runaway(f"more than {self.limit} entry lookups")


class _CountingEntry(dict[str, Any]):
    """A transcript entry whose ``get`` / ``[]`` spend a shared budget."""

    budget: _Budget

    def get(self, key: str, default: Any = None) -> Any:
        self.budget.spend()
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.budget.spend()
        return super().__getitem__(key)


def _counting(entries: list[dict[str, Any]], budget: _Budget) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in entries:
        counted = _CountingEntry(entry)
        counted.budget = budget
        out.append(counted)
    return out


class _FixedStore:
    """A store whose main transcript is a fixed list of (counting) entries."""

    def __init__(self, session_id: str, entries: list[dict[str, Any]]) -> None:
        self.session_id = session_id
        self.entries = entries
        self.appended: list[tuple[dict[str, Any], list[Any]]] = []

    async def append(self, key: Any, entries: list[Any]) -> None:
        self.appended.append((dict(key), list(entries)))

    async def load(self, key: Any) -> list[Any] | None:
        if key.get("subpath") is None and key["session_id"] == self.session_id:
            return list(self.entries)
        return None


def _progress_cycle() -> Transcript:
    """user <- assistant, where the assistant's parent is a progress entry in a 2-cycle."""
    t = Transcript()
    t.user("hello")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    t.chain("progress", uuid=first, parent=second, data={})
    t.chain("progress", uuid=second, parent=first, data={})
    t.assistant("answer", parent=first)
    return t


def _many_side_branches(n: int) -> Transcript:
    """A chain of ``n`` system entries, each with its own attachment leaf hanging off it."""
    t = Transcript()
    t.user("q")
    t.assistant("a")
    for _ in range(n):
        spine = t.chain("system", subtype="informational")
        t.chain("attachment", attachment={"type": "x"}, parent=spine)
        t.last = spine
    return t


def _run_beside_fifo(fifo: Path, fn: Callable[[], Any]) -> tuple[bool, dict[str, Any]]:
    """Runs ``fn`` in a thread; if it ends up holding ``fifo`` open for reading, releases it.

    Returns whether a writer had to be opened for ``fn`` to return (it blocked on the FIFO),
    and its outcome (``value`` or ``error``). A non-blocking writer open succeeds exactly when
    some reader has the FIFO open (or is blocked opening it).
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    rescued = False
    while thread.is_alive():
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody reads it (yet, or at all)
            thread.join(0.005)
            continue
        rescued = True
        os.close(fd)
        thread.join()
    return rescued, outcome


def _deep_tree(base: Path, depth: int) -> Path:
    """``base/a/a/.../a`` (``depth`` levels), built without recursion (pathlib's is recursive)."""
    base.mkdir(parents=True, exist_ok=True)
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=fd)
            inner = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    return base.joinpath(*["a"] * depth)


def _remove_deep_tree(top: Path) -> None:
    """Removes a tree of any depth iteratively, through directory fds (shutil.rmtree recurses
    per level, and long paths make every lookup walk the whole depth)."""
    if not top.is_dir() or top.is_symlink():
        return
    stack: list[tuple[int, str]] = [(os.open(top, os.O_RDONLY | os.O_DIRECTORY), "")]
    while stack:
        fd, _ = stack[-1]
        subdir = None
        for entry in os.scandir(fd):
            if entry.is_dir(follow_symlinks=False):
                subdir = entry.name
            else:
                os.unlink(entry.name, dir_fd=fd)
        if subdir is not None:
            stack.append((os.open(subdir, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd), subdir))
            continue
        os.close(fd)
        _, name = stack.pop()
        if stack:
            os.rmdir(name, dir_fd=stack[-1][0])
    top.rmdir()


@pytest.fixture
def deep_cleanup() -> Iterator[list[Path]]:
    roots: list[Path] = []
    yield roots
    for root in roots:
        _remove_deep_tree(root)


def _subagent_text() -> str:
    sub = Transcript()
    sub.user("sub task")
    sub.assistant("sub answer")
    return sub.text()


# --- faults: runaway loops ---------------------------------------------------------------------


def test_fork_of_a_transcript_whose_progress_entries_form_a_cycle_terminates(
    config: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = _progress_cycle()
    t.write(config, project)
    budget = _Budget(100_000)  # a 4-entry transcript needs a few dozen lookups
    real_loads = _transcript.loads

    def counting_loads(text: str | bytes) -> Any:
        value = real_loads(text)
        return _counting([value], budget)[0] if isinstance(value, dict) else value

    monkeypatch.setattr(_transcript, "loads", counting_loads)
    try:
        result = tc.fork_session(t.session_id, project)
    except tc.SessionValueError:
        return  # refusing a corrupt chain is fine too
    except _Runaway:
        pytest.fail("fork_session loops forever relinking through a cycle of progress entries")
    assert validate(result.session_id)


def validate(value: str) -> bool:
    return _transcript.validate_uuid(value) is not None


async def test_fork_via_store_of_a_progress_cycle_terminates_without_stalling_the_loop() -> None:
    t = _progress_cycle()
    store = _FixedStore(t.session_id, _counting(t.lines, _Budget(100_000)))
    try:
        result = await tc.fork_session_via_store(store, t.session_id, project_key="p")
    except tc.SessionValueError:
        return
    except _Runaway:
        pytest.fail(
            "fork_session_via_store spins forever (on the event loop itself) on a cycle of "
            "progress entries"
        )
    assert validate(result.session_id)
    assert store.appended


async def test_reading_a_chain_with_many_side_branches_is_not_quadratic() -> None:
    n = 1500
    t = _many_side_branches(n)
    budget = _Budget(200 * len(t.lines))  # linear work; the quadratic walk needs ~n*n
    store = _FixedStore(t.session_id, _counting(t.lines, budget))
    try:
        messages = await tc.get_session_messages_from_store(store, t.session_id, project_key="p")
    except _Runaway:
        pytest.fail(
            f"build_chain re-walks the shared spine from every leaf: >{budget.limit} lookups "
            f"for {len(t.lines)} entries (quadratic)"
        )
    assert [m.type for m in messages] == ["user", "assistant"]


# --- faults: a FIFO where a file is expected ---------------------------------------------------


@pytest.mark.parametrize("helper", ["list_sessions", "get_session_info", "get_subagent_messages"])
def test_a_fifo_named_like_a_transcript_does_not_block_the_helpers(
    config: Path, project: Path, helper: str
) -> None:
    good = two_turn()
    good_path = good.write(config, project)
    if helper == "get_subagent_messages":
        subagents = good_path.with_suffix("") / "subagents"
        subagents.mkdir(parents=True)
        (subagents / "agent-x.jsonl").write_text(_subagent_text())
        fifo = subagents / "agent-x.meta.json"
        os.mkfifo(fifo)

        def call() -> Any:
            return tc.get_subagent_messages(good.session_id, "x", project)

    else:
        fifo_id = str(uuid.uuid4())
        fifo = project_dir(config, project) / f"{fifo_id}.jsonl"
        os.mkfifo(fifo)

        def call() -> Any:
            if helper == "list_sessions":
                return tc.list_sessions(project)
            return tc.get_session_info(fifo_id, project)

    rescued, outcome = _run_beside_fifo(fifo, call)
    assert not rescued, f"{helper} opened a FIFO for reading and blocked until a writer came"
    assert "error" not in outcome, outcome
    if helper == "list_sessions":
        assert [s.session_id for s in outcome["value"]] == [good.session_id]
    elif helper == "get_session_info":
        assert outcome["value"] is None
    else:
        assert [m.type for m in outcome["value"]] == ["user", "assistant"]


_FOUR = ["user", "assistant", "user", "assistant"]


# --- faults: a directory named like a transcript ----------------------------------------------


@pytest.mark.parametrize(
    "helper", ["get_session_messages", "rename_session", "tag_session", "fork_session", "delete"]
)
def test_a_directory_named_like_the_transcript_does_not_hide_the_real_one(
    config: Path, project: Path, helper: str
) -> None:
    t = two_turn()
    real = t.write(config, project)
    # A project dir sorted before the real one holds a *directory* called <id>.jsonl.
    decoy = config / "projects" / "-0-decoy" / f"{t.session_id}.jsonl"
    decoy.mkdir(parents=True)
    assert sorted((config / "projects").iterdir())[0] == decoy.parent

    sid = t.session_id
    try:
        if helper == "get_session_messages":
            assert [m.type for m in tc.get_session_messages(sid)] == _FOUR
        elif helper == "rename_session":
            tc.rename_session(sid, "renamed")
            assert '"customTitle":"renamed"' in real.read_text()
        elif helper == "tag_session":
            tc.tag_session(sid, "tagged")
            assert '"tag":"tagged"' in real.read_text()
        elif helper == "fork_session":
            fork = tc.fork_session(sid)
            assert (real.parent / f"{fork.session_id}.jsonl").is_file()
        else:
            tc.delete_session(sid)
            assert not real.exists()
    except IsADirectoryError as exc:
        pytest.fail(f"{helper}: bare {exc!r} from the decoy instead of using the real transcript")
    assert decoy.is_dir()


# --- faults: deep and looping subagent trees --------------------------------------------------


@pytest.mark.parametrize("helper", ["list_subagents", "delete_session", "import_session_to_store"])
async def test_deeply_nested_subagent_dirs_do_not_raise_recursion_error(
    config: Path, project: Path, deep_cleanup: list[Path], helper: str
) -> None:
    t = two_turn()
    path = t.write(config, project)
    session_dir = path.with_suffix("")
    deep_cleanup.append(session_dir)
    subagents = session_dir / "subagents"
    subagents.mkdir(parents=True)
    (subagents / "agent-top.jsonl").write_text(_subagent_text())
    deep = _deep_tree(subagents / "nest", 300)
    (deep / "agent-deep.jsonl").write_text(_subagent_text())
    # Walking 300 levels must not take 300 stack frames: the limit is lowered (for speed) to
    # what this test already uses plus 200; the helpers' worker threads start with few frames.
    frames = 0
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(frames + 200)
    try:
        if helper == "list_subagents":
            ids = await tc.alist_subagents(t.session_id, project)
            assert "top" in ids
        elif helper == "delete_session":
            await tc.adelete_session(t.session_id, project)
            assert not path.exists()
            assert not session_dir.exists()
        else:
            store = tc.InMemorySessionStore()
            await tc.import_session_to_store(t.session_id, store, directory=project)
            assert store.get_entries({"project_key": path.parent.name, "session_id": t.session_id})
    except RecursionError:
        pytest.fail(f"{helper}: bare RecursionError on a deeply nested subagents/ tree")
    finally:
        sys.setrecursionlimit(old_limit)


@pytest.mark.parametrize("helper", ["list_subagents", "import_session_to_store"])
async def test_a_symlink_loop_under_subagents_is_not_followed(
    config: Path, project: Path, helper: str
) -> None:
    t = two_turn()
    path = t.write(config, project)
    subagents = path.with_suffix("") / "subagents"
    subagents.mkdir(parents=True)
    (subagents / "agent-x.jsonl").write_text(_subagent_text())
    # One loop gives ~40 copies (until ELOOP); two such links would make the walk 2**40 long.
    os.symlink(".", subagents / "loop")
    if helper == "list_subagents":
        assert await tc.alist_subagents(t.session_id, project) == ["x"]
    else:
        store = tc.InMemorySessionStore()
        await tc.import_session_to_store(t.session_id, store, directory=project)
        subkeys = await store.list_subkeys(
            {"project_key": path.parent.name, "session_id": t.session_id}
        )
        assert subkeys == ["subagents/agent-x"]


# --- faults: hostile ids and directories ------------------------------------------------------


async def test_a_session_id_with_a_trailing_newline_is_not_a_uuid(
    config: Path, project: Path
) -> None:
    t = two_turn()
    t.write(config, project)
    bad = t.session_id + "\n"
    with pytest.raises(tc.SessionValueError):
        tc.rename_session(bad, "title", project)
    store = tc.InMemorySessionStore()
    with pytest.raises(tc.SessionValueError):
        await tc.rename_session_via_store(store, bad, "title", project_key="p")
    assert store.size == 0


@pytest.mark.parametrize(
    "helper",
    ["list_sessions", "get_session_info", "get_session_messages", "list_subagents", "rename"],
)
def test_a_nul_byte_in_the_directory_is_a_typed_error_or_nothing(
    config: Path, project: Path, helper: str
) -> None:
    t = two_turn()
    t.write(config, project)
    bad = str(project) + "\0/x"
    try:
        if helper == "list_sessions":
            assert tc.list_sessions(bad) == []
        elif helper == "get_session_info":
            assert tc.get_session_info(t.session_id, bad) is None
        elif helper == "get_session_messages":
            assert tc.get_session_messages(t.session_id, bad) == []
        elif helper == "list_subagents":
            assert tc.list_subagents(t.session_id, bad) == []
        else:
            with pytest.raises(tc.ClaudeSDKError):
                tc.rename_session(t.session_id, "x", bad)
    except tc.ClaudeSDKError:
        pass
    except ValueError as exc:
        pytest.fail(f"{helper}: bare {exc!r} (not a SessionValueError) for a NUL in directory")


def test_an_entry_with_a_non_string_parent_does_not_hijack_the_conversation(
    config: Path, project: Path
) -> None:
    # A damaged last line: valid JSON, but parentUuid is neither a uuid string nor null. It is
    # taken as a new root, and as the newest leaf it replaces the whole conversation.
    t = two_turn()
    path = t.write(config, project)
    with path.open("a") as handle:
        handle.write('{"type":"user","uuid":"x","parentUuid":{"a":1},"message":"garbage"}\n')
    messages = tc.get_session_messages(t.session_id, project)
    assert [m.type for m in messages] == ["user", "assistant", "user", "assistant"]


# --- faults: memory ---------------------------------------------------------------------------


def _peak_ratio(fn: Callable[[], Any], size: int) -> float:
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak / size


def test_reading_a_transcript_with_one_huge_line_does_not_copy_it_many_times(
    config: Path, project: Path
) -> None:
    t = Transcript()
    t.user("start \u2014 with an em dash, as Claude writes")
    t.assistant("x" * (8 << 20))  # one 8 MiB line
    path = t.write(config, project)
    ratio = _peak_ratio(lambda: tc.get_session_messages(t.session_id, project), path.stat().st_size)
    # The result holds the text once; a line-by-line parse needs about three copies at peak.
    assert ratio < 6, f"peak memory {ratio:.1f}x the transcript size"


def test_forking_a_transcript_does_not_copy_it_many_times(config: Path, project: Path) -> None:
    t = Transcript()
    for _ in range(500):
        t.user("q \u2014 " + "y" * 4000)
        t.assistant("a" * 4000)
    path = t.write(config, project)
    ratio = _peak_ratio(lambda: tc.fork_session(t.session_id, project), path.stat().st_size)
    # Parsed entries (~1.5x) plus the output written as it is built; nothing is returned.
    assert ratio < 5, f"peak memory {ratio:.1f}x the transcript size"


# --- guards: what holds up ---------------------------------------------------------------------

_DAMAGED_LINES = [
    b'{"type":"user","uuid":"cut-in-the-mid',  # a CLI killed mid-write
    b"\xff\xfe\x80 not utf-8",
    b"\x00\x00\x00",
    b"42",
    b"[1, 2]",
    b"null",
    b'"a string"',
    b'{"type":"user","uuid":5,"parentUuid":null}',
    b'{"type":"user","uuid":"x","parentUuid":null,"message":{"content":"x"},"isMeta":true}',
    b'{"type":"tag","tag":5}',
    b'{"type":"custom-title","customTitle":["x"]}',
    b'{"type":"user","timestamp":5,"cwd":[1],"message":{"content":[{"type":"text","text":5},3]}}',
    b'{"type":"user","timestamp":"0001-01-01T00:00:00+23:59","message":{"content":"hi"}}',
]


@pytest.mark.parametrize("where", ["head", "tail"])
def test_damaged_lines_are_skipped_by_every_helper(config: Path, project: Path, where: str) -> None:
    t = two_turn()
    path = t.write(config, project)
    good = path.read_bytes()
    for junk in _DAMAGED_LINES:
        path.write_bytes(junk + b"\n" + good if where == "head" else good + junk)
        listed = tc.list_sessions(project)
        assert [s.session_id for s in listed] == [t.session_id], junk
        messages = tc.get_session_messages(t.session_id, project)
        assert [m.type for m in messages] == ["user", "assistant", "user", "assistant"], junk
        assert tc.get_session_info(t.session_id, project) is not None
        fork = tc.fork_session(t.session_id, project)
        tc.rename_session(t.session_id, "renamed", project)
        tc.tag_session(t.session_id, "tagged", project)
        info = tc.get_session_info(t.session_id, project)
        assert info is not None
        assert (info.custom_title, info.tag) == ("renamed", "tagged"), junk
        assert len(tc.get_session_messages(t.session_id, project)) == 4
        (path.parent / f"{fork.session_id}.jsonl").unlink()


def test_ids_with_path_traversal_touch_nothing(config: Path, project: Path, tmp_path: Path) -> None:
    t = two_turn()
    path = t.write(config, project)
    victim = tmp_path / "victim.jsonl"
    victim.write_text(two_turn().text())
    before = victim.read_bytes()
    hostile = [
        "../../victim",
        str(victim.with_suffix("")),
        "a/b",
        t.session_id + "\0",
        t.session_id + "/../" + t.session_id,
    ]
    for bad in hostile:
        assert tc.get_session_info(bad) is None
        assert tc.get_session_messages(bad) == []
        assert tc.list_subagents(bad) == []
        for write in (
            lambda bad=bad: tc.rename_session(bad, "x"),
            lambda bad=bad: tc.tag_session(bad, "x"),
            lambda bad=bad: tc.delete_session(bad),
            lambda bad=bad: tc.fork_session(bad),
            lambda bad=bad: tc.fork_session(t.session_id, up_to_message_id=bad),
        ):
            with pytest.raises(tc.SessionValueError):
                write()
        assert tc.get_subagent_messages(t.session_id, bad) == []
    assert victim.read_bytes() == before
    assert path.is_file()


def test_parent_cycles_and_long_chains_terminate(config: Path, project: Path) -> None:
    cycle = Transcript()
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    cycle.user("x", uuid=a, parent=b)
    cycle.assistant("y", uuid=b, parent=a)
    cycle.write(config, project)
    assert isinstance(tc.get_session_messages(cycle.session_id, project), list)
    assert tc.fork_session(cycle.session_id, project).session_id

    long = Transcript()
    for i in range(20_000):
        long.user("u") if i % 2 == 0 else long.assistant("a")
    long.write(config, project)
    assert len(tc.get_session_messages(long.session_id, project)) == 20_000


def test_an_empty_transcript_is_not_a_session(config: Path, project: Path) -> None:
    sid = str(uuid.uuid4())
    directory = project_dir(config, project)
    directory.mkdir(parents=True)
    (directory / f"{sid}.jsonl").write_bytes(b"")
    assert tc.list_sessions(project) == []
    assert tc.get_session_info(sid, project) is None
    assert tc.get_session_messages(sid, project) == []
    with pytest.raises(tc.SessionNotFoundError):
        tc.rename_session(sid, "x", project)
    with pytest.raises(tc.SessionNotFoundError):
        tc.fork_session(sid, project)
    assert (directory / f"{sid}.jsonl").read_bytes() == b""


def test_delete_does_not_follow_a_symlinked_session_dir(
    config: Path, project: Path, tmp_path: Path
) -> None:
    t = two_turn()
    path = t.write(config, project)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("precious")
    os.symlink(victim, path.with_suffix(""))
    tc.delete_session(t.session_id, project)
    assert not path.exists()
    assert (victim / "keep").read_text() == "precious"


def test_a_non_utf8_project_dir_name_is_listed(config: Path) -> None:
    t = two_turn()
    raw = os.fsencode(config / "projects") + b"/-tmp-\xff\xfe"
    os.makedirs(raw)
    with open(raw + b"/" + t.session_id.encode() + b".jsonl", "wb") as handle:
        handle.write(t.text().encode())
    assert [s.session_id for s in tc.list_sessions()] == [t.session_id]
    assert len(tc.get_session_messages(t.session_id)) == 4
    tc.rename_session(t.session_id, "ok")
    assert tc.list_sessions()[0].custom_title == "ok"


def test_concurrent_renames_of_a_truncated_transcript_keep_every_line_whole(
    config: Path, project: Path
) -> None:
    t = two_turn()
    path = t.write(config, project)
    with path.open("ab") as handle:
        handle.write(b'{"type":"assistant","uuid":"cut')  # killed mid-write, no newline
    titles = [f"title {i}" for i in range(8)]
    threads = [
        threading.Thread(target=tc.rename_session, args=(t.session_id, title, project))
        for title in titles
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = [line for line in path.read_text().split("\n") if line.startswith('{"type":"custom')]
    assert sorted(json.loads(line)["customTitle"] for line in lines) == titles
    info = tc.get_session_info(t.session_id, project)
    assert info is not None and info.custom_title in titles


async def test_import_refuses_a_line_that_is_not_utf8_json_and_leaves_the_store_empty(
    config: Path, project: Path
) -> None:
    t = two_turn()
    path = t.write(config, project)
    path.write_bytes(path.read_bytes() + b"\xff\xfe garbage\n")
    store = tc.InMemorySessionStore()
    with pytest.raises(tc.SessionValueError, match="line"):
        await tc.import_session_to_store(t.session_id, store, directory=project)
    assert store.size == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_an_unreadable_transcript_is_skipped(config: Path, project: Path) -> None:
    t = two_turn()
    path = t.write(config, project)
    path.chmod(0)
    try:
        assert tc.list_sessions(project) == []
        assert tc.get_session_messages(t.session_id, project) == []
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
