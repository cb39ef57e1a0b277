"""SSHTransport under network and remote faults, against a real sshd in a network namespace.

What the other cluster tests do not: the remote supervisor or CLI killed, the remote host frozen
(every process of the session stopped), a silent drop with the link up (a wrong neighbour entry:
no RST, no ICMP), a drop during authentication, a link blip shorter than ssh's keepalive window,
closing while the link is silent, a stalled remote CLI caught by ``stall_timeout``, and a
cancelled open to a black-holed host. Each checks that the session ends with a typed error
within a bound, that the local ``ssh`` is reaped, and that nothing is left on the remote side.

This kernel has ``tc`` with ``tbf`` only (no ``netem``, ``prio`` or filters) and no
``iptables``/``nft``: packets are dropped silently by a permanent neighbour entry with an
address nobody has, which the namespace's veth discards.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from tests._sshd import NetnsSSHServer
from trio_claude.testing import ToolUse, Turn

from .conftest import PATIENCE, RemoteEnv, open_remote_env, remote_processes_end


def cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return []


def remote_clis(server: NetnsSSHServer) -> list[int]:
    cli = tc.find_cli().encode()
    return [pid for pid in server.session_pids() if cmdline(pid)[:1] == [cli]]


def supervisors(server: NetnsSSHServer) -> list[int]:
    python = b"/usr/bin/python3"
    return [pid for pid in server.session_pids() if cmdline(pid)[:2] == [python, b"-c"]]


def reaped(pid: int | None) -> bool:
    """Whether a session's local ``ssh`` is gone (reaped: not even a zombie is left)."""
    assert pid is not None
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() != "ssh"
    except OSError:
        return True


async def running(server: NetnsSSHServer, command: str) -> None:
    words = command.encode().split()
    with trio.fail_after(PATIENCE):
        while not [pid for pid in server.session_pids() if cmdline(pid) == words]:
            await trio.sleep(0.05)


async def remote_side_gone(server: NetnsSSHServer) -> None:
    with trio.fail_after(PATIENCE):
        while remote_clis(server) or supervisors(server):
            await trio.sleep(0.1)


def sleeping_tool(remote: RemoteEnv, sleep: str, **kwargs: object) -> tc.ClaudeAgentOptions:
    return remote.options(
        [Turn([ToolUse("Bash", {"command": f"echo start && {sleep}"})]), Turn("survived")],
        allowed_tools=["Bash"],
        **kwargs,
    )


