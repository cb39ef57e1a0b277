"""SSHTransport's command line, environment and preamble (no ssh is run here).

The transport against a real sshd is in ``tests/cluster``; the remote supervisor, run locally,
in ``tests/integration/test_ssh_remote.py``.
"""

from __future__ import annotations

import os
import shlex
import time
import zlib
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from trio_claude._options import validate_options
from trio_claude._transport import _ssh_remote
from trio_claude._transport._ssh import SSHTransport
from trio_claude._transport._sweep import TAG_VARIABLE


def framed(body: bytes) -> bytes:
    return str(len(body)).encode() + b"\n" + body


def option_values(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == "-o"]


def test_it_is_public_and_refuses_resource_limits() -> None:
    assert tc.SSHTransport is SSHTransport
    assert issubclass(SSHTransport, tc.SubprocessTransport)
    assert SSHTransport.supports_resource_limits is False
    with pytest.raises(tc.ConfigurationError, match="resource_limits need a transport"):
        validate_options(
            tc.ClaudeAgentOptions(
                transport=SSHTransport("box"),
                resource_limits=tc.ResourceLimits(max_memory_bytes=2**30),
            )
        )


def test_the_command_line() -> None:
    transport = SSHTransport(
        "box.example.com",
        user="agent",
        port=2222,
        identity_file=Path("/keys/id"),
        known_hosts_file="/keys/known_hosts",
        ssh_options=("-o", "ServerAliveInterval=9", "-v"),
        ssh_command=["/opt/ssh", "-4"],
        keepalive_interval=0.3,
        keepalive_count=2,
    )
    argv = transport.ssh_argv()
    # The user's options come first: ssh keeps the first value of an option.
    assert argv[:5] == ["/opt/ssh", "-4", "-o", "ServerAliveInterval=9", "-v"]
    assert "-T" in argv and argv[argv.index("-e") + 1] == "none"
    options = option_values(argv)
    for expected in (
        "BatchMode=yes",
        "ServerAliveInterval=1",  # whole seconds, rounded up; after the user's 9
        "ServerAliveCountMax=2",
        "ControlPath=none",
        'UserKnownHostsFile="/keys/known_hosts"',  # quoted, '%' doubled: read as given
        'IdentityFile="/keys/id"',  # not -i: ssh %-expands it after checking it as given
        "IdentitiesOnly=yes",
    ):
        assert expected in options
    assert options.index("ServerAliveInterval=9") < options.index("ServerAliveInterval=1")
    assert "-i" not in argv
    assert argv[argv.index("-p") + 1] == "2222"
    assert argv[argv.index("-l") + 1] == "agent"
    assert argv[-3:-1] == ["--", "box.example.com"]
    assert argv[-1] == transport.remote_command()
    assert repr(transport) == "SSHTransport(agent@box.example.com:2222)"


