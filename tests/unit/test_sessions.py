"""On-disk session helpers on synthetic transcripts in a temporary config dir."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from tests.unit._session_builders import Transcript, project_dir, two_turn
from trio_claude._sessions import _paths
from trio_claude._sessions._transcript import extract_first_prompt, sanitize_unicode


@pytest.fixture(autouse=True)
def config(isolated: Path) -> Path:
    """Every test here runs isolated (tests/unit/conftest.py); this is the config directory."""
    return isolated


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


def set_mtime(path: Path, seconds: float) -> None:
    os.utime(path, (seconds, seconds))


# --- paths -----------------------------------------------------------------------------------


def test_sanitize_replaces_every_non_alphanumeric() -> None:
    assert _paths.sanitize_path("/tmp/my project.v2/ü") == "-tmp-my-project-v2--"


def test_long_names_are_truncated_with_the_js_djb2_hash() -> None:
    # Values computed with JavaScript: Math.abs(h).toString(36) of h = (h << 5) - h + code | 0.
    assert _paths.simple_hash("") == "0"
    assert _paths.simple_hash("a") == "2p"
    assert _paths.simple_hash("/tmp/project") == "h3q4q6"
    assert _paths.simple_hash("/home/\u00fc/\U0001f600/x") == "ixia1s"  # UTF-16 code units
    long = "/" + "a" * 300
    assert _paths.sanitize_path(long) == "-" + "a" * 199 + "-vtkmfl"


def test_config_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _paths.config_home(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "env"))
    assert _paths.projects_dir() == tmp_path / "env" / "projects"
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    assert _paths.projects_dir() == tmp_path / "home" / ".claude" / "projects"


async def test_home_claude_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    t = two_turn()
    t.write(tmp_path / "home" / ".claude", project)
    assert [s.session_id for s in await tc.alist_sessions(project)] == [t.session_id]


async def test_explicit_config_dir_wins_over_the_environment(tmp_path: Path, project: Path) -> None:
    other = tmp_path / "other-config"
    t = two_turn()
    t.write(other, project)
    assert await tc.alist_sessions(project) == []
    assert [s.session_id for s in await tc.alist_sessions(project, config_dir=other)] == [
        t.session_id
    ]


async def test_long_project_paths_match_a_different_hash_suffix(
    config: Path, tmp_path: Path
) -> None:
    deep = tmp_path / ("x" * 120) / ("y" * 120)
    deep.mkdir(parents=True)
    canonical = _paths.canonicalize_path(deep)
    name = _paths.sanitize_path(canonical)
    assert len(name) > 200
    # The CLI's runtime may hash with another function: same prefix, other suffix.
    t = two_turn(cwd=canonical)
    directory = config / "projects" / (name[:200] + "-otherhash")
    directory.mkdir(parents=True)
    (directory / f"{t.session_id}.jsonl").write_text(t.text())
    assert [s.session_id for s in await tc.alist_sessions(deep)] == [t.session_id]
    assert len(await tc.aget_session_messages(t.session_id, deep)) == 4


# --- listing ---------------------------------------------------------------------------------


async def test_list_sessions_reads_metadata(config: Path, project: Path) -> None:
    t = two_turn(cwd=str(project))
    path = t.write(config, project)
    (info,) = await tc.alist_sessions(project)
    assert info == tc.SDKSessionInfo(
        session_id=t.session_id,
        summary="two",  # the last prompt beats the first
        last_modified=path.stat().st_mtime_ns // 1_000_000,
        file_size=path.stat().st_size,
        custom_title=None,
        first_prompt="one",
        git_branch="main",
        cwd=str(project),
        tag=None,
        created_at=1735689601000,  # 2025-01-01T00:00:01Z, the first timestamp in the file
    )


async def test_list_sessions_sorts_newest_first_and_pages(config: Path, project: Path) -> None:
    ids = []
    for age in range(5):
        t = two_turn()
        set_mtime(t.write(config, project), 1_700_000_000 - age * 100)
        ids.append(t.session_id)
    listed = [s.session_id for s in await tc.alist_sessions(project)]
    assert listed == ids
    assert [s.session_id for s in await tc.alist_sessions(project, limit=2)] == ids[:2]
    assert [s.session_id for s in await tc.alist_sessions(project, limit=2, offset=2)] == ids[2:4]
    assert [s.session_id for s in await tc.alist_sessions(project, offset=4)] == ids[4:]
    assert [s.session_id for s in await tc.alist_sessions(project, limit=0)] == ids


async def test_list_sessions_skips_what_is_not_a_session(config: Path, project: Path) -> None:
    good = two_turn()
    good.write(config, project)
    directory = project_dir(config, project)
    (directory / "not-a-uuid.jsonl").write_text(two_turn().text())
    (directory / f"{uuid.uuid4()}.jsonl").write_text("")  # empty
    (directory / f"{uuid.uuid4()}.txt").write_text(two_turn().text())
    sidechain = Transcript()
    sidechain.user("side", isSidechain=True)
    sidechain.write(config, project)
    metadata_only = Transcript()
    metadata_only.meta("queue-operation", operation="enqueue")
    metadata_only.write(config, project)
    assert [s.session_id for s in await tc.alist_sessions(project)] == [good.session_id]


async def test_list_without_directory_covers_every_project(config: Path, tmp_path: Path) -> None:
    a, b = two_turn(), two_turn()
    set_mtime(a.write(config, tmp_path / "p1"), 1_700_000_000)
    set_mtime(b.write(config, tmp_path / "p2"), 1_700_000_100)
    assert [s.session_id for s in await tc.alist_sessions()] == [b.session_id, a.session_id]
    assert (await tc.alist_sessions())[0].cwd == "/srv/proj"  # from the transcript


async def test_the_same_session_in_two_projects_is_listed_once_newest_wins(
    config: Path, tmp_path: Path
) -> None:
    t = two_turn()
    set_mtime(t.write(config, tmp_path / "p1"), 1_700_000_000)
    t.meta("custom-title", customTitle="newer copy")
    set_mtime(t.write(config, tmp_path / "p2"), 1_700_000_500)
    (info,) = await tc.alist_sessions()
    assert info.summary == "newer copy"


async def test_summary_precedence(config: Path, project: Path) -> None:
    t = Transcript()
    t.user("first prompt")
    t.meta("summary", summary="cli summary")
    t.write(config, project)
    assert (await tc.aget_session_info(t.session_id, project)).summary == "cli summary"  # type: ignore[union-attr]
    t.meta("last-prompt", lastPrompt="later prompt")
    t.write(config, project)
    assert (await tc.aget_session_info(t.session_id, project)).summary == "later prompt"  # type: ignore[union-attr]
    t.meta("ai-title", aiTitle="AI title")
    t.write(config, project)
    info = await tc.aget_session_info(t.session_id, project)
    assert info is not None and (info.summary, info.custom_title) == ("AI title", "AI title")
    t.meta("custom-title", customTitle="Mine")
    t.write(config, project)
    info = await tc.aget_session_info(t.session_id, project)
    assert info is not None and (info.summary, info.custom_title) == ("Mine", "Mine")
    assert info.first_prompt == "first prompt"


def test_first_prompt_skips_what_is_not_a_prompt() -> None:
    t = Transcript()
    t.user("ignored meta", isMeta=True)
    t.user([{"type": "tool_result", "tool_use_id": "x", "content": "out"}])
    t.user("<local-command-stdout>ok</local-command-stdout>")
    t.user("[Request interrupted by user]")
    t.user("<command-name>/review</command-name>")
    t.user("compact", isCompactSummary=True)
    assert extract_first_prompt(t.text()) == "/review"  # the command is only a fallback
    t.user([{"type": "image"}, {"type": "text", "text": "line one\nline two"}])
    assert extract_first_prompt(t.text()) == "line one line two"
    long = Transcript()
    long.user("w" * 300)
    assert extract_first_prompt(long.text()) == "w" * 200 + "\u2026"


async def test_head_and_tail_of_a_large_transcript(config: Path, project: Path) -> None:
    t = Transcript()
    t.user("the very first prompt")
    for i in range(400):  # ~200 KiB: the middle is never read
        t.assistant(f"filler {i} " + "z" * 400)
    t.chain("assistant", message={"content": [{"type": "tool_use", "input": {"tag": "v1.0"}}]})
    t.meta("custom-title", customTitle="Title at the end")
    t.meta("tag", tag="keep")
    path = t.write(config, project)
    assert path.stat().st_size > 3 * 64 * 1024
    info = await tc.aget_session_info(t.session_id, project)
    assert info is not None
    assert (info.first_prompt, info.custom_title, info.tag) == (
        "the very first prompt",
        "Title at the end",
        "keep",
    )


async def test_tag_is_read_only_from_tag_lines(config: Path, project: Path) -> None:
    t = two_turn()
    t.chain("assistant", message={"role": "assistant", "content": [{"input": {"tag": "v2"}}]})
    t.write(config, project)
    info = await tc.aget_session_info(t.session_id, project)
    assert info is not None and info.tag is None


async def test_get_session_info_misses(config: Path, project: Path) -> None:
    assert await tc.aget_session_info("not-a-uuid", project) is None
    assert await tc.aget_session_info(str(uuid.uuid4()), project) is None
    t = two_turn()
    t.write(config, project)
    assert (await tc.aget_session_info(t.session_id)) is not None  # found without a directory
    assert await tc.aget_session_info(t.session_id, project / "elsewhere") is None


# --- messages --------------------------------------------------------------------------------


async def test_messages_follow_the_chain_oldest_first(config: Path, project: Path) -> None:
    t = two_turn()
    t.write(config, project)
    messages = await tc.aget_session_messages(t.session_id, project)
    assert [(m.type, m.message["content"]) for m in messages] == [
        ("user", "one"),
        ("assistant", [{"type": "text", "text": "a"}]),
        ("user", "two"),
        ("assistant", [{"type": "text", "text": "b"}]),
    ]
    assert all(m.session_id == t.session_id for m in messages)
    assert all(m.parent_tool_use_id is None and m.parent_agent_id is None for m in messages)
    assert [m.uuid for m in messages] == [
        line["uuid"] for line in t.lines if line["type"] in ("user", "assistant")
    ]


async def test_messages_take_the_newest_branch(config: Path, project: Path) -> None:
    t = Transcript()
    root = t.user("question")
    t.assistant("old answer")
    t.user("old follow-up")
    t.assistant("old reply")
    # A rewind: a new answer to the same question; it is newer in the file. Progress and meta
    # entries are links of the chain but not messages.
    t.user("internal", isMeta=True, parent=root)
    t.assistant("new answer")
    t.chain("progress", data={"step": 1})
    t.write(config, project)
    messages = await tc.aget_session_messages(t.session_id, project)
    texts = [m.message["content"] if m.type == "user" else m.message["content"][0]["text"]
             for m in messages]  # fmt: skip
    assert texts == ["question", "new answer"]


async def test_messages_paging_system_and_corrupt_lines(config: Path, project: Path) -> None:
    t = Transcript()
    for i in range(3):
        t.user(f"q{i}")
        t.chain("system", subtype="informational", content="note")
        t.assistant(f"a{i}")
    path = t.write(config, project)
    with path.open("a") as handle:
        handle.write('{"type":"user","uuid": broken\n')
    all_messages = await tc.aget_session_messages(t.session_id, project)
    assert len(all_messages) == 6
    assert [m.uuid for m in await tc.aget_session_messages(t.session_id, project, 2, 1)] == [
        m.uuid for m in all_messages[1:3]
    ]
    with_system = await tc.aget_session_messages(
        t.session_id, project, include_system_messages=True
    )
    assert [m.type for m in with_system][:3] == ["user", "system", "assistant"]


async def test_messages_of_unknown_sessions_are_empty(project: Path) -> None:
    assert await tc.aget_session_messages("nope", project) == []
    assert await tc.aget_session_messages(str(uuid.uuid4()), project) == []


# --- subagents -------------------------------------------------------------------------------


def write_subagent(
    main: Path, relative: str, agent_id: str, meta: dict[str, object] | None
) -> Transcript:
    sub = Transcript(session_id=main.stem)
    sub.user("subtask", isSidechain=True)
    sub.assistant("subresult", isSidechain=True)
    directory = main.with_suffix("") / "subagents" / relative
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"agent-{agent_id}.jsonl").write_text(sub.text())
    if meta is not None:
        (directory / f"agent-{agent_id}.meta.json").write_text(json.dumps(meta))
    return sub


async def test_subagents_are_listed_and_read(config: Path, project: Path) -> None:
    t = two_turn()
    main = t.write(config, project)
    write_subagent(main, "", "a1", {"toolUseId": "toolu_1", "agentType": "general"})
    write_subagent(main, "workflows/run-1", "b2", {"toolUseId": "toolu_2", "parentAgentId": "a1"})
    write_subagent(main, "", "c3", None)
    assert await tc.alist_subagents(t.session_id, project) == ["a1", "c3", "b2"]
    nested = await tc.aget_subagent_messages(t.session_id, "b2", project)
    assert [m.type for m in nested] == ["user", "assistant"]
    assert {(m.parent_tool_use_id, m.parent_agent_id) for m in nested} == {("toolu_2", "a1")}
    bare = await tc.aget_subagent_messages(t.session_id, "c3", project, limit=1)
    assert [(m.type, m.parent_tool_use_id) for m in bare] == [("user", None)]
    assert await tc.aget_subagent_messages(t.session_id, "missing", project) == []
    assert await tc.alist_subagents(str(uuid.uuid4()), project) == []
    assert await tc.alist_subagents("bad", project) == []


# --- mutations -------------------------------------------------------------------------------


async def test_rename_and_tag_append_entries_the_listing_reads(config: Path, project: Path) -> None:
    t = two_turn()
    path = t.write(config, project)
    before = path.read_text()
    await tc.arename_session(t.session_id, "  Refactor  ", project)
    await tc.atag_session(t.session_id, "exp\u200b-1", project)  # zero-width space removed
    added = path.read_text()[len(before) :].splitlines()
    assert [json.loads(line) for line in added] == [
        {"type": "custom-title", "customTitle": "Refactor", "sessionId": t.session_id},
        {"type": "tag", "tag": "exp-1", "sessionId": t.session_id},
    ]
    (info,) = await tc.alist_sessions(project)
    assert (info.summary, info.custom_title, info.tag) == ("Refactor", "Refactor", "exp-1")
    await tc.arename_session(t.session_id, "Second", project)
    await tc.atag_session(t.session_id, None)  # clears; found without a directory
    (info,) = await tc.alist_sessions(project)
    assert (info.summary, info.tag) == ("Second", None)


async def test_mutations_validate_their_arguments(config: Path, project: Path) -> None:
    t = two_turn()
    t.write(config, project)
    with pytest.raises(tc.SessionValueError, match="Invalid session_id"):
        await tc.arename_session("nope", "x", project)
    with pytest.raises(ValueError, match="title"):
        await tc.arename_session(t.session_id, "   ", project)
    with pytest.raises(tc.SessionValueError, match="tag"):
        await tc.atag_session(t.session_id, "\u200b\u200e ", project)
    with pytest.raises(tc.SessionValueError):
        await tc.adelete_session("nope", project)
    with pytest.raises(tc.SessionValueError, match="up_to_message_id"):
        await tc.afork_session(t.session_id, project, up_to_message_id="nope")


async def test_mutations_of_missing_sessions_raise_not_found(project: Path) -> None:
    missing = str(uuid.uuid4())
    for call in (
        tc.arename_session(missing, "x", project),
        tc.atag_session(missing, "x"),
        tc.adelete_session(missing, project),
        tc.afork_session(missing),
    ):
        with pytest.raises(tc.SessionNotFoundError) as info:
            await call
        assert isinstance(info.value, FileNotFoundError)
        assert isinstance(info.value, tc.ClaudeSDKError)
        assert info.value.session_id == missing


async def test_append_after_a_truncated_last_line_starts_a_new_line(
    config: Path, project: Path
) -> None:
    t = two_turn()
    path = t.write(config, project)
    path.write_text(path.read_text() + '{"type":"assistant","cut')
    await tc.arename_session(t.session_id, "Title", project)
    assert path.read_text().splitlines()[-1] == json.dumps(
        {"type": "custom-title", "customTitle": "Title", "sessionId": t.session_id},
        separators=(",", ":"),
    )
    assert (await tc.aget_session_info(t.session_id, project)).summary == "Title"  # type: ignore[union-attr]


async def test_empty_files_do_not_hide_the_real_transcript(config: Path, tmp_path: Path) -> None:
    t = two_turn()
    (project_dir(config, tmp_path / "a")).mkdir(parents=True)
    (project_dir(config, tmp_path / "a") / f"{t.session_id}.jsonl").write_text("")
    real = t.write(config, tmp_path / "b")
    await tc.arename_session(t.session_id, "found it")
    assert "found it" in real.read_text()


async def test_delete_removes_the_transcript_and_its_directory(config: Path, project: Path) -> None:
    t, other = two_turn(), two_turn()
    path = t.write(config, project)
    other.write(config, project)
    write_subagent(path, "", "a1", None)
    await tc.adelete_session(t.session_id, project)
    assert not path.exists() and not path.with_suffix("").exists()
    assert [s.session_id for s in await tc.alist_sessions(project)] == [other.session_id]
    with pytest.raises(FileNotFoundError):
        await tc.adelete_session(t.session_id, project)


# --- fork ------------------------------------------------------------------------------------


async def test_fork_copies_the_conversation_with_fresh_uuids(config: Path, project: Path) -> None:
    t = two_turn()
    t.meta("content-replacement", replacements=[{"kind": "x"}])
    source = t.write(config, project)
    result = await tc.afork_session(t.session_id, project)
    fork_path = source.with_name(f"{result.session_id}.jsonl")
    assert fork_path.exists() and result.session_id != t.session_id
    assert oct(fork_path.stat().st_mode & 0o777) == "0o600"
    lines = [json.loads(line) for line in fork_path.read_text().splitlines()]
    chain = [line for line in lines if "forkedFrom" in line]
    originals = [line for line in t.lines if "uuid" in line]
    assert [c["forkedFrom"]["messageUuid"] for c in chain] == [o["uuid"] for o in originals]
    new_of = {o["uuid"]: c["uuid"] for o, c in zip(originals, chain, strict=True)}
    assert not set(new_of.values()) & set(new_of)
    for original, copied in zip(originals, chain, strict=True):
        assert copied["sessionId"] == result.session_id
        assert copied["parentUuid"] == (
            new_of[original["parentUuid"]] if original["parentUuid"] else None
        )
        assert copied["forkedFrom"]["sessionId"] == t.session_id
        changed = {"uuid", "parentUuid", "sessionId", "forkedFrom", "logicalParentUuid"}
        changed.add("timestamp")
        assert {k: v for k, v in copied.items() if k not in changed} == {
            k: v for k, v in original.items() if k not in changed
        }
    # Only the last entry is re-stamped: the CLI resumes from the newest leaf.
    assert [c["timestamp"] for c in chain[:-1]] == [o["timestamp"] for o in originals[:-1]]
    assert chain[-1]["timestamp"] > originals[-1]["timestamp"]
    assert lines[-2]["type"] == "content-replacement"
    assert lines[-2]["replacements"] == [{"kind": "x"}]
    assert lines[-1]["type"] == "custom-title" and lines[-1]["customTitle"] == "one (fork)"
    forked = await tc.aget_session_messages(result.session_id, project)
    original_messages = await tc.aget_session_messages(t.session_id, project)
    assert [m.message for m in forked] == [m.message for m in original_messages]
    assert [m.uuid for m in forked] == [new_of[m.uuid] for m in original_messages]
    info = await tc.aget_session_info(result.session_id, project)
    assert info is not None and info.custom_title == "one (fork)"


async def test_fork_up_to_a_message_with_a_title(config: Path, project: Path) -> None:
    t = two_turn()
    t.write(config, project)
    t.meta("custom-title", customTitle="Named")
    t.write(config, project)
    messages = await tc.aget_session_messages(t.session_id, project)
    result = await tc.afork_session(t.session_id, project, up_to_message_id=messages[1].uuid)
    forked = await tc.aget_session_messages(result.session_id, project)
    assert [m.message for m in forked] == [m.message for m in messages[:2]]
    assert (await tc.aget_session_info(result.session_id, project)).custom_title == "Named (fork)"  # type: ignore[union-attr]
    titled = await tc.afork_session(t.session_id, project, title=" Branch B ")
    assert (await tc.aget_session_info(titled.session_id, project)).summary == "Branch B"  # type: ignore[union-attr]
    with pytest.raises(tc.SessionValueError, match="not found in session"):
        await tc.afork_session(t.session_id, project, up_to_message_id=str(uuid.uuid4()))


async def test_fork_skips_progress_and_sidechains(config: Path, project: Path) -> None:
    t = Transcript()
    t.user("q")
    progress = t.chain("progress", data={})
    t.assistant("a")  # parent: the progress entry
    t.user("side", isSidechain=True, parent=None)
    t.write(config, project)
    result = await tc.afork_session(t.session_id, project)
    path = project_dir(config, project) / f"{result.session_id}.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = [line["type"] for line in lines]
    assert kinds == ["user", "assistant", "custom-title"]
    assert lines[1]["parentUuid"] == lines[0]["uuid"]  # relinked past the progress entry
    assert progress not in json.dumps(lines)


async def test_fork_of_a_session_without_messages_fails(config: Path, project: Path) -> None:
    t = Transcript()
    t.meta("queue-operation", operation="enqueue")
    t.write(config, project)
    with pytest.raises(tc.SessionValueError, match="no messages to fork"):
        await tc.afork_session(t.session_id, project)


def test_tag_sanitising() -> None:
    assert sanitize_unicode("a\u200bb\u202ec\ufeffd\ue000") == "abcd"
    assert sanitize_unicode("\uff21") == "A"  # NFKC


# --- git worktrees ---------------------------------------------------------------------------


def git(*args: str, cwd: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
async def test_worktrees_of_the_repository_are_included(config: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "0",
        cwd=repo)  # fmt: skip
    tree = tmp_path / "repo-feature"
    git("worktree", "add", "-q", str(tree), "-b", "feature", cwd=repo)
    here, there = two_turn(), two_turn()
    set_mtime(here.write(config, repo), 1_700_000_000)
    set_mtime(there.write(config, tree), 1_700_000_100)
    both = [s.session_id for s in await tc.alist_sessions(repo)]
    assert both == [there.session_id, here.session_id]
    only = [s.session_id for s in await tc.alist_sessions(repo, include_worktrees=False)]
    assert only == [here.session_id]
    # Reads and writes find a session under another worktree's directory too.
    assert len(await tc.aget_session_messages(there.session_id, repo)) == 4
    await tc.arename_session(there.session_id, "from the main tree", repo)
    info = await tc.aget_session_info(there.session_id, repo)
    assert info is not None and info.summary == "from the main tree"
    assert info.cwd == "/srv/proj"


# --- trio behaviour --------------------------------------------------------------------------


async def test_file_io_runs_in_worker_threads(
    config: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = two_turn()
    t.write(config, project)
    threads: list[bool] = []
    real = _paths.projects_dir

    def spy(config_dir: object = None) -> Path:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(config_dir)  # type: ignore[arg-type]

    monkeypatch.setattr(_paths, "projects_dir", spy)
    await tc.alist_sessions(project)
    await tc.aget_session_info(t.session_id, project)
    await tc.aget_session_messages(t.session_id, project)
    await tc.alist_subagents(t.session_id, project)
    await tc.arename_session(t.session_id, "x", project)
    await tc.atag_session(t.session_id, "x", project)
    fork = await tc.afork_session(t.session_id, project)
    await tc.adelete_session(fork.session_id, project)
    assert len(threads) == 8 and not any(threads)


async def test_a_cancelled_listing_returns_promptly(
    config: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_turn().write(config, project)
    release = threading.Event()
    real = _paths.projects_dir

    def slow(config_dir: object = None) -> Path:
        release.wait(10)
        return real(config_dir)  # type: ignore[arg-type]

    monkeypatch.setattr(_paths, "projects_dir", slow)
    with trio.move_on_after(0.2) as scope:
        await tc.alist_sessions(project)
    release.set()
    assert scope.cancelled_caught


async def test_fork_keeps_a_lone_surrogate_the_cli_wrote(config: Path, project: Path) -> None:
    """The CLI's transcript may hold ``"\\ud83d"`` (a string cut inside an emoji): copying it
    raised UnicodeEncodeError (the same encoder as the rest of what came from the CLI now)."""
    t = two_turn()
    source = t.write(config, project)
    lines = [json.loads(line) for line in source.read_text().splitlines()]
    for line in lines:
        if "uuid" in line:
            line["cut"] = "half \ud83d"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = await tc.afork_session(t.session_id, project)
    copied = source.with_name(f"{result.session_id}.jsonl").read_text().splitlines()
    assert [json.loads(c)["cut"] for c in copied if '"cut"' in c][:1] == ["half \ud83d"]
