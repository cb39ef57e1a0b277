"""A fake Claude Code CLI: the CLI side of the stream-json protocol, scripted turn by turn.

Use it in-process (fast, over memory streams)::

    script = FakeScript(turns=[FakeTurn.reply("hello")])
    options = ClaudeAgentOptions(transport=FakeCLITransport(script))
    async with trio_claude.open_session(options) as session: ...

or as a real subprocess, so the subprocess transport is exercised too::

    options = ClaudeAgentOptions(transport=FakeCLIProcessTransport(script, tmp_path))

or from a shell: ``python -m trio_claude.testing.fake_cli --script script.json``.

Each user message the SDK sends starts the next :class:`FakeTurn`; its steps run in order
(emit frames, ask the SDK a control request, sleep, crash, write garbage, ...). When the turns
run out, every further prompt gets a short default reply. ``interrupt`` cancels the running turn
and ends it like the real CLI: a ``[Request interrupted by user]`` user frame and an
``error_during_execution`` result.

The fake answers the SDK->CLI requests of :data:`ANSWERED` with the reply shapes of Claude Code
2.1.329 (``interrupt`` with ``cancel_queued``/``send_now``, ``get_settings``,
``list_models``, ``mcp_call``...; see :meth:`FakeCLI._answer`); any other request, including
``update_queued_message`` (gated off in 2.1.329), gets 2.1.329's ``Unsupported control request
subtype: <subtype>`` error (``error_code`` ``unsupported_request``). A ``control_cancel_request``
the SDK sends is recorded in ``cancels``. ``set_permission_mode`` follows Claude Code 2.1.332:
the fake starts in the mode its flags set, and refuses ``bypassPermissions`` (``error_code``
``bypass_not_launched``) unless it was launched with ``--dangerously-skip-permissions``,
``--allow-dangerously-skip-permissions`` or ``--permission-mode bypassPermissions``.
"""

from __future__ import annotations

import argparse
import math
import os
import posixpath
import random
import signal
import sys
import uuid as uuid_mod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import cattrs
import orjson
import trio
import trio.testing

from .._version import CLI_VERSION as _PINNED_CLI_VERSION

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

from .._transport._base import ChildProcess, LaunchSpec, Transport
from .._transport._process import SubprocessTransport

__all__ = [
    "Emit",
    "Exit",
    "FakeCLI",
    "FakeCLIProcessTransport",
    "FakeCLITransport",
    "FakeScript",
    "FakeTurn",
    "Flood",
    "Hang",
    "Kill",
    "Raw",
    "Request",
    "Result",
    "Sleep",
    "Stderr",
    "StopReadingStdin",
    "Text",
    "ToolUse",
    "WaitForInterrupt",
]

#: The version the fake reports: the pinned CLI's.
CLI_VERSION = _PINNED_CLI_VERSION

