"""The warm session pool under hostile conditions: parked CLIs that die, CLIs that die right
after they initialise, process limiters, and closes with busy borrowers.

Every test is bounded (``trio.fail_after`` under ``autojump_clock``, or a start counter that
stops a spin the autojump clock cannot see) and deterministic (the in-process fake CLI).
"""

from __future__ import annotations

import trio
import trio.testing

import trio_claude as tc
from trio_claude._transport._base import ChildProcess, LaunchSpec, Transport
from trio_claude.testing.fake_cli import (
    FakeCLITransport,
    FakeScript,
    Sleep,
)

from ._support import ManualChild, RecordingFakeTransport


async def _settle() -> None:
    """Lets every task run until all of them wait (the fake CLI's death is seen, etc.)."""
    await trio.testing.wait_all_tasks_blocked()


# ------------------------------------------------------------ a parked CLI that dies


async def test_a_dead_parked_session_is_closed_so_it_releases_its_process_limiter_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A warm CLI SIGKILLed while parked, in a pool bounded by ``process_limiter`` (as the docs
    advise): the borrower's ``session()`` sees it dead, drops it from the pool, and starts a
    replacement. But the dead session is never closed: its ``_run`` task waits for a close that
    never comes and keeps holding its limiter token, so the replacement waits on the limiter
    forever and the borrower hangs."""
    transport = RecordingFakeTransport(FakeScript())
    limiter = trio.CapacityLimiter(1)
    options = tc.ClaudeAgentOptions(transport=transport, process_limiter=limiter)
    with trio.fail_after(60):
        async with tc.open_session_pool(options, size=1) as pool:
            await pool.wait_ready()
            transport.children[0].kill()  # OOM killer, say
            await _settle()
            with trio.move_on_after(30) as waited:
                async with pool.session() as session:
                    assert session.returncode is None
            assert not waited.cancelled_caught, (
                "the borrower hung: the dead session still holds the process_limiter slot "
                f"(borrowed_tokens={limiter.borrowed_tokens}, stats={pool.statistics()})"
            )


async def test_a_dead_parked_session_is_closed_when_the_pool_drops_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Without a limiter the borrower is served, but the dropped session is never closed: its
    tasks, its budget subscription and its Session object stay in the pool's nursery until the
    pool closes. A long-lived pool whose parked CLIs keep dying piles them up."""
    transport = RecordingFakeTransport(FakeScript())
    with trio.fail_after(60):
        async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=1) as pool:
            await pool.wait_ready()
            (parked,) = pool._all
            transport.children[0].kill()
            await _settle()
            async with pool.session() as session:
                assert session is not parked
            await _settle()
            assert parked.closed, "the dead session dropped by the pool was never closed"
            assert parked._done.is_set()


