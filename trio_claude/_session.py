"""The trio shell around the protocol core: one session = one CLI process = one nursery.

The session's decisions (its lifecycle, its turns, what a frame means) are taken by the sans-io
core (``_protocol/``: ``_lifecycle.py`` states the rules). This module moves bytes, runs callbacks
and keeps time. Its tasks:

- the **reader** (:meth:`Session._reader`): stdout bytes -> core -> events. Control responses
  complete pending requests, control requests are handed to their own task, messages go to the
  inbox (``_inbox.py``). It never waits for the user while a control answer is owed.
- stdin: a frame is written straight into the pipe when nothing is queued ahead of it
  (:meth:`Session._send_frame`); what the pipe does not take goes to the **writer**
  (:meth:`Session._writer`), started the first time that happens, and later frames queue behind.
- the **stderr pump** (:meth:`Session._stderr_pump`): drains stderr into a ring buffer, always.
- the **exit watch** (:meth:`Session._watch_exit`): the process's exit is observed on its own,
  so a grandchild holding stdout open cannot hide it.
- for a local child on Linux, one task does the work of those three (:meth:`Session._pump`):
  stdout, stderr and the exit are watched through one epoll fd
  (:class:`~trio_claude._transport._process.ChildWatch`), with the same rules; every task a
  session has costs the event loop and each garbage collection, and a fan-out multiplies it.
- one task per CLI->SDK request (:meth:`Session._serve_request`), each in its own cancel scope so
  ``control_cancel_request`` cancels exactly that one.

These run in a nursery shielded from outside cancellation (:meth:`Session._run_io`): when the
user's scope is cancelled, the session's own tasks still interrupt the open turn, drain it and
let the CLI exit on its own (:meth:`Session._shutdown`), bounded in time, before they stop. The
process is stopped by :func:`~trio_claude._transport._process.shutdown_process`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import sys
import uuid as uuid_module
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs
import orjson
import trio

from ._budget import Budget
from ._callbacks import Handler, answer_request, build_handlers, has_callbacks, track_request
from ._cli_version import warn_if_outdated
from ._control_api import ControlRequests
from ._environ import environ
from ._errors import (
    BudgetExceededError,
    ClaudeSDKError,
    CLIConnectionError,
    ConcurrentReceiveError,
    ConfigurationError,
    ControlRequestError,
    ControlTimeoutError,
    NoTurnError,
    ProcessError,
    SessionClosedError,
    StallTimeoutError,
    TurnInProgressError,
    initialize_failed,
    result_error,
)
from ._exit import OutputEnd, end_error, limit_breach, moves_on
from ._inbox import CHECKPOINT_EVERY, Inbox, insert_before_result
from ._limits import LimitWatch, ResourceUsage
from ._loop import check_loop
from ._opener import async_context_only
from ._options import (
    ClaudeAgentOptions,
    initialize_timeout,
    validate_options,
    warn_if_can_use_tool_shadowed,
)
from ._protocol._codec import (
    decode_message,
    decode_server_info_leniently,
    dumps_from_cli,
    unstructure_block,
)
from ._protocol._connection import ClaudeProtocol
from ._protocol._control import ControlResponse
from ._protocol._events import (
    ControlCancel,
    ControlRequest,
    DroppedMessage,
    Event,
    InvalidLine,
    KeepAlive,
    OversizeLine,
    SessionStateChanged,
    TranscriptMirror,
)
from ._protocol._frames import parse_line
from ._protocol._lifecycle import Lifecycle, LifecycleState, UsageMeter, retry_delay
from ._redact import (
    RedactedDict,
    describe_exception,
    redact,
    redact_exception,
    redact_preview,
    scrub_exception,
)
from ._stream import MessageStream
from ._telemetry import child_spec, open_trace
from ._transport._base import ChildProcess, LaunchSpec, Transport
from ._transport._command import (
    build_argv,
    build_env,
    build_initialize,
    check_initialize_reply,
    own_env_names,
    session_secrets,
)
from ._transport._discovery import find_cli_async
from ._transport._official import official_target, resolve_transport
from ._transport._process import (
    ChildWatch,
    PipeReader,
    SubprocessTransport,
    is_pipe,
    shutdown_process,
    write_nowait,
)
from ._util import BodyError, StderrTail, close_prompts, raise_collapsed

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

from .types import (
    InitMessage,
    Message,
    ResultMessage,
    ServerInfo,
    TurnResult,
    UserMessage,
)

if TYPE_CHECKING:
    from ._mirror import TranscriptMirror as _TranscriptMirror

__all__ = [
    "MessageStream",
    "Session",
    "LifecycleState",
    "SessionStatistics",
    "connect_session",
    "open_session",
]

logger = logging.getLogger("trio_claude")

#: Bytes asked of the pipe per read, and after a read that filled that (the CLI floods): fewer
#: reads and wakeups per megabyte (the pipe holds 1 MiB), without a 256 KiB buffer per small read.
_READ_SIZE = 64 * 1024
_FLOOD_READ_SIZE = 256 * 1024
#: What the CLI's stdout pipe holds (``_process`` asks for 1 MiB; Linux may give less).
_PIPE_BYTES = 1024 * 1024
#: After the CLI exits, how long its last output may take to arrive before the session stops
#: reading (a process it started may hold stdout open forever).
EXIT_GRACE = 2.0
#: Checkpoints a new receiver gives one that was just cancelled to leave: the cancelled task
#: runs in the next batch at the latest (two), one more for good measure.
_RECEIVER_LEAVES_WITHIN = 3

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
        lifecycle: Where the session is in its life (:class:`LifecycleState`).
        turns_open: Turns sent whose result has not been read yet (abandoned ones included).
        dropped_messages: Messages of abandoned turns dropped unread.
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
    lifecycle: LifecycleState = LifecycleState.IDLE
    turns_open: int = 0
    dropped_messages: int = 0


class _Pending:
    """One of our control requests waiting for its answer (a one-shot future)."""

    __slots__ = ("done", "error", "response")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.response: ControlResponse | None = None
        self.error: BaseException | None = None


class Session(ControlRequests):
    """A live Claude Code session: one CLI process, driven over stream-json.

    Create it with :func:`open_session` (or :func:`connect_session` inside your own nursery); do
    not instantiate it directly.
    """

    def __init__(self, options: ClaudeAgentOptions, spec: LaunchSpec, transport: Transport) -> None:
        self._options = options
        # The trio.run the session's tasks live in: its methods are refused from any other.
        self._token = trio.lowlevel.current_trio_token()
        # Spans, when tracing is on (docs/telemetry.md); the caller's span is the parent, and
        # the CLI gets the session span as TRACEPARENT.
        # Secret values of the child's environment and of the options: masked wherever CLI
        # output, a callback's failure or a span shows text that may quote them.
        self._secrets = session_secrets(options, spec.env)
        self._trace = open_trace(options.telemetry, options.model, self._secrets)
        spec = child_spec(spec, options.telemetry, options.env, self._trace)
        self._spec = spec
        self._transport = transport
        # Message lines wait in the inbox undecoded and are decoded on delivery (see
        # ClaudeProtocol's defer_messages), except when a budget must be charged or a trace
        # must see tool calls as they arrive.
        self._proto = ClaudeProtocol(
            max_line_bytes=options.effective_max_line_bytes,
            defer_messages=options.budget is None and self._trace is None,
            # What an abandoned turn drops still costs (charged to the budget) and ends its
            # spans (the trace sees it).
            report_dropped=options.budget is not None or self._trace is not None,
        )
        self._lifecycle: Lifecycle = self._proto.lifecycle
        self._inbox = Inbox(options.max_buffered_bytes)
        self._receiver: trio.lowlevel.Task | None = None  # see MessageStream.__anext__
        self._runner: trio.lowlevel.Task | None = None  # the task in run() (see _ready_to_run)
        self._proc: ChildProcess | None = None
        self._io: trio.Nursery | None = None
        # Frames handed to the writer task and not yet written, the pipe written directly when
        # there are none (see _send_frame), and whether writing has stopped for good. The writer
        # task and its channel are made the first time a frame has to wait for the pipe (most
        # sessions never need them: a frame is a few KiB and the pipe holds 64).
        self._out_send: trio.MemorySendChannel[bytes] | None = None
        self._out_recv: trio.MemoryReceiveChannel[bytes] | None = None
        self._unwritten = 0
        # Frames given to the writer, and written by it (the client's query() on a stream
        # that is not a pipe waits for its own: _until_sent).
        self._frames_queued = 0
        self._frames_written = 0
        self._last_ticket = 0
        self._written: trio.Event | None = None
        self._writer_started = False
        self._stdin: trio.abc.SendStream | None = None
        self._writes_closed = False
        self._inflight: dict[str, trio.CancelScope] = {}
        # The CLI->SDK request handlers. Without callbacks of the user's they answer with
        # defaults, and are built on the first request: most such sessions get none, and each
        # object a session holds costs every garbage collection while it lives.
        self._handlers: dict[str, Handler] | None = (
            build_handlers(options, self._secrets) if has_callbacks(options) else None
        )
        self._stderr = StderrTail(secrets=self._secrets)
        self._writer_done: trio.Event | None = None  # with the writer task
        self._stderr_done = trio.Event()
        self._stdout_done = trio.Event()
        self._exited = trio.Event()
        self._reader_done = trio.Event()
        self._reader_scope = trio.CancelScope()
        # stdout, stderr and the exit in one epoll fd, read by one task (_pump), when the
        # process is a local child of ours on Linux; else a task each.
        self._watch: ChildWatch | None = None
        self._stdout_held = False
        # Whether the output ended while a turn a receiver waits for was open.
        self._cut_turns = False
        # Set and replaced whenever turns end or the output ends (send() and drains wait on it).
        self._turns_changed = trio.Event()
        self._state_changed = trio.Event()
        self._close_requested = trio.Event()
        self._close_interrupt = False
        self._done = trio.Event()
        self._last_result: ResultMessage | None = None
        # The last result read while it is an error and no message that moves the conversation
        # on came after it (_exit.moves_on; as the official SDK keeps it): an exit over it is
        # its failure.
        self._last_error_result: ResultMessage | None = None
        # Transcript mirroring into a session store, and a resume's temporary config dir.
        self._mirror: _TranscriptMirror | None = None
        self._flushed_result: ResultMessage | None = None  # the store was flushed for it
        if options.session_store is not None:
            # Imported here: session stores (and the on-disk session code) load on first use.
            from ._mirror import TranscriptMirror as _TranscriptMirror
            from ._mirror import cli_config_dir

            self._mirror = _TranscriptMirror(
                options.session_store,
                cli_config_dir(spec.env) / "projects",
                eager=options.session_store_flush == "eager",
                report_error=self._inject_frame,
                secrets=self._secrets,
            )
        self._temp_config_dir: str | None = None
        self._spawn_seconds: float | None = None
        self._initialize_seconds: float | None = None
        self._unresponsive = False  # initialize timed out: no close grace
        # Memory and CPU of the CLI's process tree, when resource_limits asks for them.
        self._limit_watch: LimitWatch | None = None
        # Whether a stream_input() feed has finished (True when there is none).
        self._input_done = True
        # The cancel scopes of the tasks reading prompt feeds (see _reading_feed).
        self._feeds: set[trio.CancelScope] = set()
        # Budget and stall watchdog.
        self._budget: Budget | None = options.budget
        self._budget_error: BudgetExceededError | None = None
        self._meter = UsageMeter()
        # What every result read so far reported (cumulative per CLI), and the tokens charged
        # to the budget: delivered or not (a given-up turn's), for a team's accounting.
        self._cost_read = 0.0
        self._tokens_charged = 0
        self._last_activity = 0.0
        self._quiet_until = 0.0  # an announced API retry's end (see _watchdog_deadline)
        self._last_event: Any = None
        # The initialize reply, kept encoded until server_info is read: as a dict it is ~40 KiB
        # per session (and its typed form more), and most sessions never look at it.
        self._initialize_reply: bytes | None = None
        self._server_info: ServerInfo | None = None
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
        return self._lifecycle.close_requested or self._done.is_set()

    @property
    def lifecycle(self) -> LifecycleState:
        """Where the session is in its life (starting, idle, in a turn, closing, failed...)."""
        return self._lifecycle.state

    @property
    def returncode(self) -> int | None:
        """The CLI's exit status once it has exited."""
        return self._proc.returncode if self._proc is not None else None

    @property
    def stderr_tail(self) -> str:
        """The last lines the CLI wrote to stderr (credentials masked)."""
        return self._stderr.text()

    def _check_loop(self) -> None:
        """Refuses a call from another ``trio.run`` (or asyncio) before it changes anything."""
        check_loop(self._token, "this session")

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
        self._check_loop()
        lifecycle = self._lifecycle
        if lifecycle.abandoned_open:
            # A cancelled turn is still draining; the next turn must not see its messages.
            await self._wait_turns(lambda: not lifecycle.abandoned_open)
        else:
            await trio.lowlevel.checkpoint()
        lifecycle.check_can_send()
        if uuid is None:
            uuid = prompt.uuid if isinstance(prompt, UserMessage) and prompt.uuid else None
        if uuid is None and isinstance(prompt, dict):
            uuid = prompt.get("uuid") if isinstance(prompt.get("uuid"), str) else None
        chosen_by_sdk = uuid is None
        if uuid is None:
            uuid = str(uuid_module.uuid4())
        # Encoded before anything else happens: a prompt that cannot be encoded changes nothing.
        data = self._encode_prompt(prompt, parent_tool_use_id, uuid)
        budget = self._budget
        if budget is not None:
            budget.check()
            budget.start()
        lifecycle.prompt_sent(uuid, chosen_by_sdk=chosen_by_sdk)
        if self._trace is not None:
            self._trace.prompt_sent(uuid)
        self._last_activity = trio.current_time()
        ticket = self._send_frame(data)
        if self._options.stall_timeout is not None or budget is not None:
            # A receiver already waiting with no turn open (receive_messages() between
            # turns) has no deadline: it works out the new one now.
            self._inbox.wake()
        self._last_ticket = ticket

    def receive_response(self) -> MessageStream:
        """The messages of the current turn, up to and including its :class:`ResultMessage`.

        An error result is delivered like any other result and ends the stream normally. With no
        turn open (none sent, or its result already delivered; one result may answer several
        prompts the CLI folded into one turn) the stream delivers what was already read and
        ends at once: it never waits for a result no prompt is owed.

        Raises (from iteration):
            ProcessError: The CLI exited before the turn finished.
            SessionClosedError: The session was closed (also when it was closed before).
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
        """Sends each prompt ``prompts`` yields, as it comes.

        Start it with ``await nursery.start(session.stream_input, prompts)`` and receive
        concurrently with :meth:`receive_until_input_done` (or ``receive_messages()``): the
        prompts are written as soon as they are produced (as the official SDK does). The CLI
        queues a prompt that arrives while a turn runs and usually folds it into that turn, so
        one result may answer several prompts (it names them all: ``user_message_uuids``).
        For one turn per prompt, ``await session.run(prompt)`` each in turn instead.

        When the session closes, the feed stops being read (this returns, even while the feed
        waits for its next prompt). An async generator left before its end (the session
        closed or failed, the task was cancelled) is closed here, so that its ``finally`` runs
        now (bounded: 5 s); any other iterable (a memory channel, say) stays open.
        """
        self._check_loop()
        self._input_done = False
        task_status.started()
        feed: AsyncIterator[Prompt] | None = None
        try:
            with self._reading_feed():
                feed = aiter(prompts)
                async for prompt in feed:
                    await self.send(prompt)
        finally:
            self._input_done = True
            self._inbox.wake()
            if feed is not None:
                await close_prompts(feed, self._secrets)

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
            ResultError: The turn ended with an error result (:class:`TurnInterruptedError`,
                a ``ResultError``, when it was interrupted).
            TurnInProgressError: An earlier turn's messages have not all been received (a
                ``receive_response()`` loop left early: with ``break``, or by a cancellation or
                an exception in its body; or a ``send()`` not followed by a receive): the turn
                collected would be that one, not this prompt's. Nothing is sent. See
                :meth:`abandon_turn`.
            ConcurrentReceiveError: Another task is receiving from this session, or is in
                ``run()`` on it (a ``run()`` holds the session from its checks to its turn's
                end, so two at once send one prompt). Nothing is sent.
        """
        await self._ready_to_run()
        try:
            await self.send(prompt, parent_tool_use_id=parent_tool_use_id, uuid=uuid)
            return await self.collect_response()
        finally:
            self._release_run()

    async def _ready_to_run(self) -> None:
        """What ``run()`` checks before it sends (here, for ``ResumableSession.run`` too).

        Raises:
            TurnInProgressError: An earlier turn's messages have not all been received.
            ConcurrentReceiveError: Another task is receiving from this session.

        On return the calling task holds the session's run slot until :meth:`_release_run`:
        two ``run()`` calls at once both passed these checks, both sent, and one prompt's
        answer was then lost to a ConcurrentReceiveError.
        """
        self._check_loop()
        lifecycle = self._lifecycle
        if lifecycle.abandoned_open:
            # A cancelled turn is still draining (send() waits for it as well): not the caller's.
            await self._wait_turns(lambda: not lifecycle.abandoned_open)
        await self._receiver_slot()
        if lifecycle.close_requested or lifecycle.ended:
            return  # send() says why
        if lifecycle.live_turn_open or self._proto.turn_results_waiting:
            raise TurnInProgressError(
                "run() would collect an earlier turn, not this prompt's: that turn's messages "
                "have not all been received (a receive_response() loop left early: with break, "
                "or by a cancellation or an exception in the loop's body, which the stream "
                "cannot see; or a send() not followed by a receive). Nothing was sent. Receive "
                "the rest with receive_response() or collect_response(), or give the turn up "
                "with abandon_turn(), before run()"
            )
        self._runner = trio.lowlevel.current_task()

    def _release_run(self) -> None:
        """The run that holds the slot (see :meth:`_ready_to_run`) is over."""
        if self._runner is trio.lowlevel.current_task():
            self._runner = None

    async def _receiver_slot(self) -> None:
        """Returns once no other task is receiving; raises ConcurrentReceiveError if one is.

        A receiver that was just cancelled leaves when it next runs (its ``finally``): a few
        checkpoints let it, so cancelling one receiver and starting another is not a conflict.
        """
        task = trio.lowlevel.current_task()
        for _ in range(_RECEIVER_LEAVES_WITHIN):
            receiver = self._receiver or self._runner
            if receiver is None or receiver is task:
                return
            await trio.lowlevel.checkpoint()
        receiver = self._receiver or self._runner
        if receiver is None or receiver is task:
            return
        raise ConcurrentReceiveError(
            f"another task ({receiver.name}) is already receiving from this session: its "
            "messages would be split between the two. Receive in one task (and hand the "
            "messages on through a memory channel), or open a session per task"
        )

    async def collect_response(self) -> TurnResult:
        """Collects the current turn's messages (like iterating ``receive_response()``).

        Raises:
            ResultError: The turn ended with an error result (:class:`TurnInterruptedError`,
                a ``ResultError``, when it was interrupted).
            NoTurnError: No turn is open (see :meth:`receive_response`).
        """
        was_open = self._lifecycle.live_turn_open
        messages: list[Message] = []
        async for message in self.receive_response():
            messages.append(message)
        result = messages[-1] if messages else None
        if type(result) is not ResultMessage:
            if not was_open and not messages:
                raise NoTurnError("no turn is open: send() a prompt first")
            raise CLIConnectionError("the turn ended before its result reached this call")
        if self._budget_error is not None:
            error, self._budget_error = self._budget_error, None
            raise error
        if result.is_error:
            raise result_error(result, secrets=self._secrets)
        return TurnResult(messages=tuple(messages), result=result)

    @property
    def state(self) -> str | None:
        """The CLI's run state (``idle``, ``running``, ``requires_action``), else ``None``."""
        return self._proto.state

    async def wait_idle(self, timeout: float = math.inf) -> bool:
        """Waits until the CLI reports its run idle: no turn and no background work left (nor a
        background agent it started and has not reported ended).

        After a turn's result the CLI may still be busy (background tasks, hooks that call
        back into the SDK); the one-shot APIs wait for this before closing stdin when
        callbacks are configured, as the official SDKs do.

        Args:
            timeout: The longest wait, in seconds.

        Returns:
            ``True`` when idle (or the CLI's output ended, or it never reports a state),
            ``False`` on timeout.
        """
        self._check_loop()
        with trio.move_on_after(timeout):
            lifecycle = self._lifecycle
            proto = self._proto
            while (proto.state not in (None, "idle") or proto.agent_tasks) and not (
                lifecycle.ended or self.closed
            ):
                await self._state_changed.wait()
            await trio.lowlevel.checkpoint()
            return True
        return False

    def statistics(self) -> SessionStatistics:
        """A snapshot of buffer use, pending requests and counters."""
        proto = self._proto
        inbox = self._inbox
        lifecycle = self._lifecycle
        return SessionStatistics(
            buffered_messages=len(inbox),
            buffered_bytes=inbox.queued_bytes,
            max_buffered_bytes=inbox.max_bytes,
            reader_paused=inbox.reader_paused,
            pending_requests=proto.pending_count,
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
            lifecycle=lifecycle.state,
            turns_open=lifecycle.turns_open,
            dropped_messages=lifecycle.dropped_messages,
        )

    async def aclose(self) -> None:
        """Closes the session and stops the CLI. Idempotent, shielded and bounded in time.

        A turn still open is interrupted first and drained to its result (at most
        ``interrupt_timeout``), so that the CLI exits on its own once its stdin closes. Then:
        wait ``close_timeout`` for that exit, SIGTERM, 1 s, SIGKILL; the process is always reaped.
        """
        self._check_loop()
        self._request_close()
        if trio.lowlevel.current_task().parent_nursery is self._io:
            # Called from one of the session's own tasks (a callback): it cannot wait for the
            # end of the nursery it runs in. The close goes on without it.
            await trio.lowlevel.checkpoint()
            return
        with trio.CancelScope(shield=True):
            await self._done.wait()

    # ---------------------------------------------------------------- internals

    def _encode_prompt(self, prompt: Prompt, parent: str | None, uuid: str | None) -> bytes:
        return encode_prompt(self._proto, self._options, prompt, parent, uuid)

    async def _request(
        self, subtype: str, fields: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        if fields.__class__ is not RedactedDict:
            # Settings and MCP configs carry credentials, and the frames that wait for the
            # answer are in the traceback of the error that ends the wait: masked reprs.
            fields = RedactedDict(fields)
        lifecycle = self._lifecycle
        if lifecycle.closing or lifecycle.ended or lifecycle.broken is not None:
            # A cancellation of the caller may be what closed the session: it wins over the
            # typed error (tests/faults/test_cancellation.py).
            await trio.lowlevel.checkpoint_if_cancelled()
        lifecycle.check_can_send()
        return await self._control_request(subtype, fields, timeout)

    async def _control_request(
        self, subtype: str, fields: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Sends a request and waits for its answer (also while closing: the shutdown's
        ``interrupt`` goes through here)."""
        self._check_loop()
        if self._trace is None:
            return await self._send_control_request(subtype, fields, timeout)
        return await self._trace.traced(
            subtype, lambda: self._send_control_request(subtype, fields, timeout)
        )

    async def _send_control_request(
        self, subtype: str, fields: dict[str, Any], timeout: float | None
    ) -> dict[str, Any]:
        pending = _Pending()
        request_id, data = self._proto.send_control_request(subtype, fields, pending)
        # The answer is on stdout behind whatever the user has not read: read on regardless.
        self._inbox.let_reader_go()
        limit = self._options.control_timeout if timeout is None else timeout
        try:
            try:
                self._send_frame(data)
            finally:
                # The wire form may carry credentials (initialize's MCP headers), and this is the
                # frame the CLI's death is raised in: no local of it shows them to a traceback.
                del data
            with trio.move_on_after(limit):
                await pending.done.wait()
        except trio.ClosedResourceError:
            pending.error = SessionClosedError("the session is closed")
            pending.done.set()
        finally:
            if not pending.done.is_set():
                self._proto.forget_request(request_id)
                # Abandoned (timed out, or its caller was cancelled): tell the CLI, which stops
                # work it is still doing for it (an mcp_call, say). Never raises.
                try:
                    cancel = {"type": "control_cancel_request", "request_id": request_id}
                    self._send_frame(self._proto.send_raw(cancel))
                except Exception as exc:  # the writer is closed: the CLI is going away anyway
                    logger.debug("control_cancel_request for %s not sent: %r", request_id, exc)
        if not pending.done.is_set():
            raise ControlTimeoutError(subtype, limit)
        if pending.error is not None:
            if pending.error is self._lifecycle.end_error:
                self._lifecycle.end_error_seen = True
            raise pending.error
        response = pending.response
        assert response is not None
        if not response.ok:
            raise ControlRequestError(
                subtype, response.error or "", response.error_code, secrets=self._secrets
            )
        return response.response

    async def _next_message(self, *, turn: bool, until_input_done: bool = False) -> Message | None:
        """The next message for a receiver; ``None`` once its stream is over (rule 6)."""
        inbox = self._inbox
        queue = inbox.queue
        lifecycle = self._lifecycle
        yielded = False
        while True:
            if queue:
                inbox.since_checkpoint += 1
                if inbox.since_checkpoint >= CHECKPOINT_EVERY:
                    inbox.since_checkpoint = 0
                    await trio.lowlevel.checkpoint()
                    continue
                message = queue.popleft()
                if inbox.reader_paused:
                    inbox.room_made()
                if message.__class__ is bytes:
                    decoded = self._proto.decode_deferred(message)
                    if decoded is None:
                        continue  # not JSON after all: logged, skipped
                    return decoded
                if (
                    message.__class__ is ResultMessage
                    and self._mirror is not None
                    and message is not self._flushed_result
                ):
                    return await self._result_after_flush(message)
                return message  # type: ignore[return-value]
            if lifecycle.ended or lifecycle.close_requested:
                # The caller's own cancellation may be why the stream ended: it wins. A full
                # checkpoint: a caller that receives again at once, in a loop, lets others run
                # (and its deadlines fire) rather than spinning.
                await trio.lowlevel.checkpoint()
            if lifecycle.ended:
                self._raise_end_error()
            if lifecycle.close_requested:
                raise SessionClosedError("the session is closed")
            if lifecycle.ended:
                return None
            if (turn or (until_input_done and self._input_done)) and not lifecycle.live_turn_open:
                # No turn to wait for. Once checked after a checkpoint (as above; and a turn
                # another task starts meanwhile is waited for).
                if yielded:
                    return None
                yielded = True
                await trio.lowlevel.checkpoint()
                continue
            inbox.since_checkpoint = 0
            deadline = self._watchdog_deadline()
            await inbox.wait(deadline)
            if deadline != math.inf:
                self._on_watchdog()

    async def _result_after_flush(self, result: ResultMessage) -> Message:
        """Hands out ``result`` once the store holds what came before it (a ``mirror_error``
        first, if that failed). Cancelled, the result is back in front of the inbox and is
        flushed for again when received."""
        assert self._mirror is not None
        self._flushed_result = result  # a mirror_error handed out first puts it back in front
        try:
            message: Message = await self._mirror.result_after_flush(result, self._inbox.queue)
        except BaseException:
            self._flushed_result = None
            raise
        return message

    def _take_budget_error(self) -> BudgetExceededError | None:
        error, self._budget_error = self._budget_error, None
        return error

    def _watchdog_deadline(self) -> float:
        """When a receiver's wait must end to check the limits: the seconds budget, and the
        stall timeout while a turn is open (for every way of receiving: receive_messages(),
        the official client's and query()'s streams waited for ever on a hung model)."""
        deadline = math.inf
        live = self._lifecycle.live_turn_open
        stall = self._options.stall_timeout
        if stall is not None and live and not self._inflight:
            # (While a callback of ours runs, the CLI waits for us: no stall to watch. After
            # an announced API retry, the CLI is silent for its delay.)
            deadline = max(self._last_activity, self._quiet_until) + stall
        if self._budget is not None and live:
            deadline = min(deadline, self._budget.deadline)
        return deadline

    def _on_watchdog(self) -> None:
        """A receiving call's wait timed out: enforce the seconds budget and the stall timeout."""
        now = trio.current_time()
        if self._budget is not None and now >= self._budget.deadline:
            self._budget.exceeded  # noqa: B018 - checking the clock fires the listeners
        stall = self._options.stall_timeout
        if (
            stall is not None
            and not self._inbox.queue
            and self._lifecycle.live_turn_open
            and not self._inflight
            and now >= max(self._last_activity, self._quiet_until) + stall
        ):
            last_seen = _describe(self._last_event, self._secrets)
            logger.warning("no frame from the CLI for %g s; interrupting the turn", stall)
            self._abandon_turn()
            raise StallTimeoutError(stall, last_seen)

    def _raise_end_error(self) -> None:
        """Raises why the CLI's output ended, once the inbox is empty (if it was not clean)."""
        error = self._lifecycle.end_error
        if error is None:
            return
        self._lifecycle.end_error_seen = True
        # The CLI exits 1 after an error result; the result already said everything (unless
        # the conversation moved on after it: then the exit is a failure of its own).
        if (
            isinstance(error, ProcessError)
            and error.exit_code == 1
            and self._last_error_result is not None
            and not self._cut_turns
        ):
            return
        raise error

    def abandon_turn(self) -> None:
        """Gives up the open turn, as a cancellation inside ``receive_response()`` does.

        The turn is interrupted, and the session drops its remaining messages up to its result,
        in the background, within ``interrupt_timeout``; the next :meth:`send` or :meth:`run`
        waits for that, so it never sees an old message. Nothing happens when no turn is open.

        A cancellation that lands while ``receive_response()`` waits abandons the turn by
        itself. One that lands in the loop's body (a deadline while you handle a message), an
        exception there, or a ``break``, leaves the turn open (the stream cannot see them);
        call this when the rest of it is not wanted::

            with trio.move_on_after(10) as scope:
                async for message in session.receive_response():
                    await handle(message)
            if scope.cancelled_caught:
                session.abandon_turn()
            await session.run("next")
        """
        self._check_loop()
        self._abandon_turn()

    def _abandon_turn(self) -> None:
        """A turn's receiver was cancelled: interrupt it and drop the rest of its messages."""
        lifecycle = self._lifecycle
        if lifecycle.closing or lifecycle.ended:
            return
        queue = self._inbox.queue
        while queue:
            message = queue.popleft()
            if message.__class__ is ResultMessage and self._proto.ends_turn(message):
                self._inbox.room_made()
                return  # the turn had already finished; its leftovers are gone
        self._inbox.room_made()
        if lifecycle.abandon():
            assert self._io is not None
            self._io.start_soon(self._drain_abandoned_turn)

    async def _drain_abandoned_turn(self) -> None:
        lifecycle = self._lifecycle
        with trio.move_on_after(self._options.interrupt_timeout):
            await self._interrupt_for_drain()
            await self._wait_turns(lambda: not lifecycle.abandoned_open)
            return
        if lifecycle.abandoned_open and not (lifecycle.ended or lifecycle.closing):
            logger.warning(
                "the CLI did not finish an interrupted turn within %g s; closing the session",
                self._options.interrupt_timeout,
            )
            lifecycle.break_(SessionClosedError("an interrupted turn did not end in time"))
            self._request_close()

    async def _interrupt_for_drain(self) -> None:
        """Sends the ``interrupt`` the lifecycle asked for (abandoned turns, or close)."""
        try:
            await self._control_request("interrupt", {})
        except ClaudeSDKError as exc:
            self._lifecycle.interrupt_failed()
            logger.debug("interrupt of an abandoned turn failed: %s", exc)

    async def _wait_turns(self, done: Callable[[], bool]) -> None:
        """Waits until ``done()`` (checked whenever turns end), or the output ends, or nothing
        reads it any more (the reader failed or was cancelled: no turn can end after that)."""
        lifecycle = self._lifecycle
        while (
            not done()
            and not lifecycle.ended
            and not self._done.is_set()
            and not self._reader_done.is_set()
        ):
            await self._turns_changed.wait()

    def _notify_turns(self) -> None:
        self._turns_changed.set()
        self._turns_changed = trio.Event()
        # The end of the output and a close come through here: wait_idle() stops at both.
        self._wake_state_waiters()

    @contextlib.contextmanager
    def _reading_feed(self) -> Iterator[trio.CancelScope]:
        """The scope a task reading the application's prompts for this session runs in
        (:meth:`stream_input`, ``ClaudeSDKClient.query()``): cancelled when the session closes,
        so that a feed waiting for its next prompt does not hold the task for ever."""
        with trio.CancelScope() as scope:
            if self._lifecycle.close_requested:
                scope.cancel()
            self._feeds.add(scope)
            try:
                yield scope
            finally:
                self._feeds.discard(scope)

    def _request_close(self) -> None:
        if self._lifecycle.close_requested:
            return
        for scope in self._feeds:
            scope.cancel()  # nothing they read could be sent now
        self._close_interrupt = self._lifecycle.close()
        self._close_requested.set()
        self._inbox.wake()
        self._notify_turns()

    # ------------------------------------------------------------------ tasks

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The session: starts the process and its tasks, then waits for close (or for the
        caller's cancellation) and shuts down, shielded and bounded."""
        if self._budget is not None:
            self._budget._subscribe(self._on_budget_exceeded)
        limiter = self._options.process_limiter
        acquired = False
        try:
            if limiter is not None:
                await limiter.acquire_on_behalf_of(self)
                acquired = True
            async with trio.open_nursery() as nursery:
                io_scope: trio.CancelScope = await nursery.start(self._run_io)
                try:
                    task_status.started()
                    await self._close_requested.wait()
                finally:
                    try:
                        with trio.CancelScope(shield=True):
                            assert self._proc is not None
                            await self._shutdown(self._proc)
                    finally:
                        io_scope.cancel()
        finally:
            if acquired:
                assert limiter is not None
                limiter.release_on_behalf_of(self)
            if self._budget is not None:
                self._budget._unsubscribe(self._on_budget_exceeded)
            self._lifecycle.close()
            self._lifecycle.closed()
            # A last stderr line without its newline (the CLI's stderr held open by a process
            # it started, so never at its end): the callback gets it all the same.
            self._stderr.take(b"", self._options.stderr)
            self._fail_pending(SessionClosedError("the session is closed"))
            self._done.set()
            self._inbox.wake()
            self._notify_turns()
            if self._temp_config_dir is not None:
                shutil.rmtree(self._temp_config_dir, ignore_errors=True)
            if self._trace is not None:
                self._trace.end(self._lifecycle.failure, self.pid, self.returncode)
            self._report_unseen_end()

    def _report_unseen_end(self) -> None:
        """The CLI died in a turn and no call raised why (the prompt was sent and nothing was
        received after): a warning, so that the failure is not lost without a word."""
        lifecycle = self._lifecycle
        error = lifecycle.end_error
        if error is not None and self._cut_turns and not lifecycle.end_error_seen:
            lifecycle.end_error_seen = True
            logger.warning(
                "the CLI of session %s ended with an error that no call of the session raised"
                " (nothing was received after it): %s",
                self.session_id,
                error,
            )

    async def _run_io(
        self, *, task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """The session's own tasks, in a nursery shielded from outside cancellation once the
        process runs: the shutdown needs them to interrupt and drain a turn. ``_run`` cancels
        the nursery when the shutdown is over."""
        async with trio.open_nursery() as io:
            started = trio.current_time()
            proc = await self._transport.start(self._spec, io)
            io.cancel_scope.shield = True
            self._spawn_seconds = trio.current_time() - started
            self._proc = proc
            self._io = io
            self._lifecycle.started()
            try:
                self._start_io_tasks(io, proc)
            except BaseException:
                # The process runs, but _run's shutdown is only armed once we report started:
                # stop it here, or nothing would.
                with trio.CancelScope(shield=True):
                    await shutdown_process(proc, close_timeout=0)
                raise
            task_status.started(io.cancel_scope)
            await trio.sleep_forever()

    def _start_io_tasks(self, io: trio.Nursery, proc: ChildProcess) -> None:
        watch = ChildWatch.of(proc)
        self._watch = watch
        if watch is not None:
            io.start_soon(self._pump, watch)
        else:
            io.start_soon(self._reader, proc)
        self._stdin = proc.stdin
        if self._unwritten:  # frames queued before the process ran
            self._start_writer()
        if watch is None:
            io.start_soon(self._watch_exit, proc)
            if proc.stderr is not None:
                io.start_soon(self._stderr_pump, proc.stderr)
            else:
                self._stderr_done.set()
        if self._mirror is not None:
            io.start_soon(self._mirror.run)
        limits = self._options.resource_limits
        if limits is not None and limits.polled:
            self._limit_watch = LimitWatch(limits, proc)
            io.start_soon(self._limit_watch.run, lambda: self._lifecycle.closing)

    async def _shutdown(self, proc: ChildProcess) -> None:
        """Stops the CLI (rule 4 of ``_lifecycle``): interrupt and drain an open turn, close
        stdin, wait for the exit, then TERM and KILL. Shielded by the caller; bounded."""
        self._request_close()
        lifecycle = self._lifecycle
        self._inbox.clear()  # nobody will read these now
        reading = not self._reader_done.is_set()  # else no answer nor result can arrive
        if reading and lifecycle.turns_open and not (lifecycle.ended or lifecycle.stdout_ended):
            with trio.move_on_after(self._options.interrupt_timeout):
                if self._close_interrupt:
                    await self._interrupt_for_drain()
                await self._wait_turns(lambda: not lifecycle.turns_open)
        self._writes_closed = True
        if self._out_send is not None:
            self._out_send.close()
        if self._writer_done is not None and not self._unresponsive:
            # Let the writer flush what is queued (a last control answer, say), briefly.
            with trio.move_on_after(min(1.0, self._options.close_timeout)):
                await self._writer_done.wait()
        # With one io task (_pump), the pipes are its to close when it is done; the CLI is
        # reaped (or beyond reach), so what its stdout holds now is all there is to read.
        grace = 0.0 if self._unresponsive else self._options.close_timeout
        await shutdown_process(proc, close_timeout=grace, close_output=self._watch is None)
        if self._watch is not None:
            self._reader_scope.cancel()
        # The last frames are read once the CLI is gone (then mirrored).
        with trio.move_on_after(self._options.close_timeout + 1):
            await self._reader_done.wait()
        if self._mirror is not None:
            with trio.move_on_after(10):
                await self._mirror.flush()
            if self._mirror.unmirrored:
                logger.warning(
                    "the session store did not take the last %d transcript entries of session "
                    "%s in time; they are in the CLI's own transcript (import_session_to_store "
                    "can copy them)",
                    self._mirror.unmirrored,
                    self.session_id,
                )

    def _start_writer(self) -> None:
        assert self._io is not None and self._stdin is not None
        self._writer_started = True
        try:
            self._io.start_soon(self._writer, self._stdin)
        except RuntimeError:
            # The io nursery has already ended (one of its tasks failed, and the shutdown is
            # on its way): the frame stays queued, like everything after it, unwritten.
            return
        self._writer_done = trio.Event()

    async def _writer(self, stdin: trio.abc.SendStream) -> None:
        receive = self._out_recv
        assert receive is not None
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
                    # The CLI is gone or closed its stdin; the reader reports why. What comes
                    # later stays queued (_unwritten is never back to 0): nothing can be written.
                    logger.debug(
                        "writing to the CLI failed: %s",
                        redact(describe_exception(exc), self._secrets),
                    )
                    break
                self._unwritten -= len(batch)
                self._frames_written += len(batch)
                if self._written is not None:
                    self._written.set()
                    self._written = None
                # Not kept while idle (a frame's buffer is 4 KiB at least, per session).
                data = batch = None  # type: ignore[assignment]
        finally:
            assert self._writer_done is not None
            self._writer_done.set()
            if self._written is not None:  # a send() waiting for its frame: it never will be
                self._written.set()
                self._written = None

    def _send_frame(self, data: bytes) -> int:
        """Hands one frame to the CLI, in order with every frame before it.

        When nothing is queued ahead of it and stdin is a pipe of ours, the frame is written
        right here (``write_nowait``); what the pipe does not take at once goes to the writer.

        Returns:
            0, or, when stdin is not a pipe of ours (a transport's own stream), the frame's
            place in the writer's queue, for :meth:`_until_sent`.

        Raises:
            trio.ClosedResourceError: The session has stopped writing (it is shutting down).
        """
        if self._stdin is not None and not self._unwritten and not self._writes_closed:
            try:
                written = write_nowait(self._stdin, data)
            except OSError:
                written = 0  # the CLI is gone: the writer meets the error and reports it
            if written == len(data):
                return 0
            if written:
                data = data[written:]
        send = self._out_send
        if send is None:
            if self._writes_closed:
                raise trio.ClosedResourceError("the session has stopped writing to the CLI")
            send, self._out_recv = trio.open_memory_channel[bytes](math.inf)
            self._out_send = send
        send.send_nowait(data)
        self._unwritten += 1
        self._frames_queued += 1
        if not self._writer_started and self._stdin is not None:
            self._start_writer()
        stdin = self._stdin
        return 0 if stdin is None or is_pipe(stdin) else self._frames_queued

    async def _until_sent(self) -> None:
        """Waits until the prompt of the last ``send()`` has been handed to the transport's
        stream (or the writer stopped): the client's ``query()`` returns then, as the official
        one does, when the stream is not a pipe (a pipe's write is immediate, in ``send()``).
        ``send()`` itself does not wait: ``run()``'s turn is its own from the moment it is
        sent, and a cancellation in between would leave that turn behind."""
        ticket = self._last_ticket
        while self._frames_written < ticket:
            done = self._writer_done
            if done is not None and done.is_set():
                return  # it stopped writing: the reader says why
            if self._written is None:
                self._written = trio.Event()
            await self._written.wait()

    async def _stderr_pump(self, stream: trio.abc.ReceiveStream) -> None:
        try:
            while True:
                data = bytes(await stream.receive_some(65536))
                self._on_stderr(data)
                if not data:
                    break
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            self._stderr_done.set()

    def _on_stderr(self, data: bytes) -> None:
        """What one read of stderr gave (``b""`` at its end): the tail, and the callback."""
        self._stderr.take(data, self._options.stderr)

    async def _watch_exit(self, proc: ChildProcess) -> None:
        """Observes the process's exit on its own: stdout may stay open after it (a process the
        CLI started holds it), and then the reader stops after a short grace (rule 5)."""
        code = await proc.wait()
        if not self._on_exit(code):
            return
        self._inbox.let_reader_go()  # what is left in the pipe is read whatever the bound
        with trio.move_on_after(EXIT_GRACE):
            await self._stdout_done.wait()
            return
        self._output_held(proc, code)
        self._reader_scope.cancel()

    def _on_exit(self, code: int) -> bool:
        """The process has exited with ``code``; whether its output is still open."""
        self._lifecycle.process_exited(code)
        self._exited.set()
        return not self._stdout_done.is_set()

    def _output_held(self, proc: ChildProcess, code: int | None) -> None:
        logger.warning(
            "the CLI (pid %s) exited with %s, but its output is still open after %g s; "
            "a process it started holds it: no longer reading",
            proc.pid,
            code,
            EXIT_GRACE,
        )
        self._stdout_held = True

    async def _reader(self, proc: ChildProcess) -> None:
        stdout = PipeReader(proc.stdout)
        proto = self._proto
        inbox = self._inbox
        lifecycle = self._lifecycle
        size = _READ_SIZE
        try:
            with self._reader_scope:
                try:
                    while True:
                        # Never paused while an answer of ours is owed, nor once the CLI has
                        # exited (its last output is in the pipe: at most the pipe's size).
                        await inbox.wait_for_room(
                            may_pause=not (proto.pending_count or lifecycle.exited)
                        )
                        data = await stdout.receive_some(size)
                        self._on_stdout(data)
                        if not data:
                            break
                        size = _FLOOD_READ_SIZE if len(data) >= size else _READ_SIZE
                        # Not kept while waiting for the next read.
                        data = b""
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                    logger.debug("reading from the CLI failed: %r", exc)
                except Exception as exc:
                    self._reading_failed(exc)
                    return
            try:
                self._stdout_over()
                await self._end_output(proc)
            except Exception as exc:
                self._reading_failed(exc)
        finally:
            self._reader_finished()

    async def _pump(self, watch: ChildWatch) -> None:
        """The reader, the stderr pump and the exit watch in one task, for a local child whose
        pipes and exit one epoll fd can watch (:class:`ChildWatch`): the same rules, one task
        instead of three per session (what a fan-out of sessions multiplies).

        Three phases: until stdout ends (as ``_reader``'s loop, the pause for
        ``max_buffered_bytes`` included), then ``_end_output``'s waits for the exit and the
        stderr tail, then stderr to its end. It closes the pipes when it is done (``_shutdown``
        leaves them to it: a pipe closed while watched would leave the set silently).
        """
        proc = watch.proc
        try:
            try:
                failed = False
                try:
                    with self._reader_scope:
                        await self._pump_stdout(watch)
                    if self._reader_scope.cancelled_caught:
                        self._pump_drain(watch)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                    logger.debug("reading from the CLI failed: %r", exc)
                except Exception as exc:
                    self._reading_failed(exc)
                    failed = True
                watch.unwatch(watch.OUT)
                if not failed:
                    try:
                        self._stdout_over()
                        if not self._lifecycle.closing:
                            await self._pump_until(
                                watch, self._exited.is_set, self._options.close_timeout
                            )
                            await self._pump_until(watch, self._stderr_done.is_set, 1.0)
                        self._output_ended(proc)
                    except Exception as exc:
                        self._reading_failed(exc)
            finally:
                self._reader_finished()
            # stderr to its end and the exit, whatever ended the output (a failure included:
            # the CLI is still running until the shutdown stops it, and must not meet a closed
            # stderr meanwhile).
            await self._pump_until(watch, lambda: not watch.watching, math.inf)
        finally:
            self._stderr_done.set()
            watch.close()
            watch.close_pipes()

    async def _pump_stdout(self, watch: ChildWatch) -> None:
        """``_pump``'s first phase: stdout read to its end (or until held after the exit)."""
        OUT = watch.OUT
        proto = self._proto
        inbox = self._inbox
        lifecycle = self._lifecycle
        size = _READ_SIZE
        held_at = math.inf  # EXIT_GRACE after the exit (stdout is still open: this is phase one)
        while True:
            if inbox.queued_bytes > inbox.max_bytes and not (
                proto.pending_count or lifecycle.exited
            ):
                ready = await self._pump_paused(watch)
            else:
                watch.watch(OUT)
                if held_at == math.inf:
                    ready = await watch.wait()
                else:
                    ready = 0
                    with trio.move_on_at(held_at):
                        ready = await watch.wait()
                    if not ready:
                        self._output_held(proc=watch.proc, code=watch.proc.returncode)
                        return
            if ready & OUT:
                data = watch.read(OUT, size)
                if data is not None:
                    self._on_stdout(data)
                    if not data:
                        return
                    size = _FLOOD_READ_SIZE if len(data) >= size else _READ_SIZE
                    data = b""
            if ready & ~OUT and self._pump_other(watch, ready):
                await self._pump_exit(watch)
                held_at = trio.current_time() + EXIT_GRACE

    def _pump_drain(self, watch: ChildWatch) -> None:
        """The CLI has been reaped and the session closes (``_shutdown`` stopped ``_pump``'s
        first phase): what its pipe still holds is the last of its output. Read without
        waiting, and at most twice what the pipe holds (a process it started may write on)."""
        left = 2 * _PIPE_BYTES
        while left > 0:
            data = watch.read(watch.OUT, _FLOOD_READ_SIZE)
            if data is None:
                return
            self._on_stdout(data)
            if not data:
                return
            left -= len(data)

    async def _pump_paused(self, watch: ChildWatch) -> int:
        """Waits, stdout unwatched, for room in the inbox or for stderr or the exit; what is
        ready (0 when there is room)."""
        watch.unwatch(watch.OUT)
        inbox = self._inbox
        with trio.CancelScope() as scope:
            inbox.pause(scope)
            try:
                return await watch.wait()
            finally:
                inbox.resume()
        return 0

    async def _pump_until(
        self, watch: ChildWatch, done: Callable[[], bool], timeout: float
    ) -> None:
        """Watches stderr and the exit until ``done()`` or ``timeout`` seconds have passed."""
        if timeout == math.inf:
            while not done() and watch.watching:
                ready = await watch.wait()
                if self._pump_other(watch, ready):
                    await self._pump_exit(watch)
            return
        with trio.move_on_after(timeout):
            await self._pump_until(watch, done, math.inf)

    def _pump_other(self, watch: ChildWatch, ready: int) -> bool:
        """Reads stderr if ``ready`` says so; whether the exit is ready too."""
        if ready & watch.ERR:
            try:
                data = watch.read(watch.ERR, 65536)
            except OSError:
                data = b""
            if data is not None:
                self._on_stderr(data)
                if not data:
                    watch.unwatch(watch.ERR)
                    self._stderr_done.set()
        return bool(ready & watch.EXIT)

    async def _pump_exit(self, watch: ChildWatch) -> None:
        watch.unwatch(watch.EXIT)
        # It has exited: the reap is immediate, the sweep after it short and bounded. Shielded,
        # so that stopping the first phase cannot lose the exit.
        with trio.CancelScope(shield=True):
            code = await watch.proc.wait()
        self._on_exit(code)

    def _on_stdout(self, data: bytes) -> None:
        """What one read of stdout gave (``b""`` at its end): the core's events, handled."""
        self._last_activity = trio.current_time()
        proto = self._proto
        lifecycle = self._lifecycle
        turns_ended = lifecycle.turns_ended
        state = proto.state
        tasks = len(proto.agent_tasks)
        proto.receive_data(data)
        events = proto.events()
        if events:
            self._handle_events(events, len(data))
        if lifecycle.turns_ended != turns_ended:
            self._inbox.wake()  # a withdrawn prompt's turn ends with no message of its own
            self._notify_turns()
        elif proto.state is not state or len(proto.agent_tasks) != tasks:
            # A session_state_changed frame the CLI did not mark sdk_host_only is a message,
            # not an event, but it moves the state all the same.
            self._wake_state_waiters()

    def _stdout_over(self) -> None:
        """stdout has ended (or is no longer read): what was read of a last, unterminated line."""
        proto = self._proto
        if not proto.at_eof:
            proto.receive_data(b"")
            events = proto.events()
            if events:
                self._handle_events(events, 0)
        self._stdout_done.set()

    def _reader_finished(self) -> None:
        self._stdout_done.set()
        self._reader_done.set()
        # Stopped before the output ended (cancelled, or a sibling task failed): nothing can
        # answer a request or end a turn now, so nobody waits for that.
        self._fail_pending(SessionClosedError("the session stopped reading the CLI's output"))
        self._notify_turns()

    def _withdraw_inflight(self) -> None:
        """The output has ended: nothing can take an answer now, so the callbacks still running
        for the CLI's requests (a human asked to approve a tool, say) are cancelled, as if the
        CLI had withdrawn them."""
        for scope in self._inflight.values():
            scope.cancel()

    def _reading_failed(self, exc: Exception) -> None:
        """Handling the CLI's output raised (a bug of ours, or output beyond anything foreseen):
        the session's state cannot be trusted any more. It ends with one typed error, which
        every waiting and later call raises (with ``exc`` as its cause), and closes; the
        reader's task ends quietly, so no exception group reaches the caller."""
        error = output_handling_failed(exc, self._secrets)
        lifecycle = self._lifecycle
        lifecycle.break_(error)
        lifecycle.end(error)
        self._fail_pending(error)
        self._withdraw_inflight()
        self._request_close()
        self._inbox.wake()
        self._notify_turns()

    async def _end_output(self, proc: ChildProcess) -> None:
        """stdout has ended: learn why, end the turns, fail what waits (rule 5)."""
        if not self._lifecycle.closing:
            with trio.move_on_after(self._options.close_timeout):
                await self._exited.wait()
            with trio.move_on_after(1.0):
                await self._stderr_done.wait()
        self._output_ended(proc)

    def _output_ended(self, proc: ChildProcess) -> None:
        """``_end_output`` once its waits are over."""
        lifecycle = self._lifecycle
        code = proc.returncode
        polled = self._limit_watch.breach if self._limit_watch is not None else None
        stderr = self.stderr_tail
        end = OutputEnd(
            exit_code=code,
            closing=lifecycle.closing,
            broken=lifecycle.broken,
            breach=limit_breach(self._options, polled, code, stderr),
            stdout_held=self._stdout_held,
            live_turn_open=lifecycle.live_turn_open,
            stderr=stderr,
            last_result=self._last_result,
            cli_version=self.cli_version,
            error_result_last=self._last_error_result,
        )
        error = end_error(end, self._options, self._spec, self._secrets)
        self._cut_turns = lifecycle.live_turn_open
        lives_on = code is None and not lifecycle.closing
        lifecycle.end(error)
        self._fail_pending(error if error is not None else SessionClosedError("the CLI has exited"))
        self._withdraw_inflight()
        if lives_on:
            self._request_close()  # it closed its output but lives on: stop it
        self._inbox.wake()
        self._notify_turns()

    def _handle_events(self, events: list[Event], nbytes: int) -> None:
        inbox = self._inbox
        # For the stall watchdog's message; nothing is kept between turns (a parsed result is
        # ~18 KiB, per idle session).
        self._last_event = events[-1] if self._lifecycle.live_turn_open else None
        if self._proto.only_message_lines:
            # The usual read: message lines only, queued undecoded in one go (lines are only
            # deferred when no budget or trace must see them, and they need no plumbing).
            inbox.note_batch(nbytes, len(events))
            inbox.queue.extend(events)  # type: ignore[arg-type]
            inbox.wake()
            self._quiet_until = 0.0  # messages: an announced retry is over
            self._last_error_result = None
            return
        append = inbox.queue.append
        plumbing = _PLUMBING
        delivered = 0
        budget = self._budget
        trace = self._trace
        for event in events:
            cls = event.__class__
            if cls is bytes:  # a message line, decoded on delivery (see ClaudeProtocol)
                append(event)  # type: ignore[arg-type]
                delivered += 1
                self._quiet_until = 0.0
                self._last_error_result = None
                continue
            handler = plumbing.get(cls)
            if handler is not None:
                handler(self, event)
                continue
            if budget is not None:
                self._charge(budget, event)
            if trace is not None:
                trace.observe(event, self._lifecycle.open_turns)
            if cls is ResultMessage:
                self._note_cost(event)  # type: ignore[arg-type]
                self._last_result = last = _outline(event)  # type: ignore[arg-type]
                self._last_error_result = last if last.is_error else None
                if self._mirror is not None:
                    self._mirror.request_flush()
            elif moves_on(event):
                self._last_error_result = None  # the conversation moved on
                if cls is InitMessage and not self._cli_version_checked:
                    self._note_cli_version(event.claude_code_version)  # type: ignore[union-attr]
            # An announced API retry: the CLI is silent for its delay, until a message (not a
            # keep-alive, nor an answer to a control request of ours) says otherwise.
            delay = retry_delay(event)  # (by attribute: ApiRetryMessage is made on first use)
            self._quiet_until = trio.current_time() + delay if delay else 0.0
            append(event)  # type: ignore[arg-type]
            delivered += 1
        if delivered:
            # Per message queued: plumbing lines (control frames, keep-alives) are never
            # queued, and counting them made a flood of them shrink the estimate of what the
            # queue holds until max_buffered_bytes bound nothing. (Their bytes still count:
            # an overestimate errs on the safe side.)
            inbox.note_batch(nbytes, delivered)
            inbox.wake()

    def _charge(self, budget: Budget, message: Any, *, background: bool | None = None) -> None:
        """Charges the budget for one message (only called when a budget is set);
        ``background``: whether a result ends no turn of ours (else asked of the core)."""
        charged = self._meter.assistant_message(message)
        if charged is not None:
            tokens, turns = charged
            if tokens or turns:
                was_exceeded = budget.exceeded is not None
                self._tokens_charged += tokens
                budget.charge(tokens=tokens, turns=turns)
                if not was_exceeded and budget.exceeded is not None:
                    # Ours crossed the limit. (The listener took it too if the turn is live;
                    # not if the turn's result came in the same read, which closed the turn
                    # first: its receiver raises after that result.)
                    self._budget_error = budget.exceeded
        elif message.__class__ is ResultMessage:
            was_exceeded = budget.exceeded is not None
            usd, tokens = self._meter.result(
                message.total_cost_usd,
                message.usage,
                ends_turn=not (self._proto.mid_turn(message) if background is None else background),
            )
            self._tokens_charged += tokens
            budget.charge(usd=usd, tokens=tokens)
            if not was_exceeded and budget.exceeded is not None:
                self._budget_error = budget.exceeded

    def _inject_frame(self, frame: dict[str, Any]) -> None:
        """Delivers an SDK-made frame (``system/mirror_error``) to the user, before the first
        result not handed out yet."""
        insert_before_result(self._inbox.queue, decode_message(frame))
        self._inbox.wake()

    def _on_budget_exceeded(self, error: BudgetExceededError) -> None:
        """Listener: another charge (ours or another session's) exhausted the budget."""
        lifecycle = self._lifecycle
        if lifecycle.live_turn_open and not (lifecycle.closing or lifecycle.ended):
            self._budget_error = error
            assert self._io is not None
            self._io.start_soon(self._interrupt_quietly)

    async def _interrupt_quietly(self) -> None:
        try:
            await self._request("interrupt", {})
        except ClaudeSDKError as exc:
            logger.debug("interrupt for the budget failed: %s", exc)

    # Plumbing events (PLUMBING_EVENTS of the core), one handler each.

    def _on_control_response(self, event: ControlResponse) -> None:
        pending = event.waiter
        if isinstance(pending, _Pending):
            pending.response = event
            pending.done.set()

    def _on_control_request(self, event: ControlRequest) -> None:
        assert self._io is not None
        # Registered now, not when the task first runs: a control_cancel_request read in the
        # same batch must find it (found by tests/fuzz/test_session_machine.py).
        request_scope = track_request(self._inflight, event.request_id)
        self._io.start_soon(self._serve_request, event, request_scope)

    def _on_dropped(self, event: DroppedMessage) -> None:
        if self._trace is not None:
            self._trace.observe(event.message, self._lifecycle.open_turns)
        budget = self._budget
        if budget is not None:
            # No receiver waits for a given-up turn: the budget's own state (which send()
            # checks) says it ran out, not an error kept for the next turn's receiver.
            error = self._budget_error
            self._charge(budget, event.message, background=event.background)
            self._budget_error = error
        if event.message.__class__ is ResultMessage:
            self._note_cost(event.message)

    def _note_cost(self, result: ResultMessage) -> None:
        cost = result.total_cost_usd
        if type(cost) in (int, float) and cost > self._cost_read:  # type: ignore[operator]
            self._cost_read = float(cost)  # type: ignore[arg-type]

    def _on_control_cancel(self, event: ControlCancel) -> None:
        scope = self._inflight.get(event.request_id)
        if scope is not None:
            scope.cancel()

    def _on_state_changed(self, event: SessionStateChanged) -> None:
        # The core tracks the state; wake whoever waits for the run to go idle.
        self._wake_state_waiters()

    def _wake_state_waiters(self) -> None:
        self._state_changed.set()
        self._state_changed = trio.Event()

    def _on_transcript_mirror(self, event: TranscriptMirror) -> None:
        if self._mirror is not None:
            self._mirror.add(event.file_path, event.entries)

    def _on_invalid_line(self, event: InvalidLine) -> None:
        logger.warning(
            "ignoring a line from the CLI (%s): %r",
            redact_preview(event.error, self._secrets, 300),
            redact_preview(event.line, self._secrets, 120),
        )

    def _on_oversize_line(self, event: OversizeLine) -> None:
        logger.warning(
            "dropped a %d-byte line from the CLI (max_line_bytes=%d): %r",
            event.size,
            self._options.effective_max_line_bytes,
            redact_preview(event.head, self._secrets, 80),
        )

    async def _serve_request(self, request: ControlRequest, scope: trio.CancelScope) -> None:
        reply: bytes | None = None
        with scope:
            try:
                reply = await answer_request(
                    self._proto, self._request_handlers(), request, self._trace, self._secrets
                )
            finally:
                # A CLI that reuses an id may have replaced our entry: only remove our own.
                if self._inflight.get(request.request_id) is scope:
                    del self._inflight[request.request_id]
                if self._options.stall_timeout is not None:
                    # The CLI waited for us: the stall clock starts again, and a receiver
                    # waiting with no deadline (a callback was running) works out a new one.
                    self._last_activity = trio.current_time()
                    self._inbox.wake()
        if scope.cancel_called or reply is None:
            return  # withdrawn by the CLI (control_cancel_request), or the session is closing
        try:
            self._send_frame(reply)
        except trio.ClosedResourceError:
            pass

    def _request_handlers(self) -> dict[str, Handler]:
        handlers = self._handlers
        if handlers is None:
            handlers = self._handlers = build_handlers(self._options, self._secrets)
        return handlers

    def _fail_pending(self, error: BaseException) -> None:
        for waiter in self._proto.fail_pending().values():
            if isinstance(waiter, _Pending):
                waiter.error = error
                waiter.done.set()

    async def _initialize(self) -> None:
        fields = build_initialize(self._options)  # a RedactedDict: tracebacks show its frames
        del fields["subtype"]
        started = trio.current_time()
        try:
            reply = await self._request(
                "initialize", fields, timeout=initialize_timeout(self._options)
            )
        except ControlRequestError as exc:
            if isinstance(exc, ControlTimeoutError):
                # It has not answered in initialize_timeout: waiting close_timeout more for
                # it to notice its stdin's end is time lost (SIGTERM at once, then SIGKILL).
                self._unresponsive = True
            raise initialize_failed(exc, self.stderr_tail, self._secrets) from exc
        self._initialize_seconds = trio.current_time() - started
        self._initialize_reply = dumps_from_cli(reply)
        warning = check_initialize_reply(self._options, reply)
        if warning is not None:
            logger.warning(warning)
        self._lifecycle.initialized()
        version = reply.get("claude_code_version")
        self._note_cli_version(version if isinstance(version, str) else None)

    @property
    def server_info(self) -> ServerInfo | None:
        """The typed ``initialize`` reply (``.raw`` is the dict the CLI sent); ``None`` only
        while connecting. Decoded on first use."""
        if self._server_info is None and self._initialize_reply is not None:
            reply = parse_line(self._initialize_reply)  # (the stdlib parses what orjson refuses)
            info, error = decode_server_info_leniently(reply)
            if error is not None:
                logger.warning(
                    "the CLI's initialize reply does not decode whole (what does is kept): %s",
                    error,
                )
            self._server_info = info
            self._initialize_reply = None
        return self._server_info

    def _note_cli_version(self, version: str | None) -> None:
        """Records the CLI's version (first report wins); warns once if it is unsupported."""
        if not version:
            return
        if self.cli_version is None:
            self.cli_version = version
        if not self._cli_version_checked:
            self._cli_version_checked = True
            warn_if_outdated(version, cli_path=self._spec.argv[0] if self._spec.argv else None)

    # ------------------------------------------- for ResumableSession (a narrow interface)

    @property
    def _dead(self) -> bool:
        """Whether the CLI is gone (exited, killed, or closed as broken)."""
        lifecycle = self._lifecycle
        return self.closed or lifecycle.ended or lifecycle.broken is not None

    def _death_error(self) -> BaseException:
        """Why the CLI went away, as the error its callers saw."""
        lifecycle = self._lifecycle
        error = lifecycle.broken or lifecycle.end_error
        if error is not None:
            lifecycle.end_error_seen = True  # (the resumable session answers for it)
            return error
        return SessionClosedError(f"the CLI exited (exit code: {lifecycle.exit_code})")

    def _quiet(self) -> bool:
        """Nothing unread, no turn open, no request or callback in flight."""
        return (
            not self._inbox.queue
            and not self._lifecycle.turns_open
            and not self._inflight
            and not self._proto.pending_count
        )

    async def _wait_output_end(self) -> None:
        """Waits until the CLI's output has ended (every way a CLI stops ends it)."""
        await self._reader_done.wait()


def encode_prompt(
    proto: ClaudeProtocol,
    options: ClaudeAgentOptions,
    prompt: Prompt,
    parent: str | None,
    uuid: str | None,
) -> bytes:
    """Encodes a prompt as the ``user`` frame ``send()`` writes (also used by ``query()``)."""
    for name, value in (("parent_tool_use_id", parent), ("uuid", uuid)):
        if value is not None and not isinstance(value, str):
            # The CLI echoes it on the turn's messages, which then fail to decode.
            raise ConfigurationError(f"{name} must be a string, got {type(value).__name__}")
    extra = {"client_composed": True} if options.verbatim_prompts else None
    if isinstance(prompt, str):
        return proto.send_user(
            prompt, session_id="default", parent_tool_use_id=parent, uuid=uuid, extra=extra
        )
    if isinstance(prompt, UserMessage):
        content = prompt.content
        return proto.send_user(
            content if isinstance(content, str) else list(content),
            session_id="default",
            parent_tool_use_id=parent or prompt.parent_tool_use_id,
            uuid=uuid or prompt.uuid,
            extra=extra,
        )
    if isinstance(prompt, dict):
        if prompt.get("type") != "user":
            raise ConfigurationError("a dict prompt must be a wire 'user' frame")
        message = prompt.get("message")
        if (
            not isinstance(message, Mapping)
            or message.get("role") != "user"
            or "content" not in message
        ):
            # The CLI exits on such a frame ("Expected message role 'user'"), and the session
            # with it.
            raise ConfigurationError(
                "a wire 'user' frame needs a 'message' dict with role 'user' and 'content': "
                "{'type': 'user', 'message': {'role': 'user', 'content': ...}}"
            )
        frame = dict(prompt)
        frame["uuid"] = uuid
        frame.setdefault("session_id", "default")
        frame.setdefault("parent_tool_use_id", parent)
        if extra:
            frame.update(extra)
        return proto.send_raw(frame)
    if isinstance(prompt, Sequence) and not isinstance(prompt, (bytes, bytearray)):
        blocks = [_prompt_block(b) for b in prompt]
        return proto.send_user(
            blocks, session_id="default", parent_tool_use_id=parent, uuid=uuid, extra=extra
        )
    raise ConfigurationError(
        f"a prompt cannot be {type(prompt).__name__}: {_PROMPT_FORMS}"
        + (" (decode bytes first)" if isinstance(prompt, (bytes, bytearray)) else "")
    )


_PROMPT_FORMS = (
    "send a str, a list of content blocks (TextBlock, ImageBlock, ... or their wire dicts), a "
    "UserMessage, or a wire 'user' frame (a dict)"
)


def _prompt_block(block: Any) -> dict[str, Any]:
    """One content block of a prompt, as its wire dict."""
    if isinstance(block, dict):
        return block
    try:
        return unstructure_block(block)
    except Exception:
        raise ConfigurationError(
            f"a prompt's content block cannot be {type(block).__name__}: {_PROMPT_FORMS}"
        ) from None


def _ignore(session: Session, event: object) -> None:
    """Keep-alives are only activity."""


# The plumbing events' handlers, by class: plain functions, where bound methods would be a
# handful of objects per session for every garbage collection to walk.
_PLUMBING: dict[type[Any], Callable[[Session, Any], None]] = {
    ControlResponse: Session._on_control_response,
    ControlRequest: Session._on_control_request,
    ControlCancel: Session._on_control_cancel,
    SessionStateChanged: Session._on_state_changed,
    KeepAlive: _ignore,
    TranscriptMirror: Session._on_transcript_mirror,
    InvalidLine: Session._on_invalid_line,
    OversizeLine: Session._on_oversize_line,
    DroppedMessage: Session._on_dropped,
}


def _outline(result: ResultMessage) -> ResultMessage:
    """What the session keeps of the last result, to say why its output ended (``is_error``,
    ``errors``, ...): not its payload, which was delivered (a result frame is ~18 KiB parsed)."""
    return attrs.evolve(
        result,
        raw={},
        usage=None,
        model_usage=None,
        result=None,
        permission_denials=None,
        structured_output=None,
        deferred_tool_use=None,
    )


def _describe(event: Any, secrets: Iterable[str] = ()) -> str | None:
    """A short description of a frame, for StallTimeoutError (whatever shape the frame has);
    masked before it is cut (a subtype is the CLI's text, and may quote a key)."""
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
        body = raw.get("message")
        content = body.get("content") if isinstance(body, dict) else None
        if isinstance(content, list) and content and isinstance(content[-1], dict):
            detail = content[-1].get("type")
    elif kind == "stream_event":
        inner = raw.get("event")
        detail = inner.get("type") if isinstance(inner, dict) else None
    text = f"{kind}/{detail}" if detail else str(kind)
    return redact_preview(text, secrets, 80)


@attrs.frozen
class _Prepared:
    """Validated options and the launch spec: what ``_prepare`` hands to ``_connect``."""

    options: ClaudeAgentOptions
    spec: LaunchSpec


def output_handling_failed(exc: Exception, secrets: Sequence[str]) -> SessionClosedError:
    """The typed error for an unforeseen failure while handling the CLI's output (logged here;
    its traceback at debug level), with ``exc`` as its cause: mapped once, where output is
    read, so it never comes out raw or in an exception group."""
    error = SessionClosedError(
        "the session stopped: handling the CLI's output failed "
        f"({type(exc).__name__}: {redact_preview(str(exc), secrets, 200)})"
    )
    # Its text may quote the frame being handled, key and all: logged masked, and the cause
    # kept (its type and traceback) with its text masked and its frames' locals cleared.
    logger.debug("handling the CLI's output failed\n%s", redact_exception(exc, secrets))
    scrub_exception(exc, secrets)
    error.__cause__ = exc
    logger.error("%s", error)
    return error


async def _prepare(options: ClaudeAgentOptions | None) -> _Prepared:
    """Validates options and builds the launch spec; everything that can fail before a spawn.

    CLI discovery stats files, so it runs in a worker thread (abandoned if cancelled: it has no
    side effects), never on the event loop. Done once per open: the result is reused by every
    process the open starts (a pool's refills too).
    """
    if options is None:
        options = ClaudeAgentOptions()
    validate_options(options)
    warn_if_can_use_tool_shadowed(options)
    if options.transport is None:
        cli = await find_cli_async(options.cli_path)
    else:
        cli = os.fspath(options.cli_path) if options.cli_path else "claude"
    argv = build_argv(options, cli)
    base = environ()
    env = build_env(options, base)
    cwd = os.fspath(options.cwd) if options.cwd is not None else None
    spec = LaunchSpec(
        argv=argv,
        env=env,
        cwd=cwd,
        user=options.user,
        resource_limits=options.resource_limits,
        own_env=own_env_names(options, env, base),
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
    transport: Transport = resolve_transport(options.transport or SubprocessTransport())
    temp_dir = None
    # An official-style transport owns its command line: no store resume to point it at (as
    # in the official SDK, which materializes none for a custom transport).
    official = official_target(transport) is not None
    resuming = options.resume or options.continue_conversation
    if options.session_store is not None and resuming and not official:
        from ._mirror import resume_from_store

        spec, temp_dir = await resume_from_store(options, spec)
    session = Session(options, spec, transport)
    session._temp_config_dir = str(temp_dir) if temp_dir is not None else None
    try:
        await nursery.start(session._run)
    except BaseExceptionGroup as group:
        raise_collapsed(group)
    try:
        await session._initialize()
    except BaseException:
        # Never initialized (cancelled, refused, timed out): the CLI holds nothing worth a
        # grace, and may not even read its stdin yet. It is stopped at once, not after
        # close_timeout: a cancelled open returns promptly.
        session._unresponsive = True
        await session.aclose()
        raise
    return session


@async_context_only("session")
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
    body = BodyError()
    try:
        async with trio.open_nursery() as nursery:
            session = await _connect(nursery, prepared)
            try:
                with body:
                    yield session
            finally:
                await session.aclose()
    except BaseExceptionGroup as group:
        raise_collapsed(group, body.error)
