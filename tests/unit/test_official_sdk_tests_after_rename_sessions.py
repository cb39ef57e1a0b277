# ruff: noqa: E501  (official test bodies and names, kept as written)
# mypy: ignore-errors
"""The official SDK's test_sessions.py (anthropics/claude-agent-sdk-python ``tests/test_sessions.py``), after the
rename ``claude_agent_sdk`` -> ``trio_claude``: a parity probe (see
``test_official_sdk_tests_after_rename.py``).

Ported mechanically: the official test bodies are unchanged but for the import rename and the
items below; each test names the official test it ports. Tests of the official SDK's private
helpers are left out. A failing test here is a parity gap (official code would behave differently
after the rename); a test changed to a documented difference says ``KNOWN DIFFERENCE``.

The official ``_sanitize_path`` (used to lay out fixture project folders) is
``trio_claude.project_key_for_directory``.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

import trio_claude as _tc
from trio_claude import (
    SDKSessionInfo,
    SessionMessage,
    get_session_info,
    get_session_messages,
    get_subagent_messages,
    list_sessions,
    list_subagents,
)

_sanitize_path = _tc.project_key_for_directory

# Matches the CLI's on-disk JSONL format (JSON.stringify / json.dumps with
# separators). Tag extraction scopes to '{"type":"tag"' (no space after colon)
# at column 0 to avoid matching tool_use inputs — fixtures must use this form.
_COMPACT = {"separators": (",", ":")}

# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
def claude_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Creates a temporary ~/.claude directory and points CLAUDE_CONFIG_DIR at it."""
    config_dir = tmp_path / ".claude"
    config_dir.mkdir()
    (config_dir / "projects").mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config_dir))
    return config_dir


def _make_session_file(
    project_dir: Path,
    session_id: str | None = None,
    *,
    first_prompt: str = "Hello Claude",
    summary: str | None = None,
    custom_title: str | None = None,
    git_branch: str | None = None,
    cwd: str | None = None,
    is_sidechain: bool = False,
    is_meta_only: bool = False,
    mtime: float | None = None,
) -> tuple[str, Path]:
    """Creates a .jsonl session file with the given metadata.

    Returns (session_id, file_path).
    """
    sid = session_id or str(uuid.uuid4())
    file_path = project_dir / f"{sid}.jsonl"

    lines: list[str] = []

    # First line: user message (or meta/sidechain)
    first_entry: dict = {
        "type": "user",
        "message": {"role": "user", "content": first_prompt},
    }
    if cwd is not None:
        first_entry["cwd"] = cwd
    if git_branch is not None:
        first_entry["gitBranch"] = git_branch
    if is_sidechain:
        first_entry["isSidechain"] = True
    if is_meta_only:
        first_entry["isMeta"] = True
    lines.append(json.dumps(first_entry))

    # Assistant response
    lines.append(
        json.dumps(
            {
                "type": "assistant",
                "message": {"role": "assistant", "content": "Hi there!"},
            }
        )
    )

    # Tail metadata
    tail_entry: dict = {"type": "summary"}
    if summary is not None:
        tail_entry["summary"] = summary
    if custom_title is not None:
        tail_entry["customTitle"] = custom_title
    if git_branch is not None:
        tail_entry["gitBranch"] = git_branch
    lines.append(json.dumps(tail_entry))

    file_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    if mtime is not None:
        os.utime(file_path, (mtime, mtime))

    return sid, file_path


def _make_project_dir(config_dir: Path, project_path: str) -> Path:
    """Creates a sanitized project directory for the given path."""
    sanitized = _sanitize_path(project_path)
    project_dir = config_dir / "projects" / sanitized
    project_dir.mkdir(parents=True, exist_ok=True)
    return project_dir


# ---------------------------------------------------------------------------
# Helper function tests
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# list_sessions() integration tests
# ---------------------------------------------------------------------------