async def test_a_parked_session_that_dies_is_noticed_and_replaced_in_the_background(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The docs promise a request gets a warm session "in well under a millisecond". A parked
    CLI that dies (exit, SIGKILL) is not noticed until a borrower takes it: ``statistics()``
    keeps counting it as ``ready``, ``wait_ready()`` returns at once, nothing is logged, and the
    next borrower pays a full cold start (here 5 s of initialise)."""
    transport = RecordingFakeTransport(FakeScript(on_initialize=[Sleep(5)]))
    with trio.fail_after(120):
        async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=1) as pool:
            await pool.wait_ready()
            transport.children[0].kill()
            await trio.sleep(60)  # plenty of time to notice and start a replacement
            stats = pool.statistics()
            assert all(s.returncode is None for s in pool._all), (
                f"a dead CLI is still parked as ready: {stats}"
            )
            start = trio.current_time()
            async with pool.session() as session:
                assert session.returncode is None
            assert trio.current_time() - start < 1, "the borrower paid a cold start"


# ------------------------------------------- a CLI that dies right after initialising


class _DiesAfterInitialize(FakeCLITransport):
    """Every CLI answers ``initialize`` and then exits 1 at once (a crash on start-up work
    after the handshake). Starts are counted; past ``limit`` the test's scope is cancelled,
    since a spin with no sleep never lets the autojump clock reach a ``fail_after``."""

    def __init__(self, limit: int) -> None:
        super().__init__(FakeScript())
        self.limit = limit
        self.starts = 0
        self.stop: trio.CancelScope | None = None
        self.stopped_at: float | None = None

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.starts += 1
        if self.starts > self.limit and self.stop is not None:
            self.stopped_at = trio.current_time()
            self.stop.cancel()
        child = await super().start(spec, nursery)
        fake = self.fake
        assert fake is not None

        async def crash() -> None:
            await fake._initialized.wait()
            child.kill()

        nursery.start_soon(crash)
        return child


async def test_a_cli_that_dies_right_after_initialize_is_a_failed_start_not_a_spin(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Each start "succeeds" (initialize answered), the CLI dies before a borrower takes it, the
    borrower drops it and the pool starts the next one at once: no backoff, no failed start
    counted, no error for the borrower, who waits forever while the pool restarts CLIs in a
    loop. The docs: failed starts are retried "with a backoff" and a CLI that cannot start "is
    reported, not waited out"."""
    transport = _DiesAfterInitialize(limit=50)
    errors: list[BaseException] = []
    with trio.fail_after(120):
        async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=1) as pool:
            await _settle()  # the first CLI initialised and died, parked
            with trio.CancelScope() as stop:
                transport.stop = stop
                with trio.move_on_after(30):
                    try:
                        async with pool.session():
                            pass
                    except tc.ClaudeSDKError as exc:
                        errors.append(exc)
            stats = pool.statistics()
    assert transport.starts <= 10, (
        f"{transport.starts} CLIs started back to back for one borrower (no backoff, "
        f"{transport.stopped_at} s of clock); {stats}"
    )
    assert errors, f"the borrower never learned that its CLIs die; {stats}"


# ------------------------------------------------------------ closing with borrowers


class _StubbornTransport(Transport):
    """Hand-driven CLIs that answer ``initialize`` and then ignore their stdin closing (busy,
    or a wrapper that does not pass EOF on): only SIGTERM/SIGKILL ends them."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.children: list[ManualChild] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = ManualChild()
        self.children.append(child)
        self.nursery.start_soon(child.handshake)
        await trio.lowlevel.checkpoint()
        return child


async def test_closing_a_pool_closes_its_sessions_concurrently(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """CLIs that do not exit when their stdin closes cost ``close_timeout`` each before SIGTERM.
    ``SessionPool.aclose`` closes the sessions one after the other, so leaving a pool with 4
    sessions (2 parked, 2 borrowed from outside the pool's block) takes 4 x ``close_timeout``
    where ``open_session`` takes one: the time to leave a pool grows with its size."""
    borrowed = trio.Event()
    count = 0

    async def borrow(pool: tc.SessionPool) -> None:
        nonlocal count
        try:
            async with pool.session():
                count += 1
                if count == 2:
                    borrowed.set()
                await trio.sleep_forever()
        except tc.SessionClosedError:
            pass

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            transport = _StubbornTransport(nursery)
            options = tc.ClaudeAgentOptions(transport=transport, close_timeout=5)
            start = trio.current_time()
            async with tc.open_session(options):
                start = trio.current_time()
            one = trio.current_time() - start
            assert 5 <= one < 7  # one session: close_timeout, then SIGTERM
            async with tc.open_session_pool(options, size=2) as pool:
                await pool.wait_ready()
                nursery.start_soon(borrow, pool)
                nursery.start_soon(borrow, pool)
                await borrowed.wait()
                await pool.wait_ready()
                assert pool.statistics().in_use == 2 and pool.statistics().ready == 2
                start = trio.current_time()
            elapsed = trio.current_time() - start
            nursery.cancel_scope.cancel()
    assert elapsed < one + 1, (
        f"leaving the pool took {elapsed:g} s for 4 sessions, {one:g} s for one"
    )
