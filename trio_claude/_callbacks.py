"""Handlers for CLI->SDK control requests: the table the session dispatches from.

The session (``Session._serve_request``) runs each incoming request in its own task and cancel
scope, under nothing but the CLI's own deadline; it writes whatever the handler returns as a
``success`` response, and turns an exception into an ``error`` response (and a logged warning).
A subtype with no handler gets ``Unsupported control request subtype: <subtype>``.

:func:`build_handlers` decides, from the options, which subtypes are served.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ._options import ClaudeAgentOptions

__all__ = ["Handler", "build_handlers"]

#: A handler receives the request's ``request`` object and returns the success payload.
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def _decline_elicitation(request: dict[str, Any]) -> dict[str, Any]:
    # No on_elicitation callback: decline, as the official TypeScript SDK does.
    return {"action": "decline"}


def build_handlers(options: ClaudeAgentOptions) -> dict[str, Handler]:
    """The CLI->SDK request handlers for a session opened with ``options``."""
    handlers: dict[str, Handler] = {"elicitation": _decline_elicitation}
    return handlers
