"""RayTransport without Ray: the relay actor as a plain object, the transport over a fake ``ray``.

``_ray_actor.Relay`` is an ordinary class (Ray only wraps it), so its supervisor, batching,
acknowledgements, backpressure and tear-down are tested here directly, with real processes. The
transport's side (the pump, the three trio streams, loss detection, the placement retries) runs
against :class:`FakeRay`: a stand-in for the few ``ray`` calls it makes, whose actor handles run
``Relay`` methods in threads, and which can make an actor die or go silent. The real thing, on a
three-node cluster in network namespaces, is ``tests/cluster/test_ray_transport.py``.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude._transport import _ray as R
from trio_claude._transport import _ray_actor as A
from trio_claude._transport._ssh_remote import BOOTSTRAP, encode_preamble, find_tagged
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Flood,
    Hang,
    Request,
    Result,
    Text,
)

# ----------------------------------------------------------------------------------- the relay


def launch(argv: list[str], env: dict[str, str] | None = None, files: Any = None) -> dict[str, Any]:
    code = R._supervisor_code()
    return {
        "supervisor": code,
        "bootstrap": BOOTSTRAP.format(size=len(code)),
        "python": sys.executable,
        "preamble": encode_preamble(argv, env or {}, None, 0.5),
        "files": files,
    }


def poll_until(relay: A.Relay, acks: list[int], want: bytes, timeout: float = 30) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while want not in got and time.monotonic() < deadline:
        at, out, _, _, _, _, _ = relay.poll(acks[0], 0, 1 << 20, 0.5)
        assert at == acks[0]
        got += out
        acks[0] += len(out)
    return got


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_the_relay_runs_the_cli_under_the_supervisor_and_relays_both_ways() -> None:
    relay = A.Relay()
    info = relay.start(launch(["cat"]))
    assert info["pid"] > 0 and info["hostname"]
    assert relay.write(0, b"hello\n") == 6
    assert relay.write(0, b"hello\n") == 6  # a retried write is not written twice
    assert relay.write(3, b"lo\nworld\n") == 12  # nor is its overlap
    acks = [0]
    assert poll_until(relay, acks, b"world\n") == b"hello\nworld\n"
    # Acknowledged bytes are dropped; unacknowledged ones are answered again.
    assert relay.poll(acks[0], 0, 100, 0.0)[:2] == (12, b"")
    relay.close_stdin()
    deadline = time.monotonic() + 30

    def ended(state: tuple[Any, ...]) -> bool:
        # The exit status may be seen before the end of stdout is read: wait for all three.
        return state[6] is not None and state[2] and state[5]

    while not ended(relay.poll(acks[0], 0, 100, 0.2)) and time.monotonic() < deadline:
        pass
    _, out, out_ended, _, err, err_ended, code = relay.poll(acks[0], 0, 100, 0.0)
    assert (out, out_ended, err, err_ended, code) == (b"", True, b"", True, 0)
    with pytest.raises(ValueError, match="gap"):
        relay.write(99, b"x")


def test_a_poll_returns_at_once_with_news_and_waits_without() -> None:
    relay = A.Relay()
    relay.start(launch(["cat"]))
    started = time.monotonic()
    assert relay.poll(0, 0, 100, 0.3)[1] == b""
    assert time.monotonic() - started >= 0.25  # nothing new: the whole wait
    relay.write(0, b"x\n")
    started = time.monotonic()
    assert relay.poll(0, 0, 100, 60)[1] == b"x\n"
    assert time.monotonic() - started < 30  # news: well before the 60 s wait was up
    relay.shutdown()


def test_the_relay_stops_reading_past_its_high_water_mark() -> None:
    relay = A.Relay(high_water=64 * 1024)
    relay.start(launch([sys.executable, "-c", "import os; os.write(1, b'x' * 4_000_000)"]))
    # Until the buffer reaches the mark (the writer may take a while to start), then a moment
    # more for a reader that would not stop there to read past it.
    deadline = time.monotonic() + 30
    out = b""
    while len(out) < 64 * 1024 and time.monotonic() < deadline:
        _, out, ended, *_ = relay.poll(0, 0, 1 << 30, 0.2)
    time.sleep(0.5)
    _, out, ended, *_ = relay.poll(0, 0, 1 << 30, 0.0)
    assert 64 * 1024 <= len(out) < 64 * 1024 + A._READ_SIZE and not ended  # the writer is blocked
    total, acked = len(out), len(out)
    while not ended:
        _, out, ended, *_ = relay.poll(acked, 0, 1 << 30, 1.0)
        total = acked + len(out)
        acked = total
    assert total == 4_000_000
    relay.shutdown()


def test_shutdown_kills_the_cli_and_sweeps_its_tools() -> None:
    relay = A.Relay()
    # A "tool": a process of its own session that ignores SIGTERM, carrying the CLI's tag.
    script = (
        "import subprocess, time; subprocess.Popen(['setsid', 'sleep', '31.71']); time.sleep(60)"
    )
    info = relay.start(launch([sys.executable, "-c", script]))
    deadline = time.monotonic() + 30  # two interpreters start: a loaded machine is slow
    while not relay.status()["tags"] and time.monotonic() < deadline:
        time.sleep(0.02)
    [tag] = relay.status()["tags"]
    while len(find_tagged(tag)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    tagged = find_tagged(tag)
    assert len(tagged) == 2  # the CLI and its tool
    relay.shutdown()
    assert gone(info["pid"])  # reaped
    deadline = time.monotonic() + 30  # SIGKILLed: they die a moment later
    while not all(gone(pid) for pid in tagged) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(gone(pid) for pid in tagged)


def test_sigterm_lets_the_supervisor_stop_the_cli_with_a_grace() -> None:
    relay = A.Relay()
    info = relay.start(launch(["sleep", "31.72"]))
    # The supervisor handles SIGTERM once it has started the CLI (it installs its handlers
    # first); sent earlier, the signal would kill the interpreter still starting.
    deadline = time.monotonic() + 30
    while not A._children(info["pid"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    relay.signal(signal.SIGTERM)
    while relay.status()["code"] is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert relay.status()["code"] == 128 + signal.SIGTERM
    assert gone(info["pid"])


def test_shipped_files_are_written_where_missing_and_removed_at_the_end(tmp_path: Path) -> None:
    root = tmp_path / "claude-resume-abc"
    files = {"root": str(root), "files": {"projects/p/s.jsonl": b"{}\n", ".claude.json": b"{}"}}
    relay = A.Relay()
    relay.start(launch(["cat", str(root / "projects" / "p" / "s.jsonl")], files=files))
    acks = [0]
    assert poll_until(relay, acks, b"{}\n") == b"{}\n"
    assert (root / ".claude.json").read_bytes() == b"{}"
    assert oct(root.stat().st_mode & 0o777) == "0o700"
    deadline = time.monotonic() + 30
    while relay.status()["code"] is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not root.exists()
    # A directory that is there already (a shared filesystem) is used as it is, and kept.
    root.mkdir()
    relay = A.Relay()
    relay.start(launch(["true"], files=files))
    relay.shutdown()
    assert root.exists() and not (root / ".claude.json").exists()


def test_resume_files_ship_only_a_resume_directory(tmp_path: Path) -> None:
    resume = tmp_path / "claude-resume-x1"
    (resume / "projects").mkdir(parents=True)
    (resume / "projects" / "a.jsonl").write_text("line\n")
    assert R._resume_files({"CLAUDE_CONFIG_DIR": str(resume)}) == {
        "root": str(resume),
        "files": {"projects/a.jsonl": b"line\n"},
    }
    assert R._resume_files({"CLAUDE_CONFIG_DIR": str(tmp_path)}) is None
    assert R._resume_files({}) is None


# ---------------------------------------------------------------------------- configuration


def test_import_trio_claude_does_not_import_ray() -> None:
    code = (
        "import sys, trio_claude; assert 'ray' not in sys.modules; print(trio_claude.RayTransport)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_without_ray_the_transport_names_the_extra() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["ray"] = None  # as if it were not installed
        import trio_claude as tc
        try:
            tc.RayTransport()
        except tc.ConfigurationError as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert "pip install 'trio-claude[ray]'" in out.stdout


@pytest.fixture
def ray_present(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "ray_available", lambda: True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resources": {"claude_slots": -1}},
        {"num_cpus": float("nan")},
        {"placement_timeout": 0},
        {"placement_retries": -1},
        {"poll_interval": 0},
        {"heartbeat_timeout": 0},
        {"kill_grace": -1},
        {"batch_bytes": 10},
        {"forward_env": "ANTHROPIC_*"},
    ],
)
def test_bad_settings_are_configuration_errors(ray_present: None, kwargs: dict[str, Any]) -> None:
    with pytest.raises(tc.ConfigurationError):
        tc.RayTransport(**kwargs)


def test_the_environment_sent_is_what_the_session_changed(ray_present: None) -> None:
    transport = tc.RayTransport()
    local = {"PATH": "/bin", "HOME": "/root", "ANTHROPIC_API_KEY": "k", "OTHER": "x"}
    env = {**local, "HOME": "/tmp/h", "NEW": "1", "TRIO_CLAUDE_PROCESS_TAG": "t"}
    spec = tc.LaunchSpec(argv=["claude"], env=env, own_env=frozenset({"OTHER"}))
    assert transport.remote_env(spec, local) == {
        "HOME": "/tmp/h",
        "NEW": "1",
        "ANTHROPIC_API_KEY": "k",
        "OTHER": "x",  # set by the session, with the value this process has too
    }
    options = transport.options_for_actor()
    assert options["resources"] == {"claude_slots": 1} and options["num_cpus"] == 0
    assert options["max_restarts"] == 0


async def test_options_user_and_resource_limits_are_refused(ray_present: None) -> None:
    assert tc.RayTransport.supports_resource_limits is False
    spec = tc.LaunchSpec(argv=["claude"], env={}, user="nobody")
    async with trio.open_nursery() as nursery:
        with pytest.raises(tc.ConfigurationError, match=r"options\.user"):
            await tc.RayTransport().start(spec, nursery)


# ------------------------------------------------------------------------------- a fake ray


class FakeRay:
    """What ``RayTransport`` calls of ``ray``; actors are :class:`A.Relay` objects in threads."""

    class exceptions:
        class RayError(Exception):
            pass

        class RayActorError(RayError):
            pass

        class ActorDiedError(RayActorError):
            pass

        class ActorUnavailableError(RayActorError):
            pass

        class RayTaskError(RayError):
            pass

    def __init__(self) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(32)
        self.actors: list[FakeActor] = []
        #: Actors created from now on die before they start, this many times.
        self.die_at_start = 0
        #: How many live actors the "cluster" can hold at once (their slots); None: any.
        self.capacity: int | None = None
        #: The most actors ever placed (holding a slot) at once.
        self.most_placed = 0
        self.lock = threading.Lock()

    def placed(self) -> int:
        return sum(1 for actor in self.actors if actor.placed and not actor.dead)

    def place(self, actor: FakeActor) -> bool:
        """Gives ``actor`` a slot if one is free (as Ray's scheduler would)."""
        with self.lock:
            if actor.dead:
                return False
            if not actor.placed and (self.capacity is None or self.placed() < self.capacity):
                actor.placed = True
                self.most_placed = max(self.most_placed, self.placed())
            return actor.placed

    def wait(self, refs: list[Any], timeout: float) -> tuple[list[Any], list[Any]]:
        concurrent.futures.wait([r for r in refs], timeout=timeout)
        done = [r for r in refs if r.done()]
        return done, [r for r in refs if not r.done()]

    def get(self, ref: Any) -> Any:
        return ref.result()

    def kill(self, actor: FakeActor, no_restart: bool = True) -> None:
        actor.die()


class FakeActor:
    def __init__(self, ray: FakeRay) -> None:
        self.ray = ray
        self.relay = A.Relay()
        self.dead = False
        self.silent = False
        self.hold: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.placed = False
        if ray.die_at_start:
            ray.die_at_start -= 1
            self.dead = True

    def die(self) -> None:
        if not self.dead:
            self.dead = True
            self.relay.shutdown()  # the worker's death: the supervisor's pdeathsig, at once

    def __getattr__(self, name: str) -> Any:
        actor = self

        class Method:
            @staticmethod
            def remote(*args: Any) -> concurrent.futures.Future[Any]:
                if actor.silent:
                    return actor.hold  # never answers
                return actor.ray.pool.submit(actor.call, name, args)

        return Method

    def call(self, name: str, args: tuple[Any, ...]) -> Any:
        errors = self.ray.exceptions
        while not self.ray.place(self) and not self.dead:
            time.sleep(0.01)  # pending: no slot free
        if self.dead:
            raise errors.ActorDiedError("The actor died unexpectedly before finishing this task.")
        try:
            result = getattr(self.relay, name)(*args)
        except Exception as exc:
            raise errors.RayTaskError(f"{name}: {exc!r}") from exc
        if self.dead:  # it died during the call: the caller gets the death, not the answer
            raise errors.ActorDiedError("The actor died unexpectedly before finishing this task.")
        return result


class FakeRelayClass:
    def __init__(self, ray: FakeRay) -> None:
        self.ray = ray

    def options(self, **options: Any) -> Any:
        ray = self.ray

        class Remote:
            @staticmethod
            def remote() -> FakeActor:
                actor = FakeActor(ray)
                ray.actors.append(actor)
                return actor

        return Remote


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch, ray_present: None) -> Any:
    ray = FakeRay()
    monkeypatch.setattr(R, "_load_ray", lambda address, kwargs: (ray, FakeRelayClass(ray)))
    yield ray
    for actor in ray.actors:
        actor.die()
    ray.pool.shutdown(wait=False, cancel_futures=True)


