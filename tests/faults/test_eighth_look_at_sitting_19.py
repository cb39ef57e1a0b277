"""An eighth adversarial look, at sitting 19 (``a7cff9d..HEAD``): prompt generators closed by
the SDK (``_util.close_prompts`` from ``stream_input``, ``ClaudeSDKClient.query`` and the
iterator form), the session form of ``query()`` cancelling its feed, a pool's foreign
``connect()`` errors (``_pool._for_caller``), agents' ``connected``, the environment a remote CLI
gets (``remote_env``, ``LaunchSpec.own_env``), exits over an error result by a wrapped signal
(``_exit.exit_over_result``), ``env_carrier``'s encodable check and the hand-built
``McpServerStatus``.

Tests with a ``# FINDING:`` comment fail on the current code and assert what it should do; the
``test_guard_...`` ones keep probes that found nothing. The fault suite's conftest adds: no
task, process or descriptor left.
"""

from __future__ import annotations

import copy
import logging
import math
import pickle
import subprocess
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from tests.fuzz.test_exit_after_error_result_properties import SID, CannedCLI
from trio_claude._pool import _for_caller
from trio_claude._telemetry import env_carrier
from trio_claude._transport._base import LaunchSpec, remote_env
from trio_claude._util import close_prompts
from trio_claude.testing.fake_cli import Exit, FakeScript, FakeTurn, Result, Text

from ._sweep import bad_error, steps_to_cancel_after
from .test_cancel_sweep_of_sitting_17 import cancelled_after
from .test_cancellation import seeded_scheduler
from .test_teams_with_official_transports import Wire
from .test_teams_with_official_transports import options as wire_options

SEED = 19
KEY = "sk-ant-api03-" + "Hk7Tw" * 19  # shaped like an Anthropic key
PLAIN = "Xb4Nq8Lr2Vm6Tz1Kc9Pw3Gd7Fh5Js0"  # no known shape: masked by value only


def _answers(n: int) -> FakeScript:
    return FakeScript(turns=[FakeTurn((Text(f"a{k}"), Result(text=f"a{k}"))) for k in range(n)])


def _dies_after_one_turn() -> FakeScript:
    return FakeScript(turns=[FakeTurn((Text("a"), Result(text="a"), Exit(1)))])


def _prompt(n: int) -> dict[str, Any]:
    return {"type": "user", "message": {"role": "user", "content": f"p{n}"}}


def _finished(gen: Any) -> bool:
    """Whether an async generator is finished or closed (its frame is gone)."""
    return gen.ag_frame is None


def _running(gen: Any) -> bool:
    """Whether some task is inside an async generator."""
    return bool(gen.ag_running)


class Feed:
    """A prompt generator recording how far it got and how its ``finally`` went."""

    def __init__(
        self, count: int = 1000, *, gap: float = 0.0, cleanup: str = "quick", wait: bool = True
    ) -> None:
        self.count = count
        self.gap = gap
        self.wait = wait  # after the prompts: wait for ever, or end
        self.cleanup = cleanup  # "quick"; "awaits" (one second); "yields" (again, in finally)
        self.yielded = 0
        self.cleaned = False

    async def prompts(self) -> AsyncGenerator[dict[str, Any], None]:
        try:
            for n in range(self.count):
                if n and self.gap:
                    await trio.sleep(self.gap)
                self.yielded += 1
                yield _prompt(n)
            if self.wait:
                await trio.sleep_forever()
        finally:
            if self.cleanup == "awaits":
                await trio.sleep(1)  # flushes a log, closes a connection...
            elif self.cleanup == "yields":
                yield _prompt(-1)  # RuntimeError: async generator ignored GeneratorExit
            self.cleaned = True


# ================================================================ close_prompts and its callers


