"""SSHTransport against a real OpenSSH server in a network namespace, with the real CLI.

What the issue asks for, each proved here: a turn with a tool and a permission callback (the
callback runs here, the tool there); no secret on any command line, local or remote; closing,
even mid-tool, leaves nothing running on the server; a link cut mid-turn ends the session with a
typed error within seconds, and leaves no remote orphan (the CLI and its ``Bash`` tool die
once sshd notices); a cancelled caller closes cleanly; a failed connection is a typed error.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from tests._sshd import NetnsSSHServer
from trio_claude._transport._sweep import TAG_VARIABLE
from trio_claude.testing import ToolUse, Turn

from .conftest import PATIENCE, RemoteEnv, open_remote_env, remote_processes_end

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ssh_transport.py"


def cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return []


def environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (entry.decode(errors="replace").partition("=") for entry in raw.split(b"\0"))
    return {name: value for name, _, value in pairs if name}


def in_namespace(server: NetnsSSHServer, command: str) -> list[int]:
    """The namespace's live processes whose command line is ``command`` (space-separated)."""
    words = command.encode().split()
    return [pid for pid in server.session_pids() if cmdline(pid) == words]


def remote_clis(server: NetnsSSHServer) -> list[int]:
    cli = tc.find_cli().encode()
    return [pid for pid in server.session_pids() if cmdline(pid)[:1] == [cli]]


async def runs_in_namespace(server: NetnsSSHServer, command: str) -> int:
    with trio.fail_after(PATIENCE):
        while not (pids := in_namespace(server, command)):
            await trio.sleep(0.05)
    [pid] = pids
    return pid


def net_namespace(server: NetnsSSHServer) -> str:
    """What ``readlink /proc/self/ns/net`` prints in the namespace."""
    return f"net:[{os.stat(f'/run/netns/{server.namespace}').st_ino}]"


async def test_a_turn_with_a_tool_and_a_permission_callback(remote: RemoteEnv) -> None:
    server = remote.server
    asked: list[tuple[str, str]] = []

    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResultAllow:
        asked.append((tool_name, tool_input["command"]))
        return tc.PermissionResultAllow()

    command = "readlink /proc/self/ns/net | tee where.txt"  # writes: asks for permission
    options = remote.options(
        [Turn([ToolUse("Bash", {"command": command})]), Turn("the tool ran in {last_tool_result}")],
        can_use_tool=policy,
    )
    async with tc.open_session(options) as session:
        assert session.pid is not None
        assert os.path.basename(cmdline(session.pid)[0]) == b"ssh"  # the local end
        assert session.pid not in server.pids()
        [cli] = remote_clis(server)  # the remote end
        assert TAG_VARIABLE in environ(cli)
        turn = await session.run("where do your tools run?")
    # The callback ran here; the tool in the namespace, on the other end of the link.
    assert asked == [("Bash", command)]
    assert turn.text == f"the tool ran in {net_namespace(server)}"
    assert (remote.env.project / "where.txt").read_text().strip() == net_namespace(server)
    assert turn.result.subtype == "success"
    # A clean close: the CLI exited on its own, and the supervisor with its status.
    assert session.returncode == 0
    assert await remote_processes_end(server, PATIENCE) == []


async def test_secrets_are_on_no_command_line_local_or_remote(remote: RemoteEnv) -> None:
    server = remote.server
    key = "sk-ant-api03-" + secrets.token_hex(24)
    token = "tok-" + secrets.token_hex(16)
    sleep = "sleep 31.81"
    options = remote.options(
        [Turn([ToolUse("Bash", {"command": f"echo start && {sleep}"})]), Turn("never reached")],
        allowed_tools=["Bash"],
        env={"ANTHROPIC_API_KEY": key, "SERVICE_TOKEN": token},
    )
    async with tc.open_session(options) as session:
        await session.send("sleep a while")
        tool = await runs_in_namespace(server, sleep)
        # Every process is up: ours, the local ssh, sshd's, the supervisor, the CLI, its tool.
        for name in os.listdir("/proc"):
            if name.isdigit():
                line = b"\0".join(cmdline(int(name)))
                assert key.encode() not in line and token.encode() not in line, line[:300]
        # ... and yet the remote CLI has them, in its environment, as a local one would.
        [cli] = remote_clis(server)
        cli_env = environ(cli)
        assert cli_env["ANTHROPIC_API_KEY"] == key and cli_env["SERVICE_TOKEN"] == token
        # The local ssh runs with our environment, not the CLI's.
        assert session.pid is not None
        assert "SERVICE_TOKEN" not in environ(session.pid)
        # The tool carries the remote CLI's tag, which the supervisor's sweep looks for.
        [tag] = cli_env[TAG_VARIABLE].split(":")[-1:]
        assert tag in environ(tool)[TAG_VARIABLE].split(":")
    # Closed mid-tool: nothing left (the RemoteEnv checks again on exit).
    assert await remote_processes_end(server, PATIENCE) == []


async def test_closing_mid_tool_kills_a_tool_that_ignores_sigterm(remote: RemoteEnv) -> None:
    server = remote.server
    sleep = "sleep 31.82"
    options = remote.options(
        [
            Turn([ToolUse("Bash", {"command": f"trap '' TERM; echo start && {sleep}"})]),
            Turn("never reached"),
        ],
        allowed_tools=["Bash"],
        close_timeout=0.5,
    )
    async with tc.open_session(options) as session:
        await session.send("sleep a while")
        await runs_in_namespace(server, sleep)
    assert await remote_processes_end(server, PATIENCE) == []


