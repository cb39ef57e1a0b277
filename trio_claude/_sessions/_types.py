"""Typed results and errors of the session helpers."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .._dataclass_compat import dataclass_compatible
from .._errors import ClaudeSDKError

__all__ = [
    "ForkSessionResult",
    "SDKSessionInfo",
    "SessionMessage",
    "SessionNotFoundError",
    "SessionValueError",
]


class SessionNotFoundError(ClaudeSDKError, FileNotFoundError):
    """No transcript exists for the session (or the subagent) that was asked for.

    A subclass of both :class:`~trio_claude.ClaudeSDKError` and the built-in
    :class:`FileNotFoundError`, which is what the official SDK raises, so ``except
    FileNotFoundError`` written against it keeps working.

    Attributes:
        session_id: The session that was looked for (``""`` when none was named: a
            ``continue_conversation`` that found no session).
        directory: The project directory that was searched (``None``: every project).
    """

    def __init__(self, session_id: str, directory: str | None = None, what: str = "") -> None:
        self.session_id = session_id
        self.directory = directory
        # No id: continue_conversation found no session at all.
        message = f"Session {session_id} not found" if session_id else "No session found"
        if directory is not None:
            message += f" in the project directory for {directory}"
        if what:
            message += f" ({what})"
        super().__init__(message)


class SessionValueError(ClaudeSDKError, ValueError):
    """A session helper was called with an invalid argument, or the transcript cannot serve it.

    Raised for a session id or message id that is not a UUID, an empty title or tag, an
    ``up_to_message_id`` that is not in the transcript, a transcript with nothing to fork, a
    corrupt transcript on import, and a store that lacks a method the call needs. A subclass of
    :class:`ValueError` (what the official SDK raises) and of
    :class:`~trio_claude.ClaudeSDKError`.
    """


@dataclass_compatible
@attrs.frozen(kw_only=True)
class SDKSessionInfo:
    """One session in a listing, read from the head and tail of its transcript.

    Attributes:
        session_id: The session's UUID.
        summary: What to show for it: the custom title, else the last prompt, else the CLI's
            summary, else the first prompt.
        last_modified: Last modification, in milliseconds since the epoch (file mtime, or the
            store's mtime).
        file_size: Transcript size in bytes (``None`` for store-backed listings).
        custom_title: The title set by :func:`rename_session` (or an AI-generated title).
        first_prompt: The first meaningful user prompt (at most 200 characters).
        git_branch: The git branch recorded last.
        cwd: The session's working directory.
        tag: The tag set by :func:`tag_session`, ``None`` when cleared.
        created_at: Creation time in milliseconds since the epoch (first timestamp in the file).
    """

    session_id: str
    summary: str
    last_modified: int
    file_size: int | None = None
    custom_title: str | None = None
    first_prompt: str | None = None
    git_branch: str | None = None
    cwd: str | None = None
    tag: str | None = None
    created_at: int | None = None


@dataclass_compatible
@attrs.frozen(kw_only=True)
class SessionMessage:
    """One message of a transcript's conversation chain.

    Attributes:
        type: ``"user"`` or ``"assistant"`` (``"system"`` only with
            ``include_system_messages=True``).
        uuid: The message's UUID in the transcript (``up_to_message_id`` of
            :func:`fork_session`, ``resume_session_at`` of the options).
        session_id: The session the line was written by.
        message: The raw API message dict (``role``, ``content``, ...), as the CLI stored it.
        parent_tool_use_id: For subagent messages, the ``Agent`` tool use that spawned the
            subagent; ``None`` for the main conversation or when unknown.
        parent_agent_id: For nested subagents, the agent that spawned this one; otherwise
            ``None``.
    """

    type: Literal["user", "assistant", "system"]
    uuid: str
    session_id: str
    message: Any
    parent_tool_use_id: str | None = None
    parent_agent_id: str | None = None


@dataclass_compatible
@attrs.frozen(kw_only=True)
class ForkSessionResult:
    """The result of :func:`fork_session`.

    Attributes:
        session_id: The new session's UUID (pass it as ``resume=`` to continue the fork).
    """

    session_id: str