class TestListSessionsSessions:
    """Tests for the list_sessions() function."""

    def test_empty_projects_dir(self, claude_config_dir: Path):
        # port of test_sessions.py::TestListSessions::test_empty_projects_dir
        """No sessions when projects dir is empty."""
        assert list_sessions() == []

    def test_no_config_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        # port of test_sessions.py::TestListSessions::test_no_config_dir
        """Gracefully handles missing config dir."""
        monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "nonexistent"))
        assert list_sessions() == []

    def test_single_session(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_single_session
        """Single session with basic metadata."""
        project_path = str(tmp_path / "my-project")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid, _ = _make_session_file(
            project_dir,
            first_prompt="What is 2+2?",
            git_branch="main",
            cwd=project_path,
        )

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        s = sessions[0]
        assert isinstance(s, SDKSessionInfo)
        assert s.session_id == sid
        assert s.first_prompt == "What is 2+2?"
        assert s.summary == "What is 2+2?"  # no custom title or summary → first prompt
        assert s.git_branch == "main"
        assert s.cwd == project_path
        assert s.file_size > 0
        assert s.last_modified > 0
        assert s.custom_title is None

    def test_custom_title_wins_summary(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_custom_title_wins_summary
        """custom_title takes precedence over summary and first_prompt."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        _make_session_file(
            project_dir,
            first_prompt="original question",
            summary="auto summary",
            custom_title="My Custom Title",
        )

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].summary == "My Custom Title"
        assert sessions[0].custom_title == "My Custom Title"
        assert sessions[0].first_prompt == "original question"

    def test_summary_wins_first_prompt(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_summary_wins_first_prompt
        """Explicit summary takes precedence over first_prompt when no custom_title."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        _make_session_file(project_dir, first_prompt="question", summary="better summary")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].summary == "better summary"
        assert sessions[0].custom_title is None

    def test_multiple_sessions_sorted_by_mtime(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_multiple_sessions_sorted_by_mtime
        """Sessions are sorted by last_modified descending."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        sid_old, _ = _make_session_file(project_dir, first_prompt="old", mtime=1000.0)
        sid_new, _ = _make_session_file(project_dir, first_prompt="new", mtime=3000.0)
        sid_mid, _ = _make_session_file(project_dir, first_prompt="mid", mtime=2000.0)

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 3
        assert [s.session_id for s in sessions] == [sid_new, sid_mid, sid_old]
        # Verify mtime conversion to milliseconds
        assert sessions[0].last_modified == 3_000_000
        assert sessions[1].last_modified == 2_000_000
        assert sessions[2].last_modified == 1_000_000

    def test_limit(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_limit
        """Limit option restricts number of results."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        for i in range(5):
            _make_session_file(project_dir, first_prompt=f"prompt {i}", mtime=1000.0 + i)

        sessions = list_sessions(directory=project_path, limit=2, include_worktrees=False)
        assert len(sessions) == 2
        # Should be the 2 newest
        assert sessions[0].last_modified >= sessions[1].last_modified

    def test_offset_pagination(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_offset_pagination
        """Offset skips sessions for pagination."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        for i in range(5):
            _make_session_file(project_dir, first_prompt=f"prompt {i}", mtime=1000.0 + i)

        # Get page 1 (first 2)
        page1 = list_sessions(directory=project_path, limit=2, offset=0, include_worktrees=False)
        assert len(page1) == 2

        # Get page 2 (next 2)
        page2 = list_sessions(directory=project_path, limit=2, offset=2, include_worktrees=False)
        assert len(page2) == 2

        # Pages should have different sessions
        page1_ids = {s.session_id for s in page1}
        page2_ids = {s.session_id for s in page2}
        assert page1_ids.isdisjoint(page2_ids)

        # Page 1 should be newer than page 2
        assert page1[0].last_modified > page2[0].last_modified

        # Offset beyond available returns empty
        page_empty = list_sessions(directory=project_path, offset=100, include_worktrees=False)
        assert len(page_empty) == 0

    def test_filters_sidechain_sessions(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_filters_sidechain_sessions
        """Sessions with isSidechain:true are filtered out."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        _make_session_file(project_dir, first_prompt="normal")
        _make_session_file(project_dir, first_prompt="sidechain", is_sidechain=True)

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].first_prompt == "normal"

    def test_filters_empty_sessions(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_filters_empty_sessions
        """Sessions with no summary/title/prompt are filtered (no '(session)' placeholder)."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        # A session with only meta messages → no first_prompt, no summary
        _make_session_file(project_dir, first_prompt="ignored meta", is_meta_only=True)
        _make_session_file(project_dir, first_prompt="real content")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].first_prompt == "real content"

    def test_filters_non_uuid_filenames(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_filters_non_uuid_filenames
        """Non-UUID .jsonl files are ignored."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        # Create a non-UUID .jsonl file
        (project_dir / "not-a-uuid.jsonl").write_text(
            json.dumps({"type": "user", "message": {"content": "x"}}) + "\n"
        )
        _make_session_file(project_dir, first_prompt="valid session")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].first_prompt == "valid session"

    def test_ignores_non_jsonl_files(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_ignores_non_jsonl_files
        """Files not ending in .jsonl are ignored."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        (project_dir / "README.md").write_text("not a session")
        _make_session_file(project_dir, first_prompt="session")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1

    def test_list_all_sessions(self, claude_config_dir: Path):
        # port of test_sessions.py::TestListSessions::test_list_all_sessions
        """When no directory is given, lists across all projects."""
        proj1 = _make_project_dir(claude_config_dir, "/some/path/one")
        proj2 = _make_project_dir(claude_config_dir, "/some/path/two")

        _make_session_file(proj1, first_prompt="from proj1", mtime=1000.0)
        _make_session_file(proj2, first_prompt="from proj2", mtime=2000.0)

        sessions = list_sessions()
        assert len(sessions) == 2
        # Sorted newest first
        assert sessions[0].first_prompt == "from proj2"
        assert sessions[1].first_prompt == "from proj1"

    def test_list_all_sessions_dedupes(self, claude_config_dir: Path):
        # port of test_sessions.py::TestListSessions::test_list_all_sessions_dedupes
        """Duplicate session IDs across projects keep the newest."""
        proj1 = _make_project_dir(claude_config_dir, "/path/one")
        proj2 = _make_project_dir(claude_config_dir, "/path/two")

        shared_sid = str(uuid.uuid4())
        _make_session_file(proj1, session_id=shared_sid, first_prompt="older", mtime=1000.0)
        _make_session_file(proj2, session_id=shared_sid, first_prompt="newer", mtime=2000.0)

        sessions = list_sessions()
        assert len(sessions) == 1
        assert sessions[0].first_prompt == "newer"
        assert sessions[0].last_modified == 2_000_000

    def test_nonexistent_project_dir(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_nonexistent_project_dir
        """Returns empty list when project has no session directory."""
        project_path = str(tmp_path / "never-used")
        Path(project_path).mkdir(parents=True)
        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert sessions == []

    def test_empty_file_filtered(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_empty_file_filtered
        """Empty session files are filtered out."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        sid = str(uuid.uuid4())
        (project_dir / f"{sid}.jsonl").write_text("")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert sessions == []

    def test_include_worktrees_disabled(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_include_worktrees_disabled
        """include_worktrees=False only scans the given directory."""
        # Create a real directory so realpath works
        project_path = str(tmp_path / "main-proj")
        Path(project_path).mkdir(parents=True)
        canonical = os.path.realpath(project_path)

        main_dir = _make_project_dir(claude_config_dir, canonical)
        _make_session_file(main_dir, first_prompt="main session")

        # Create another "worktree-like" project dir that should NOT be scanned
        other_dir = _make_project_dir(claude_config_dir, canonical + "-worktree")
        _make_session_file(other_dir, first_prompt="worktree session")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].first_prompt == "main session"

    def test_limit_zero_returns_all(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_limit_zero_returns_all
        """limit=0 or negative returns all sessions (TS: limit > 0 check)."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        for i in range(3):
            _make_session_file(project_dir, first_prompt=f"p{i}")

        sessions = list_sessions(directory=project_path, limit=0, include_worktrees=False)
        assert len(sessions) == 3

    def test_cwd_from_head_fallback_to_project_path(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_cwd_from_head_fallback_to_project_path
        """cwd falls back to project path when not in head."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        canonical = os.path.realpath(project_path)
        project_dir = _make_project_dir(claude_config_dir, canonical)

        # Session without cwd field
        _make_session_file(project_dir, first_prompt="no cwd field")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].cwd == canonical

    def test_git_branch_from_tail_preferred(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSessions::test_git_branch_from_tail_preferred
        """gitBranch from tail is preferred over head."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))

        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"

        lines = [
            json.dumps(
                {
                    "type": "user",
                    "message": {"content": "hello"},
                    "gitBranch": "old-branch",
                }
            ),
            json.dumps({"type": "summary", "gitBranch": "new-branch"}),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].git_branch == "new-branch"


class TestSDKSessionInfoTypeSessions:
    """Tests for the SDKSessionInfo dataclass."""

    def test_creation_required_fields(self):
        # port of test_sessions.py::TestSDKSessionInfoType::test_creation_required_fields
        info = SDKSessionInfo(
            session_id="abc",
            summary="test",
            last_modified=1000,
            file_size=42,
        )
        assert info.session_id == "abc"
        assert info.summary == "test"
        assert info.last_modified == 1000
        assert info.file_size == 42
        assert info.custom_title is None
        assert info.first_prompt is None
        assert info.git_branch is None
        assert info.cwd is None

    def test_creation_all_fields(self):
        # port of test_sessions.py::TestSDKSessionInfoType::test_creation_all_fields
        info = SDKSessionInfo(
            session_id="abc",
            summary="test",
            last_modified=1000,
            file_size=42,
            custom_title="title",
            first_prompt="prompt",
            git_branch="main",
            cwd="/foo",
        )
        assert info.custom_title == "title"
        assert info.first_prompt == "prompt"
        assert info.git_branch == "main"
        assert info.cwd == "/foo"


# ---------------------------------------------------------------------------
# get_session_messages() helpers
# ---------------------------------------------------------------------------


def _make_transcript_entry(
    entry_type: str,
    entry_uuid: str,
    parent_uuid: str | None,
    session_id: str,
    content: str | list | None = None,
    **extras,
) -> dict:
    """Builds a transcript entry dict matching the CLI's JSONL format."""
    entry: dict = {
        "type": entry_type,
        "uuid": entry_uuid,
        "parentUuid": parent_uuid,
        "sessionId": session_id,
    }
    if content is not None:
        role = entry_type if entry_type in ("user", "assistant") else "user"
        entry["message"] = {"role": role, "content": content}
    entry.update(extras)
    return entry


def _write_transcript(project_dir: Path, session_id: str, entries: list[dict]) -> Path:
    """Writes a JSONL transcript file."""
    file_path = project_dir / f"{session_id}.jsonl"
    lines = [json.dumps(e) for e in entries]
    file_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file_path


# ---------------------------------------------------------------------------
# get_session_messages() tests
# ---------------------------------------------------------------------------


class TestGetSessionMessagesSessions:
    """Tests for get_session_messages()."""

    def test_invalid_session_id(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_invalid_session_id
        """Non-UUID session_id returns empty list."""
        assert get_session_messages("not-a-uuid") == []
        assert get_session_messages("") == []

    def test_nonexistent_session(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_nonexistent_session
        """Session file not found returns empty list."""
        sid = str(uuid.uuid4())
        assert get_session_messages(sid) == []

    def test_no_config_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        # port of test_sessions.py::TestGetSessionMessages::test_no_config_dir
        """Missing config dir returns empty list."""
        monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "nonexistent"))
        sid = str(uuid.uuid4())
        assert get_session_messages(sid) == []

    def test_simple_chain(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_simple_chain
        """Basic user → assistant → user → assistant chain."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())
        u2 = str(uuid.uuid4())
        a2 = str(uuid.uuid4())

        entries = [
            _make_transcript_entry("user", u1, None, sid, content="hello"),
            _make_transcript_entry("assistant", a1, u1, sid, content="hi!"),
            _make_transcript_entry("user", u2, a1, sid, content="thanks"),
            _make_transcript_entry("assistant", a2, u2, sid, content="welcome"),
        ]
        _write_transcript(project_dir, sid, entries)

        messages = get_session_messages(sid, directory=project_path)
        assert len(messages) == 4

        # Chronological order: root → leaf
        assert messages[0].type == "user"
        assert messages[0].uuid == u1
        assert messages[0].session_id == sid
        assert messages[0].message == {"role": "user", "content": "hello"}
        assert messages[0].parent_tool_use_id is None

        assert messages[1].type == "assistant"
        assert messages[1].uuid == a1
        assert messages[1].message == {"role": "assistant", "content": "hi!"}

        assert messages[2].type == "user"
        assert messages[2].uuid == u2

        assert messages[3].type == "assistant"
        assert messages[3].uuid == a2

        # All SessionMessage instances
        assert all(isinstance(m, SessionMessage) for m in messages)

    def test_filters_meta_messages(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_filters_meta_messages
        """isMeta entries in the chain are filtered from output."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        u1 = str(uuid.uuid4())
        meta = str(uuid.uuid4())
        a1 = str(uuid.uuid4())

        entries = [
            _make_transcript_entry("user", u1, None, sid, content="hello"),
            # Meta user message in the chain — should be walked through but
            # filtered from output
            _make_transcript_entry("user", meta, u1, sid, content="meta", isMeta=True),
            _make_transcript_entry("assistant", a1, meta, sid, content="hi"),
        ]
        _write_transcript(project_dir, sid, entries)

        messages = get_session_messages(sid, directory=project_path)
        # Only u1 and a1 visible (meta filtered out)
        assert len(messages) == 2
        assert messages[0].uuid == u1
        assert messages[1].uuid == a1

    def test_filters_non_user_assistant_from_chain(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_filters_non_user_assistant_from_chain
        """Progress/system entries in chain are filtered from output."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        u1 = str(uuid.uuid4())
        prog = str(uuid.uuid4())
        a1 = str(uuid.uuid4())

        entries = [
            _make_transcript_entry("user", u1, None, sid, content="hello"),
            # Progress entry in the chain
            _make_transcript_entry("progress", prog, u1, sid),
            _make_transcript_entry("assistant", a1, prog, sid, content="hi"),
        ]
        _write_transcript(project_dir, sid, entries)

        messages = get_session_messages(sid, directory=project_path)
        # progress is walked through the chain but filtered from output
        assert len(messages) == 2
        assert messages[0].uuid == u1
        assert messages[1].uuid == a1

    def test_keeps_compact_summary(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_keeps_compact_summary
        """isCompactSummary messages are kept (they represent compacted content)."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())

        entries = [
            _make_transcript_entry(
                "user",
                u1,
                None,
                sid,
                content="compact summary",
                isCompactSummary=True,
            ),
            _make_transcript_entry("assistant", a1, u1, sid, content="hi"),
        ]
        _write_transcript(project_dir, sid, entries)

        messages = get_session_messages(sid, directory=project_path)
        assert len(messages) == 2
        assert messages[0].uuid == u1  # compact summary kept

    def test_limit_and_offset(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_limit_and_offset
        """Limit and offset pagination."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        # Build a chain of 6 messages: u→a→u→a→u→a
        uuids = [str(uuid.uuid4()) for _ in range(6)]
        entries = []
        for i, uid in enumerate(uuids):
            parent = uuids[i - 1] if i > 0 else None
            entry_type = "user" if i % 2 == 0 else "assistant"
            entries.append(_make_transcript_entry(entry_type, uid, parent, sid, content=f"m{i}"))
        _write_transcript(project_dir, sid, entries)

        # No limit/offset
        all_msgs = get_session_messages(sid, directory=project_path)
        assert len(all_msgs) == 6

        # limit=2
        page = get_session_messages(sid, directory=project_path, limit=2)
        assert len(page) == 2
        assert page[0].uuid == uuids[0]
        assert page[1].uuid == uuids[1]

        # offset=2, limit=2
        page = get_session_messages(sid, directory=project_path, limit=2, offset=2)
        assert len(page) == 2
        assert page[0].uuid == uuids[2]
        assert page[1].uuid == uuids[3]

        # offset only (no limit)
        page = get_session_messages(sid, directory=project_path, offset=4)
        assert len(page) == 2
        assert page[0].uuid == uuids[4]
        assert page[1].uuid == uuids[5]

        # limit=0 returns all (TS: limit > 0 check)
        page = get_session_messages(sid, directory=project_path, limit=0)
        assert len(page) == 6

        # offset beyond end
        page = get_session_messages(sid, directory=project_path, offset=100)
        assert page == []

    def test_picks_main_chain_over_sidechain(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_picks_main_chain_over_sidechain
        """When multiple leaves exist, prefers non-sidechain main leaf."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        root = str(uuid.uuid4())
        main_leaf = str(uuid.uuid4())
        side_leaf = str(uuid.uuid4())

        entries = [
            _make_transcript_entry("user", root, None, sid, content="root"),
            # Main chain continuation
            _make_transcript_entry("assistant", main_leaf, root, sid, content="main"),
            # Sidechain branch (also from root) — should be ignored as leaf
            _make_transcript_entry(
                "assistant",
                side_leaf,
                root,
                sid,
                content="side",
                isSidechain=True,
            ),
        ]
        _write_transcript(project_dir, sid, entries)

        messages = get_session_messages(sid, directory=project_path)
        assert len(messages) == 2
        assert messages[0].uuid == root
        assert messages[1].uuid == main_leaf  # main leaf chosen, not sidechain

    def test_picks_latest_leaf_by_file_position(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_picks_latest_leaf_by_file_position
        """When multiple main leaves exist, picks the one latest in the file."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        root = str(uuid.uuid4())
        old_leaf = str(uuid.uuid4())
        new_leaf = str(uuid.uuid4())

        # Both leaves branch from root; new_leaf appears later in file
        entries = [
            _make_transcript_entry("user", root, None, sid, content="root"),
            _make_transcript_entry("assistant", old_leaf, root, sid, content="old"),
            _make_transcript_entry("assistant", new_leaf, root, sid, content="new"),
        ]
        _write_transcript(project_dir, sid, entries)

        messages = get_session_messages(sid, directory=project_path)
        assert len(messages) == 2
        assert messages[0].uuid == root
        # new_leaf has higher file position → chosen
        assert messages[1].uuid == new_leaf

    def test_terminal_non_message_walked_back(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_terminal_non_message_walked_back
        """A terminal progress entry is walked back to find user/assistant leaf."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())
        prog = str(uuid.uuid4())  # terminal progress entry

        entries = [
            _make_transcript_entry("user", u1, None, sid, content="hi"),
            _make_transcript_entry("assistant", a1, u1, sid, content="hello"),
            # Terminal entry is progress type — should walk back to a1
            _make_transcript_entry("progress", prog, a1, sid),
        ]
        _write_transcript(project_dir, sid, entries)

        messages = get_session_messages(sid, directory=project_path)
        assert len(messages) == 2
        assert messages[0].uuid == u1
        assert messages[1].uuid == a1

    def test_corrupt_lines_skipped(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_corrupt_lines_skipped
        """Corrupt JSON lines are skipped without failing."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())

        lines = [
            json.dumps(_make_transcript_entry("user", u1, None, sid, content="hi")),
            "not valid json {{{",
            "",
            json.dumps(_make_transcript_entry("assistant", a1, u1, sid, content="hello")),
        ]
        (project_dir / f"{sid}.jsonl").write_text("\n".join(lines) + "\n")

        messages = get_session_messages(sid, directory=project_path)
        assert len(messages) == 2

    def test_search_all_projects_when_no_dir(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_search_all_projects_when_no_dir
        """When no directory given, searches all project directories."""
        proj1 = _make_project_dir(claude_config_dir, "/path/one")
        proj2 = _make_project_dir(claude_config_dir, "/path/two")

        sid = str(uuid.uuid4())
        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())

        # Session lives only in proj2
        entries = [
            _make_transcript_entry("user", u1, None, sid, content="hi"),
            _make_transcript_entry("assistant", a1, u1, sid, content="hello"),
        ]
        _write_transcript(proj2, sid, entries)

        # proj1 exists but doesn't have this session
        _ = proj1

        messages = get_session_messages(sid)  # no directory
        assert len(messages) == 2
        assert messages[0].uuid == u1

    def test_cycle_detection(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_cycle_detection
        """Cyclic parentUuid references don't cause infinite loop."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())

        # a1 → u1 → a1 (cycle!)
        entries = [
            _make_transcript_entry("user", u1, a1, sid, content="hi"),
            _make_transcript_entry("assistant", a1, u1, sid, content="hello"),
        ]
        _write_transcript(project_dir, sid, entries)

        # Should terminate without hanging. Both entries are parents of
        # each other → no terminals → empty chain.
        messages = get_session_messages(sid, directory=project_path)
        # No terminals found (both are parents) → returns empty
        assert messages == []

    def test_empty_transcript_file(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_empty_transcript_file
        """Empty file returns empty list."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        (project_dir / f"{sid}.jsonl").write_text("")
        assert get_session_messages(sid, directory=project_path) == []

    def test_ignores_non_transcript_types(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionMessages::test_ignores_non_transcript_types
        """Lines with type=summary (no uuid/chain) are ignored during parsing."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())

        lines = [
            json.dumps(_make_transcript_entry("user", u1, None, sid, content="hi")),
            json.dumps({"type": "summary", "summary": "A nice chat"}),
            json.dumps(_make_transcript_entry("assistant", a1, u1, sid, content="hello")),
        ]
        (project_dir / f"{sid}.jsonl").write_text("\n".join(lines) + "\n")

        messages = get_session_messages(sid, directory=project_path)
        assert len(messages) == 2


class TestSessionMessageTypeSessions:
    """Tests for the SessionMessage dataclass."""

    def test_creation(self):
        # port of test_sessions.py::TestSessionMessageType::test_creation
        msg = SessionMessage(
            type="user",
            uuid="abc",
            session_id="sess",
            message={"role": "user", "content": "hi"},
        )
        assert msg.type == "user"
        assert msg.uuid == "abc"
        assert msg.session_id == "sess"
        assert msg.message == {"role": "user", "content": "hi"}
        assert msg.parent_tool_use_id is None
        assert msg.parent_agent_id is None

    def test_parent_ids(self):
        # port of test_sessions.py::TestSessionMessageType::test_parent_ids
        msg = SessionMessage(
            type="assistant",
            uuid="abc",
            session_id="sess",
            message=None,
            parent_tool_use_id="toolu_1",
            parent_agent_id="agent-1",
        )
        assert msg.parent_tool_use_id == "toolu_1"
        assert msg.parent_agent_id == "agent-1"


# ---------------------------------------------------------------------------
# Tag extraction tests (Branch A additions)
# ---------------------------------------------------------------------------


class TestTagExtractionSessions:
    """Tests for tag field extraction in SDKSessionInfo."""

    def test_tag_extracted_from_tail(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestTagExtraction::test_tag_extracted_from_tail
        """Tag is extracted from the last {type:'tag'} entry in the tail."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        lines = [
            json.dumps({"type": "user", "message": {"content": "hello"}}),
            json.dumps({"type": "tag", "tag": "my-tag", "sessionId": sid}, **_COMPACT),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].tag == "my-tag"

    def test_tag_last_wins(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestTagExtraction::test_tag_last_wins
        """When multiple tag entries exist, the last one wins."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        lines = [
            json.dumps({"type": "user", "message": {"content": "hello"}}),
            json.dumps({"type": "tag", "tag": "first-tag", "sessionId": sid}, **_COMPACT),
            json.dumps({"type": "tag", "tag": "second-tag", "sessionId": sid}, **_COMPACT),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].tag == "second-tag"

    def test_tag_empty_string_is_none(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestTagExtraction::test_tag_empty_string_is_none
        """Empty-string tag (clear marker) resolves to None via 'or None'."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        lines = [
            json.dumps({"type": "user", "message": {"content": "hello"}}),
            json.dumps({"type": "tag", "tag": "old-tag", "sessionId": sid}, **_COMPACT),
            json.dumps({"type": "tag", "tag": "", "sessionId": sid}, **_COMPACT),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].tag is None

    def test_tag_absent(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestTagExtraction::test_tag_absent
        """Sessions without a tag entry have tag=None."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        _make_session_file(project_dir, first_prompt="hello")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].tag is None

    def test_tag_ignores_tool_use_inputs(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestTagExtraction::test_tag_ignores_tool_use_inputs
        """Tag extraction is scoped to {type:'tag'} lines — ignores "tag" fields
        in tool_use inputs (git tag, Docker tags, cloud resource tags).

        Mirrors TS listSessionsImpl.ts:132 / sessionStorage.ts:629.
        """
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        lines = [
            json.dumps({"type": "user", "message": {"content": "tag this v1.0"}}),
            json.dumps({"type": "tag", "tag": "real-tag", "sessionId": sid}, **_COMPACT),
            # A tool_use entry with a "tag" key in its input — must NOT match.
            json.dumps(
                {
                    "type": "assistant",
                    "message": {
                        "content": [
                            {
                                "type": "tool_use",
                                "name": "mcp__docker__build",
                                "input": {"tag": "myapp:v2", "context": "."},
                            }
                        ],
                    },
                }
            ),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].tag == "real-tag"  # NOT "myapp:v2"

    def test_tag_none_when_only_tool_use_tag(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestTagExtraction::test_tag_none_when_only_tool_use_tag
        """Session with no {type:'tag'} entry but tool_use input has tag — returns None."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        lines = [
            json.dumps({"type": "user", "message": {"content": "build docker"}}),
            json.dumps(
                {
                    "type": "assistant",
                    "message": {
                        "content": [
                            {
                                "type": "tool_use",
                                "input": {"tag": "prod"},
                            }
                        ],
                    },
                }
            ),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].tag is None  # NOT "prod"


class TestCreatedAtExtractionSessions:
    """Tests for created_at field extraction from first entry timestamp."""

    def test_created_at_from_iso_timestamp(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestCreatedAtExtraction::test_created_at_from_iso_timestamp
        """created_at is parsed from ISO timestamp in first entry (epoch ms)."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        # 2026-01-15T10:30:00.000Z → epoch 1768473000000 ms
        lines = [
            json.dumps(
                {
                    "type": "user",
                    "message": {"content": "hello"},
                    "timestamp": "2026-01-15T10:30:00.000Z",
                }
            ),
            json.dumps(
                {
                    "type": "assistant",
                    "message": {"content": "hi"},
                    "timestamp": "2026-01-15T10:35:00.000Z",
                }
            ),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        # 2026-01-15T10:30:00Z = 1768473000 seconds = 1768473000000 ms
        assert sessions[0].created_at == 1768473000000
        assert isinstance(sessions[0].created_at, int)

    def test_created_at_leq_last_modified(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestCreatedAtExtraction::test_created_at_leq_last_modified
        """created_at <= last_modified (creation precedes mtime)."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        lines = [
            json.dumps(
                {
                    "type": "user",
                    "message": {"content": "hello"},
                    "timestamp": "2026-01-01T00:00:00.000Z",
                }
            ),
        ]
        file_path.write_text("\n".join(lines) + "\n")
        # Set mtime to Feb 2026 (well after the Jan timestamp)
        os.utime(file_path, (1769904000, 1769904000))  # 2026-02-01 UTC

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].created_at is not None
        assert sessions[0].created_at <= sessions[0].last_modified

    def test_created_at_when_first_line_lacks_timestamp(
        self, claude_config_dir: Path, tmp_path: Path
    ):
        # port of test_sessions.py::TestCreatedAtExtraction::test_created_at_when_first_line_lacks_timestamp
        """created_at is found in a later head record when the first line is a
        metadata-only entry (e.g. permission-mode) with no timestamp field.

        Regression test for #904.
        """
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        lines = [
            json.dumps({"type": "permission-mode", "permissionMode": "acceptEdits"}),
            json.dumps(
                {
                    "type": "user",
                    "message": {"content": "hello"},
                    "timestamp": "2026-01-15T10:30:00.000Z",
                }
            ),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].created_at == 1768473000000

    def test_created_at_none_when_missing(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestCreatedAtExtraction::test_created_at_none_when_missing
        """created_at is None when no head entry has a timestamp field."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        # _make_session_file doesn't add a timestamp field
        _make_session_file(project_dir, first_prompt="no timestamp")

        sessions = list_sessions(directory=project_path, include_worktrees=False)
        assert len(sessions) == 1
        assert sessions[0].created_at is None

    def test_sdksessioninfo_created_at_default(self):
        # port of test_sessions.py::TestCreatedAtExtraction::test_sdksessioninfo_created_at_default
        """SDKSessionInfo has created_at defaulting to None."""
        info = SDKSessionInfo(
            session_id="abc",
            summary="test",
            last_modified=1000,
            file_size=42,
        )
        assert info.created_at is None


# ---------------------------------------------------------------------------
# get_session_info() tests
# ---------------------------------------------------------------------------


class TestGetSessionInfoSessions:
    """Tests for the get_session_info() single-session lookup."""

    def test_invalid_session_id(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSessionInfo::test_invalid_session_id
        """Non-UUID session_id returns None."""
        assert get_session_info("not-a-uuid") is None
        assert get_session_info("") is None

    def test_nonexistent_session(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSessionInfo::test_nonexistent_session
        """Session file not found returns None."""
        sid = str(uuid.uuid4())
        assert get_session_info(sid) is None

    def test_no_config_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        # port of test_sessions.py::TestGetSessionInfo::test_no_config_dir
        """Missing config dir returns None."""
        monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "nonexistent"))
        sid = str(uuid.uuid4())
        assert get_session_info(sid) is None

    def test_found_with_directory(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionInfo::test_found_with_directory
        """Session found in a specific project directory."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid, _ = _make_session_file(project_dir, first_prompt="hello", git_branch="main")

        info = get_session_info(sid, directory=project_path)
        assert info is not None
        assert info.session_id == sid
        assert info.summary == "hello"
        assert info.git_branch == "main"

    def test_found_without_directory(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSessionInfo::test_found_without_directory
        """Session found by searching all project directories."""
        project_dir = _make_project_dir(claude_config_dir, "/some/project")
        sid, _ = _make_session_file(project_dir, first_prompt="search all")

        info = get_session_info(sid)
        assert info is not None
        assert info.session_id == sid
        assert info.summary == "search all"

    def test_returns_none_for_sidechain(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionInfo::test_returns_none_for_sidechain
        """Sidechain sessions return None (filtered by parse helper)."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid, _ = _make_session_file(project_dir, first_prompt="sidechain", is_sidechain=True)

        assert get_session_info(sid, directory=project_path) is None

    def test_directory_not_containing_session(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionInfo::test_directory_not_containing_session
        """Returns None when directory provided but session not in it."""
        project_a = str(tmp_path / "proj-a")
        project_b = str(tmp_path / "proj-b")
        Path(project_a).mkdir(parents=True)
        Path(project_b).mkdir(parents=True)
        dir_a = _make_project_dir(claude_config_dir, os.path.realpath(project_a))
        _make_project_dir(claude_config_dir, os.path.realpath(project_b))
        sid, _ = _make_session_file(dir_a, first_prompt="in A only")

        # Session exists in A but we look in B — should return None
        # (no worktree relationship between them)
        assert get_session_info(sid, directory=project_b) is None
        # But searching all projects finds it
        assert get_session_info(sid) is not None

    def test_includes_tag(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSessionInfo::test_includes_tag
        """get_session_info includes the new tag field."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid = str(uuid.uuid4())
        file_path = project_dir / f"{sid}.jsonl"
        lines = [
            json.dumps({"type": "user", "message": {"content": "hello"}}),
            json.dumps({"type": "tag", "tag": "urgent", "sessionId": sid}, **_COMPACT),
        ]
        file_path.write_text("\n".join(lines) + "\n")

        info = get_session_info(sid, directory=project_path)
        assert info is not None
        assert info.tag == "urgent"

    def test_sdksessioninfo_new_fields_defaults(self):
        # port of test_sessions.py::TestGetSessionInfo::test_sdksessioninfo_new_fields_defaults
        """SDKSessionInfo has tag defaulting to None."""
        info = SDKSessionInfo(
            session_id="abc",
            summary="test",
            last_modified=1000,
            file_size=42,
        )
        assert info.tag is None


# ---------------------------------------------------------------------------
# list_subagents() / get_subagent_messages() helpers
# ---------------------------------------------------------------------------


def _make_session_with_subagents(
    config_dir: Path,
    project_path: str,
    agent_ids: list[str] | None = None,
) -> tuple[str, Path]:
    """Creates a session with a subagents directory.

    Returns (session_id, subagents_dir).
    """
    project_dir = _make_project_dir(config_dir, os.path.realpath(project_path))
    sid, _ = _make_session_file(project_dir)
    subagents_dir = project_dir / sid / "subagents"
    subagents_dir.mkdir(parents=True)
    for agent_id in agent_ids or []:
        (subagents_dir / f"agent-{agent_id}.jsonl").write_text(
            json.dumps({"type": "user", "uuid": "u", "parentUuid": None}) + "\n"
        )
    return sid, subagents_dir


# ---------------------------------------------------------------------------
# list_subagents() tests
# ---------------------------------------------------------------------------


class TestListSubagentsSessions:
    """Tests for list_subagents()."""

    def test_invalid_session_id(self, claude_config_dir: Path):
        # port of test_sessions.py::TestListSubagents::test_invalid_session_id
        """Non-UUID session_id returns empty list."""
        assert list_subagents("not-a-uuid") == []
        assert list_subagents("") == []

    def test_nonexistent_session(self, claude_config_dir: Path):
        # port of test_sessions.py::TestListSubagents::test_nonexistent_session
        """Session file not found returns empty list."""
        sid = str(uuid.uuid4())
        assert list_subagents(sid) == []

    def test_session_exists_no_subagents_dir(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSubagents::test_session_exists_no_subagents_dir
        """Session exists but has no subagents directory → empty list."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        project_dir = _make_project_dir(claude_config_dir, os.path.realpath(project_path))
        sid, _ = _make_session_file(project_dir)

        assert list_subagents(sid, directory=project_path) == []

    def test_empty_subagents_dir(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSubagents::test_empty_subagents_dir
        """Subagents directory exists but is empty → empty list."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, _ = _make_session_with_subagents(claude_config_dir, project_path, agent_ids=[])

        assert list_subagents(sid, directory=project_path) == []

    def test_happy_path(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSubagents::test_happy_path
        """Returns agent IDs from agent-*.jsonl filenames."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, _ = _make_session_with_subagents(
            claude_config_dir, project_path, agent_ids=["abc123", "def456"]
        )

        result = list_subagents(sid, directory=project_path)
        assert sorted(result) == ["abc123", "def456"]

    def test_ignores_non_agent_files(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSubagents::test_ignores_non_agent_files
        """Non-matching files (.meta.json, other JSONL) are ignored."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(
            claude_config_dir, project_path, agent_ids=["keep"]
        )
        (subagents_dir / "agent-keep.meta.json").write_text("{}")
        (subagents_dir / "other.jsonl").write_text("{}\n")
        (subagents_dir / "agent-noext").write_text("{}")

        result = list_subagents(sid, directory=project_path)
        assert result == ["keep"]

    def test_recurses_into_subdirectories(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestListSubagents::test_recurses_into_subdirectories
        """Agent files in nested subdirectories are found."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(
            claude_config_dir, project_path, agent_ids=["top"]
        )
        nested = subagents_dir / "workflows" / "run-1"
        nested.mkdir(parents=True)
        (nested / "agent-nested.jsonl").write_text("{}\n")

        result = list_subagents(sid, directory=project_path)
        assert sorted(result) == ["nested", "top"]

    def test_searches_all_projects_without_directory(self, claude_config_dir: Path):
        # port of test_sessions.py::TestListSubagents::test_searches_all_projects_without_directory
        """When directory is omitted, all project directories are searched."""
        project_dir = _make_project_dir(claude_config_dir, "/some/project")
        sid, _ = _make_session_file(project_dir)
        subagents_dir = project_dir / sid / "subagents"
        subagents_dir.mkdir(parents=True)
        (subagents_dir / "agent-x.jsonl").write_text("{}\n")

        assert list_subagents(sid) == ["x"]


# ---------------------------------------------------------------------------
# get_subagent_messages() tests
# ---------------------------------------------------------------------------


class TestGetSubagentMessagesSessions:
    """Tests for get_subagent_messages()."""

    def test_invalid_session_id(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_invalid_session_id
        """Non-UUID session_id returns empty list."""
        assert get_subagent_messages("not-a-uuid", "abc") == []
        assert get_subagent_messages("", "abc") == []

    def test_empty_agent_id(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_empty_agent_id
        """Empty agent_id returns empty list."""
        sid = str(uuid.uuid4())
        assert get_subagent_messages(sid, "") == []

    def test_nonexistent_session(self, claude_config_dir: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_nonexistent_session
        """Session file not found returns empty list."""
        sid = str(uuid.uuid4())
        assert get_subagent_messages(sid, "abc") == []

    def test_nonexistent_agent(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_nonexistent_agent
        """Agent file not found returns empty list."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, _ = _make_session_with_subagents(claude_config_dir, project_path, agent_ids=["other"])

        assert get_subagent_messages(sid, "missing", directory=project_path) == []

    def test_simple_chain(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_simple_chain
        """Basic user → assistant chain from a subagent transcript."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())
        u2 = str(uuid.uuid4())
        a2 = str(uuid.uuid4())
        entries = [
            _make_transcript_entry("user", u1, None, sid, content="task"),
            _make_transcript_entry("assistant", a1, u1, sid, content="working"),
            _make_transcript_entry("user", u2, a1, sid, content="continue"),
            _make_transcript_entry("assistant", a2, u2, sid, content="done"),
        ]
        agent_file = subagents_dir / "agent-abc.jsonl"
        agent_file.write_text("\n".join(json.dumps(e) for e in entries) + "\n")

        messages = get_subagent_messages(sid, "abc", directory=project_path)
        assert len(messages) == 4
        assert all(isinstance(m, SessionMessage) for m in messages)
        assert [m.uuid for m in messages] == [u1, a1, u2, a2]
        assert messages[0].type == "user"
        assert messages[0].session_id == sid
        assert messages[0].message == {"role": "user", "content": "task"}
        assert messages[0].parent_tool_use_id is None
        assert messages[3].type == "assistant"

    def test_finds_agent_in_nested_subdirectory(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_finds_agent_in_nested_subdirectory
        """Agent file in a nested subdirectory is found by ID."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)
        nested = subagents_dir / "workflows" / "run-1"
        nested.mkdir(parents=True)

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())
        entries = [
            _make_transcript_entry("user", u1, None, sid, content="hi"),
            _make_transcript_entry("assistant", a1, u1, sid, content="hello"),
        ]
        (nested / "agent-deep.jsonl").write_text("\n".join(json.dumps(e) for e in entries) + "\n")

        messages = get_subagent_messages(sid, "deep", directory=project_path)
        assert len(messages) == 2
        assert messages[0].uuid == u1
        assert messages[1].uuid == a1

    def _write_agent(
        self,
        subagents_dir: Path,
        agent_id: str,
        sid: str,
        meta: dict | str | None,
    ) -> None:
        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())
        entries = [
            _make_transcript_entry("user", u1, None, sid, content="hi"),
            _make_transcript_entry("assistant", a1, u1, sid, content="hello"),
        ]
        (subagents_dir / f"agent-{agent_id}.jsonl").write_text(
            "\n".join(json.dumps(e) for e in entries) + "\n", encoding="utf-8"
        )
        if meta is not None:
            (subagents_dir / f"agent-{agent_id}.meta.json").write_text(
                meta if isinstance(meta, str) else json.dumps(meta),
                encoding="utf-8",
            )

    def test_parent_ids_recovered_from_meta_sidecar(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_parent_ids_recovered_from_meta_sidecar
        """toolUseId / parentAgentId from agent-<id>.meta.json are stamped on
        every returned message as parent_tool_use_id / parent_agent_id."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)
        self._write_agent(
            subagents_dir,
            "abc",
            sid,
            {
                "agentType": "general-purpose",
                "toolUseId": "toolu_01ABC",
                "parentAgentId": "a-parent",
                "spawnDepth": 2,
            },
        )

        messages = get_subagent_messages(sid, "abc", directory=project_path)
        assert len(messages) == 2
        assert all(m.parent_tool_use_id == "toolu_01ABC" for m in messages)
        assert all(m.parent_agent_id == "a-parent" for m in messages)

    def test_parent_ids_from_nested_meta_sidecar(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_parent_ids_from_nested_meta_sidecar
        """The sidecar is read from beside the transcript even when nested."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)
        nested = subagents_dir / "workflows" / "run-1"
        nested.mkdir(parents=True)
        self._write_agent(nested, "deep", sid, {"toolUseId": "toolu_nested"})

        messages = get_subagent_messages(sid, "deep", directory=project_path)
        assert [m.parent_tool_use_id for m in messages] == ["toolu_nested"] * 2
        assert all(m.parent_agent_id is None for m in messages)

    @pytest.mark.parametrize(
        "meta",
        [
            None,  # no sidecar
            "not json {",  # unreadable sidecar
            {"agentType": "general-purpose"},  # sidecar without ids
            {"toolUseId": 42, "parentAgentId": ["x"]},  # wrong types
        ],
    )
    def test_parent_ids_none_when_sidecar_missing_or_unusable(
        self, claude_config_dir: Path, tmp_path: Path, meta
    ):
        # port of test_sessions.py::TestGetSubagentMessages::test_parent_ids_none_when_sidecar_missing_or_unusable
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)
        self._write_agent(subagents_dir, "x", sid, meta)

        messages = get_subagent_messages(sid, "x", directory=project_path)
        assert len(messages) == 2
        assert all(m.parent_tool_use_id is None for m in messages)
        assert all(m.parent_agent_id is None for m in messages)

    def test_unreadable_sidecar_degrades_to_none(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_unreadable_sidecar_degrades_to_none
        """A sidecar that exists but cannot be read (here: a directory) must
        not make the best-effort read helper raise."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)
        self._write_agent(subagents_dir, "x", sid, None)
        (subagents_dir / "agent-x.meta.json").mkdir()

        messages = get_subagent_messages(sid, "x", directory=project_path)
        assert len(messages) == 2
        assert all(m.parent_tool_use_id is None for m in messages)
        assert all(m.parent_agent_id is None for m in messages)

    def test_skips_corrupt_lines(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_skips_corrupt_lines
        """Corrupt JSONL lines are skipped."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)

        u1 = str(uuid.uuid4())
        a1 = str(uuid.uuid4())
        lines = [
            json.dumps(_make_transcript_entry("user", u1, None, sid, content="hi")),
            "not valid json {",
            "",
            json.dumps(_make_transcript_entry("assistant", a1, u1, sid, content="ok")),
        ]
        (subagents_dir / "agent-x.jsonl").write_text("\n".join(lines) + "\n")

        messages = get_subagent_messages(sid, "x", directory=project_path)
        assert [m.uuid for m in messages] == [u1, a1]

    def test_limit_and_offset(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_limit_and_offset
        """Limit and offset pagination."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)

        uuids = [str(uuid.uuid4()) for _ in range(6)]
        entries = []
        for i, uid in enumerate(uuids):
            parent = uuids[i - 1] if i > 0 else None
            entry_type = "user" if i % 2 == 0 else "assistant"
            entries.append(_make_transcript_entry(entry_type, uid, parent, sid, content=f"m{i}"))
        (subagents_dir / "agent-p.jsonl").write_text(
            "\n".join(json.dumps(e) for e in entries) + "\n"
        )

        all_msgs = get_subagent_messages(sid, "p", directory=project_path)
        assert len(all_msgs) == 6

        page = get_subagent_messages(sid, "p", directory=project_path, limit=2)
        assert [m.uuid for m in page] == uuids[:2]

        page = get_subagent_messages(sid, "p", directory=project_path, limit=2, offset=2)
        assert [m.uuid for m in page] == uuids[2:4]

        page = get_subagent_messages(sid, "p", directory=project_path, offset=4)
        assert [m.uuid for m in page] == uuids[4:]

        page = get_subagent_messages(sid, "p", directory=project_path, limit=0)
        assert len(page) == 6

    def test_empty_agent_file(self, claude_config_dir: Path, tmp_path: Path):
        # port of test_sessions.py::TestGetSubagentMessages::test_empty_agent_file
        """Empty agent transcript file returns empty list."""
        project_path = str(tmp_path / "proj")
        Path(project_path).mkdir(parents=True)
        sid, subagents_dir = _make_session_with_subagents(claude_config_dir, project_path)
        (subagents_dir / "agent-empty.jsonl").write_text("")

        assert get_subagent_messages(sid, "empty", directory=project_path) == []