class FakeCLIOnRay(tc.RayTransport):
    """The fake CLI as the relay's "CLI" (its command line, in place of ``claude``'s)."""

    def __init__(self, script: FakeScript, directory: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fake = FakeCLIProcessTransport(script, directory)

    def launch(self, spec: tc.LaunchSpec) -> dict[str, Any]:
        import attrs

        return super().launch(attrs.evolve(spec, argv=self.fake.command(spec)))


def options_for(transport: tc.RayTransport, **kwargs: Any) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(transport=transport, cli_path="claude", **kwargs)


async def test_a_session_with_a_callback_over_the_relay(fake_ray: FakeRay, tmp_path: Path) -> None:
    asked = []

    async def policy(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append(name)
        return tc.PermissionResultAllow()

    script = FakeScript(
        turns=[
            FakeTurn(
                steps=[
                    Request("can_use_tool", {"tool_name": "Bash", "input": {"command": "ls"}}),
                    Text("hello over the relay"),
                    Result(text="hello over the relay"),
                ]
            )
        ]
    )
    transport = FakeCLIOnRay(script, tmp_path)
    async with tc.open_session(options_for(transport, can_use_tool=policy)) as session:
        assert session.pid is not None
        turn = await session.run("hi")
    assert asked == ["Bash"]
    assert turn.text == "hello over the relay"
    assert session.returncode == 0
    # The CLI exited cleanly: the actor is kept idle for the next session, until aclose().
    assert transport.idle_actors == 1 and not fake_ray.actors[0].dead
    await transport.aclose()
    assert all(actor.dead for actor in fake_ray.actors)


async def test_every_message_of_a_flood_arrives_in_order(fake_ray: FakeRay, tmp_path: Path) -> None:
    frame = {
        "type": "stream_event",
        "event": {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x"}},
        "session_id": "s",
        "uuid": "u",
    }
    script = FakeScript(turns=[FakeTurn(steps=[Flood(frame, 20000), Result(text="done")])])
    transport = FakeCLIOnRay(script, tmp_path, batch_bytes=64 * 1024)
    async with tc.open_session(options_for(transport)) as session:
        await session.send("go")
        count = 0
        async for message in session.receive_response():
            count += isinstance(message, tc.StreamEvent)
            last = message
        proc = session._proc
    assert isinstance(last, tc.ResultMessage)
    assert count == 20000
    assert isinstance(proc, R.RayProcess)
    assert proc.polls < 20000 / 10  # in batches


async def test_an_actor_that_dies_mid_turn_ends_the_session_typed(
    fake_ray: FakeRay, tmp_path: Path
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("working"), Hang()])])
    transport = FakeCLIOnRay(script, tmp_path, heartbeat_timeout=1.0, poll_interval=0.2)
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options_for(transport)) as session:
            await session.send("go")
            supervisor = session.pid
            assert supervisor is not None
            fake_ray.actors[0].die()
            killed = trio.current_time()
            with trio.fail_after(10):
                await session.collect_response()
    assert trio.current_time() - killed < 5
    assert info.value.exit_code == R.LOST_EXIT_STATUS
    assert "trio-claude ray: lost the CLI's node" in info.value.stderr
    assert "the actor died" in info.value.stderr
    assert supervisor is not None and gone(supervisor)


