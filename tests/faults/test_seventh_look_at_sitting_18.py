"""A seventh adversarial look, at sitting 18's first batch (``326d87b``): the deeper exception
scrub (notes, OSError fields, the pinned class), cut markers (``...``) inside lines, the last
error result kept on read, continue from a store walking its sessions, the official-style
transport's ``kill``/``terminate``/``_close_messages``, the ambient OpenTelemetry context and the
official skill-name checks. Each failing test says what went wrong; the short passing ones
(``test_guard_...``) keep probes that found nothing."""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys
import traceback
import uuid as uuid_module
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude._redact import redact, scrub_exception
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._official import start_official
from trio_claude._transport._process import shutdown_process
from trio_claude.testing.fake_cli import (
    Exit,
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Result,
    Text,
)

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

from .test_sixth_look_at_sitting_17 import (
    SID,
    ListingStore,
    Remote,
    _assistant,
    _Crash,
    _entry,
    _error_result,
    _init,
    _iterate,
    _resumed,
)

KEY = "sk-ant-api03-" + "Pf4Lq" * 19  # shaped like an Anthropic key
PLAIN = "Zq8mVt3LpWx2Hn7Rk4Yd9Bc6Fg1Js5"  # no known shape: masked by value only
SLASHY = "Gw7/Tk2+Rb9=Xn4/Hq8+Lm3=Vc6"  # a gateway token with / + = (several encoded forms)
IDLE = {"type": "system", "subtype": "session_state_changed", "state": "idle"}


def _shown(error: BaseException) -> str:
    """What an error shows: its text, repr and whole traceback (causes, contexts, notes)."""
    return "\n".join([str(error), repr(error), "".join(traceback.format_exception(error))])


# ======================================================= cut markers: linear, not quadratic


