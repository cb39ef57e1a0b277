"""The cluster tier: the real CLI on other "hosts" in network namespaces, over SSH and on Ray.

``tests/_sshd.py`` makes the namespace and starts ``sshd`` in it (``make test`` installs
openssh-server with ``python tests/_sshd.py install``); the session reaches it with
:class:`trio_claude.SSHTransport` as root, by key. The namespace shares our filesystem and pid
namespace: the remote CLI is the pinned ``claude`` binary, its isolated ``HOME`` is in the
test's temporary directory, and its processes are visible in ``/proc`` (``ip netns pids`` tells
which are in the namespace). The fake model listens on our end of the veth pair, the one address
of ours the namespace can reach.

``tests/_ray.py`` makes a Ray cluster of three worker nodes, each in a namespace of its own, for
``test_ray_transport.py`` (the :func:`ray_cluster` fixture, once per module; ``make test``
installs Ray with ``python tests/_ray.py install``).

Needs root and ``ip``: without them (or without sshd and no way to install it) these tests skip
locally and fail under CI, like the other tiers that need a system service.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from tests._helpers import require_cli
from tests._ray import NetnsRayCluster, cluster_for_tests
from tests._sshd import NetnsSSHServer, server_for_tests
from trio_claude.testing import ClaudeTestEnv, ScriptLike, open_fake_model

#: A bound on how long anything here may take (never asserted on: the machine may be slow).
PATIENCE = 60


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/cluster/" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(autouse=True)
def _require_cli() -> None:
    require_cli()


@pytest.fixture(scope="module")
def sshd() -> Iterator[NetnsSSHServer]:
    """One server for a module's tests (a test that breaks the link makes its own)."""
    yield from server_for_tests()


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[NetnsRayCluster]:
    """A Ray head here and three worker nodes (two ``claude_slots`` each) in namespaces."""
    yield from cluster_for_tests(nodes=3, slots=2)


@pytest.fixture
def fresh_sshd() -> Iterator[NetnsSSHServer]:
    """A server of the test's own."""
    yield from server_for_tests()


@asynccontextmanager
async def open_remote_env(server: NetnsSSHServer, directory: Path) -> AsyncIterator[RemoteEnv]:
    """A :class:`~trio_claude.testing.ClaudeTestEnv` whose model the namespace can reach.

    On exit, waits (bounded) until nothing of the sessions is left in the namespace, and fails
    if something is (after killing it, so that the next test starts clean).
    """
    root = Path(directory)
    home, config_dir, project = root / "home", root / "config", root / "project"
    for path in (home, config_dir, project):
        path.mkdir(parents=True, exist_ok=True)
    for rc in (".bashrc", ".profile", ".bash_profile", ".zshrc"):
        (home / rc).write_text("")
    async with open_fake_model([], host=server.host_address) as model:
        env = ClaudeTestEnv(
            model=model, root=root, home=home, config_dir=config_dir, project=project
        )
        yield RemoteEnv(env, server)
        left = await remote_processes_end(server, timeout=PATIENCE)
        assert not left, f"left running in the namespace: {left}"


class RemoteEnv:
    """The fake model and directories (:attr:`env`) and the server the sessions run on."""

    def __init__(self, env: ClaudeTestEnv, server: NetnsSSHServer) -> None:
        self.env = env
        self.server = server

    @property
    def model(self) -> Any:
        return self.env.model

    def options(
        self, script: ScriptLike | None = None, *, transport: Any = None, **kwargs: Any
    ) -> tc.ClaudeAgentOptions:
        """Options for a session on the server, with its own ``script``.

        The model is reached directly (``NO_PROXY``), not through the egress-catching proxy.
        """
        extra = {
            "NO_PROXY": f"127.0.0.1,localhost,::1,{self.server.host_address}",
            **kwargs.pop("env", {}),
        }
        return self.env.options(
            script,
            env=extra,
            transport=transport if transport is not None else self.server.transport(),
            cli_path=tc.find_cli(),  # the same binary: the namespace shares our filesystem
            **kwargs,
        )


async def remote_processes_end(server: NetnsSSHServer, timeout: float) -> list[str]:
    """Waits until no process but the listener runs in the namespace, at most ``timeout`` s.

    Returns what is still running then (after killing it), described; empty if nothing.
    """
    with trio.move_on_after(timeout):
        while server.session_pids():
            await trio.sleep(0.05)
        return []
    left = server.session_pids()
    described = server.describe(left)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return described


@pytest.fixture
async def remote(sshd: NetnsSSHServer, tmp_path: Path) -> AsyncIterator[RemoteEnv]:
    """A :class:`RemoteEnv` on the module's server."""
    async with open_remote_env(sshd, tmp_path) as env:
        yield env