async def test_a_silent_actor_is_given_up_after_the_heartbeat(
    fake_ray: FakeRay, tmp_path: Path
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Hang()])])
    transport = FakeCLIOnRay(script, tmp_path, heartbeat_timeout=0.5, poll_interval=0.2)
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options_for(transport)) as session:
            await session.send("go")
            fake_ray.actors[0].silent = True  # the network is gone: no answer, no error
            silent = trio.current_time()
            with trio.fail_after(10):
                await session.collect_response()
    assert trio.current_time() - silent < 5
    assert "did not answer for 0.7 s" in info.value.stderr
    fake_ray.actors[0].hold.set_result(None)


async def test_an_actor_that_dies_before_it_starts_is_replaced(
    fake_ray: FakeRay, tmp_path: Path
) -> None:
    fake_ray.die_at_start = 2
    script = FakeScript(turns=[FakeTurn(steps=[Result(text="placed")])])
    transport = FakeCLIOnRay(script, tmp_path)
    async with tc.open_session(options_for(transport)) as session:
        assert (await session.run("hi")).text == "placed"
    assert len(fake_ray.actors) == 3
    fake_ray.die_at_start = 10
    with pytest.raises(tc.CLIConnectionError, match="died before it could start"):
        async with tc.open_session(
            options_for(FakeCLIOnRay(script, tmp_path, placement_retries=1))
        ):
            pass


