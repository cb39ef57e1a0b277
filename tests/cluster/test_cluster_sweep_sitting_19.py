"""Sitting 19's sweep of the last two sittings' changes across SSH, Ray and PostgreSQL.

The trace context a session passes to its CLI (``_telemetry``), the masking of the session's
secrets (``_redact``), the error after an error result (``_exit.exit_over_result``) and
``continue_conversation`` from a store (``_mirror._continue_candidate``), each exercised where
the CLI runs on another "host" (a network namespace, over ``SSHTransport``; a Ray node) or the
store is a real PostgreSQL server. A test marked ``FINDING`` asserts the correct behaviour and
fails until the library is fixed.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import trio
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

import trio_claude as tc
from tests._postgres import PostgresServer
from tests._postgres import server_for_tests as postgres_for_tests
from tests._ray import NetnsRayCluster
from trio_claude.testing import Turn
from trio_claude.testing.fake_cli import Exit, FakeScript, FakeTurn, Kill, Result

from .conftest import PATIENCE, RemoteEnv
from .test_ray_transport import RayEnv, clis_on, open_ray_env
from .test_ssh_transport import cmdline, environ, remote_clis

_prefixes = itertools.count()

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
OLD_SPAN = 0x00F067AA0BA902B7
NEW_SPAN = 0x53995C3F42CD8AD8


def traceparent(span_id: int) -> str:
    return f"00-{TRACE_ID:032x}-{span_id:016x}-01"


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    yield from postgres_for_tests()


@pytest.fixture
async def ray_env(ray_cluster: NetnsRayCluster, tmp_path: Path) -> AsyncIterator[RayEnv]:
    async with open_ray_env(ray_cluster, tmp_path) as env:
        yield env


def active_span(span_id: int, state: str = "") -> Any:
    """``trace.use_span`` of a span of the application's own (not recording: no SDK needed)."""
    context = SpanContext(
        trace_id=TRACE_ID,
        span_id=span_id,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState.from_header([state]) if state else TraceState(),
    )
    return trace.use_span(NonRecordingSpan(context), end_on_exit=False)


#: Values a propagator of the application's may write: shell syntax, quotes, a newline, non-ASCII.
ODD = "k=v $(touch /tmp/sitting19-pwned) `id` 'q' \"dq\" \\ ;|&<> é☃\tTAB\nNL"


#: What the odd propagator writes: odd but valid entries, and two no environment holds.
ODD_ENTRIES = {
    "traceparent": traceparent(NEW_SPAN),
    "tracestate": ODD,
    "x-odd-baggage": "a b=c,d%20e",
    "bad=key": "dropped",
    "nul": "drop\0ped",
}


