"""A real, throwaway PostgreSQL server for the tests (and a helper script for CI).

As a script::

    python tests/_postgres.py install   # apt-get the server if its binaries are missing
    python tests/_postgres.py check     # start a cluster, run ``SELECT 1``, stop and remove it

In tests, :class:`PostgresServer` starts a private cluster: ``initdb`` into a fresh temporary
directory, ``postgres`` listening on 127.0.0.1 only, on a free port, with its socket in that
directory, trust authentication and ``fsync=off`` (data lost on a power cut does not matter
here). As root it runs as the ``postgres`` user (``runuser``), since the server refuses to run
as root. :meth:`PostgresServer.stop` stops it and removes the directory.

Nothing here touches a system cluster: when this script installs the Debian package it sets
``create_main_cluster = false`` (a drop-in under ``/etc/postgresql-common/createcluster.d``),
and the tests' cluster has its own directory, port and socket.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "PostgresServer",
    "PostgresUnavailable",
    "ensure_installed",
    "find_bin_dir",
    "require_psycopg",
    "server_for_tests",
]

#: Where Debian puts each major version's server binaries.
_DEBIAN_LIB = Path("/usr/lib/postgresql")
_NEEDED = ("initdb", "pg_ctl", "postgres")
# Read through the include_dir of Debian's createcluster.conf (no conffile of the package).
_CREATECLUSTER_DROPIN = Path("/etc/postgresql-common/createcluster.d/trio-claude-tests.conf")


class PostgresUnavailable(RuntimeError):
    """The server could not be installed or started (the message says why)."""


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``.

    The newest version under ``/usr/lib/postgresql/*/bin`` (Debian), else ``$PATH``.
    """
    if _DEBIAN_LIB.is_dir():
        versions = sorted(
            (p for p in _DEBIAN_LIB.iterdir() if p.name.isdigit()),
            key=lambda p: int(p.name),
            reverse=True,
        )
        for version in versions:
            if all((version / "bin" / name).exists() for name in _NEEDED):
                return version / "bin"
    found = [shutil.which(name) for name in _NEEDED]
    if all(found):
        return Path(found[0]).resolve().parent  # type: ignore[arg-type]
    return None


