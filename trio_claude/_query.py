"""One-shot APIs: ``query()`` streams one turn, ``ask()`` collects it."""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from ._options import ClaudeAgentOptions
from ._session import MessageStream, Prompt, Session, open_session
from ._transport._command import needs_open_stdin
from .types import TurnResult

__all__ = ["ask", "query"]


@asynccontextmanager
async def query(
    prompt: Prompt | AsyncIterable[Any], *, options: ClaudeAgentOptions | None = None
) -> AsyncIterator[MessageStream]:
    """Runs one prompt in a fresh session and streams its messages.

    An async context manager (not an async generator), so the session's nursery stays in a
    visible ``async with`` and leaving the block, even half way through the stream, closes
    the session and stops the CLI::

        async with trio_claude.query("Summarise README.md", options=opts) as messages:
            async for message in messages:
                ...

    Args:
        prompt: Text, content blocks, a ``UserMessage`` or a wire ``user`` dict; or an async
            iterable of those, streamed into the one session (a turn each) as it yields.
        options: Session options.

    Yields:
        The turn's messages, ending with its ``ResultMessage`` (an error result included);
        for streamed input, every turn's messages until the input ends and its last turn ends.
    """
    async with open_session(options) as session:
        if isinstance(prompt, AsyncIterable):
            # Streamed input: feed it from a task while the caller reads every turn.
            async with trio.open_nursery() as nursery:
                await nursery.start(session.stream_input, prompt)
                stream = session.receive_until_input_done()
                yield stream
        else:
            await session.send(prompt)
            stream = session.receive_response()
            yield stream
        if stream.finished:
            await _wait_for_run_end(session)


async def ask(prompt: Prompt, *, options: ClaudeAgentOptions | None = None) -> TurnResult:
    """Runs one prompt in a fresh session and returns the collected turn.

    Args:
        prompt: Text, content blocks, a ``UserMessage`` or a wire ``user`` dict.
        options: Session options.

    Returns:
        The turn: ``.text``, ``.result``, ``.messages``, ``.structured_output``, ``.session_id``.

    Raises:
        ResultError: The turn ended with an error result (``.result_message`` has it).
    """
    async with open_session(options) as session:
        try:
            return await session.run(prompt)
        finally:
            await _wait_for_run_end(session)


async def _wait_for_run_end(session: Session) -> None:
    """With callbacks configured, keep stdin open until the run is idle (background work after
    the result may still call back), up to ``CLAUDE_CODE_PRINT_BG_WAIT_CEILING_MS`` (default
    600 s, ``0`` = no limit), as the official SDKs do."""
    if session.closed or not needs_open_stdin(session.options):
        return
    ceiling_ms = os.environ.get("CLAUDE_CODE_PRINT_BG_WAIT_CEILING_MS", "600000")
    try:
        ceiling = float(ceiling_ms) / 1000
    except ValueError:
        ceiling = 600.0
    await session.wait_idle(ceiling if ceiling > 0 else math.inf)
