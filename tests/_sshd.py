"""A real, throwaway OpenSSH server in a network namespace, for the cluster tests (and a script).

As a script::

    python tests/_sshd.py install   # apt-get the server if sshd is missing
    python tests/_sshd.py check     # start a server in a namespace, run a command, tear it down

In tests, :class:`NetnsSSHServer` makes a network namespace ``tcssh-<random>`` joined to this
one by a veth pair (``10.231.X.Y+1`` on our side, ``10.231.X.Y+2`` in the namespace, a /30
picked at random among those no local interface uses) and starts ``sshd -D`` in it
(``ip netns exec``) with a private configuration: a fresh ed25519 host key, one authorized
client key (ed25519, no passphrase), ``ClientAliveInterval 1``/``ClientAliveCountMax 3`` (a
dead link is noticed in about 4 s), root logins by key only (the tests run as root), listening
on the namespace's address only. The namespace shares our filesystem and pid namespace, so the
remote CLI is the same ``claude`` binary and the remote processes are visible in ``/proc``;
``ip netns pids`` tells which run in the namespace. :meth:`NetnsSSHServer.destroy` kills every
process in the namespace, deletes it (and with it the veth pair) and the temporary directory.

It needs root, ``ip`` (iproute2), ``ssh-keygen``, ``ssh`` and ``sshd``. Installing the Debian
package never starts a system ``sshd``: ``policy-rc.d`` forbids it for the install's duration.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "NetnsSSHServer",
    "SSHUnavailable",
    "ensure_installed",
    "find_sshd",
    "running_server",
    "server_for_tests",
]

_SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
#: Debian's sshd refuses to start without its privilege separation directory (compiled in).
_PRIVSEP_DIR = Path("/run/sshd")
_POLICY_RC = Path("/usr/sbin/policy-rc.d")
#: The /16 the veth pairs' /30s are taken from.
_NETWORK = ipaddress.IPv4Network("10.231.0.0/16")


class SSHUnavailable(RuntimeError):
    """The server could not be installed or started (the message says why)."""


def find_sshd() -> Path | None:
    """The ``sshd`` binary, or ``None``."""
    for candidate in _SSHD_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    found = shutil.which("sshd")
    return Path(found) if found else None


def _run(argv: list[str], *, timeout: float = 30, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if proc.returncode != 0:
        raise SSHUnavailable(
            f"`{' '.join(argv)}` exited with {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


def ensure_installed() -> Path:
    """``sshd``'s path, installing Debian's ``openssh-server`` package if it is missing.

    Installing needs root and ``apt-get`` (``apt-get update`` runs first). A temporary
    ``policy-rc.d`` (when there is none) keeps the package from starting a system server.

    Raises:
        SSHUnavailable: Not installed and it cannot be (the message has apt's output).
    """
    found = find_sshd()
    if found is not None:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise SSHUnavailable(
            "sshd is not installed, and installing it needs root and apt-get: "
            "run `apt-get update && apt-get install -y openssh-server` (Debian/Ubuntu)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    ours = not _POLICY_RC.exists()
    if ours:
        # 101: "action forbidden by policy": invoke-rc.d starts no service.
        _POLICY_RC.write_text("#!/bin/sh\n# trio-claude tests: start no service\nexit 101\n")
        _POLICY_RC.chmod(0o755)
    try:
        _run(["apt-get", "update"], timeout=600, env=env)
        _run(
            ["apt-get", "install", "-y", "--no-install-recommends", "openssh-server"],
            timeout=900,
            env=env,
        )
    finally:
        if ours:
            _POLICY_RC.unlink(missing_ok=True)
    found = find_sshd()
    if found is None:
        raise SSHUnavailable("apt-get installed openssh-server, but sshd is not found")
    return found


def _used_networks() -> list[ipaddress.IPv4Network]:
    out = _run(["ip", "-4", "-o", "addr", "show"])
    nets = []
    for line in out.splitlines():
        words = line.split()
        if "inet" in words:
            nets.append(ipaddress.IPv4Interface(words[words.index("inet") + 1]).network)
    return nets


def _pick_subnet() -> ipaddress.IPv4Network:
    used = _used_networks()
    subnets = list(_NETWORK.subnets(new_prefix=30))
    for _ in range(100):
        net = secrets.choice(subnets)
        if not any(net.overlaps(other) for other in used):
            return net
    raise SSHUnavailable("no free /30 in 10.231.0.0/16")


def _keygen(path: Path, comment: str) -> None:
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


class NetnsSSHServer:
    """``sshd`` in a network namespace of its own (see the module docstring).

    Attributes:
        namespace: The namespace's name, ``tcssh-<8 hex digits>``.
        host_veth: Our end of the veth pair (:meth:`link_down` takes it down).
        host_address: Our address on the pair (what the namespace reaches us at).
        address: The namespace's address, where ``sshd`` listens on port 22.
        root: The temporary directory (keys, configuration, log).
        client_key: The private key ``authorized_keys`` lists.
        known_hosts: A ``known_hosts`` file with the server's key for :attr:`address`.
    """

    def __init__(self, sshd: Path | None = None) -> None:
        if os.geteuid() != 0:
            raise SSHUnavailable("a network namespace needs root")
        for tool in ("ip", "ssh", "ssh-keygen"):
            if shutil.which(tool) is None:
                raise SSHUnavailable(f"`{tool}` is not installed")
        self.sshd = sshd if sshd is not None else ensure_installed()
        token = secrets.token_hex(4)
        self.namespace = f"tcssh-{token}"
        self.host_veth = f"tcs{token}h"  # at most 15 characters
        self.ns_veth = f"tcs{token}n"
        subnet = _pick_subnet()
        first = subnet.network_address
        self.host_address = str(first + 1)
        self.address = str(first + 2)
        self._prefix = subnet.prefixlen
        self.root = Path(tempfile.mkdtemp(prefix="trio-claude-sshd-"))
        self.root.chmod(0o700)
        self.log = self.root / "sshd.log"
        self.client_key = self.root / "client_ed25519"
        self.known_hosts = self.root / "known_hosts"
        self.config = self.root / "sshd_config"
        self._proc: subprocess.Popen[bytes] | None = None
        self._created = False

    # --- set-up -------------------------------------------------------------------------------

    def _write_files(self) -> None:
        host_key = self.root / "host_ed25519"
        _keygen(host_key, "trio-claude-test-host")
        _keygen(self.client_key, "trio-claude-test-client")
        authorized = self.root / "authorized_keys"
        authorized.write_text(self.client_key.with_suffix(".pub").read_text())
        authorized.chmod(0o600)
        public = host_key.with_suffix(".pub").read_text().split()
        self.known_hosts.write_text(f"{self.address} {public[0]} {public[1]}\n")
        self.config.write_text(
            "\n".join(
                [
                    f"ListenAddress {self.address}",
                    "Port 22",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {authorized}",
                    # The files live under /tmp, which StrictModes would refuse (world-writable).
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "UseDNS no",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "PermitUserEnvironment no",
                    "X11Forwarding no",
                    "AllowTcpForwarding no",
                    # A client that vanishes is noticed in about 4 s: its session ends, and the
                    # remote supervisor with it.
                    "ClientAliveInterval 1",
                    "ClientAliveCountMax 3",
                    "MaxStartups 64",
                    "MaxSessions 64",
                    "PidFile none",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )

    def _make_namespace(self) -> None:
        _run(["ip", "netns", "add", self.namespace])
        self._created = True
        _run(["ip", "link", "add", self.host_veth, "type", "veth", "peer", "name", self.ns_veth])
        _run(["ip", "link", "set", self.ns_veth, "netns", self.namespace])
        _run(["ip", "addr", "add", f"{self.host_address}/{self._prefix}", "dev", self.host_veth])
        _run(["ip", "link", "set", self.host_veth, "up"])
        inside = ["ip", "netns", "exec", self.namespace]
        _run([*inside, "ip", "addr", "add", f"{self.address}/{self._prefix}", "dev", self.ns_veth])
        _run([*inside, "ip", "link", "set", self.ns_veth, "up"])
        _run([*inside, "ip", "link", "set", "lo", "up"])

    def start(self, timeout: float = 20) -> None:
        """Makes the namespace and starts ``sshd``; returns once it accepts connections."""
        self._write_files()
        self._make_namespace()
        _PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        with self.log.open("wb") as log:
            # `ip netns exec` execs sshd: the pid is sshd's. -D: no daemon; -e: log to stderr.
            self._proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.namespace,
                    str(self.sshd),
                    "-D",
                    "-e",
                    "-f",
                    str(self.config),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                raise SSHUnavailable(f"sshd exited with {code}:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.address, 22), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SSHUnavailable(f"sshd did not accept connections:\n{self.log_tail()}")
            time.sleep(0.05)

    # --- use ----------------------------------------------------------------------------------

    @property
    def sshd_pid(self) -> int | None:
        """The listening ``sshd``'s pid (``None`` before :meth:`start`)."""
        return self._proc.pid if self._proc is not None else None

    def transport_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`trio_claude.SSHTransport` to reach this server as root.

        ``-F /dev/null``: the user's ``~/.ssh/config`` does not apply.
        """
        return {
            "host": self.address,
            "user": "root",
            "identity_file": str(self.client_key),
            "known_hosts_file": str(self.known_hosts),
            "ssh_options": ("-F", "/dev/null"),
            # The system interpreter: not a pyenv shim the login shell's rc files might put first.
            "remote_python": "/usr/bin/python3",
        }

    def transport(self, **kwargs: Any) -> Any:
        """A :class:`trio_claude.SSHTransport` to this server (``kwargs`` override)."""
        import trio_claude as tc

        return tc.SSHTransport(**{**self.transport_kwargs(), **kwargs})

    def ssh_argv(self, command: str) -> list[str]:
        """An ``ssh`` command line that runs ``command`` on this server (for checks)."""
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-T",
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "IdentitiesOnly=yes",
            "-i",
            str(self.client_key),
            "-l",
            "root",
            self.address,
            command,
        ]

    def pids(self) -> list[int]:
        """Every process running in the namespace (``ip netns pids``), the listener included."""
        out = _run(["ip", "netns", "pids", self.namespace])
        return sorted(int(word) for word in out.split())

    def session_pids(self) -> list[int]:
        """The processes in the namespace other than the listening ``sshd``, live ones only."""
        found = []
        for pid in self.pids():
            if pid == self.sshd_pid:
                continue
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z":
                found.append(pid)
        return found

    def describe(self, pids: list[int]) -> list[str]:
        """``pid: command line`` of each of ``pids`` (for failure messages)."""
        lines = []
        for pid in pids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            text = cmdline.replace(b"\0", b" ").decode(errors="replace")
            lines.append(f"{pid}: {text[:200]}")
        return lines

    def link_down(self) -> None:
        """Takes our end of the veth pair down: every packet between us and the server is lost."""
        _run(["ip", "link", "set", self.host_veth, "down"])

    def link_up(self) -> None:
        """Brings our end of the veth pair back up."""
        _run(["ip", "link", "set", self.host_veth, "up"])

    def log_tail(self, lines: int = 40) -> str:
        """The end of ``sshd``'s log (for failure messages)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- tear-down ----------------------------------------------------------------------------

    def destroy(self) -> None:
        """Kills every process in the namespace, deletes it (and the veth pair) and the files."""
        if self._created:
            for _ in range(50):
                try:
                    pids = self.pids()
                except SSHUnavailable:
                    break
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                if self._proc is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self._proc.wait(timeout=0.1)
                time.sleep(0.02)
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=5)
            # Deleting the namespace destroys its end of the pair, which takes ours with it.
            with contextlib.suppress(SSHUnavailable, subprocess.TimeoutExpired):
                _run(["ip", "netns", "del", self.namespace])
            with contextlib.suppress(SSHUnavailable, subprocess.TimeoutExpired):
                if Path(f"/sys/class/net/{self.host_veth}").exists():
                    _run(["ip", "link", "del", self.host_veth])
            self._created = False
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_server() -> Iterator[NetnsSSHServer]:
    """A started :class:`NetnsSSHServer`, destroyed on exit."""
    server = NetnsSSHServer()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def _unavailable(reason: str) -> None:
    # Locally a missing server skips; under CI (CI=true) a skipped tier would hide a broken
    # setup, so it fails.
    import pytest

    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def server_for_tests(
    server_class: type[NetnsSSHServer] = NetnsSSHServer,
) -> Iterator[NetnsSSHServer]:
    """The body of a pytest fixture: a started server (of ``server_class``), destroyed
    afterwards.

    Installs openssh-server from Debian's packages if it is missing; skips (fails under CI) when
    that, or making a network namespace, is impossible (not root, no ``ip``).
    """
    try:
        server = server_class()
    except SSHUnavailable as exc:
        _unavailable(f"no OpenSSH server in a network namespace: {exc}")
        raise
    try:
        try:
            server.start()
        except SSHUnavailable as exc:
            _unavailable(f"no OpenSSH server in a network namespace: {exc}")
            raise
        yield server
    finally:
        server.destroy()


def _check() -> None:
    started = time.monotonic()
    with running_server() as server:
        out = subprocess.run(
            server.ssh_argv("echo hello from $(hostname) as $(id -un)"),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if out.returncode != 0:
            raise SSHUnavailable(out.stderr + server.log_tail())
        print(out.stdout.strip(), f"(namespace {server.namespace}, {server.address})")
    print(
        f"ok: a server started in a namespace, answered and was removed in "
        f"{time.monotonic() - started:.1f} s"
    )


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "install":
        print(f"sshd: {ensure_installed()}")
    elif command == "check":
        _check()
    else:
        sys.exit(f"usage: {sys.argv[0]} install|check")
