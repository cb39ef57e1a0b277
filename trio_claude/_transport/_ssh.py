"""Running the CLI on another host over SSH: the OpenSSH client as the local process.

:class:`SSHTransport` is a :class:`~trio_claude.SubprocessTransport` whose local process is
``ssh``: it gets everything that class gives a child (its own process group, the parent-death
signal, pidfd reaping, the shutdown ladder), and the ssh session's stdin and stdout are the
CLI's. The remote command is a fixed one-line ``python3 -c`` bootstrap; the supervisor it runs
(``_ssh_remote.py``, compressed, written first on stdin) reads the CLI's argv, environment and
working directory from a JSON preamble on stdin, so no secret is ever on a command line, local
or remote, and then hands its own stdin and stdout to the CLI.

The connection's loss ends the session on both sides:

- **here**, ``ServerAliveInterval``/``ServerAliveCountMax`` make ``ssh`` give up on a silent
  server within ``keepalive_interval * (keepalive_count + 1)`` seconds or so, and exit (255):
  the session ends with a :class:`~trio_claude.ProcessError` carrying ssh's stderr;
- **there**, sshd ends the connection's processes (when the client closes it, or when its own
  ``ClientAliveInterval`` notices a dead link), and the supervisor, whose parent-death signal
  fires, stops the CLI and kills every process carrying the CLI's tag (its ``Bash`` tools).

See ``docs/transports.md`` ("SSH") for what is guaranteed, and what the remote needs.
"""

from __future__ import annotations

import math
import os
import shutil
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import trio

from .._environ import Environment, environ
from .._errors import CLIConnectionError, CLINotFoundError, ConfigurationError
from ._base import ChildProcess, LaunchSpec, remote_env
from ._command import SCRIPT_SUFFIXES, STREAM_JSON_PREFIX
from ._process import SubprocessTransport, shutdown_process
from ._sweep import TAG_VARIABLE

__all__ = ["DEFAULT_FORWARD_ENV", "SSHTransport"]

#: The local variables passed on to the remote CLI even when the session did not set them:
#: credentials and the CLI's own settings, which a local ``claude`` would have inherited.
DEFAULT_FORWARD_ENV: tuple[str, ...] = ("ANTHROPIC_*", "CLAUDE_CODE_*")


_supervisor: bytes | None = None


def _supervisor_code() -> bytes:
    """The remote supervisor's source as the bootstrap reads it, zlib-compressed.

    Read from the package once (a file read: the first call is made in a worker thread).
    """
    global _supervisor
    if _supervisor is None:
        _supervisor = zlib.compress(Path(__file__).with_name("_ssh_remote.py").read_bytes(), 9)
    return _supervisor