async def test_closing_mid_turn_stops_the_cli_and_frees_the_actor(
    fake_ray: FakeRay, tmp_path: Path
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("busy"), Hang()])])
    transport = FakeCLIOnRay(script, tmp_path)
    options = options_for(transport, close_timeout=0.5, interrupt_timeout=0.5)
    async with tc.open_session(options) as session:
        await session.send("go")
        supervisor = session.pid
        assert supervisor is not None
    assert gone(supervisor)
    assert session.returncode is not None and session.returncode != R.LOST_EXIT_STATUS
    # Stopped by the session, then swept by its supervisor: the actor itself is sound (reused).
    assert transport.idle_actors == 1
    await transport.aclose()
    assert all(actor.dead for actor in fake_ray.actors)


def test_nothing_of_the_relay_imports_trio_claude_at_module_level() -> None:
    # The nodes get _ray_actor and _ssh_remote by value: they must need nothing else.
    for module in (A, sys.modules["trio_claude._transport._ssh_remote"]):
        source = Path(module.__file__ or "").read_text()
        imports = [
            line
            for line in source.splitlines()
            if line.startswith(("import ", "from ")) and "__future__" not in line
        ]
        for line in imports:
            assert "trio" not in line.replace("._ssh_remote", ""), line
    assert os.path.basename(A.__file__ or "") == "_ray_actor.py"