async def test_an_error_result_full_of_cut_markers_does_not_stall_the_event_loop(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error result whose ``errors`` entry is a 250 KB text full of ``...`` (a CLI stack dump,
    a listing of elided paths), then exit 2, in a session whose environment holds a key. The
    exit's diagnosis masks the entry (``_exit.process_error`` -> ``redact``); the new
    ``_redact._mask_at_cuts`` re-slices the whole line (``line[:at]``, ``line[at + 3:]``) at
    every ``...`` for every secret form (an API key and a gateway token: 9 forms): quadratic.
    ~7-10 s of CPU on the event loop here (0.03 s without the dots); a 1 MB entry takes
    minutes, during which no timeout, no cancel and no other session of the process runs.
    Masking must stay linear in the text: measured as the characters the masking looks at
    around the cuts (no timing: a loaded machine would make a CPU bound flaky), which were
    whole-line slices, one per cut and form, before the fix."""
    from trio_claude import _redact

    looked_at = [0]
    head, tail = _redact._masked_head, _redact._masked_tail

    def counting_head(segment: str, secret: str) -> str | None:
        looked_at[0] += len(segment)
        return head(segment, secret)

    def counting_tail(segment: str, secret: str) -> str | None:
        looked_at[0] += len(segment)
        return tail(segment, secret)

    monkeypatch.setattr(_redact, "_masked_head", counting_head)
    monkeypatch.setattr(_redact, "_masked_tail", counting_tail)
    # A piece of the key in the text, so that the cuts are looked at at all.
    entry = KEY[:20] + "a..." * 62_500  # 250 KB
    turn = FakeTurn(
        steps=[
            Text("a"),
            Result(subtype="error_during_execution", is_error=True, extra={"errors": [entry]}),
            Exit(2, stderr="crash"),
        ]
    )
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_AUTH_TOKEN": SLASHY}
    options, _ = options_for(FakeScript(turns=[turn]), env=env)
    error: BaseException | None = None
    with trio.fail_after(900):
        try:
            async with tc.ClaudeSDKClient(options) as client:
                await client.query("go")
                async for _ in client.receive_messages():
                    pass
        except tc.ClaudeSDKError as exc:
            error = exc
    assert isinstance(error, tc.ProcessError)
    assert looked_at[0] > 0  # the cuts were looked at
    # Linear: at most the secret's reach on either side of each cut, for each of its forms,
    # each time the text is masked (a few places quote it); whole-line slices were ~10**10.
    assert looked_at[0] < 100 * len(entry) * 40, looked_at[0]  # (now ~4 * 10**7)


def test_guard_a_secret_cut_before_a_marker_in_mid_line_is_masked() -> None:
    """Guard: a value of the session's cut to a preview (``...``) in the middle of a line,
    more text after it: the cut-off head is masked, the text around it kept."""
    line = f"config: token={PLAIN[:14]}... (truncated); retrying in 5s"
    masked = redact(line, [PLAIN])
    assert PLAIN[:10] not in masked
    assert masked.startswith("config: token=") and masked.endswith("(truncated); retrying in 5s")


# ============================================================== scrub_exception: what it masks


@pytest.mark.parametrize(
    "make",
    [
        lambda: ImportError(f"could not load the plugin with key {KEY}"),
        lambda: SyntaxError(f"bad token {KEY}", ("settings.py", 1, 5, f"key = '{KEY}'\n")),
    ],
    ids=["ImportError-msg", "SyntaxError-msg-and-text"],
)
def test_scrub_masks_a_builtin_exception_whose_text_is_not_its_args(make: Any) -> None:
    """``scrub_exception`` rewrites ``args``, but ``ImportError`` prints its ``msg`` field and
    ``SyntaxError`` its ``msg`` and the source line (``text``): C-level members, not in
    ``vars()`` (so ``_scrub_shown`` finds no attribute to mask) and the pinned subclass cannot
    be assigned to a built-in (immutable) type: the key stays in ``str()`` and in every
    traceback of the chain that holds it (the cause kept by ``output_handling_failed``).
    The docstring promises the text masked."""
    exc = make()
    scrub_exception(exc, [KEY])
    assert KEY not in _shown(exc)
    assert "sk-ant-api03-Pf4Lq" not in _shown(exc)


def _undecodable() -> UnicodeDecodeError:
    try:
        b"ab\xff".decode()
    except UnicodeDecodeError as exc:
        return exc
    raise AssertionError("decoded")


@pytest.mark.parametrize(
    "make",
    [
        lambda: ExceptionGroup("errors in the transport", [ValueError(f"bad key {KEY}")]),
        lambda: ExceptionGroup("errors in the transport", [ValueError("bad")]),
        lambda: subprocess.CalledProcessError(1, ["ssh", "host", "claude"]),
        _undecodable,
    ],
    ids=["group-member-quotes-a-key", "group-nothing-to-mask", "CalledProcessError", "decode"],
)
def test_a_scrubbed_exception_still_copies_and_pickles(make: Any) -> None:
    """``scrub_exception`` always sets ``args = (masked text,)``, even when nothing was masked.
    An exception whose constructor takes more than one argument (an ``ExceptionGroup``, what
    every trio nursery raises; ``CalledProcessError``; ``UnicodeDecodeError``) can then no
    longer be copied or pickled (``copy.copy``/``pickle`` call ``type(exc)(*exc.args)``):
    ``TypeError: BaseExceptionGroup.__new__() takes exactly 2 arguments``. The SDK keeps such
    exceptions (``OfficialProcess.failure``, the cause of ``output_handling_failed``); the
    application that logs, copies or ships them to another process then fails on them."""
    exc = make()
    expected = type(exc)
    scrub_exception(exc, [KEY])
    assert KEY not in _shown(exc)
    assert type(exc) is expected, f"the class was swapped: {type(exc)!r}"
    for twin in (copy.copy(exc), pickle.loads(pickle.dumps(exc))):
        assert type(twin) is expected
        assert str(twin) == str(exc)


@pytest.mark.parametrize(
    "make",
    [KeyboardInterrupt, lambda: SystemExit(3), GeneratorExit],
    ids=["KeyboardInterrupt", "SystemExit-3", "GeneratorExit"],
)
def test_scrub_never_alters_a_base_exception_in_the_chain(make: Any) -> None:
    """An error whose context is a ``KeyboardInterrupt`` (or ``SystemExit(3)``): scrubbing the
    chain rewrites the interrupt's ``args`` too (``KeyboardInterrupt()`` becomes
    ``KeyboardInterrupt('')``, ``SystemExit(3)`` becomes ``SystemExit('3')``) and clears its
    frames. These are not errors with text that may quote a key; the SDK must hand them on
    exactly as they were raised."""
    interrupt = make()
    before = interrupt.args
    error = RuntimeError(f"failed with {KEY}")
    error.__context__ = interrupt
    scrub_exception(error, [KEY])
    assert KEY not in str(error)
    assert interrupt.args == before, f"{type(interrupt).__name__}.args became {interrupt.args!r}"
    assert type(interrupt) is type(make())


def test_guard_a_pinned_exception_scrubbed_again_with_other_secrets_masks_both() -> None:
    """Guard: an exception whose text comes from a non-string attribute (pinned), shared by
    two sessions and scrubbed with each one's secrets: neither value shows; it still matches
    ``except`` for its type."""

    class Url:
        def __init__(self, text: str) -> None:
            self.text = text

        def __str__(self) -> str:
            return self.text

    class FetchError(Exception):
        def __init__(self, url: Url) -> None:
            super().__init__("fetch failed")
            self.url = url

        def __str__(self) -> str:
            return f"fetch failed: {self.url}"

    exc = FetchError(Url(f"https://h/?a={PLAIN}&b={PLAIN[::-1]}"))
    scrub_exception(exc, [PLAIN])
    scrub_exception(exc, [PLAIN[::-1]])
    assert PLAIN not in _shown(exc) and PLAIN[::-1] not in _shown(exc)
    assert isinstance(exc, FetchError)


async def test_guard_errors_the_sdk_raises_still_pickle_and_copy(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: the ``ResultError`` of an exit over an error result and the ``ProcessError`` of a
    crash quoting a key round-trip through pickle and copy, masked, exit code kept."""
    scripts: list[list[Any]] = [
        [Text("a"), Result(subtype="error_max_turns", is_error=True), Exit(2, stderr="x")],
        [Text("a"), Exit(3, stderr=f"crash {KEY}")],
    ]
    for steps in scripts:
        options, _ = options_for(
            FakeScript(turns=[FakeTurn(steps=steps)]), env={"ANTHROPIC_API_KEY": KEY}
        )
        with pytest.raises(tc.ProcessError) as caught:
            async with tc.ClaudeSDKClient(options) as client:
                await client.query("go")
                async for _ in client.receive_messages():
                    pass
        error = caught.value
        for twin in (pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)):
            assert type(twin) is type(error)
            assert str(twin) == str(error) and twin.exit_code == error.exit_code
            assert KEY not in str(twin)


