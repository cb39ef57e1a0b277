"""Synthetic CLI transcripts for the session-helper tests (shape copied from real CLI output)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from trio_claude._sessions._paths import canonicalize_path, sanitize_path

_UNSET: Any = object()


def project_dir(config_dir: Path, project: str | os.PathLike[str]) -> Path:
    return config_dir / "projects" / sanitize_path(canonicalize_path(project))


class Transcript:
    """Builds a transcript line by line; chain entries link to the previous one by default."""

    def __init__(self, session_id: str | None = None, cwd: str = "/srv/proj") -> None:
        self.session_id = session_id or str(uuid.uuid4())
        self.cwd = cwd
        self.lines: list[dict[str, Any]] = []
        self.last: str | None = None
        self._clock = datetime(2025, 1, 1, tzinfo=timezone.utc)

    def _timestamp(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def chain(self, kind: str, *, parent: Any = _UNSET, **fields: Any) -> str:
        """A chain entry (user/assistant/attachment/progress/system); returns its uuid."""
        entry_uuid = fields.pop("uuid", None) or str(uuid.uuid4())
        entry = {
            "parentUuid": self.last if parent is _UNSET else parent,
            "isSidechain": False,
            "type": kind,
            "uuid": entry_uuid,
            "timestamp": self._timestamp(),
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": "2.1.329",
            "gitBranch": "main",
            **fields,
        }
        self.lines.append(entry)
        self.last = entry_uuid
        return entry_uuid

    def user(self, content: Any, **fields: Any) -> str:
        return self.chain("user", message={"role": "user", "content": content}, **fields)

    def assistant(self, text: str, **fields: Any) -> str:
        message = {
            "id": f"msg_{uuid.uuid4().hex[:8]}",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
        }
        return self.chain("assistant", message=message, **fields)

    def meta(self, kind: str, **fields: Any) -> None:
        """A metadata line (no uuid), ``type`` first as the CLI writes it."""
        self.lines.append({"type": kind, **fields, "sessionId": self.session_id})

    def text(self) -> str:
        return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in self.lines)

    def write(self, config_dir: Path, project: str | os.PathLike[str]) -> Path:
        directory = project_dir(config_dir, project)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.session_id}.jsonl"
        path.write_text(self.text(), encoding="utf-8")
        return path


def two_turn(session_id: str | None = None, cwd: str = "/srv/proj") -> Transcript:
    """A conversation like a real two-turn run: queue ops, attachments, last-prompt lines."""
    t = Transcript(session_id, cwd)
    t.meta("queue-operation", operation="enqueue", content="one")
    t.user("one", entrypoint="sdk-py")
    t.chain("attachment", attachment={"type": "environment"})
    t.assistant("a")
    t.meta("last-prompt", lastPrompt="one")
    t.user("two")
    t.assistant("b")
    t.meta("last-prompt", lastPrompt="two")
    return t
