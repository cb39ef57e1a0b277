"""``python -m trio_claude demo``: a short agent session that shows what the SDK does.

Without ``ANTHROPIC_API_KEY`` (or with ``--fake``) the session runs offline: the built-in fake
Messages API (:mod:`trio_claude.testing`) answers from a script, and the **real** Claude Code CLI
drives it, so everything on screen went through the CLI and the SDK for real. With a key set, the
same prompts go to the real API (a fraction of a cent with the default small model).

Sections: streamed text; a tool call whose result the model reads; a permission callback and a
hook (when this build has them); an interrupt by cancel scope followed by a clean turn; cost and
usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import attrs
import trio

from ._errors import ClaudeSDKError, CLINotFoundError
from ._options import UNWIRED_FIELDS, ClaudeAgentOptions
from ._render import Renderer, tool_summary, use_color
from ._run import run_command
from ._session import Session, open_session
from ._transport._discovery import find_cli
from ._version import __version__
from .types import ResultMessage, StreamEvent, ToolUseBlock

__all__ = ["PROMPTS", "add_arguments", "demo_script", "main", "run_demo"]

#: The prompts, the same for the fake and the real model.
PROMPTS = {
    "intro": "In two sentences, introduce yourself and say where you are answering from.",
    "tool": "Use the Bash tool to run `ls -m` in the project, then tell me what it contains.",
    "policy": "Run `echo hello from the agent` with Bash, then save that greeting to notes.txt "
    "with the Write tool.",
    "essay": "Write a 400-word essay on structured concurrency.",
    "after": "Are you still there? Answer in one short sentence.",
}

#: Default model for the real-API run (small and cheap); ``TRIO_CLAUDE_DEMO_MODEL`` overrides.
REAL_MODEL = "claude-haiku-4-5"
#: Model named to the fake (it only affects how the CLI prices the fake usage).
FAKE_MODEL = "claude-sonnet-4-5"

_PROJECT_FILES = {
    "README.md": "# tiny-app\n\nA two-file Python project for the trio-claude demo.\n",
    "app.py": 'def greet(name: str) -> str:\n    return f"hello {name}"\n',
    "test_app.py": "from app import greet\n\n\ndef test_greet():\n"
    '    assert greet("trio") == "hello trio"\n',
}

_INTRO = (
    "Hi! I'm the scripted model built into trio-claude, answering over HTTP on 127.0.0.1. "
    "You're watching the real Claude Code CLI stream my reply through trio-claude, token by "
    "token, with no network and no API key."
)

_ESSAY = "\n\n".join(
    [
        "Structured concurrency is the idea that every concurrent task has an owner and a "
        "lifetime: tasks start inside a block, and the block does not end until all of them "
        "have finished. In trio that block is a nursery.",
        "Because lifetimes nest like function calls, an error in a child task reaches the code "
        "that started it instead of vanishing in the background, and cancelling a scope "
        "cancels everything inside it, all the way down.",
        "That is what makes timeouts composable: `with trio.move_on_after(5):` around any "
        "amount of work, including a conversation with an AI agent, bounds all of it.",
    ]
    * 4
)

_WRITE_DENIED = "writes are not allowed in this demo"


def demo_script(project: Path) -> list[Any]:
    """The fake model's side of the demo, one scripted answer per step.

    Args:
        project: The demo project directory (the ``Write`` call targets a file in it).

    Returns:
        The script (steps of :mod:`trio_claude.testing`), each matched on the prompt or on the
        tool result it answers, so the order of the sections does not matter.
    """
    from .testing import Match, Text, ToolUse, Turn

    return [
        Turn(
            [Text(_INTRO)],
            chunk_size=5,
            delay=0.012,
            match=Match(last_user_text_contains="two sentences"),
        ),
        Turn(
            [
                Text("Let me look at the project."),
                ToolUse("Bash", {"command": "ls -m", "description": "List the project files"}),
            ],
            match=Match(last_user_text_contains="ls -m"),
        ),
        Turn(
            "It is a small Python project: {last_tool_result}. There is a README, the app "
            "module and its test.",
            match=Match(tool_result_contains="README.md"),
        ),
        Turn(
            [ToolUse("Bash", {"command": "echo hello from the agent", "description": "Greet"})],
            match=Match(last_user_text_contains="notes.txt"),
        ),
        Turn(
            [
                Text("Now I'll save it."),
                ToolUse(
                    "Write",
                    {"file_path": str(project / "notes.txt"), "content": "hello from the agent\n"},
                ),
            ],
            match=Match(tool_result_contains="hello from the agent"),
        ),
        Turn(
            "The echo ran, but saving was refused: {last_tool_result}.",
            match=Match(tool_result_contains=_WRITE_DENIED),
        ),
        Turn(
            [Text(_ESSAY)], chunk_size=6, delay=0.01, match=Match(last_user_text_contains="essay")
        ),
        Turn(
            "Yes, still here: the interrupted essay left nothing behind.",
            match=Match(last_user_text_contains="still there"),
        ),
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``demo``'s arguments."""
    parser.add_argument(
        "--fake",
        action="store_true",
        help="use the built-in fake model even when ANTHROPIC_API_KEY is set",
    )
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="ANSI colors (default: only on a terminal)",
    )


