"""The session's lifecycle and its turns: one state machine, no I/O, no trio.

Every input the session sees (a prompt written, a frame read, a receiver cancelled, close asked
for, stdout's end, the process's exit, a timeout) is a method call here, and every decision that
depends on the session's history is taken here, once. The trio shell (``_session.py``) only moves
bytes, runs callbacks and keeps time; it asks this module what to do.

The rules
---------

1. **States.** A session is in exactly one :class:`LifecycleState`. The *phase* only moves forward:
   ``STARTING -> INITIALIZING -> running -> CLOSING -> CLOSED``, and ``FAILED`` can end any
   phase. While running, the state is derived from the turns: ``IDLE`` (no turn open),
   ``IN_TURN`` (a turn is open), ``INTERRUPTING`` (the oldest open turn was abandoned: the CLI was
   asked to interrupt it and its remaining messages are being dropped up to its result).

2. **Turns.** A turn opens when its prompt is written (:meth:`Lifecycle.prompt_sent`) and ends
   exactly once:

   - by a result that names the turn's prompt uuid (``user_message_uuids`` or
     ``user_message_uuid``). One result may name several prompts (the CLI folds a prompt that
     arrives mid-turn into the running turn): it ends all of them;
   - by a result that names no uuid at all, if the CLI has never named the uuid of an open turn
     (older CLIs, fakes): it ends the oldest open turn;
   - by the CLI dropping the prompt before it ran (:meth:`Lifecycle.prompt_state`: a
     ``command_lifecycle`` frame ``cancelled`` or ``discarded``; or the answer to the request
     that dropped it, :meth:`Lifecycle.withdrawn`), with no result. A prompt the CLI said it
     ``started`` is not dropped by such a frame (unless ``queued`` again since): it ends at its
     result;
   - or by the end of the session, with the end's error.

   A result that ends no open turn (a background job's, or a turn the CLI ran on its own) is
   delivered, and ends no receiver's turn.

3. **Abandoned turns.** A receiver cancelled mid-turn abandons the oldest live turn
   (:meth:`Lifecycle.abandon`): the shell must send ``interrupt`` (once per drain), and every
   message read while the oldest open turn is abandoned is dropped, its result too. A result that
   also ends a live turn is delivered.

4. **Close.** :meth:`Lifecycle.close` abandons every open turn. If the CLI's output has not ended
   and a turn is open, the shell interrupts the CLI and waits (bounded by ``interrupt_timeout``)
   until the turns have drained before it closes stdin, so that the CLI exits on its own.

5. **The end.** The output has ended when stdout has ended *and* the process has exited; when the
   process has exited and a short grace for its last output passed (a grandchild may hold stdout
   open); or when stdout ended and the process did not exit in time. :meth:`Lifecycle.end` then
   records the error (``None`` for a clean end), the phase becomes ``CLOSED`` or ``FAILED``, and
   every open turn ends.

6. **Receiving.** Messages already read are always delivered first. After them, a receive for a
   turn stops at once when no live turn is open (:attr:`Lifecycle.live_turn_open`): it never
   waits for a result that no prompt is owed.

7. **Sending.** Nothing is sent once closing, closed or failed (:meth:`Lifecycle.check_can_send`).

Token and cost charging for budgets is turn bookkeeping too: :class:`UsageMeter` computes what
each message adds, so the shell only hands the numbers to the shared ``Budget``.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from .._errors import SessionClosedError
from ..types import AssistantMessage, UnknownMessage

__all__ = ["Lifecycle", "ResultRoute", "LifecycleState", "UsageMeter", "result_uuids"]


#: The ``command_lifecycle`` states of a prompt the CLI dropped before it ran.
_DROPPED_STATES = frozenset({"cancelled", "discarded"})


class LifecycleState(enum.Enum):
    """Where a session is in its life (see :attr:`Session.lifecycle <trio_claude.Session>`)."""

    #: The process is being started.
    STARTING = "starting"
    #: The process runs; ``initialize`` has not been answered yet.
    INITIALIZING = "initializing"
    #: Ready, no turn open.
    IDLE = "idle"
    #: A turn is open.
    IN_TURN = "in_turn"
    #: An abandoned turn is being interrupted and drained.
    INTERRUPTING = "interrupting"
    #: ``aclose()`` (or the end of the ``async with``) is stopping the CLI.
    CLOSING = "closing"
    #: Closed, or the CLI exited cleanly.
    CLOSED = "closed"
    #: Ended by an error (the CLI died, or the session broke).
    FAILED = "failed"


class ResultRoute(enum.Enum):
    """What to do with a result that was read (rule 2 and 3)."""

    #: Deliver it; it ends the turn a receiver is waiting for.
    ENDS_TURN = "ends_turn"
    #: Deliver it; it ends no receiver's turn (a background job's result).
    BACKGROUND = "background"
    #: Drop it: it ends an abandoned turn.
    DROP = "drop"
    #: Drop it: it ends no turn of ours, and arrived while an abandoned turn drains.
    DROP_BACKGROUND = "drop_background"


def result_uuids(raw: Mapping[str, Any]) -> list[str]:
    """The prompt uuids a result frame says it answers (rule 2)."""
    uuids = raw.get("user_message_uuids")
    if isinstance(uuids, list) and uuids:
        return [u for u in uuids if isinstance(u, str)]
    single = raw.get("user_message_uuid")
    return [single] if isinstance(single, str) else []


_RUNNING = "running"
_MAX_AUTO_UUIDS = 1024


class Lifecycle:
    """The lifecycle and turn state of one session (see the rules above)."""

    def __init__(self) -> None:
        self._phase: LifecycleState | str = LifecycleState.STARTING
        # Prompt uuids, oldest first, of the turns not ended yet; and which are abandoned.
        self._open: deque[str] = deque()
        self._abandoned: set[str] = set()
        self._interrupt_pending = False
        # Whether a result has ever named an open turn's prompt uuid (then a uuid-less result is
        # a turn of its own, rule 2).
        self._cli_names_uuids = False
        # Uuids the SDK chose itself: their command_lifecycle frames are bookkeeping, not news.
        self._auto_uuids: dict[str, None] = {}
        # Open turns the CLI said it started: a later "cancelled"/"discarded" does not end them.
        self._started: set[str] = set()
        #: Whether the CLI's stdout has ended.
        self.stdout_ended = False
        #: Whether the process has exited, and its status (``None`` if unknown).
        self.exited = False
        self.exit_code: int | None = None
        #: Whether the session has ended (rule 5), and why (``None``: a clean end).
        self.ended = False
        self.end_error: BaseException | None = None
        #: Whether a call has raised ``end_error`` (if nothing did, the shell says so at close).
        self.end_error_seen = False
        #: Whether close was asked for (``aclose()``, the end of the ``async with``).
        self.close_requested = False
        #: Why the session broke (an interrupted turn that never ended), if it did.
        self.broken: BaseException | None = None
        #: Turns ended (by their result, or withdrawn), and results read that ended none.
        self.turns_ended = 0
        self.background_results = 0
        self.dropped_messages = 0

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> LifecycleState:
        """The current state (rule 1)."""
        phase = self._phase
        if phase != _RUNNING:
            assert isinstance(phase, LifecycleState)
            return phase
        if self.draining:
            return LifecycleState.INTERRUPTING
        return LifecycleState.IN_TURN if self._open else LifecycleState.IDLE

    @property
    def failure(self) -> BaseException | None:
        """Why the session failed: ``None`` while it runs, and after a clean end or close."""
        if self.broken is not None:
            return self.broken
        error = self.end_error
        return None if isinstance(error, SessionClosedError) else error

    @property
    def closing(self) -> bool:
        """Whether close was asked for or the session is over."""
        return self.close_requested or self.finished

    @property
    def finished(self) -> bool:
        """Whether the session is closed or failed (its process is gone or abandoned)."""
        return self._phase in (LifecycleState.CLOSED, LifecycleState.FAILED)

    @property
    def turns_open(self) -> int:
        """Turns whose prompt was sent and whose end was not read yet (abandoned ones too)."""
        return len(self._open)

    @property
    def open_turns(self) -> tuple[str, ...]:
        """The prompt uuids of the open turns, oldest first."""
        return tuple(self._open)

    @property
    def live_turn_open(self) -> bool:
        """Whether a turn some receiver may still wait for is open (rule 6)."""
        return len(self._open) > len(self._abandoned)

    @property
    def abandoned_open(self) -> bool:
        """Whether an abandoned turn has not ended yet (a drain is under way)."""
        return bool(self._abandoned)

    @property
    def draining(self) -> bool:
        """Whether the oldest open turn is abandoned: messages read now are dropped (rule 3)."""
        return bool(self._abandoned) and self._open[0] in self._abandoned

    @property
    def interrupt_pending(self) -> bool:
        """Whether an ``interrupt`` is owed to or on its way to the CLI for abandoned turns."""
        return self._interrupt_pending

    # ----------------------------------------------------------------- inputs

    def started(self) -> None:
        """The process was started."""
        if self._phase is LifecycleState.STARTING:
            self._phase = LifecycleState.INITIALIZING

    def initialized(self) -> None:
        """The CLI answered ``initialize``."""
        if self._phase is LifecycleState.INITIALIZING:
            self._phase = _RUNNING

    def check_can_send(self) -> None:
        """Raises the typed error that forbids sending now, if any (rule 7).

        Raises:
            SessionClosedError: The session is broken or closed, or its CLI has exited cleanly.
            ProcessError: (the end error) The CLI died.
        """
        if self.broken is not None:
            raise SessionClosedError(f"the session is broken: {self.broken}") from self.broken
        if self.close_requested:
            raise SessionClosedError("the session is closed")
        if self.ended:
            if self.end_error is not None:
                self.end_error_seen = True
                raise self.end_error
            raise SessionClosedError("the CLI has exited")

    def prompt_sent(self, uuid: str, *, chosen_by_sdk: bool = False) -> None:
        """A prompt (a new turn) was written with ``uuid``."""
        self._open.append(uuid)
        if chosen_by_sdk:
            auto = self._auto_uuids
            auto[uuid] = None
            if len(auto) > _MAX_AUTO_UUIDS:
                del auto[next(iter(auto))]

    def is_sdk_uuid(self, uuid: str | None) -> bool:
        """Whether ``uuid`` is one the SDK chose for a prompt (not the caller)."""
        return uuid is not None and uuid in self._auto_uuids

    def result_read(self, raw: Mapping[str, Any]) -> ResultRoute:
        """A result frame was read: end the turns it answers (rules 2 and 3)."""
        open_turns = self._open
        uuids = result_uuids(raw)
        ended: list[str]
        if uuids:
            ended = [u for u in dict.fromkeys(uuids) if u in open_turns]  # once each
            if ended:
                # Only a uuid of ours proves it: one result naming a stranger (a hostile or
                # confused CLI) must not stop uuid-less results from ending turns for good.
                self._cli_names_uuids = True
        elif self._cli_names_uuids or not open_turns:
            ended = []
        else:
            ended = [open_turns[0]]
        if not ended:
            self.background_results += 1
            if self.draining:
                self.dropped_messages += 1
                return ResultRoute.DROP_BACKGROUND
            return ResultRoute.BACKGROUND
        abandoned = self._abandoned
        live = False
        for uuid in ended:
            open_turns.remove(uuid)
            self._started.discard(uuid)
            if uuid in abandoned:
                abandoned.discard(uuid)
            else:
                live = True
        if not abandoned:
            self._interrupt_pending = False
        self.turns_ended += 1
        if live:
            return ResultRoute.ENDS_TURN
        self.dropped_messages += 1
        return ResultRoute.DROP

    def abandon(self) -> bool:
        """A receiver was cancelled mid-turn: abandon the oldest live turn (rule 3).

        Returns:
            Whether the shell must send ``interrupt`` now (not when one is already on its way,
            and not once the output has ended).
        """
        for uuid in self._open:
            if uuid not in self._abandoned:
                self._abandoned.add(uuid)
                break
        else:
            return False
        return self._owe_interrupt()

    def close(self) -> bool:
        """Close was asked for: abandon every open turn (rule 4).

        Returns:
            Whether the shell must send ``interrupt`` before closing stdin.
        """
        if self.close_requested:
            return False
        self.close_requested = True
        if not self.finished:
            self._phase = LifecycleState.CLOSING
        self._abandoned.update(self._open)
        return self._owe_interrupt()

    def _owe_interrupt(self) -> bool:
        if self._interrupt_pending or not self._abandoned or self.ended or self.stdout_ended:
            return False
        self._interrupt_pending = True
        return True

    def prompt_state(self, uuid: str, state: str) -> None:
        """A ``command_lifecycle`` frame: where the CLI says the prompt ``uuid`` is.

        A prompt it dropped before it ran (``cancelled``: ``cancel_async_message``, an
        ``interrupt`` with ``cancel_queued``; ``discarded``: ``end_session``) has its turn end
        here, also when the request that dropped it no longer waits for its answer (its caller
        was cancelled, and a late answer is ignored). A prompt it said it ``started`` ends at its
        result, whatever follows, unless it is ``queued`` again.
        """
        if uuid not in self._open:
            return
        if state == "started":
            self._started.add(uuid)
        elif state == "queued":
            self._started.discard(uuid)
        elif state in _DROPPED_STATES and uuid not in self._started:
            self.withdrawn((uuid,))

    def withdrawn(self, uuids: Iterable[str]) -> list[str]:
        """The CLI dropped these prompts before any turn took them in (``cancel_async_message``,
        an ``interrupt`` with ``cancel_queued``): their turns end, with no result to wait for.

        Returns:
            The uuids of the open turns this ended.
        """
        ended = [u for u in dict.fromkeys(uuids) if u in self._open]
        for uuid in ended:
            self._open.remove(uuid)
            self._abandoned.discard(uuid)
            self._started.discard(uuid)
        self.turns_ended += len(ended)
        if ended and not self._abandoned:
            self._interrupt_pending = False
        return ended

    def interrupt_failed(self) -> None:
        """The ``interrupt`` could not be delivered or was refused; a later abandon may retry."""
        self._interrupt_pending = False

    def stdout_closed(self) -> None:
        """The CLI's stdout ended."""
        self.stdout_ended = True

    def process_exited(self, code: int | None) -> None:
        """The process exited with ``code`` (``None``: its status is unknown)."""
        self.exited = True
        self.exit_code = code

    def break_(self, error: BaseException) -> None:
        """An abandoned turn never ended: the session is unusable and must close."""
        if self.broken is None:
            self.broken = error

    def end(self, error: BaseException | None) -> list[str]:
        """The output has ended (rule 5); ``error`` is why, ``None`` for a clean end.

        Returns:
            The uuids of the turns this ended (they got no result).
        """
        if self.ended:
            return []
        self.ended = True
        self.end_error = error
        ended = list(self._open)
        self._open.clear()
        self._abandoned.clear()
        self._started.clear()
        self._interrupt_pending = False
        if not self.finished:
            failed = self.broken is not None or (
                error is not None and not isinstance(error, SessionClosedError)
            )
            self._phase = LifecycleState.FAILED if failed else LifecycleState.CLOSED
        return ended

    def closed(self) -> None:
        """The shell finished tearing down: the process is reaped."""
        if not self.finished:
            self._phase = (
                LifecycleState.FAILED if self.broken is not None else LifecycleState.CLOSED
            )
        self._open.clear()
        self._abandoned.clear()
        self._started.clear()


