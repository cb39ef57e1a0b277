"""``MessageStream``: the async iterator behind ``receive_response()`` and ``receive_messages()``.

An async iterator, not an async generator: it owns no task and no cancel scope, so it can be
abandoned, ``break``-ed out of, or cancelled anywhere without corrupting anything. It talks to its
session through a narrow interface (:class:`StreamSource`): the inbox, the protocol core, and
three calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn, Protocol

import orjson
import trio

from ._inbox import CHECKPOINT_EVERY, Inbox
from ._protocol._connection import DEFERRED_DECODERS, ClaudeProtocol
from .types import Message, ResultMessage

if TYPE_CHECKING:
    from ._errors import BudgetExceededError

__all__ = ["MessageStream", "StreamSource", "stream_over"]

_loads = orjson.loads


class StreamSource(Protocol):
    """What a :class:`MessageStream` needs of its session."""

    _inbox: Inbox
    _proto: ClaudeProtocol
    #: The task waiting inside a stream's ``__anext__``, if one is (see ConcurrentReceiveError).
    _receiver: trio.lowlevel.Task | None

    @property
    def _mirror(self) -> object | None:
        """The transcript mirror, if any: a result waits for it (in ``_next_message``)."""

    @property
    def _flushed_result(self) -> ResultMessage | None:
        """The result the store was last flushed for."""

    async def _next_message(self, *, turn: bool, until_input_done: bool) -> Message | None:
        """The next message; ``None`` once the stream is over. Waits when it may."""

    def _abandon_turn(self) -> None:
        """A turn's receiver was cancelled: interrupt the turn and drop the rest of it."""

    def _take_budget_error(self) -> BudgetExceededError | None:
        """The budget error owed to the receiver of the turn that crossed a limit, once."""

    async def _receiver_slot(self) -> None:
        """Returns once no other task is receiving; raises ConcurrentReceiveError if one is."""

    def _check_loop(self) -> None:
        """Raises WrongEventLoopError when called from another ``trio.run`` than the source's."""


async def stream_over(session: StreamSource | None) -> NoReturn:
    """What ``__anext__`` of a finished stream does: a checkpoint, as at every end (a
    ``while True: async for ...`` must not spin), the budget error owed to the turn that crossed
    a limit (it has delivered its result; now it says why it ended), else the end."""
    await trio.lowlevel.checkpoint()
    error = session._take_budget_error() if session is not None else None
    if error is not None:
        raise error
    raise StopAsyncIteration


class MessageStream:
    """The messages of one turn (``receive_response()``) or of the whole session.

    Cancellation while waiting inside ``__anext__`` of a turn stream abandons the turn: the session
    interrupts it and drops its remaining messages. ``break`` is not cancellation: the turn goes
    on, and the next ``receive_response()`` resumes it.
    """

    def __init__(
        self, session: StreamSource, *, until_result: bool, until_input_done: bool = False
    ) -> None:
        self._session = session
        # The per-message fast path's attributes, looked up once: a session's inbox, queue and
        # protocol core never change.
        self._inbox = session._inbox
        self._queue = session._inbox.queue
        self._decode_deferred = session._proto.decode_deferred
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
        if self._finished:
            await stream_over(self._session)
        queue = self._queue
        inbox = self._inbox
        if queue and inbox.since_checkpoint < CHECKPOINT_EVERY:
            # Fast path: a message is already here; the checkpoint is taken once per batch.
            room = inbox.room
            if room is not None:
                # The reader is paused, and taking a message wakes it: only from its own run.
                self._session._check_loop()
            inbox.since_checkpoint += 1
            message = queue.popleft()
            if room is not None:
                inbox.room_made()
            cls = message.__class__
            if cls is bytes:
                # ClaudeProtocol.decode_deferred's usual case, inlined: one call less per
                # message. Anything unusual is left to decode_deferred itself.
                try:
                    kind, decoder = DEFERRED_DECODERS[message[9]]  # type: ignore[index]
                    obj = _loads(message)  # type: ignore[arg-type]
                    if obj["type"] == kind:
                        return decoder(obj)
                except Exception:
                    pass
                decoded = self._decode_deferred(message)  # type: ignore[arg-type]
                if decoded is not None:
                    return decoded
                # not JSON after all: logged by the reader, skipped
            elif cls is ResultMessage:
                session = self._session
                if session._mirror is None or message is session._flushed_result:
                    ends = session._proto.ends_turn(message)  # type: ignore[arg-type]
                    if self._until_result:
                        self._finished = ends
                    return message  # type: ignore[return-value]
                # Handed out once the store holds the turn, by the way that waits (a receiver
                # at a time, a cancellation abandoning the turn).
                queue.appendleft(message)
            else:
                return message  # type: ignore[return-value]
        session = self._session
        session._check_loop()  # where it would wait: another run's task cannot be woken
        task = trio.lowlevel.current_task()
        try:
            receiver = session._receiver
            if receiver is not None and receiver is not task:
                # Checked where a receiver waits, not per queued message: two tasks receiving
                # at once both wait as soon as they catch up with the CLI.
                await session._receiver_slot()
            session._receiver = task
            try:
                next_message = await session._next_message(
                    turn=self._until_result, until_input_done=self._until_input_done
                )
            finally:
                session._receiver = None
        except trio.Cancelled:
            if self._until_result:
                session._abandon_turn()
            raise
        if next_message is None:
            self._finished = True
            raise StopAsyncIteration
        if next_message.__class__ is ResultMessage:
            ends = session._proto.ends_turn(next_message)
            if self._until_result:
                self._finished = ends
        return next_message