#: The SDK->CLI request subtypes the fake answers (others get an error response).
ANSWERED = frozenset(
    {
        "initialize",
        "interrupt",
        "set_model",
        "set_permission_mode",
        "set_max_thinking_tokens",
        "end_session",
        "get_settings",
        "update_settings",
        "get_task_output",
        "seed_read_state",
        "cancel_async_message",
        "rename_session",
        "get_session_cost",
        "list_models",
        "get_binary_version",
        "file_suggestions",
        "register_repo_root",
        "get_hooks_listing",
        "list_permission_rules",
        "mcp_call",
        "mcp_read_resource",
        "set_mcp_permission_mode_override",
        "set_color",
        "set_has_subscribers",
    }
)
#: The permission modes the CLI knows (its ``invalid_mode`` error lists them in this order).
#: Like the real CLI, the fake accepts ``bypassPermissions`` only when it was launched with
#: bypass allowed (see ``_bypass_allowed``).
PERMISSION_MODES = ("acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "plan")
#: Claude Code 2.1.332's refusal of ``set_permission_mode("bypassPermissions")`` when it was
#: not launched with bypass allowed (``error_code`` ``bypass_not_launched``), verbatim.
BYPASS_NOT_LAUNCHED = (
    "Cannot set permission mode to bypassPermissions because the session was not launched with"
    " --dangerously-skip-permissions"
)


def _launch_permission_mode(argv: Sequence[str]) -> str | None:
    """The permission mode a CLI started with ``argv`` starts in, if its flags set one.

    ``--permission-mode M`` (or ``--permission-mode=M``) sets ``M``;
    ``--dangerously-skip-permissions`` alone sets ``bypassPermissions``, as the real CLI does.
    """
    mode: str | None = None
    for i, arg in enumerate(argv):
        if arg.startswith("--permission-mode="):
            mode = arg.partition("=")[2]
        elif arg == "--permission-mode" and i + 1 < len(argv):
            mode = argv[i + 1]
    if mode is None and "--dangerously-skip-permissions" in argv:
        return "bypassPermissions"
    return mode


def _bypass_allowed(argv: Sequence[str]) -> bool:
    """Whether a CLI started with ``argv`` lets ``set_permission_mode`` switch to
    ``bypassPermissions``: as observed with Claude Code 2.1.332, when it was launched with
    ``--dangerously-skip-permissions``, ``--allow-dangerously-skip-permissions`` (the
    ``allow_dangerously_skip_permissions`` option) or in ``bypassPermissions`` mode (the
    ``permission_mode`` option). Otherwise it refuses with :data:`BYPASS_NOT_LAUNCHED`.
    Switching away and back is allowed whenever it was allowed at launch.
    """
    return (
        "--dangerously-skip-permissions" in argv
        or "--allow-dangerously-skip-permissions" in argv
        or _launch_permission_mode(argv) == "bypassPermissions"
    )


# --------------------------------------------------------------------- steps


@attrs.frozen
class Emit:
    """Writes one frame; ``session_id`` and ``uuid`` are filled in when missing."""

    frame: dict[str, Any]


@attrs.frozen
class Text:
    """Writes an assistant frame with one text block."""

    text: str
    model: str = "claude-fake-1"


@attrs.frozen
class ToolUse:
    """Writes an assistant frame with one tool_use block."""

    name: str
    input: dict[str, Any] = attrs.field(factory=dict)
    id: str = "toolu_fake"


@attrs.frozen
class Result:
    """Writes the turn's result frame (the turn ends here).

    ``total_cost_usd`` is this turn's cost; the frame reports the running total, as the CLI does.
    """

    text: str = ""
    subtype: str = "success"
    is_error: bool = False
    total_cost_usd: float = 0.0001
    usage: dict[str, Any] = attrs.field(factory=lambda: {"input_tokens": 10, "output_tokens": 5})
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Request:
    """Sends a control request to the SDK and waits for the answer (recorded in ``responses``)."""

    subtype: str
    fields: dict[str, Any] = attrs.field(factory=dict)
    wait: bool = True


@attrs.frozen
class Sleep:
    """Waits (use ``autojump_clock`` in tests)."""

    seconds: float


@attrs.frozen
class Raw:
    """Writes raw text (no newline added): garbage, half lines, blank lines.

    If ``repeat`` is set, ``data`` is written that many times (an oversize line, say).
    """

    data: str
    repeat: int = 1


@attrs.frozen
class Stderr:
    """Writes a line to stderr."""

    text: str


@attrs.frozen
class Exit:
    """Exits with ``code`` (after writing ``stderr``)."""

    code: int = 0
    stderr: str = ""


@attrs.frozen
class Kill:
    """Dies by a signal (SIGKILL by default), like a crash."""

    signal: str = "SIGKILL"


@attrs.frozen
class Hang:
    """Stops producing output forever (until killed)."""


@attrs.frozen
class StopReadingStdin:
    """Stops reading stdin (the SDK's writes will back up)."""


@attrs.frozen
class WaitForInterrupt:
    """Waits until the SDK interrupts the turn (the fake then ends the turn as interrupted)."""


@attrs.frozen
class Flood:
    """Writes ``frame`` ``count`` times as fast as the pipe takes it (benchmarks).

    The flood is output already made (a burst the CLI has handed to its stdout): an interrupt
    takes effect after it, whatever the pipe's size, so its answer is behind all of it.
    """

    frame: dict[str, Any]
    count: int


Step = (
    Emit
    | Text
    | ToolUse
    | Result
    | Request
    | Sleep
    | Raw
    | Stderr
    | Exit
    | Kill
    | Hang
    | StopReadingStdin
    | WaitForInterrupt
    | Flood
)

_STEP_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Emit,
        Text,
        ToolUse,
        Result,
        Request,
        Sleep,
        Raw,
        Stderr,
        Exit,
        Kill,
        Hang,
        StopReadingStdin,
        WaitForInterrupt,
        Flood,
    )
}


@attrs.frozen
class FakeTurn:
    """What the fake CLI does for one user message.

    Attributes:
        steps: The steps, in order. Without a :class:`~trio_claude.testing.fake_cli.Result`
            step the turn never ends (unless interrupted), which is what some tests want. Steps
            after the ``Result`` run before the fake reports ``idle`` (background work after a
            result).
        emit_init: Start the turn with ``system/init`` (as the real CLI does every turn).
    """

    steps: Sequence[Step] = ()
    emit_init: bool = True

    @classmethod
    def reply(cls, text: str, **result: Any) -> FakeTurn:
        """A turn that answers ``text`` and ends with a success result carrying it."""
        return cls(steps=(Text(text), Result(text=text, **result)))