class OddPropagator(TextMapPropagator):
    """A propagator writing odd but valid environment entries, and two no environment holds."""

    def extract(
        self,
        carrier: CarrierT,
        context: otel_context.Context | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> otel_context.Context:
        return context if context is not None else otel_context.get_current()

    def __init__(self, entries: Mapping[str, str] | None = None) -> None:
        self.entries = dict(ODD_ENTRIES if entries is None else entries)

    def inject(
        self,
        carrier: CarrierT,
        context: otel_context.Context | None = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        for key, value in self.entries.items():
            setter.set(carrier, key, value)

    @property
    def fields(self) -> set[str]:
        return set(self.entries)


class OddPropagation:
    """The global propagator is an :class:`OddPropagator` inside."""

    def __init__(self, entries: Mapping[str, str] | None = None) -> None:
        self.propagator = OddPropagator(entries)

    def __enter__(self) -> None:
        self.saved = propagate.get_global_textmap()
        propagate.set_global_textmap(self.propagator)

    def __exit__(self, *exc: object) -> None:
        propagate.set_global_textmap(self.saved)


def on_no_command_line(*values: str) -> list[str]:
    """Command lines of live processes holding one of ``values`` (should be none)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            line = b"\0".join(cmdline(int(name)))
            for value in values:
                if value.encode() in line:
                    found.append(line[:200].decode(errors="replace"))
    return found


def trace_vars(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(("TRACE", "X-ODD"))}


# ------------------------------------------------------------------ 1. trace context over SSH


async def test_ssh_ambient_trace_context_with_odd_values_reaches_the_remote_cli_env_only(
    remote: RemoteEnv,
) -> None:
    server = remote.server
    options = remote.options([Turn("hello")])
    with OddPropagation():
        async with tc.open_session(options) as session:
            [cli] = remote_clis(server)
            got = trace_vars(environ(cli))
            leaked = on_no_command_line(traceparent(NEW_SPAN), "sitting19-pwned", "d%20e")
            assert (await session.run("hi")).text == "hello"
    assert got == {
        "TRACEPARENT": traceparent(NEW_SPAN),
        "TRACESTATE": ODD,
        "X-ODD-BAGGAGE": "a b=c,d%20e",
    }
    assert leaked == []
    assert not os.path.exists("/tmp/sitting19-pwned")  # noqa: ASYNC240  (a check, not I/O of note)


async def test_ssh_telemetry_false_passes_no_trace_context(remote: RemoteEnv) -> None:
    options = remote.options([Turn("hello")], telemetry=False)
    with active_span(NEW_SPAN, "vendor=abc"):
        async with tc.open_session(options) as session:
            [cli] = remote_clis(remote.server)
            got = trace_vars(environ(cli))
            assert (await session.run("hi")).text == "hello"
    assert got == {}


async def test_ssh_ambient_context_keeping_the_inherited_tracestate_forwards_it(
    remote: RemoteEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FINDING: a TRACESTATE the new parent keeps (equal to the inherited one) is not sent over SSH
    # The process was started inside a trace (TRACEPARENT/TRACESTATE inherited) and the
    # application continues it with a span of its own: the carrier is a new TRACEPARENT with the
    # same TRACESTATE. A local CLI gets both; SSHTransport.remote_env sends only what differs
    # from this process's environment, so the remote CLI gets a new parent without its state.
    monkeypatch.setenv("TRACEPARENT", traceparent(OLD_SPAN))
    monkeypatch.setenv("TRACESTATE", "vendor=abc")
    options = remote.options([Turn("hello")])
    with active_span(NEW_SPAN, "vendor=abc"):
        async with tc.open_session(options) as session:
            [cli] = remote_clis(remote.server)
            got = trace_vars(environ(cli))
            assert (await session.run("hi")).text == "hello"
    assert got == {"TRACEPARENT": traceparent(NEW_SPAN), "TRACESTATE": "vendor=abc"}


async def test_ssh_explicit_traceparent_equal_to_the_inherited_one_reaches_the_remote_cli(
    remote: RemoteEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FINDING: an options.env entry equal to this process's value is not sent over SSH at all
    # options.env always wins over the ambient context (documented); here it names the trace
    # this process inherited, and the remote CLI gets no TRACEPARENT at all (nor would any
    # other options.env entry that happens to equal the local value).
    monkeypatch.setenv("TRACEPARENT", traceparent(OLD_SPAN))
    options = remote.options([Turn("hello")], env={"TRACEPARENT": traceparent(OLD_SPAN)})
    with active_span(NEW_SPAN):
        async with tc.open_session(options) as session:
            [cli] = remote_clis(remote.server)
            got = trace_vars(environ(cli))
            assert (await session.run("hi")).text == "hello"
    assert got == {"TRACEPARENT": traceparent(OLD_SPAN)}


async def test_ssh_a_trace_entry_no_environment_can_encode_is_dropped_not_fatal(
    remote: RemoteEnv,
) -> None:
    # FINDING: a lone surrogate in a propagator's value is kept, and the remote CLI never starts
    # env_carrier drops what "no environment can hold" (a NUL, a key with "="), but keeps a
    # value with a lone surrogate, which no environment can hold either (os.fsencode refuses
    # it): the supervisor's spawn fails on the remote host and the session does not open.
    entries = {"traceparent": traceparent(NEW_SPAN), "tracestate": "vendor=a\ud800b"}
    options = remote.options([Turn("hello")])
    with OddPropagation(entries), trio.fail_after(PATIENCE):
        async with tc.open_session(options) as session:
            [cli] = remote_clis(remote.server)
            got = trace_vars(environ(cli))
            assert (await session.run("hi")).text == "hello"
    assert got == {"TRACEPARENT": traceparent(NEW_SPAN)}


async def test_ssh_a_real_session_logs_and_reprs_show_no_secret(
    remote: RemoteEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = "gwkey-" + secrets.token_hex(12)
    password = "pw" + secrets.token_hex(10)
    url = f"http://proxyuser:{password}@{remote.server.host_address}:9/"
    # The model takes any key; the proxy is never used (NO_PROXY names the model's host).
    options = remote.options(
        [Turn("hello")], env={"ANTHROPIC_API_KEY": key, "HTTPS_PROXY": url, "HTTP_PROXY": url}
    )
    async with tc.open_session(options) as session:
        [cli] = remote_clis(remote.server)
        assert environ(cli)["ANTHROPIC_API_KEY"] == key  # the secret did travel
        turn = await session.run("hi")
        texts = [repr(session), repr(options), repr(options.transport), repr(turn)]
    assert turn.text == "hello"
    texts += [caplog.text, session.stderr_tail]
    assert [t for t in texts if key in t or password in t] == []


# ------------------------------------------------- 2. a remote fake CLI: exits and secrets


def remote_fake_cli(directory: Path, script: FakeScript) -> str:
    """A ``remote_cli`` running the fake CLI with ``script`` (the namespace shares our files)."""
    import sys

    name = uuid.uuid4().hex[:8]
    script_path = directory / f"fake-{name}.json"
    script_path.write_bytes(script.to_json())
    wrapper = directory / f"fake-cli-{name}"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec {sys.executable} -m trio_claude.testing.fake_cli --script {script_path} -- "
        '"$@"\n'
    )
    wrapper.chmod(0o755)
    return str(wrapper)


MAX_TURNS = Result(
    subtype="error_max_turns",
    is_error=True,
    extra={"errors": ["Reached maximum number of turns (1)"], "terminal_reason": "max_turns"},
)


def fake_options(remote: RemoteEnv, tmp_path: Path, script: FakeScript, **kw: Any) -> Any:
    cli = remote_fake_cli(tmp_path, script)
    return remote.options([Turn("unused")], transport=remote.server.transport(remote_cli=cli), **kw)


async def query_error(options: tc.ClaudeAgentOptions) -> BaseException:
    with trio.fail_after(PATIENCE):
        try:
            async for _ in tc.query(prompt="go", options=options):
                pass
        except AssertionError:
            raise
        except Exception as exc:
            return exc
    raise AssertionError("query() ended without an error")


async def session_error(options: tc.ClaudeAgentOptions) -> BaseException:
    """The session form: the turn's error result is its ``ResultError``; then, once the CLI's
    output ended (``receive_messages()`` ends, silently for an exit 1 over the error result,
    as locally), what the next call raises: the error the CLI's end means."""
    with trio.fail_after(PATIENCE):
        async with tc.open_session(options) as session:
            with pytest.raises(tc.ResultError) as turn:
                await session.run("go")
            assert turn.value.subtype == "error_max_turns"
            try:
                async for message in session.receive_messages():
                    raise AssertionError(f"a message after the result: {message}")
                await session.run("again")
            except AssertionError:
                raise
            except Exception as exc:
                return exc
    raise AssertionError("the session ended without an error")


@pytest.mark.parametrize("form", ["query", "session"])
async def test_ssh_error_result_then_exit_1_is_a_result_error(
    remote: RemoteEnv, tmp_path: Path, form: str
) -> None:
    options = fake_options(remote, tmp_path, FakeScript(turns=[FakeTurn((MAX_TURNS, Exit(1)))]))
    error = await query_error(options) if form == "query" else await session_error(options)
    assert isinstance(error, tc.ResultError), repr(error)
    assert error.subtype == "error_max_turns"
    assert error.exit_code == 1
    assert isinstance(error.__cause__, tc.ProcessError)


@pytest.mark.parametrize("form", ["query", "session"])
async def test_ssh_error_result_then_a_remote_kill_is_the_kills_process_error(
    remote: RemoteEnv, tmp_path: Path, form: str
) -> None:
    # FINDING: a remote SIGKILL after an error result arrives as exit 137 and becomes a ResultError
    # Locally the kill is exit -9 and exit_over_result leaves it the kill's ProcessError; over
    # SSH the supervisor reports 128 + 9 (ssh passes it on), which exit_over_result takes for
    # an ordinary non-zero exit over the error result.
    script = FakeScript(turns=[FakeTurn((MAX_TURNS, Kill()))])
    options = fake_options(remote, tmp_path, script)
    error = await query_error(options) if form == "query" else await session_error(options)
    assert isinstance(error, tc.ProcessError), repr(error)
    assert not isinstance(error, tc.ResultError), repr(error)
    assert error.exit_code in (137, -9)


def shown(error: BaseException, caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error)), caplog.text]
    if isinstance(error, tc.ProcessError):
        texts.append(error.stderr or "")
    return texts