# ======================================================== the last error result, kept on read


class _CrashOnEndInput(Remote):
    """Exits 1 once stdin is closed, as the real CLI does after an error result."""

    async def end_input(self) -> None:
        self.ended_input = True
        self._send.send_nowait(_Crash())
        await trio.lowlevel.checkpoint()


async def test_guard_session_error_result_idle_then_exit_1_at_close_is_not_raised(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard (the real CLI's order): an error result, ``session_state_changed`` idle, then exit
    1 when stdin closes: ``ClaudeSDKClient`` does not raise (the result said it all)."""
    transport = _CrashOnEndInput(_init(), _assistant("a"), _error_result(), IDLE)
    got: list[Any] = []
    with trio.fail_after(900):
        async with tc.ClaudeSDKClient(tc.ClaudeAgentOptions(transport=transport)) as client:
            await client.query("go")
            async for message in client.receive_response():
                got.append(message)
    assert isinstance(got[-1], tc.ResultMessage) and got[-1].is_error


async def test_guard_session_error_result_idle_then_crash_is_not_raised(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: the same order read through ``receive_messages()`` to the end: no error."""
    transport = Remote(_init(), _assistant("a"), _error_result(), IDLE, _Crash())
    with trio.fail_after(900):
        async with tc.ClaudeSDKClient(tc.ClaudeAgentOptions(transport=transport)) as client:
            await client.query("go")
            async for _ in client.receive_messages():
                pass


@pytest.mark.parametrize(
    ("after", "moved_on"),
    [
        ([IDLE], False),
        ([{"type": "rate_limit_event", "rate_limit_info": {"status": "allowed"}}], True),
        ([{"type": "stream_event", "uuid": "u", "session_id": SID, "event": {}}], True),
        # What became of the prompts queued behind the turn (a session ended mid-turn, as the
        # real CLI reports it): not the conversation moving on (docs/migration.md).
        (
            [
                {"type": "command_lifecycle", "command_uuid": u, "state": st, "uuid": u + "x"}
                for u, st in (("c1", "cancelled"), ("c2", "discarded"))
            ],
            False,
        ),
    ],
    ids=["idle", "rate_limit_event", "stream_event", "command_lifecycle"],
)
async def test_guard_iterator_which_frames_after_an_error_result_reset_it(
    after: list[dict[str, Any]], moved_on: bool, autojump_clock: trio.testing.MockClock
) -> None:
    """Guard (the official rule): after an error result, ``session_state_changed`` keeps it
    (exit 1 is a ``ResultError``); any message (a rate-limit event, a stream event) resets it
    (exit 1 is a fresh crash: ``ProcessError``); ``command_lifecycle`` keeps it too (ours)."""
    _, error = await _iterate(Remote(_init(), _assistant("a"), _error_result(), *after, _Crash()))
    assert isinstance(error, tc.ProcessError)
    assert isinstance(error, tc.ResultError) is not moved_on


# ======================================================== continue from a store: the walk


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return path


OLD, ODD, NEW = (str(uuid_module.uuid4()) for _ in range(3))


@pytest.mark.parametrize("reverse", [False, True], ids=["oldest-listed-first", "newest-first"])
async def test_continue_from_a_store_is_not_misled_by_a_nan_mtime(
    reverse: bool, tmp_path: Path, home: Path
) -> None:
    """``list_sessions`` lists three sessions, one with ``mtime`` NaN (a float, so it passes
    ``_continue_candidate``'s filter). ``sorted`` with a NaN key gives an order that depends on
    the listing's: listed oldest first, the walk continues the OLDEST session (mtime 1000),
    not the newest (3000), silently resuming the wrong conversation. A non-finite mtime says
    nothing about recency: it should be dropped like a string one."""
    listing = [
        {"session_id": OLD, "mtime": 1000},
        {"session_id": ODD, "mtime": math.nan},
        {"session_id": NEW, "mtime": 3000},
    ]
    if reverse:
        listing.reverse()
    store = ListingStore(listing, {s: [_entry(s)] for s in (OLD, ODD, NEW)})
    assert await _resumed(store, tmp_path) == NEW


async def test_guard_continue_walking_thousands_of_sidechains_is_bounded_by_load_timeout(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Guard: 3,000 listed sessions, each a sidechain that takes 50 ms to load: the whole walk
    is bounded by ``load_timeout_ms`` (``SessionStoreError``), not 150 s of loads."""
    ids = [str(uuid_module.uuid4()) for _ in range(3000)]

    class Slow(ListingStore):
        async def load(self, key: tc.SessionKey) -> list[Any] | None:
            await trio.sleep(0.05)
            return [_entry(key["session_id"], sidechain=True)]

    store = Slow([{"session_id": s, "mtime": i} for i, s in enumerate(ids)])
    options, _ = options_for(
        FakeScript(),
        session_store=store,
        continue_conversation=True,
        load_timeout_ms=5000,
        cwd=str(tmp_path),
    )
    start = trio.current_time()
    with trio.fail_after(600), pytest.raises(tc.SessionStoreError):
        async with tc.open_session(options):
            pass
    assert trio.current_time() - start <= 6


# ================================================ the official-style transport's shutdown


class _Official:
    """An official-style transport: ``close()`` and the generator's cleanup may hang."""

    def __init__(self, *, close_hangs: bool = False, cleanup: str = "") -> None:
        self.close_hangs = close_hangs
        self.cleanup = cleanup
        self.cleaned_up = False

    async def connect(self) -> None:
        await trio.lowlevel.checkpoint()

    async def write(self, data: str) -> None:
        await trio.lowlevel.checkpoint()

    async def end_input(self) -> None:
        await trio.lowlevel.checkpoint()

    async def close(self) -> None:
        if self.close_hangs:
            await trio.sleep_forever()
        await trio.lowlevel.checkpoint()

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        try:
            yield _init()
            await trio.sleep_forever()
        finally:
            self.cleaned_up = True
            if self.cleanup == "hangs":
                await trio.sleep_forever()
            if self.cleanup == "raises":
                raise RuntimeError(f"cleanup failed ({KEY})")


class _PlainIterator:
    """``read_messages()`` returning an async iterator with no ``aclose``."""

    def __init__(self) -> None:
        self.sent = False

    def __aiter__(self) -> _PlainIterator:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self.sent:
            await trio.sleep_forever()
        self.sent = True
        await trio.lowlevel.checkpoint()
        return _init()


async def _stop(transport: Any) -> tuple[int | None, float]:
    """Starts ``transport``, reads one frame (the generator then waits at a ``yield``, no read
    pending), and stops it as a session does (``close_timeout=0``): its status, the time."""
    proc = await start_official(transport, LaunchSpec(argv=["claude"], env={}))
    assert await proc.stdout.receive_some()
    start = trio.current_time()
    code = await shutdown_process(proc, close_timeout=0)
    return code, trio.current_time() - start


async def test_stopping_an_official_transport_stays_within_shutdown_process_bound(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``shutdown_process`` promises to return within about ``close_timeout + term_timeout +
    5`` s (6 s here), and ``END_INPUT_TIMEOUT``'s comment says the adapter's bounds are
    chosen to keep it. The new ``OfficialProcess._close_messages`` runs after ``close()``,
    shielded, with a budget of its own (``CLOSE_TIMEOUT`` again): a transport whose
    ``close()`` and whose generator's cleanup both hang stops in 10 s. The generator's
    cleanup should share ``close()``'s budget (one deadline for both)."""
    transport = _Official(close_hangs=True, cleanup="hangs")
    code, took = await _stop(transport)
    assert code is not None
    assert transport.cleaned_up
    assert took <= 6.5, f"shutdown took {took:.1f} s (promised about 6)"


@pytest.mark.parametrize("cleanup", ["", "hangs", "raises"])
async def test_guard_an_official_generator_is_closed_on_stop(
    cleanup: str, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Guard: stopped with no read pending, the generator's ``finally`` runs (bounded when it
    hangs; a failure logged masked), and the status says it was stopped."""
    transport = _Official(cleanup=cleanup)
    code, took = await _stop(transport)
    assert transport.cleaned_up
    assert code is not None and code < 0
    assert took <= 6.5
    assert KEY not in caplog.text


async def test_guard_an_official_plain_async_iterator_without_aclose_stops(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: ``read_messages()`` returns a plain async iterator (no ``aclose``): stopping
    neither fails nor hangs."""

    class Plain(_Official):
        def read_messages(self) -> Any:
            return _PlainIterator()

    code, took = await _stop(Plain())
    assert code is not None and took <= 6.5


# ======================================================== the ambient OpenTelemetry context


class _Propagator:
    """A text-map propagator of the application's that injects ``items`` as given."""

    def __init__(self, items: list[tuple[Any, Any]]) -> None:
        self.items = items

    def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
        for key, value in self.items:
            carrier[key] = value

    def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
        return context

    @property
    def fields(self) -> set[str]:
        return set()


@pytest.fixture
def propagator() -> Iterator[list[tuple[Any, Any]]]:
    """Installs a global propagator injecting the items the test puts in the list."""
    from opentelemetry import propagate

    items: list[tuple[Any, Any]] = []
    old = propagate.get_global_textmap()
    propagate.set_global_textmap(_Propagator(items))  # type: ignore[arg-type]
    try:
        yield items
    finally:
        propagate.set_global_textmap(old)


@pytest.mark.parametrize(
    "item",
    [(1, "x"), ("traceparent", 123), ("traceparent", "00-abc\x00def")],
    ids=["non-string-key", "non-string-value", "nul-in-value"],
)
async def test_an_odd_ambient_trace_context_never_stops_a_start(
    item: tuple[Any, Any], propagator: list[tuple[Any, Any]], tmp_path: Path
) -> None:
    """The application's propagator (OpenTelemetry imported, so ``ambient_carrier`` runs for
    every untraced session) injects a non-string key, a non-string value or a value with a NUL.
    ``ambient_carrier`` upper-cases the keys outside its ``try`` (a raw ``AttributeError``
    escapes ``ClaudeSDKClient``) and passes values as they are into the CLI's environment
    (the spawn fails with a raw ``TypeError`` / ``ValueError: embedded null byte``). Its
    docstring says "best effort: it never stops a start"; the official SDK upper-cases inside
    its ``try`` too. Entries that cannot be environment variables should be dropped."""
    propagator.append(item)
    transport = FakeCLIProcessTransport(
        FakeScript(turns=[FakeTurn(steps=[Text("a"), Result(text="ok")])]), tmp_path
    )
    got: list[Any] = []
    with trio.fail_after(60):
        try:
            async with tc.ClaudeSDKClient(tc.ClaudeAgentOptions(transport=transport)) as client:
                await client.query("go")
                async for message in client.receive_response():
                    got.append(message)
        except Exception as exc:
            pytest.fail(f"a propagator's odd entry stopped the session: {exc!r}")
    assert isinstance(got[-1], tc.ResultMessage)


async def test_guard_an_ambient_traceparent_reaches_the_cli(
    propagator: list[tuple[Any, Any]], autojump_clock: trio.testing.MockClock
) -> None:
    """Guard: a well-formed ambient ``traceparent`` is passed, upper-cased."""
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    propagator.append(("traceparent", parent))
    options, transport = options_for(FakeScript())
    async with tc.open_session(options):
        pass
    assert transport.specs[0].env.get("TRACEPARENT") == parent


# ======================================================== skill names: the official checks


class _NoRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    "skills",
    [
        [KEY + " "],
        ["/" + KEY],
        [KEY + "(x)"],
        [KEY.encode()],
        [{"token": KEY}],
    ],
    ids=["trailing-space", "leading-slash", "parenthesis", "bytes", "dict"],
)
async def test_a_refused_skill_name_is_quoted_masked(
    skills: list[Any], autojump_clock: trio.testing.MockClock
) -> None:
    """A ``skills`` entry the official checks refuse (a key pasted with a stray space, a
    slash, a parenthesis; bytes; a dict): the ``ConfigurationError`` quotes it whole
    (``_options._check_skill_name``: ``{name!r}`` and the texts of ``_skill_name_problem``),
    unmasked. Every other option error masks what it quotes (``skills="x"`` does, and so does
    the ``allowed_tools`` advice, "a pasted ANTHROPIC_API_KEY=sk-ant-...")."""
    options, _ = options_for(FakeScript(), skills=skills)
    with pytest.raises(tc.ConfigurationError) as caught:
        async with tc.open_session(options):
            pass
    assert "Pf4LqPf4Lq" not in _shown(caught.value)


@pytest.mark.parametrize("skills", [_NoRepr(), [_NoRepr()]], ids=["value", "entry"])
async def test_a_skills_value_whose_repr_fails_is_a_configuration_error(
    skills: Any, autojump_clock: trio.testing.MockClock
) -> None:
    """``skills`` (or an entry) is an object whose ``repr`` raises: the new texts quote it with
    ``{given!r}`` (``_options._skills``, when the options are made) / ``{name!r}``
    (``_check_skill_name``, when the session opens), so the ``RuntimeError`` of its repr
    escapes raw instead of the ``ConfigurationError`` (also a ``TypeError``) the check means
    to raise."""
    with pytest.raises(tc.ConfigurationError):
        options, _ = options_for(FakeScript(), skills=skills)
        async with tc.open_session(options):
            pass