class SSHTransport(SubprocessTransport):
    """Runs the CLI on another host, through the OpenSSH client (``ssh``).

    The remote host needs ``python3`` (3.7 or later) and the ``claude`` CLI; the session's
    options are the remote CLI's (``cwd`` is a remote path; ``cli_path`` is the remote CLI,
    default ``claude`` on the remote ``PATH``). Callbacks, hooks and in-process MCP servers run
    here, as with a local CLI.

    Authentication is ssh's own (keys, an agent, ``~/.ssh/config``); it never prompts
    (``BatchMode``), so a host key or a key it does not know makes the session fail to start
    with ssh's message in the :class:`~trio_claude.ProcessError`.

    The remote CLI's environment is the remote login's, updated with: every variable the
    session set or changed (``options.env``, the SDK's own such as ``CLAUDE_CODE_ENTRYPOINT``,
    the trace context: ``LaunchSpec.own_env``, even with the value this process has too), and
    the local variables matching ``forward_env`` (by default ``ANTHROPIC_*`` and
    ``CLAUDE_CODE_*``: an API key exported here reaches the remote CLI). They travel inside the
    encrypted channel, in the preamble, never on a command line. ``ssh`` itself runs with this
    process's environment.

    Args:
        host: The host name or address (``~/.ssh/config`` host aliases work).
        user: The remote user (``ssh -l``); default ssh's (the config's, or the local user).
        port: The remote port (``ssh -p``).
        identity_file: A private key (``IdentityFile``, with ``IdentitiesOnly=yes``).
        known_hosts_file: A ``known_hosts`` file to check the host key against instead of the
            user's (``UserKnownHostsFile``).
        ssh_options: More ssh arguments, put first (``("-o", "Compression=yes")``,
            ``("-F", "/dev/null")``); for a ``-o`` option ssh keeps the first value it sees, so
            these override the transport's own.
        ssh_command: The client: ``"ssh"`` or a path, or a command line (a sequence).
        remote_cli: The CLI on the remote host; default the session's ``argv[0]``
            (``options.cli_path``, else ``"claude"``).
        remote_python: The remote interpreter that runs the supervisor.
        keepalive_interval: Seconds between ssh's keepalive probes (``ServerAliveInterval``;
            whole seconds, rounded up).
        keepalive_count: Unanswered probes before ssh gives up (``ServerAliveCountMax``).
        connect_timeout: Seconds to wait for the TCP connection (``ConnectTimeout``).
        forward_env: ``fnmatch`` patterns of local variables to pass on (see above).
        kill_grace: On the connection's loss, seconds the remote CLI gets between SIGTERM and
            SIGKILL.
        max_connecting: How many connections to one host (and port and user) this trio run
            sets up at once through transports with this bound; the others wait for one to
            reach the remote side. sshd refuses
            connections beyond its ``MaxStartups`` (10 unauthenticated ones by default), so a
            fleet opening sessions to one host at once failed with "Connection reset by peer";
            lower it for a stricter server.
    """

    # The limits would bind the local ssh, not the remote CLI.
    supports_resource_limits = False

    def __init__(
        self,
        host: str,
        *,
        user: str | None = None,
        port: int | None = None,
        identity_file: str | os.PathLike[str] | None = None,
        known_hosts_file: str | os.PathLike[str] | None = None,
        ssh_options: Sequence[str] = (),
        ssh_command: str | Sequence[str] = "ssh",
        remote_cli: str | None = None,
        remote_python: str = "python3",
        keepalive_interval: float = 1.0,
        keepalive_count: int = 3,
        connect_timeout: float = 10.0,
        forward_env: Sequence[str] = DEFAULT_FORWARD_ENV,
        kill_grace: float = 1.0,
        max_connecting: int = 8,
    ) -> None:
        if not host or host.startswith("-") or any(c.isspace() for c in host):
            raise ConfigurationError(f"SSHTransport: invalid host {host!r}")
        if user is not None and (not user or user.startswith("-")):
            raise ConfigurationError(f"SSHTransport: invalid user {user!r}")
        if port is not None and not 0 < port < 65536:
            raise ConfigurationError(f"SSHTransport: invalid port {port!r}")
        if not keepalive_interval > 0 or keepalive_count < 1:
            raise ConfigurationError(
                "SSHTransport: keepalive_interval must be > 0 and keepalive_count >= 1"
            )
        if not connect_timeout > 0 or not kill_grace >= 0:
            raise ConfigurationError(
                "SSHTransport: connect_timeout must be > 0 and kill_grace >= 0"
            )
        if isinstance(max_connecting, bool) or not isinstance(max_connecting, int):
            raise ConfigurationError("SSHTransport: max_connecting must be an integer >= 1")
        if max_connecting < 1:
            raise ConfigurationError("SSHTransport: max_connecting must be an integer >= 1")
        if isinstance(ssh_options, str):
            raise ConfigurationError("SSHTransport: ssh_options is a sequence of arguments")
        self.host = host
        self.user = user
        self.port = port
        self.identity_file = os.fspath(identity_file) if identity_file is not None else None
        self.known_hosts_file = (
            os.fspath(known_hosts_file) if known_hosts_file is not None else None
        )
        self.ssh_options = tuple(ssh_options)
        self.ssh_command = (ssh_command,) if isinstance(ssh_command, str) else tuple(ssh_command)
        if not self.ssh_command:
            raise ConfigurationError("SSHTransport: ssh_command is empty")
        self.remote_cli = remote_cli
        self.remote_python = remote_python
        self.keepalive_interval = keepalive_interval
        self.keepalive_count = keepalive_count
        self.connect_timeout = connect_timeout
        self.forward_env = tuple(forward_env)
        self.kill_grace = kill_grace
        self.max_connecting = max_connecting

    def __repr__(self) -> str:
        where = f"{self.user}@{self.host}" if self.user else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"SSHTransport({where}{port})"

    # --- what is run --------------------------------------------------------------------------

    def remote_command(self) -> str:
        """The remote command: the supervisor's bootstrap (no argument, no secret)."""
        import shlex  # here, not at import: the SDK's import time

        from ._ssh_remote import BOOTSTRAP

        bootstrap = BOOTSTRAP.format(size=len(_supervisor_code()))
        return f"exec {shlex.quote(self.remote_python)} -c {shlex.quote(bootstrap)}"

    def ssh_argv(self) -> list[str]:
        """The local command line: ``ssh``, its options, the host and the remote command."""
        interval = max(1, math.ceil(self.keepalive_interval))
        argv = [*self.ssh_command, *self.ssh_options]
        argv += [
            "-T",  # no terminal: the channel carries bytes as they are
            "-e",
            "none",  # and no escape character in them
            "-o",
            "BatchMode=yes",
            "-o",
            f"ServerAliveInterval={interval}",
            "-o",
            f"ServerAliveCountMax={self.keepalive_count}",
            "-o",
            f"ConnectTimeout={max(1, math.ceil(self.connect_timeout))}",
            # A connection of its own: a shared (multiplexed) one would outlive this process,
            # and killing ssh would not end the remote session.
            "-o",
            "ControlMaster=no",
            "-o",
            "ControlPath=none",
            "-o",
            "ClearAllForwardings=yes",
            "-o",
            "PermitLocalCommand=no",
        ]
        if self.known_hosts_file is not None:
            argv += ["-o", f"UserKnownHostsFile={_ssh_option_path(self.known_hosts_file)}"]
        if self.identity_file is not None:
            # As an option, not ``-i``: ssh stats an ``-i`` path as given but then reads it
            # %-expanded, so a path with a ``%`` cannot be given there at all.
            argv += ["-o", f"IdentityFile={_ssh_option_path(self.identity_file)}"]
            argv += ["-o", "IdentitiesOnly=yes"]
        if self.port is not None:
            argv += ["-p", str(self.port)]
        if self.user is not None:
            argv += ["-l", self.user]
        argv += ["--", self.host, self.remote_command()]
        return argv

    def remote_env(self, spec: LaunchSpec, local: Mapping[str, str] | None = None) -> Environment:
        """The variables of ``spec.env`` sent to the remote CLI (see :func:`remote_env`): those
        the session set or changed, and those matching :attr:`forward_env`."""
        local = environ() if local is None else local
        return remote_env(spec, self.forward_env, local, TAG_VARIABLE)

    def preamble(self, spec: LaunchSpec, local: Mapping[str, str] | None = None) -> bytes:
        """What is written to ssh's stdin first: the supervisor, then the CLI's launch."""
        argv = list(spec.argv)
        if self.remote_cli is not None:
            argv = with_remote_cli(argv, self.remote_cli)
        from ._ssh_remote import encode_preamble

        env = self.remote_env(spec, local)
        launch = encode_preamble(argv, env, spec.cwd, self.kill_grace, mark_start=True)
        return _supervisor_code() + launch

    # --- starting -----------------------------------------------------------------------------

    def _find_client(self) -> str | None:
        _supervisor_code()
        return shutil.which(self.ssh_command[0])

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        """Starts ``ssh`` and sends it the launch; see :meth:`Transport.start`.

        Returns once the remote supervisor runs (its first output; at most ``connect_timeout``
        plus 30 s for authentication and the login), or ssh is gone: a connection or
        authentication failure then ends the session as the CLI's exit would, a
        :class:`~trio_claude.ProcessError` with ssh's stderr (exit status 255). At most
        ``max_connecting`` such starts to one host run at once in a trio run.

        Raises:
            ConfigurationError: ``options.user`` is set (the remote user is ``user`` here).
            CLIConnectionError: ``ssh`` could not be started.
        """
        if spec.user is not None:
            raise ConfigurationError(
                "options.user is not supported by SSHTransport: give SSHTransport(user=...)"
            )
        # Off the loop: it stats the PATH (and reads the supervisor's source, once).
        client = await trio.to_thread.run_sync(self._find_client)
        if client is None:
            raise CLIConnectionError(f"the ssh client was not found: {self.ssh_command[0]}")
        local = LaunchSpec(argv=self.ssh_argv(), env=Environment(environ()))
        async with self._connecting():
            try:
                proc = await super().start(local, nursery)
            except CLINotFoundError as exc:  # it vanished meanwhile
                raise CLIConnectionError(
                    f"the ssh client was not found: {self.ssh_command[0]}"
                ) from exc
            try:
                # Built now, and no local: it holds the environment's values, and a failure
                # to start ssh is raised in this frame.
                await proc.stdin.send_all(self.preamble(spec))
                await self._until_connected(proc)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass  # ssh is gone already: its exit status and stderr will say why
            except BaseException:
                with trio.CancelScope(shield=True):
                    await shutdown_process(proc, close_timeout=0)
                raise
        return proc

    def _connecting(self) -> trio.Semaphore:
        """This run's bound on the connections to this host being set up (``max_connecting``)."""
        try:
            limits = _CONNECTING.get()
        except LookupError:
            limits = {}
            _CONNECTING.set(limits)
        key = (self.host, self.port, self.user, self.max_connecting)
        limit = limits.get(key)
        if limit is None:
            limit = limits[key] = trio.Semaphore(self.max_connecting)
        return limit

    async def _until_connected(self, proc: ChildProcess) -> None:
        """Waits until the remote supervisor runs (its first output is one newline, which
        also ends a line the login shell left open) or ssh is gone; bounded. What the login
        printed before it is not the CLI's, and is read here with it."""
        with trio.move_on_after(self.connect_timeout + _LOGIN_ALLOWANCE):
            while True:
                data = await proc.stdout.receive_some(1)
                if not data or data == b"\n":
                    return