@contextmanager
def blackholed(server: NetnsSSHServer) -> Iterator[None]:
    """Every packet from us to the server is dropped silently, the link staying up."""
    neigh = ["ip", "neigh"]
    where = [server.address, "dev", server.host_veth]
    subprocess.run(
        [
            *neigh,
            "replace",
            server.address,
            "lladdr",
            "02:00:00:00:00:01",
            *where[1:],
            "nud",
            "permanent",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield
    finally:
        subprocess.run([*neigh, "del", *where], check=False, capture_output=True)


# ------------------------------------------------------------------------ remote processes


async def test_a_killed_remote_supervisor_is_a_typed_error_and_leaves_nothing(
    remote: RemoteEnv,
) -> None:
    server = remote.server
    sleep = "sleep 41.01"
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(sleeping_tool(remote, sleep)) as session:
            await session.send("go")
            await running(server, sleep)
            [supervisor] = supervisors(server)
            os.kill(supervisor, signal.SIGKILL)  # the CLI's parent-death signal fires
            with trio.fail_after(PATIENCE):
                await session.collect_response()
    assert info.value.exit_code == 255
    assert reaped(session.pid)
    assert await remote_processes_end(server, PATIENCE) == []


async def test_a_killed_remote_cli_is_a_typed_error_and_its_tool_is_swept(
    remote: RemoteEnv,
) -> None:
    server = remote.server
    sleep = "sleep 41.02"
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(sleeping_tool(remote, sleep)) as session:
            await session.send("go")
            await running(server, sleep)
            [cli] = remote_clis(server)
            os.kill(cli, signal.SIGKILL)
            with trio.fail_after(PATIENCE):
                await session.collect_response()
    assert info.value.exit_code == 128 + signal.SIGKILL  # the supervisor's status, via ssh
    assert reaped(session.pid)
    assert await remote_processes_end(server, PATIENCE) == []


async def test_a_stopped_remote_cli_trips_stall_timeout_and_closes(remote: RemoteEnv) -> None:
    # The channel stays healthy (sshd answers the keepalives): only stall_timeout can tell.
    server = remote.server
    sleep = "sleep 41.04"
    with trio.fail_after(PATIENCE), pytest.raises(tc.StallTimeoutError):
        async with tc.open_session(sleeping_tool(remote, sleep, stall_timeout=2)) as session:
            await session.send("go")
            await running(server, sleep)
            [cli] = remote_clis(server)
            os.kill(cli, signal.SIGSTOP)
            await session.collect_response()
    assert reaped(session.pid)
    assert await remote_processes_end(server, PATIENCE) == []


async def test_a_frozen_remote_host_ends_the_session_and_is_cleaned_when_it_thaws(
    fresh_sshd: NetnsSSHServer, tmp_path: Path
) -> None:
    # As a paused VM: its kernel still ACKs, but sshd answers no keepalive.
    server = fresh_sshd
    sleep = "sleep 41.05"
    async with open_remote_env(server, tmp_path) as remote:
        frozen: list[int] = []
        try:
            with pytest.raises(tc.ProcessError) as info:
                async with tc.open_session(sleeping_tool(remote, sleep)) as session:
                    await session.send("go")
                    await running(server, sleep)
                    frozen = server.session_pids()
                    for pid in frozen:
                        os.kill(pid, signal.SIGSTOP)
                    with trio.fail_after(PATIENCE):
                        await session.collect_response()
        finally:
            for pid in frozen:
                try:
                    os.kill(pid, signal.SIGCONT)
                except OSError:
                    pass
        assert info.value.exit_code == 255
        assert "not responding" in (info.value.stderr or "")
        assert reaped(session.pid)
        await remote_side_gone(server)


# ---------------------------------------------------------------------------------- the link


async def test_a_silent_drop_with_the_link_up_ends_the_session_and_leaves_no_orphan(
    fresh_sshd: NetnsSSHServer, tmp_path: Path
) -> None:
    server = fresh_sshd
    sleep = "sleep 41.06"
    async with open_remote_env(server, tmp_path) as remote:
        with ExitStack() as stack:
            with pytest.raises(tc.ProcessError) as info:
                async with tc.open_session(sleeping_tool(remote, sleep)) as session:
                    await session.send("go")
                    await running(server, sleep)
                    stack.enter_context(blackholed(server))
                    with trio.fail_after(PATIENCE):
                        await session.collect_response()
            assert info.value.exit_code == 255
            assert "not responding" in (info.value.stderr or "")
            assert reaped(session.pid)
            # sshd's ClientAlive notices; the supervisor stops the CLI and sweeps its tool.
            await remote_side_gone(server)


async def test_a_drop_during_authentication_is_a_typed_error(
    fresh_sshd: NetnsSSHServer, tmp_path: Path
) -> None:
    server = fresh_sshd
    async with open_remote_env(server, tmp_path) as remote:
        options = remote.options(
            [Turn("never")], transport=server.transport(connect_timeout=2), initialize_timeout=10
        )
        with ExitStack() as stack, trio.fail_after(PATIENCE):

            async def cut_once_accepted() -> None:
                while not server.session_pids():  # sshd forked for the connection
                    await trio.sleep(0.001)
                stack.enter_context(blackholed(server))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(cut_once_accepted)
                with pytest.raises(tc.ProcessError) as info:
                    async with tc.open_session(options):
                        pass
                nursery.cancel_scope.cancel()
        assert info.value.exit_code == 255
        assert await remote_processes_end(server, PATIENCE) == []


async def test_a_link_blip_shorter_than_the_keepalive_window_is_survived(
    fresh_sshd: NetnsSSHServer, tmp_path: Path
) -> None:
    server = fresh_sshd
    sleep = "sleep 5.5"
    async with open_remote_env(server, tmp_path) as remote:
        try:
            async with tc.open_session(sleeping_tool(remote, sleep)) as session:
                await session.send("go")
                await running(server, sleep)
                server.link_down()
                await trio.sleep(
                    1
                )  # well inside ssh keepalive budget (3 x 1 s), on a loaded machine too
                server.link_up()
                with trio.fail_after(PATIENCE):
                    turn = await session.collect_response()
        finally:
            server.link_up()
        assert turn.text == "survived"


async def test_closing_while_the_link_is_silent_is_bounded(
    fresh_sshd: NetnsSSHServer, tmp_path: Path
) -> None:
    server = fresh_sshd
    sleep = "sleep 41.03"
    async with open_remote_env(server, tmp_path) as remote:
        with ExitStack() as stack, trio.fail_after(PATIENCE):
            async with tc.open_session(sleeping_tool(remote, sleep)) as session:
                await session.send("go")
                await running(server, sleep)
                stack.enter_context(blackholed(server))
            assert reaped(session.pid)
            await remote_side_gone(server)


async def test_a_cancelled_open_to_a_blackholed_host_returns_promptly(
    fresh_sshd: NetnsSSHServer, tmp_path: Path
) -> None:
    server = fresh_sshd
    async with open_remote_env(server, tmp_path) as remote:
        options = remote.options([Turn("never")], transport=server.transport(connect_timeout=30))
        with blackholed(server), trio.fail_after(PATIENCE):
            with trio.move_on_after(1) as scope:
                async with tc.open_session(options):
                    pass
            assert scope.cancelled_caught
        assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and _ours_ssh(int(pid))]


def _ours_ssh(pid: int) -> bool:
    words = cmdline(pid)
    return bool(words) and os.path.basename(words[0]) == b"ssh" and b"BatchMode=yes" in words