def test_the_example_without_ray_says_how_to_install_it() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "ray_transport.py"
    code = textwrap.dedent(
        f"""
        import runpy, sys
        sys.modules["ray"] = None  # as if it were not installed
        sys.argv = [{str(example)!r}]
        runpy.run_path({str(example)!r}, run_name="__main__")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "pip install 'trio-claude[ray]'" in out.stdout


# ------------------------------------------------------------------------------- actor reuse


def test_a_relay_is_reset_between_sessions_and_ignores_stale_calls() -> None:
    relay = A.Relay()
    first = relay.start(launch(["cat"]))
    assert first["epoch"] == 1
    assert relay.reset(1) is False  # still running: not reset
    relay.close_stdin(1)
    # The exit status and each stream's end are seen by different threads of the relay, in
    # any order: wait for all three.
    deadline = time.monotonic() + 30
    state = relay.poll(0, 0, 100, 0.2)
    while not (state[2] and state[5] and state[6] is not None) and time.monotonic() < deadline:
        state = relay.poll(0, 0, 100, 0.2, (state[2], state[5], state[6] is not None))
    assert state[2] and state[5] and state[6] is not None  # both streams and the process ended
    assert relay.reset(2) is False  # not this session's
    assert relay.reset(1) is True
    second = relay.start(launch(["cat"]))
    assert second["epoch"] == 2 and second["pid"] != first["pid"]
    # The first session's late calls change nothing.
    assert relay.write(0, b"stale\n", 1) == -1
    relay.close_stdin(1)
    relay.signal(signal.SIGKILL, 1)
    relay.shutdown(1)
    with pytest.raises(RuntimeError, match="session 1"):
        relay.poll(0, 0, 100, 0.0, (False, False, False), 1)
    assert relay.write(0, b"fresh\n", 2) == 6
    acks = [0]
    assert poll_until(relay, acks, b"fresh\n") == b"fresh\n"
    relay.shutdown(2)
    assert gone(second["pid"])


def ray_proc(session: tc.Session) -> R.RayProcess:
    proc = session._proc
    assert isinstance(proc, R.RayProcess)
    return proc


def done_script(text: str = "done") -> FakeScript:
    return FakeScript(turns=[FakeTurn(steps=[Result(text=text)])])


async def test_sessions_in_sequence_reuse_one_actor(fake_ray: FakeRay, tmp_path: Path) -> None:
    transport = FakeCLIOnRay(done_script(), tmp_path)
    procs = []
    for _ in range(3):
        async with tc.open_session(options_for(transport)) as session:
            assert (await session.run("hi")).text == "done"
            procs.append(ray_proc(session))
        assert session.returncode == 0
    assert len(fake_ray.actors) == 1 and not fake_ray.actors[0].dead
    assert [p.epoch for p in procs] == [1, 2, 3]
    assert len({p.pid for p in procs}) == 3  # a new supervisor and CLI each time
    assert all(p.actor is fake_ray.actors[0] for p in procs)
    assert (transport.actors_created, transport.actors_reused, transport.idle_actors) == (1, 2, 1)
    await transport.aclose()
    assert transport.idle_actors == 0 and fake_ray.actors[0].dead


async def test_without_reuse_every_session_has_its_own_actor(
    fake_ray: FakeRay, tmp_path: Path
) -> None:
    for kwargs in ({"reuse_actors": False}, {"max_idle_actors": 0}):
        fake_ray.actors.clear()
        transport = FakeCLIOnRay(done_script(), tmp_path, **kwargs)
        for _ in range(2):
            async with tc.open_session(options_for(transport)) as session:
                await session.run("hi")
        assert len(fake_ray.actors) == 2 and all(a.dead for a in fake_ray.actors)
        assert transport.idle_actors == 0


async def test_a_lost_or_failed_actor_is_never_reused(fake_ray: FakeRay, tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("working"), Hang()])])
    transport = FakeCLIOnRay(script, tmp_path, heartbeat_timeout=1.0, poll_interval=0.2)
    with pytest.raises(tc.ProcessError):
        async with tc.open_session(options_for(transport)) as session:
            await session.send("go")
            fake_ray.actors[0].die()
            with trio.fail_after(10):
                await session.collect_response()
    assert transport.idle_actors == 0
    # A silent one (the network gone) neither.
    with pytest.raises(tc.ProcessError):
        async with tc.open_session(options_for(transport)) as session:
            await session.send("go")
            assert ray_proc(session).actor is fake_ray.actors[1]  # a new actor, not the dead one
            fake_ray.actors[1].silent = True
            with trio.fail_after(10):
                await session.collect_response()
    fake_ray.actors[1].hold.set_result(None)
    assert transport.idle_actors == 0 and fake_ray.actors[1].dead
    # An idle actor that died meanwhile (its node lost) is dropped and another placed.
    clean = FakeCLIOnRay(done_script(), tmp_path)
    async with tc.open_session(options_for(clean)) as session:
        await session.run("hi")
    idle = fake_ray.actors[-1]
    assert clean.idle_actors == 1
    idle.die()
    async with tc.open_session(options_for(clean)) as session:
        assert (await session.run("hi")).text == "done"
        assert ray_proc(session).actor is not idle
    assert clean.actors_reused == 0 and clean.actors_created == 2
    await clean.aclose()


async def test_the_idle_pool_is_bounded(fake_ray: FakeRay, tmp_path: Path) -> None:
    transport = FakeCLIOnRay(done_script(), tmp_path, max_idle_actors=2)
    all_in = trio.Event()
    entered: list[int] = []

    async def one() -> None:
        async with tc.open_session(options_for(transport)) as session:
            await session.run("hi")
            entered.append(1)
            if len(entered) == 3:
                all_in.set()
            await all_in.wait()

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(one)
    assert len(fake_ray.actors) == 3
    assert transport.idle_actors == 2
    assert sum(actor.dead for actor in fake_ray.actors) == 1  # the third one: killed
    await transport.aclose()
    assert all(actor.dead for actor in fake_ray.actors)


async def test_an_idle_actor_keeps_its_slot_and_goes_to_a_waiting_session(
    fake_ray: FakeRay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_ray.capacity = 1  # one slot in the whole "cluster"
    transport = FakeCLIOnRay(done_script(), tmp_path)
    first_in = trio.Event()
    release_first = trio.Event()
    order: list[str] = []

    async def first() -> None:
        async with tc.open_session(options_for(transport)) as session:
            await session.run("hi")
            first_in.set()
            await release_first.wait()
        order.append("first closed")

    async def second() -> None:
        await first_in.wait()
        async with tc.open_session(options_for(transport)) as session:
            order.append("second in")
            assert (await session.run("hi")).text == "done"
            assert ray_proc(session).actor is fake_ray.actors[0]  # the first one's, reused

    async with trio.open_nursery() as nursery:
        nursery.start_soon(first)
        nursery.start_soon(second)
        await first_in.wait()
        with trio.fail_after(10):
            while len(fake_ray.actors) < 2:
                await trio.sleep(0.01)
        await trio.sleep(0.5)
        assert order == [] and not fake_ray.actors[1].placed  # waits: no slot free
        release_first.set()
    assert order == ["first closed", "second in"]
    # The second's own request was withdrawn, never placed; one slot held throughout.
    assert fake_ray.actors[1].dead and not fake_ray.actors[1].placed
    assert fake_ray.most_placed == 1
    assert fake_ray.placed() == 1 and transport.idle_actors == 1  # the idle actor holds it

    # Another transport's session, waiting for that slot, has the idle actor killed.
    monkeypatch.setattr(R, "_RECLAIM_AFTER", 0.2)
    other = FakeCLIOnRay(done_script("other"), tmp_path)
    with trio.fail_after(30):  # a hang guard: its supervisor and CLI start (two interpreters)
        async with tc.open_session(options_for(other)) as session:
            assert (await session.run("hi")).text == "other"
    assert transport.idle_actors == 0 and fake_ray.actors[0].dead
    assert fake_ray.most_placed == 1
    await other.aclose()
    assert fake_ray.placed() == 0


async def test_an_actor_is_reused_when_the_exit_status_came_before_the_pipes_end(
    fake_ray: FakeRay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session closes once it has the exit status, and cancels the pump: the pipes' EOF, not
    # fetched yet, is fetched while the actor is released, and the actor kept.
    call = FakeActor.call

    def late_eof(self: FakeActor, name: str, args: tuple[Any, ...]) -> Any:
        result = call(self, name, args)
        if name == "poll" and args[3] == 0.3:  # the pump's polls (poll_interval), not the drain's
            out_at, out, _, err_at, err, _, code = result
            return (out_at, out, False, err_at, err, False, code)
        return result

    monkeypatch.setattr(FakeActor, "call", late_eof)
    transport = FakeCLIOnRay(done_script(), tmp_path, poll_interval=0.3)
    for _ in range(2):
        with trio.fail_after(20):
            async with tc.open_session(options_for(transport)) as session:
                assert (await session.run("hi")).text == "done"
        assert session.returncode == 0
    assert len(fake_ray.actors) == 1 and transport.actors_reused == 1
    await transport.aclose()
