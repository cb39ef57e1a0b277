"""One-shot APIs: ``query()`` streams one turn, ``ask()`` collects it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ._options import ClaudeAgentOptions
from ._session import MessageStream, Prompt, open_session
from .types import TurnResult

__all__ = ["ask", "query"]


@asynccontextmanager
async def query(
    prompt: Prompt, *, options: ClaudeAgentOptions | None = None
) -> AsyncIterator[MessageStream]:
    """Runs one prompt in a fresh session and streams its messages.

    An async context manager (not an async generator), so the session's nursery stays in a
    visible ``async with`` and leaving the block, even half way through the stream, closes
    the session and stops the CLI::

        async with trio_claude.query("Summarise README.md", options=opts) as messages:
            async for message in messages:
                ...

    Args:
        prompt: Text, content blocks, a ``UserMessage`` or a wire ``user`` dict.
        options: Session options.

    Yields:
        The turn's messages, ending with its ``ResultMessage`` (an error result included).
    """
    async with open_session(options) as session:
        await session.send(prompt)
        yield session.receive_response()


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
        return await session.run(prompt)
