"""The transport seam: how the CLI process is started and how its pipes are reached.

The default is :class:`~trio_claude.SubprocessTransport`. A custom transport (run the CLI in a
container, over ssh, or an in-process fake for tests) implements :class:`Transport`: given the
command line the session built, it returns a :class:`ChildProcess` with three byte streams and a
way to wait for and stop it. Everything above this seam (protocol, session, callbacks) is the same
whatever the transport.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import attrs
import trio

from .._limits import ResourceLimits
from .._redact import (
    MASK,
    Environment,
    is_secret_name,
    redact,
    redact_env_repr,
    redact_repr,
    secret_values,
)

__all__ = ["Argv", "ChildProcess", "LaunchSpec", "Transport", "remote_env"]

_T = TypeVar("_T", bound="Transport")


class Argv(list[str]):
    """A command line: a ``list`` whose repr masks credentials (see :class:`LaunchSpec`), as it
    is shown in a traceback's locals."""

    __slots__ = ()

    def __repr__(self) -> str:
        return argv_repr(self)


@attrs.frozen(kw_only=True, repr=False)
class LaunchSpec:
    """What to run: built by the session from :class:`~trio_claude.ClaudeAgentOptions`.

    Its repr shows no credential: the environment's names without their values, and the
    command line with secret-named flags' values, JSON configs' secrets, secret-shaped strings
    and the environment's secret values masked.

    Attributes:
        argv: The command line, the CLI's path first.
        env: The complete child environment.
        cwd: The working directory, or ``None`` for the parent's.
        user: Run as this OS user (POSIX), or ``None``.
        resource_limits: ``ClaudeAgentOptions.resource_limits``. A transport whose
            :attr:`~Transport.supports_resource_limits` is true applies the rlimits
            (``max_open_files``) to the process it starts; the session watches memory and CPU.
        own_env: The names in ``env`` the session set itself (the ``env`` option, the SDK's
            own variables, a trace context), as opposed to those it inherited: a transport
            that runs the CLI elsewhere sends them (:func:`remote_env`) even where this
            process has the same value.
    """

    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: str | None = None
    user: str | int | None = None
    resource_limits: ResourceLimits | None = None
    own_env: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return (
            f"LaunchSpec(argv={argv_repr(self.argv, self.env)}, env={redact_env_repr(self.env)}, "
            f"cwd={self.cwd!r}, user={self.user!r}, resource_limits={self.resource_limits!r})"
        )


def remote_env(
    spec: LaunchSpec, forward_env: Sequence[str], local: Mapping[str, str], skip: str
) -> Environment:
    """The variables of ``spec.env`` sent to a CLI on another host (SSH, Ray).

    The remote CLI's environment is its host's, updated with these: the names the session set
    itself (``spec.own_env``), those it inherited with another value than ``local`` (this
    process's environment) has, and those matching a ``forward_env`` pattern (``fnmatch``).
    Never ``skip`` (the local process tag).
    """
    from fnmatch import fnmatchcase

    own = spec.own_env
    return Environment(
        (name, value)
        for name, value in spec.env.items()
        if name != skip
        and (
            name in own
            or local.get(name) != value
            or any(fnmatchcase(name, pattern) for pattern in forward_env)
        )
    )


def argv_repr(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """``argv``'s repr, credentials masked: the value after a secret-named flag
    (``--api-key <value>``), secrets inside JSON values (``--mcp-config``), secret-shaped text
    and the secret values of ``env``."""
    shown: list[Any] = list(argv)
    for index in range(1, len(shown)):
        flag = shown[index - 1]
        secret_flag = isinstance(flag, str) and flag.startswith("-") and "=" not in flag
        if secret_flag and is_secret_name(flag.lstrip("-")):
            shown[index] = MASK
    masked = redact_repr(shown)
    try:
        secrets = secret_values(env or {})
    except Exception:  # an odd mapping: shapes are still masked
        return masked
    return redact(masked, secrets)


class ChildProcess(abc.ABC):
    """A running CLI as the session sees it: three byte streams, a pid, and an exit status."""

    #: The CLI's standard input.
    stdin: trio.abc.SendStream
    #: The CLI's standard output.
    stdout: trio.abc.ReceiveStream
    #: The CLI's standard error, or ``None`` when the transport cannot provide it.
    stderr: trio.abc.ReceiveStream | None
    #: The pid of the process the transport spawned, or ``None`` if there is none.
    pid: int | None

    @property
    @abc.abstractmethod
    def returncode(self) -> int | None:
        """The exit status once the process has exited (negative signal number if killed)."""

    @abc.abstractmethod
    async def wait(self) -> int:
        """Waits for the process to exit, reaps it, and returns its exit status."""

    @abc.abstractmethod
    def terminate(self) -> None:
        """Asks the process (and its process group) to stop: SIGTERM on POSIX."""

    @abc.abstractmethod
    def kill(self) -> None:
        """Stops the process (and its process group) now: SIGKILL on POSIX."""


class Transport(abc.ABC):  # noqa: B024 (start() or the official methods: checked in __new__)
    """Starts the CLI. Subclass it to run the CLI somewhere else (a container, a remote host).

    A subclass implements one of two interfaces:

    - trio-claude's: :meth:`start`, which returns a :class:`ChildProcess` with byte streams;
    - the official SDK's: ``connect()``, ``write(data)``, ``read_messages()``, ``close()``,
      ``end_input()`` (and ``is_ready()``), for code written against
      ``claude_agent_sdk.Transport``. The inherited :meth:`start` then runs it (see
      ``docs/transports.md``, "Official-style transports"): the command line and the other
      launch options are not applied, as in the official SDK.

    A subclass with neither cannot be instantiated (``TypeError``).
    """

    def __new__(cls: type[_T], *args: Any, **kwargs: Any) -> _T:
        if cls.start is Transport.start:
            from ._official import OFFICIAL_METHODS

            missing = [name for name in OFFICIAL_METHODS if not callable(getattr(cls, name, None))]
            if missing:
                raise TypeError(
                    f"Can't instantiate {cls.__name__}: a trio_claude.Transport implements "
                    "start(spec, nursery) (trio-claude's interface) or connect(), write(), "
                    "read_messages(), close() and end_input() (the official SDK's); "
                    f"{cls.__name__} has neither (missing: {', '.join(missing)})"
                )
        return super().__new__(cls)

    #: Whether this transport enforces ``LaunchSpec.resource_limits``: it sets their rlimits in
    #: the process it starts, and that process is local and leads its own process group, so the
    #: session can watch its tree in ``/proc``. ``ClaudeAgentOptions.resource_limits`` is
    #: refused (``ConfigurationError``) with a transport that does not. ``SubprocessTransport``
    #: sets it; a subclass that runs the CLI in a container or on another host should set it
    #: back to ``False`` (the limits would bind only the local launcher).
    supports_resource_limits: ClassVar[bool] = False

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        """Starts the CLI described by ``spec``.

        Not overridden (an official-style subclass): calls ``connect()`` and returns the
        connection as a process; ``spec`` is not used.

        Args:
            spec: The command line, environment and working directory.
            nursery: The session's own nursery, for transports that need a task of their own
                (an in-process fake CLI, say). It is cancelled after the session has closed.

        Returns:
            The started process.

        Raises:
            CLIConnectionError: The process could not be started.
        """
        from ._official import start_official

        return await start_official(self, spec)