@pytest.mark.parametrize("form", ["query", "session"])
async def test_ssh_remote_stderr_echoing_the_key_and_url_password_is_masked(
    remote: RemoteEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture, form: str
) -> None:
    caplog.set_level(logging.DEBUG)
    key = "gwkey-" + secrets.token_hex(12)
    password = "pw" + secrets.token_hex(10)
    url = f"http://proxyuser:{password}@{remote.server.host_address}:9/"
    echo = f"invalid x-api-key {key} via {url}\nsecond line {key}"
    script = FakeScript(turns=[FakeTurn((Exit(1, stderr=echo),))])
    options = fake_options(
        remote, tmp_path, script, env={"ANTHROPIC_API_KEY": key, "HTTPS_PROXY": url}
    )
    if form == "query":
        error = await query_error(options)
    else:
        with trio.fail_after(PATIENCE):
            try:
                async with tc.open_session(options) as session:
                    await session.run("go")
            except tc.ProcessError as exc:
                error = exc
            else:
                raise AssertionError("no error")
        assert key not in session.stderr_tail and password not in session.stderr_tail
    assert isinstance(error, tc.ProcessError)
    assert "invalid x-api-key" in (error.stderr or "")  # the stderr did arrive, masked
    leaks = [t for t in shown(error, caplog) if key in t or password in t]
    assert leaks == []