@attrs.frozen
class FakeScript:
    """A whole fake CLI run.

    Attributes:
        turns: One :class:`FakeTurn` per user message, in order.
        on_initialize: Steps run before ``initialize`` is answered (the real CLI sends
            ``mcp_message`` requests then).
        initialize_response: Extra fields for the ``initialize`` reply.
        answer_initialize: ``False`` to never answer (tests of start-up timeouts).
        default_reply: The text answered once the turns are used up.
        unanswered: Control request subtypes the fake never answers.
        session_id: The session id the fake reports.
        task_outputs: Task id -> output, for ``get_task_output``.
        mcp_tools: ``mcp__<server>__<tool>`` -> the ``CallToolResult`` ``mcp_call`` answers
            (one with ``isError`` fails the request with its text, as the CLI does).
        mcp_resources: ``ui://`` URI -> its text, for ``mcp_read_resource``.
        files: The paths ``file_suggestions`` searches (relative to the session's ``cwd``).
    """

    turns: Sequence[FakeTurn] = ()
    on_initialize: Sequence[Step] = ()
    initialize_response: dict[str, Any] = attrs.field(factory=dict)
    answer_initialize: bool = True
    default_reply: str = "ok"
    unanswered: Sequence[str] = ()
    session_id: str = "00000000-0000-4000-8000-000000000001"
    task_outputs: dict[str, str] = attrs.field(factory=dict)
    mcp_tools: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    mcp_resources: dict[str, str] = attrs.field(factory=dict)
    files: Sequence[str] = ()

    def to_json(self) -> bytes:
        """Serialises the script (for the subprocess fake)."""
        return orjson.dumps(_converter.unstructure(self))

    @classmethod
    def from_json(cls, data: bytes | str) -> FakeScript:
        """Loads a script from :meth:`to_json` or by hand (steps are ``{"op": Name, ...}``)."""
        return _converter.structure(orjson.loads(data), cls)


_converter = cattrs.Converter()


def _unstructure_step(step: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"op": type(step).__name__}
    data.update(attrs.asdict(step, recurse=False))
    return data


def _structure_step(data: Any, _: Any) -> Any:
    fields = dict(data)
    op = fields.pop("op")
    return _STEP_TYPES[op](**fields)


_converter.register_unstructure_hook_func(lambda t: t in _STEP_TYPES.values(), _unstructure_step)
_converter.register_structure_hook(Step, _structure_step)


# ----------------------------------------------------------------- the fake


class _Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _Refused(Exception):
    """An error answer to a control request (its text)."""


def fresh_uuid() -> uuid_mod.UUID:
    """A random version-4 uuid for the frames the fake writes, drawn from the ``random``
    module: Hypothesis seeds it for each example, so an example replays the same frames
    (``uuid4()`` made every replay differ, and a user's check of uuids was reported as flaky)."""
    return uuid_mod.UUID(int=random.getrandbits(128), version=4)


def init_frame(session_id: str) -> dict[str, Any]:
    """A ``system/init`` frame shaped like the real CLI's."""
    return {
        "type": "system",
        "subtype": "init",
        "cwd": os.getcwd(),
        "session_id": session_id,
        "tools": ["Bash", "Read", "Write"],
        "mcp_servers": [],
        "model": "claude-fake-1",
        "permissionMode": "default",
        "slash_commands": [],
        "apiKeySource": "none",
        "claude_code_version": CLI_VERSION,
        "output_style": "default",
        "agents": [],
        "skills": [],
        "plugins": [],
        "uuid": str(fresh_uuid()),
    }


