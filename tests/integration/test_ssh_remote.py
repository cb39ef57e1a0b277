"""SSHTransport's remote supervisor, run here without ssh: ``sh -c <the remote command>``.

What sshd would do is done by hand: the supervisor's stdin and stdout are our pipes; "the
connection is lost" is a SIGTERM (what its parent-death signal sends when sshd exits), its
parent's death, or the reading end of its stdout closing. The "CLI" is a small Python script
that may leave a tool behind in a session of its own, as the real CLI's ``Bash`` does. The same
supervisor against a real sshd and the real CLI: ``tests/cluster``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import trio_claude as tc
from trio_claude._transport import _ssh_remote
from trio_claude._transport._ssh import _supervisor_code

#: A bound on how long anything here may take (never asserted on: the machine may be slow).
PATIENCE = 30

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

#: The fake CLI: reports itself, optionally leaves a tool (a `sleep` in a session of its own,
#: ignoring SIGTERM), echoes stdin, and exits with $EXIT_CODE at EOF.
FAKE_CLI = textwrap.dedent(
    """
    import json, os, subprocess, sys
    if os.environ.get("IGNORE_TERM"):
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    tool = None
    if os.environ.get("LEAVE_TOOL"):
        tool = subprocess.Popen(
            ["sh", "-c", "trap '' TERM; exec sleep " + os.environ["LEAVE_TOOL"]],
            start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        ).pid
    report = {
        "pid": os.getpid(), "pgid": os.getpgrp(), "tool": tool, "cwd": os.getcwd(),
        "argv": sys.argv[1:], "secret": os.environ.get("SECRET"),
        "tag": os.environ.get("TRIO_CLAUDE_PROCESS_TAG"),
    }
    print(json.dumps(report), flush=True)
    for line in sys.stdin:
        print("echo " + line.strip(), flush=True)
    sys.exit(int(os.environ.get("EXIT_CODE", "0")))
    """
)


@pytest.fixture
def fake_cli(tmp_path: Path) -> Path:
    path = tmp_path / "fake_cli.py"
    path.write_text(FAKE_CLI)
    return path


def payload(argv: list[str], env: dict[str, str], cwd: str | None, grace: float = 0.5) -> bytes:
    transport = tc.SSHTransport("unused", kill_grace=grace)
    spec = tc.LaunchSpec(argv=argv, env={**os.environ, **env}, cwd=cwd)
    return transport.preamble(spec)


def remote_command() -> str:
    return tc.SSHTransport("unused", remote_python=sys.executable).remote_command()


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def supervise(
    started: list[subprocess.Popen[bytes]],
    fake_cli: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    shell: str = "{command}",
) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    """Starts the supervisor as sshd would (``shell`` wraps the command) and the fake CLI."""
    command = shell.format(command=remote_command())
    proc = subprocess.Popen(
        ["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
    )
    started.append(proc)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(payload([sys.executable, str(fake_cli), "--flag"], env or {}, cwd))
    # The supervisor's first output, before the CLI's: one newline (it ends a line a login
    # shell left open; SSHTransport.start waits for it).
    assert proc.stdout.readline() == b"\n"
    report = json.loads(proc.stdout.readline())
    return proc, report


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_gone(*pids: int) -> None:
    deadline = time.monotonic() + PATIENCE
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, [pid for pid in pids if alive(pid)]
        time.sleep(0.02)


def test_the_cli_gets_argv_env_cwd_a_tag_and_the_channel(
    started: list[subprocess.Popen[bytes]], fake_cli: Path, tmp_path: Path
) -> None:
    proc, report = supervise(
        started, fake_cli, env={"SECRET": "s3cr3t", "EXIT_CODE": "3"}, cwd=str(tmp_path)
    )
    assert report["argv"] == ["--flag"] and report["cwd"] == str(tmp_path)
    assert report["secret"] == "s3cr3t"
    assert isinstance(report["tag"], str) and len(report["tag"]) == 32
    # Its own process group, under the supervisor.
    assert report["pgid"] == report["pid"] != os.getpgrp()
    supervisor = proc.pid
    assert Path(f"/proc/{report['pid']}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(
        supervisor
    )
    # The secret is on no command line, and not even in the supervisor's environment.
    for pid in (supervisor, report["pid"]):
        assert b"s3cr3t" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert b"s3cr3t" not in Path(f"/proc/{supervisor}/environ").read_bytes()
    # stdin and stdout are the CLI's own.
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"one\ntwo\n")
    assert proc.stdout.readline() == b"echo one\n"
    assert proc.stdout.readline() == b"echo two\n"
    proc.stdin.close()  # the SDK closes stdin: the CLI ends on its own
    assert proc.wait(PATIENCE) == 3
    assert proc.stdout.read() == b""


def test_a_tool_left_by_a_cli_that_exits_is_swept(
    started: list[subprocess.Popen[bytes]], fake_cli: Path
) -> None:
    proc, report = supervise(started, fake_cli, env={"LEAVE_TOOL": "300.1"})
    tool = report["tool"]
    assert isinstance(tool, int) and alive(tool)
    assert os.getsid(tool) == tool  # outside the CLI's group and session
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(PATIENCE) == 0
    wait_gone(tool)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "stdout closed", "parent died"])
def test_a_lost_connection_kills_the_cli_and_its_tools(
    started: list[subprocess.Popen[bytes]], fake_cli: Path, how: str
) -> None:
    env = {"LEAVE_TOOL": "300.2", "IGNORE_TERM": "1"}  # the KILL after the grace is needed
    # A subshell forks: its `exec` then replaces the child, and the supervisor's parent is `sh`.
    shell = "({command}); exit 7" if how == "parent died" else "{command}"
    proc, report = supervise(started, fake_cli, env=env, shell=shell)
    cli, tool = report["pid"], report["tool"]
    assert isinstance(cli, int) and isinstance(tool, int)
    if how == "parent died":
        # Kill the supervisor's parent, as when sshd exits.
        [supervisor] = [
            int(pid)
            for pid in os.listdir("/proc")
            if pid.isdigit()
            and alive(int(pid))
            and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(proc.pid)
        ]
        assert supervisor != proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(PATIENCE)
        wait_gone(supervisor, cli, tool)
        return
    if how == "stdout closed":
        assert proc.stdout is not None
        proc.stdout.close()
    else:
        os.kill(proc.pid, getattr(signal, how))
    code = proc.wait(PATIENCE)
    expected = signal.SIGPIPE if how == "stdout closed" else getattr(signal, how)
    assert code == 128 + expected
    wait_gone(cli, tool)


def test_a_killed_cli_is_reported_as_a_shell_would(
    started: list[subprocess.Popen[bytes]], fake_cli: Path
) -> None:
    proc, report = supervise(started, fake_cli)
    assert isinstance(report["pid"], int)
    os.kill(report["pid"], signal.SIGKILL)
    assert proc.wait(PATIENCE) == 128 + signal.SIGKILL


def run_with(data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["sh", "-c", remote_command()], input=data, capture_output=True, timeout=PATIENCE
    )


def test_failures_before_the_cli_runs(tmp_path: Path) -> None:
    missing = run_with(payload([str(tmp_path / "no-claude")], {}, None))
    assert missing.returncode == _ssh_remote.EXIT_NOT_FOUND
    assert b"trio-claude ssh: " in missing.stderr and b"no-claude: not found" in missing.stderr
    no_cwd = run_with(payload(["true"], {}, str(tmp_path / "nowhere")))
    assert no_cwd.returncode == _ssh_remote.EXIT_NO_CWD
    assert b"working directory does not exist" in no_cwd.stderr
    bad = run_with(_supervisor_code() + b"4\nnope")
    assert bad.returncode == _ssh_remote.EXIT_BAD_PREAMBLE
    assert b"bad preamble: not JSON" in bad.stderr