#: Beyond ``connect_timeout``, how long authentication and the remote login may take before
#: ``start`` stops waiting for the remote side (the session's ``initialize_timeout`` then runs).
_LOGIN_ALLOWANCE = 30.0

#: Per trio run: (host, port, user, max_connecting) -> the bound on connections being set up
#: (``SSHTransport.max_connecting``; transports with another bound keep their own).
_CONNECTING: trio.lowlevel.RunVar[dict[tuple[str, int | None, str | None, int], trio.Semaphore]] = (
    trio.lowlevel.RunVar("trio_claude_ssh_connecting")
)


def _ssh_option_path(path: str) -> str:
    """A file path as the value of an ``-o`` option, read by ssh as given: quoted (ssh splits
    the value on whitespace: a known-hosts file under "Application Support" failed as a wrong
    host key) and with every ``%`` doubled (ssh expands ``%d``, ``%u``, ... in these paths)."""
    escaped = path.replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def with_remote_cli(argv: list[str], remote_cli: str) -> list[str]:
    """``argv`` with its launcher (``build_argv``'s head, before the stream-json flags) replaced
    by ``remote_cli``: the CLI binary and its ``executable_args``, or, for a script CLI, the
    JavaScript runtime, its arguments and the script (only the script when ``remote_cli`` is
    a script too: the same runtime runs it there)."""
    try:
        end = argv.index(STREAM_JSON_PREFIX[0])
    except ValueError:
        end = 1
    launcher = argv[:end]
    if launcher and launcher[-1].endswith(SCRIPT_SUFFIXES) and len(launcher) > 1:
        if remote_cli.endswith(SCRIPT_SUFFIXES):
            return [*launcher[:-1], remote_cli, *argv[end:]]
        return [remote_cli, *argv[end:]]
    return [remote_cli, *argv[1:]]