class FakeCLI:
    """The fake CLI's state machine, run over any three byte streams.

    Attributes:
        script: The script.
        received: Every frame the SDK sent, in order.
        responses: The SDK's answers to our requests: request id -> response body.
        requests_sent: Our requests, in order, as sent.
        interrupts: How many interrupts were received.
        cancels: The request ids of the SDK's ``control_cancel_request`` frames, in order.
        argv: The command line it was started with (when known).
        cwd: The working directory it was started in (the session's ``cwd``).
        settings: The settings ``update_settings`` wrote, by source.
        title: The title ``rename_session`` set.
        color: The accent color ``set_color`` set.
        has_subscribers: What ``set_has_subscribers`` said last (``None``: not told).
        mcp_mode_overrides: Server name -> mode, from ``set_mcp_permission_mode_override``.
        read_state: Path -> mtime, from ``seed_read_state``.
        repo_roots: The roots ``register_repo_root`` registered.
    """

    def __init__(self, script: FakeScript) -> None:
        self.script = script
        self.received: list[dict[str, Any]] = []
        self.responses: dict[str, dict[str, Any]] = {}
        self.requests_sent: list[dict[str, Any]] = []
        self.interrupts = 0
        self.cancels: list[str] = []
        self.settings: dict[str, dict[str, Any]] = {}
        self.title: str | None = None
        self.color: str | None = None
        self.has_subscribers: bool | None = None
        self.mcp_mode_overrides: dict[str, str | None] = {}
        self.read_state: dict[str, Any] = {}
        self.repo_roots: list[str] = []
        # Prompt uuids received and not started yet (the CLI's queue); those withdrawn.
        self._queued: list[str] = []
        self._withdrawn: set[str] = set()
        self._answering: dict[str, trio.CancelScope] = {}
        self.total_cost_usd = 0.0
        self._current_uuid: str | None = None
        self.argv: list[str] = []
        self.cwd = os.getcwd()
        self.model = "claude-fake-1"
        self.permission_mode = "default"
        self._out: trio.abc.SendStream | None = None
        self._err: trio.abc.SendStream | None = None
        self._write_lock = trio.Lock()
        self._prompts_send, self._prompts_recv = trio.open_memory_channel[dict[str, Any]](math.inf)
        self._waiting: dict[str, trio.Event] = {}
        self._turn_scope: trio.CancelScope | None = None
        self._interrupted = trio.Event()
        # The prompt a plain interrupt reached before its turn started (see _interrupt), and
        # whether a turn is starting (taken from the queue, its scope not open yet).
        self._interrupt_next: str | None = None
        self._turn_starting = False
        self._turn_ended = trio.Event()
        self._initialized = trio.Event()
        self._turn_index = 0
        self._request_counter = 0
        self._stop_reading = trio.Event()

    @property
    def queued(self) -> list[str]:
        """The uuids of the prompts received and not started yet (the CLI's queue)."""
        return list(self._queued)

    # -------------------------------------------------------------- writing

    async def write_frame(self, frame: dict[str, Any]) -> None:
        """Writes one frame to stdout."""
        await self.write_bytes(orjson.dumps(frame) + b"\n")

    async def write_bytes(self, data: bytes) -> None:
        """Writes raw bytes to stdout, whole: a write once begun is not cut by a cancellation.

        The real CLI hands each frame to Node's stdout stream, which writes it all whatever the
        turn does next. A write cut short would leave half a line, and the next frame written
        (an interrupt's answer, say) would be lost in it.
        """
        assert self._out is not None
        async with self._write_lock:
            with trio.CancelScope(shield=True):
                await self._out.send_all(data)

    async def write_stderr(self, text: str) -> None:
        """Writes a line to stderr."""
        if self._err is not None:
            await self._err.send_all(text.encode() + b"\n")

    def _fill(self, frame: dict[str, Any]) -> dict[str, Any]:
        if frame.get("type") not in ("control_request", "control_response", "keep_alive"):
            frame = dict(frame)
            frame.setdefault("session_id", self.script.session_id)
            frame.setdefault("uuid", str(fresh_uuid()))
        return frame

    async def _state(self, state: str) -> None:
        await self.write_frame(
            self._fill(
                {
                    "type": "system",
                    "subtype": "session_state_changed",
                    "state": state,
                    "sdk_host_only": True,
                }
            )
        )

    # -------------------------------------------------------------- running

    async def run(
        self,
        stdin: trio.abc.ReceiveStream,
        stdout: trio.abc.SendStream,
        stderr: trio.abc.SendStream | None = None,
    ) -> int:
        """Runs until stdin ends or a step exits; returns the exit code."""
        self._out, self._err = stdout, stderr
        # The real CLI starts in the mode its flags set (initialize reports it).
        launched = _launch_permission_mode(self.argv)
        if launched in PERMISSION_MODES:
            self.permission_mode = str(launched)
        code = 0
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read_stdin, stdin, nursery)
                try:
                    await self._serve_turns()
                finally:
                    nursery.cancel_scope.cancel()
        except _Exited as exc:
            code = exc.code
        except BaseExceptionGroup as group:
            exited = group.subgroup(_Exited)
            if exited is None:
                raise
            first = exited.exceptions[0]
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            assert isinstance(first, _Exited)
            code = first.code
        with trio.CancelScope(shield=True):
            try:
                await stdout.aclose()
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            if stderr is not None:
                try:
                    await stderr.aclose()
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass
        return code

    async def _read_stdin(self, stdin: trio.abc.ReceiveStream, nursery: trio.Nursery) -> None:
        buffer = b""
        while True:
            if self._stop_reading.is_set():
                await trio.sleep_forever()
            data = await stdin.receive_some(65536)
            if not data:
                break
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    self._handle_frame(orjson.loads(line), nursery)
        # stdin closed: finish the queued prompts, then exit like the real CLI.
        self._prompts_send.close()

    def _handle_frame(self, frame: dict[str, Any], nursery: trio.Nursery) -> None:
        self.received.append(frame)
        kind = frame.get("type")
        if kind == "user":
            uuid = frame.get("uuid")
            if isinstance(uuid, str):
                self._queued.append(uuid)
            self._prompts_send.send_nowait(frame)
        elif kind == "control_response":
            body = frame.get("response", {})
            rid = body.get("request_id")
            self.responses[rid] = body
            waiter = self._waiting.pop(rid, None)
            if waiter is not None:
                waiter.set()
        elif kind == "control_request":
            request = frame.get("request", {})
            if (
                request.get("subtype") == "interrupt"
                and "interrupt" not in self.script.unanswered
                and request.get("cancel_queued") is not True
                and request.get("send_now") is not True
            ):
                # A plain stop takes effect here, in the order of stdin: it stops the turn
                # running or about to start when it was sent, never a later one.
                self._stop_current_turn()
            # Answered in a task of its own: answering may need more stdin (on_initialize steps).
            scope = trio.CancelScope()
            self._answering[frame["request_id"]] = scope
            nursery.start_soon(
                self._answer_in, scope, frame["request_id"], frame.get("request", {})
            )
        elif kind == "control_cancel_request":
            rid = frame.get("request_id")
            if isinstance(rid, str):
                self.cancels.append(rid)
                answering = self._answering.pop(rid, None)
                if answering is not None:
                    answering.cancel()  # like the CLI: the work stops, nothing is answered

    async def _answer_in(
        self, scope: trio.CancelScope, request_id: str, request: dict[str, Any]
    ) -> None:
        try:
            with scope:
                await self._answer(request_id, request)
        finally:
            self._answering.pop(request_id, None)

    async def _answer(self, request_id: str, request: dict[str, Any]) -> None:
        subtype = request.get("subtype")
        if subtype in self.script.unanswered:
            return
        response: dict[str, Any] | None = None
        error: str | None = None
        code: str | None = None
        if subtype == "initialize":
            if not self.script.answer_initialize:
                return
            for step in self.script.on_initialize:
                await self._run_step(step)
            response = {
                "commands": [],
                "agents": [],
                "models": [{"value": "claude-fake-1", "displayName": "Fake"}],
                "account": {},
                "output_style": "default",
                "available_output_styles": ["default"],
                "pid": os.getpid(),
                "claude_code_version": CLI_VERSION,
                "current_permission_mode": self.permission_mode,
                **self.script.initialize_response,
            }
            self._initialized.set()
        elif subtype == "interrupt":
            self.interrupts += 1
            response = await self._interrupt(request)
        elif subtype == "set_model":
            self.model = request.get("model") or "claude-fake-1"
            response = {"model": self.model}
        elif subtype == "set_permission_mode":
            mode = request.get("mode")
            if mode not in PERMISSION_MODES:
                error = "Cannot set permission mode: must be one of " + ", ".join(PERMISSION_MODES)
                code = "invalid_mode"
            elif mode == "bypassPermissions" and not _bypass_allowed(self.argv):
                error, code = BYPASS_NOT_LAUNCHED, "bypass_not_launched"
            else:
                self.permission_mode = str(mode)
                response = {"mode": self.permission_mode}
        elif subtype == "set_max_thinking_tokens":
            response = {}
        elif subtype == "end_session":
            await self._end_session(request_id)
        elif subtype in ANSWERED:
            try:
                response = await self._answer_query(str(subtype), request)
            except _Refused as refused:
                error = str(refused)
        else:
            # Claude Code 2.1.329's answer, verbatim (update_queued_message is gated off there).
            error = f"Unsupported control request subtype: {subtype}"
            code = "unsupported_request"
        if error is None:
            await self._reply(request_id, response)
        else:
            await self._refuse(request_id, error, code)

    async def _reply(self, request_id: str, response: dict[str, Any] | None) -> None:
        body = {"request_id": request_id, "subtype": "success", "response": response}
        await self.write_frame({"type": "control_response", "response": body})

    async def _refuse(self, request_id: str, error: str, code: str | None = None) -> None:
        body: dict[str, Any] = {"request_id": request_id, "subtype": "error", "error": error}
        if code is not None:
            body["error_code"] = code
        await self.write_frame({"type": "control_response", "response": body})

    async def _interrupt(self, request: dict[str, Any]) -> dict[str, Any]:
        """``interrupt``: a plain stop, a stop of everything (``cancel_queued``), or a send-now."""
        running = self._turn_scope is not None or self._turn_starting
        if request.get("cancel_queued") is True:
            cancelled = list(self._queued)
            await self._withdraw(cancelled)
            if running:
                self._interrupted.set()
            return {"still_queued": [], "cancelled": cancelled}
        if request.get("send_now") is True:
            named = request.get("message_uuid")
            waiting = [u for u in self._queued if not named or u == named]
            if not (running and waiting):
                return {"still_queued": list(self._queued), "send_now": "nothing_waiting"}
            self._interrupted.set()  # the running turn makes way: stopped at once
            return {"still_queued": list(self._queued), "send_now": "stopped"}
        return {"still_queued": list(self._queued)}  # stopped when read: _stop_current_turn

    def _stop_current_turn(self) -> None:
        if self._turn_scope is not None or self._turn_starting:
            self._interrupted.set()
        elif self._queued:
            # Idle with a prompt read: its turn is about to start (this fake runs it from a
            # task of its own; the CLI has it as the current one already). It is interrupted
            # as it starts, so an interrupt sent right after a prompt is never lost.
            self._interrupt_next = self._queued[0]

    async def _end_session(self, request_id: str) -> None:
        """Like the CLI: queued prompts are discarded, a running turn is aborted (its result is
        written), then the process exits: status 1 after an aborted turn, else 0."""
        await self._withdraw(list(self._queued), state="discarded")
        await self._reply(request_id, {})
        if self._turn_scope is None:
            raise _Exited(0)
        turn_ended = self._turn_ended
        self._interrupted.set()
        await turn_ended.wait()
        raise _Exited(1)

    async def _withdraw(self, uuids: Sequence[str], *, state: str = "cancelled") -> None:
        """Drops queued prompts (they never run), with the CLI's ``cancelled`` lifecycle frame."""
        for uuid in uuids:
            if uuid in self._queued:
                self._queued.remove(uuid)
                self._withdrawn.add(uuid)
                frame = {"type": "command_lifecycle", "command_uuid": uuid, "state": state}
                await self.write_frame(self._fill(frame))

    async def _answer_query(self, subtype: str, request: dict[str, Any]) -> dict[str, Any]:
        """The answers of Claude Code 2.1.329 to the informational and settings requests.

        Raises:
            _Refused: The CLI's error answer (its text).
        """
        script = self.script
        if subtype == "get_settings":
            sources: list[dict[str, Any]] = [
                {"source": s, "settings": dict(v)} for s, v in self.settings.items()
            ]
            effective: dict[str, Any] = {}
            for layer in self.settings.values():
                effective.update(layer)
            return {
                "effective": effective,
                "sources": sources,
                "served_settings_state": "ineligible",
                "applied": {"model": self.model, "effort": None, "advisor": None},
            }
        if subtype == "update_settings":
            source, settings = request.get("source"), request.get("settings")
            allowed = {"localSettings": "outputStyle", "userSettings": "effortLevel"}
            if source not in allowed:
                raise _Refused(f"update_settings: unsupported source {source}")
            if not isinstance(settings, dict):
                raise _Refused("update_settings: settings must be an object")
            bad = sorted(k for k in settings if k != allowed[str(source)])
            if bad:
                raise _Refused(f"update_settings keys not allowed: {', '.join(bad)}")
            self.settings.setdefault(str(source), {}).update(settings)
            return {}
        if subtype == "get_task_output":
            task_id = request.get("task_id")
            if not isinstance(task_id, str) or task_id not in script.task_outputs:
                raise _Refused(
                    "get_task_output: no shell or Monitor task with that task_id in this session"
                )
            output = script.task_outputs[task_id]
            return {"output": output, "total_bytes": len(output.encode()), "truncated": False}
        if subtype == "seed_read_state":
            self.read_state[str(request.get("path"))] = request.get("mtime")
            return {}
        if subtype == "cancel_async_message":
            uuid = request.get("message_uuid")
            if uuid in self._queued:
                await self._withdraw([str(uuid)])
                return {"cancelled": True, "message_uuid": uuid}
            return {"cancelled": False}
        if subtype == "rename_session":
            self.title = str(request.get("title"))
            frame = {"type": "system", "subtype": "session_title_changed", "title": self.title}
            await self.write_frame(self._fill(frame))
            return {}
        if subtype == "set_color":
            self.color = str(request.get("color"))
            return {}
        if subtype == "set_has_subscribers":
            self.has_subscribers = request.get("has_subscribers")
            return {}
        if subtype == "set_mcp_permission_mode_override":
            named = str(request.get("serverName"))
            self.mcp_mode_overrides[named] = request.get("mode")
            known = {tool.split("__")[1] for tool in self.script.mcp_tools if "__" in tool}
            return {} if named in known else {"warning": f"No MCP server named {named!r}"}
        if subtype == "get_session_cost":
            return {"text": f"Estimated cost:        ${self.total_cost_usd:.4f}"}
        if subtype == "list_models":
            return {"models": [{"value": "claude-fake-1", "displayName": "Fake"}]}
        if subtype == "get_binary_version":
            return {"version": CLI_VERSION, "buildTime": "2026-01-01T00:00:00Z"}
        if subtype == "file_suggestions":
            query = str(request.get("query", ""))
            hits = [{"path": f, "score": 1.0} for f in script.files if query and query in f]
            return {"suggestions": hits, "cwd": self.cwd}
        if subtype == "register_repo_root":
            directory = posixpath.normpath(posixpath.join(self.cwd, str(request.get("directory"))))
            if directory in self.repo_roots:
                raise _Refused(
                    f"register_repo_root: {request.get('directory')} is already a registered "
                    "working directory"
                )
            self.repo_roots.append(directory)
            return {"directory": directory}
        if subtype == "get_hooks_listing":
            return {
                "events": [],
                "hooks": [],
                "eventCatalog": [
                    {
                        "name": "PreToolUse",
                        "summary": "Before tool execution",
                        "supportsMatcher": True,
                    }
                ],
                "policy": {
                    "disabledByPolicy": False,
                    "managedOnly": False,
                    "pluginOnly": False,
                    "allDisabled": False,
                    "policyHookCount": 0,
                },
            }
        if subtype == "list_permission_rules":
            return {
                "state": {
                    "rules": [],
                    "workspaceDirectories": [
                        {"path": root, "source": "session"} for root in self.repo_roots
                    ],
                    "originalCwd": self.cwd,
                    "managedOnly": False,
                }
            }
        if subtype == "mcp_call":
            tool = request.get("tool")
            result = script.mcp_tools.get(tool) if isinstance(tool, str) else None
            if result is None:
                server = str(tool).split("__")[1] if str(tool).count("__") >= 2 else tool
                raise _Refused(f"MCP server not connected: {server}")
            if result.get("isError"):
                content = result.get("content") or []
                raise _Refused(" ".join(str(c.get("text", "")) for c in content))
            keys: tuple[str, ...] = ("content", "structuredContent", "_meta")
            return {k: result[k] for k in keys if k in result}
        # mcp_read_resource
        uri = request.get("uri")
        if not isinstance(uri, str) or not uri.startswith("ui://"):
            raise _Refused("mcp_read_resource: uri must use the ui:// scheme")
        if uri not in script.mcp_resources:
            raise _Refused(f"Server not found: {request.get('serverName')}")
        text = script.mcp_resources[uri]
        return {"contents": [{"uri": uri, "mimeType": "text/html;profile=mcp-app", "text": text}]}

    async def _serve_turns(self) -> None:
        async for prompt in self._prompts_recv:
            uuid = prompt.get("uuid")
            if uuid in self._withdrawn:
                continue  # cancelled while queued: it never runs
            if uuid in self._queued:
                self._queued.remove(uuid)
            await self._run_turn(prompt)

    async def _run_turn(self, prompt: dict[str, Any]) -> None:
        turns = self.script.turns
        if self._turn_index < len(turns):
            turn = turns[self._turn_index]
        else:
            turn = FakeTurn.reply(self.script.default_reply)
        self._turn_index += 1
        uuid = prompt.get("uuid")
        self._current_uuid = uuid if isinstance(uuid, str) else None
        self._interrupted = trio.Event()
        self._turn_starting = True  # an interrupt from now on stops this turn
        if self._interrupt_next is not None and self._interrupt_next == uuid:
            self._interrupted.set()
        self._interrupt_next = None
        self._turn_ended = trio.Event()
        await self._state("running")
        if turn.emit_init:
            # Each turn's init reports the mode in effect, as the real CLI's does.
            frame = init_frame(self.script.session_id)
            await self.write_frame({**frame, "permissionMode": self.permission_mode})
        interrupted = False
        async with trio.open_nursery() as nursery:
            with trio.CancelScope() as scope:
                self._turn_scope = scope
                self._turn_starting = False

                async def watch_interrupt() -> None:
                    await self._interrupted.wait()
                    scope.cancel()

                nursery.start_soon(watch_interrupt)
                # Steps after the Result still run before the CLI goes idle (background work
                # that calls back into the SDK, an exit after an error result, ...).
                result_sent = False
                for step in turn.steps:
                    await self._run_step(step)
                    result_sent = result_sent or isinstance(step, Result)
            self._turn_scope = None
            interrupted = scope.cancelled_caught and not result_sent
            nursery.cancel_scope.cancel()
        if interrupted:
            await self.write_frame(
                self._fill(
                    {
                        "type": "user",
                        "message": {
                            "role": "user",
                            "content": [{"type": "text", "text": "[Request interrupted by user]"}],
                        },
                        "parent_tool_use_id": None,
                    }
                )
            )
            await self._run_step(
                Result(
                    subtype="error_during_execution",
                    is_error=True,
                    extra={"terminal_reason": "aborted_streaming", "errors": []},
                )
            )
        self._turn_ended.set()
        await self._state("idle")

    async def _run_step(self, step: Step) -> None:
        sid = self.script.session_id
        if isinstance(step, Emit):
            await self.write_frame(self._fill(step.frame))
        elif isinstance(step, Text):
            await self.write_frame(self._fill(_assistant([{"type": "text", "text": step.text}])))
        elif isinstance(step, ToolUse):
            block = {"type": "tool_use", "id": step.id, "name": step.name, "input": step.input}
            await self.write_frame(self._fill(_assistant([block])))
        elif isinstance(step, Result):
            # Like the real CLI: total_cost_usd is cumulative over the process.
            self.total_cost_usd += step.total_cost_usd
            frame: dict[str, Any] = {
                "type": "result",
                "subtype": step.subtype,
                "is_error": step.is_error,
                "duration_ms": 10,
                "duration_api_ms": 5,
                "num_turns": 1,
                "session_id": sid,
                "total_cost_usd": self.total_cost_usd,
                "usage": step.usage,
                "permission_denials": [],
                "stop_reason": "end_turn",
            }
            if self._current_uuid is not None:
                # Like the real CLI: the result names the prompt(s) it answers.
                frame["user_message_uuid"] = self._current_uuid
                frame["user_message_uuids"] = [self._current_uuid]
            if step.subtype == "success":
                frame["result"] = step.text
            frame.update(step.extra)
            await self.write_frame(self._fill(frame))
        elif isinstance(step, Request):
            self._request_counter += 1
            rid = f"{self._request_counter:08d}-fake-{fresh_uuid().hex[:8]}"
            frame = {
                "type": "control_request",
                "request_id": rid,
                "request": {"subtype": step.subtype, **step.fields},
            }
            self.requests_sent.append(frame)
            waiter = trio.Event()
            self._waiting[rid] = waiter
            await self.write_frame(frame)
            if step.wait:
                await waiter.wait()
        elif isinstance(step, Sleep):
            await trio.sleep(step.seconds)
        elif isinstance(step, Raw):
            await self.write_bytes(step.data.encode() * step.repeat)
        elif isinstance(step, Stderr):
            await self.write_stderr(step.text)
        elif isinstance(step, Exit):
            if step.stderr:
                await self.write_stderr(step.stderr)
            raise _Exited(step.code)
        elif isinstance(step, Kill):
            raise _Exited(-int(getattr(signal, step.signal)))
        elif isinstance(step, Hang):
            await trio.sleep_forever()
        elif isinstance(step, StopReadingStdin):
            self._stop_reading.set()
        elif isinstance(step, WaitForInterrupt):
            await trio.sleep_forever()  # the interrupt cancels the turn's scope
        elif isinstance(step, Flood):
            line = orjson.dumps(self._fill(step.frame)) + b"\n"
            per_chunk = max(1, 256 * 1024 // len(line))
            chunk = line * per_chunk
            full, rest = divmod(step.count, per_chunk)
            with trio.CancelScope(shield=True):  # output already made: see Flood
                for _ in range(full):
                    await self.write_bytes(chunk)
                if rest:
                    await self.write_bytes(line * rest)


def _assistant(content: list[dict[str, Any]], model: str = "claude-fake-1") -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {
            "id": f"msg_fake_{fresh_uuid().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        },
        "parent_tool_use_id": None,
    }


# ------------------------------------------------------------ transports


class _InProcessChild(ChildProcess):
    def __init__(self, fake: FakeCLI) -> None:
        self.fake = fake
        stdin_send, stdin_recv = trio.testing.memory_stream_one_way_pair()
        stdout_send, stdout_recv = trio.testing.memory_stream_one_way_pair()
        stderr_send, stderr_recv = trio.testing.memory_stream_one_way_pair()
        self.stdin = stdin_send
        self.stdout = stdout_recv
        self.stderr = stderr_recv
        self._fake_streams = (stdin_recv, stdout_send, stderr_send)
        self.pid = None
        self._returncode: int | None = None
        self._done = trio.Event()
        self._scope = trio.CancelScope()

    @property
    def returncode(self) -> int | None:
        return self._returncode

    async def run(self) -> None:
        code = -int(signal.SIGKILL)
        try:
            with self._scope:
                code = await self.fake.run(*self._fake_streams)
            if self._scope.cancelled_caught:
                code = self._kill_code
        finally:
            self._returncode = code
            # Like a dead process: its pipes close.
            with trio.CancelScope(shield=True):
                for stream in self._fake_streams:
                    try:
                        await stream.aclose()
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        pass
            self._done.set()

    _kill_code = -int(signal.SIGKILL)

    async def wait(self) -> int:
        await self._done.wait()
        assert self._returncode is not None
        return self._returncode

    def terminate(self) -> None:
        self._kill_code = -int(signal.SIGTERM)
        self._scope.cancel()

    def kill(self) -> None:
        self._kill_code = -int(signal.SIGKILL)
        self._scope.cancel()


class FakeCLITransport(Transport):
    """Runs a :class:`FakeCLI` in-process over memory streams (no subprocess).

    Args:
        script: The fake's script.

    Attributes:
        fake: The most recently started fake (inspect ``received`` and ``responses``).
        specs: Every launch spec the session asked for (argv, env), in order.
    """

    def __init__(self, script: FakeScript | None = None) -> None:
        self.script = script or FakeScript()
        self.fake: FakeCLI | None = None
        self.specs: list[LaunchSpec] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        """Starts a fresh fake CLI task in the session's nursery."""
        self.specs.append(spec)
        fake = FakeCLI(self.script)
        fake.argv = list(spec.argv)
        if spec.cwd is not None:
            fake.cwd = spec.cwd
        self.fake = fake
        child = _InProcessChild(fake)
        nursery.start_soon(child.run)
        await trio.lowlevel.checkpoint()
        return child


class FakeCLIProcessTransport(Transport):
    """Runs the fake CLI as a real subprocess (``python -m trio_claude.testing.fake_cli``).

    Args:
        script: The fake's script.
        directory: Where to write the script file.
    """

    #: It starts the fake through ``SubprocessTransport``, spec (and its limits) included.
    supports_resource_limits = True

    def __init__(self, script: FakeScript, directory: str | os.PathLike[str]) -> None:
        self.script = script
        self.path = Path(directory) / f"fake-cli-script-{uuid_mod.uuid4().hex[:8]}.json"
        self.path.write_bytes(script.to_json())
        self.specs: list[LaunchSpec] = []
        self._inner = SubprocessTransport()

    def command(self, spec: LaunchSpec) -> list[str]:
        """The command line actually run for ``spec``."""
        return [
            sys.executable,
            "-m",
            "trio_claude.testing.fake_cli",
            "--script",
            str(self.path),
            "--",
            *spec.argv[1:],
        ]

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        """Spawns the fake as a child process."""
        self.specs.append(spec)
        return await self._inner.start(attrs.evolve(spec, argv=self.command(spec)), nursery)


# ------------------------------------------------------------------ main


async def _main_async(script: FakeScript, argv: list[str]) -> int:
    fake = FakeCLI(script)
    fake.argv = argv
    stdin = trio.lowlevel.FdStream(os.dup(0))
    stdout = trio.lowlevel.FdStream(os.dup(1))
    stderr = trio.lowlevel.FdStream(os.dup(2))
    return await fake.run(stdin, stdout, stderr)


def main(args: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m trio_claude.testing.fake_cli``."""
    parser = argparse.ArgumentParser(prog="fake_cli", description=__doc__.splitlines()[0])
    parser.add_argument("--script", help="a FakeScript as JSON (default: one default reply)")
    parser.add_argument("rest", nargs="*", help="the CLI flags the SDK passed (recorded, ignored)")
    ns = parser.parse_args(args)
    script = FakeScript.from_json(Path(ns.script).read_bytes()) if ns.script else FakeScript()
    code = trio.run(_main_async, script, list(ns.rest))
    if code < 0:
        sys.stdout.flush()
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    main()
