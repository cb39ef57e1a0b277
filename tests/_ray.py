"""A throwaway Ray cluster, its nodes in network namespaces, for the cluster tier (and a script).

As a script::

    python tests/_ray.py install   # pip-install Ray into this interpreter's environment if missing
    python tests/_ray.py check     # start a cluster, place an actor on every node, tear it down

In tests, :class:`NetnsRayCluster` makes a bridge ``tcrb<hex>`` in our namespace with the first
address of a free ``10.232.X.0/24`` and, for each worker node, a network namespace
``tcray-<hex>-<i>`` joined to the bridge by a veth pair (``10.232.X.<i+1>``). The **head** runs
here, on the bridge's address: a Ray driver needs a raylet of its own host to connect through,
so the test process (the driver) connects to it; it has no CPU and no ``claude_slots``, so no
session is ever placed on it. Each **worker node** runs ``ray start --block`` in its namespace
(``ip netns exec``) with ``--num-cpus`` and ``{"claude_slots": slots}``, a small object store
and no dashboard, and its own temporary directory. Nodes reach each other and the head through
the bridge; the fake model listens on the bridge's address.

The namespaces share our filesystem and pid namespace, so the nodes run this virtualenv's Ray and
the same ``claude`` binary, and their processes are visible in ``/proc`` (``ip netns pids``
tells which node runs them). :meth:`RayNode.kill_raylet` kills a node's raylet (the node is
lost: its workers and agents exit with it); :meth:`RayNode.start` brings a node back.
:meth:`NetnsRayCluster.destroy` kills every process of the cluster (the head's process group, and
everything in each namespace), deletes the namespaces, the bridge and the temporary directory.
Never ``ray stop``: it kills every Ray process of the machine, other users' included.

Every Ray process runs with ``RAY_USAGE_STATS_ENABLED=0`` (nothing is sent anywhere) and
``RAY_AUTH_MODE=disabled`` (a token some other cluster left in ``~/.ray`` changes nothing).
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import json
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
    "NetnsRayCluster",
    "RayNode",
    "RayUnavailable",
    "cluster_for_tests",
    "ensure_installed",
    "ray_env",
]

#: The /16 the bridges' /24s are taken from.
_NETWORK = ipaddress.IPv4Network("10.232.0.0/16")
#: What ``make test`` installs (the ``ray`` extra's requirement).
REQUIREMENT = "ray>=2.9"
#: Small on purpose: the tests move no objects.
_OBJECT_STORE_BYTES = 80_000_000


#: The GCS declares a node dead after 5 failed health checks a second apart (Ray's defaults:
#: 5, 3 s apart, so 15 s or more). Until then it may still place a new actor on a lost node;
#: RayTransport replaces an actor that dies that way, so this only makes the tests faster.
HEAD_SYSTEM_CONFIG = {
    "health_check_initial_delay_ms": 1000,
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 2000,
    "health_check_failure_threshold": 5,
}


class RayUnavailable(RuntimeError):
    """The cluster could not be installed or started (the message says why)."""


def ray_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ours) with what every Ray process of the tests runs with."""
    env = dict(os.environ if base is None else base)
    env.update({"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"})
    return env


def _ray_module() -> Any:
    """``ray`` (imported here: it is optional, and untyped)."""
    return importlib.import_module("ray")


def installed() -> bool:
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        return False