def _run(argv: list[str], *, timeout: float, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if proc.returncode != 0:
        raise PostgresUnavailable(
            f"`{' '.join(argv)}` exited with {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )


def ensure_installed() -> Path:
    """The server's bin directory, installing Debian's ``postgresql`` package if it is missing.

    Installing needs root and ``apt-get`` (``apt-get update`` runs first). The package is told
    not to create (and start) a default cluster.

    Raises:
        PostgresUnavailable: Not installed and it cannot be (the message has apt's output).
    """
    found = find_bin_dir()
    if found is not None:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise PostgresUnavailable(
            "PostgreSQL is not installed, and installing it needs root and apt-get: "
            "run `apt-get update && apt-get install -y postgresql` (Debian/Ubuntu)"
        )
    # No default cluster: the package would otherwise initdb one and start it on port 5432.
    _CREATECLUSTER_DROPIN.parent.mkdir(parents=True, exist_ok=True)
    _CREATECLUSTER_DROPIN.write_text("create_main_cluster = false\n")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update"], timeout=600, env=env)
    _run(
        ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"],
        timeout=900,
        env=env,
    )
    found = find_bin_dir()
    if found is None:
        raise PostgresUnavailable("apt-get installed postgresql, but initdb/pg_ctl are not found")
    return found


def _ephemeral_ports() -> range:
    """The kernel's range of local ports for outgoing connections (Linux's default if unknown)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def _free_port() -> int:
    """A port free on 127.0.0.1 now, outside the range of outgoing connections' local ports.

    The server binds it only later (after ``initdb``), and again after each restart a test
    makes; a port of the ephemeral range could be taken meanwhile by the local end of any
    connection on this machine (CI runs other suites at once), one outside it only by another
    listener. Falls back to any free port.
    """
    ephemeral = _ephemeral_ports()
    candidates = [port for port in range(10_000, 65_536) if port not in ephemeral]
    for port in random.sample(candidates, min(len(candidates), 50)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A private PostgreSQL cluster on 127.0.0.1 (see the module docstring).

    Attributes:
        bin_dir: The server binaries used.
        root: The temporary directory (data, socket, log).
        port: The TCP port on 127.0.0.1.
    """

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir if bin_dir is not None else ensure_installed()
        self.root = Path(tempfile.mkdtemp(prefix="trio-claude-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self._user: str | None = None
        if os.geteuid() == 0:
            # The server refuses to run as root: run it as the package's system user.
            self._user = "postgres"
            try:
                shutil.chown(self.root, user=self._user)
            except LookupError as exc:
                raise PostgresUnavailable(
                    "running as root needs the 'postgres' user (Debian's postgresql package "
                    "creates it)"
                ) from exc
        self.root.chmod(0o700)

    # --- commands ---------------------------------------------------------------------------

    def _argv(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bin_dir / tool), *args]
        if self._user is not None:
            return ["runuser", "-u", self._user, "--", *argv]
        return argv

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        _run(self._argv("pg_ctl", "-D", str(self.data), *args), timeout=timeout)

    @property
    def dsn(self) -> str:
        """A libpq connection string for the ``postgres`` database as the superuser."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def init(self) -> None:
        """``initdb`` the cluster (trust authentication, UTF-8, C locale)."""
        _run(
            self._argv(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ),
            timeout=120,
        )

    def start(self) -> None:
        """Starts the server and waits until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -F "
            "-c max_connections=60 -c shared_buffers=16MB"
        )
        self._pg_ctl("-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def first_start(self, attempts: int = 3) -> None:
        """:meth:`start` for a new cluster: on another port if its port was taken meanwhile
        (another suite's server may have picked it too)."""
        for attempt in range(attempts):
            try:
                self.start()
                return
            except PostgresUnavailable:
                if attempt == attempts - 1 or "could not bind" not in self.log_tail():
                    raise
            self.port = _free_port()

    def stop(self, mode: str = "fast") -> None:
        """Stops the server (``fast``: disconnects every client, rolls back open work)."""
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        """Whether ``postmaster.pid`` is there (the server is up or starting)."""
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        """Stops the server if it runs (immediately) and removes its directory."""
        if self.is_running():
            try:
                self.stop("immediate")
            except (PostgresUnavailable, subprocess.TimeoutExpired):
                self._kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill(self) -> None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server log (for failure messages)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started :class:`PostgresServer`, destroyed on exit."""
    server = PostgresServer()
    try:
        server.init()
        server.first_start()
        yield server
    finally:
        server.destroy()


def _unavailable(reason: str) -> None:
    # Locally a missing server or driver skips; under CI (CI=true) a skipped tier would hide a
    # broken setup, so it fails.
    import pytest

    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def require_psycopg() -> None:
    """Skips (fails under CI) when psycopg, the ``postgres`` extra, is not installed."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed: pip install -e '.[postgres]'")


def server_for_tests() -> Iterator[PostgresServer]:
    """The body of a pytest fixture: a started server, destroyed afterwards.

    Installs PostgreSQL from Debian's packages if it is missing; skips (fails under CI) when
    that is impossible.
    """
    require_psycopg()
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        _unavailable(f"no PostgreSQL server: {exc}")
        raise
    try:
        try:
            server.init()
            server.first_start()
        except PostgresUnavailable as exc:
            raise PostgresUnavailable(f"{exc}\n{server.log_tail()}") from None
        yield server
    finally:
        server.destroy()


def _check() -> None:
    started = time.monotonic()
    with running_server() as server:
        out = subprocess.run(
            [str(server.bin_dir / "psql"), server.dsn, "-Atc", "SELECT version()"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if out.returncode != 0:
            raise PostgresUnavailable(out.stderr + server.log_tail())
        print(out.stdout.strip())
    print(
        f"ok: a private cluster started, answered and was removed in "
        f"{time.monotonic() - started:.1f} s"
    )


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "install":
        print(f"PostgreSQL server binaries: {ensure_installed()}")
    elif command == "check":
        _check()
    else:
        sys.exit(f"usage: {sys.argv[0]} install|check")
