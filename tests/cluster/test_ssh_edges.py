"""SSHTransport at its edges, against a real sshd in a network namespace (tests/_sshd.py): key
paths with a space or a ``%``, a login that leaves a line open, ``remote_cli`` with a script
CLI, and a fleet of opens to one host beyond sshd's ``MaxStartups``. Found by a sweep. As the
rest of the cluster tier, they skip without root, ``ip`` or ``sshd`` (and fail under CI)."""

from __future__ import annotations

import json
import shutil
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from tests._sshd import NetnsSSHServer, server_for_tests
from trio_claude.testing import Turn

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

#: A bound on how long anything here may take (never asserted on: the machine may be slow).
PATIENCE = 60


def _server_with(extra_config: str = "", drop: tuple[str, ...] = ()) -> Iterator[NetnsSSHServer]:
    """A started :class:`NetnsSSHServer` whose ``sshd_config`` has ``extra_config`` appended and
    the lines in ``drop`` removed; destroyed afterwards."""

    class Server(NetnsSSHServer):
        def _write_files(self) -> None:
            super()._write_files()
            lines = [line for line in self.config.read_text().splitlines() if line not in drop]
            self.config.write_text("\n".join(lines) + "\n" + extra_config)

    yield from server_for_tests(Server)


@pytest.fixture
def sshd() -> Iterator[NetnsSSHServer]:
    yield from _server_with()


async def _remote_processes_end(server: NetnsSSHServer) -> list[str]:
    """Waits (bounded) until nothing but the listener runs in the namespace; what is left."""
    with trio.move_on_after(PATIENCE):
        while server.session_pids():
            await trio.sleep(0.05)
    return server.describe(server.session_pids())


# ---------------------------------------------------------------------------------- 1. paths


@pytest.mark.parametrize(
    ("directory", "field"),
    [
        ("my keys", "known_hosts_file"),  # macOS: "~/Library/Application Support/..."
        ("pct%d", "known_hosts_file"),
        ("pct%d", "identity_file"),
    ],
)
async def test_key_file_paths_reach_ssh_verbatim(
    sshd: NetnsSSHServer, tmp_path: Path, directory: str, field: str
) -> None:
    """``SSHTransport.ssh_argv`` puts ``known_hosts_file`` into ``-o UserKnownHostsFile=<path>``
    unquoted, and both it and ``identity_file`` (``-i <path>``) unescaped, but ssh re-parses
    the values: ``UserKnownHostsFile`` is split on whitespace (a list of files) and both are
    ``%``-expanded (``%d`` is the home directory). A known-hosts file in a directory with a
    space ("Application Support") is silently replaced by ``.../my`` and ``keys/known_hosts``,
    and the session fails with ssh's "Host key verification failed." (the user is told the host
    key is wrong); a ``%`` in either path makes ssh read another file (``%d`` became the
    home directory: "no such identity"). Expected: the file given is the file used (quote
    the ``-o`` value, double every ``%``)."""
    where = tmp_path / directory
    where.mkdir()
    files = {
        "known_hosts_file": shutil.copy(sshd.known_hosts, where / "known_hosts"),
        "identity_file": shutil.copy(sshd.client_key, where / "id"),
    }
    Path(files["identity_file"]).chmod(0o600)  # noqa: ASYNC240  (set-up, not the test)
    transport = sshd.transport(**{field: str(files[field])}, remote_cli="/bin/false")
    options = tc.ClaudeAgentOptions(transport=transport, initialize_timeout=PATIENCE)
    with trio.fail_after(PATIENCE), pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options):
            pass
    # /bin/false ran on the remote (exit 1 before initialize): the connection itself worked.
    assert info.value.exit_code == 1, info.value.stderr
    assert await _remote_processes_end(sshd) == []


# ------------------------------------------------------------------- 2. login-shell output


@pytest.fixture
def chatty_login_sshd() -> Iterator[NetnsSSHServer]:
    """A server whose login prints a line without a newline first (an rc file's ``printf``, a
    terminal-title escape), then runs the command as sshd would."""
    force = 'ForceCommand printf "\\033]0;box\\007"; eval "$SSH_ORIGINAL_COMMAND"\n'
    yield from _server_with(force)