def callbacks_available() -> bool:
    """Whether this build runs ``can_use_tool`` and ``hooks`` (they are being built in issue 4)."""
    return not ({"can_use_tool", "hooks"} & UNWIRED_FIELDS)


#: Tools that change files: the demo's policy denies them.
_WRITE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})


def _is_plain_echo(command: str) -> bool:
    """``echo ...`` with no redirection, pipe or command chaining."""
    return command.lstrip().startswith("echo ") and not any(c in command for c in "><|;&`$")


def _callback_options(renderer: Renderer) -> dict[str, Any]:
    """``can_use_tool`` and ``hooks`` for the demo: echo allowed, writes denied, a logging hook."""
    from ._options import HookMatcher
    from ._permissions import PermissionResultAllow, PermissionResultDeny

    async def policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        call = tool_summary(ToolUseBlock(id="", name=tool_name, input=tool_input))
        command = str(tool_input.get("command", "")) if tool_name == "Bash" else ""
        if tool_name in _WRITE_TOOLS or (tool_name == "Bash" and not _is_plain_echo(command)):
            renderer.log(f"  can_use_tool: {call} -> deny ({_WRITE_DENIED})", "magenta")
            return PermissionResultDeny(message=_WRITE_DENIED)
        renderer.log(f"  can_use_tool: {call} -> allow", "magenta")
        return PermissionResultAllow()

    async def log_tool_call(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        name = str(getattr(hook_input, "tool_name", None) or "?")
        tool_input = getattr(hook_input, "tool_input", None)
        call = tool_summary(
            ToolUseBlock(id=tool_use_id or "", name=name, input=dict(tool_input or {}))
        )
        renderer.log(f"  hook PreToolUse: {call}", "magenta")
        return {}  # no opinion: the permission rules and the policy decide

    return {
        # Have the CLI ask the policy about `echo` too: by itself it lets read-only commands
        # through without asking (and asks about writes).
        "settings": json.dumps({"permissions": {"ask": ["Bash(echo:*)"]}}),
        "can_use_tool": policy,
        "hooks": {"PreToolUse": [HookMatcher(matcher=None, hooks=[log_tool_call])]},
    }


@attrs.define
class _Demo:
    renderer: Renderer
    interrupt_after: float
    interrupted: int = 0
    results: list[ResultMessage] = attrs.field(factory=list)

    def prompt(self, text: str) -> None:
        self.renderer.line(
            self.renderer.style(f"{self.renderer.sym.prompt} ", "bold", "magenta") + text
        )

    async def turn(self, session: Session, prompt: str) -> None:
        self.prompt(prompt)
        await session.send(prompt)
        async for message in session.receive_response():
            self.renderer.message(message)
            if isinstance(message, ResultMessage):
                self.results.append(message)

    async def interrupted_turn(self, session: Session, prompt: str) -> int:
        """Streams a long turn inside ``trio.move_on_after``; returns the deltas seen."""
        self.prompt(prompt)
        await session.send(prompt)
        deltas = 0
        with trio.move_on_after(self.interrupt_after) as scope:
            async for message in session.receive_response():
                self.renderer.message(message)
                if isinstance(message, StreamEvent):
                    deltas += message.event.get("type") == "content_block_delta"
                if isinstance(message, ResultMessage):
                    self.results.append(message)
        self.renderer.end_line()
        if scope.cancelled_caught:
            self.interrupted += 1
            self.renderer.note(
                f"   {self.renderer.sym.stop} cancelled by trio.move_on_after("
                f"{self.interrupt_after:.1f}) after "
                f"{deltas} deltas: the session sent `interrupt` and drained the turn",
                "yellow",
            )
        else:
            self.renderer.note("   (the turn finished before the deadline)", "yellow")
        return deltas


@asynccontextmanager
async def _backend(
    fake: bool, renderer: Renderer, project: Path
) -> AsyncIterator[tuple[ClaudeAgentOptions, str]]:
    """Options for the session and a one-line description of the model side."""
    common: dict[str, Any] = {"include_partial_messages": True, "cwd": project}
    if callbacks_available():
        common.update(_callback_options(renderer))
    if not fake:
        model = os.environ.get("TRIO_CLAUDE_DEMO_MODEL", REAL_MODEL)
        yield (
            ClaudeAgentOptions(model=model, max_turns=6, max_budget_usd=0.5, **common),
            f"the real Anthropic API ({model}; stopped at $0.50)",
        )
        return
    from .testing import open_claude_test_env

    with tempfile.TemporaryDirectory(prefix="trio-claude-demo-env-") as tmp:
        async with open_claude_test_env(tmp) as env:
            opts = env.options(demo_script(project), model=FAKE_MODEL, **common)
            yield opts, f"built-in fake Messages API at {env.model.base_url} (scripted, offline)"


async def run_demo(out: TextIO, *, fake: bool, color: bool) -> int:
    """Runs the demo, writing to ``out``.

    Args:
        out: Where to write.
        fake: Use the built-in fake model (else the real API, as the environment configures).
        color: Use ANSI colors.

    Returns:
        The exit code.
    """
    renderer = Renderer(out, color=color)
    style = renderer.style
    start = trio.current_time()
    renderer.write(
        style(f"trio-claude {__version__} demo", "bold")
        + style(f"{renderer.sym.sep}a Trio-native SDK driving the real Claude Code CLI", "dim")
        + "\n"
    )
    if not fake:
        renderer.line(
            "ANTHROPIC_API_KEY is set: this demo will use the real Anthropic API (a fraction "
            "of a cent). Run `python -m trio_claude demo --fake` to stay offline.",
            "yellow",
        )
    else:
        from .stores._errors import MissingExtraError
        from .testing._fake_model_http import require_h11

        try:
            require_h11()
        except MissingExtraError as exc:
            renderer.line(
                f"The offline demo runs the built-in fake model: {exc}. (Or set "
                "ANTHROPIC_API_KEY to run it against the real API, without --fake.)",
                "red",
            )
            return 1
    try:
        cli = find_cli()
    except CLINotFoundError as exc:
        renderer.line(f"{exc}", "red")
        return 1

    with tempfile.TemporaryDirectory(prefix="trio-claude-demo-") as tmp:
        project = Path(tmp)
        for name, text in _PROJECT_FILES.items():
            (project / name).write_text(text)
        demo = _Demo(renderer, interrupt_after=1.0 if fake else 4.0)
        async with _backend(fake, renderer, project) as (options, model_side):
            async with open_session(options) as session:
                _facts(renderer, model_side, cli, session, project)
                await _sections(demo, session)
                stats = session.statistics()
            renderer.section("5. cost and usage", "as the CLI reported them, summed over the turns")
            renderer.totals_table(
                wall_seconds=trio.current_time() - start,
                extra=[
                    ("interrupted", f"{demo.interrupted} turn(s), drained by the session"),
                    (
                        "SDK",
                        f"{stats.messages_read} messages, {stats.bytes_read / 1024:.0f} KiB "
                        f"read, {stats.buffered_messages} left buffered, "
                        f"{stats.pending_requests} requests pending",
                    ),
                    ("CLI exit", _exit_text(session.returncode)),
                ],
            )
    ok = bool(demo.results) and all(not r.is_error for r in demo.results)
    renderer.line(
        f"{renderer.sym.ok if ok else renderer.sym.fail} demo finished in "
        f"{trio.current_time() - start:.1f} s",
        "green" if ok else "red",
        "bold",
    )
    return 0 if ok else 1


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running?!"
    return f"exited with code {code}, no process left behind"


def _facts(renderer: Renderer, model_side: str, cli: str, session: Session, project: Path) -> None:
    style = renderer.style
    rows = [
        ("model", model_side),
        ("CLI", f"{cli} (Claude Code {session.cli_version or '?'}, pid {session.pid})"),
        ("project", f"{project} ({', '.join(sorted(_PROJECT_FILES))})"),
        (
            "options",
            "include_partial_messages=True"
            + (
                ", can_use_tool=policy, hooks={'PreToolUse': [log_tool_call]}"
                if callbacks_available()
                else ""
            ),
        ),
    ]
    for name, value in rows:
        renderer.write(f"  {style(name.ljust(8), 'dim')} {value}\n")


async def _sections(demo: _Demo, session: Session) -> None:
    r = demo.renderer
    r.section("1. streaming", "include_partial_messages=True: text renders as the deltas arrive")
    await demo.turn(session, PROMPTS["intro"])

    r.section("2. a tool call", "the model runs Bash in the project and reads the result")
    await demo.turn(session, PROMPTS["tool"])

    r.section(
        "3. a permission callback and a hook",
        "can_use_tool=policy (echo allowed, writes denied) + a PreToolUse hook",
    )
    if callbacks_available():
        await demo.turn(session, PROMPTS["policy"])
    else:
        r.note(
            "   skipped: can_use_tool and hooks are not wired in this build yet "
            f"({', '.join(sorted({'can_use_tool', 'hooks'} & UNWIRED_FIELDS))} in UNWIRED_FIELDS)",
            "yellow",
        )

    r.section(
        "4. an interrupt by cancel scope",
        f"with trio.move_on_after({demo.interrupt_after:.1f}): "
        "async for m in session.receive_response(): ...",
    )
    await demo.interrupted_turn(session, PROMPTS["essay"])
    await demo.turn(session, PROMPTS["after"])


async def _main_async(args: argparse.Namespace, out: TextIO) -> int:
    fake = bool(args.fake or not os.environ.get("ANTHROPIC_API_KEY"))
    try:
        return await run_demo(out, fake=fake, color=use_color(out, args.color))
    except ClaudeSDKError as exc:
        print(f"\ntrio-claude demo: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def main(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Runs ``demo``; returns the exit code."""
    return run_command(_main_async, args, out)