async def test_leaving_the_session_form_gives_the_generators_finally_its_bounded_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The session form of ``query()`` is left after the first result while the feed is still
    sending (held at a ``yield``). The SDK closes the generator, promising its ``finally`` runs
    now, bounded by 5 s (``Session.stream_input``'s docstring). But ``_session_query`` first
    cancels the feed's nursery, so ``close_prompts`` runs inside a cancelled scope: the
    generator's first ``await`` in its ``finally`` raises ``Cancelled`` at once. The block was
    left normally by the caller; the user's cleanup (one virtual second) never completes."""
    # FINDING: close_prompts runs in the cancelled feed scope: the finally gets 0 s, not 5
    feed = Feed(cleanup="awaits")
    gen = feed.prompts()
    options, _ = options_for(_answers(1000))
    with trio.fail_after(60):
        async with tc.query(prompt=gen, options=options) as messages:
            async for message in messages:
                if isinstance(message, tc.ResultMessage):
                    break
    assert 1 <= feed.yielded < 1000
    assert _finished(gen)  # closed by the SDK (the guard part)
    assert feed.cleaned, "the generator's finally was cancelled at its first await"


async def test_close_prompts_in_a_cancelled_scope_still_gives_the_finally_its_bound(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The same at the unit: ``close_prompts`` called while its task is being cancelled (the
    case ``stream_input``'s docstring names: "the task was cancelled") should still give a
    ``finally`` that waits one second its turn (a shielded scope bounded by 5 s)."""
    # FINDING: _util.close_prompts: move_on_after unshielded, a cancelled caller cuts the finally
    feed = Feed(cleanup="awaits")
    gen = feed.prompts()
    assert await anext(gen) == _prompt(0)
    with trio.CancelScope() as scope:
        scope.cancel()
        try:
            await close_prompts(gen)
        finally:
            closed = _finished(gen)
    assert closed
    assert feed.cleaned


async def test_stream_input_whose_aiter_raises_still_ends_the_input(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An iterable whose ``__aiter__`` raises. ``stream_input`` now calls ``aiter()`` before its
    ``try``, so its ``finally`` (``_input_done = True``, inbox woken) never runs: the caller that
    handles the feed's error and reads ``receive_until_input_done()`` waits for ever. Before,
    the ``async for`` sat inside the ``try`` and the input ended."""

    # FINDING: Session.stream_input: aiter(prompts) is outside try, _input_done stays False
    class BrokenFeed:
        def __aiter__(self) -> AsyncIterator[Any]:
            raise ValueError("the feed could not open")

    options, _ = options_for(_answers(1))
    async with tc.open_session(options) as session:
        with pytest.raises(ValueError, match="could not open"):
            await session.stream_input(BrokenFeed())
        ended = False
        with trio.move_on_after(30):
            async for _ in session.receive_until_input_done():
                pass
            ended = True
    assert ended, "receive_until_input_done() hung after the feed failed"


async def test_guard_a_finally_that_yields_again_is_logged_not_raised(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A generator whose ``finally`` yields again (``RuntimeError: async generator ignored
    GeneratorExit``): logged, and the send's error is the one the caller gets."""
    feed = Feed(gap=10, cleanup="yields")
    caplog.set_level(logging.WARNING, logger="trio_claude")
    options, _ = options_for(_dies_after_one_turn())
    async with tc.ClaudeSDKClient(options) as client:
        with pytest.raises(tc.ClaudeSDKError):
            await client.query(feed.prompts())
    said = [r.getMessage() for r in caplog.records]
    assert any("prompt generator failed while closing" in s and "GeneratorExit" in s for s in said)


async def test_guard_a_generator_running_in_another_task_is_not_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A generator some other task is inside (``ag_running``): left alone, no error."""
    feed = Feed(count=2, gap=10)
    gen = feed.prompts()
    await anext(gen)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(anext, gen)  # now sleeps 10 s inside the generator
        await trio.sleep(1)
        assert _running(gen)
        await close_prompts(gen)
        assert not _finished(gen) and not feed.cleaned
    await gen.aclose()
    assert feed.cleaned


async def test_guard_a_hand_written_async_iterator_is_left_open(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An async iterator that is not a generator (an ``aclose`` of its own): never closed."""

    class Ticker:
        closed = False

        def __aiter__(self) -> Ticker:
            return self

        async def __anext__(self) -> dict[str, Any]:
            await trio.sleep(10)
            return _prompt(0)

        async def aclose(self) -> None:
            self.closed = True

    ticker = Ticker()
    options, _ = options_for(_dies_after_one_turn())
    async with tc.ClaudeSDKClient(options) as client:
        with pytest.raises(tc.ClaudeSDKError):
            await client.query(ticker)
    assert not ticker.closed


def _client_feed_scenario(seen: list[Feed]) -> Any:
    async def scenario(n: float) -> tuple[BaseException | None, int]:
        feed = Feed(count=5, gap=1, cleanup="quick", wait=False)
        seen.append(feed)
        options, _ = options_for(_answers(10))

        async def body() -> None:
            async with tc.ClaudeSDKClient(options) as client:
                await client.query(feed.prompts())

        error, instrument, _late = await cancelled_after(n, body)
        return error, instrument.steps

    return scenario


async def test_guard_seeded_cancellation_of_client_query_over_a_generator(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``ClaudeSDKClient.query(generator)`` cancelled after every step (a seeded sample): only
    the cancellation escapes, and the generator is finished when the block is left (closed by
    the SDK, or ended by the cancellation inside it)."""
    seen: list[Feed] = []
    scenario = _client_feed_scenario(seen)
    error, total = await scenario(math.inf)
    assert error is None and total > 5
    problems: list[str] = []
    for k in steps_to_cancel_after(total, SEED):
        with seeded_scheduler(k):
            error, _ = await scenario(k)
        if bad_error(error):
            problems.append(f"step {k}: {bad_error(error)}")
        if seen[-1].yielded and not seen[-1].cleaned:
            problems.append(f"step {k}: the generator's finally never ran")
    assert not problems, problems[:5]


# ====================================================== the pool's foreign connect() errors


class _CustomOSError(OSError):
    def __init__(self, host: str, *, port: int) -> None:
        super().__init__(111, f"refused by {host}:{port}")
        self.host = host
        self.port = port


class _Slotted(Exception):
    __slots__ = ("detail",)

    def __init__(self, detail: str) -> None:
        super().__init__("connect failed")
        self.detail = detail


def _undecodable() -> UnicodeDecodeError:
    try:
        b"\xff".decode()
    except UnicodeDecodeError as exc:
        return exc
    raise AssertionError("decoded")


@pytest.mark.parametrize(
    "make",
    [
        lambda: FileNotFoundError(2, "No such file or directory", "/run/claude.sock"),
        lambda: _CustomOSError("relay", port=22),
        _undecodable,
        lambda: _Slotted("TLS handshake"),
    ],
    ids=["FileNotFoundError-filename", "OSError-subclass-own-init", "UnicodeDecodeError", "slots"],
)
def test_a_copied_foreign_start_error_keeps_its_text_and_fields(make: Any) -> None:
    """``_for_caller`` copies a failed start's error per caller by ``cls.__new__(cls, *args)``
    + ``__dict__``: right for the SDK's own errors, which it was written for. Now it gets what
    an official-style transport's ``connect()`` raised, any type: an ``OSError``'s
    ``filename`` is not in ``args`` (lost), an ``OSError`` subclass with its own ``__init__``
    (and ``UnicodeDecodeError``) sets its fields in ``__init__`` (never called: ``str()`` is
    empty, ``errno`` ``None``), a slot is not in ``__dict__``. The caller raises a copy that
    no longer says what failed; it should raise an equal copy, or the original."""
    # FINDING: _pool._for_caller: __new__(*args) copy loses filename, __init__-set fields, slots
    error = make()
    fresh = _for_caller(error)
    assert type(fresh) is type(error)
    assert str(fresh) == str(error)
    for name in ("errno", "strerror", "filename", "host", "port", "encoding", "reason", "detail"):
        assert getattr(fresh, name, None) == getattr(error, name, None), name


@pytest.mark.parametrize(
    "make",
    [
        lambda: ConnectionRefusedError(111, "connect: refused"),
        lambda: subprocess.CalledProcessError(255, ["ssh", "relay"], stderr=b"denied"),
        lambda: ValueError("bad endpoint"),
    ],
    ids=["ConnectionRefusedError", "CalledProcessError", "ValueError"],
)
def test_guard_a_copied_plain_foreign_error_is_equal(make: Any) -> None:
    error = make()
    fresh = _for_caller(error)
    assert fresh is not error and type(fresh) is type(error)
    assert str(fresh) == str(error) and fresh.args == error.args


class _RefusingWire(Wire):
    """An official-style transport whose ``connect()`` raises ``error()`` every time."""

    def __init__(self, error: Any) -> None:
        super().__init__()
        self.error = error

    async def connect(self) -> None:
        self.calls.append("connect")
        await trio.sleep(0.1)
        raise self.error()


async def test_a_pool_caller_gets_the_filename_of_a_failed_connect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Through the pool: ``connect()`` raises ``FileNotFoundError`` naming the socket it did
    not find; ``pool.session()`` raises the copy, which no longer names it."""
    # FINDING: the pool's per-caller copy of a connect() FileNotFoundError drops .filename
    wire = _RefusingWire(lambda: FileNotFoundError(2, "No such file", "/run/claude.sock"))
    raised: list[FileNotFoundError] = []
    with trio.fail_after(60):
        async with tc.open_session_pool(wire_options(wire), size=1) as pool:
            try:
                async with pool.session():
                    pass
            except FileNotFoundError as exc:
                raised.append(exc)
    assert len(raised) == 1
    assert raised[0].filename == "/run/claude.sock"
    assert "/run/claude.sock" in str(raised[0])


async def test_guard_a_pool_logs_a_foreign_connect_error_masked_and_retries(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """``connect()`` raises an error quoting the session's key (set in ``env``) and a
    key-shaped token: the pool retries, the warning masks both, the caller gets the error as
    it is (``last_start_error``) and the pool block is left without an error."""
    wire = _RefusingWire(lambda: ConnectionError(f"denied for {PLAIN} ({KEY})"))
    caplog.set_level(logging.WARNING, logger="trio_claude")
    with trio.fail_after(60):
        async with tc.open_session_pool(
            wire_options(wire, env={"MY_GATEWAY_TOKEN": PLAIN}), size=1
        ) as pool:
            with pytest.raises(ConnectionError):
                await pool.wait_ready()
            await trio.sleep(3)
            stats = pool.statistics()
    assert wire.calls.count("connect") >= 2
    assert isinstance(stats.last_start_error, ConnectionError)
    said = "\n".join(r.getMessage() for r in caplog.records)
    assert "connect() raised" in said
    assert PLAIN not in said and KEY not in said and KEY[:20] not in said


# ================================================================== the environment sent away


def test_guard_a_users_own_launch_spec_sends_what_differs_and_what_is_forwarded() -> None:
    """A ``LaunchSpec`` a user's transport builds itself has no ``own_env``: what differs from
    the local environment and what matches ``forward_env`` still travel; the tag never."""
    spec = LaunchSpec(
        argv=["claude"], env={"A": "1", "B": "2", "ANTHROPIC_API_KEY": KEY, "TAG": "t"}
    )
    local = {"A": "1", "B": "other", "ANTHROPIC_API_KEY": KEY, "TAG": "t"}
    sent = dict(remote_env(spec, ["ANTHROPIC_*"], local, "TAG"))
    assert sent == {"B": "2", "ANTHROPIC_API_KEY": KEY}
    owned = attrs.evolve(spec, own_env=frozenset({"A", "TAG"}))
    assert dict(remote_env(owned, [], local, "TAG")) == {"A": "1", "B": "2"}


def test_guard_a_name_in_own_env_but_not_in_env_is_not_invented() -> None:
    spec = LaunchSpec(argv=["claude"], env={"A": "1"}, own_env=frozenset({"GHOST"}))
    assert dict(remote_env(spec, ["*"], {}, "TAG")) == {"A": "1"}


def test_guard_env_carrier_drops_what_no_environment_holds() -> None:
    carrier = {"traceparent": "00-ab-cd-01", "baggage": "k=\ud83d", "tracestate": 5}
    assert env_carrier(carrier) == {"TRACEPARENT": "00-ab-cd-01"}


# ============================================================= exit over an error result


def _failed_result() -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "error_during_execution",
        "is_error": True,
        "errors": ["the API refused"],
        "session_id": SID,
        "uuid": "r1",
    }


@pytest.mark.parametrize(
    ("code", "by_signal"),
    [(1, False), (128, False), (129, True), (192, True), (193, False), (255, False)],
)
async def test_guard_which_exit_statuses_after_an_error_result_are_signals(
    code: int, by_signal: bool, autojump_clock: trio.testing.MockClock
) -> None:
    """128 + n (n a signal: 1..64) is the kill's ``ProcessError``; 128, 193.. and SSH's own
    failure status 255 are exits over the result: its ``ResultError``."""
    options = tc.ClaudeAgentOptions(transport=CannedCLI([_failed_result()], code, split=False))
    with pytest.raises(tc.ProcessError) as info:
        async for _ in tc.query(prompt="go", options=options):
            pass
    assert info.value.exit_code == code
    assert (type(info.value) is tc.ProcessError) is by_signal
    if not by_signal:
        assert isinstance(info.value, tc.ResultError)
        assert isinstance(info.value.__cause__, tc.ProcessError)


# ========================================================================== McpServerStatus


def _status() -> tc.McpServerStatus:
    return tc.McpServerStatus(
        name="gateway",
        status="connected",
        serverInfo={"name": "gw", "version": "1"},
        config={
            "type": "http",
            "url": "https://mcp.example.com/",
            "headers": {"Authorization": f"Bearer {KEY}"},
        },
    )


def test_a_status_repr_masks_the_credentials_in_its_config() -> None:
    """``config`` (new) is the server's configuration as the CLI reports it: an HTTP server's
    ``headers``, a stdio server's ``env``. It is in the repr unmasked, while the SDK masks the
    same ``mcp_servers`` headers in the options' repr (``redact_repr``): a status logged or
    shown in a traceback's locals prints the key."""
    # FINDING: McpServerStatus.config is repr=True and unmasked: repr(status) prints header keys
    shown = repr(_status())
    assert KEY not in shown
    assert KEY[:20] not in shown
    assert "gateway" in shown  # the status still says which server


def test_an_evolved_status_reads_as_its_attributes_say() -> None:
    """``attrs.evolve(status, status="failed")`` passes the old ``raw`` on: ``.status`` says
    ``failed`` while the dict view (``status["status"]``, ``dict(status)``, ``== dict``) still
    says ``connected``, and it equals the dict of the status it no longer equals."""
    # FINDING: McpServerStatus.__init__ keeps a given raw: attrs.evolve leaves a stale dict view
    status = _status()
    evolved = attrs.evolve(status, status="failed")
    assert evolved.status == "failed"
    assert evolved["status"] == "failed"
    assert evolved != dict(status)


def test_guard_a_hand_built_status_copies_pickles_and_compares_as_a_dict() -> None:
    status = _status()
    for twin in (copy.copy(status), copy.deepcopy(status), pickle.loads(pickle.dumps(status))):
        assert twin == status and dict(twin) == dict(status)
    assert status == dict(status) and dict(status) == status
    assert status["serverInfo"] == {"name": "gw", "version": "1"}
    assert status.server_info == {"name": "gw", "version": "1"}
    assert "tools" not in status and status.tools == []
    with pytest.raises(TypeError):
        hash(status)
    assert status != tc.McpServerStatus(name="gateway", status="failed")
    assert (status == 5) is False


def test_guard_a_status_round_trips_through_its_dict_with_unknown_keys() -> None:
    wire = {
        "name": "s",
        "status": "failed",
        "serverInfo": {"name": "x", "version": "2"},
        "tools": [{"name": "t"}],
        "error": "boom",
        "newField": [1],
    }
    decoded = tc.McpServerStatus.from_wire(wire)
    rebuilt = tc.McpServerStatus(**dict(decoded))
    assert rebuilt == decoded == wire
    assert dict(rebuilt) == wire
    assert rebuilt.get("newField") == [1]
    given_raw = tc.McpServerStatus(name="s", raw={"name": "s", "x": 1})
    assert dict(given_raw) == {"name": "s", "x": 1}