async def test_cutting_the_link_mid_turn_ends_the_session_and_leaves_no_orphan(
    fresh_sshd: NetnsSSHServer, tmp_path: Path
) -> None:
    server = fresh_sshd
    sleep = "sleep 31.83"
    async with open_remote_env(server, tmp_path) as remote:
        options = remote.options(
            [Turn([ToolUse("Bash", {"command": f"echo start && {sleep}"})]), Turn("never")],
            allowed_tools=["Bash"],
        )
        with pytest.raises(tc.CLIConnectionError) as info:  # ProcessError is one
            async with tc.open_session(options) as session:
                await session.send("sleep a while")
                await runs_in_namespace(server, sleep)
                assert remote_clis(server)
                server.link_down()
                cut = trio.current_time()
                # ssh gives up after ServerAliveInterval * (ServerAliveCountMax + 1) or so.
                with trio.fail_after(10):
                    await session.collect_response()
        noticed = trio.current_time() - cut
        assert isinstance(info.value, tc.ProcessError)
        assert info.value.exit_code == 255  # ssh's "connection lost"
        assert "not responding" in (info.value.stderr or "")
        assert noticed < 10
        # sshd notices too (ClientAliveInterval 1, ClientAliveCountMax 3), ends the session,
        # and the supervisor's parent-death signal makes it kill the CLI and sweep its tag.
        with trio.fail_after(30):
            while in_namespace(server, sleep) or remote_clis(server):
                await trio.sleep(0.1)
        # The link comes back for the tear-down's own checks (and nothing else is left).
        server.link_up()


async def test_a_killed_local_ssh_leaves_no_remote_orphan(remote: RemoteEnv) -> None:
    # As if this process had crashed: its ssh dies (by its parent-death signal, or here by
    # SIGKILL), the kernel closes the TCP connection, sshd ends the session at once.
    server = remote.server
    sleep = "sleep 31.85"
    options = remote.options(
        [Turn([ToolUse("Bash", {"command": f"echo start && {sleep}"})]), Turn("never")],
        allowed_tools=["Bash"],
    )
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options) as session:
            await session.send("sleep a while")
            await runs_in_namespace(server, sleep)
            assert session.pid is not None
            os.kill(session.pid, signal.SIGKILL)
            with trio.fail_after(PATIENCE):
                await session.collect_response()
    assert info.value.exit_code == -signal.SIGKILL
    with trio.fail_after(PATIENCE):
        while in_namespace(server, sleep) or remote_clis(server):
            await trio.sleep(0.05)


async def test_a_cancelled_caller_closes_the_remote_session_cleanly(remote: RemoteEnv) -> None:
    server = remote.server
    sleep = "sleep 31.84"
    options = remote.options(
        [Turn([ToolUse("Bash", {"command": f"echo start && {sleep}"})]), Turn("never reached")],
        allowed_tools=["Bash"],
    )
    with trio.CancelScope() as scope:
        async with tc.open_session(options) as session:
            await session.send("sleep a while")
            await runs_in_namespace(server, sleep)
            scope.cancel()
            await session.collect_response()
    assert scope.cancelled_caught
    assert session.lifecycle is tc.LifecycleState.CLOSED
    assert await remote_processes_end(server, PATIENCE) == []


async def test_an_unknown_host_key_is_a_typed_error(remote: RemoteEnv, tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    options = remote.options(
        [Turn("never")],
        transport=remote.server.transport(known_hosts_file=str(empty)),
    )
    with trio.fail_after(PATIENCE), pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options):
            pass
    assert info.value.exit_code == 255
    assert "Host key verification failed" in (info.value.stderr or "")


async def test_a_missing_remote_cli_is_a_typed_error(remote: RemoteEnv) -> None:
    options = remote.options(
        [Turn("never")],
        transport=remote.server.transport(remote_cli="/nonexistent/claude"),
    )
    with trio.fail_after(PATIENCE), pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options):
            pass
    assert info.value.exit_code == 127
    assert "/nonexistent/claude: not found" in (info.value.stderr or "")


async def test_the_example_runs_against_the_namespace(remote: RemoteEnv, tmp_path: Path) -> None:
    server = remote.server
    remote_home = tmp_path / "example-home"
    remote_home.mkdir()
    env = {
        **os.environ,
        "TRIO_CLAUDE_SSH_HOST": server.address,
        "TRIO_CLAUDE_SSH_USER": "root",
        "TRIO_CLAUDE_SSH_IDENTITY": str(server.client_key),
        "TRIO_CLAUDE_SSH_KNOWN_HOSTS": str(server.known_hosts),
        "TRIO_CLAUDE_SSH_PYTHON": "/usr/bin/python3",
        "TRIO_CLAUDE_SSH_CLI": tc.find_cli(),
        "TRIO_CLAUDE_SSH_FAKE_MODEL_HOST": server.host_address,
        "TRIO_CLAUDE_SSH_REMOTE_HOME": str(remote_home),
    }
    with trio.fail_after(PATIENCE):
        done = await trio.run_process(
            [sys.executable, str(EXAMPLE)], env=env, capture_stdout=True, capture_stderr=True
        )
    out = done.stdout.decode()
    assert f"the tool ran in {net_namespace(server)}" in out, done.stderr.decode()
    assert "asked to run Bash: readlink /proc/self/ns/net | tee where.txt" in out
    assert "exit status 0" in out


async def test_the_example_without_a_host_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIO_CLAUDE_SSH_")}
    done = await trio.run_process(
        [sys.executable, str(EXAMPLE)], env=env, capture_stdout=True, check=False
    )
    assert done.returncode == 0
    assert "TRIO_CLAUDE_SSH_HOST" in done.stdout.decode()