class UsageMeter:
    """What each message adds to a budget: tokens as they stream, USD at results.

    The CLI reports ``total_cost_usd`` cumulatively per process and repeats an assistant
    message's usage for each of its content blocks (one ``assistant`` line per block), so the
    meter charges differences.
    """

    def __init__(self) -> None:
        self._per_message: dict[str, int] = {}
        self._turn_tokens = 0
        self._metering = False  # a turn's assistant messages seen since the last result
        self._cost_charged = 0.0

    def assistant(self, key: str | None, usage: Mapping[str, Any] | None) -> tuple[int, int]:
        """An assistant message (``key``: its API message id): returns ``(new tokens, new model
        turns)``. One without an id cannot be told from another: each is new."""
        tokens = usage_tokens(usage)
        self._metering = True
        if key is None:
            self._turn_tokens += tokens
            return tokens, 1
        charged = self._per_message.get(key)
        if charged is None:
            self._per_message[key] = tokens
            self._turn_tokens += tokens
            return tokens, 1
        if tokens > charged:
            self._per_message[key] = tokens
            self._turn_tokens += tokens - charged
            return tokens - charged, 0
        return 0, 0

    def assistant_message(self, message: object) -> tuple[int, int] | None:
        """:meth:`assistant` for a delivered message: ``None`` when it is no assistant line.

        An assistant line that did not decode as a whole (an :class:`UnknownMessage` with one
        malformed block) still cost what its usage says.
        """
        cls = message.__class__
        if cls is AssistantMessage:
            return self.assistant(message.message_id, message.usage)  # type: ignore[attr-defined]
        if cls is UnknownMessage:
            key, usage = assistant_usage(message.raw)  # type: ignore[attr-defined]
            if usage is not None:
                return self.assistant(key, usage)
        return None

    def result(
        self, cost: float | None, usage: Mapping[str, Any] | None, *, ends_turn: bool = True
    ) -> tuple[float, int]:
        """A result: returns ``(new USD, tokens the turn used beyond those already charged)``.

        A background result (``ends_turn=False``: it ends no turn of ours, and may arrive in
        the middle of one) adds its USD (the total is cumulative) but leaves the live turn's
        record alone: reconciling against it would forget the turn's messages, and their next
        lines would be charged again. Its tokens count only when no turn is being metered.
        """
        if cost is None or not math.isfinite(cost) or cost < 0:
            cost = 0.0  # junk (1e999 reads as infinity): it would stop every budget sharer
        usd = max(0.0, cost - self._cost_charged)
        self._cost_charged = max(self._cost_charged, cost)
        if not ends_turn and self._metering:
            return usd, 0
        tokens = max(0, usage_tokens(usage) - self._turn_tokens)
        self._per_message.clear()
        self._turn_tokens = 0
        self._metering = False
        return usd, tokens