def test_the_remote_command_is_a_fixed_bootstrap() -> None:
    command = SSHTransport("box", remote_python="/usr/bin/python3").remote_command()
    words = shlex.split(command)
    assert words[:3] == ["exec", "/usr/bin/python3", "-c"]
    assert len(words) == 4 and "\n" not in command  # one line, for any login shell
    size = len(zlib.compress(Path(_ssh_remote.__file__).read_bytes(), 9))
    assert words[3] == _ssh_remote.BOOTSTRAP.format(size=size)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"host": ""}, "invalid host"),
        ({"host": "-oProxyCommand=x"}, "invalid host"),
        ({"host": "a b"}, "invalid host"),
        ({"host": "box", "user": "-x"}, "invalid user"),
        ({"host": "box", "port": 0}, "invalid port"),
        ({"host": "box", "keepalive_interval": 0}, "keepalive"),
        ({"host": "box", "keepalive_count": 0}, "keepalive"),
        ({"host": "box", "connect_timeout": 0}, "connect_timeout"),
        ({"host": "box", "ssh_options": "-v"}, "sequence"),
        ({"host": "box", "ssh_command": []}, "ssh_command"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    host = kwargs.pop("host")
    with pytest.raises(tc.ConfigurationError, match=match):
        SSHTransport(host, **kwargs)  # type: ignore[arg-type]


def test_the_remote_environment_is_what_the_session_set_and_the_forwarded_names() -> None:
    local = {
        "PATH": "/local/bin",
        "HOME": "/home/me",
        "ANTHROPIC_API_KEY": "sk-local",
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "SSH_AUTH_SOCK": "/tmp/agent",
        TAG_VARIABLE: "outer",
    }
    session = {
        **local,
        "HOME": "/remote/home",  # changed by options.env
        "CLAUDE_CODE_ENTRYPOINT": "sdk-py",  # added by the SDK
        "SECRET": "s3",  # added by options.env
    }
    # set by the session (options.env) with the value this process has too
    own = frozenset({"HOME", "CLAUDE_CODE_ENTRYPOINT", "SECRET", "SSH_AUTH_SOCK"})
    spec = tc.LaunchSpec(argv=["claude"], env=session, own_env=own)
    sent = SSHTransport("box").remote_env(spec, local)
    assert sent == {
        "HOME": "/remote/home",
        "CLAUDE_CODE_ENTRYPOINT": "sdk-py",
        "SECRET": "s3",
        "ANTHROPIC_API_KEY": "sk-local",
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "SSH_AUTH_SOCK": "/tmp/agent",
    }
    only = SSHTransport("box", forward_env=()).remote_env(spec, local)
    assert "ANTHROPIC_API_KEY" not in only and "PATH" not in only and TAG_VARIABLE not in only
    inherited = tc.LaunchSpec(argv=["claude"], env=session)
    assert "SSH_AUTH_SOCK" not in SSHTransport("box").remote_env(inherited, local)


def test_the_preamble_carries_argv_env_and_cwd() -> None:
    transport = SSHTransport("box", remote_cli="/opt/claude/bin/claude", kill_grace=2.5)
    spec = tc.LaunchSpec(
        argv=["claude", "--output-format", "stream-json", "--system-prompt=a 'quoted' prompt"],
        env={**os.environ, "ANTHROPIC_API_KEY": "sk-secret"},
        cwd="/srv/project",
    )
    payload = transport.preamble(spec)
    code = zlib.compress(Path(_ssh_remote.__file__).read_bytes(), 9)
    assert payload.startswith(code)
    r, w = os.pipe()
    try:
        os.write(w, payload[len(code) :] + b"protocol bytes")
        preamble = _ssh_remote.read_preamble(r)
        assert os.read(r, 100) == b"protocol bytes"  # not one byte more was read
    finally:
        os.close(r)
        os.close(w)
    assert preamble["argv"] == ["/opt/claude/bin/claude", *spec.argv[1:]]
    assert preamble["env"]["ANTHROPIC_API_KEY"] == "sk-secret"
    assert preamble["cwd"] == "/srv/project" and preamble["grace"] == 2.5
    # Nothing of the launch is on the command line.
    assert b"sk-secret" not in " ".join(transport.ssh_argv()).encode()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "ended"),
        (b"abc\n", "no length"),
        (b"12345678901234567890\n", "no length"),
        (b"0\n", "bad length"),
        (b"5\n{}", "ended"),
        (b"3\n[1]", "not an object"),
        (b"2\n{}", "argv"),
        (framed(b'{"argv":[1]}'), "argv"),
        (framed(b'{"argv":["x"],"env":[1]}'), "env"),
        (framed(b'{"argv":["x"],"env":{"A":1}}'), "env"),
        (framed(b'{"argv":["x"],"cwd":12}'), "cwd"),
        (framed(b'{"argv":["x"],"grace":"1"}'), "grace"),
        (b"4\nnope", "not JSON"),
    ],
)
def test_bad_preambles(data: bytes, match: str) -> None:
    r, w = os.pipe()
    try:
        os.write(w, data)
        os.close(w)
        w = -1
        with pytest.raises(_ssh_remote.PreambleError, match=match):
            _ssh_remote.read_preamble(r)
    finally:
        os.close(r)
        if w != -1:
            os.close(w)


async def test_options_user_is_refused() -> None:
    spec = tc.LaunchSpec(argv=["claude"], env={}, user="someone")
    async with trio.open_nursery() as nursery:
        with pytest.raises(tc.ConfigurationError, match=r"SSHTransport\(user=\.\.\.\)"):
            await SSHTransport("box").start(spec, nursery)


async def test_a_missing_ssh_client_is_a_connection_error(tmp_path: Path) -> None:
    spec = tc.LaunchSpec(argv=["claude"], env={})
    transport = SSHTransport("box", ssh_command=str(tmp_path / "no-ssh"))
    async with trio.open_nursery() as nursery:
        with pytest.raises(tc.CLIConnectionError, match="ssh client was not found") as info:
            await transport.start(spec, nursery)
    assert not isinstance(info.value, tc.CLINotFoundError)


def test_the_remote_sweep_reads_again_an_environment_caught_in_execve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As ``_sweep.read_environ`` (the remote module runs alone on the host): a process that
    reads with an empty environment and command line is still in ``execve``; it is read again,
    so the remote sweep does not take a fresh CLI for an untagged process."""
    reads: list[str] = []

    def read(path: str) -> bytes:
        reads.append(path)
        if path.endswith("/environ"):
            return f"{TAG_VARIABLE}=abc".encode() if len(reads) > 4 else b""
        return b""  # the command line, still empty

    monkeypatch.setattr(_ssh_remote, "_read", read)
    monkeypatch.setattr(os, "readlink", lambda path: "/bin/claude")
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    assert _ssh_remote._carries(os.getpid(), b"abc", os.geteuid())
    assert reads[-1].endswith("/environ") and len(reads) == 5
