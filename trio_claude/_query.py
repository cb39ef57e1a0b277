"""One-shot APIs: ``query()`` in two forms, and ``ask()``.

Design
======

``query()`` returns a :class:`Query`, which is used in one of two ways:

``async with query(prompt) as messages: async for m in messages`` (the session form)
    trio-claude's own form: an ordinary session (``open_session``) whose nursery lives in the
    caller's visible ``async with``; the stream is one turn (``receive_response()``), or every
    turn of a streamed input. Leaving the block stops the CLI, deterministically.

``async for m in query(prompt=..., options=...)`` (the iterator form)
    The official SDK's form, for code that migrates by renaming the import. Its semantics are
    the official ones: every message until the CLI exits (so the turn the CLI starts on its own
    after background subagents finish is delivered), and :class:`~trio_claude.ResultError`
    raised after an error result the CLI exited non-zero for.

Why the iterator form is pull-driven
------------------------------------

A session needs tasks (reader, writer, stderr pump, one per callback), and a task needs a
nursery. An async generator that opened a session would hold that nursery across its ``yield``:
trio forbids it (a cancellation delivered to the wrong task, "Nursery stack corrupted"). Nor
may the iterator hide the tasks in a system task or a detached nursery: nothing would bound
their lifetime or deliver their errors. Opening a nursery *inside* each ``__anext__`` and
keeping the session's tasks in it is impossible too: tasks cannot move from one nursery to the
next.

So the iterator owns no task at all between two iterations. :class:`_PullQuery` is a
pull-driven session: each ``__anext__`` does, inline, the work the session's tasks do.

- The first call spawns the CLI (the transport; ``SubprocessTransport`` needs no nursery),
  writes ``initialize`` and the prompt.
- Each call then returns a message already read, or *pumps*: in a nursery local to that call,
  one task reads stdout into the sans-io core (``ClaudeProtocol``), one drains stderr, one
  watches the process's exit, and each CLI->SDK control request (``can_use_tool``, hooks,
  in-process MCP tools) is answered by a task running its handler (``build_handlers``), in its
  own cancel scope (``control_cancel_request``). The pump
  ends, and its nursery closes, once a message is ready and no handler is running. Nothing
  runs between two iterations: callbacks run only while the caller iterates.
- Streamed input (an async iterable of prompts) is pulled inline too, one prompt when no turn
  is open: the next prompt is read from the iterable once the previous turn has ended.
- stdin stays open until the run is over (every prompt answered and the CLI reports itself
  idle: no background work owed, bounded by ``CLAUDE_CODE_PRINT_BG_WAIT_CEILING_MS``); then it
  is closed and the iterator reads on until the CLI exits. Keeping it open is what keeps
  interrupt-by-cancel: a cancellation inside ``__anext__`` interrupts the turn (``interrupt``,
  drained up to its result within ``interrupt_timeout``) before the CLI is stopped.
- Stopping is :func:`~trio_claude._transport._process.shutdown_process`, shielded and bounded,
  from ``aclose()``, from an error or cancellation inside ``__anext__``, or at the end.

What happens to an iterator dropped without ``aclose()`` (``break``, an exception in the loop
body): nothing can be awaited in a finaliser, so :meth:`Query.__del__` kills the CLI's whole
process tree at once (SIGKILL, ``_Process.kill_now``: reaped, blocking at most 1 s, then the
tool-process sweep). On CPython that runs as soon as the last reference goes, which for
``async for m in query(...): break`` is the ``break`` itself; elsewhere (PyPy), or when the
iterator is kept in a reference cycle or a traceback, at the next garbage collection. The turn
is not interrupted first, so its transcript may lack the interrupted turn's end. A custom
transport's process gets its ``kill()``. For deterministic, graceful cleanup use
``contextlib.aclosing(query(...))`` or call ``aclose()``; or the session form.

Not available in the iterator form (they need tasks that outlive one ``__anext__``):
``ClaudeAgentOptions.budget``, memory and CPU ``resource_limits`` (polled), and transports that
run a task of their own (the in-process ``FakeCLITransport``): each raises
:class:`~trio_claude.ConfigurationError` naming the session form instead.

The budget gate (``max_budget_usd``)
------------------------------------

The CLI checks ``--max-budget-usd`` between the messages of its engine loop, but runs tools
with a streaming executor that starts a tool's permission check as soon as its ``tool_use``
block is complete. With an answer that crosses the budget and asks for a tool, the CLI 2.1.329
writes the ``error_max_budget_usd`` result and still dispatches the tool about 20 ms later (its
debug log: ``[engine] turn 1 end ... cost=$1.40``, then ``[Stall] tool_dispatch_start``); an
``interrupt`` sent after the result does not reach it. Whether the tool's effect lands is then
a race with the process's exit: the official ``query()`` closes stdin right after the prompt,
so its CLI starts exiting at the result and usually kills the tool first (not always: 1 run in
5 still wrote the file with stdin closed); with stdin held open the tool completed in 5 runs of
5, and trio-claude's one-shot APIs, which closed stdin when the caller left the block, lost the
race in 2 runs of 5. So the sessions opened here (both forms of ``query()``, ``ask()``,
``ClaudeSDKClient``) with ``max_budget_usd`` get one more ``PreToolUse`` hook
(:class:`_BudgetGate`): before any tool runs, it asks the CLI for its spend (``get_usage``, one
control round trip) and denies the tool once the spend has reached the budget, which the CLI
has already counted when it asks the hook (its ``PreToolUse`` request comes after the answer's
``message_stop``). Errors fail open: the tool runs, as it would without the gate.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import uuid as uuid_module
import weakref
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any

import attrs
import trio

from ._callbacks import Handler, answer_request, build_handlers, track_request
from ._cli_version import warn_if_outdated
from ._errors import (
    ClaudeSDKError,
    ConcurrentReceiveError,
    ConfigurationError,
    ControlRequestError,
    ControlTimeoutError,
    ProcessError,
    SessionClosedError,
    StallTimeoutError,
    initialize_failed,
)
from ._exit import OutputEnd, end_error, exit_over_result, limit_breach, moves_on
from ._inbox import insert_before_result
from ._loop import require_trio
from ._options import (
    ClaudeAgentOptions,
    HookMatcher,
    check_transport,
    initialize_timeout,
    not_options_error,
)
from ._protocol._codec import decode_message
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
from ._protocol._lifecycle import Lifecycle, retry_delay
from ._redact import (
    RedactedDict,
    describe_exception,
    redact,
    redact_exception,
    redact_preview,
    scrub_exception,
)
from ._session import (
    EXIT_GRACE,
    MessageStream,
    Prompt,
    Session,
    _describe,
    _prepare,
    encode_prompt,
    open_session,
    output_handling_failed,
)
from ._telemetry import SessionTrace, child_spec, open_trace
from ._transport._base import ChildProcess, LaunchSpec, Transport
from ._transport._command import (
    build_initialize,
    check_initialize_reply,
    needs_open_stdin,
    session_secrets,
)
from ._transport._official import (
    OfficialStdout,
    OfficialStyleTransport,
    official_target,
    resolve_transport,
)
from ._transport._process import (
    PipeReader,
    SubprocessTransport,
    _Process,
    shutdown_process,
    write_nowait,
)
from ._util import BodyError, StderrTail, close_prompts, raise_collapsed
from .types import (
    InitMessage,
    Message,
    ResultMessage,
    TurnResult,
    UserMessage,
)

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = ["Query", "ask", "query"]

logger = logging.getLogger("trio_claude")

#: Bytes asked of the pipe per read.
_READ_SIZE = 64 * 1024
# While messages wait to be taken, stdout is still read (for the CLI's requests behind them)
# when this long has passed since the last look, up to this many queued messages (memory).
_READ_AHEAD_AFTER = 0.02
_READ_AHEAD_MAX = 10_000
_FLOOD_READ_SIZE = 256 * 1024
#: The run-end ceiling's variable (the CLI's own wait for background work once stdin closes).
_CEILING_ENV = "CLAUDE_CODE_PRINT_BG_WAIT_CEILING_MS"


def _describe_ending(exc: BaseException) -> str:
    """What is propagating, for a log line."""
    return "a cancellation" if isinstance(exc, trio.Cancelled) else type(exc).__name__


def query(
    prompt: Prompt | AsyncIterable[Any],
    *,
    options: ClaudeAgentOptions | None = None,
    transport: Transport | OfficialStyleTransport | None = None,
) -> Query:
    """Runs a prompt in a fresh session and streams its messages, in either of two forms.

    The session form, trio-claude's own (the session's nursery stays in a visible
    ``async with``; leaving the block, even half way through the stream, stops the CLI)::

        async with trio_claude.query("Summarise README.md", options=opts) as messages:
            async for message in messages:
                ...

    The iterator form, the official SDK's (every message until the CLI exits; raises
    :class:`~trio_claude.ResultError` after an error result)::

        async for message in trio_claude.query(prompt="Summarise README.md", options=opts):
            ...

    It owns no task between iterations (callbacks run while you iterate); wrap it in
    ``contextlib.aclosing(...)`` for deterministic cleanup. Dropped without ``aclose()``
    (``break``), it kills the CLI at once (see the module's documentation).

    Args:
        prompt: Text, content blocks, a ``UserMessage`` or a wire ``user`` dict; or an async
            iterable of those (the official form's message dicts). The iterator form sends
            the next prompt once the previous turn has ended: one turn each. The session form
            sends each as it comes (:meth:`Session.stream_input`), as the official SDK does,
            and the CLI runs a prompt that arrives mid-turn as part of the running turn: one
            result may then answer several prompts.
        options: Session options.
        transport: How to start the CLI (the same as ``options.transport``; here for the
            official signature): a :class:`~trio_claude.Transport`, or an object with the
            official SDK's transport methods (``docs/transports.md``, "Official-style
            transports").

    Returns:
        A :class:`Query`: an async context manager (the session form) and an async iterator
        (the iterator form). Use it one way, once.
    """
    return Query(prompt, options, transport)


class Query:
    """What :func:`query` returns: use it with ``async with`` or with ``async for``, once.

    ``async with query(...) as messages`` yields a :class:`MessageStream` of the prompt's turn
    (ending with its ``ResultMessage``; an error result is delivered, not raised), or of every
    turn of a streamed input. Leaving the block closes the session; with callbacks configured
    it first waits (up to ``CLAUDE_CODE_PRINT_BG_WAIT_CEILING_MS``) for the run to go idle, so
    late callbacks are answered.

    ``async for message in query(...)`` yields every message until the CLI exits and raises
    :class:`~trio_claude.ResultError` after an error result the CLI exited non-zero for.
    """

    def __init__(
        self,
        prompt: Prompt | AsyncIterable[Any],
        options: ClaudeAgentOptions | None,
        transport: Transport | OfficialStyleTransport | None,
    ) -> None:
        check_transport(transport)
        if options is not None and not isinstance(options, ClaudeAgentOptions):
            raise not_options_error(options)
        if transport is not None:
            options = attrs.evolve(options or ClaudeAgentOptions(), transport=transport)
        self._prompt = prompt
        self._options = options
        self._stack: AsyncExitStack | None = None
        self._pull: _PullQuery | None = None
        self._used = False

    # ---------------------------------------------------------------- the session form

    async def __aenter__(self) -> MessageStream:
        require_trio("query()")
        self._claim("async with")
        stack = AsyncExitStack()
        stream = await stack.enter_async_context(_session_query(self._prompt, self._options))
        self._stack = stack
        return stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        stack, self._stack = self._stack, None
        if stack is None:
            return None
        # Forwarded to the stack of the same ``async with``, in the same task.
        return await stack.__aexit__(exc_type, exc, tb)

    # ---------------------------------------------------------------- the iterator form

    def __aiter__(self) -> Query:
        if self._pull is None:
            self._claim("async for")
            self._pull = _PullQuery(self._prompt, self._options)
        return self

    async def __anext__(self) -> Message:
        if self._pull is None:
            self.__aiter__()
        assert self._pull is not None
        if not self._pull._started:
            require_trio("query()")
        return await self._pull.next()

    async def aclose(self) -> None:
        """Stops the iterator form: interrupts an open turn (bounded by ``interrupt_timeout``),
        closes stdin and stops the CLI (shielded, bounded). Idempotent."""
        if self._pull is not None:
            await self._pull.aclose()
        else:
            await trio.lowlevel.checkpoint()

    def __del__(self) -> None:
        # Dropped without aclose() (see the module's documentation): kill, never await.
        pull = getattr(self, "_pull", None)  # None if __init__ raised
        if pull is not None:
            try:
                pull.kill_now()
            except Exception:  # interpreter shutdown: the modules may be half gone
                pass

    def _claim(self, how: str) -> None:
        if self._used:
            raise RuntimeError(f"this query() was already used; {how} needs a fresh query()")
        self._used = True


async def _feed(
    session: Session,
    prompts: AsyncIterable[Any],
    body: BodyError,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``session.stream_input(prompts)`` for the session form of :func:`query`. A feed that
    fails as it is cancelled because the block's body raised is logged: the body's error is
    the one the block raises (as a callback's failure while it is cancelled)."""
    try:
        await session.stream_input(prompts, task_status=task_status)
    except Exception as exc:
        if body.error is None:
            raise
        logger.warning(
            "the prompt feed failed while the block was left: %s",
            redact_exception(exc, session._secrets),
        )


@asynccontextmanager
async def _session_query(
    prompt: Prompt | AsyncIterable[Any], options: ClaudeAgentOptions | None
) -> AsyncIterator[MessageStream]:
    """The session form of :func:`query`."""
    options, gate = with_budget_gate(options)
    async with open_session(options) as session:
        if gate is not None:
            gate.bind(session.get_usage)
        if isinstance(prompt, AsyncIterable):
            # Streamed input: feed it from a task while the caller reads every turn.
            body = BodyError()
            try:
                async with trio.open_nursery() as nursery:
                    await nursery.start(_feed, session, prompt, body)
                    stream = session.receive_until_input_done()
                    with body:
                        yield stream
                    # Left: nobody reads what the rest of the input would bring (a feed still
                    # waiting for its next prompt held the block open for ever).
                    nursery.cancel_scope.cancel()
            except BaseExceptionGroup as group:
                raise_collapsed(group, body.error)
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
    options, gate = with_budget_gate(options)
    async with open_session(options) as session:
        if gate is not None:
            gate.bind(session.get_usage)
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
    await session.wait_idle(_run_end_ceiling(session.options))


def _run_end_ceiling(options: ClaudeAgentOptions) -> float:
    """``CLAUDE_CODE_PRINT_BG_WAIT_CEILING_MS`` as the CLI sees it (``options.env`` first), in
    seconds; ``inf`` for ``0``; 600 s when unset or not a number."""
    raw = options.env.get(_CEILING_ENV)
    if raw is None:
        raw = os.environ.get(_CEILING_ENV, "600000")
    try:
        ceiling = float(raw) / 1000
    except ValueError:
        ceiling = 600.0
    if ceiling < 0 or math.isnan(ceiling):
        ceiling = 600.0
    return ceiling if ceiling > 0 else math.inf


# -------------------------------------------------------------------------- the budget gate


class _BudgetGate:
    """A ``PreToolUse`` hook denying every tool once the CLI's spend reaches ``max_budget_usd``.

    See "The budget gate" in the module's documentation.

    Args:
        limit: ``max_budget_usd``.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        # A weak reference: the gate lives in the options the session holds.
        self._usage: Callable[[], Awaitable[dict[str, Any]] | None] = lambda: None

    def bind(self, usage: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        """Sets how to ask the CLI for its usage (``Session.get_usage``, say)."""
        ref = weakref.WeakMethod(usage) if hasattr(usage, "__self__") else None
        if ref is None:
            self._usage = usage
            return

        def call() -> Awaitable[dict[str, Any]] | None:
            method = ref()
            return method() if method is not None else None

        self._usage = call

    async def hook(self, input: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        """The hook callback: ``{}`` (no opinion) or a ``deny`` decision."""
        pending = self._usage()
        if pending is None:
            await trio.lowlevel.checkpoint()
            return {}
        try:
            usage = await pending
        except ClaudeSDKError as exc:
            logger.debug("budget gate: get_usage failed (%s); the tool may run", exc)
            return {}
        session = usage.get("session")
        spent = session.get("total_cost_usd") if isinstance(session, Mapping) else None
        if isinstance(spent, bool) or not isinstance(spent, int | float):
            return {}
        if spent < self.limit:  # NaN is refused, as the CLI refuses it
            return {}
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": (
                    f"Budget limit reached (${spent:.4f} spent of the ${self.limit:g} "
                    "maximum, max_budget_usd): this tool call was not run."
                ),
            }
        }


def with_budget_gate(
    options: ClaudeAgentOptions | None,
) -> tuple[ClaudeAgentOptions | None, _BudgetGate | None]:
    """``options`` with the budget gate's hook added when ``max_budget_usd`` is set."""
    if not isinstance(options, ClaudeAgentOptions) or options.max_budget_usd is None:
        return options, None  # no options, or not options at all (validate_options says so)
    given = options.hooks or {}
    if not isinstance(given, dict) or not all(isinstance(v, list | tuple) for v in given.values()):
        return options, None  # invalid: validate_options says why
    gate = _BudgetGate(options.max_budget_usd)
    hooks: dict[Any, list[Any]] = {k: list(v) for k, v in given.items()}
    hooks.setdefault("PreToolUse", []).append(HookMatcher(matcher=None, hooks=[gate.hook]))
    return attrs.evolve(options, hooks=hooks), gate


# ---------------------------------------------------------------- the pull-driven session


class _StdinStalled(SessionClosedError):
    """The CLI did not take a frame from its stdin in time (half of it may be in the pipe)."""


class _Waiter:
    """One of our control requests waiting for its answer."""

    __slots__ = ("done", "response")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.response: ControlResponse | None = None


def _check_pull_options(options: ClaudeAgentOptions) -> None:
    """Refuses what the iterator form cannot do (it has no task between iterations)."""
    use = "use `async with query(...) as messages` or open_session()"
    if options.budget is not None:
        raise ConfigurationError(
            "budget: a Budget is enforced by the session's own tasks, which the iterator form "
            f"of query() does not have; {use}"
        )
    limits = options.resource_limits
    if limits is not None and limits.polled:
        raise ConfigurationError(
            "resource_limits: memory and CPU limits are watched by a task of the session, "
            f"which the iterator form of query() does not have; {use}"
        )


class _PullQuery:
    """A session driven by its consumer: see "Why the iterator form is pull-driven" above.

    Args:
        prompt: The prompt, or an async iterable of prompts.
        options: Session options.
    """

    def __init__(self, prompt: Prompt | AsyncIterable[Any], options: ClaudeAgentOptions | None):
        self._prompt = prompt
        self._given = options
        self._options = options or ClaudeAgentOptions()
        self._spec: LaunchSpec | None = None
        self._proc: ChildProcess | None = None
        self._unresponsive = False  # initialize timed out: no close grace
        self._proto = ClaudeProtocol()
        self._lifecycle: Lifecycle = self._proto.lifecycle
        self._handlers: dict[str, Handler] = {}
        self._secrets: tuple[str, ...] = ()
        self._stderr = StderrTail()
        self._queue: deque[Message] = deque()
        # CLI->SDK requests read but not started (read after a pump ended), and the cancel
        # scope of every request not answered yet (registered when read).
        self._unserved: list[tuple[ControlRequest, trio.CancelScope]] = []
        self._inflight: dict[str, trio.CancelScope] = {}
        self._busy = 0
        self._demand = trio.Event()  # set (and renewed) when a callback starts or ends
        self._nursery: trio.Nursery | None = None
        self._wake = trio.Event()
        self._progress = False
        self._write_lock = trio.Lock()
        self._stdin_closed = False
        self._stdin_broken = False
        self._stdout_ended = False
        self._stderr_ended = False
        self._stdout_held = False
        self._exited_at: float | None = None
        self._last_activity = 0.0
        self._quiet_until = 0.0  # an announced API retry's end (see _deadline)
        self._last_event: Any = None
        self._read_ahead_at = 0.0
        self._call_started = 0.0
        self._input: AsyncIterator[Any] | None = None
        self._input_done = True
        self._started = False
        self._finished = False
        self._closed = False
        self._in_use = False
        self._last_result: ResultMessage | None = None
        self._last_error_result: ResultMessage | None = None
        self._mirror: Any = None
        self._flushed_result: Message | None = None  # the store was flushed for it
        self._temp_config_dir: str | None = None
        self._limiter: trio.CapacityLimiter | None = None
        self._trace: SessionTrace | None = None
        #: The CLI's version, once known.
        self.cli_version: str | None = None
        self._version_checked = False

    # -------------------------------------------------------------------- iteration

    async def next(self) -> Message:
        """The next message; ``StopAsyncIteration`` once the CLI has exited cleanly."""
        if self._finished:
            await trio.lowlevel.checkpoint()
            raise StopAsyncIteration
        if self._in_use:
            raise ConcurrentReceiveError(
                "another task is already iterating this query(): iterate it in one task and "
                "hand the messages on (a memory channel)"
            )
        self._in_use = True
        self._call_started = trio.current_time()
        try:
            return await self._next()
        except StopAsyncIteration:
            raise
        except BaseException as ended:
            # An error, a cancellation, a KeyboardInterrupt: interrupt the turn and stop the
            # CLI before it propagates (shielded, bounded). What goes wrong while closing is
            # logged: it must not take the place of what is on its way out.
            try:
                await self._close(interrupt=True)
            except Exception as exc:
                logger.warning(
                    "stopping the CLI after %s failed: %s",
                    _describe_ending(ended),
                    describe_exception(exc),
                )
            raise
        finally:
            self._in_use = False

    async def _next(self) -> Message:
        if not self._started:
            await self._start()
        lifecycle = self._lifecycle
        queue = self._queue
        while True:
            if queue:
                if len(queue) < _READ_AHEAD_MAX:
                    now = trio.current_time()
                    if now - self._read_ahead_at >= _READ_AHEAD_AFTER:
                        await self._read_ahead(now)
                return await self._deliver(queue.popleft())
            if self._stdout_ended:
                error = await self._finish()
                if error is not None:
                    raise error
                raise StopAsyncIteration
            if not self._input_done and not lifecycle.live_turn_open and not self._stdin_closed:
                await self._send_next_input()
                continue
            if self._run_over():
                await self._close_stdin()
                continue
            deadline, why = self._deadline()
            self._progress = False
            if await self._pump(lambda: self._progress, deadline):
                continue
            if why == "stall":
                stall = self._options.stall_timeout
                assert stall is not None
                logger.warning("no frame from the CLI for %g s; interrupting the turn", stall)
                raise StallTimeoutError(stall, _describe(self._last_event, self._secrets))
            # The ceiling: the CLI stayed busy after the last result with no new turn.
            await self._close_stdin()

    async def aclose(self) -> None:
        """Interrupts an open turn, closes stdin and stops the CLI (shielded, bounded)."""
        if self._in_use:
            raise ConcurrentReceiveError("aclose() while another task is iterating this query()")
        await self._close(interrupt=True)

    def kill_now(self) -> None:
        """The finaliser's path: kills the CLI's tree at once (nothing can be awaited)."""
        if self._closed or self._proc is None:
            return
        self._closed = self._finished = True
        proc = self._proc
        logger.debug(
            "query() iterator dropped without aclose(): killing the CLI (pid %s)", proc.pid
        )
        try:
            if isinstance(proc, _Process):
                proc.kill_now()
            else:
                proc.kill()
        except Exception:
            logger.exception("could not kill the CLI of a dropped query() iterator")
        self._release()

    # ------------------------------------------------------------------------ start

    async def _start(self) -> None:
        self._started = True
        options, gate = with_budget_gate(self._given)
        options = options or ClaudeAgentOptions()
        _check_pull_options(options)
        prepared = await _prepare(options)
        options, spec = prepared.options, prepared.spec
        if gate is not None:
            gate.bind(self._usage_for_gate)
        transport = resolve_transport(options.transport or SubprocessTransport())
        official = official_target(transport) is not None
        resuming = options.resume or options.continue_conversation
        if options.session_store is not None and resuming and not official:
            spec = await self._prepare_store_resume(options, spec)
        # Spans, when tracing is on: the iterating task's span is the parent (docs/telemetry.md).
        # Secret values of the child's environment and of the options: masked wherever CLI
        # output, a callback's failure or a span shows text that may quote them.
        self._secrets = session_secrets(options, spec.env)
        self._trace = open_trace(options.telemetry, options.model, self._secrets)
        spec = child_spec(spec, options.telemetry, options.env, self._trace)
        self._options, self._spec = options, spec
        self._proto = ClaudeProtocol(max_line_bytes=options.effective_max_line_bytes)
        self._lifecycle = self._proto.lifecycle
        self._handlers = build_handlers(options, self._secrets)
        self._stderr = StderrTail(secrets=self._secrets)
        if options.session_store is not None:
            from ._mirror import TranscriptMirror as _Mirror
            from ._mirror import cli_config_dir

            self._mirror = _Mirror(
                options.session_store,
                cli_config_dir(spec.env) / "projects",
                eager=options.session_store_flush == "eager",
                report_error=self._inject_frame,
                secrets=self._secrets,
            )
        limiter = options.process_limiter
        if limiter is not None:
            await limiter.acquire_on_behalf_of(self)
            self._limiter = limiter
        await self._spawn(transport, spec)
        await self._initialize()
        prompt = self._prompt
        if isinstance(prompt, AsyncIterable):
            self._input = aiter(prompt)
            self._input_done = False
        else:
            await self._send(prompt)

    async def _prepare_store_resume(
        self, options: ClaudeAgentOptions, spec: LaunchSpec
    ) -> LaunchSpec:
        from ._mirror import resume_from_store

        spec, temp_dir = await resume_from_store(options, spec)
        self._temp_config_dir = str(temp_dir)
        return spec

    async def _spawn(self, transport: Transport, spec: LaunchSpec) -> None:
        runs_a_task = False
        try:
            async with trio.open_nursery() as probe:
                proc = await transport.start(spec, probe)
                if probe.child_tasks:
                    # The transport runs a task of its own (an in-process fake CLI): it would
                    # need a nursery that outlives this call, which the iterator form has not.
                    runs_a_task = True
                    proc.kill()
                    probe.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            raise_collapsed(group)
        if runs_a_task:
            raise ConfigurationError(
                f"transport: {type(transport).__name__} runs a task of its own in the session's "
                "nursery, which the iterator form of query() does not have; use "
                "`async with query(...) as messages` or open_session()"
            )
        self._proc = proc
        self._lifecycle.started()
        self._last_activity = trio.current_time()

    async def _initialize(self) -> None:
        options = self._options
        fields = build_initialize(options)  # a RedactedDict: tracebacks show its frames
        del fields["subtype"]
        try:
            reply = await self._request("initialize", fields, timeout=initialize_timeout(options))
        except ControlRequestError as exc:
            if isinstance(exc, ControlTimeoutError):
                self._unresponsive = True  # no close grace (as the session: _shutdown)
            raise initialize_failed(exc, self._stderr.text(), self._secrets) from exc
        # Not typed: nothing reads it here (44 slash commands: a third of what a start cost).
        warning = check_initialize_reply(options, reply)
        if warning is not None:
            logger.warning(warning)
        self._lifecycle.initialized()
        version = reply.get("claude_code_version")
        self._note_cli_version(version if isinstance(version, str) else None)

    def _note_cli_version(self, version: str | None) -> None:
        if not version:
            return
        if self.cli_version is None:
            self.cli_version = version
        if not self._version_checked:
            self._version_checked = True
            warn_if_outdated(version, cli_path=self._spec.argv[0] if self._spec else None)

    # ------------------------------------------------------------------------ input

    async def _send_next_input(self) -> None:
        assert self._input is not None
        try:
            prompt = await anext(self._input)
        except StopAsyncIteration:
            self._input_done = True
            return
        await self._send(prompt)

    async def _send(self, prompt: Any) -> None:
        uuid = prompt.uuid if isinstance(prompt, UserMessage) and prompt.uuid else None
        if uuid is None and isinstance(prompt, dict) and isinstance(prompt.get("uuid"), str):
            uuid = prompt["uuid"]
        chosen_by_sdk = uuid is None
        if uuid is None:
            uuid = str(uuid_module.uuid4())
        data = encode_prompt(self._proto, self._options, prompt, None, uuid)
        self._lifecycle.prompt_sent(uuid, chosen_by_sdk=chosen_by_sdk)
        if self._trace is not None:
            self._trace.prompt_sent(uuid)
        await self._write_or_end(data)

    def _run_over(self) -> bool:
        """Whether the run is over, so stdin may close and the CLI exit: every prompt sent and
        answered, no callback owed, and the CLI idle (or silent about its state)."""
        return (
            not self._stdin_closed
            and self._input_done
            and not self._lifecycle.live_turn_open
            and not self._unserved
            and self._proto.state in (None, "idle")
            and not self._proto.agent_tasks  # their end wakes the run for another turn
        )

    def _deadline(self) -> tuple[float, str]:
        """When the next pump must give up, and why (``stall`` or ``ceiling``)."""
        options = self._options
        # Quiet time counts from the last frame, or from the start of this call: the time the
        # caller spent between two iterations is not the CLI's.
        since = max(self._last_activity, self._call_started)
        stall = options.stall_timeout
        if stall is not None and self._lifecycle.live_turn_open:
            # (After an announced API retry, the CLI is silent for its delay.)
            return max(since, self._quiet_until) + stall, "stall"
        if not self._stdin_closed and self._input_done and not self._lifecycle.live_turn_open:
            return since + _run_end_ceiling(options), "ceiling"
        return math.inf, ""

    async def _deliver(self, message: Message) -> Message:
        mirror = self._mirror
        if mirror is not None:
            if message.__class__ is ResultMessage and message is not self._flushed_result:
                # As the official SDK: the store is up to date when a result is seen (and a
                # mirror_error of that flush comes before the result).
                self._flushed_result = message  # a mirror_error first puts it back in front
                mirror._wakeup = trio.Event()
                try:
                    message = await mirror.result_after_flush(message, self._queue)
                except BaseException:
                    self._flushed_result = None  # back in front: flushed for again
                    raise
            elif mirror._wakeup.is_set():
                # Eager mode and batches over their bound ask for a flush (``run`` is not
                # running here).
                mirror._wakeup = trio.Event()
                await mirror.flush()
        if message.__class__ is ResultMessage:
            assert isinstance(message, ResultMessage)
            self._proto.ends_turn(message)
        return message

    # ------------------------------------------------------------------------ the pump

    async def _pump(self, until: Callable[[], bool], deadline: float = math.inf) -> bool:
        """Reads, routes and answers until ``until()`` (or the output's end) with no callback
        running; ``False`` if ``deadline`` passed first (never while a callback runs)."""
        proc = self._proc
        assert proc is not None
        if (until() or self._stdout_ended) and not self._unserved:
            return True
        # What the CLI has written already may be enough: then no nursery and tasks to start.
        if (
            not self._unserved
            and self._read_now(proc.stdout)
            and (until() or self._stdout_ended)
            and not self._unserved
        ):
            await trio.lowlevel.checkpoint()
            return True
        in_time = True
        stdout = proc.stdout
        # An official-style transport's stdout pulls from its read_messages() inline, and a
        # pull once started cannot be cancelled without ending that iterator for good: it is
        # started only while this pump wants output, and given up at the deadline only.
        inline = isinstance(stdout, OfficialStdout)

        def wanted() -> bool:
            # Not while a callback runs and the caller has what it waits for: a pull started
            # then could not be given up, and would hold the pump (and what it read) until
            # the remote end next speaks.
            return not (until() or self._stdout_ended)

        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                try:
                    nursery.start_soon(self._read_stdout, stdout, wanted if inline else None)
                    if proc.stderr is not None and not self._stderr_ended:
                        nursery.start_soon(self._read_stderr, proc.stderr)
                    nursery.start_soon(self._watch_exit, proc)
                    self._start_unserved()
                    while self._busy or not (until() or self._stdout_ended):
                        if not self._busy and trio.current_time() >= deadline:
                            in_time = False
                            break
                        with trio.move_on_at(deadline if not self._busy else math.inf):
                            await self._wake.wait()
                        if self._wake.is_set():
                            self._wake = trio.Event()
                except BaseException:
                    if isinstance(stdout, OfficialStdout):
                        stdout.abandon_at(-math.inf)  # on the way out: not waited for
                    raise
                finally:
                    self._nursery = None
                    nursery.cancel_scope.cancel()
                    if isinstance(stdout, OfficialStdout):
                        stdout.abandon_at(deadline if in_time else -math.inf)
        except BaseExceptionGroup as group:
            raise_collapsed(group)
        return in_time

    async def _read_ahead(self, now: float) -> None:
        """Reads what the CLI wrote behind the messages not taken yet, and answers the requests
        found there now: with a slow loop body they waited behind its backlog (a hook answered
        seconds late, counting against the CLI's hook timeout). At most every
        ``_READ_AHEAD_AFTER`` seconds, and not past ``_READ_AHEAD_MAX`` queued messages."""
        self._read_ahead_at = now
        proc = self._proc
        assert proc is not None
        if self._read_now(proc.stdout) and self._unserved:
            await self._pump(lambda: True)  # returns once the callbacks have answered

    def _read_now(self, stdout: trio.abc.ReceiveStream) -> bool:
        """Feeds what stdout holds right now, without waiting; whether there was anything."""
        if self._stdout_ended:
            return False
        try:
            data = PipeReader(stdout).receive_nowait(_FLOOD_READ_SIZE)
        except OSError as exc:
            logger.debug("reading from the CLI failed: %r", exc)
            return False  # the pump's reader meets it again and ends the output
        if data is None:
            return False
        self._last_activity = trio.current_time()
        self._feed(data)
        return True

    async def _read_stdout(
        self, stdout: trio.abc.ReceiveStream, wanted: Callable[[], bool] | None = None
    ) -> None:
        """Reads stdout into the core until its end; with ``wanted``, a read starts only
        while ``wanted()`` (an official-style transport's reads cannot be cancelled)."""
        reader = PipeReader(stdout)
        size = _READ_SIZE
        while not self._stdout_ended:
            if wanted is not None:
                while not wanted():
                    await self._demand.wait()
            try:
                data = await reader.receive_some(size)
                # Larger reads while the CLI floods (as Session._reader does).
                size = _FLOOD_READ_SIZE if len(data) >= size else _READ_SIZE
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                logger.debug("reading from the CLI failed: %r", exc)
                data = b""
            self._last_activity = trio.current_time()
            self._feed(data)

    async def _read_stderr(self, stream: trio.abc.ReceiveStream) -> None:
        callback = self._options.stderr
        tail = self._stderr
        while not self._stderr_ended:
            try:
                data = bytes(await stream.receive_some(65536))
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                data = b""
            tail.take(data, callback)
            if not data:
                self._stderr_ended = True
                self._wake.set()

    async def _watch_exit(self, proc: ChildProcess) -> None:
        """Notes the exit; stops reading a stdout that a process the CLI started holds open
        ``EXIT_GRACE`` seconds after the exit (as the session does)."""
        if self._exited_at is None:
            code = await proc.wait()
            self._lifecycle.process_exited(code)
            self._exited_at = trio.current_time()
            self._wake.set()
        if self._stdout_ended:
            return
        await trio.sleep_until(self._exited_at + EXIT_GRACE)
        if not self._stdout_ended:
            logger.warning(
                "the CLI (pid %s) exited, but its output is still open after %g s; "
                "a process it started holds it: no longer reading",
                proc.pid,
                EXIT_GRACE,
            )
            self._stdout_held = True
            self._feed(b"")

    def _feed(self, data: bytes) -> None:
        """Hands bytes read from stdout (``b""``: its end) to the core and routes the events."""
        if self._stdout_ended:
            return
        proto = self._proto
        try:
            proto.receive_data(data)
            if not data:
                self._stdout_ended = True
            events = proto.events()
            for event in events:
                self._route(event)
        except Exception as exc:
            raise output_handling_failed(exc, self._secrets) from exc
        if events:
            # For StallTimeoutError's "last seen"; nothing is kept between turns.
            self._last_event = events[-1] if self._lifecycle.live_turn_open else None
        if not data:
            for waiter in proto.fail_pending().values():
                if isinstance(waiter, _Waiter):
                    # No error set: its caller asks _end_error why (exit code, stderr tail).
                    waiter.done.set()
            for scope in self._inflight.values():
                scope.cancel()  # nothing can take their answers now
        self._wake.set()

    def _route(self, event: Any) -> None:
        cls = event.__class__
        if cls is ControlResponse:
            waiter = event.waiter
            if isinstance(waiter, _Waiter):
                waiter.response = event
                waiter.done.set()
        elif cls is ControlRequest:
            # Registered now: a control_cancel_request read in the same batch must find it.
            scope = track_request(self._inflight, event.request_id)
            self._unserved.append((event, scope))
            self._start_unserved()
        elif cls is ControlCancel:
            withdrawn = self._inflight.get(event.request_id)
            if withdrawn is not None:
                withdrawn.cancel()
        elif cls is SessionStateChanged:
            self._progress = True
        elif cls is KeepAlive:
            pass
        elif cls is TranscriptMirror:
            if self._mirror is not None:
                self._mirror.add(event.file_path, event.entries)
        elif cls is InvalidLine:
            logger.warning(
                "ignoring a line from the CLI (%s): %r",
                redact_preview(event.error, self._secrets, 300),
                redact_preview(event.line, self._secrets, 120),
            )
        elif cls is OversizeLine:
            logger.warning(
                "dropped a %d-byte line from the CLI (max_line_bytes=%d)",
                event.size,
                self._options.effective_max_line_bytes,
            )
        else:
            if cls is ResultMessage:
                self._last_result = event
                # As the official SDK keeps it, on read: an exit over it is its failure.
                self._last_error_result = event if event.is_error else None
            elif moves_on(event):
                self._last_error_result = None  # the conversation moved on
                if cls is InitMessage and not self._version_checked:
                    self._note_cli_version(event.claude_code_version)
            # An announced API retry: silent for its delay, until a message says otherwise.
            delay = retry_delay(event)  # (by attribute: ApiRetryMessage is made on first use)
            self._quiet_until = trio.current_time() + delay if delay else 0.0
            if self._trace is not None:
                self._trace.observe(event, self._lifecycle.open_turns)
            self._queue.append(event)
            self._progress = True

    def _inject_frame(self, frame: dict[str, Any]) -> None:
        """Delivers an SDK-made frame (``system/mirror_error``), before the first result not
        handed out yet."""
        insert_before_result(self._queue, decode_message(frame))

    def _start_unserved(self) -> None:
        nursery = self._nursery
        if nursery is None:
            return  # read after the pump ended: served by the next one
        unserved, self._unserved = self._unserved, []
        for request, scope in unserved:
            self._busy += 1
            nursery.start_soon(self._serve, request, scope)
        if unserved:
            self._demand.set()
            self._demand = trio.Event()

    async def _serve(self, request: ControlRequest, scope: trio.CancelScope) -> None:
        """Answers one CLI->SDK request (as ``Session._serve_request``)."""
        reply: bytes | None = None
        try:
            with scope:
                try:
                    reply = await answer_request(
                        self._proto, self._handlers, request, self._trace, self._secrets
                    )
                finally:
                    if self._inflight.get(request.request_id) is scope:
                        del self._inflight[request.request_id]
            if not scope.cancel_called and reply is not None and not self._stdin_closed:
                try:
                    await self._write(reply)
                except ClaudeSDKError as exc:
                    logger.debug("answering %s failed: %s", request.subtype, exc)
        finally:
            self._busy -= 1
            # The CLI waited for us, not we for it: the stall clock starts again now, and the
            # pump's caller works out a new deadline (``_progress``).
            self._last_activity = trio.current_time()
            self._progress = True
            self._wake.set()
            self._demand.set()
            self._demand = trio.Event()

    # ------------------------------------------------------------------------ writing

    async def _write(self, data: bytes, timeout: float | None = None) -> None:
        """Writes a frame; shielded and bounded (by ``timeout``, else ``close_timeout`` and at
        least 1 s), so a frame is never cut in half by a cancellation (the CLI would choke on
        the rest of the stream). A CLI that does not take it in time: :class:`_StdinStalled`."""
        if self._stdin_closed or self._stdin_broken:
            await trio.lowlevel.checkpoint()
            raise SessionClosedError("the CLI's stdin is closed")
        proc = self._proc
        assert proc is not None
        if not self._write_lock.locked():
            # Nothing else is writing: straight into the pipe, no trip through send_all.
            try:
                written = write_nowait(proc.stdin, data)
            except OSError as exc:
                self._stdin_broken = True
                raise self._write_failed(exc) from exc
            if written == len(data):
                self._last_activity = trio.current_time()
                await trio.lowlevel.checkpoint_if_cancelled()
                return
            if written:
                data = data[written:]
        grace = max(self._options.close_timeout, 1.0)
        bound = grace if timeout is None else timeout
        # Shielded for the usual bound only: a control request's longer one (a big initialize
        # to a CLI slow to read) stays cancellable, and a cancelled write leaves the stdin
        # broken (half a frame may be in the pipe; nothing more is written after it).
        with trio.CancelScope(shield=bound <= grace):
            with trio.move_on_after(bound) as timer:
                async with self._write_lock:
                    try:
                        await proc.stdin.send_all(data)
                    except trio.Cancelled:
                        self._stdin_broken = True
                        raise
                    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                        self._stdin_broken = True
                        raise self._write_failed(exc) from exc
        self._last_activity = trio.current_time()
        if timer.cancelled_caught:
            self._stdin_broken = True  # (half a frame may be in the pipe)
            raise _StdinStalled("the CLI stopped reading its stdin")
        await trio.lowlevel.checkpoint_if_cancelled()

    def _write_failed(self, exc: BaseException) -> SessionClosedError:
        """Why a write failed, masked (an official-style transport's error may quote a key);
        the cause is scrubbed the same way, for a traceback printing the chain."""
        scrub_exception(exc, self._secrets)
        said = redact(describe_exception(exc), self._secrets)
        return SessionClosedError(f"writing to the CLI failed: {said}")

    async def _write_or_end(self, data: bytes, timeout: float | None = None) -> None:
        """``_write``, from the iterating task (no pump running). A CLI whose stdin broke has
        exited or is exiting: its output's end says why (a ``ProcessError`` with its exit code
        and stderr tail), as it would have had we read before writing. With a ``timeout`` (a
        control request's), a CLI that did not take the frame in time is not waited for more."""
        try:
            await self._write(data, timeout)
        except SessionClosedError as exc:
            if not self._stdin_broken or self._stdin_closed:
                raise
            if timeout is not None and isinstance(exc, _StdinStalled):
                raise
            deadline = trio.current_time() + self._options.close_timeout
            await self._pump(lambda: self._stdout_ended, deadline)
            if not self._stdout_ended:
                raise
            error = await self._end_error()
            if error is None:
                raise
            raise error from exc

    async def _close_stdin(self) -> None:
        if self._stdin_closed or self._proc is None:
            return
        self._stdin_closed = True
        with trio.CancelScope(shield=True), trio.move_on_after(self._options.close_timeout):
            async with self._write_lock:
                try:
                    await self._proc.stdin.aclose()
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass

    async def _request(
        self, subtype: str, fields: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Sends an SDK->CLI request and pumps until its answer (from the iterating task)."""
        if fields.__class__ is not RedactedDict:  # settings, MCP configs: tracebacks show it
            fields = RedactedDict(fields)
        if self._trace is None:
            return await self._send_request(subtype, fields, timeout)
        return await self._trace.traced(
            subtype, lambda: self._send_request(subtype, fields, timeout)
        )

    async def _send_request(
        self, subtype: str, fields: dict[str, Any], timeout: float | None
    ) -> dict[str, Any]:
        waiter = _Waiter()
        request_id, data = self._proto.send_control_request(subtype, fields, waiter)
        limit = self._options.control_timeout if timeout is None else timeout
        deadline = trio.current_time() + limit  # for the write and the answer together
        try:
            try:
                await self._write_or_end(data, limit)
            except _StdinStalled:
                # Not read within the request's time (a big initialize, a CLI not reading):
                # the request timed out, as when its answer does not come.
                raise ControlTimeoutError(subtype, limit) from None
            finally:
                # The wire form may carry credentials (initialize's MCP headers), and the CLI's
                # death is raised in this frame: no local of it shows them to a traceback.
                del data
            await self._pump(waiter.done.is_set, deadline)
        finally:
            if not waiter.done.is_set():
                self._proto.forget_request(request_id)
        if waiter.response is None and self._stdout_ended:
            # The output ended before the answer: say why, as the session does (an exit
            # during ``initialize`` is the CLI's ProcessError, with its code and stderr).
            error = await self._end_error()
            raise error if error is not None else SessionClosedError("the CLI has exited")
        return _answer(subtype, waiter, limit, self._secrets)

    async def _usage_for_gate(self) -> dict[str, Any]:
        """``get_usage``, asked from a callback running inside a pump (the budget gate)."""
        if self._nursery is None or self._stdin_closed or self._stdin_broken:
            raise SessionClosedError("the query is not reading")
        waiter = _Waiter()
        request_id, data = self._proto.send_control_request("get_usage", {}, waiter)
        limit = self._options.control_timeout
        try:
            await self._write(data)
            with trio.move_on_after(limit):
                await waiter.done.wait()
        finally:
            if not waiter.done.is_set():
                self._proto.forget_request(request_id)
        if waiter.response is None and self._stdout_ended:
            raise SessionClosedError("the CLI's output ended")
        return _answer("get_usage", waiter, limit, self._secrets)

    # ------------------------------------------------------------------------ the end

    async def _end_error(self) -> BaseException | None:
        """stdout has ended: waits (bounded) for the exit and the rest of stderr, then says
        why the output ended, as the session does (``end_error``)."""
        proc = self._proc
        assert proc is not None and self._spec is not None
        options = self._options
        try:
            async with trio.open_nursery() as nursery:
                if proc.stderr is not None and not self._stderr_ended:
                    nursery.start_soon(self._read_stderr, proc.stderr)
                if self._exited_at is None:
                    with trio.move_on_after(options.close_timeout):
                        status = await proc.wait()
                        self._lifecycle.process_exited(status)
                        self._exited_at = trio.current_time()
                with trio.move_on_after(1.0):
                    while not self._stderr_ended and proc.stderr is not None:
                        await self._wake.wait()
                        if self._wake.is_set():
                            self._wake = trio.Event()
                nursery.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            raise_collapsed(group)
        code = proc.returncode
        stderr = self._stderr.text()
        lifecycle = self._lifecycle
        end = OutputEnd(
            exit_code=code,
            closing=lifecycle.close_requested,
            broken=None,
            breach=limit_breach(options, None, code, stderr),
            stdout_held=self._stdout_held,
            live_turn_open=lifecycle.live_turn_open,
            stderr=stderr,
            last_result=self._last_result,
            cli_version=self.cli_version,
            error_result_last=self._last_error_result,
        )
        error = end_error(end, options, self._spec, self._secrets)
        lifecycle.end(error)
        return error

    async def _finish(self) -> BaseException | None:
        """The output has ended and every message was delivered: the error to raise, if any
        (a :class:`ResultError` for an error result the CLI exited non-zero for)."""
        error = await self._end_error()
        await self._close(interrupt=False)
        if type(error) is ProcessError:
            # (Also with this turn open: a prompt sent and the CLI exiting over its error
            # result before any message, as the official SDK raises it.)
            return exit_over_result(error, self._last_error_result, self._secrets)
        return error

    async def _close(self, *, interrupt: bool) -> None:
        """Stops the CLI: interrupts and drains an open turn (``interrupt_timeout``), closes
        stdin, then :func:`shutdown_process`. Shielded, bounded, idempotent."""
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        self._closed = self._finished = True
        proc = self._proc
        lifecycle = self._lifecycle
        with trio.CancelScope(shield=True):
            try:
                if proc is not None:
                    try:
                        # Abandons the open turns: the core drops their messages as they drain.
                        owe_interrupt = lifecycle.close()
                        usable = not (
                            self._stdin_closed or self._stdin_broken or self._stdout_ended
                        )
                        if interrupt and owe_interrupt and usable:
                            await self._interrupt_and_drain()
                    finally:
                        # Whatever failed above, the CLI is stopped and reaped.
                        self._queue.clear()
                        await self._close_stdin()
                        await self._reap(proc)
                    if self._mirror is not None:
                        with trio.move_on_after(10):
                            await self._mirror.flush()
            finally:
                self._queue.clear()
                if self._input is not None:  # a prompt generator left before its end
                    await close_prompts(self._input, self._secrets)
                lifecycle.closed()
                self._stderr.take(b"", self._options.stderr)  # a last line without its "\n"
                self._release()
                if self._trace is not None:
                    code = proc.returncode if proc is not None else None
                    self._trace.end(lifecycle.failure, proc.pid if proc else None, code)

    async def _interrupt_and_drain(self) -> None:
        """``_close``'s first step: interrupt the open turn and read it to its end, at most
        ``interrupt_timeout``. A failure here (the CLI gone, its output beyond handling) only
        makes the close go on to the next step."""
        lifecycle = self._lifecycle
        with trio.move_on_after(self._options.interrupt_timeout):
            try:
                await self._request("interrupt", {})
            except ClaudeSDKError as exc:
                logger.debug("interrupt while closing failed: %s", exc)
                return
            try:
                await self._pump(lambda: not lifecycle.turns_open)
            except ClaudeSDKError as exc:
                logger.warning("reading the interrupted turn's end while closing failed: %s", exc)

    async def _reap(self, proc: ChildProcess) -> None:
        """``shutdown_process``, reading what is left of the output meanwhile (so a CLI
        blocked on a full pipe can exit; its transcript frames are still mirrored)."""
        try:
            async with trio.open_nursery() as nursery:
                if not self._stdout_ended:
                    nursery.start_soon(self._read_stdout, proc.stdout)
                if proc.stderr is not None and not self._stderr_ended:
                    nursery.start_soon(self._read_stderr, proc.stderr)
                grace = 0.0 if self._unresponsive else self._options.close_timeout
                await shutdown_process(proc, close_timeout=grace)
                nursery.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            raise_collapsed(group)
        for _, scope in self._unserved:
            scope.cancel()
        self._unserved.clear()

    def _release(self) -> None:
        """Gives back the process limiter's token and the resume's temporary config dir."""
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            try:
                limiter.release_on_behalf_of(self)
            except RuntimeError:  # a finaliser off the trio thread: the token is lost
                logger.debug("could not release the process limiter's token")
        temp, self._temp_config_dir = self._temp_config_dir, None
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _answer(
    subtype: str, waiter: _Waiter, limit: float, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The success payload of an answered request, or the typed error (its text masks
    ``secrets``, the session's secret values)."""
    response = waiter.response
    if not waiter.done.is_set() or response is None:
        raise ControlTimeoutError(subtype, limit)
    if not response.ok:
        raise ControlRequestError(
            subtype, response.error or "", response.error_code, secrets=secrets
        )
    return response.response