async def test_ssh_connect_failure_and_missing_remote_cli_show_no_secret(
    remote: RemoteEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = "gwkey-" + secrets.token_hex(12)
    password = "pw" + secrets.token_hex(10)
    env = {
        "ANTHROPIC_API_KEY": key,
        "ANTHROPIC_BASE_URL": f"http://u:{password}@{remote.server.host_address}:9/",
    }
    refused = remote.options([Turn("unused")], env=env, transport=remote.server.transport(port=1))
    missing = remote.options(
        [Turn("unused")],
        env=env,
        transport=remote.server.transport(remote_cli="/nonexistent/claude"),
    )
    errors = []
    for options in (refused, missing):
        with trio.fail_after(PATIENCE), pytest.raises(tc.ProcessError) as info:
            async with tc.open_session(options):
                pass
        errors.append(info.value)
        assert key not in repr(options) and password not in repr(options)
        assert key not in repr(options.transport)
    assert errors[0].exit_code == 255 and "refused" in (errors[0].stderr or "")
    assert errors[1].exit_code == 127
    leaks = [t for error in errors for t in shown(error, caplog) if key in t or password in t]
    assert leaks == []


# ------------------------------------------------------- 3. continue from PostgreSQL over SSH


async def test_ssh_continue_from_postgres_picks_the_newest_resumable_session(
    remote: RemoteEnv, pg: PostgresServer
) -> None:
    import psycopg

    prefix = f"s19_{next(_prefixes)}_{uuid.uuid4().hex[:8]}"
    async with tc.PostgresSessionStore(pg.dsn, table_prefix=prefix) as store:
        ids = []
        for word in ("alpha", "bravo"):
            options = remote.options([Turn(f"noted {word}")], session_store=store)
            async with tc.open_session(options) as session:
                assert (await session.run(f"remember {word}")).text == f"noted {word}"
                assert session.session_id is not None
                ids.append(session.session_id)
        older, newer = ids
        project_key = tc.project_key_for_directory(remote.env.project)

        def key(session_id: str) -> tc.SessionKey:
            return {"project_key": project_key, "session_id": session_id}

        main = await store.load(key(newer))
        assert main is not None
        # Newer than both, none resumable: a subagent's transcript mirrored as a top-level
        # key, an id that is no UUID, and a session whose entries are gone.
        sidechain = str(uuid.uuid4())
        side = [{**e, "isSidechain": True, "sessionId": sidechain} for e in main]
        await store.append(key(sidechain), side)
        await store.append(key("not-a-uuid"), main)
        emptied = str(uuid.uuid4())
        await store.append(key(emptied), main)

        def empty_it() -> None:
            with psycopg.connect(pg.dsn, autocommit=True) as conn:
                conn.execute(
                    f"DELETE FROM {prefix}_entries WHERE key_id IN "
                    f"(SELECT id FROM {prefix}_keys WHERE session_id = %s)",
                    (emptied,),
                )

        await trio.to_thread.run_sync(empty_it)
        listed = {e["session_id"]: e["mtime"] for e in await store.list_sessions(project_key)}
        assert min(listed[s] for s in (sidechain, "not-a-uuid", emptied)) > listed[newer]
        assert listed[newer] > listed[older]

        options = remote.options(
            [Turn("you said bravo")], session_store=store, continue_conversation=True, name="c"
        )
        async with tc.open_session(options) as session:
            assert (await session.run("what did I say?")).text == "you said bravo"
            resumed = session.session_id
        [request] = remote.model.turn_requests("c")
        sent = json.dumps(request.body["messages"])
    assert "remember bravo" in sent and "remember alpha" not in sent
    assert resumed == newer


# --------------------------------------------------------------------------------- 4. Ray


async def test_ray_ambient_trace_context_with_odd_values_reaches_the_node_cli_env_only(
    ray_env: RayEnv,
) -> None:
    options = ray_env.options([Turn("hello")])
    with OddPropagation():
        async with tc.open_session(options) as session:
            node = ray_env.node_of(session.pid)
            [cli] = clis_on(node)
            got = trace_vars(environ(cli))
            leaked = on_no_command_line(traceparent(NEW_SPAN), "sitting19-pwned", "d%20e")
            assert (await session.run("hi")).text == "hello"
    assert got == {
        "TRACEPARENT": traceparent(NEW_SPAN),
        "TRACESTATE": ODD,
        "X-ODD-BAGGAGE": "a b=c,d%20e",
    }
    assert leaked == []


@pytest.mark.parametrize("end", ["exit", "kill"])
async def test_ray_error_result_then_an_exit_or_a_kill(
    ray_env: RayEnv, tmp_path: Path, end: str
) -> None:
    # FINDING: (kill) a SIGKILL after an error result on a Ray node becomes a ResultError
    # The node's supervisor reports the kill as 128 + 9, as over SSH (see the SSH probe).
    last: Any = Exit(1) if end == "exit" else Kill()
    cli = remote_fake_cli(tmp_path, FakeScript(turns=[FakeTurn((MAX_TURNS, last))]))
    options = ray_env.options([Turn("unused")], transport=tc.RayTransport(remote_cli=cli))
    error = await session_error(options)  # (the iterator form of query() cannot run Ray)
    if end == "exit":
        assert isinstance(error, tc.ResultError), repr(error)
        assert error.exit_code == 1
    else:
        assert isinstance(error, tc.ProcessError), repr(error)
        assert not isinstance(error, tc.ResultError), repr(error)


async def test_ray_ambient_context_keeping_the_inherited_tracestate_forwards_it(
    ray_env: RayEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FINDING: a TRACESTATE equal to the inherited one is not sent to the Ray node's CLI
    # As over SSH: RayTransport.remote_env sends only what differs from this process's
    # environment, so the node's CLI gets the new parent without its state.
    monkeypatch.setenv("TRACEPARENT", traceparent(OLD_SPAN))
    monkeypatch.setenv("TRACESTATE", "vendor=abc")
    options = ray_env.options([Turn("hello")])
    with active_span(NEW_SPAN, "vendor=abc"):
        async with tc.open_session(options) as session:
            [cli] = clis_on(ray_env.node_of(session.pid))
            got = trace_vars(environ(cli))
            assert (await session.run("hi")).text == "hello"
    assert got == {"TRACEPARENT": traceparent(NEW_SPAN), "TRACESTATE": "vendor=abc"}


async def test_ray_node_stderr_echoing_the_key_and_url_password_is_masked(
    ray_env: RayEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = "gwkey-" + secrets.token_hex(12)
    password = "pw" + secrets.token_hex(10)
    url = f"http://proxyuser:{password}@{ray_env.cluster.head_address}:9/"
    echo = f"invalid x-api-key {key} via {url}\nsecond line {key}"
    cli = remote_fake_cli(tmp_path, FakeScript(turns=[FakeTurn((Exit(1, stderr=echo),))]))
    transport = tc.RayTransport(remote_cli=cli)
    options = ray_env.options(
        [Turn("unused")], transport=transport, env={"ANTHROPIC_API_KEY": key, "HTTPS_PROXY": url}
    )
    with trio.fail_after(PATIENCE):
        try:
            async with tc.open_session(options) as session:
                await session.run("go")
        except tc.ProcessError as exc:
            error = exc
        else:
            raise AssertionError("no error")
    assert "invalid x-api-key" in (error.stderr or "")  # the stderr did arrive, masked
    texts = [*shown(error, caplog), session.stderr_tail, repr(options), repr(transport)]
    assert [t for t in texts if key in t or password in t] == []