def retry_delay(message: Any) -> float:
    """Seconds an ``api_retry`` message says the CLI will now be silent (its backoff before
    the retry): the stall watchdog waits that long more. 0 when it says nothing usable."""
    delay: Any = getattr(message, "retry_delay_ms", None)
    if isinstance(delay, (int, float)) and not isinstance(delay, bool) and 0 < delay < math.inf:
        return float(delay) / 1000
    return 0.0


def assistant_usage(raw: Any) -> tuple[str | None, Mapping[str, Any] | None]:
    """``(message id, usage)`` of an ``assistant`` frame's well-typed parts, for one that did
    not decode as a whole (one malformed content block): what it cost still counts."""
    if not isinstance(raw, Mapping) or raw.get("type") != "assistant":
        return None, None
    message = raw.get("message")
    if not isinstance(message, Mapping):
        return None, None
    key, usage = message.get("id"), message.get("usage")
    return (
        key if isinstance(key, str) and key else None,
        usage if isinstance(usage, Mapping) else None,
    )


_TOKEN_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def usage_tokens(usage: Mapping[str, Any] | None, keys: Iterable[str] = _TOKEN_KEYS) -> int:
    """The tokens an API ``usage`` object counts (integers only; anything else counts 0)."""
    if not usage or not isinstance(usage, Mapping):
        return 0
    total = 0
    for key in keys:
        value = usage.get(key)
        if type(value) is int and value > 0:  # a negative count would give tokens back
            total += value
    return total
