"""The inbox: messages read from the CLI that the user has not taken yet.

The reader appends whole batches; receivers pop from the front. Message lines may wait here
undecoded (``bytes``, see ``ClaudeProtocol(defer_messages=True)``) and are decoded on delivery.

The inbox's size in bytes is estimated from the average size of the messages read so far: exact
enough for a memory bound, and free on the hot path. Beyond ``max_bytes`` the reader pauses
(:meth:`Inbox.wait_for_room`), except while one of our control requests waits for its answer:
that answer is on stdout behind the unread messages, so the bound is exceeded for the duration
of the request rather than letting the request time out.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import trio

from .types import Message, ResultMessage

__all__ = ["Inbox", "insert_before_result"]

#: Messages handed out between two forced checkpoints when the inbox is never empty.
CHECKPOINT_EVERY = 4096


class Inbox:
    """The user-facing message queue of one session, with its wakeups and its memory bound.

    Args:
        max_bytes: The soft bound beyond which the reader pauses.
    """

    def __init__(self, max_bytes: int) -> None:
        self.queue: deque[Message | bytes] = deque()
        self.max_bytes = max_bytes
        self.avg_message_bytes = 512.0
        #: Messages handed out since the last checkpoint (receivers checkpoint once per batch).
        self.since_checkpoint = 0
        self._wakeup = trio.Event()
        #: Set while the reader waits for room (public so a receiver's per-message check is an
        #: attribute load, not a property call; only the inbox assigns it).
        self.room: trio.Event | _CancelOnSet | None = None

    def __len__(self) -> int:
        return len(self.queue)

    @property
    def queued_bytes(self) -> int:
        """The estimated size of the queued messages."""
        return int(len(self.queue) * self.avg_message_bytes)

    @property
    def reader_paused(self) -> bool:
        """Whether the reader waits for room right now."""
        return self.room is not None

    def note_batch(self, nbytes: int, nevents: int) -> None:
        """Updates the average message size from one read of ``nbytes`` giving ``nevents``."""
        if nbytes and nevents:
            self.avg_message_bytes = 0.9 * self.avg_message_bytes + 0.1 * (nbytes / nevents)

    def wake(self) -> None:
        """Wakes every receiver waiting for a message or for the end."""
        self._wakeup.set()

    async def wait(self, deadline: float = math.inf) -> None:
        """Waits until woken (a message, the end, a close) or until ``deadline``."""
        if self._wakeup.is_set():
            self._wakeup = trio.Event()
        if deadline == math.inf:
            await self._wakeup.wait()
        else:
            with trio.move_on_at(deadline):
                await self._wakeup.wait()

    def clear(self) -> None:
        """Drops everything queued (the user is gone) and lets the reader go on."""
        self.queue.clear()
        self.let_reader_go()

    def room_made(self) -> None:
        """A receiver took messages: resume the reader if it is paused and there is room now."""
        room = self.room
        if room is not None and self.queued_bytes <= self.max_bytes:
            room.set()

    def let_reader_go(self) -> None:
        """Resumes a paused reader whatever the bound (a control answer must be read)."""
        if self.room is not None:
            self.room.set()

    def pause(self, scope: trio.CancelScope) -> None:
        """The reader pauses, waiting in ``scope`` (with more than room: ``Session._pump``);
        ``scope`` is cancelled when there is room. Undone by :meth:`resume`."""
        self.room = _CancelOnSet(scope)

    def resume(self) -> None:
        """The reader paused with :meth:`pause` goes on."""
        self.room = None

    async def wait_for_room(self, may_pause: bool) -> None:
        """The reader's check before each read: pause while over the bound and ``may_pause``."""
        if not may_pause or self.queued_bytes <= self.max_bytes:
            return
        self.room = trio.Event()
        try:
            await self.room.wait()
        finally:
            self.room = None


class _CancelOnSet:
    """An ``Event``'s ``set`` that cancels a scope: how :meth:`Inbox.pause` is woken."""

    __slots__ = ("_scope",)

    def __init__(self, scope: trio.CancelScope) -> None:
        self._scope = scope

    def set(self) -> None:
        self._scope.cancel()


def insert_before_result(queue: deque[Any], message: Message) -> None:
    """Queues an SDK-made report (``system/mirror_error``) ahead of the first result not yet
    handed out: the batch it concerns was written for that result, and the official SDKs
    deliver it before the result (a receiver that came late found it after, in the next turn).
    Rare, so a scan is fine."""
    for index, queued in enumerate(queue):
        if queued.__class__ is ResultMessage:
            queue.insert(index, message)
            return
    queue.append(message)