def ensure_installed() -> str:
    """Ray's version, pip-installing :data:`REQUIREMENT` into this environment if missing.

    Raises:
        RayUnavailable: Not installed and pip could not install it (pip's output).
    """
    if not installed():
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", REQUIREMENT],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if proc.returncode != 0:
            raise RayUnavailable(f"pip install {REQUIREMENT} failed:\n{proc.stdout}\n{proc.stderr}")
        importlib.invalidate_caches()
    out = subprocess.run(
        [sys.executable, "-c", "import ray; print(ray.__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise RayUnavailable(f"ray does not import:\n{out.stderr}")
    return out.stdout.strip()


def _run(argv: list[str], *, timeout: float = 30) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RayUnavailable(
            f"`{' '.join(argv)}` exited with {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


def _ray_command() -> list[str]:
    beside = Path(sys.executable).with_name("ray")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ray")
    if found is None:
        raise RayUnavailable("the `ray` command is not installed")
    return [found]


def _used_networks() -> list[ipaddress.IPv4Network]:
    nets = []
    for line in _run(["ip", "-4", "-o", "addr", "show"]).splitlines():
        words = line.split()
        if "inet" in words:
            nets.append(ipaddress.IPv4Interface(words[words.index("inet") + 1]).network)
    return nets


def _pick_subnet() -> ipaddress.IPv4Network:
    used = _used_networks()
    subnets = list(_NETWORK.subnets(new_prefix=24))
    for _ in range(100):
        net = secrets.choice(subnets)
        if not any(net.overlaps(other) for other in used):
            return net
    raise RayUnavailable(f"no free /24 in {_NETWORK}")


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def cmdline(pid: int) -> list[str]:
    """A process's command line ([] when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [word.decode(errors="replace") for word in raw.rstrip(b"\0").split(b"\0")]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class RayNode:
    """A Ray worker node in a network namespace of its own.

    Attributes:
        index: 1, 2, 3...
        namespace: ``tcray-<hex>-<index>``.
        address: The node's address (``--node-ip-address``).
    """

    def __init__(self, cluster: NetnsRayCluster, index: int) -> None:
        self.cluster = cluster
        self.index = index
        self.namespace = f"tcray-{cluster.token}-{index}"
        self.host_veth = f"tcr{cluster.token}{index}h"
        self.ns_veth = f"tcr{cluster.token}{index}n"
        self.address = str(cluster.subnet.network_address + 1 + index)
        self.log = cluster.root / f"node{index}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._created = False
        self.starts = 0

    def __repr__(self) -> str:
        return f"<RayNode {self.index} {self.address} in {self.namespace}>"

    def make_namespace(self) -> None:
        _run(["ip", "netns", "add", self.namespace])
        self._created = True
        _run(["ip", "link", "add", self.host_veth, "type", "veth", "peer", "name", self.ns_veth])
        _run(["ip", "link", "set", self.host_veth, "master", self.cluster.bridge])
        _run(["ip", "link", "set", self.host_veth, "up"])
        _run(["ip", "link", "set", self.ns_veth, "netns", self.namespace])
        inside = ["ip", "netns", "exec", self.namespace]
        prefix = self.cluster.subnet.prefixlen
        _run([*inside, "ip", "addr", "add", f"{self.address}/{prefix}", "dev", self.ns_veth])
        _run([*inside, "ip", "link", "set", self.ns_veth, "up"])
        _run([*inside, "ip", "link", "set", "lo", "up"])

    def start(self) -> None:
        """Starts (or restarts) the node's Ray (``ray start --block``) in its namespace."""
        cluster = self.cluster
        # A directory per start: a killed node leaves its sockets behind.
        temp_dir = cluster.root / f"n{self.index}.{self.starts}"
        argv = [
            "ip",
            "netns",
            "exec",
            self.namespace,
            *_ray_command(),
            "start",
            f"--address={cluster.head_address}:{cluster.gcs_port}",
            f"--node-ip-address={self.address}",
            f"--num-cpus={cluster.node_cpus}",
            f"--resources={json.dumps({'claude_slots': cluster.slots})}",
            f"--object-store-memory={_OBJECT_STORE_BYTES}",
            f"--temp-dir={temp_dir}",
            "--disable-usage-stats",
            "--block",
        ]
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env=ray_env(),
            )
        self.starts += 1

    # --- looking at it ------------------------------------------------------------------------

    def pids(self) -> list[int]:
        """The live processes in the namespace (``ip netns pids``, zombies left out)."""
        try:
            out = _run(["ip", "netns", "pids", self.namespace])
        except RayUnavailable:
            return []
        return sorted(pid for pid in (int(w) for w in out.split()) if _alive(pid))

    def is_ray(self, pid: int) -> bool:
        """Whether ``pid`` is one of Ray's own processes (not a supervisor, CLI or tool)."""
        words = cmdline(pid)
        if not words:
            return False
        if words[0].startswith("ray::"):
            return True
        joined = " ".join(words)
        return "/site-packages/ray/" in joined or (
            len(words) > 1 and words[1].endswith("/ray") and "start" in words
        )

    def session_pids(self) -> list[int]:
        """The namespace's live processes that are not Ray's own: supervisors, CLIs, tools."""
        return [pid for pid in self.pids() if not self.is_ray(pid)]

    def describe(self, pids: list[int]) -> list[str]:
        return [f"{pid}: {' '.join(cmdline(pid))[:200]}" for pid in pids]

    def raylet_pid(self) -> int | None:
        for pid in self.pids():
            words = cmdline(pid)
            if words and words[0].endswith("/raylet"):
                return pid
        return None

    # --- breaking it --------------------------------------------------------------------------

    def kill_raylet(self) -> None:
        """SIGKILLs the node's raylet: Ray's workers and agents on the node exit with it."""
        pid = self.raylet_pid()
        if pid is None:
            raise RayUnavailable(f"no raylet in {self.namespace}")
        os.kill(pid, signal.SIGKILL)

    def kill_ray(self) -> None:
        """SIGKILLs every Ray process of the node (what runs besides is left alone)."""
        for pid in self.pids():
            if self.is_ray(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)

    def destroy(self) -> None:
        if not self._created:
            return
        for _ in range(100):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
        with contextlib.suppress(RayUnavailable, subprocess.TimeoutExpired):
            _run(["ip", "netns", "del", self.namespace])
        with contextlib.suppress(RayUnavailable, subprocess.TimeoutExpired):
            if Path(f"/sys/class/net/{self.host_veth}").exists():
                _run(["ip", "link", "del", self.host_veth])
        self._created = False


class NetnsRayCluster:
    """A Ray head here and ``nodes`` worker nodes in namespaces (see the module docstring).

    Attributes:
        head_address: The bridge's address: the head's, and where the fake model listens.
        gcs_port: The head's GCS port (``ray.init(address=f"{head_address}:{gcs_port}")``).
        nodes: The worker nodes.
    """

    def __init__(self, nodes: int = 3, slots: int = 2, node_cpus: int = 1) -> None:
        if os.geteuid() != 0:
            raise RayUnavailable("network namespaces need root")
        if shutil.which("ip") is None:
            raise RayUnavailable("`ip` (iproute2) is not installed")
        if not installed():
            raise RayUnavailable("Ray is not installed: `python tests/_ray.py install`")
        self.token = secrets.token_hex(4)
        self.bridge = f"tcrb{self.token}"
        self.subnet = _pick_subnet()
        self.head_address = str(self.subnet.network_address + 1)
        self.slots = slots
        self.node_cpus = node_cpus
        # Short: Ray's unix sockets live under it (at most 107 bytes a path).
        self.root = Path(tempfile.mkdtemp(prefix="tcray-", dir="/tmp"))
        self.gcs_port = 0
        self.nodes = [RayNode(self, i) for i in range(1, nodes + 1)]
        self._head: subprocess.Popen[bytes] | None = None
        self._bridge_made = False
        self._connected = False
        self.head_log = self.root / "head.log"

    @property
    def address(self) -> str:
        """What ``ray.init(address=...)`` takes."""
        return f"{self.head_address}:{self.gcs_port}"

    # --- set-up -------------------------------------------------------------------------------

    def _make_bridge(self) -> None:
        _run(["ip", "link", "add", self.bridge, "type", "bridge"])
        self._bridge_made = True
        _run(["ip", "addr", "add", f"{self.head_address}/24", "dev", self.bridge])
        _run(["ip", "link", "set", self.bridge, "up"])

    def _start_head(self) -> None:
        self.gcs_port = _free_port(self.head_address)
        argv = [
            *_ray_command(),
            "start",
            "--head",
            f"--node-ip-address={self.head_address}",
            f"--port={self.gcs_port}",
            # Ports of our own choosing: another Ray on this machine may hold the defaults.
            f"--dashboard-agent-listen-port={_free_port(self.head_address)}",
            "--num-cpus=0",
            f"--system-config={json.dumps(HEAD_SYSTEM_CONFIG)}",
            f"--object-store-memory={_OBJECT_STORE_BYTES}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={self.root / 'h'}",
            "--block",
        ]
        with self.head_log.open("wb") as log:
            self._head = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env=ray_env(),
            )

    def _wait_for_gcs(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._head is not None and self._head.poll() is not None:
                raise RayUnavailable(f"the Ray head exited:\n{self.log_tail(self.head_log)}")
            try:
                with socket.create_connection((self.head_address, self.gcs_port), timeout=1):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RayUnavailable(f"the Ray head did not start:\n{self.log_tail(self.head_log)}")
            time.sleep(0.1)

    def start(self, timeout: float = 90) -> None:
        """Makes the network, starts the head and every node; returns once the head listens."""
        self._make_bridge()
        for node in self.nodes:
            node.make_namespace()
        self._start_head()
        self._wait_for_gcs(timeout)
        for node in self.nodes:
            node.start()

    def connect(self, timeout: float = 90) -> Any:
        """``ray.init``s this process as the cluster's driver; waits until every node is up.

        Returns:
            The ``ray`` module.
        """
        ray = _ray_module()

        os.environ.update(ray_env({}))
        if not ray.is_initialized():
            ray.init(
                address=self.address,
                log_to_driver=False,
                logging_level="WARNING",
                configure_logging=False,
            )
            self._connected = True
        self.wait_for_nodes(len(self.nodes), timeout)
        return ray

    def alive_nodes(self) -> dict[str, str]:
        """``{node ip: node id}`` of the live worker nodes (the head left out)."""
        ray = _ray_module()
        return {
            n["NodeManagerAddress"]: n["NodeID"]
            for n in ray.nodes()
            if n["Alive"] and n["NodeManagerAddress"] != self.head_address
        }

    def wait_for_nodes(self, count: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while len(self.alive_nodes()) < count:
            if time.monotonic() > deadline:
                tails = "\n".join(self.log_tail(node.log, 10) for node in self.nodes)
                alive = self.alive_nodes()
                raise RayUnavailable(f"only {alive} of {count} nodes came up:\n{tails}")
            time.sleep(0.2)

    def node_at(self, address: str | None) -> RayNode:
        """The node with this address."""
        for node in self.nodes:
            if node.address == address:
                return node
        raise KeyError(address)

    def log_tail(self, path: Path, lines: int = 30) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- tear-down ----------------------------------------------------------------------------

    def _head_pids(self) -> list[int]:
        """Processes of the head: its process group, and whatever names our directory."""
        found = []
        group = self._head.pid if self._head is not None else None
        marker = str(self.root)
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid == os.getpid():
                continue
            try:
                pgid = os.getpgid(pid)
            except OSError:
                continue
            if (group is not None and pgid == group) or marker in " ".join(cmdline(pid)):
                found.append(pid)
        return found

    def destroy(self) -> None:
        """Disconnects, kills every process of the cluster, deletes the network and files."""
        if self._connected:
            ray = _ray_module()
            with contextlib.suppress(Exception):
                ray.shutdown()
            self._connected = False
        for node in self.nodes:
            node.destroy()
        for _ in range(50):
            pids = [pid for pid in self._head_pids() if _alive(pid)]
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        if self._head is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._head.wait(timeout=5)
        if self._bridge_made:
            with contextlib.suppress(RayUnavailable, subprocess.TimeoutExpired):
                _run(["ip", "link", "del", self.bridge])
            self._bridge_made = False
        if os.environ.get("TRIO_CLAUDE_KEEP_RAY_LOGS"):
            print(f"Ray logs kept in {self.root}", file=sys.stderr)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(nodes: int = 3, slots: int = 2) -> Iterator[NetnsRayCluster]:
    """A started and connected :class:`NetnsRayCluster`, destroyed on exit."""
    cluster = NetnsRayCluster(nodes, slots)
    try:
        cluster.start()
        cluster.connect()
        yield cluster
    finally:
        cluster.destroy()


def _unavailable(reason: str) -> None:
    # Locally a missing Ray skips; under CI (CI=true) a skipped tier would hide a broken setup.
    import pytest

    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def cluster_for_tests(nodes: int = 3, slots: int = 2) -> Iterator[NetnsRayCluster]:
    """The body of a pytest fixture: a started, connected cluster, destroyed afterwards.

    Skips (fails under CI) when Ray is not installed or a namespace cannot be made.
    """
    try:
        cluster = NetnsRayCluster(nodes, slots)
    except RayUnavailable as exc:
        _unavailable(f"no Ray cluster in network namespaces: {exc}")
        raise
    try:
        try:
            cluster.start()
            cluster.connect()
        except RayUnavailable as exc:
            _unavailable(f"no Ray cluster in network namespaces: {exc}")
            raise
        yield cluster
    finally:
        cluster.destroy()


def _check() -> None:
    started = time.monotonic()
    with running_cluster() as cluster:
        ray = _ray_module()
        up = time.monotonic() - started

        def node_ip() -> str:
            return str(ray.util.get_node_ip_address())

        where = ray.remote(num_cpus=0, resources={"claude_slots": 1})(node_ip)
        spread = ray.get([where.options(scheduling_strategy="SPREAD").remote() for _ in range(6)])
        print(f"cluster up in {up:.1f} s; tasks ran on {sorted(set(spread))}")
        print(f"nodes: {cluster.alive_nodes()}")
    print(f"ok: started, used and removed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    # Run as a script, tests/ is first on sys.path, and its `packaging` package would hide the
    # one Ray imports.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "install":
        print(f"ray {ensure_installed()}")
    elif command == "check":
        _check()
    else:
        sys.exit(f"usage: {sys.argv[0]} install|check")
