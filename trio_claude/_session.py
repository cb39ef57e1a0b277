"""The trio shell around the protocol core: one session = one CLI process = one nursery.

Inside a session's nursery run:

- the **reader** (:meth:`Session._reader`): stdout bytes -> sans-io core -> events. Control
  responses complete pending requests, control requests are handed to the dispatcher, messages go
  to an in-memory queue. It never waits for the user while a control request could be read: the
  queue only pauses the reader beyond ``max_buffered_bytes``.
- the **writer** (:meth:`Session._writer`): the only task that writes stdin, fed by a channel.
- the **stderr pump** (:meth:`Session._stderr_pump`): drains stderr into a ring buffer, always.
- one task per CLI->SDK request (:meth:`Session._serve_request`), each in its own cancel scope so
  ``control_cancel_request`` cancels exactly that one.

The process is spawned by the transport and stopped by
:func:`~trio_claude._transport._process.shutdown_process`, shielded and bounded.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import uuid as uuid_module
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs
import orjson
import trio

from ._budget import Budget
from ._callbacks import ControlErrorReply, Handler, McpRouter, build_handlers
from ._cli_version import warn_if_outdated
from ._control_types import (
    ContextUsage,
    InterruptResult,
    McpServerStatus,
    McpSetServersResult,
    ReadFileResult,
    RewindFilesResult,
)
from ._diagnose import ExitContext, diagnose_exit
from ._errors import (
    BudgetExceededError,
    ClaudeSDKError,
    CLIConnectionError,
    ConfigurationError,
    ControlRequestError,
    ControlTimeoutError,
    ProcessError,
    ResultError,
    SessionClosedError,
    StallTimeoutError,
)
from ._limits import LimitBreach, LimitWatch, ResourceUsage, exit_breach
from ._options import ClaudeAgentOptions, validate_options
from ._protocol._codec import HOT_DECODERS as _HOT_DECODERS
from ._protocol._codec import decode_message, decode_server_info, unstructure_block
from ._protocol._connection import ClaudeProtocol
from ._protocol._control import ControlResponse
from ._protocol._events import (
    ControlCancel,
    ControlRequest,
    InvalidLine,
    KeepAlive,
    OversizeLine,
    SessionStateChanged,
    TranscriptMirror,
)
from ._redact import redact, secret_values
from ._transport._base import ChildProcess, LaunchSpec, Transport
from ._transport._command import build_argv, build_env, build_initialize
from ._transport._discovery import find_cli
from ._transport._process import SubprocessTransport, shutdown_process
from ._util import StderrTail, collapse_group

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

from .types import (
    AgentInfo,
    AssistantMessage,
    CommandLifecycleMessage,
    InitMessage,
    Message,
    ModelInfo,
    ResultMessage,
    ServerInfo,
    SlashCommand,
    TurnResult,
    UserMessage,
)

if TYPE_CHECKING:
    from ._mirror import TranscriptMirror as _TranscriptMirror

__all__ = [
    "MessageStream",
    "Session",
    "SessionStatistics",
    "connect_session",
    "open_session",
]

logger = logging.getLogger("trio_claude")

_loads = orjson.loads

#: Bytes asked of the pipe per read. Large reads mean few wakeups when the CLI floods.
_READ_SIZE = 64 * 1024
#: Messages handed out between two forced checkpoints when the queue is never empty.
_CHECKPOINT_EVERY = 4096

_PROTOCOL_EVENTS = frozenset(
    {
        ControlResponse,
        ControlRequest,
        ControlCancel,
        SessionStateChanged,
        KeepAlive,
        TranscriptMirror,
        InvalidLine,
        OversizeLine,
    }
)

Prompt = str | Sequence[Any] | UserMessage | dict[str, Any]


@attrs.frozen(kw_only=True)
class SessionStatistics:
    """A snapshot of a session's buffers and counters (see :meth:`Session.statistics`).

    Attributes:
        buffered_messages: Messages read from the CLI and not yet taken by the user.
        buffered_bytes: Their approximate size in bytes (``max_buffered_bytes`` bounds it).
        max_buffered_bytes: The bound beyond which the reader pauses.
        reader_paused: Whether the reader is paused on that bound right now.
        pending_requests: Our control requests waiting for the CLI's answer.
        inflight_callbacks: CLI->SDK requests being handled right now.
        bytes_read: Bytes read from the CLI's stdout.
        lines_read: Lines read.
        messages_read: Messages decoded (user-visible ones and SDK-only ones).
        invalid_lines: Lines that were not JSON objects or could not be decoded.
        oversize_lines: Lines dropped for exceeding ``max_line_bytes``.
        turns_sent: User messages sent.
        results_received: Result messages received.
        state: The CLI's run state (``idle``, ``running``, ``requires_action``) or ``None``.
        spawn_seconds: How long starting the process took (``None`` before it started).
        initialize_seconds: How long the CLI took to answer ``initialize``.
        resource_usage: The last sample of the CLI's process tree (processes, memory, CPU);
            ``None`` unless ``resource_limits`` limits memory or CPU.
    """

    buffered_messages: int
    buffered_bytes: int
    max_buffered_bytes: int
    reader_paused: bool
    pending_requests: int
    inflight_callbacks: int
    bytes_read: int
    lines_read: int
    messages_read: int
    invalid_lines: int
    oversize_lines: int
    turns_sent: int
    results_received: int
    state: str | None
    spawn_seconds: float | None = None
    initialize_seconds: float | None = None
    resource_usage: ResourceUsage | None = None


class _Pending:
    """One of our control requests waiting for its answer (a one-shot future)."""

    __slots__ = ("done", "error", "response")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.response: ControlResponse | None = None
        self.error: BaseException | None = None


class MessageStream:
    """The messages of one turn (``receive_response()``) or of the whole session.

    An async iterator, not an async generator: it owns no task and no cancel scope, so it can be
    abandoned, ``break``-ed out of, or cancelled anywhere without corrupting anything.

    Cancellation while waiting inside ``__anext__`` of a turn stream abandons the turn: the session
    interrupts it and drops its remaining messages. ``break`` is not cancellation: the turn goes
    on, and the next ``receive_response()`` resumes it.
    """

    def __init__(
        self, session: Session, *, until_result: bool, until_input_done: bool = False
    ) -> None:
        self._session = session
        self._until_result = until_result
        self._until_input_done = until_input_done
        self._finished = False

    def __aiter__(self) -> MessageStream:
        return self

    @property
    def finished(self) -> bool:
        """Whether the stream has delivered its last message (the turn's result, say)."""
        return self._finished

    async def __anext__(self) -> Message:
        session = self._session
        if self._finished:
            error = session._budget_error
            if error is not None:
                # The turn that crossed a limit has delivered its result; now say why it ended.
                session._budget_error = None
                raise error
            raise StopAsyncIteration
        queue = session._queue
        if queue and session._since_checkpoint < _CHECKPOINT_EVERY:
            # Fast path: a message is already here; the checkpoint is taken once per batch.
            session._since_checkpoint += 1
            message = queue.popleft()
            if session._reader_resume is not None:
                session._maybe_resume_reader()
            if isinstance(message, bytes):
                # Never a result (results are decoded as they arrive); the prefix test of
                # defer_messages guarantees a dict with a known "type" if it parses.
                try:
                    obj = _loads(message)
                    return _HOT_DECODERS[obj["type"]](obj)
                except Exception:
                    decoded = session._proto.decode_deferred(message)
                    if decoded is None:
                        return await self.__anext__()  # not JSON after all: logged, skipped
                    return decoded
            if message.__class__ is ResultMessage:
                # Every delivered result goes through _ends_turn (it forgets background ones).
                ends = session._ends_turn(message)
                if self._until_result:
                    self._finished = ends
            return message
        try:
            next_message = await session._next_message(
                turn=self._until_result, until_input_done=self._until_input_done
            )
        except trio.Cancelled:
            if self._until_result:
                session._abandon_turn()
            raise
        if next_message is None:
            self._finished = True
            raise StopAsyncIteration
        if type(next_message) is ResultMessage:
            ends = session._ends_turn(next_message)
            if self._until_result:
                self._finished = ends
        return next_message


class Session:
    """A live Claude Code session: one CLI process, driven over stream-json.

    Create it with :func:`open_session` (or :func:`connect_session` inside your own nursery); do
    not instantiate it directly.
    """

    def __init__(self, options: ClaudeAgentOptions, spec: LaunchSpec, transport: Transport) -> None:
        self._options = options
        self._spec = spec
        self._transport = transport
        # Message lines wait in the queue undecoded and are decoded on delivery (see
        # ClaudeProtocol's defer_messages), except when a budget must be charged as they arrive.
        self._proto = ClaudeProtocol(
            max_line_bytes=options.effective_max_line_bytes,
            defer_messages=options.budget is None,
        )
        self._proc: ChildProcess | None = None
        self._nursery: trio.Nursery | None = None
        self._out_send, self._out_recv = trio.open_memory_channel[bytes](math.inf)
        self._pending: dict[str, _Pending] = {}
        self._inflight: dict[str, trio.CancelScope] = {}
        self._handlers: dict[str, Handler] = build_handlers(options)
        self._stderr = StderrTail()
        # Secret values of the child's environment: masked wherever CLI output is shown.
        self._secrets = secret_values(spec.env)
        self._writer_done = trio.Event()
        self._stderr_done = trio.Event()
        # The user-facing queue. Its size in bytes is estimated from the average size of the
        # messages read so far: exact enough for a memory bound, and free on the hot path.
        self._queue: deque[Message | bytes] = deque()
        self._avg_message_bytes = 512.0
        self._wakeup = trio.Event()
        self._reader_resume: trio.Event | None = None
        self._since_checkpoint = 0
        # Turns abandoned by cancellation whose messages the reader drops up to their result.
        self._discard_turns = 0
        # Turn correlation: every prompt is sent with a uuid; a result ends the turns whose
        # uuids it lists. Results that list only other uuids (background tasks, turns the CLI
        # runs on its own) are delivered but end no turn: their ids are kept here until then.
        self._open_turns: deque[str] = deque()
        # Uuids the SDK chose (not the caller): their command_lifecycle frames are plumbing.
        self._auto_uuids: dict[str, None] = {}
        self._cli_reports_uuids = False
        self._background_results: set[int] = set()
        self._drained = trio.Event()
        self._drained.set()
        # End of the stream and why.
        self._ended = False
        self._end_error: BaseException | None = None
        self._last_result: ResultMessage | None = None
        self._exit_code: int | None = None
        self._close_requested = trio.Event()
        self._closing = False
        self._closed = False
        self._done = trio.Event()
        self._broken: BaseException | None = None
        # Transcript mirroring into a session store, and a resume's temporary config dir.
        self._mirror: _TranscriptMirror | None = None
        if options.session_store is not None:
            # Imported here: session stores (and the on-disk session code) load on first use.
            from ._mirror import TranscriptMirror as _TranscriptMirror
            from ._mirror import cli_config_dir

            self._mirror = _TranscriptMirror(
                options.session_store,
                cli_config_dir(spec.env) / "projects",
                eager=options.session_store_flush == "eager",
                report_error=self._inject_frame,
            )
        self._temp_config_dir: str | None = None
        self._reader_done = trio.Event()
        self._state_changed = trio.Event()
        self._spawn_seconds: float | None = None
        self._initialize_seconds: float | None = None
        # Memory and CPU of the CLI's process tree, when resource_limits asks for them.
        self._limit_watch: LimitWatch | None = None
        # Whether a stream_input() feed has finished (True when there is none).
        self._input_done = True
        # Budget and stall watchdog.
        self._budget: Budget | None = options.budget
        self._budget_error: BudgetExceededError | None = None
        self._turn_tokens: dict[str, int] = {}
        self._turn_tokens_charged = 0
        self._cost_charged = 0.0
        self._last_activity = 0.0
        self._last_event: Any = None
        #: The typed ``initialize`` reply; ``None`` only while connecting.
        self.server_info: ServerInfo | None = None
        #: The CLI's version as reported by ``system/init`` or the initialize reply.
        self.cli_version: str | None = None
        self._cli_version_checked = False

    # ------------------------------------------------------------------ public

    @property
    def session_id(self) -> str | None:
        """The CLI's session id; ``None`` until the CLI reports one."""
        return self._proto.session_id

    @property
    def pid(self) -> int | None:
        """The pid of the process the transport spawned (the CLI, or a wrapper)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def options(self) -> ClaudeAgentOptions:
        """The options this session was opened with."""
        return self._options

    @property
    def closed(self) -> bool:
        """Whether the session is closed or closing."""
        return self._closing or self._closed

    @property
    def returncode(self) -> int | None:
        """The CLI's exit status once it has exited."""
        return self._proc.returncode if self._proc is not None else None

    @property
    def stderr_tail(self) -> str:
        """The last lines the CLI wrote to stderr (credentials masked)."""
        return redact(self._stderr.text(), self._secrets)

    async def send(
        self,
        prompt: Prompt,
        *,
        parent_tool_use_id: str | None = None,
        uuid: str | None = None,
    ) -> None:
        """Sends a user message, starting a turn.

        Args:
            prompt: Text, a list of content blocks (typed or wire dicts), a
                :class:`~trio_claude.UserMessage`, or a complete wire ``user`` frame as a dict.
            parent_tool_use_id: Marks the message as belonging to a tool call's sub-conversation.
            uuid: A client-chosen message uuid, echoed by the CLI on the turn's messages.

        Raises:
            SessionClosedError: The session is closed or broken.
            ProcessError: The CLI has exited.
        """
        if self._discard_turns:
            # A cancelled turn is still draining; the next turn must not see its messages.
            await self._drained.wait()
        else:
            await trio.lowlevel.checkpoint()
        self._check_usable()
        budget = self._budget
        if budget is not None:
            budget.check()
            budget.start()
        if uuid is None:
            uuid = prompt.uuid if isinstance(prompt, UserMessage) and prompt.uuid else None
        if uuid is None and isinstance(prompt, dict):
            uuid = prompt.get("uuid") if isinstance(prompt.get("uuid"), str) else None
        if uuid is None:
            uuid = str(uuid_module.uuid4())
            self._auto_uuids[uuid] = None
            if len(self._auto_uuids) > 1024:
                del self._auto_uuids[next(iter(self._auto_uuids))]
        data = self._encode_prompt(prompt, parent_tool_use_id, uuid)
        self._open_turns.append(uuid)
        self._last_activity = trio.current_time()
        self._out_send.send_nowait(data)

    def receive_response(self) -> MessageStream:
        """The messages of the current turn, up to and including its :class:`ResultMessage`.

        An error result is delivered like any other result and ends the stream normally.

        Raises (from iteration):
            ProcessError: The CLI exited before the turn finished.
            SessionClosedError: The session was closed.
        """
        return MessageStream(self, until_result=True)

    def receive_messages(self) -> MessageStream:
        """Every message, across turns, until the CLI's output ends."""
        return MessageStream(self, until_result=False)

    async def stream_input(
        self,
        prompts: AsyncIterable[Prompt],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Sends each prompt ``prompts`` yields, as it comes (one turn each).

        Start it with ``await nursery.start(session.stream_input, prompts)`` and receive
        concurrently with :meth:`receive_until_input_done` (or ``receive_messages()``): the
        prompts are written as soon as they are produced, and the CLI queues them.
        """
        self._input_done = False
        task_status.started()
        try:
            async for prompt in prompts:
                await self.send(prompt)
        finally:
            self._input_done = True
            self._wakeup.set()

    def receive_until_input_done(self) -> MessageStream:
        """Messages until :meth:`stream_input` has finished and every turn it sent has ended."""
        return MessageStream(self, until_result=False, until_input_done=True)

    async def run(
        self, prompt: Prompt, *, parent_tool_use_id: str | None = None, uuid: str | None = None
    ) -> TurnResult:
        """Sends ``prompt`` and collects the turn.

        Returns:
            The turn's messages and result.

        Raises:
            ResultError: The turn ended with an error result.
        """
        await self.send(prompt, parent_tool_use_id=parent_tool_use_id, uuid=uuid)
        return await self.collect_response()

    async def collect_response(self) -> TurnResult:
        """Collects the current turn's messages (like iterating ``receive_response()``).

        Raises:
            ResultError: The turn ended with an error result.
        """
        messages: list[Message] = []
        async for message in self.receive_response():
            messages.append(message)
        result = messages[-1] if messages else None
        if type(result) is not ResultMessage:
            raise CLIConnectionError("the CLI's output ended before the turn's result")
        if self._budget_error is not None:
            error, self._budget_error = self._budget_error, None
            raise error
        if result.is_error:
            raise ResultError(result)
        return TurnResult(messages=tuple(messages), result=result)

    async def interrupt(self) -> InterruptResult:
        """Interrupts the running turn; keep receiving to get its remaining messages and result."""
        return InterruptResult.from_wire(await self._request("interrupt", {}))

    async def set_model(self, model: str | None = None) -> None:
        """Switches the model for the following turns (``None``: the default model)."""
        await self._request("set_model", {"model": model})

    async def set_permission_mode(self, mode: str) -> None:
        """Changes the permission mode (``default``, ``acceptEdits``, ``plan``, ...)."""
        await self._request("set_permission_mode", {"mode": mode})

    async def set_max_thinking_tokens(self, max_thinking_tokens: int | None) -> None:
        """Changes the thinking budget (``None`` clears it, ``0`` disables thinking)."""
        await self._request("set_max_thinking_tokens", {"max_thinking_tokens": max_thinking_tokens})

    async def rewind_files(
        self, user_message_id: str, *, dry_run: bool = False
    ) -> RewindFilesResult:
        """Restores files changed since the user message ``user_message_id``.

        Needs ``enable_file_checkpointing=True``; user message ids are the ``uuid`` of
        :class:`UserMessage` frames (``extra_args={"replay-user-messages": None}`` echoes them).

        Args:
            user_message_id: The user message to rewind to.
            dry_run: Only report what would change.
        """
        fields: dict[str, Any] = {"user_message_id": user_message_id}
        if dry_run:
            fields["dry_run"] = True
        return RewindFilesResult.from_wire(await self._request("rewind_files", fields))

    async def mcp_status(self) -> list[McpServerStatus]:
        """The connection state of every MCP server."""
        reply = await self._request("mcp_status", {})
        servers = reply.get("mcpServers")
        entries = servers if isinstance(servers, list) else []
        return [McpServerStatus.from_wire(s) for s in entries if isinstance(s, dict)]

    async def set_mcp_servers(self, servers: Mapping[str, Any]) -> McpSetServersResult:
        """Replaces the session's dynamic MCP servers, in-process ones included.

        Args:
            servers: Server name -> config, as for ``mcp_servers`` (stdio, sse, http, or
                :func:`~trio_claude.create_sdk_mcp_server` results).
        """
        router = self._handlers["mcp_message"]
        assert isinstance(router, McpRouter)
        reply = await self._request("mcp_set_servers", {"servers": router.add(servers)})
        result = McpSetServersResult.from_wire(reply)
        router.remove(result.removed)
        return result

    async def reconnect_mcp_server(self, name: str) -> None:
        """Reconnects the MCP server ``name``."""
        await self._request("mcp_reconnect", {"serverName": name})

    async def toggle_mcp_server(self, name: str, enabled: bool) -> None:
        """Enables or disables the MCP server ``name``."""
        await self._request("mcp_toggle", {"serverName": name, "enabled": enabled})

    async def stop_task(self, task_id: str) -> None:
        """Stops the background task ``task_id`` (see ``TaskStartedMessage``)."""
        await self._request("stop_task", {"task_id": task_id})

    async def get_context_usage(self, *, detail: str | None = None) -> ContextUsage:
        """The context-window breakdown (what ``/context`` shows).

        Args:
            detail: ``"summary"`` or ``"full"`` (newer CLIs).
        """
        fields = {"detail": detail} if detail is not None else {}
        return ContextUsage.from_wire(await self._request("get_context_usage", fields))

    async def get_usage(self) -> dict[str, Any]:
        """The session's usage data (what ``/usage`` shows; the CLI's shape, experimental)."""
        return await self._request("get_usage", {})

    async def reload_plugins(
        self,
        *,
        hold_on_cache_impact: bool | None = None,
        add_plugins: Sequence[str] | None = None,
        refuse_if_busy: bool | None = None,
    ) -> dict[str, Any]:
        """Reloads plugins from disk; returns the CLI's refreshed commands, agents and plugins."""
        fields: dict[str, Any] = {}
        if hold_on_cache_impact is not None:
            fields["hold_on_cache_impact"] = hold_on_cache_impact
        if add_plugins is not None:
            fields["add_plugins"] = list(add_plugins)
        if refuse_if_busy is not None:
            fields["refuse_if_busy"] = refuse_if_busy
        return await self._request("reload_plugins", fields)

    async def reload_skills(self) -> list[dict[str, Any]]:
        """Reloads skills from disk; returns them (``name``, ``description``...)."""
        skills = (await self._request("reload_skills", {})).get("skills")
        return [s for s in skills if isinstance(s, dict)] if isinstance(skills, list) else []

    async def reload_output_styles(self) -> list[str]:
        """Reloads output styles from disk; returns the available ones."""
        styles = (await self._request("reload_output_styles", {})).get("available_output_styles")
        return [str(s) for s in styles] if isinstance(styles, list) else []

    async def apply_flag_settings(self, settings: Mapping[str, Any]) -> None:
        """Merges ``settings`` into the CLI's flag-settings layer (like ``--settings``)."""
        await self._request("apply_flag_settings", {"settings": dict(settings)})

    async def read_file(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int | None = None,
        encoding: str | None = None,
    ) -> ReadFileResult | None:
        """Reads a file through the CLI's permission rules; ``None`` if the CLI refuses or fails."""
        fields: dict[str, Any] = {"path": os.fspath(path)}
        if max_bytes is not None:
            fields["max_bytes"] = max_bytes
        if encoding is not None:
            fields["encoding"] = encoding
        try:
            reply = await self._request("read_file", fields)
        except ControlRequestError:
            return None
        return ReadFileResult.from_wire(reply) if "contents" in reply else None

    async def background_tasks(self, tool_use_id: str | None = None) -> dict[str, Any]:
        """Moves running foreground work (a Bash command, a subagent) to the background."""
        fields = {"tool_use_id": tool_use_id} if tool_use_id is not None else {}
        return await self._request("background_tasks", fields)

    def supported_commands(self) -> list[SlashCommand]:
        """The slash commands and skills the CLI offers (from ``initialize``)."""
        return list(self.server_info.commands) if self.server_info else []

    def supported_models(self) -> list[ModelInfo]:
        """The models the CLI offers (from ``initialize``)."""
        return list(self.server_info.models) if self.server_info else []

    def supported_agents(self) -> list[AgentInfo]:
        """The subagents the CLI knows (from ``initialize``)."""
        return list(self.server_info.agents) if self.server_info else []

    def account_info(self) -> dict[str, Any] | None:
        """The account the CLI runs as (from ``initialize``)."""
        return self.server_info.account if self.server_info else None

    async def request(
        self, subtype: str, fields: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Sends any SDK->CLI control request and returns the CLI's answer.

        Args:
            subtype: The request subtype.
            fields: Its other fields.
            timeout: Seconds to wait for the answer (default ``control_timeout``).

        Raises:
            ControlRequestError: The CLI answered with an error.
            ControlTimeoutError: The CLI did not answer in time.
        """
        return await self._request(subtype, dict(fields or {}), timeout=timeout)

    @property
    def state(self) -> str | None:
        """The CLI's run state: ``idle``, ``running``, ``requires_action`` (``None`` if unknown)."""
        return self._proto.state

    async def wait_idle(self, timeout: float = math.inf) -> bool:
        """Waits until the CLI reports its run idle: no turn and no background work left.

        After a turn's result the CLI may still be busy (background tasks, hooks that call
        back into the SDK); the one-shot APIs wait for this before closing stdin when
        callbacks are configured, as the official SDKs do.

        Args:
            timeout: The longest wait, in seconds.

        Returns:
            ``True`` when idle (or the CLI's output ended, or it never reports a state),
            ``False`` on timeout.
        """
        with trio.move_on_after(timeout):
            while self._proto.state not in (None, "idle") and not (self._ended or self.closed):
                await self._state_changed.wait()
            await trio.lowlevel.checkpoint()
            return True
        return False

    def statistics(self) -> SessionStatistics:
        """A snapshot of buffer use, pending requests and counters."""
        proto = self._proto
        return SessionStatistics(
            buffered_messages=len(self._queue),
            buffered_bytes=self._queued_bytes,
            max_buffered_bytes=self._options.max_buffered_bytes,
            reader_paused=self._reader_resume is not None,
            pending_requests=len(self._pending),
            inflight_callbacks=len(self._inflight),
            bytes_read=proto.bytes_received,
            lines_read=proto.lines_received,
            messages_read=proto.messages_received,
            invalid_lines=proto.invalid_lines,
            oversize_lines=proto.oversize_lines,
            turns_sent=proto.turns_sent,
            results_received=proto.results_received,
            state=proto.state,
            spawn_seconds=self._spawn_seconds,
            initialize_seconds=self._initialize_seconds,
            resource_usage=self._limit_watch.usage if self._limit_watch is not None else None,
        )

    async def aclose(self) -> None:
        """Closes the session and stops the CLI. Idempotent, shielded and bounded in time.

        Closes stdin, waits ``close_timeout`` for a clean exit, then SIGTERM, 1 s, SIGKILL, and
        always reaps the process.
        """
        self._request_close()
        with trio.CancelScope(shield=True):
            await self._done.wait()

    # ---------------------------------------------------------------- internals

    def _check_usable(self) -> None:
        if self._broken is not None:
            raise SessionClosedError(f"the session is broken: {self._broken}") from self._broken
        if self._closing or self._closed:
            raise SessionClosedError("the session is closed")
        if self._ended:
            if self._end_error is not None:
                raise self._end_error
            raise SessionClosedError("the CLI has exited")

    def _encode_prompt(self, prompt: Prompt, parent: str | None, uuid: str | None) -> bytes:
        extra = {"client_composed": True} if self._options.verbatim_prompts else None
        if isinstance(prompt, str):
            return self._proto.send_user(
                prompt, session_id="default", parent_tool_use_id=parent, uuid=uuid, extra=extra
            )
        if isinstance(prompt, UserMessage):
            content = prompt.content
            return self._proto.send_user(
                content if isinstance(content, str) else list(content),
                session_id="default",
                parent_tool_use_id=parent or prompt.parent_tool_use_id,
                uuid=uuid or prompt.uuid,
                extra=extra,
            )
        if isinstance(prompt, dict):
            if prompt.get("type") != "user":
                raise ConfigurationError("a dict prompt must be a wire 'user' frame")
            frame = dict(prompt)
            frame["uuid"] = uuid
            frame.setdefault("session_id", "default")
            frame.setdefault("parent_tool_use_id", parent)
            if extra:
                frame.update(extra)
            return self._proto.send_raw(frame)
        if isinstance(prompt, Sequence):
            blocks = [b if isinstance(b, dict) else unstructure_block(b) for b in prompt]  # type: ignore[arg-type]
            return self._proto.send_user(
                blocks, session_id="default", parent_tool_use_id=parent, uuid=uuid, extra=extra
            )
        raise ConfigurationError(f"unsupported prompt type: {type(prompt).__name__}")

    async def _request(
        self, subtype: str, fields: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        if self._closing or self._closed or self._ended or self._broken is not None:
            # A cancellation of the caller may be what closed the session: it wins over the
            # typed error (tests/faults/test_cancellation.py).
            await trio.lowlevel.checkpoint_if_cancelled()
        self._check_usable()
        request_id, data = self._proto.send_control_request(subtype, fields)
        pending = _Pending()
        self._pending[request_id] = pending
        limit = self._options.control_timeout if timeout is None else timeout
        try:
            self._out_send.send_nowait(data)
            with trio.move_on_after(limit):
                await pending.done.wait()
        finally:
            if not pending.done.is_set():
                self._pending.pop(request_id, None)
                self._proto.forget_request(request_id)
        if not pending.done.is_set():
            raise ControlTimeoutError(subtype, limit)
        if pending.error is not None:
            raise pending.error
        response = pending.response
        assert response is not None
        if not response.ok:
            raise ControlRequestError(subtype, response.error or "", response.error_code)
        return response.response

    async def _next_message(self, *, turn: bool, until_input_done: bool = False) -> Message | None:
        while True:
            if self._queue:
                self._since_checkpoint += 1
                if self._since_checkpoint >= _CHECKPOINT_EVERY:
                    self._since_checkpoint = 0
                    await trio.lowlevel.checkpoint()
                    continue
                message = self._queue.popleft()
                if self._reader_resume is not None:
                    self._maybe_resume_reader()
                if isinstance(message, bytes):
                    decoded = self._proto.decode_deferred(message)
                    if decoded is None:
                        continue  # not JSON after all: logged, skipped
                    return decoded
                return message
            if self._ended or self._closing or self._closed:
                # The caller's own cancellation may be why the stream ended: it wins.
                await trio.lowlevel.checkpoint_if_cancelled()
            if self._ended:
                self._end_of_stream(turn)
                return None
            if until_input_done and self._input_done and not self._turn_open():
                return None
            if self._closing or self._closed:
                raise SessionClosedError("the session is closed")
            self._since_checkpoint = 0
            if self._wakeup.is_set():
                self._wakeup = trio.Event()
            deadline = self._watchdog_deadline(turn)
            if deadline == math.inf:
                await self._wakeup.wait()
            else:
                with trio.move_on_at(deadline):
                    await self._wakeup.wait()
                self._on_watchdog(turn)

    def _turn_open(self) -> bool:
        return len(self._open_turns) > self._discard_turns

    def _ends_turn(self, result: ResultMessage) -> bool:
        """Whether a delivered result ends a turn (forgets it if it was a background one)."""
        if self._background_results and id(result) in self._background_results:
            self._background_results.discard(id(result))
            return False
        return True

    def _close_turns(self, result: ResultMessage) -> bool:
        """The reader read ``result``: close the turns it answers; ``False`` if it answers none."""
        raw = result.raw
        uuids = raw.get("user_message_uuids")
        if not isinstance(uuids, list) or not uuids:
            single = raw.get("user_message_uuid")
            uuids = [single] if isinstance(single, str) else []
        open_turns = self._open_turns
        if uuids:
            self._cli_reports_uuids = True
            matched = [u for u in uuids if u in open_turns]
            if not matched:
                return False  # a background task's turn
            for uuid in matched:
                open_turns.remove(uuid)
            return True
        if self._cli_reports_uuids or not open_turns:
            # A CLI that names the prompts it answers names none here: a turn it runs on its
            # own (after a background job, say). And with no turn open, nothing can end.
            return False
        # No correlation data at all (older CLIs, fakes): the oldest open turn ends.
        open_turns.popleft()
        return True

    def _watchdog_deadline(self, turn: bool) -> float:
        deadline = math.inf
        stall = self._options.stall_timeout
        if stall is not None and turn and self._turn_open():
            deadline = self._last_activity + stall
        if self._budget is not None and self._turn_open():
            deadline = min(deadline, self._budget.deadline)
        return deadline

    def _on_watchdog(self, turn: bool) -> None:
        """A receiving call's wait timed out: enforce the seconds budget and the stall timeout."""
        now = trio.current_time()
        if self._budget is not None and now >= self._budget.deadline:
            self._budget.exceeded  # noqa: B018 - checking the clock fires the listeners
        stall = self._options.stall_timeout
        if (
            stall is not None
            and turn
            and not self._queue
            and self._turn_open()
            and now >= self._last_activity + stall
        ):
            last_seen = _describe(self._last_event)
            logger.warning("no frame from the CLI for %g s; interrupting the turn", stall)
            self._abandon_turn()
            raise StallTimeoutError(stall, last_seen)

    @property
    def _queued_bytes(self) -> int:
        return int(len(self._queue) * self._avg_message_bytes)

    def _maybe_resume_reader(self) -> None:
        resume = self._reader_resume
        if resume is not None and self._queued_bytes <= self._options.max_buffered_bytes:
            resume.set()

    def _end_of_stream(self, turn: bool) -> None:
        """Raises what the user must see once the queue is empty and the CLI's output ended."""
        error = self._end_error
        last = self._last_result
        turn_open = bool(self._open_turns)
        # The CLI exits 1 after an error result; the result already said everything.
        if (
            isinstance(error, ProcessError)
            and error.exit_code == 1
            and last is not None
            and last.is_error
            and not turn_open
        ):
            return
        if error is not None:
            raise error
        if turn and turn_open:
            raise CLIConnectionError(
                f"the CLI's output ended before the turn's result (exit code {self._exit_code})"
            )

    def _abandon_turn(self) -> None:
        """A turn's receiver was cancelled: interrupt it and drop the rest of its messages."""
        if self._closing or self._closed or self._ended:
            return
        queue = self._queue
        while queue:
            message = queue.popleft()
            if type(message) is ResultMessage and self._ends_turn(message):
                self._maybe_resume_reader()
                return  # the turn had already finished; its leftovers are gone
        self._maybe_resume_reader()
        if not self._turn_open():
            return  # no turn in flight
        self._discard_turns += 1
        if self._drained.is_set():
            self._drained = trio.Event()
        assert self._nursery is not None
        self._nursery.start_soon(self._drain_abandoned_turn)

    async def _drain_abandoned_turn(self) -> None:
        drained = self._drained
        with trio.move_on_after(self._options.interrupt_timeout):
            try:
                await self._request("interrupt", {})
            except ClaudeSDKError as exc:
                logger.debug("interrupt of an abandoned turn failed: %s", exc)
            await drained.wait()
            return
        if not drained.is_set():
            logger.warning(
                "the CLI did not finish an interrupted turn within %g s; closing the session",
                self._options.interrupt_timeout,
            )
            self._broken = SessionClosedError("an interrupted turn did not end in time")
            self._request_close()

    def _request_close(self) -> None:
        if not self._closing:
            self._closing = True
            self._close_requested.set()
            self._drained.set()
            self._wakeup.set()

    # ------------------------------------------------------------------ tasks

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        if self._budget is not None:
            self._budget._subscribe(self._on_budget_exceeded)
        limiter = self._options.process_limiter
        acquired = False
        try:
            if limiter is not None:
                await limiter.acquire_on_behalf_of(self)
                acquired = True
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                started = trio.current_time()
                proc = await self._transport.start(self._spec, nursery)
                self._spawn_seconds = trio.current_time() - started
                self._proc = proc
                try:
                    nursery.start_soon(self._reader, proc)
                    nursery.start_soon(self._writer, proc.stdin)
                    if proc.stderr is not None:
                        nursery.start_soon(self._stderr_pump, proc.stderr)
                    else:
                        self._stderr_done.set()
                    if self._mirror is not None:
                        nursery.start_soon(self._mirror.run)
                    limits = self._options.resource_limits
                    if limits is not None and limits.polled:
                        self._limit_watch = LimitWatch(limits, proc)
                        nursery.start_soon(self._limit_watch.run, lambda: self._closing)
                    task_status.started()
                    await self._close_requested.wait()
                finally:
                    self._closing = True
                    with trio.CancelScope(shield=True):
                        await self._teardown(proc)
                        if self._mirror is not None:
                            # The last frames are read once the CLI is gone; then mirror them.
                            with trio.move_on_after(self._options.close_timeout + 1):
                                await self._reader_done.wait()
                            with trio.move_on_after(10):
                                await self._mirror.flush()
                    nursery.cancel_scope.cancel()
        finally:
            if acquired:
                assert limiter is not None
                limiter.release_on_behalf_of(self)
            if self._budget is not None:
                self._budget._unsubscribe(self._on_budget_exceeded)
            self._closed = True
            self._fail_pending(SessionClosedError("the session is closed"))
            self._drained.set()
            self._wakeup.set()
            if self._temp_config_dir is not None:
                shutil.rmtree(self._temp_config_dir, ignore_errors=True)
            self._done.set()

    async def _teardown(self, proc: ChildProcess) -> None:
        self._out_send.close()
        # Let the writer flush what is queued (a last control answer, say), briefly.
        with trio.move_on_after(min(1.0, self._options.close_timeout)):
            await self._writer_done.wait()
        code = await shutdown_process(proc, close_timeout=self._options.close_timeout)
        self._exit_code = code

    async def _writer(self, stdin: trio.abc.SendStream) -> None:
        receive = self._out_recv
        try:
            async for data in receive:
                batch = [data]
                while True:
                    try:
                        batch.append(receive.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                try:
                    await stdin.send_all(b"".join(batch) if len(batch) > 1 else data)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                    # The CLI is gone or closed its stdin; the reader reports why.
                    logger.debug("writing to the CLI failed: %r", exc)
                    break
        finally:
            self._writer_done.set()

    async def _stderr_pump(self, stream: trio.abc.ReceiveStream) -> None:
        callback = self._options.stderr
        tail = self._stderr
        try:
            while True:
                data = bytes(await stream.receive_some(65536))
                lines = tail.feed(data) if data else tail.flush()
                if callback is not None:
                    for line in lines:
                        try:
                            callback(line)
                        except Exception:
                            logger.exception("the stderr callback raised")
                if not data:
                    break
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            self._stderr_done.set()

    async def _reader(self, proc: ChildProcess) -> None:
        stdout = proc.stdout
        proto = self._proto
        limit = self._options.max_buffered_bytes
        try:
            while True:
                if self._queued_bytes > limit:
                    self._reader_resume = trio.Event()
                    await self._reader_resume.wait()
                    self._reader_resume = None
                data = bytes(await stdout.receive_some(_READ_SIZE))
                self._last_activity = trio.current_time()
                proto.receive_data(data)
                events = proto.events()
                if events:
                    self._handle_events(events, len(data))
                if not data:
                    break
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            logger.debug("reading from the CLI failed: %r", exc)
        try:
            await self._on_eof(proc)
        finally:
            self._reader_done.set()

    def _handle_events(self, events: list[Any], nbytes: int) -> None:
        if nbytes:
            self._avg_message_bytes = 0.9 * self._avg_message_bytes + 0.1 * (nbytes / len(events))
        queue = self._queue
        append = queue.append
        delivered = 0
        self._last_event = events[-1]
        budget = self._budget
        for event in events:
            cls = event.__class__
            if cls is bytes:  # a message line, decoded on delivery (see ClaudeProtocol)
                if not self._discard_turns:
                    append(event)
                    delivered += 1
                continue
            if cls in _PROTOCOL_EVENTS:
                self._handle_protocol_event(event)
                continue
            if cls is ResultMessage:
                ends = self._close_turns(event)
                if self._discard_turns:
                    if ends:
                        self._discard_turns -= 1
                        if not self._discard_turns:
                            self._drained.set()
                    continue
                if not ends:
                    self._background_results.add(id(event))
            elif self._discard_turns:
                continue
            elif cls is CommandLifecycleMessage and event.command_uuid in self._auto_uuids:
                continue  # about a uuid the SDK chose for its own bookkeeping
            if budget is not None:
                self._charge(budget, event)
            if cls is ResultMessage:
                self._last_result = event
                if self._mirror is not None:
                    self._mirror.request_flush()
            elif cls is InitMessage and not self._cli_version_checked:
                self._note_cli_version(event.claude_code_version)
            append(event)
            delivered += 1
        if delivered:
            self._wakeup.set()

    def _charge(self, budget: Budget, message: Any) -> None:
        """Charges the budget for one message (only called when a budget is set)."""
        cls = message.__class__
        if cls is AssistantMessage:
            key = message.message_id or str(id(message))
            tokens = _usage_tokens(message.usage)
            charged = self._turn_tokens.get(key)
            if charged is None:
                self._turn_tokens[key] = tokens
                self._turn_tokens_charged += tokens
                budget.charge(tokens=tokens, turns=1)
            elif tokens > charged:
                self._turn_tokens[key] = tokens
                self._turn_tokens_charged += tokens - charged
                budget.charge(tokens=tokens - charged)
        elif cls is ResultMessage:
            was_exceeded = budget.exceeded is not None
            cost = message.total_cost_usd or 0.0
            # total_cost_usd is cumulative per CLI process: charge the difference.
            usd = max(0.0, cost - self._cost_charged)
            self._cost_charged = max(self._cost_charged, cost)
            tokens = max(0, _usage_tokens(message.usage) - self._turn_tokens_charged)
            self._turn_tokens.clear()
            self._turn_tokens_charged = 0
            budget.charge(usd=usd, tokens=tokens)
            if not was_exceeded and budget.exceeded is not None:
                self._budget_error = budget.exceeded

    def _inject_frame(self, frame: dict[str, Any]) -> None:
        """Delivers an SDK-made frame (``system/mirror_error``) to the user like any message."""
        self._queue.append(decode_message(frame))
        self._wakeup.set()

    def _on_budget_exceeded(self, error: BudgetExceededError) -> None:
        """Listener: another charge (ours or another session's) exhausted the budget."""
        if self._turn_open() and not (self._closing or self._ended):
            self._budget_error = error
            assert self._nursery is not None
            self._nursery.start_soon(self._interrupt_quietly)

    async def _interrupt_quietly(self) -> None:
        try:
            await self._request("interrupt", {})
        except ClaudeSDKError as exc:
            logger.debug("interrupt for the budget failed: %s", exc)

    def _handle_protocol_event(self, event: Any) -> None:
        cls = event.__class__
        if cls is ControlResponse:
            pending = self._pending.pop(event.request_id, None)
            if pending is not None:
                pending.response = event
                pending.done.set()
        elif cls is ControlRequest:
            assert self._nursery is not None
            # Registered now, not when the task first runs: a control_cancel_request read in
            # the same batch must find it (found by tests/fuzz/test_session_machine.py).
            request_scope = trio.CancelScope()
            self._inflight[event.request_id] = request_scope
            self._nursery.start_soon(self._serve_request, event, request_scope)
        elif cls is ControlCancel:
            scope = self._inflight.get(event.request_id)
            if scope is not None:
                scope.cancel()
        elif cls is InvalidLine:
            logger.warning(
                "ignoring a line from the CLI (%s): %s",
                event.error,
                redact(repr(event.line[:120]), self._secrets),
            )
        elif cls is OversizeLine:
            logger.warning(
                "dropped a %d-byte line from the CLI (max_line_bytes=%d): %s",
                event.size,
                self._options.effective_max_line_bytes,
                redact(repr(event.head[:80]), self._secrets),
            )
        elif cls is TranscriptMirror and self._mirror is not None:
            self._mirror.add(event.file_path, event.entries)
        elif cls is SessionStateChanged:
            # The core tracks the state; wake whoever waits for the run to go idle.
            self._state_changed.set()
            self._state_changed = trio.Event()
        # Keep-alives are only activity.

    async def _serve_request(self, request: ControlRequest, scope: trio.CancelScope) -> None:
        handler = self._handlers.get(request.subtype)
        reply: bytes | None = None
        with scope:
            try:
                if handler is None:
                    reply = self._proto.send_control_error(
                        request.request_id,
                        f"Unsupported control request subtype: {request.subtype}",
                    )
                else:
                    result = await handler(request.request)
                    reply = self._proto.send_control_success(request.request_id, result)
            except ControlErrorReply as exc:
                # The handler chose the error text (and logged what needed logging).
                reply = self._proto.send_control_error(request.request_id, str(exc))
            except Exception as exc:
                logger.warning("handling %s from the CLI failed: %r", request.subtype, exc)
                reply = self._proto.send_control_error(
                    request.request_id, f"{type(exc).__name__}: {exc}"
                )
            finally:
                # A CLI that reuses an id may have replaced our entry: only remove our own.
                if self._inflight.get(request.request_id) is scope:
                    del self._inflight[request.request_id]
        if scope.cancel_called or reply is None:
            return  # withdrawn by the CLI (control_cancel_request), or the session is closing
        try:
            self._out_send.send_nowait(reply)
        except trio.ClosedResourceError:
            pass

    async def _on_eof(self, proc: ChildProcess) -> None:
        """The CLI's stdout ended: learn why, fail what waits, and end the message stream."""
        code: int | None = proc.returncode
        if not self._closing:
            with trio.move_on_after(self._options.close_timeout):
                code = await proc.wait()
            with trio.move_on_after(1.0):
                await self._stderr_done.wait()
        self._exit_code = code
        error: BaseException
        if self._closing:
            error = self._broken or SessionClosedError("the session is closed")
            self._end_error = self._broken
        elif (breach := self._limit_breach(code)) is not None:
            error = breach.error(
                exit_code=code, stderr=self.stderr_tail, cli_version=self.cli_version
            )
            self._end_error = error
            if code is None:
                self._request_close()
        elif code is None:
            error = self._process_error("the CLI closed its output but did not exit", None)
            self._end_error = error
            self._request_close()
        elif code == 0:
            error = SessionClosedError("the CLI exited (exit code 0)")
        else:
            error = self._process_error("the CLI exited unexpectedly", code)
            self._end_error = error
        self._fail_pending(error)
        self._ended = True
        self._drained.set()
        self._wakeup.set()

    def _limit_breach(self, code: int | None) -> LimitBreach | None:
        """The ``resource_limits`` limit the CLI was killed for or died of, if any."""
        if self._limit_watch is not None and self._limit_watch.breach is not None:
            return self._limit_watch.breach
        return exit_breach(self._options.resource_limits, code, self.stderr_tail)

    def _process_error(self, message: str, code: int | None) -> ProcessError:
        """A ProcessError for the CLI's exit, with a reason and a hint if the cause is known."""
        stderr = self.stderr_tail
        options = self._options
        last = self._last_result
        own_process = options.transport is None and options.user is None
        context = ExitContext(
            permission_mode=options.permission_mode,
            running_as_root=(os.geteuid() == 0) if own_process and hasattr(os, "geteuid") else None,
            is_sandbox=self._spec.env.get("IS_SANDBOX"),
            resume=options.resume,
            config_dir=self._spec.env.get("CLAUDE_CONFIG_DIR"),
            extra_args=tuple(options.extra_args),
            stopped_by_sdk=self._closing,
        )
        errors = [redact(str(e), self._secrets) for e in (last.errors or [])] if last else []
        found = diagnose_exit(
            code,
            stderr,
            result_errors=errors if last is not None and last.is_error else (),
            context=context,
        )
        return ProcessError(
            message,
            exit_code=code,
            stderr=stderr,
            cli_version=self.cli_version,
            reason=found.reason if found else None,
            hint=found.hint if found else None,
        )

    def _fail_pending(self, error: BaseException) -> None:
        self._proto.fail_pending()
        pending, self._pending = self._pending, {}
        for waiter in pending.values():
            waiter.error = error
            waiter.done.set()

    async def _initialize(self) -> None:
        payload = build_initialize(self._options)
        fields = {k: v for k, v in payload.items() if k != "subtype"}
        started = trio.current_time()
        try:
            reply = await self._request(
                "initialize", fields, timeout=self._options.initialize_timeout
            )
        except ControlTimeoutError as exc:
            raise CLIConnectionError(
                f"the CLI did not answer initialize within {exc.timeout:g} s"
                + (f"\nstderr tail:\n{self.stderr_tail}" if self.stderr_tail else "")
            ) from exc
        self._initialize_seconds = trio.current_time() - started
        self.server_info = decode_server_info(reply)
        self._note_cli_version(self.server_info.claude_code_version)

    def _note_cli_version(self, version: str | None) -> None:
        """Records the CLI's version (first report wins); warns once if it is unsupported."""
        if not version:
            return
        if self.cli_version is None:
            self.cli_version = version
        if not self._cli_version_checked:
            self._cli_version_checked = True
            warn_if_outdated(version)


def _usage_tokens(usage: dict[str, Any] | None) -> int:
    if not usage:
        return 0
    total = 0
    for key in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ):
        value = usage.get(key)
        if isinstance(value, int):
            total += value
    return total


def _describe(event: Any) -> str | None:
    """A short description of a frame, for StallTimeoutError."""
    if event is None:
        return None
    if isinstance(event, bytes):  # a message line not decoded yet
        try:
            raw = orjson.loads(event)
        except orjson.JSONDecodeError:
            return "a line that is not JSON"
    else:
        raw = getattr(event, "raw", None)
    if not isinstance(raw, dict):
        return type(event).__name__
    kind = raw.get("type")
    detail = raw.get("subtype")
    if kind in ("assistant", "user"):
        content = (raw.get("message") or {}).get("content")
        if isinstance(content, list) and content and isinstance(content[-1], dict):
            detail = content[-1].get("type")
    elif kind == "stream_event":
        detail = (raw.get("event") or {}).get("type")
    return f"{kind}/{detail}" if detail else str(kind)


@attrs.frozen
class _Prepared:
    """Validated options and the launch spec: what ``_prepare`` hands to ``_connect``."""

    options: ClaudeAgentOptions
    spec: LaunchSpec


async def _prepare(options: ClaudeAgentOptions | None) -> _Prepared:
    """Validates options and builds the launch spec; everything that can fail before a spawn.

    CLI discovery stats files, so it runs in a worker thread (abandoned if cancelled: it has no
    side effects), never on the event loop. Done once per open: the result is reused by every
    process the open starts (a pool's refills too).
    """
    if options is None:
        options = ClaudeAgentOptions()
    validate_options(options)
    if options.transport is None:
        cli = await trio.to_thread.run_sync(find_cli, options.cli_path, abandon_on_cancel=True)
    else:
        cli = os.fspath(options.cli_path) if options.cli_path else "claude"
    argv = build_argv(options, cli)
    env = build_env(options, os.environ)
    cwd = os.fspath(options.cwd) if options.cwd is not None else None
    spec = LaunchSpec(
        argv=argv, env=env, cwd=cwd, user=options.user, resource_limits=options.resource_limits
    )
    return _Prepared(options, spec)


async def connect_session(
    nursery: trio.Nursery, options: ClaudeAgentOptions | None = None
) -> Session:
    """Starts a session whose tasks live in ``nursery``; the caller must ``aclose()`` it.

    Most code wants :func:`open_session`; this is for callers that manage their own nursery.

    Args:
        nursery: The nursery that will own the session's tasks.
        options: The session's options.

    Returns:
        A connected session (``initialize`` answered).

    Raises:
        ConfigurationError: Invalid options (before anything is spawned).
        CLINotFoundError: No CLI found (before anything is spawned).
        CLIConnectionError: The CLI could not be started or did not initialize.
        ProcessError: The CLI exited during start-up.
    """
    return await _connect(nursery, await _prepare(options))


async def _connect(nursery: trio.Nursery, prepared: _Prepared) -> Session:
    """``connect_session`` after ``_prepare``: starts the process and initializes it."""
    options, spec = prepared.options, prepared.spec
    transport: Transport = options.transport or SubprocessTransport()
    temp_dir = None
    if options.session_store is not None and (options.resume or options.continue_conversation):
        from ._mirror import prepare_store_resume

        with trio.fail_after(options.load_timeout_ms / 1000):
            session_id, temp_dir = await prepare_store_resume(
                options.session_store,
                resume=options.resume,
                continue_conversation=options.continue_conversation,
                cwd=spec.cwd,
                env=dict(spec.env),
            )
        resumed = attrs.evolve(options, resume=session_id, continue_conversation=False)
        env = {**spec.env, "CLAUDE_CONFIG_DIR": str(temp_dir)}
        spec = attrs.evolve(spec, argv=build_argv(resumed, spec.argv[0]), env=env)
    session = Session(options, spec, transport)
    session._temp_config_dir = str(temp_dir) if temp_dir is not None else None
    try:
        await nursery.start(session._run)
    except BaseExceptionGroup as group:
        raise collapse_group(group) from None
    try:
        await session._initialize()
    except BaseException:
        await session.aclose()
        raise
    return session


@asynccontextmanager
async def open_session(options: ClaudeAgentOptions | None = None) -> AsyncIterator[Session]:
    """Opens a Claude Code session for the duration of an ``async with`` block.

    Leaving the block in any way (normally, by exception, by cancellation) closes the session
    within a bounded time and leaves no process behind. Errors come out as the user's own
    exception or one typed SDK error, never as an exception group of one.

    Args:
        options: The session's options (defaults: ``ClaudeAgentOptions()``).

    Yields:
        The connected :class:`Session`.
    """
    # Fail on bad options or a missing CLI before opening any nursery.
    prepared = await _prepare(options)
    try:
        async with trio.open_nursery() as nursery:
            session = await _connect(nursery, prepared)
            try:
                yield session
            finally:
                await session.aclose()
    except BaseExceptionGroup as group:
        raise collapse_group(group) from None