@pytest.mark.e2e
async def test_login_output_without_a_newline_does_not_eat_the_initialize_answer(
    chatty_login_sshd: NetnsSSHServer, tmp_path: Path
) -> None:
    """Output of the remote login before the command (rc files; documented as unsupported, but
    common: a terminal-title escape, a ``printf``) is tolerated when it ends with a newline (a
    non-JSON line, logged and skipped), but when it does not, it is glued to the CLI's first
    line: the ``initialize`` answer arrives as ``'\\x1b]0;box\\x07{"type":"control_response"...'``,
    is logged as "not JSON" and dropped, and the open hangs for the whole
    ``initialize_timeout`` (60 s by default) and then says "the CLI did not answer initialize",
    though it did. Expected: the supervisor (``_ssh_remote.main``) writes a newline (or a
    marker the local side skips to) on stdout before it starts the CLI, so that whatever the
    login printed is a line of its own."""
    from tests.cluster.conftest import open_remote_env

    server = chatty_login_sshd
    async with open_remote_env(server, tmp_path) as remote:
        options = remote.options([Turn("one"), Turn("two")], initialize_timeout=10)
        with trio.fail_after(PATIENCE):
            async with tc.open_session(options) as session:
                assert (await session.run("hi")).text == "one"
                assert (await session.run("again")).text == "two"


# ---------------------------------------------------------------- 3. remote_cli and scripts


async def test_remote_cli_replaces_the_cli_not_the_javascript_runtime() -> None:
    """``SSHTransport.preamble`` replaces ``argv[0]`` with ``remote_cli``, documented as "default
    the session's argv[0] (options.cli_path, else "claude")". But when ``cli_path`` is a script
    (``.js``/``.mjs``/...), ``build_argv`` makes ``argv == [executable or "node", *executable_args,
    cli_path, ...]``: ``remote_cli`` then replaces *node*, and the remote runs
    ``<remote_cli> /path/cli.js --output-format ...`` (the CLI given its own script as the
    prompt). Expected: ``remote_cli`` replaces the CLI (the whole launcher), never the runtime."""
    from trio_claude._session import _prepare

    transport = tc.SSHTransport("example.invalid", remote_cli="/usr/local/bin/claude")
    prepared = await _prepare(
        tc.ClaudeAgentOptions(transport=transport, cli_path="/opt/claude-code/cli.js")
    )
    payload = transport.preamble(prepared.spec)
    rest = zlib.decompressobj()
    rest.decompress(payload)
    argv = json.loads(rest.unused_data.split(b"\n", 1)[1])["argv"]
    assert "/opt/claude-code/cli.js" not in argv[:2], argv[:3]
    assert argv[0] == "/usr/local/bin/claude"
    assert argv[1] == "--output-format"


# ------------------------------------------------------------------------- 4. many at once


@pytest.fixture
def throttled_sshd() -> Iterator[NetnsSSHServer]:
    """A server with a stricter ``MaxStartups`` than the test default (64): what a stock sshd
    does (``10:30:100``) beyond 10 connections that have not authenticated yet, made
    deterministic."""
    yield from _server_with("MaxStartups 3\n", drop=("MaxStartups 64",))


async def test_concurrent_opens_to_one_host_survive_sshd_throttling(
    throttled_sshd: NetnsSSHServer,
) -> None:
    """A fleet opening sessions to one host at once (a pool, a team) outruns sshd's
    ``MaxStartups`` (stock: 10 unauthenticated connections, then 30 % of new ones dropped; in
    this sweep 9 of 30 concurrent opens against a stock config failed): ssh exits 255 with
    "kex_exchange_identification: read: Connection reset by peer" before anything ran remotely,
    and the session fails with a ProcessError. Nothing limits or retries this:
    ``SSHTransport.start`` (``_ssh.py``) starts one ``ssh`` per session immediately, and
    ``docs/transports.md`` does not mention it. Expected: a refused pre-authentication
    connection (nothing ran remotely, safe to repeat) is retried with jittered backoff within
    ``connect_timeout``, or connection set-up per host is bounded."""
    server = throttled_sshd
    refused: list[str] = []
    reached = 0

    async def one() -> None:
        nonlocal reached
        # /bin/false: the remote "CLI" exits 1 at once; exit 1 proves the connection was made.
        transport = server.transport(remote_cli="/bin/false", max_connecting=3)
        options = tc.ClaudeAgentOptions(transport=transport)
        try:
            async with tc.open_session(options):
                pass
        except tc.ProcessError as exc:
            if exc.exit_code == 1:
                reached += 1
            else:
                refused.append(f"{exc.exit_code}: {(exc.stderr or '').strip()[:120]}")

    with trio.fail_after(PATIENCE):
        async with trio.open_nursery() as nursery:
            for _ in range(12):
                nursery.start_soon(one)
    assert await _remote_processes_end(server) == []
    assert refused == [], f"{len(refused)} of 12 refused: {refused[:3]}"
    assert reached == 12
