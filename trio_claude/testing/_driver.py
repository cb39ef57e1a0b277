"""A trio run that lives across the synchronous steps of a ``hypothesis.stateful`` machine.

Hypothesis calls a ``RuleBasedStateMachine``'s rules one at a time, synchronously, while a
session (its nursery, its CLI) must live across rules; a fresh ``trio.run`` per rule cannot keep
it alive. :class:`TrioDriver` keeps **one** trio run open for the whole example, as a trio
*guest run* (``trio.lowlevel.start_guest_run``) hosted by the calling thread: between steps the
run is paused, and each ``driver.run(async_fn)`` lets it run on this thread until ``async_fn``
returns. No thread of ours runs trio code, so a rule's coroutine runs in the test's own thread
and context (Hypothesis's ``note()``, ``event()`` and ``target()`` work inside it).
"""

from __future__ import annotations

import math
import queue
import threading
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import outcome
import trio
import trio.testing

from .._loop import virtual_clock_hint

__all__ = ["TrioDriver"]

T = TypeVar("T")

# The driver open on each thread: one whose owner never closed it (a state machine whose
# __init__ raised after making it: Hypothesis then calls no teardown) keeps its paused run
# attached to the thread, and every later trio.run there would fail.
_open = threading.local()


class TrioDriver:
    """One trio run, driven step by step from synchronous code (``hypothesis.stateful`` rules).

    Open it in the machine's ``__init__`` (or an ``@initialize`` rule), run each rule's async
    code with :meth:`run`, keep long-lived tasks (a test environment, a fake model) in
    :attr:`nursery` with :meth:`start`, and :meth:`close` it in ``teardown``::

        class AgentMachine(RuleBasedStateMachine):
            def __init__(self):
                super().__init__()
                self.driver = TrioDriver()
                self.env = self.driver.start(serve_claude_test_env, tempfile.mkdtemp())
                options = self.env.options([Turn("hello")] * 20)
                self.session = self.driver.run(tc.connect_session, self.driver.nursery, options)

            @rule()
            def ask(self):
                turn = self.driver.run(self.session.run, "hi")
                assert turn.text == "hello"

            def teardown(self):
                try:
                    self.driver.run(self.session.aclose)
                finally:
                    self.driver.close()

    The run is a trio guest run hosted by the calling thread: it advances only inside
    :meth:`run`, :meth:`run_sync`, :meth:`start` and :meth:`close`, and is paused in between
    (a real subprocess keeps running meanwhile; its output waits in the pipe). Tasks started in
    :attr:`nursery` live until :meth:`close`. Create, use and close the driver from one thread,
    outside any trio run (a plain ``def`` test, not an async one).

    Args:
        virtual_time: Run on a ``trio.testing.MockClock`` that autojumps (threshold 0) while a
            step runs and stands still between steps: sleeps and timeouts cost nothing, and each
            step returns only once every task is blocked, so a step ends quiescent and an
            example replays identically. For the in-process fake CLI
            (:class:`~trio_claude.testing.FakeCLITransport`); never with the real CLI, which
            works in real time (its start-up would time out at once).
        step_timeout: Fail a step that has not finished after this many seconds (virtual
            seconds with ``virtual_time``) with ``trio.TooSlowError``, so a hang is reported as
            that step's failure; ``None`` waits for ever.

    Attributes:
        clock: The run's clock (a ``MockClock`` with ``virtual_time``, else the real one).
    """

    def __init__(self, *, virtual_time: bool = False, step_timeout: float | None = None) -> None:
        self.clock: trio.abc.Clock | None = trio.testing.MockClock() if virtual_time else None
        self._virtual = virtual_time
        self._step_timeout = step_timeout
        self._host = threading.get_ident()
        # The guest run's callbacks, run by this thread while it waits for something.
        self._callbacks: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self._ended: outcome.Outcome[None] | None = None
        self._reported = False  # a step already raised the run's crash
        self._closed = False
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._nursery: trio.Nursery | None = None
        self._steps: trio.MemorySendChannel[Callable[[], Awaitable[None]]] | None = None
        _close_orphan()
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "TrioDriver drives a trio run of its own from synchronous code: create it outside"
                " trio.run (in a plain def test, not an async one)"
            )
        _open.driver = self
        trio.lowlevel.start_guest_run(
            self._main,
            run_sync_soon_threadsafe=self._callbacks.put,
            done_callback=self._on_done,
            clock=self.clock,
        )
        self._pump_until(lambda: self._nursery is not None)
        self._raise_if_ended()

    # ------------------------------------------------------------------ the guest run

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        send, receive = trio.open_memory_channel[Callable[[], Awaitable[None]]](math.inf)
        self._steps = send
        # Steps run in a nursery of their own, around the users' one: a crash there cancels
        # the running step, and a step never counts among the users' tasks.
        crash: BaseException | None = None
        async with trio.open_nursery() as steps:
            steps.start_soon(self._run_steps, receive, steps)
            try:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    await self._stop.wait()
                    nursery.cancel_scope.cancel()
            except BaseException as exc:  # raised below, not wrapped in a second group
                crash = exc
            steps.cancel_scope.cancel()
        if crash is not None:
            raise crash

    @staticmethod
    async def _run_steps(
        receive: trio.MemoryReceiveChannel[Callable[[], Awaitable[None]]], steps: trio.Nursery
    ) -> None:
        async for step in receive:
            steps.start_soon(step)

    def _shut_down(self) -> None:
        clock = self.clock
        if isinstance(clock, trio.testing.MockClock):
            # Let the timeouts of cancelled tasks (a session's bounded shutdown) elapse.
            clock.autojump_threshold = 0
        assert self._stop is not None
        self._stop.set()

    def _on_done(self, result: outcome.Outcome[None]) -> None:
        self._ended = result

    def _pump_until(self, done: Callable[[], bool]) -> None:
        """Runs the guest run's callbacks on this thread until ``done()`` or the run ends."""
        while not done() and self._ended is None:
            self._callbacks.get()()

    def _raise_if_ended(self) -> None:
        if self._ended is not None:
            error = self._ended.error if isinstance(self._ended, outcome.Error) else None
            self._reported = True
            raise RuntimeError("the driver's trio run has ended") from error

    def _check(self) -> None:
        if threading.get_ident() != self._host:
            raise RuntimeError("use a TrioDriver from the thread that created it")
        if self._closed:
            raise RuntimeError("this TrioDriver is closed")
        self._raise_if_ended()

    def _submit(self, step: Callable[[], Awaitable[None]]) -> None:
        assert self._token is not None and self._steps is not None
        self._token.run_sync_soon(self._steps.send_nowait, step)

    # ------------------------------------------------------------------ the public API

    @property
    def nursery(self) -> trio.Nursery:
        """A nursery that lives until :meth:`close` (for ``connect_session``, say)."""
        assert self._nursery is not None
        return self._nursery

    def run(self, async_fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Runs ``await async_fn(*args)`` in the driver's trio run and returns its result.

        Other tasks of the run (sessions, servers) run meanwhile. With ``virtual_time``, the
        clock autojumps during the step, and the step ends only once every task is blocked.

        Args:
            async_fn: An async function.
            *args: Its positional arguments (use ``functools.partial`` for keywords).

        Returns:
            What ``async_fn`` returned.

        Raises:
            Exception: What ``async_fn`` raised, as is.
            trio.TooSlowError: The step took longer than ``step_timeout``.
            RuntimeError: The driver is closed, or its run ended (a task in :attr:`nursery`
                crashed: the cause is what the run raised, that exception in trio's
                exception group).
        """
        self._check()
        box: list[outcome.Outcome[T]] = []

        timeout = math.inf if self._step_timeout is None else self._step_timeout

        async def step() -> None:
            clock = self.clock
            if isinstance(clock, trio.testing.MockClock):
                clock.autojump_threshold = 0
            result: outcome.Outcome[T]
            try:
                with trio.move_on_after(timeout) as deadline:
                    value = await async_fn(*args)
                    if self._virtual:
                        # Takes priority over autojump: the clock stands still meanwhile.
                        await trio.testing.wait_all_tasks_blocked()
                if deadline.cancelled_caught:
                    # Said here, while the step's clock still autojumps: the hint says why a
                    # step that waits for a real CLI times out at once in virtual time.
                    unit = "virtual seconds" if self._virtual else "s"
                    raise trio.TooSlowError(
                        "the step did not finish within the driver's step_timeout"
                        f" ({timeout:g} {unit}){virtual_clock_hint()}"
                    )
                result = outcome.Value(value)
            except trio.Cancelled as exc:  # the run is ending under the step
                box.append(outcome.Error(exc))
                raise
            except BaseException as exc:  # handed to the caller, as is
                result = outcome.Error(exc)
            finally:
                if isinstance(clock, trio.testing.MockClock):
                    clock.autojump_threshold = math.inf
            box.append(result)

        self._submit(step)
        self._pump_until(lambda: bool(box))
        if not box or (
            isinstance(box[0], outcome.Error) and isinstance(box[0].error, trio.Cancelled)
        ):
            # The run is ending under the step: a task in the nursery crashed.
            self._pump_until(lambda: False)
            self._raise_if_ended()
        return box[0].unwrap()

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Calls ``fn(*args)`` inside the driver's trio run, without letting time pass.

        For reading state that needs trio's context (``trio.current_time()``, a session's
        ``statistics()``) between steps.

        Args:
            fn: A synchronous function.
            *args: Its positional arguments.

        Returns:
            What ``fn`` returned.
        """
        self._check()
        box: list[outcome.Outcome[T]] = []
        assert self._token is not None
        self._token.run_sync_soon(lambda: box.append(outcome.capture(fn, *args)))
        self._pump_until(lambda: bool(box))
        self._raise_if_ended()
        return box[0].unwrap()

    def start(self, async_fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """``await driver.nursery.start(async_fn, *args)``: starts a task that lives until
        :meth:`close`, and returns what it passed to ``task_status.started()``.

        For an environment that must outlive the step that opens it::

            env = driver.start(serve_claude_test_env, tmp_path)

        Args:
            async_fn: A function taking ``task_status`` (``nursery.start`` protocol).
            *args: Its positional arguments.

        Returns:
            The started value.
        """
        return self.run(self.nursery.start, async_fn, *args)

    def close(self) -> None:
        """Cancels what still runs in :attr:`nursery`, finishes the run, and waits for it.

        Idempotent. Close sessions first (``driver.run(session.aclose)``) to close them
        gracefully; a session still open is cancelled with the nursery.

        Raises:
            BaseException: What a task of :attr:`nursery` raised, if one crashed (unless a
                step already reported it as the cause of its ``RuntimeError``).
        """
        if threading.get_ident() != self._host:
            raise RuntimeError("use a TrioDriver from the thread that created it")
        if self._closed:
            return
        self._closed = True
        if getattr(_open, "driver", None) is self:
            _open.driver = None
        if self._ended is None:
            assert self._token is not None
            self._token.run_sync_soon(self._shut_down)
            self._pump_until(lambda: False)
        assert self._ended is not None
        if not self._reported:
            self._ended.unwrap()

    def __enter__(self) -> TrioDriver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _close_orphan() -> None:
    """Closes the driver still open on this thread, if its run is what the thread is in."""
    orphan: TrioDriver | None = getattr(_open, "driver", None)
    if orphan is None or orphan._closed:
        return
    try:
        current = trio.lowlevel.current_trio_token()
    except RuntimeError:
        return  # (its run has ended)
    if current is not orphan._token:
        return
    try:
        orphan.close()
    except Exception:  # what its tasks raised belongs to the example that failed
        pass
    finally:
        # Warned once it is closed: with warnings as errors, the close still happens.
        warnings.warn(
            "a TrioDriver was never closed (a state machine's __init__ raised after creating"
            " it? Hypothesis calls no teardown then): it was closed now. Open sessions in an"
            " @initialize rule, or close the driver when __init__ fails.",
            ResourceWarning,
            stacklevel=3,
        )


def open_driver() -> TrioDriver | None:
    """The :class:`TrioDriver` open on this thread, if any."""
    driver: TrioDriver | None = getattr(_open, "driver", None)
    return driver if driver is not None and not driver._closed else None


def close_orphaned_driver(keep: TrioDriver | None = None) -> None:
    """Closes a :class:`TrioDriver` left open on this thread (with a ``ResourceWarning``), so
    that the next ``trio.run`` here works, unless it is ``keep``; the pytest plugin calls it
    after each test, keeping a driver that was already open when the test started (a wider
    fixture's)."""
    if keep is None or open_driver() is not keep:
        _close_orphan()
