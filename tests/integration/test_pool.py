"""The warm session pool: hand-out latency, refill, no reuse, teardown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


async def test_sessions_are_warm_fresh_and_refilled() -> None:
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("pooled")]))
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=2) as pool:
        with trio.fail_after(5):
            await pool.wait_ready()
        seen: list[tc.Session] = []  # kept alive, so identities cannot be reused
        for _ in range(4):
            async with pool.session() as session:
                assert session.server_info is not None  # initialised before hand-out
                assert (await session.run("hi")).text == "pooled"  # a fresh conversation
                seen.append(session)
            assert session.closed
        assert len({id(s) for s in seen}) == 4
        stats = pool.statistics()
        assert stats.handed_out == 4 and stats.in_use == 0 and stats.failed_starts == 0
    assert len(transport.specs) >= 5  # 4 handed out + refills


async def test_leaving_the_pool_reaps_every_process(tmp_path: Path) -> None:
    transport = FakeCLIProcessTransport(FakeScript(), tmp_path)
    pids = []
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=3) as pool:
        async with pool.session() as session:
            assert session.pid is not None
            pids.append(session.pid)
        with trio.fail_after(60):  # a hang guard: three interpreters start, on a loaded machine
            await pool.wait_ready(3)
        pids += [s.pid for s in pool._all if s.pid is not None]
    assert pids and not any(alive(pid) for pid in pids)


async def test_start_failures_are_retried_and_counted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from trio_claude.testing.fake_cli import Exit

    transport = FakeCLITransport(FakeScript(on_initialize=[Exit(2)]))
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=1) as pool:
        await trio.sleep(3)
        assert pool.statistics().failed_starts >= 3
        assert pool.statistics().ready == 0


async def test_bad_size_is_a_configuration_error() -> None:
    with pytest.raises(tc.ConfigurationError):
        async with tc.open_session_pool(size=0):
            pass


# ------------------------------------------------------------------------- idle_ttl


async def test_an_idle_pool_closes_its_warm_sessions_and_demand_refills_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("pooled")]))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session_pool(options, size=3, idle_ttl=60) as pool:
        await pool.wait_ready()
        warm = list(pool._all)
        await trio.sleep(59)
        assert pool.statistics().ready == 3
        await trio.sleep(2)
        stats = pool.statistics()
        assert (stats.ready, stats.starting, stats.target, stats.idle_closed) == (0, 0, 0, 3)
        assert all(session.closed for session in warm)
        await trio.sleep(3600)  # an idle service holds no CLI, and starts none
        assert len(transport.specs) == 3 and not pool._all
        async with pool.session() as session:  # demand returns: a cold start, then a refill
            assert (await session.run("hi")).text == "pooled"
        await pool.wait_ready()
        stats = pool.statistics()
        assert (stats.ready, stats.target, stats.handed_out) == (3, 3, 1)


async def test_steady_demand_keeps_the_pool_warm(autojump_clock: trio.testing.MockClock) -> None:
    transport = FakeCLITransport(FakeScript())
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session_pool(options, size=2, idle_ttl=60) as pool:
        for _ in range(10):
            await trio.sleep(50)
            async with pool.session():
                pass
        stats = pool.statistics()
        assert (stats.idle_closed, stats.target, stats.handed_out) == (0, 2, 10)


async def test_min_size_sessions_stay_warm_through_idle_periods(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(FakeScript())
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session_pool(options, size=3, idle_ttl=10, min_size=1) as pool:
        await pool.wait_ready()
        await trio.sleep(11)
        stats = pool.statistics()
        assert (stats.ready, stats.target, stats.idle_closed) == (1, 1, 2)
        start = trio.current_time()
        async with pool.session() as session:  # the warm one: no wait
            assert trio.current_time() == start
            assert session.server_info is not None
        await pool.wait_ready()
        assert pool.statistics().ready == 3


async def test_sessions_that_finish_starting_after_the_pool_went_idle_are_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from trio_claude.testing.fake_cli import Sleep

    transport = FakeCLITransport(FakeScript(on_initialize=[Sleep(100)]))
    options = tc.ClaudeAgentOptions(transport=transport, initialize_timeout=1000)
    async with tc.open_session_pool(options, size=2, idle_ttl=10) as pool:
        await trio.sleep(50)
        assert pool.statistics().starting == 2 and pool.statistics().target == 0
        await trio.sleep(100)
        stats = pool.statistics()
        assert (stats.ready, stats.starting) == (0, 0)
        assert stats.idle_closed == 2  # closed for the idle pool: counted as such
        assert not pool._all and len(transport.specs) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"idle_ttl": 0},
        {"idle_ttl": float("nan")},
        {"idle_ttl": 10, "min_size": 3},
        {"idle_ttl": 10, "min_size": -1},
        {"min_size": 1},
    ],
)
async def test_bad_idle_settings_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(tc.ConfigurationError):
        async with tc.open_session_pool(size=2, **kwargs):
            pass


# ------------------------------------------------------- a CLI that cannot start


class _StartScripts(FakeCLITransport):
    """Start ``n`` runs ``scripts[n]``; once they run out, the last one."""

    def __init__(self, *scripts: FakeScript) -> None:
        super().__init__(scripts[-1])
        self._scripts = scripts

    async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
        self.script = self._scripts[min(len(self.specs), len(self._scripts) - 1)]
        return await super().start(spec, nursery)


def _not_logged_in() -> FakeScript:
    from trio_claude.testing.fake_cli import Exit

    return FakeScript(on_initialize=[Exit(1, stderr="Error: not logged in")])


def _assert_not_logged_in(error: BaseException | None) -> None:
    assert isinstance(error, tc.ProcessError), error
    assert error.exit_code == 1
    assert "Error: not logged in" in error.stderr and "not logged in" in str(error)


async def test_callers_waiting_on_a_cli_that_cannot_start_get_its_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(_not_logged_in())
    errors: dict[str, BaseException] = {}

    async def take() -> None:
        try:
            async with pool.session():
                pass
        except tc.ClaudeSDKError as exc:
            errors["session"] = exc

    async def warm() -> None:
        try:
            await pool.wait_ready()
        except tc.ClaudeSDKError as exc:
            errors["wait_ready"] = exc

    start = trio.current_time()
    with trio.fail_after(1):  # the error, not the backoff, ends the wait; and the exit is bounded
        async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=2) as pool:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(take)
                nursery.start_soon(warm)
            assert trio.current_time() - start < 0.1  # the first failures, no retry waited for
            _assert_not_logged_in(errors["session"])
            _assert_not_logged_in(errors["wait_ready"])
            assert errors["session"] is not errors["wait_ready"]  # one object per caller
            stats = pool.statistics()
            assert stats.ready == 0 and stats.starting == 2  # retrying in the background
            assert stats.consecutive_failed_starts == stats.failed_starts == 2
            _assert_not_logged_in(stats.last_start_error)
    assert not pool._all and len(transport.specs) == 2


async def test_a_new_caller_while_the_cli_cannot_start_gets_the_error_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(_not_logged_in())
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=1) as pool:
        await trio.sleep(20)  # failing for a while: retries every 5 s at most
        failed = pool.statistics().failed_starts
        assert 5 <= failed == pool.statistics().consecutive_failed_starts
        for _ in range(3):
            start = trio.current_time()
            with trio.fail_after(1), pytest.raises(tc.ProcessError) as info:
                async with pool.session():
                    pass
            _assert_not_logged_in(info.value)
            with pytest.raises(tc.ProcessError):
                await pool.wait_ready()
            assert trio.current_time() == start  # at once: no CLI started for the caller
        assert pool.statistics().failed_starts == failed


async def test_a_pool_whose_cli_starts_working_again_recovers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(_not_logged_in())
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=2) as pool:
        with trio.fail_after(1), pytest.raises(tc.ProcessError):
            await pool.wait_ready()
        transport.script = FakeScript(turns=[FakeTurn.reply("back")])  # logged in now
        await trio.sleep(6)  # the next retries (the backoff is at most 5 s)
        async with pool.session() as session:
            assert (await session.run("hi")).text == "back"
        await pool.wait_ready()
        stats = pool.statistics()
        assert stats.consecutive_failed_starts == 0 and stats.last_start_error is None
        assert stats.failed_starts >= 2


async def test_a_failed_start_does_not_fail_callers_a_session_or_a_start_can_serve(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from trio_claude.testing.fake_cli import Sleep

    # First start fails at once, the second takes 10 s but succeeds: the caller waits for it.
    slow = FakeScript(on_initialize=[Sleep(10)])
    transport = _StartScripts(_not_logged_in(), slow, FakeScript())
    options = tc.ClaudeAgentOptions(transport=transport, initialize_timeout=100)
    async with tc.open_session_pool(options, size=2) as pool:
        with trio.fail_after(20):
            async with pool.session() as session:
                assert session.server_info is not None
        assert pool.statistics().failed_starts == 1
    # One session ready, every later start fails: the ready one is still handed out.
    transport = _StartScripts(FakeScript(), _not_logged_in())
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=2) as pool:
        await pool.wait_ready(1)
        await trio.sleep(1)
        assert pool.statistics().last_start_error is not None
        async with pool.session() as session:
            assert session.server_info is not None
        with trio.fail_after(1), pytest.raises(tc.ProcessError):  # none ready: reported
            async with pool.session():
                pass


async def test_a_configuration_error_at_start_stops_the_retries(
    autojump_clock: trio.testing.MockClock,
) -> None:
    class Refusing(FakeCLITransport):
        async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
            self.specs.append(spec)
            raise tc.ConfigurationError("this transport cannot run these options")

    transport = Refusing()
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=2) as pool:
        with trio.fail_after(1), pytest.raises(tc.ConfigurationError, match="cannot run these"):
            async with pool.session():
                pass
        await trio.sleep(3600)
        with pytest.raises(tc.ConfigurationError):
            await pool.wait_ready()
        stats = pool.statistics()
        assert len(transport.specs) == stats.failed_starts == 2 and stats.starting == 0


async def test_closing_the_pool_wakes_callers_waiting_from_outside_its_block(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from trio_claude.testing.fake_cli import Sleep

    transport = FakeCLITransport(FakeScript(on_initialize=[Sleep(1000)]))
    options = tc.ClaudeAgentOptions(transport=transport, initialize_timeout=2000)
    errors: list[BaseException] = []

    async def take(pool: tc.SessionPool) -> None:
        try:
            async with pool.session():
                pass
        except tc.SessionClosedError as exc:
            errors.append(exc)

    async def warm(pool: tc.SessionPool) -> None:
        try:
            await pool.wait_ready()
        except tc.SessionClosedError as exc:
            errors.append(exc)

    with trio.fail_after(10):
        # The callers' tasks outlive the pool's block.
        async with trio.open_nursery() as nursery, tc.open_session_pool(options, size=1) as pool:
            nursery.start_soon(take, pool)
            nursery.start_soon(warm, pool)
            await trio.sleep(1)
    assert len(errors) == 2


async def test_a_pool_of_failing_processes_reports_and_leaves_none_behind(tmp_path: Path) -> None:
    from trio_claude.testing.fake_cli import Exit

    pids: list[int] = []

    class Recording(FakeCLIProcessTransport):
        async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
            child = await super().start(spec, nursery)
            assert child.pid is not None
            pids.append(child.pid)
            return child

    script = FakeScript(on_initialize=[Exit(1, stderr="Error: not logged in")])
    transport = Recording(script, tmp_path)
    with trio.fail_after(60):  # a hang guard: interpreters start, on a loaded machine
        async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=2) as pool:
            with pytest.raises(tc.ProcessError) as info:
                async with pool.session():
                    pass
            _assert_not_logged_in(info.value)
            await trio.sleep(0.3)  # let a retry be under way as the pool closes
    assert pids and not any(alive(pid) for pid in pids)
