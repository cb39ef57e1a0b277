"""``python -m trio_claude run PROMPT``: stream one session to the terminal.

With ``--fake`` the session runs against the built-in fake model (offline, no API key) with a
tiny script that echoes the prompt; otherwise the CLI talks to whatever it is configured for
(``ANTHROPIC_API_KEY``, a login, ``ANTHROPIC_BASE_URL``, ...).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TextIO

import trio

from ._errors import ClaudeSDKError, CLINotFoundError
from ._options import ClaudeAgentOptions
from ._render import Renderer, use_color
from ._session import open_session
from .types import ResultMessage

__all__ = [
    "FAKE_SCRIPT_TEXT",
    "add_arguments",
    "configure_logging",
    "main",
    "run_command",
    "run_session",
]

#: The fake model's answer for ``run --fake``: it echoes the prompt, streamed in small pieces.
FAKE_SCRIPT_TEXT = "[fake model {model}] You said: {last_user_text}"


def _fake_script() -> list[Any]:
    from .testing import Text, Turn

    return [Turn([Text(FAKE_SCRIPT_TEXT)], chunk_size=4, delay=0.005, repeat=True)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``run``'s arguments."""
    parser.add_argument("prompt", help="the prompt")
    parser.add_argument(
        "--fake",
        action="store_true",
        help="use the built-in fake model (offline, no API key; it echoes the prompt)",
    )
    parser.add_argument("--model", default=None, metavar="M", help="the model")
    parser.add_argument(
        "--max-turns", type=int, default=None, metavar="N", help="stop after N model calls"
    )
    parser.add_argument(
        "--partial",
        action="store_true",
        help="stream text as it is generated (include_partial_messages)",
    )
    parser.add_argument(
        "--permission-mode",
        default=None,
        choices=["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"],
        help="the permission mode",
    )
    parser.add_argument(
        "--allowed-tools",
        default=None,
        metavar="LIST",
        help="comma-separated tools allowed without asking, e.g. 'Read,Bash(ls:*)'",
    )
    parser.add_argument("--cwd", default=None, metavar="DIR", help="the working directory")
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="ANSI colors (default: only on a terminal)",
    )


def configure_logging() -> None:
    """Shows the SDK's warnings (an outdated CLI, ...) on stderr, once per process."""
    logger = logging.getLogger("trio_claude")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("trio-claude: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def _option_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {"include_partial_messages": bool(args.partial)}
    if args.model:
        fields["model"] = args.model
    if args.max_turns is not None:
        fields["max_turns"] = args.max_turns
    if args.permission_mode:
        fields["permission_mode"] = args.permission_mode
    if args.allowed_tools:
        fields["allowed_tools"] = [t.strip() for t in args.allowed_tools.split(",") if t.strip()]
    if args.cwd:
        fields["cwd"] = args.cwd
    return fields


@asynccontextmanager
async def _options(args: argparse.Namespace) -> AsyncIterator[ClaudeAgentOptions]:
    fields = _option_fields(args)
    if not args.fake:
        yield ClaudeAgentOptions(**fields)
        return
    from .testing import open_claude_test_env

    with tempfile.TemporaryDirectory(prefix="trio-claude-run-") as tmp:
        async with open_claude_test_env(tmp) as env:
            yield env.options(_fake_script(), **fields)


async def run_session(
    prompt: str, options: ClaudeAgentOptions, renderer: Renderer
) -> ResultMessage | None:
    """Sends ``prompt`` in a new session and renders the turn.

    Args:
        prompt: The prompt.
        options: The session's options.
        renderer: Where the messages go.

    Returns:
        The turn's result (``None`` if the CLI ended without one).
    """
    result: ResultMessage | None = None
    async with open_session(options) as session:
        await session.send(prompt)
        async for message in session.receive_response():
            renderer.message(message)
            if isinstance(message, ResultMessage):
                result = message
    return result


async def _main_async(args: argparse.Namespace, out: TextIO) -> int:
    renderer = Renderer(out, color=use_color(out, args.color))
    async with _options(args) as options:
        if args.fake:
            renderer.note("(offline: the built-in fake model answers; no API key is used)")
        try:
            result = await run_session(args.prompt, options, renderer)
        except CLINotFoundError as exc:
            renderer.end_line()
            print(f"trio-claude run: {exc}", file=sys.stderr)
            return 1
        except ClaudeSDKError as exc:
            renderer.end_line()
            print(f"trio-claude run: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    if result is None:
        return 1
    return 1 if result.is_error else 0


def run_command(
    async_fn: Callable[[argparse.Namespace, TextIO], Awaitable[int]],
    args: argparse.Namespace,
    out: TextIO | None = None,
) -> int:
    """Runs a command's async main in ``trio.run``; a closed output pipe ends it quietly.

    Args:
        async_fn: The command, called with ``args`` and the output stream.
        args: The parsed arguments.
        out: The output stream (default ``sys.stdout``).

    Returns:
        The command's exit code; 141 when the reader of the output went away (``| head``). The
        session has been closed either way.
    """
    configure_logging()
    stream = out or sys.stdout
    try:
        return trio.run(async_fn, args, stream)
    except BrokenPipeError:
        # Like a shell tool killed by SIGPIPE; keep Python from complaining at exit too.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        return 141


def main(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Runs ``run``; returns the exit code (1 for an error result or a failure)."""
    if args.max_turns is not None and args.max_turns < 1:
        print("trio-claude run: --max-turns must be at least 1", file=sys.stderr)
        return 2
    if args.cwd and not os.path.isdir(args.cwd):
        print(f"trio-claude run: --cwd {args.cwd!r} is not a directory", file=sys.stderr)
        return 2
    return run_command(_main_async, args, out)
